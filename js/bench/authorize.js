// CPU per request of the wasm build + glue + WebCrypto (RS256) under Node: a first-seen
// token (parse, host signature check, claims, policy evaluation) and a cached token (hash
// lookup, cached decision). Budgets: first-seen ≤ 0.3 ms, cached ≤ 0.05 ms of CPU.
// workerd freezes its clocks while a request computes, so CPU cannot be timed inside it;
// this measures the same code under Node's V8 with process.cpuUsage() (all threads,
// WebCrypto's worker threads included); js/bench/workerd.js measures it in workerd itself.
// Usage: node js/bench/authorize.js   (BENCH_FIRST_SEEN, BENCH_CACHED to change the counts;
// BENCH_QUICK, BENCH_OUT, BENCH_DEFER_BUDGETS: see results.js). Results: target/bench/wasm-bench.json.
import { randomBytes } from "node:crypto";
import { EdgeAuthorizer } from "../src/authorizer.js";
import { webCryptoVerifier } from "../src/webcrypto.js";
import { wasm } from "../test/support/wasm-node.js";
import { jwksDocument, suiteKeys, tokenOf } from "../test/support/suite.js";
import { benchConfig, ISSUER, NOW } from "./fixture.js";
import { budgetExit, count, writeResults } from "./results.js";

const BUDGET_FIRST_SEEN_MS = 0.3;
const BUDGET_CACHED_MS = 0.05;
const FIRST_SEEN = count("BENCH_FIRST_SEEN", 3000, 300);
const CACHED = count("BENCH_CACHED", 50000, 5000);

const keys = suiteKeys();
const jwks = new TextEncoder().encode(jwksDocument(keys, ["suite-rsa-1"]));
const config = benchConfig();
const authorizer = new EdgeAuthorizer(wasm, {
  config,
  hashKey: randomBytes(8),
  io: { fetchJwks: async () => jwks, verifySignature: webCryptoVerifier() },
});

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
const request = (t) => ({
  method: "GET",
  path: "/petstore/v1/pets",
  headers: [
    ["authorization", `Bearer ${t}`],
    ["user-agent", "bench/1.0"],
    ["accept", "application/json"],
    ["host", "api.example"],
  ],
  sourceIp: "192.0.2.10",
  secureTransport: true,
});

async function measure(requests) {
  const start = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (const r of requests) {
    const decision = await authorizer.authorize(r, NOW);
    if (decision.outcome !== "allow") throw new Error(`bench request denied: ${decision.reason}`);
  }
  const cpu = process.cpuUsage(start);
  const wallMs = Number(process.hrtime.bigint() - wall) / 1e6;
  return { cpuMs: (cpu.user + cpu.system) / 1000 / requests.length, wallMs: wallMs / requests.length };
}

// Warm-up: JWKS fetched, key imported, code paths compiled.
await measure(Array.from({ length: 500 }, (_, i) => request(token(`warm-${i}`))));
const fresh = Array.from({ length: FIRST_SEEN }, (_, i) => request(token(i)));
const firstSeen = await measure(fresh);
const cachedRequest = request(token("cached"));
await measure([cachedRequest]);
const cached = await measure(Array.from({ length: CACHED }, () => cachedRequest));

const line = (name, r, budget) =>
  `${name.padEnd(18)} ${r.cpuMs.toFixed(4)} ms CPU  ${r.wallMs.toFixed(4)} ms wall  (budget ${budget} ms CPU) ${r.cpuMs <= budget ? "ok" : "OVER BUDGET"}`;
console.log(`edge-authz wasm under Node ${process.version}, RS256 via WebCrypto, per request:`);
console.log(line(`first-seen ×${FIRST_SEEN}`, firstSeen, BUDGET_FIRST_SEEN_MS));
console.log(line(`cached ×${CACHED}`, cached, BUDGET_CACHED_MS));
const missed = [];
if (firstSeen.cpuMs > BUDGET_FIRST_SEEN_MS) missed.push("first_seen");
if (cached.cpuMs > BUDGET_CACHED_MS) missed.push("cached");
const path = writeResults("wasm-bench", {
  command: "node js/bench/authorize.js",
  what: "wasm + glue + WebCrypto (RS256) under Node, process.cpuUsage() per request",
  first_seen: {
    count: FIRST_SEEN,
    cpu_ms: firstSeen.cpuMs,
    wall_ms: firstSeen.wallMs,
    budget_cpu_ms: BUDGET_FIRST_SEEN_MS,
  },
  cached: { count: CACHED, cpu_ms: cached.cpuMs, wall_ms: cached.wallMs, budget_cpu_ms: BUDGET_CACHED_MS },
  missed,
});
console.log(`results: ${path}`);
budgetExit(missed);
