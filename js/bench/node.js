// Node: edge-authz on each backend — the native addon (aws-lc-rs) and the wasm (node:crypto) —
// against aws-jwt-verify and jose (verification only), and against the physical limit, `openssl
// speed rsa2048` verify, all in one run with the same RS256 key and the same tokens. Rates are
// per CPU-second of this process (process.cpuUsage), as openssl's are per CPU-second: other load
// on the machine slows no side of a ratio. Prints a Markdown table. Budgets (issue 16):
// - native, first-seen token, verify + full decision: ≥ 0.75× openssl verify/s, and faster
//   than aws-jwt-verify verifySync (verify only);
// - native, repeated token through createAuthorizer: ≥ 2M/s; wasm: ≥ 500k/s;
// - wasm: the work beside the signature check (signature accepted) ≤ 10 µs per first-seen token.
// Usage: node js/bench/node.js   (BENCH_FIRST_SEEN, BENCH_REPEATED to change the counts;
// BENCH_QUICK, BENCH_OUT, BENCH_DEFER_BUDGETS: see results.js). Results: target/bench/node-bench.json.
import { execFileSync } from "node:child_process";
import { createPublicKey, randomBytes, verify as cryptoVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { jwtVerify } from "jose";
import { EdgeAuthorizer } from "../src/authorizer.js";
import { createAuthorizer } from "../src/node.js";
import { selectBackend } from "../src/backend.js";
import { Authorizer as WasmAuthorizer, Request as WasmRequest } from "../dist/edge_authz.js";
import { jwksDocument, suiteKeys, tokenOf } from "../test/support/suite.js";
import { benchConfig, ISSUER, POLICIES, POOL } from "./fixture.js";
import { budgetExit, count, QUICK, writeResults } from "./results.js";

const FIRST_SEEN = count("BENCH_FIRST_SEEN", 6000, 600);
const REPEATED = count("BENCH_REPEATED", 400000, 40000);
const BUDGET = {
  nativeVsOpenssl: 0.75,
  nativeVsAwsJwtVerify: 1.0,
  nativeRepeatedPerS: 2_000_000,
  wasmRepeatedPerS: 500_000,
  wasmBesideSignatureUs: 10,
};
const JWKS_URI = `${ISSUER}/.well-known/jwks.json`;
const now = () => Math.floor(Date.now() / 1000);
/** The installed version of a devDependency (the labels name what actually ran). */
const versionOf = (name) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), "utf8")).version;
const AWS_JWT_VERIFY = versionOf("aws-jwt-verify");
const JOSE = versionOf("jose");

/** `openssl speed -seconds N rsa2048`'s verify/s (per CPU-second of its own), or null. */
function opensslVerifyPerS(seconds) {
  let text;
  try {
    text = execFileSync("openssl", ["speed", "-seconds", String(seconds), "rsa2048"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return null;
  }
  // "                  sign    verify    sign/s verify/s"
  // "rsa 2048 bits 0.000714s 0.000023s   1401.2  44334.1"
  const header = text.split("\n").find((line) => line.includes("verify/s"));
  const data = text.split("\n").find((line) => line.trimStart().startsWith("rsa 2048 bits"));
  if (!header || !data) return null;
  const column = header.trim().split(/\s+/).indexOf("verify/s");
  const value = Number(data.trim().split(/\s+/).slice(3)[column]);
  return Number.isFinite(value) && value > 0 ? value : null;
}
const OPENSSL_SECONDS = QUICK ? 1 : 3;
const openssl = opensslVerifyPerS(OPENSSL_SECONDS);
const opensslVersion = (() => {
  try {
    return execFileSync("openssl", ["version"], { encoding: "utf8" }).trim().split(" ").slice(0, 2).join(" ");
  } catch {
    return "openssl";
  }
})();

const keys = suiteKeys();
const jwks = JSON.parse(jwksDocument(keys, ["suite-rsa-1"]));
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
        scope: "openid",
        iat: now() - 10,
        exp: now() + 3600,
        jti: `j${i}`,
      },
    },
    keys,
  );

