// CPU per request of the Worker's authorization path in workerd itself (Miniflare), the
// runtime the Worker budgets are set for: first-seen token ≤ 0.3 ms CPU, cached ≤ 0.05 ms.
// workerd freezes its clocks while a request computes, so the CPU is read from outside: the
// workerd process's CPU time (/proc/<pid>/task/*/schedstat, ns, every thread) across one
// request in which js/bench/workerd-worker.js runs the same authorizations as
// js/bench/authorize.js (same config, keys, tokens, request), minus a no-op request's, divided
// by the number of authorizations. Linux only (/proc).
// Usage: node js/bench/workerd.js   (BENCH_FIRST_SEEN, BENCH_CACHED to change the counts;
// BENCH_QUICK, BENCH_OUT, BENCH_DEFER_BUDGETS: see results.js). Results: target/bench/workerd-bench.json.
import { readdirSync, readFileSync } from "node:fs";
import { startMiniflare } from "../test/support/workerd.js";
import { jwksDocument, suiteKeys, tokenOf } from "../test/support/suite.js";
import { benchConfig, descendantsNamed, ISSUER, NOW } from "./fixture.js";
import { budgetExit, count, writeResults } from "./results.js";

const BUDGET_FIRST_SEEN_MS = 0.3;
const BUDGET_CACHED_MS = 0.05;
const FIRST_SEEN = count("BENCH_FIRST_SEEN", 3000, 300);
const CACHED = count("BENCH_CACHED", 50000, 5000);
const WARM = 500;
const miniflareVersion = JSON.parse(
  readFileSync(new URL("../node_modules/miniflare/package.json", import.meta.url), "utf8"),
).version;

const keys = suiteKeys();
const config = benchConfig();
const token = (i) =>
  tokenOf(
    {
      key: "suite-rsa-1",
      claims: {
        iss: ISSUER,
        sub: `user-${i}`,
        "cognito:groups": ["pet-veterinarian"],
        token_use: "access",
        client_id: "bench-client",
        exp: NOW + 3600,
        jti: `j${i}`,
      },
    },
    keys,
  );

/** CPU time of every thread of `pids`, in ns. */
function cpuNs(pids) {
  let total = 0;
  for (const pid of pids) {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread exited while we looked
      }
    }
  }
  return total;
}

const mf = await startMiniflare("bench/workerd-worker.js", {}, { kv: false });

try {
  const workerd = descendantsNamed(process.pid, "workerd");
  if (workerd.length === 0) throw new Error("no workerd process found under this one");
  const post = async (path, body) => {
    const response = await mf.dispatchFetch(`http://bench.test${path}`, { method: "POST", body: JSON.stringify(body) });
    const result = await response.json();
    if (!result.ok) throw new Error(`${path}: ${result.error ?? response.status}`);
    return result;
  };
  /** CPU per authorization of one /run request, less a no-op /run's CPU. */
  const measure = async (run) => {
    let start = cpuNs(workerd);
    await post("/run", { mode: "noop", now: NOW });
    const noop = cpuNs(workerd) - start;
    start = cpuNs(workerd);
    const wall = process.hrtime.bigint();
    const { count: done } = await post("/run", { ...run, now: NOW });
    const wallNs = Number(process.hrtime.bigint() - wall);
    const cpu = cpuNs(workerd) - start;
    return { count: done, cpuMs: (cpu - noop) / 1e6 / done, wallMs: wallNs / 1e6 / done, noopMs: noop / 1e6 };
  };

  await post("/setup", { config, jwks: jwksDocument(keys, ["suite-rsa-1"]) });
  // Warm-up: JWKS fetched, key imported, code paths compiled.
  await post("/tokens", { tokens: Array.from({ length: WARM }, (_, i) => token(`warm-${i}`)) });
  await measure({ mode: "first_seen" });
  await post("/tokens", { tokens: Array.from({ length: FIRST_SEEN }, (_, i) => token(i)) });
  const firstSeen = await measure({ mode: "first_seen" });
  await post("/tokens", { tokens: [token("cached")] });
  await measure({ mode: "cached", n: 1 });
  const cached = await measure({ mode: "cached", n: CACHED });

  const line = (name, r, budget) =>
    `${name.padEnd(18)} ${r.cpuMs.toFixed(4)} ms CPU  ${r.wallMs.toFixed(4)} ms wall  (budget ${budget} ms CPU) ${r.cpuMs <= budget ? "ok" : "OVER BUDGET"}`;
  console.log(
    `edge-authz Worker path in workerd (Miniflare ${miniflareVersion}), RS256 via WebCrypto, per request (workerd process CPU):`,
  );
  console.log(line(`first-seen ×${firstSeen.count}`, firstSeen, BUDGET_FIRST_SEEN_MS));
  console.log(line(`cached ×${cached.count}`, cached, BUDGET_CACHED_MS));
  const missed = [];
  if (firstSeen.cpuMs > BUDGET_FIRST_SEEN_MS) missed.push("first_seen");
  if (cached.cpuMs > BUDGET_CACHED_MS) missed.push("cached");
  const path = writeResults("workerd-bench", {
    command: "node js/bench/workerd.js",
    what: "the Worker's authorization path (wasm + glue + WebCrypto, RS256) in workerd via Miniflare; workerd process CPU per authorization",
    miniflare: miniflareVersion,
    first_seen: {
      count: firstSeen.count,
      cpu_ms: firstSeen.cpuMs,
      wall_ms: firstSeen.wallMs,
      noop_request_cpu_ms: firstSeen.noopMs,
      budget_cpu_ms: BUDGET_FIRST_SEEN_MS,
    },
    cached: {
      count: cached.count,
      cpu_ms: cached.cpuMs,
      wall_ms: cached.wallMs,
      noop_request_cpu_ms: cached.noopMs,
      budget_cpu_ms: BUDGET_CACHED_MS,
    },
    missed,
  });
  console.log(`results: ${path}`);
  budgetExit(missed);
} finally {
  await mf.dispose();
}
