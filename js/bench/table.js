// `make bench`'s table: collects every benchmark's results into one Markdown table, with the
// machine it ran on, checks every budget, and says which were missed.
//
//   node js/bench/table.js --start [--command TEXT]   before the benchmarks: records the machine,
//       the toolchain, the date and the load average in target/bench/machine.json, and removes
//       the previous run's results (so a benchmark that fails cannot leave an old figure behind)
//   node js/bench/table.js [--failed "step ..."]      after them: reads target/bench/*.json and
//       criterion's target/criterion/<group>/<bench>/new/estimates.json (only those written since
//       --start), prints the table and writes it to target/bench/table.md; exits 1 if a budget is
//       missed, a benchmark failed (the make steps in --failed) or a result is missing.
//
// Only Node's built-ins: it runs before js/node_modules exists. BENCH_OUT as in results.js;
// CARGO_TARGET_DIR is honoured for criterion's directory.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, arch, type } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const OUT_DIR = process.env.BENCH_OUT ? resolve(process.env.BENCH_OUT) : join(root, "target/bench");
const CRITERION_DIR = join(
  process.env.CARGO_TARGET_DIR ? resolve(root, process.env.CARGO_TARGET_DIR) : join(root, "target"),
  "criterion",
);
const MACHINE = join(OUT_DIR, "machine.json");
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? "") : undefined;
};
const quick = !["", "0", "false", undefined].includes(process.env.BENCH_QUICK);

if (args.includes("--start")) start();
else table();

// ------------------------------------------------------------------------------ --start

function start() {
  mkdirSync(OUT_DIR, { recursive: true });
  for (const name of readdirSync(OUT_DIR))
    if (name.endsWith(".json") || name.endsWith(".md") || name.endsWith(".zip")) rmSync(join(OUT_DIR, name));
  const machine = {
    started_ms: Date.now(),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    command: option("--command") ?? (quick ? "make bench-quick" : "make bench"),
    quick,
    cpu: cpuModel(),
    cores: cpus().length,
    memory_gib: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readText("/proc/meminfo"))?.[1] ?? 0) / 1024 / 1024),
    os: `${osName()}, ${type()} ${release()} ${arch()}`,
    load_at_start: loadavg(),
    rustc: run("rustc", ["--version"]),
    node: process.version,
    openssl: run("openssl", ["version"]),
  };
  writeFileSync(MACHINE, `${JSON.stringify(machine, null, 2)}\n`);
  console.log(
    `make bench: ${machine.cpu}, ${machine.cores} cores, load ${machine.load_at_start.map((l) => l.toFixed(2)).join(" ")}; results in ${OUT_DIR}`,
  );
}

