// Load test of the adapters (issue 9, "Load"; issue 16, "What an app pays"): the Worker
// (js/src/worker.js) in workerd through Miniflare, and an Express app in a Node process of its
// own behind the edge-authz middleware (js/src/express.js) on either backend, behind a
// verify-only aws-jwt-verify middleware, or behind nothing; each on 127.0.0.1 under wrk for a
// fixed time at a fixed concurrency, with a mix of valid, expired, forged, tampered,
// unknown-kid, garbage, missing and unauthorised credentials. Every response is checked against
// the status its request must get behind that authorizer (a wrk Lua script, see wrk-script.js);
// the server's RSS is sampled every second (the Worker's after a forced GC of its isolates,
// see README.md "Memory"). Prints a Markdown table; exits 1 on any wrong answer, socket error,
// or RSS growth past the threshold between 10 s and the end; 2 on bad options.
//
// Usage: node js/bench/load/run.js [--target TARGET ...] [--seconds 60] [--connections 8]
//          [--threads N (= connections)] [--tokens 250] [--rss-growth-pct 20] [--timeout 5]
//          [--worker-gc inspector|off] [--out target/load]
// Targets (TARGETS below): worker, express-none, express-aws-jwt-verify, node-native,
// node-wasm, node (edge-authz on the backend EDGE_AUTHZ_BACKEND or `auto` picks), and the
// groups `express` (the four Express rows) and `all` (worker + express, the default).
// Defaults also from LOAD_TARGET, LOAD_SECONDS, LOAD_CONNECTIONS, LOAD_THREADS, LOAD_TOKENS,
// LOAD_RSS_GROWTH_PCT, LOAD_TIMEOUT, LOAD_WORKER_GC, LOAD_OUT. Needs wrk on PATH (`make load` installs it), js/dist (make wasm-build)
// and js/node_modules (make js-deps). Keys and tokens are generated per run; nothing leaves
// the machine. See README.md in this directory.
import { fork, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startMiniflare } from "../../test/support/workerd.js";
import { descendantsNamed } from "../fixture.js";
import { authzConfig, buildMix, GROUP, POLICY, schedule, wantFor } from "./mix.js";
import { wrkScript } from "./wrk-script.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const jsRoot = fileURLToPath(new URL("../../", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

// ---- options ----
const { values: args } = parseArgs({
  options: {
    target: { type: "string", multiple: true },
    seconds: { type: "string" },
    connections: { type: "string" },
    threads: { type: "string" },
    tokens: { type: "string" },
    "rss-growth-pct": { type: "string" },
    timeout: { type: "string" },
    out: { type: "string" },
    "worker-gc": { type: "string" },
  },
});
const env = process.env;

/**
 * What runs under load: the adapter (`worker` or the Express app, node-server.js), the
 * authorizer in front of it (mix.js `wantFor` gives each kind's status behind it) and, for
 * edge-authz under Node, the backend asked for (undefined: not passed, so EDGE_AUTHZ_BACKEND
 * or `auto` picks).
 * @type {Record<string, { adapter: "worker" | "express", authorizer: import("./mix.js").Authorizer, backend?: string, label: string }>}
 */
const TARGETS = {
  worker: { adapter: "worker", authorizer: "edge-authz", label: "Worker (workerd)" },
  "express-none": { adapter: "express", authorizer: "none", label: "Express, no authorizer" },
  "express-aws-jwt-verify": {
    adapter: "express",
    authorizer: "aws-jwt-verify",
    label: "Express + aws-jwt-verify (verify only)",
  },
  "node-native": {
    adapter: "express",
    authorizer: "edge-authz",
    backend: "native",
    label: "Express + edge-authz, native",
  },
  "node-wasm": { adapter: "express", authorizer: "edge-authz", backend: "wasm", label: "Express + edge-authz, wasm" },
  node: { adapter: "express", authorizer: "edge-authz", label: "Express + edge-authz" },
};
const EXPRESS = ["express-none", "express-aws-jwt-verify", "node-native", "node-wasm"];
const GROUPS = { express: EXPRESS, all: ["worker", ...EXPRESS] };