let nativeMissing = null;
try {
  selectBackend("native");
} catch (error) {
  nativeMissing = error.message;
}
const BACKENDS = nativeMissing ? ["wasm"] : ["native", "wasm"];
/** The Node API on `backend`; `clock` for the memo-bypassing rows. */
const authorizerOn = (backend, clock = now) =>
  createAuthorizer(
    { issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["bench-client"] }], policies: POLICIES },
    {
      backend,
      jwks: { [JWKS_URI]: jwks },
      fetch: () => Promise.reject(new Error("offline bench")),
      log: false,
      now: clock,
    },
  );
const authorizers = Object.fromEntries(BACKENDS.map((backend) => [backend, authorizerOn(backend)]));
for (const [backend, authorizer] of Object.entries(authorizers))
  if (authorizer.backend !== backend) throw new Error(`asked for ${backend}, got ${authorizer.backend}`);
const request = (t) => ({
  method: "GET",
  path: "/petstore/v1/pets",
  headers: { authorization: `Bearer ${t}`, host: "api.example", "user-agent": "bench/1.0", accept: "application/json" },
  sourceIp: "192.0.2.10",
});
const awsVerifier = CognitoJwtVerifier.create({ userPoolId: POOL, tokenUse: "access", clientId: "bench-client" });
awsVerifier.cacheJwks(jwks);
const joseKey = createPublicKey({ key: jwks.keys[0], format: "jwk" });

/** Runs `fn` over `items`: operations per CPU-second of this process (user + system). */
async function rate(items, fn) {
  const start = process.cpuUsage();
  for (const item of items) await fn(item);
  const { user, system } = process.cpuUsage(start);
  return items.length / ((user + system) / 1e6);
}
/** The same for a synchronous `fn` called `n` times. */
function rateSync(n, fn) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const { user, system } = process.cpuUsage(start);
  return n / ((user + system) / 1e6);
}

const allowWith = (authorizer) => async (r) => {
  const decision = await authorizer.authorize(r);
  if (decision.outcome !== "allow") throw new Error(`bench request denied: ${decision.reason}`);
};
const allow = Object.fromEntries(BACKENDS.map((backend) => [backend, allowWith(authorizers[backend])]));
// The work beside the signature check on the wasm: the same glue and wasm core with every
// signature accepted at once (no crypto at all).
const noCrypto = new EdgeAuthorizer(
  { Authorizer: WasmAuthorizer, Request: WasmRequest },
  {
    config: benchConfig(JWKS_URI),
    hashKey: randomBytes(8),
    io: {
      fetchJwks: async () => new TextEncoder().encode(JSON.stringify(jwks)),
      verifySignature: () => true,
      verifySignatureSync: () => true,
    },
  },
);
const glueRequest = (r) => ({
  method: r.method,
  path: r.path,
  headers: Object.entries(r.headers),
  sourceIp: r.sourceIp,
});
const noCryptoAllow = async (r) => {
  const decision = await noCrypto.authorize(r, now());
  if (decision.outcome !== "allow") throw new Error(`bench request denied: ${decision.reason}`);
};
const awsSync = (t) => awsVerifier.verifySync(t);
const joseVerify = (t) => jwtVerify(t, joseKey, { issuer: ISSUER, algorithms: ["RS256"] });
// The floor under every verifier built on node:crypto: one RS256 check, nothing else.
const cryptoOnly = (t) => {
  const dot = t.lastIndexOf(".");
  if (!cryptoVerify("RSA-SHA256", Buffer.from(t.slice(0, dot)), joseKey, Buffer.from(t.slice(dot + 1), "base64url")))
    throw new Error("bad signature");
};

// Warm-up of every path (JIT, key parsing, JWKS preload).
const warm = Array.from({ length: 500 }, (_, i) => token(`warm-${i}`));
for (const backend of BACKENDS) await rate(warm.map(request), allow[backend]);
await rate(warm, awsSync);
await rate(warm, joseVerify);
await rate(warm, cryptoOnly);
await rate(warm.map(request).map(glueRequest), noCryptoAllow);

