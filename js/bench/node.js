// Node: edge-authz (wasm core + node:crypto, full decision) against aws-jwt-verify and jose
// (verification only), in one run, with the same RS256 key and the same tokens. Prints a
// Markdown table. Budgets: a first-seen token's verify + full decision at ≥ 1.5× the
// throughput of aws-jwt-verify `verifySync`; a repeated token ≥ 500k decisions/s; the wasm
// core + glue's own work on a first-seen token (signature accepted at once) ≤ 10 µs (issue 16).
// Usage: node js/bench/node.js   (BENCH_FIRST_SEEN, BENCH_REPEATED to change the counts;
// BENCH_QUICK, BENCH_OUT, BENCH_DEFER_BUDGETS: see results.js). Results: target/bench/node-bench.json.
import { createPublicKey, randomBytes, verify as cryptoVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { jwtVerify } from "jose";
import { EdgeAuthorizer } from "../src/authorizer.js";
import { createAuthorizer } from "../src/node.js";
import { Authorizer as WasmAuthorizer, Request as WasmRequest } from "../dist/edge_authz.js";
import { jwksDocument, suiteKeys, tokenOf } from "../test/support/suite.js";
import { benchConfig, ISSUER, POLICIES, POOL } from "./fixture.js";
import { budgetExit, count, writeResults } from "./results.js";

const FIRST_SEEN = count("BENCH_FIRST_SEEN", 5000, 500);
const REPEATED = count("BENCH_REPEATED", 200000, 20000);
const BUDGET_FIRST_SEEN_RATIO = 1.5;
const BUDGET_REPEATED_PER_S = 500_000;
const BUDGET_GLUE_US = 10;
const JWKS_URI = `${ISSUER}/.well-known/jwks.json`;
const now = () => Math.floor(Date.now() / 1000);
/** The installed version of a devDependency (the labels name what actually ran). */
const versionOf = (name) =>
  JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), "utf8")).version;
const AWS_JWT_VERIFY = versionOf("aws-jwt-verify");
const JOSE = versionOf("jose");

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

const authorizer = createAuthorizer(
  { issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["bench-client"] }], policies: POLICIES },
  { jwks: { [JWKS_URI]: jwks }, fetch: () => Promise.reject(new Error("offline bench")), log: false },
);
const request = (t) => ({
  method: "GET",
  path: "/petstore/v1/pets",
  headers: { authorization: `Bearer ${t}`, host: "api.example", "user-agent": "bench/1.0", accept: "application/json" },
  sourceIp: "192.0.2.10",
});
const awsVerifier = CognitoJwtVerifier.create({ userPoolId: POOL, tokenUse: "access", clientId: "bench-client" });
awsVerifier.cacheJwks(jwks);
const joseKey = createPublicKey({ key: jwks.keys[0], format: "jwk" });

/** Runs `fn` over `items` and returns operations per second (wall clock, one thread). */
async function rate(items, fn) {
  const start = process.hrtime.bigint();
  for (const item of items) await fn(item);
  return items.length / (Number(process.hrtime.bigint() - start) / 1e9);
}

const allow = async (r) => {
  const decision = await authorizer.authorize(r);
  if (decision.outcome !== "allow") throw new Error(`bench request denied: ${decision.reason}`);
};
// The other half of the first-seen cost: the same glue and wasm core with every signature
// accepted at once (no crypto at all). With the floor below it bounds what the wasm and
// the glue leave for a 1.5× ratio. (The wasm is initialised by the Node API above.)
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
// The floor under every verifier built on node:crypto: one RS256 check, nothing else (no
// base64 of the payload, no JSON, no claims). aws-jwt-verify's rate over this one bounds the
// ratio any node:crypto-based verify + decision can reach against it.
const cryptoOnly = (t) => {
  const dot = t.lastIndexOf(".");
  if (!cryptoVerify("RSA-SHA256", Buffer.from(t.slice(0, dot)), joseKey, Buffer.from(t.slice(dot + 1), "base64url")))
    throw new Error("bad signature");
};

// Warm-up of every path (JIT, key parsing, JWKS preload).
const warm = Array.from({ length: 500 }, (_, i) => token(`warm-${i}`));
await rate(warm.map(request), allow);
await rate(warm, awsSync);
await rate(warm, joseVerify);
await rate(warm, cryptoOnly);
await rate(warm.map(request).map(glueRequest), noCryptoAllow);