function usage(message) {
  console.error(
    `load: ${message}\nusage: node js/bench/load/run.js [--target ${[...Object.keys(TARGETS), ...Object.keys(GROUPS)].join("|")}] ... [--seconds 60] [--connections 8] [--tokens 250] [--rss-growth-pct 20] [--worker-gc inspector|off]`,
  );
  process.exit(2);
}
const num = (value, fallback, name) => {
  const text = value ?? "";
  if (text === "") return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name}: not a positive number: ${text}`);
  return n;
};
const SECONDS = Math.round(num(args.seconds ?? env.LOAD_SECONDS, 60, "seconds"));
const CONNECTIONS = Math.round(num(args.connections ?? env.LOAD_CONNECTIONS, 8, "connections"));
const THREADS = Math.round(num(args.threads ?? env.LOAD_THREADS, CONNECTIONS, "threads"));
const TOKENS = Math.round(num(args.tokens ?? env.LOAD_TOKENS, 250, "tokens"));
const RSS_GROWTH_PCT = num(args["rss-growth-pct"] ?? env.LOAD_RSS_GROWTH_PCT, 20, "rss-growth-pct");
const TIMEOUT_S = num(args.timeout ?? env.LOAD_TIMEOUT, 5, "timeout");
const OUT_DIR = args.out ?? env.LOAD_OUT ?? `${repoRoot}target/load`;
// The Worker's RSS is measured with a full GC of its isolates forced every second through the
// inspector (`inspector`, the default), or as it comes (`off`): see README.md, "Memory".
const WORKER_GC = args["worker-gc"] ?? env.LOAD_WORKER_GC ?? "inspector";
if (!["inspector", "off"].includes(WORKER_GC)) usage(`--worker-gc: inspector or off, not ${WORKER_GC}`);
const targets = [
  ...new Set((args.target ?? [env.LOAD_TARGET || "all"]).flatMap((t) => t.split(",")).flatMap((t) => GROUPS[t] ?? [t])),
];
for (const t of targets)
  if (!TARGETS[t]) usage(`--target: one of ${[...Object.keys(TARGETS), ...Object.keys(GROUPS)].join(", ")}, not ${t}`);
if (THREADS !== CONNECTIONS) {
  usage(
    `threads (${THREADS}) must equal connections (${CONNECTIONS}): each wrk thread keeps one request in flight, ` +
      "which is how a response is paired with its request's expected status (see wrk-script.js). Set only LOAD_CONNECTIONS.",
  );
}
// RSS "at 10 s": at 10 s into the run, or half-way for runs shorter than 20 s.
const EARLY_S = Math.min(10, SECONDS / 2);

if (spawnSync("wrk", ["--version"]).error) {
  console.error("load: wrk is not on PATH (make load installs it: apt-get install wrk)");
  process.exit(2);
}

const log = (line = "") => process.stderr.write(`${line}\n`);

// ---- cleanup ----
const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    try {
      await cleanups.pop()();
    } catch {
      // best effort
    }
  }
}
process.on("SIGINT", () => cleanup().then(() => process.exit(130)));
process.on("SIGTERM", () => cleanup().then(() => process.exit(143)));

// ---- /proc ----
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** RSS and peak RSS in KiB, or null when the process is gone. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rss: field("VmRSS"), hwm: field("VmHWM") };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of a process, or null. */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Busy and total CPU seconds of the whole machine (/proc/stat). */
function machineCpu() {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const t = ticks.map(Number);
  const idle = t[3] + (t[4] || 0);
  const total = t.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

// ---- the Worker's isolates through the inspector (forced GC, heap usage) ----

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A Chrome DevTools Protocol session on one isolate; every call times out rather than hang. */
async function inspectorSession(url) {
  const WebSocketImpl = globalThis.WebSocket ?? (await import("ws")).WebSocket; // ws: Miniflare's own dependency
  const socket = new WebSocketImpl(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error(`inspector ${url}: cannot connect`)), { once: true });
  });
  let id = 0;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data));
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  return {
    /** @returns {Promise<any>} the result, or null on error or after `timeoutMs` */
    call(method, params = {}, timeoutMs = 5000) {
      return new Promise((resolve) => {
        const callId = ++id;
        const timer = setTimeout(() => {
          pending.delete(callId);
          resolve(null);
        }, timeoutMs);
        pending.set(callId, (message) => {
          clearTimeout(timer);
          resolve(message.result ?? null);
        });
        socket.send(JSON.stringify({ id: callId, method, params }));
      });
    },
    close: () => socket.close(),
  };
}

/**
 * Sessions on the isolates in the path of a request: Miniflare's entry worker, ours, and the
 * one every subrequest goes through (Miniflare strips CF-Connecting-IP from outbound requests
 * in a worker of its own; left out, its garbage from the forwarded allows grows RSS). Not the
 * idle ones (cache): an isolate answers the inspector only when it gets a turn.
 */
async function workerIsolates(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const wanted = targets.filter(
    (t) => t.id === "core:entry" || t.id.startsWith("core:user:") || t.id.startsWith("strip-cf-connecting-ip"),
  );
  if (!wanted.some((t) => t.id.startsWith("core:user:")))
    throw new Error(`inspector: no user worker among ${targets.map((t) => t.id).join(", ")}`);
  return Promise.all(
    wanted.map(async (t) => ({
      id: t.id,
      user: t.id.startsWith("core:user:"),
      session: await inspectorSession(t.webSocketDebuggerUrl),
    })),
  );
}

// ---- the upstream: petstore routes and the JWKS ----
const PETS = JSON.stringify({
  pets: [
    { id: 1, name: "Birds" },
    { id: 2, name: "Cats" },
    { id: 3, name: "Dogs" },
    { id: 4, name: "Fish" },
  ],
});

async function startUpstream(jwks) {
  const counts = { jwks: 0, forwarded: 0, other: 0 };
  const server = createServer((request, response) => {
    const path = request.url.split("?")[0];
    if (path === "/.well-known/jwks.json") {
      counts.jwks++;
      return response.writeHead(200, { "content-type": "application/json" }).end(jwks);
    }
    if (request.method === "GET" && (path === "/petstore/v1/pets" || path === "/petstore/v2/pets")) {
      counts.forwarded++;
      return response.writeHead(200, { "content-type": "application/json" }).end(PETS);
    }
    if (request.method === "GET" && path === "/petstore/v2/status") {
      counts.forwarded++;
      return response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    }
    counts.other++;
    response.writeHead(404, { "content-type": "application/json" }).end('{"message":"Not Found"}');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}`, counts };
}