// First-seen tokens: each contender gets its own tokens (a token is first-seen once per
// authorizer), in interleaved halves so that a load spike hits every contender alike.
const firstSeen = { aws: [], jose: [], floor: [], glue: [], ...Object.fromEntries(BACKENDS.map((b) => [b, []])) };
// The native addon's own calls for a first-seen token (set + authorize + context), no
// JavaScript glue: what Node adds on top of the core is the `native` row minus this one.
let addonAlone = null;
if (!nativeMissing) {
  const addon = selectBackend("native");
  const core = new addon.Authorizer(benchConfig(JWKS_URI), randomBytes(8));
  core.jwksFetched(0, new TextEncoder().encode(JSON.stringify(jwks)), now());
  const addonRequest = new addon.Request();
  addonAlone = (pairs) => {
    addonRequest.set("GET", "/petstore/v1/pets", pairs, 4, 0, "192.0.2.10", undefined);
    if (core.authorize(addonRequest, now()) % 8 !== 0) throw new Error("addon bench: not decided at once");
    core.context();
  };
  firstSeen.addon = [];
}
const pairsOf = (t) => new TextEncoder().encode(Object.entries(request(t).headers).flat().join("\0"));
const tokensFor = (label) => Array.from({ length: FIRST_SEEN }, (_, i) => token(`${label}-${i}`));
const runs = [
  ...BACKENDS.map((backend) => [backend, tokensFor(backend).map(request), allow[backend]]),
  ["aws", tokensFor("aws"), awsSync],
  ["jose", tokensFor("jose"), joseVerify],
  ["floor", tokensFor("floor"), cryptoOnly],
  ["glue", tokensFor("glue").map(request).map(glueRequest), noCryptoAllow],
  ...(addonAlone ? [["addon", tokensFor("addon").map(pairsOf), addonAlone]] : []),
];
const half = Math.floor(FIRST_SEEN / 2);
for (const [from, to] of [
  [0, half],
  [half, FIRST_SEEN],
])
  for (const [name, items, fn] of runs) firstSeen[name].push(await rate(items.slice(from, to), fn));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const perS = Object.fromEntries(Object.entries(firstSeen).map(([name, rates]) => [name, mean(rates)]));

// A repeated token through createAuthorizer (the Node API's per-second memo answers it).
const repeated = {};
for (const backend of BACKENDS) {
  const same = request(token(`repeated-${backend}`));
  await allow[backend](same);
  await rate(
    Array.from({ length: 20000 }, () => same),
    allow[backend],
  );
  repeated[backend] = await rate(
    Array.from({ length: REPEATED }, () => same),
    allow[backend],
  );
}
// The core's own cache, without the memo: the clock alternates between two seconds, so that
// every call misses the memo and goes through the core.
const coreRepeated = {};
const CORE_REPEATED = Math.min(REPEATED, 100000);
for (const backend of BACKENDS) {
  let tick = 0;
  const coreOnly = allowWith(authorizerOn(backend, () => now() + (tick++ & 1)));
  const same = request(token(`core-${backend}`));
  await coreOnly(same);
  await rate(
    Array.from({ length: 20000 }, () => same),
    coreOnly,
  );
  coreRepeated[backend] = await rate(
    Array.from({ length: CORE_REPEATED }, () => same),
    coreOnly,
  );
}
const AWS_REPEATED = Math.min(REPEATED, 20000);
const sameToken = token("repeated-aws");
const awsRepeated = await rate(
  Array.from({ length: AWS_REPEATED }, () => sameToken),
  awsSync,
);