function readText(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function run(command, commandArgs) {
  try {
    return execFileSync(command, commandArgs, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return `${command}: not found`;
  }
}

function cpuModel() {
  const model = /^model name\s*:\s*(.+)$/m.exec(readText("/proc/cpuinfo"))?.[1]?.trim();
  return model ?? cpus()[0]?.model ?? "unknown CPU";
}

function osName() {
  return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readText("/etc/os-release"))?.[1] ?? type();
}

// ------------------------------------------------------------------------------ the table

function table() {
  if (!existsSync(MACHINE)) {
    console.error(
      `make bench: ${MACHINE} is missing: run \`node js/bench/table.js --start\` before the benchmarks (make bench does)`,
    );
    process.exit(2);
  }
  const machine = JSON.parse(readFileSync(MACHINE, "utf8"));
  const failedSteps = (option("--failed") ?? "").split(/\s+/).filter(Boolean);
  const problems = new Map(); // group → the figures it lacks
  const missed = []; // missed budgets

  const result = (name) => {
    const path = join(OUT_DIR, `${name}.json`);
    if (!existsSync(path) || statSync(path).mtimeMs < machine.started_ms) return null;
    return JSON.parse(readFileSync(path, "utf8"));
  };
  /** criterion's headline estimate (slope, else mean) in ns, if written by this run. */
  const criterion = (id) => {
    const path = join(CRITERION_DIR, id, "new", "estimates.json");
    if (!existsSync(path) || statSync(path).mtimeMs < machine.started_ms) return null;
    const estimates = JSON.parse(readFileSync(path, "utf8"));
    return (estimates.slope ?? estimates.mean).point_estimate;
  };

  const groups = [];
  let group = null;
  const section = (name, source) => {
    group = { name, source, rows: [] };
    groups.push(group);
  };
  /**
   * A row. `figure` null: the result is missing. `budget`: { text, ok } (ok false: missed)
   * or a bare text (shown, not checked).
   */
  const row = (what, figure, reference = "", budget = null) => {
    let verdict = "";
    let budgetText = "—";
    if (figure === null || figure === undefined) {
      problems.set(group.name, [...(problems.get(group.name) ?? []), what]);
      group.rows.push([what, "**not measured**", reference, budget?.text ?? budget ?? "—", "**NO RESULT**"]);
      return;
    }
    if (budget && typeof budget === "object") {
      budgetText = budget.text;
      verdict = budget.ok ? "ok" : budget.kind === "min" ? "**UNDER BUDGET**" : "**OVER BUDGET**";
      if (!budget.ok) missed.push(`${group.name}: ${what} — ${budget.measured ?? figure} (budget ${budget.text})`);
    } else if (typeof budget === "string") budgetText = budget;
    group.rows.push([what, figure, reference, budgetText, verdict]);
  };
  /** A budget on `value` (`measured`: how the miss message shows it, default the figure). */
  const atMost = (value, limit, text, measured) =>
    value === null || value === undefined ? text : { text, ok: value <= limit, kind: "max", measured };
  const atLeast = (value, limit, text, measured) =>
    value === null || value === undefined ? text : { text, ok: value >= limit, kind: "min", measured };

  // -- native core: criterion, benches/authorize.rs
  section("native core", "`cargo bench -p edge-authz --bench authorize` (criterion; benches/authorize.rs)");
  const repeated = criterion("authorize/repeated_token");
  row(
    "repeated token, full decision (token + decision caches)",
    ifv(repeated, () => `${time(repeated)} = ${rate(1e9 / repeated)}`),
    "",
    atLeast(repeated && 1e9 / repeated, 2e6, "≥ 2M/s"),
  );
  const revoking = criterion("authorize/repeated_token_revocation");
  row(
    "repeated token with revocation on (records fresh)",
    ifv(revoking, () => `${time(revoking)} = ${rate(1e9 / revoking)}`),
    ifv(revoking && repeated, () => `${(revoking / repeated).toFixed(3)}× the same without`),
    atMost(revoking && repeated && revoking / repeated, 1.05, "≤ 1.05× without revocation"),
  );
  const twoRoutes = criterion("authorize/repeated_token_two_routes");
  row(
    "repeated token, two routes alternating (per decision)",
    ifv(twoRoutes, () => `${time(twoRoutes / 2)} = ${rate(2e9 / twoRoutes)}`),
    "",
  );
  const firstSeen = criterion("authorize/first_seen_rs256");
  const overhead = criterion("authorize/first_seen_overhead");
  row(
    "first-seen RS256 token, verify + decision (pure-Rust RSA, the core's fallback)",
    ifv(firstSeen, () => `${time(firstSeen)} = ${rate(1e9 / firstSeen)}`),
    "native Lambda uses aws-lc-rs (below)",
  );
  row(
    "first-seen token, the core's own work (signature answered at once)",
    ifv(overhead, () => `${time(overhead)} = ${rate(1e9 / overhead)}`),
    firstSeen && overhead ? `${pct(overhead / firstSeen)} of the pure-Rust first-seen` : "",
  );

  // -- policy: criterion, benches/policy.rs
  section("policy", "`cargo bench -p edge-authz --bench policy` (criterion; benches/policy.rs)");
  for (const [id, what] of [
    ["policy_50x20/allow_last_statement", "50 groups × 20 statements with conditions: allow by the last statement"],
    ["policy_50x20/implicit_deny", "50 × 20: implicit deny (no statement matches)"],
    ["policy_50x20/explicit_deny_last_group", "50 × 20: explicit deny in the last group"],
  ]) {
    const ns = criterion(id);
    row(
      what,
      ifv(ns, () => time(ns)),
      "",
      atMost(ns, 5000, "≤ 5 µs"),
    );
  }
  for (const [id, what] of [
    ["policy_50x20_overlapping/allow", "50 × 20, every group on the same paths (worst-case layout): allow"],
    ["policy_50x20_overlapping/implicit_deny_nothing_close", "50 × 20, same paths everywhere: implicit deny"],
  ]) {
    const ns = criterion(id);
    row(
      what,
      ifv(ns, () => time(ns)),
      ns > 5000 ? "over 5 µs: the layout the budget does not cover" : "",
      "— (worst case)",
    );
  }
  const parse = criterion("policy_parse_20_statements");
  row(
    "parse + validate + compile a 20-statement policy (load time)",
    ifv(parse, () => time(parse)),
    "",
  );

  // -- Node: js/bench/node.js
  const node = result("node-bench");
  section(
    "Node.js (npm package)",
    `\`node js/bench/node.js\` (make node-bench): the Node API on the native backend (aws-lc-rs) and on the wasm (node:crypto) against aws-jwt-verify, jose and \`openssl speed -seconds ${node?.openssl_seconds ?? 3} rsa2048\` in one run, RS256 2048-bit, one thread, per CPU-second${node ? `, ${node.first_seen.count} first-seen tokens per contender` : ""}`,
  );
  const awsName = `aws-jwt-verify ${node?.versions?.["aws-jwt-verify"] ?? ""}`.trim();
  const joseName = `jose ${node?.versions?.jose ?? ""}`.trim();
  const budgets = node?.budgets ?? {};
  const fs = node?.first_seen;
  row(
    "`openssl speed rsa2048` verify (the physical limit)",
    node && node.openssl_rsa2048_verify_per_s && rate(node.openssl_rsa2048_verify_per_s),
    node?.versions?.openssl ?? "",
  );
  row(
    "native backend: first-seen token, verify + full decision",
    fs && fs.native_per_s && rate(fs.native_per_s),
    fs?.native_vs_aws_jwt_verify
      ? `${ratio(fs.native_vs_aws_jwt_verify)} ${awsName} verifySync (budget > 1×: ${fs.native_vs_aws_jwt_verify > (budgets.nativeVsAwsJwtVerify ?? 1) ? "ok" : "**missed**"})`
      : (node?.native_unavailable ?? ""),
    atLeast(
      fs?.native_vs_openssl,
      budgets.nativeVsOpenssl ?? 0.75,
      `≥ ${budgets.nativeVsOpenssl ?? 0.75}× openssl verify`,
      fs?.native_vs_openssl && ratio(fs.native_vs_openssl),
    ),
  );
  if (fs?.native_vs_aws_jwt_verify !== undefined && fs?.native_vs_aws_jwt_verify !== null)
    row(
      `native backend against ${awsName} verifySync (verify only)`,
      ratio(fs.native_vs_aws_jwt_verify),
      "same tokens, same run",
      atLeast(
        fs.native_vs_aws_jwt_verify > (budgets.nativeVsAwsJwtVerify ?? 1) ? 2 : 0,
        1,
        `> ${budgets.nativeVsAwsJwtVerify ?? 1}× (faster on every machine)`,
        ratio(fs.native_vs_aws_jwt_verify),
      ),
    );
  if (fs?.native_addon_alone_per_s)
    row(
      "native backend: first-seen token, the addon's own calls alone (set + authorize + context)",
      `${(1e6 / fs.native_addon_alone_per_s).toFixed(1)} µs per token`,
      `the Node API adds ${(1e6 / fs.native_per_s - 1e6 / fs.native_addon_alone_per_s).toFixed(1)} µs; the core's cold path natively: the native Lambda's first row`,
    );
  row(
    "wasm backend: first-seen token, verify + full decision",
    fs && rate(fs.wasm_per_s),
    fs ? `${ratio(fs.wasm_vs_aws_jwt_verify)} ${awsName} verifySync` : "",
  );
  row(`${awsName} verifySync, verify only`, fs && rate(fs.aws_jwt_verify_sync_per_s), "1.00× (the peer)");
  row(
    `${joseName} jwtVerify with a KeyObject, verify only`,
    fs && rate(fs.jose_per_s),
    fs ? `${ratio(fs.jose_per_s / fs.aws_jwt_verify_sync_per_s)} ${awsName}` : "",
  );
  row(
    "node:crypto RS256 check alone (the floor of any node:crypto verifier)",
    fs && rate(fs.node_crypto_verify_only_per_s),
    fs ? `${ratio(fs.node_crypto_verify_only_per_s / fs.aws_jwt_verify_sync_per_s)} ${awsName}` : "",
  );
  row(
    "wasm backend: the work beside the signature check (core + glue, signature accepted)",
    fs && `${fs.wasm_beside_signature_us.toFixed(1)} µs per token`,
    "the same work natively: the criterion row `first_seen_overhead` above",
    atMost(
      fs?.wasm_beside_signature_us,
      budgets.wasmBesideSignatureUs ?? 10,
      `≤ ${budgets.wasmBesideSignatureUs ?? 10} µs`,
    ),
  );
  for (const [backend, budget] of [
    ["native", budgets.nativeRepeatedPerS ?? 2e6],
    ["wasm", budgets.wasmRepeatedPerS ?? 5e5],
  ]) {
    if (backend === "native" && node && !node.backends.includes("native")) continue;
    row(
      `${backend} backend: repeated token, full decision (the Node API's per-second memo)`,
      node && rate(node.repeated.per_s[backend]),
      "",
      atLeast(node?.repeated.per_s[backend], budget, `≥ ${rate(budget)}`),
    );
    row(
      `${backend} backend: repeated token through the core's cache alone (memo bypassed)`,
      node && rate(node.repeated_core_cache_only.per_s[backend]),
      "why the memo stays",
    );
  }
  const boundary = node?.wasm_boundary_repeated;
  row(
    "the wasm boundary, repeated token: one packed answer (verdict and context interned)",
    boundary && `${Math.round(1e9 / boundary.packed_per_s)} ns per step`,
    boundary &&
      `decoded per call instead: ${Math.round(1e9 / boundary.decoded_each_per_s)} ns (why the packed answer stays)`,
  );
  row(
    `${awsName} verifySync, repeated token`,
    node && rate(node.aws_jwt_verify_sync_repeated.per_s),
    "no cache: verifies again",
  );

  // -- Worker: js/bench/workerd.js, and the same path under Node: js/bench/authorize.js
  const workerd = result("workerd-bench");
  const wasmNode = result("wasm-bench");
  section(
    "Cloudflare Worker (workerd)",
    `\`node js/bench/workerd.js\` (make workerd-bench): the Worker's authorization path (wasm + glue + WebCrypto, RS256) in workerd via Miniflare ${workerd?.miniflare ?? ""}, CPU of the workerd process per authorization; and \`node js/bench/authorize.js\` (make wasm-bench): the same code under Node, process.cpuUsage()`,
  );
  for (const [key, what, budget] of [
    ["first_seen", "first-seen RS256 token", 0.3],
    ["cached", "cached token", 0.05],
  ]) {
    const w = workerd?.[key];
    const n = wasmNode?.[key];
    row(
      `${what}, in workerd`,
      w && `${ms(w.cpu_ms)} CPU`,
      w ? `wall ${ms(w.wall_ms)}; ×${w.count}` : "",
      atMost(w?.cpu_ms, w?.budget_cpu_ms ?? budget, `≤ ${w?.budget_cpu_ms ?? budget} ms CPU`),
    );
    row(
      `${what}, same code under Node (V8 + Node's WebCrypto)`,
      n && `${ms(n.cpu_ms)} CPU`,
      n ? `wall ${ms(n.wall_ms)}; ×${n.count}${w ? `; ${ratio(n.cpu_ms / w.cpu_ms)} workerd's CPU` : ""}` : "",
      "— (the budget is workerd's)",
    );
  }

  // -- sizes: js/bench/sizes.js
  const sizes = result("sizes");
  section(
    "wasm size",
    "`node js/bench/sizes.js`: js/dist/edge_authz_bg.wasm after wasm-bindgen + `wasm-opt -Oz`, gzip level 9 (as js/test/size.test.js)",
  );
  row(
    "wasm, gzipped",
    sizes && kb(sizes.wasm.gzip_bytes),
    sizes ? `${kb(sizes.wasm.bytes)} uncompressed` : "",
    atMost(sizes?.wasm.gzip_bytes, sizes?.wasm.budget_gzip_bytes ?? 150 * 1024, "≤ 150 KB gzipped"),
  );
  section(
    "Lambda@Edge zip",
    `\`${sizes?.lambda_edge_zip?.from ?? "make lambda-edge-zip CONFIG=demo/config.json"}\`, measured by \`node js/bench/sizes.js\``,
  );
  const zip = sizes?.lambda_edge_zip;
  row(
    "deployment zip (handler, wasm, glue, demo configuration and policies)",
    zip && kb(zip.bytes),
    "Lambda@Edge viewer-request limit: 1 MB",
    atMost(zip?.bytes, zip?.budget_bytes ?? 300 * 1024, "≤ 300 KB"),
  );

  // -- native Lambda: lambda/benches/lambda.rs
  const lambda = result("lambda-bench");
  section(
    "native Lambda (API Gateway)",
    "`cargo bench -p edge-authz-lambda --bench lambda` (make lambda-bench; lambda/benches/lambda.rs): aws-lc-rs; init: the real `bootstrap` (bench profile) through a Runtime API emulator",
  );
  const openssl = lambda?.openssl?.rsa2048_verify_per_s;
  row(
    "cold verify + decision (RS256, caches off)",
    lambda && rate(lambda.cold_verify_decision_per_s),
    lambda
      ? openssl
        ? `${ratio(lambda.cold_ratio)} \`${lambda.openssl.command}\` verify (${rate(openssl)})`
        : "openssl speed: no figure"
      : "",
    atLeast(
      lambda?.cold_ratio,
      lambda?.budget_cold_ratio ?? 0.7,
      `≥ ${lambda?.budget_cold_ratio ?? 0.7}× openssl rsa2048 verify/s`,
      lambda?.cold_ratio && ratio(lambda.cold_ratio),
    ),
  );
  row(
    "RS256 signature check alone (aws-lc-rs, prepared key)",
    lambda && rate(lambda.signature_only_per_s),
    openssl ? `${ratio(lambda.signature_only_per_s / openssl)} openssl` : "",
  );
  row("cached token + decision", lambda && rate(lambda.cached_decision_per_s), "");
  row(
    "per invocation: REST REQUEST event through the handler, cold token",
    lambda && `${time(1e9 / lambda.handler_request_event_per_s)} = ${rate(lambda.handler_request_event_per_s)}`,
    "event parsing, verify, decision, response",
  );
  row(
    "init: process start → first decision (bundled JWKS and policies)",
    lambda && `${lambda.init_ms.median.toFixed(1)} ms`,
    lambda
      ? `median of ${lambda.init_ms.runs}; min ${lambda.init_ms.min.toFixed(1)}, max ${lambda.init_ms.max.toFixed(1)} ms`
      : "",
    atMost(lambda?.init_ms.median, lambda?.budget_init_ms ?? 20, `≤ ${lambda?.budget_init_ms ?? 20} ms`),
  );
  row(
    "init: peak RSS of the process (VmHWM after the first decision)",
    lambda?.peak_rss_mib != null ? `${lambda.peak_rss_mib.toFixed(1)} MiB` : null,
    "the largest of the init runs",
    atMost(lambda?.peak_rss_mib, lambda?.budget_peak_rss_mib ?? 15, `≤ ${lambda?.budget_peak_rss_mib ?? 15} MiB`),
  );
  const tls = lambda?.jwks_tls_fetch;
  row(
    "first JWKS fetch over TLS once up: handshake + request + parse, cold process",
    tls && `${tls.first_fetch_ms.median.toFixed(1)} ms`,
    tls
      ? `median of ${tls.first_fetch_ms.runs} processes (${tls.tls}, loopback: add the network's round trips): ` +
          `${tls.drbg_seed_ms.toFixed(1)} ms aws-lc-rs DRBG seeding + ${tls.first_fetch_after_seed_ms.toFixed(1)} ms; ` +
          `warm: ${tls.new_connection_warm_ms.toFixed(2)} ms on a new connection, ${tls.keep_alive_ms.toFixed(2)} ms kept alive`
      : "",
  );

  // -- output
  const loadNow = loadavg();
  const lines = [];
  lines.push(
    `Produced by \`${machine.command}\` on ${machine.date} (${Math.round((Date.now() - machine.started_ms) / 1000)} s, builds included).`,
  );
  if (machine.quick)
    lines.push(
      "",
      "**Quick run** (short measurements, small counts): checks the pipeline; the figures are not the project's.",
    );
  lines.push(
    "",
    `- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB; ${machine.os}`,
    `- load average (1, 5, 15 min): ${fmtLoad(machine.load_at_start)} at start, ${fmtLoad(loadNow)} at the end`,
    `- toolchain: ${machine.rustc}; Node ${machine.node}; ${machine.openssl}`,
    "",
    "| runtime | what | figure | reference / ratio | budget | verdict |",
    "| --- | --- | ---: | --- | --- | --- |",
  );
  for (const g of groups)
    g.rows.forEach((r, i) => lines.push(`| ${i === 0 ? `**${g.name}**` : ""} | ${r.map(cell).join(" | ")} |`));
  lines.push("", "Sources (each also runs alone; its JSON is in target/bench/):", "");
  for (const g of groups) lines.push(`- ${g.name}: ${g.source}`);
  lines.push(
    "",
    "criterion figures are its headline estimate (the slope, else the mean) of this run; rates are one thread. " +
      "Budgets are those of the issues; a missed one fails `make bench` after this table.",
  );
  const noResult = () =>
    [...problems].map(([name, whats]) => `${name} (${whats.length === 1 ? whats[0] : `${whats.length} figures`})`);
  if (failedSteps.length || problems.size || missed.length) {
    lines.push("");
    if (failedSteps.length)
      lines.push(`Failed steps: ${failedSteps.map((s) => `\`make ${s}\``).join(", ")} (see their output above).`);
    if (problems.size) lines.push(`No result: ${noResult().join("; ")}.`);
    if (missed.length) lines.push(`Missed budgets: ${missed.join("; ")}.`);
  }
  const text = `${lines.join("\n")}\n`;
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, "table.md"), text);
  console.log(`\n${text}`);
  console.log(`(also in ${join(OUT_DIR, "table.md")})`);

  if (failedSteps.length || problems.size || missed.length) {
    const why = [];
    if (missed.length) why.push(`${missed.length} budget(s) missed:\n  ${missed.join("\n  ")}`);
    if (failedSteps.length) why.push(`failed: ${failedSteps.map((s) => `make ${s}`).join(", ")}`);
    if (problems.size) why.push(`no result for:\n  ${noResult().join("\n  ")}`);
    console.error(`\nmake bench: ${why.join("\n")}`);
    process.exitCode = 1;
  }
}

// ------------------------------------------------------------------------------ formatting

function ifv(value, f) {
  return value === null || value === undefined ? null : f();
}

function cell(text) {
  return String(text ?? "").replaceAll("|", "\\|");
}

function fmtLoad(load) {
  return load.map((l) => l.toFixed(2)).join(" ");
}

/** Three significant digits at most, without a trailing ".0". */
function sig(n) {
  if (n >= 100) return Math.round(n).toLocaleString("en-US");
  return String(Number(n.toPrecision(3)));
}

/** A per-second rate: 3.7M/s, 23.4k/s, 512/s. */
function rate(perSecond) {
  if (perSecond >= 1e6) return `${sig(perSecond / 1e6)}M/s`;
  if (perSecond >= 1e3) return `${sig(perSecond / 1e3)}k/s`;
  return `${sig(perSecond)}/s`;
}

/** A duration given in ns: 270 ns, 1.93 µs, 482 µs, 12.5 ms. */
function time(ns) {
  if (ns < 1e3) return `${sig(ns)} ns`;
  if (ns < 1e6) return `${sig(ns / 1e3)} µs`;
  if (ns < 1e9) return `${sig(ns / 1e6)} ms`;
  return `${sig(ns / 1e9)} s`;
}

/** Milliseconds of CPU with enough digits for the 0.05 ms budget. */
function ms(value) {
  return `${value < 0.1 ? value.toFixed(4) : value.toFixed(3)} ms`;
}

function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function ratio(r) {
  return `${r.toFixed(2)}×`;
}

function pct(r) {
  return `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`;
}