// ---- the servers under load ----

/** The Worker in workerd (Miniflare), as js/scripts/demo.js starts it, its KV seeded. */
async function startWorker(upstream) {
  const output = { lines: 0, errors: [] };
  const inspectorPort = WORKER_GC === "inspector" ? await freePort() : undefined;
  const bindings = {
    AUTHZ_CONFIG: JSON.stringify(authzConfig(`${upstream.url}/.well-known/jwks.json`, { ttlSeconds: 60 })),
    UPSTREAM: upstream.url,
  };
  const mf = await startMiniflare("src/worker.js", bindings, {
    host: "127.0.0.1",
    port: 0,
    ...(inspectorPort ? { inspectorPort } : {}),
    // The Worker logs one JSON line per decision: drained and counted, not printed.
    handleRuntimeStdio(stdout, stderr) {
      const count = (chunk) => {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) output.lines++;
      };
      stdout.on("data", count);
      stderr.on("data", (chunk) => {
        count(chunk);
        if (output.errors.length < 20) output.errors.push(String(chunk).trim().slice(0, 300));
      });
    },
  });
  cleanups.push(() => mf.dispose());
  const url = (await mf.ready).origin;
  const kv = await mf.getKVNamespace("POLICIES");
  await kv.put(GROUP, JSON.stringify(POLICY));
  const pids = descendantsNamed(process.pid, "workerd");
  if (pids.length !== 1)
    throw new Error(`expected one workerd process under this one, found ${pids.length}: ${pids.join(", ")}`);
  let isolates = null;
  if (inspectorPort) {
    await fetch(url); // the isolates exist once they have served a request
    isolates = await workerIsolates(inspectorPort);
    cleanups.push(() => isolates.forEach((i) => i.session.close()));
  }
  return {
    url,
    pid: pids[0],
    output,
    isolates,
    describe: `js/src/worker.js in workerd (Miniflare), policies in KV${isolates ? `; full GC of ${isolates.map((i) => i.id).join(" + ")} forced every second before each RSS sample` : ", no forced GC"}`,
  };
}