// The wasm boundary: the repeated token's step as the glue reads it (one packed number, the
// verdict and the context decoded once per id and kept), against the same step with its
// answer decoded on every call (what an object answer without the packed code costs).
const boundary = new WasmAuthorizer(benchConfig(JWKS_URI), randomBytes(8), () => true);
boundary.jwksFetched(0, new TextEncoder().encode(JSON.stringify(jwks)), now());
const boundaryRequest = new WasmRequest();
const boundaryPairs = new TextEncoder().encode(`authorization\0Bearer ${token("boundary")}`);
const setBoundary = () => boundaryRequest.set("GET", "/petstore/v1/pets", boundaryPairs, 1, 0, "192.0.2.10", true);
setBoundary();
if (boundary.authorize(boundaryRequest, now()) % 8 !== 0) throw new Error("boundary bench: not decided at once");
const BOUNDARY = Math.min(REPEATED, 100000);
const boundaryRate = (decode) => {
  const at = now();
  return rateSync(BOUNDARY, () => {
    setBoundary();
    boundary.authorize(boundaryRequest, at);
    if (decode) {
      JSON.parse(boundary.verdict());
      JSON.parse(boundary.context());
    }
  });
};
boundaryRate(false);
boundaryRate(true);
const packedPerS = Math.max(boundaryRate(false), boundaryRate(false));
const decodedPerS = Math.max(boundaryRate(true), boundaryRate(true));

// Budgets.
const nativeVsOpenssl = perS.native && openssl ? perS.native / openssl : null;
const nativeVsAws = perS.native ? perS.native / perS.aws : null;
const wasmBesideUs = 1e6 / perS.glue;
const missed = [];
if (nativeMissing) missed.push("native_backend_unavailable");
if (nativeVsOpenssl === null && !nativeMissing) missed.push("openssl_speed_unreadable");
if (nativeVsOpenssl !== null && nativeVsOpenssl < BUDGET.nativeVsOpenssl) missed.push("native_first_seen_vs_openssl");
if (nativeVsAws !== null && !(nativeVsAws > BUDGET.nativeVsAwsJwtVerify))
  missed.push("native_first_seen_vs_aws_jwt_verify");
if (repeated.native !== undefined && repeated.native < BUDGET.nativeRepeatedPerS) missed.push("native_repeated");
if (repeated.wasm < BUDGET.wasmRepeatedPerS) missed.push("wasm_repeated");
if (wasmBesideUs > BUDGET.wasmBesideSignatureUs) missed.push("wasm_beside_signature");

const fmt = (n) => `${Math.round(n).toLocaleString("en-US")}/s`;
const verdict = (ok) => (ok ? "ok" : "MISSED");
const rows = [];
if (openssl) rows.push([`${opensslVersion} speed rsa2048, verify (the physical limit)`, fmt(openssl), "1.00× openssl"]);
if (perS.native)
  rows.push([
    "edge-authz native: first-seen token, verify + full decision",
    fmt(perS.native),
    `${nativeVsOpenssl?.toFixed(2) ?? "?"}× openssl (budget ≥ ${BUDGET.nativeVsOpenssl}×) ${verdict(nativeVsOpenssl >= BUDGET.nativeVsOpenssl)}; ${nativeVsAws.toFixed(2)}× aws-jwt-verify (budget > 1×) ${verdict(nativeVsAws > 1)}`,
  ]);
else rows.push(["edge-authz native", "—", `not measured: ${nativeMissing}`]);
if (perS.addon)
  rows.push([
    "edge-authz native: first-seen token, the addon's own calls alone (set + authorize + context)",
    fmt(perS.addon),
    `${(1e6 / perS.addon).toFixed(1)} µs per token; the Node API adds ${(1e6 / perS.native - 1e6 / perS.addon).toFixed(1)} µs`,
  ]);