const tokens = Array.from({ length: FIRST_SEEN }, (_, i) => token(i));
const requests = tokens.map(request);
// Interleaved halves so a background load spike hits every contender alike.
const half = Math.floor(FIRST_SEEN / 2);
const ours = [await rate(requests.slice(0, half), allow)];
const aws = [await rate(tokens.slice(0, half), awsSync)];
const jose = [await rate(tokens.slice(0, half), joseVerify)];
const floor = [await rate(tokens.slice(0, half), cryptoOnly)];
const glueRequests = requests.map(glueRequest);
const glueOnly = [await rate(glueRequests.slice(0, half), noCryptoAllow)];
ours.push(await rate(requests.slice(half), allow));
aws.push(await rate(tokens.slice(half), awsSync));
jose.push(await rate(tokens.slice(half), joseVerify));
floor.push(await rate(tokens.slice(half), cryptoOnly));
glueOnly.push(await rate(glueRequests.slice(half), noCryptoAllow));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const same = request(token("repeated"));
await allow(same);
const repeated = await rate(
  Array.from({ length: REPEATED }, () => same),
  allow,
);
// The core's own cache, without the Node API's per-second memo: the clock alternates
// between two seconds, so that every call misses the memo and goes through the wasm.
let tick = 0;
const coreOnly = createAuthorizer(
  { issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["bench-client"] }], policies: POLICIES },
  {
    jwks: { [JWKS_URI]: jwks },
    fetch: () => Promise.reject(new Error("offline bench")),
    log: false,
    now: () => now() + (tick++ & 1),
  },
);
const coreAllow = async (r) => {
  const decision = await coreOnly.authorize(r);
  if (decision.outcome !== "allow") throw new Error(`bench request denied: ${decision.reason}`);
};
await coreAllow(same);
await rate(
  Array.from({ length: 20000 }, () => same),
  coreAllow,
);
const CORE_REPEATED = Math.min(REPEATED, 100000);
const AWS_REPEATED = Math.min(REPEATED, 20000);
const coreRepeated = await rate(
  Array.from({ length: CORE_REPEATED }, () => same),
  coreAllow,
);
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
  const start = process.hrtime.bigint();
  for (let i = 0; i < BOUNDARY; i++) {
    setBoundary();
    boundary.authorize(boundaryRequest, at);
    if (decode) {
      JSON.parse(boundary.verdict());
      JSON.parse(boundary.context());
    }
  }
  return BOUNDARY / (Number(process.hrtime.bigint() - start) / 1e9);
};
boundaryRate(false);
boundaryRate(true);
const packed = [boundaryRate(false), boundaryRate(false)];
const decodedEach = [boundaryRate(true), boundaryRate(true)];
const packedPerS = Math.max(...packed);
const decodedPerS = Math.max(...decodedEach);

const firstSeenRatio = mean(ours) / mean(aws);
const fmt = (n) => `${Math.round(n).toLocaleString("en-US")}/s`;
const rows = [
  [
    "edge-authz: first-seen token, verify + full decision",
    fmt(mean(ours)),
    `${firstSeenRatio.toFixed(2)}× aws-jwt-verify (budget ≥ ${BUDGET_FIRST_SEEN_RATIO}×) ${firstSeenRatio >= BUDGET_FIRST_SEEN_RATIO ? "ok" : "UNDER BUDGET"}`,
  ],
  [`aws-jwt-verify ${AWS_JWT_VERIFY} verifySync (verify only)`, fmt(mean(aws)), "1.00×"],
  [`jose ${JOSE} jwtVerify, KeyObject (verify only)`, fmt(mean(jose)), `${(mean(jose) / mean(aws)).toFixed(2)}×`],
  [
    "node:crypto verify alone (the floor of any node:crypto verifier)",
    fmt(mean(floor)),
    `${(mean(floor) / mean(aws)).toFixed(2)}×: the highest ratio reachable`,
  ],
  [
    "edge-authz: first-seen token, wasm core + glue alone (signature accepted, no crypto)",
    fmt(mean(glueOnly)),
    `${(1e6 / mean(glueOnly)).toFixed(1)} µs per token (budget ≤ ${BUDGET_GLUE_US} µs) ${1e6 / mean(glueOnly) <= BUDGET_GLUE_US ? "ok" : "OVER BUDGET"}; 1.5× leaves ${(1e6 / (BUDGET_FIRST_SEEN_RATIO * mean(aws)) - 1e6 / mean(floor)).toFixed(1)} µs beside the check`,
  ],
  [
    "edge-authz: repeated token, full decision",
    fmt(repeated),
    `budget ≥ ${fmt(BUDGET_REPEATED_PER_S)} ${repeated >= BUDGET_REPEATED_PER_S ? "ok" : "UNDER BUDGET"}`,
  ],
  ["edge-authz: repeated token, core cache only (memo bypassed)", fmt(coreRepeated), "(why the memo stays)"],
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
];
console.log(
  `Node ${process.version}, RS256 (2048-bit), ${FIRST_SEEN} first-seen tokens, ${REPEATED} repeated decisions, one thread\n`,
);
console.log("| case | throughput | vs aws-jwt-verify / budget |\n| --- | ---: | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
const missed = [];
if (firstSeenRatio < BUDGET_FIRST_SEEN_RATIO) missed.push("first_seen_ratio");
if (repeated < BUDGET_REPEATED_PER_S) missed.push("repeated");
if (1e6 / mean(glueOnly) > BUDGET_GLUE_US) missed.push("wasm_glue_first_seen");
const path = writeResults("node-bench", {
  command: "node js/bench/node.js",
  what: "edge-authz Node API (wasm core + node:crypto) vs aws-jwt-verify and jose, RS256 2048-bit, one thread, wall clock",
  versions: { "aws-jwt-verify": AWS_JWT_VERIFY, jose: JOSE },
  first_seen: {
    count: FIRST_SEEN,
    edge_authz_per_s: mean(ours),
    aws_jwt_verify_sync_per_s: mean(aws),
    jose_per_s: mean(jose),
    node_crypto_verify_only_per_s: mean(floor),
    edge_authz_no_crypto_per_s: mean(glueOnly),
    budget_no_crypto_us: BUDGET_GLUE_US,
    ratio_vs_aws_jwt_verify: firstSeenRatio,
    budget_ratio: BUDGET_FIRST_SEEN_RATIO,
  },
  repeated: { count: REPEATED, per_s: repeated, budget_per_s: BUDGET_REPEATED_PER_S },
  repeated_core_cache_only: { count: CORE_REPEATED, per_s: coreRepeated },
  aws_jwt_verify_sync_repeated: { count: AWS_REPEATED, per_s: awsRepeated },
  wasm_boundary_repeated: { count: BOUNDARY, packed_per_s: packedPerS, decoded_each_per_s: decodedPerS },
  missed,
});
console.log(`\nresults: ${path}`);
budgetExit(missed);