/** The Express app (node-server.js) in a child process, behind `spec`'s authorizer. */
async function startNode(upstream, spec) {
  const output = { lines: 0, errors: [] };
  const jwksUrl = `${upstream.url}/.well-known/jwks.json`;
  const childEnv = {
    ...process.env,
    LOAD_AUTHORIZER: spec.authorizer,
    LOAD_AUTHZ_CONFIG: JSON.stringify(authzConfig(jwksUrl)),
    LOAD_POLICIES: JSON.stringify({ groups: { [GROUP]: POLICY } }),
    LOAD_JWKS_URL: jwksUrl,
  };
  delete childEnv.LOAD_BACKEND;
  if (spec.backend) childEnv.LOAD_BACKEND = spec.backend;
  const child = fork(`${here}node-server.js`, [], {
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  // The middleware logs failures and warnings only (JSON lines on stderr): kept, warnings counted.
  let pendingText = "";
  const count = (chunk) => {
    pendingText += chunk;
    const lines = pendingText.split("\n");
    pendingText = lines.pop();
    for (const line of lines) {
      output.lines++;
      if (line.includes('"event":"policy_warning"')) output.policyWarnings = (output.policyWarnings ?? 0) + 1;
      else if (output.errors.length < 20) output.errors.push(line.trim().slice(0, 300));
    }
  };
  child.stdout.on("data", count);
  child.stderr.on("data", count);
  cleanups.push(
    () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  );
  const { port, backend } = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) =>
      reject(new Error(`node-server.js exited (${code}) before listening: ${output.errors.join(" | ")}`)),
    );
  });
  if (spec.backend && backend !== spec.backend)
    throw new Error(`node-server.js runs edge-authz on ${backend}, not the ${spec.backend} asked for`);
  const behind = {
    none: "no authorizer",
    "aws-jwt-verify": `aws-jwt-verify ${versionOf("aws-jwt-verify")} verify() (bench/load/aws-jwt-verify.js: verify only, JWKS fetched from the upstream)`,
    "edge-authz": `edge-authz/express (js/src/express.js) on the ${backend} backend${spec.backend ? "" : ` (${process.env.EDGE_AUTHZ_BACKEND ? `EDGE_AUTHZ_BACKEND=${process.env.EDGE_AUTHZ_BACKEND}` : "auto"})`}, policies bundled`,
  }[spec.authorizer];
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output,
    backend,
    describe: `Express ${versionOf("express")} + ${behind}`,
  };
}

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(`${jsRoot}node_modules/${name}/package.json`, "utf8")).version;
  } catch {
    return "?";
  }
}