rows.push(
  [
    "edge-authz wasm: first-seen token, verify + full decision",
    fmt(perS.wasm),
    `${(perS.wasm / perS.aws).toFixed(2)}× aws-jwt-verify`,
  ],
  [`aws-jwt-verify ${AWS_JWT_VERIFY} verifySync (verify only)`, fmt(perS.aws), "1.00×"],
  [`jose ${JOSE} jwtVerify, KeyObject (verify only)`, fmt(perS.jose), `${(perS.jose / perS.aws).toFixed(2)}×`],
  [
    "node:crypto verify alone (the floor of any node:crypto verifier)",
    fmt(perS.floor),
    `${(perS.floor / perS.aws).toFixed(2)}× aws-jwt-verify`,
  ],
  [
    "edge-authz wasm: first-seen token, core + glue alone (signature accepted, no crypto)",
    fmt(perS.glue),
    `${wasmBesideUs.toFixed(1)} µs per token (budget ≤ ${BUDGET.wasmBesideSignatureUs} µs) ${verdict(wasmBesideUs <= BUDGET.wasmBesideSignatureUs)}`,
  ],
);
for (const backend of BACKENDS) {
  const budget = backend === "native" ? BUDGET.nativeRepeatedPerS : BUDGET.wasmRepeatedPerS;
  rows.push(
    [
      `edge-authz ${backend}: repeated token, full decision`,
      fmt(repeated[backend]),
      `budget ≥ ${fmt(budget)} ${verdict(repeated[backend] >= budget)}`,
    ],
    [`edge-authz ${backend}: repeated token, core cache only (memo bypassed)`, fmt(coreRepeated[backend]), ""],
  );
}
rows.push(
  ["aws-jwt-verify verifySync, repeated token", fmt(awsRepeated), "(no cache: verifies again)"],
  [
    "wasm boundary: repeated token, packed answer (verdict and context interned)",
    fmt(packedPerS),
    `${(1e9 / packedPerS).toFixed(0)} ns per step`,
  ],
  [
    "wasm boundary: the same, answer decoded per call (no packed code)",
    fmt(decodedPerS),
    `${(1e9 / decodedPerS - 1e9 / packedPerS).toFixed(0)} ns more per step: why the packed answer stays`,
  ],
);
console.log(
  `Node ${process.version}, RS256 (2048-bit), ${FIRST_SEEN} first-seen tokens per contender, ${REPEATED} repeated decisions, one thread, per CPU-second\n`,
);
console.log("| case | throughput | ratio / budget |\n| --- | ---: | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
if (missed.length) console.log(`\nmissed: ${missed.join(", ")}`);
const path = writeResults("node-bench", {
  command: "node js/bench/node.js",
  what: "edge-authz Node API on the native and wasm backends vs aws-jwt-verify, jose and openssl speed, RS256 2048-bit, one thread, per CPU-second",
  versions: { "aws-jwt-verify": AWS_JWT_VERIFY, jose: JOSE, openssl: opensslVersion },
  backends: BACKENDS,
  native_unavailable: nativeMissing,
  budgets: BUDGET,
  openssl_rsa2048_verify_per_s: openssl,
  openssl_seconds: OPENSSL_SECONDS,
  first_seen: {
    count: FIRST_SEEN,
    native_per_s: perS.native ?? null,
    wasm_per_s: perS.wasm,
    aws_jwt_verify_sync_per_s: perS.aws,
    jose_per_s: perS.jose,
    node_crypto_verify_only_per_s: perS.floor,
    wasm_no_crypto_per_s: perS.glue,
    native_addon_alone_per_s: perS.addon ?? null,
    native_vs_openssl: nativeVsOpenssl,
    native_vs_aws_jwt_verify: nativeVsAws,
    wasm_vs_aws_jwt_verify: perS.wasm / perS.aws,
    wasm_beside_signature_us: wasmBesideUs,
  },
  repeated: { count: REPEATED, per_s: repeated },
  repeated_core_cache_only: { count: CORE_REPEATED, per_s: coreRepeated },
  aws_jwt_verify_sync_repeated: { count: AWS_REPEATED, per_s: awsRepeated },
  wasm_boundary_repeated: { count: BOUNDARY, packed_per_s: packedPerS, decoded_each_per_s: decodedPerS },
  missed,
});
console.log(`\nresults: ${path}`);
budgetExit(missed);