/** Every variant of every kind once, before the load, at a little concurrency: same statuses as wrk must see. */
async function preflight(url, kinds) {
  const jobs = kinds.flatMap((kind) => kind.variants.map((headers) => ({ kind, headers })));
  const failures = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { kind, headers } = jobs[next++];
      const response = await fetch(`${url}${kind.path}`, { method: kind.method, headers, redirect: "manual" });
      const body = await response.text();
      if (response.status !== kind.want && failures.length < 20)
        failures.push(`${kind.name}: ${response.status} (want ${kind.want}) ${body.slice(0, 120)}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { checked: jobs.length, failures };
}

// ---- one run ----
async function runTarget(target, baseMix, upstream, work) {
  const spec = TARGETS[target];
  // The statuses behind this target's authorizer: the kinds' `want`, resolved.
  const mix = { ...baseMix, kinds: baseMix.kinds.map((kind) => ({ ...kind, want: wantFor(kind, spec.authorizer) })) };
  log(`\n== ${target}: starting the server`);
  const server = spec.adapter === "worker" ? await startWorker(upstream) : await startNode(upstream, spec);
  log(`   ${server.describe} on ${server.url} (pid ${server.pid}); upstream + JWKS on ${upstream.url}`);

  const check = await preflight(server.url, mix.kinds);
  if (check.failures.length) {
    log(`   preflight: ${check.failures.length} of ${check.checked} requests did not get their expected status:`);
    for (const failure of check.failures) log(`     ${failure}`);
    await cleanup();
    return { target, ...spec, server: server.describe, preflightFailures: check.failures, pass: false };
  }
  log(`   preflight: all ${check.checked} distinct requests (every token of every kind) got their expected status`);

  const scriptPath = join(work, `${target}.lua`);
  writeFileSync(scriptPath, wrkScript(mix.kinds, mix.slots));

  const forwardedBefore = upstream.counts.forwarded;
  const jwksBefore = upstream.counts.jwks;
  const logLinesBefore = server.output.lines;
  const cpuBefore = cpuOf(server.pid);
  const machineBefore = machineCpu();
  const runnerBefore = process.cpuUsage();
  const loadBefore = loadavg();
  const memoryBefore = memoryOf(server.pid);

  log(`   wrk: ${SECONDS} s, ${CONNECTIONS} connections, ${THREADS} threads, timeout ${TIMEOUT_S} s`);
  const started = Date.now();
  const wrk = spawn(
    "wrk",
    [
      "--latency",
      "-t",
      String(THREADS),
      "-c",
      String(CONNECTIONS),
      "-d",
      `${SECONDS}s`,
      "--timeout",
      `${TIMEOUT_S}s`,
      "-s",
      scriptPath,
      server.url,
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  wrk.stdout.on("data", (chunk) => (stdout += chunk));
  wrk.stderr.on("data", (chunk) => (stderr += chunk));

  const samples = [];
  let wrkCpu = 0;
  let loadMid = null;
  let gcFailures = 0;
  let running = true;
  const exited = new Promise((resolve) => wrk.once("exit", (...result) => resolve(result)));
  exited.then(() => (running = false));
  // Once a second while wrk runs: (the Worker) a full GC of its isolates, then RSS, CPU, heap.
  const sampler = (async () => {
    while (running) {
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 1000)), exited]);
      if (!running) break;
      let heapKiB;
      if (server.isolates) {
        // An isolate answers when it next gets a turn: after wrk stops, maybe never.
        const collected = await Promise.race([
          Promise.all(server.isolates.map((i) => i.session.call("HeapProfiler.collectGarbage"))),
          exited.then(() => null),
        ]);
        if (!running || collected === null) break;
        gcFailures += collected.filter((r) => r === null).length;
        const user = server.isolates.find((i) => i.user);
        const usage = await Promise.race([
          user.session.call("Runtime.getHeapUsage", {}, 2000),
          exited.then(() => null),
        ]);
        if (!running) break;
        heapKiB = usage ? usage.usedSize / 1024 : undefined;
      }
      const t = (Date.now() - started) / 1000;
      const memory = memoryOf(server.pid);
      if (memory) samples.push({ t, ...memory, cpu: cpuOf(server.pid), heapKiB });
      wrkCpu = cpuOf(wrk.pid) ?? wrkCpu;
      if (loadMid === null && t >= SECONDS / 2) loadMid = loadavg();
    }
  })();
  const [code] = await exited;
  await sampler;
  const elapsed = (Date.now() - started) / 1000;
  const machineAfter = machineCpu();
  const runnerCpu = process.cpuUsage(runnerBefore);
  const loadAfter = loadavg();
  const memoryAfter = memoryOf(server.pid);
  const serverCpu = (cpuOf(server.pid) ?? NaN) - (cpuBefore ?? NaN);

  for (const line of stdout.split("\n")) if (line && !line.startsWith("EDGE_AUTHZ_LOAD ")) log(`   | ${line}`);
  if (stderr.trim()) log(`   wrk stderr: ${stderr.trim()}`);
  const resultLine = stdout.split("\n").find((line) => line.startsWith("EDGE_AUTHZ_LOAD "));
  if (code !== 0 || !resultLine) {
    await cleanup();
    throw new Error(`wrk exited with ${code} and no result line (see its output above)`);
  }
  const wrkResult = JSON.parse(resultLine.slice("EDGE_AUTHZ_LOAD ".length));

  const early = samples.find((s) => s.t >= EARLY_S) ?? samples[0];
  const last = samples.filter((s) => s.t <= SECONDS + 0.5).at(-1) ?? samples.at(-1);
  const growthPct = early && last ? ((last.rss - early.rss) / early.rss) * 100 : NaN;

  const kinds = wrkResult.kinds.map((name, i) => ({
    name,
    want: mix.kinds[i].want,
    sent: wrkResult.sent[i],
    answered: wrkResult.answered[i],
    wrong: wrkResult.wrong[i],
  }));
  const wrong = kinds.reduce((sum, k) => sum + k.wrong, 0);
  const answered = kinds.reduce((sum, k) => sum + k.answered, 0);
  const expectedDenials = kinds.filter((k) => k.want >= 400).reduce((sum, k) => sum + k.answered, 0);
  const allowed = kinds.filter((k) => k.want < 400).reduce((sum, k) => sum + k.answered, 0);
  const e = wrkResult.errors;
  const socketErrors = e.connect + e.read + e.write + e.timeout;

  const problems = [];
  if (wrong) problems.push(`${wrong} wrong answers`);
  if (socketErrors)
    problems.push(
      `${socketErrors} socket errors (connect ${e.connect}, read ${e.read}, write ${e.write}, timeout ${e.timeout})`,
    );
  if (wrkResult.lost) problems.push(`${wrkResult.lost} requests dropped by wrk without a response`);
  if (wrkResult.unmatched) problems.push(`${wrkResult.unmatched} responses without a pending request`);
  if (answered !== wrkResult.requests)
    problems.push(`checked ${answered} responses, wrk counted ${wrkResult.requests}`);
  if (e.status !== expectedDenials)
    problems.push(`wrk counted ${e.status} non-2xx/3xx, the mix expects ${expectedDenials}`);
  for (const k of kinds) if (k.answered === 0) problems.push(`no response for ${k.name}`);
  if (gcFailures) problems.push(`${gcFailures} forced GCs got no answer from the inspector`);
  if (!(growthPct <= RSS_GROWTH_PCT))
    problems.push(
      `RSS grew ${growthPct.toFixed(1)} % from ${early?.t.toFixed(0)} s to ${last?.t.toFixed(0)} s (threshold ${RSS_GROWTH_PCT} %)`,
    );

  const result = {
    target,
    adapter: spec.adapter,
    authorizer: spec.authorizer,
    backend: spec.adapter === "worker" ? "wasm" : server.backend,
    label: spec.label,
    server: server.describe,
    seconds: SECONDS,
    elapsed,
    connections: CONNECTIONS,
    threads: THREADS,
    tokensPerKind: TOKENS,
    requests: wrkResult.requests,
    requestsPerSecond: wrkResult.requests / (wrkResult.duration_us / 1e6),
    latencyMs: Object.fromEntries(Object.entries(wrkResult.latency_us).map(([k, v]) => [k, v / 1000])),
    wrong,
    socketErrors,
    errors: e,
    lost: wrkResult.lost,
    unmatched: wrkResult.unmatched,
    non2xx: e.status,
    expectedNon2xx: expectedDenials,
    statuses: wrkResult.statuses,
    kinds,
    samplesOfWrong: wrkResult.samples,
    rss: {
      beforeKiB: memoryBefore?.rss,
      earlyKiB: early?.rss,
      earlyAtS: early?.t,
      endKiB: last?.rss,
      endAtS: last?.t,
      afterKiB: memoryAfter?.rss,
      peakKiB: memoryAfter?.hwm ?? last?.hwm,
      growthPct,
      thresholdPct: RSS_GROWTH_PCT,
      forcedGc: Boolean(server.isolates),
      workerHeapEarlyKiB: early?.heapKiB,
      workerHeapEndKiB: last?.heapKiB,
      series: samples.map((s) => [
        Number(s.t.toFixed(1)),
        s.rss,
        ...(s.heapKiB === undefined ? [] : [Math.round(s.heapKiB)]),
      ]),
    },
    cpu: {
      serverSeconds: serverCpu,
      wrkSeconds: wrkCpu,
      runnerSeconds: (runnerCpu.user + runnerCpu.system) / 1e6,
      machineBusySeconds: machineAfter.busy - machineBefore.busy,
      machineCores: cpus().length,
    },
    machine: { loadBefore, loadMid, loadAfter },
    upstream: {
      forwarded: upstream.counts.forwarded - forwardedBefore,
      allowedAnswered: allowed,
      jwksFetches: upstream.counts.jwks - jwksBefore,
      jwksFetchesTotal: upstream.counts.jwks,
    },
    serverLogLines: server.output.lines - logLinesBefore,
    serverStderr: server.output.errors.slice(0, 5),
    policyWarnings: server.output.policyWarnings,
    problems,
    pass: problems.length === 0,
  };
  result.cpu.othersSeconds =
    result.cpu.machineBusySeconds - result.cpu.serverSeconds - result.cpu.wrkSeconds - result.cpu.runnerSeconds;
  log(`   ${result.pass ? "PASS" : `FAIL: ${problems.join("; ")}`}`);
  await cleanup();
  return result;
}

// ---- report ----
const mib = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : "?");
const ms = (v) => (v >= 10 ? v.toFixed(1) : v.toFixed(2));
const load3 = (l) => (l ? l.map((x) => x.toFixed(2)).join(" ") : "?");

/** The row's name: the target's label, with what the run adds (forced GC, the backend auto picked). */
function rowName(r) {
  if (r.adapter === "worker") return `${r.label.slice(0, -1)}${r.rss?.forcedGc ? ", GC forced 1/s" : ""})`;
  if (r.target === "node" && r.backend) return `${r.label} (${r.backend})`;
  return r.label;
}

/** The server process's CPU time per request answered: what the load costs it, whatever else runs. */
const cpuPerRequest = (r) =>
  Number.isFinite(r.cpu.serverSeconds) && r.requests
    ? `${Math.round((r.cpu.serverSeconds / r.requests) * 1e6)} µs`
    : "?";

function report(results) {
  const lines = [];
  // Express rows against the same app alone, when it ran.
  const alone = results.find((r) => r.target === "express-none" && !r.preflightFailures);
  const vsAlone = (r) =>
    r.adapter === "express" && alone ? `${((r.requestsPerSecond / alone.requestsPerSecond) * 100).toFixed(0)} %` : "–";
  lines.push(
    `| target | req/s | p50 | p99 | req/s vs Express alone | server CPU / req | wrong answers | socket errors | non-2xx (got / expected) | RSS @${EARLY_S} s | RSS @end | growth | verdict |`,
  );
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of results) {
    if (r.preflightFailures) {
      lines.push(
        `| ${rowName(r)} | – | – | – | – | – | preflight: ${r.preflightFailures.length} | – | – | – | – | – | FAIL (before load) |`,
      );
      continue;
    }
    lines.push(
      `| ${rowName(r)} | ${Math.round(r.requestsPerSecond)} | ${ms(r.latencyMs.p50)} ms | ${ms(r.latencyMs.p99)} ms | ${vsAlone(r)} | ${cpuPerRequest(r)} | ${r.wrong} | ${r.socketErrors} | ${r.non2xx} / ${r.expectedNon2xx} | ${mib(r.rss.earlyKiB)} | ${mib(r.rss.endKiB)} | ${r.rss.growthPct >= 0 ? "+" : ""}${r.rss.growthPct.toFixed(1)} % | ${r.pass ? "pass" : "FAIL"} |`,
    );
  }
  lines.push("");
  const ok = results.filter((r) => !r.preflightFailures);
  if (ok.length) {
    lines.push(`Per kind of request (expected status behind that target's authorizer: requests answered / wrong):`);
    lines.push("");
    lines.push(`| kind | ${ok.map((r) => r.target).join(" | ")} |`);
    lines.push(`| --- | ${ok.map(() => "---:").join(" | ")} |`);
    for (let i = 0; i < ok[0].kinds.length; i++) {
      const k = ok[0].kinds[i];
      lines.push(
        `| ${k.name} | ${ok.map((r) => `${r.kinds[i].want}: ${r.kinds[i].answered} / ${r.kinds[i].wrong}`).join(" | ")} |`,
      );
    }
    lines.push("");
    for (const r of ok) {
      const c = r.cpu;
      lines.push(
        `- ${r.target}: ${r.server}; ${r.requests} requests in ${r.seconds} s, ${r.connections} connections (${r.threads} wrk threads), ${r.tokensPerKind} tokens per signed kind; ` +
          `latency p90 ${ms(r.latencyMs.p90)} ms, p99.9 ${ms(r.latencyMs.p999)} ms, max ${ms(r.latencyMs.max)} ms; ` +
          `RSS before ${mib(r.rss.beforeKiB)}, peak ${mib(r.rss.peakKiB)}${r.rss.forcedGc ? `, the Worker's JS heap after GC ${mib(r.rss.workerHeapEarlyKiB)} at ${r.rss.earlyAtS.toFixed(0)} s and ${mib(r.rss.workerHeapEndKiB)} at the end` : ""}; ` +
          `CPU over the run: server ${c.serverSeconds.toFixed(1)} s, wrk ${c.wrkSeconds.toFixed(1)} s, runner+upstream ${c.runnerSeconds.toFixed(1)} s, others ${c.othersSeconds.toFixed(1)} s of ${c.machineCores * r.seconds} core-s; ` +
          `load average ${load3(r.machine.loadBefore)} before, ${load3(r.machine.loadMid)} mid-run, ${load3(r.machine.loadAfter)} after; ` +
          `upstream saw ${r.upstream.forwarded} forwarded requests (${r.upstream.allowedAnswered} allows answered) and ${r.upstream.jwksFetches} JWKS fetches during the run` +
          (r.problems.length ? `; problems: ${r.problems.join("; ")}` : ""),
      );
      if (r.samplesOfWrong)
        lines.push(`  wrong answers (first ones): ${r.samplesOfWrong.trim().split("\n").join(" | ")}`);
      if (r.adapter === "express" && (r.serverStderr.length || r.policyWarnings)) {
        lines.push(
          `  server log: ${r.policyWarnings ?? 0} policy warnings at startup${r.serverStderr.length ? `; other lines: ${r.serverStderr.join(" | ")}` : ""}`,
        );
      }
    }
  }
  return lines.join("\n");
}

// ---- main ----
async function main() {
  const work = mkdtempSync(join(tmpdir(), "edge-authz-load-"));
  const t0 = Date.now();
  const mix = buildMix({ tokens: TOKENS });
  mix.slots = schedule(mix.kinds);
  log(
    `load: ${mix.kinds.length} kinds of request, ${mix.slots.length}-slot cycle (${mix.kinds.map((k) => `${k.name}×${k.weight}`).join(", ")}), keys and tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  const results = [];
  try {
    for (const target of targets) {
      const upstream = await startUpstream(mix.jwks);
      results.push(await runTarget(target, mix, upstream, work));
    }
  } finally {
    await cleanup();
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(OUT_DIR, { recursive: true });
  for (const r of results) writeFileSync(join(OUT_DIR, `${r.target}.json`), `${JSON.stringify(r, null, 2)}\n`);
  console.log(`\n${report(results)}\n`);
  log(`(full results: ${OUT_DIR.replace(repoRoot, "")}/{${results.map((r) => r.target).join(",")}}.json)`);
  const failed = results.filter((r) => !r.pass);
  if (failed.length) {
    log(`load: FAIL (${failed.map((r) => r.target).join(", ")})`);
    process.exit(1);
  }
}

main().catch(async (error) => {
  log(`load failed: ${error?.stack ?? error}`);
  await cleanup();
  process.exit(1);
});
