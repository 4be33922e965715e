// The fault matrix shared by the Worker (test/faults.test.js) and the Node middleware
// (test/npm/faults.test.js): one configuration with short timings, the tokens, and the
// scenarios, each run against an adapter "rig":
//
//   rig.jwks                      the issuer's JWKS origin (support/fault-server.js)
//   rig.request(token, clock)     one request through the adapter at `clock` (whole seconds,
//                                 injected) → { status, reason }
//
// Every scenario asserts the outcome during the fault (never an allow), then clears the
// fault and asserts that the same request is allowed again by the same adapter instance,
// at the earliest second the configuration allows (the recovery bound), and not before.
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { faults } from "./fault-server.js";
import { jwksDocument, suiteKeys, tokenOf } from "./suite.js";

export const keys = suiteKeys();
/** The injected clock's origin (2026-01-01T00:00:00Z). */
export const T = 1767225600;
export const POOL = "us-east-1_SuitePool1";
export const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
export const GROUP = "pet-veterinarian";
/** `graceSeconds`: clock skew allowed on exp/nbf/iat. */
export const GRACE = 30;
/** `jwksCache.penaltySeconds`: a failed or unknown-kid fetch is not repeated for this long. */
export const PENALTY = 2;
/** `policies.ttlSeconds`: a loaded policy (valid or not) is kept this long. */
export const POLICY_TTL = 1;
/** The core's fixed retry delay after a failed policy load (`RETRY_AFTER_FAILURE`, src/policies.rs). */
export const POLICY_RETRY = 5;
/** The adapters' JWKS / policy fetch timeout in these tests, and how slow "slow" is. */
export const TIMEOUT_MS = 300;
export const SLOW_MS = 2000;
/** A decision under a fault must come within this (the timeout plus a loaded machine's slack). */
export const DECIDED_WITHIN_MS = 3000;

export const POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PetStore-API",
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: "arn:aws:execute-api:*:*:*/*/*/petstore/v1/*",
    },
  ],
};
/** Parses, but fails validation (an `Effect` IAM does not have). */
export const INVALID_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Maybe", Action: "execute-api:Invoke", Resource: "*" }],
};
export const NOT_JSON = "{ this is not json";

export const initialJwks = () => jwksDocument(keys, ["suite-rsa-1"]);

/** The configuration every rig runs: policies from the adapter's store, short timings. */
export function faultConfig(jwksUri) {
  return {
    issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["suite-client"], jwksUri }],
    api: { region: "us-east-1", accountId: "123456789012", apiId: "petstore1", stage: "prod" },
    graceSeconds: GRACE,
    jwksCache: { ttlSeconds: 600, penaltySeconds: PENALTY },
    policies: { ttlSeconds: POLICY_TTL, maxStaleSeconds: 0 },
  };
}

/** An access token of `sub` in `groups`; `claims` override (e.g. exp, nbf, iat). */
export function token({ kid = "suite-rsa-1", sub = "fault-user", groups = [GROUP], ...claims } = {}) {
  return tokenOf(
    {
      key: kid,
      claims: {
        iss: ISSUER,
        sub,
        "cognito:groups": groups,
        token_use: "access",
        client_id: "suite-client",
        username: sub,
        iat: T - 60,
        exp: T + 3600,
        ...claims,
      },
    },
    keys,
  );
}

/** The rows of one adapter's matrix, printed as a Markdown table at the end. */
export class Matrix {
  /** @param {string} adapter */
  constructor(adapter) {
    this.adapter = adapter;
    /** @type {Array<[string, string, string]>} */
    this.rows = [];
  }
  add(fault, outcome, recovery) {
    this.rows.push([fault, outcome, recovery]);
  }
  toString() {
    const lines = [
      `fault matrix: ${this.adapter}`,
      "| fault | outcome during the fault | recovery, same instance (no restart) |",
      "| --- | --- | --- |",
    ];
    for (const row of this.rows) lines.push(`| ${row.join(" | ")} |`);
    return lines.join("\n");
  }
}

const shown = ({ status, reason }) => `${status} ${reason}`;

/** @param {{status: number, reason: string}} got */
function expectOutcome(got, status, reason, what) {
  assert.deepEqual({ status: got.status, reason: got.reason }, { status, reason }, what);
}

/** Times one request. */
async function timed(rig, tok, clock) {
  const started = performance.now();
  const got = await rig.request(tok, clock);
  return { ...got, ms: Math.round(performance.now() - started) };
}

/**
 * JWKS down / slow / 500 / garbage on a cold adapter: 503 `jwks_unavailable`; after the
 * fault clears, still 503 without a fetch inside the penalty, then allowed.
 */
export async function jwksFault(rig, fault) {
  const tok = token({ sub: "jwks-fault" });
  await rig.jwks.set(fault);
  const during = await timed(rig, tok, T);
  expectOutcome(during, 503, "jwks_unavailable", "during the fault");
  assert.ok(during.ms < DECIDED_WITHIN_MS, `decided in ${during.ms} ms`);
  await rig.jwks.set(faults.up());
  const hits = rig.jwks.hits;
  expectOutcome(await rig.request(tok, T + PENALTY - 1), 503, "jwks_unavailable", "inside the refetch penalty");
  assert.equal(rig.jwks.hits, hits, "no fetch inside the penalty");
  expectOutcome(await rig.request(tok, T + PENALTY), 200, "allowed", "after the penalty");
  return {
    outcome: `${shown(during)} (${during.ms} ms)`,
    recovery: `200 at t+${PENALTY}s (refetch penalty; 503 without a fetch before)`,
  };
}

/**
 * The issuer rotates its keys mid-traffic: a token of a key not yet published is refused
 * (one refetch, then the penalty); the key is published and the old one retired; a burst
 * of old- and new-key requests then sees exactly one refetch and no wrong answer.
 */
export async function jwksRotation(rig, { burst = 8 } = {}) {
  rig.jwks.state.body = jwksDocument(keys, ["suite-rsa-1"]);
  const before = token({ sub: "before-rotation" });
  expectOutcome(await rig.request(before, T), 200, "allowed", "steady traffic on the old key");
  const fetches = rig.jwks.hits;
  const early = token({ kid: "suite-rsa-2", sub: "new-key" });
  const refused = await rig.request(early, T + PENALTY);
  expectOutcome(refused, 403, "unknown_kid", "a key the issuer has not published yet");
  assert.equal(rig.jwks.hits, fetches + 1, "one refetch for the unknown kid");
  rig.jwks.state.body = jwksDocument(keys, ["suite-rsa-2"]); // rsa-2 in, rsa-1 retired
  expectOutcome(await rig.request(early, T + 2 * PENALTY - 1), 403, "unknown_kid", "inside the penalty");
  assert.equal(rig.jwks.hits, fetches + 1, "no refetch inside the penalty");
  const at = T + 2 * PENALTY;
  const olds = Array.from({ length: burst }, (_, i) => token({ sub: `old-${i}` }));
  const news = Array.from({ length: burst }, (_, i) => token({ kid: "suite-rsa-2", sub: `new-${i}` }));
  const results = await Promise.all([...olds, ...news].map((tok) => rig.request(tok, at)));
  const oldResults = results.slice(0, burst).map(shown);
  const newResults = results.slice(burst).map(shown);
  assert.deepEqual(new Set(newResults), new Set(["200 allowed"]), "every new-key request is allowed");
  // An old-key request decided before the refetch lands is allowed by the keys it was
  // decided with; after it, the retired key is unknown. Nothing else.
  for (const r of oldResults) assert.ok(r === "200 allowed" || r === "403 unknown_kid", r);
  assert.equal(rig.jwks.hits, fetches + 2, `one refetch for ${2 * burst} concurrent requests`);
  const retired = await rig.request(token({ sub: "after-rotation" }), at);
  expectOutcome(retired, 403, "unknown_kid", "a fresh token of the retired key");
  const replayed = await rig.request(before, at);
  expectOutcome(replayed, 403, "unknown_kid", "a token verified before its key was retired");
  expectOutcome(await rig.request(early, at), 200, "allowed", "the new key");
  return {
    outcome: `${shown(refused)} before the key is published (1 refetch)`,
    recovery:
      `200 at t+${PENALTY}s after publishing; burst of ${2 * burst}: new key all 200, old key ${count(oldResults)}, 1 refetch; ` +
      `retired key: fresh token ${shown(retired)}, token seen before ${shown(replayed)}`,
  };
}

/**
 * Key retirement (revocation): after the issuer drops a key and the adapter has refetched,
 * a token verified with that key before should be refused like a fresh one.
 * @returns {Promise<{status: number, reason: string}>} the outcome for the token seen before
 */
export async function retiredKeyReplay(rig) {
  rig.jwks.state.body = jwksDocument(keys, ["suite-rsa-1"]);
  const seen = token({ sub: "seen-before-retirement" });
  expectOutcome(await rig.request(seen, T), 200, "allowed", "before the retirement");
  rig.jwks.state.body = jwksDocument(keys, ["suite-rsa-2"]);
  expectOutcome(
    await rig.request(token({ kid: "suite-rsa-2", sub: "new-key" }), T + PENALTY),
    200,
    "allowed",
    "the new key, after a refetch",
  );
  expectOutcome(
    await rig.request(token({ sub: "fresh-old-key" }), T + PENALTY),
    403,
    "unknown_kid",
    "a fresh token of the retired key",
  );
  return rig.request(seen, T + PENALTY);
}

function count(results) {
  const tally = new Map();
  for (const r of results) tally.set(r, (tally.get(r) ?? 0) + 1);
  return [...tally].map(([r, n]) => `${n}× ${r}`).join(", ");
}

/**
 * A policy-store fault on a cold adapter. `inject`/`clear` switch the store; `expect` is
 * the outcome during the fault. Recovery: a failed load is retried `POLICY_RETRY` seconds
 * later; an invalid policy is kept (denying) for `POLICY_TTL`.
 * @param {{ inject: () => Promise<void> | void, clear: () => Promise<void> | void, status: number, reason: string, hits?: () => number }} spec
 */
export async function policyFault(rig, { inject, clear, status, reason, hits }) {
  const tok = token({ sub: "policy-fault" });
  await inject();
  const during = await timed(rig, tok, T);
  expectOutcome(during, status, reason, "during the fault");
  assert.ok(during.ms < DECIDED_WITHIN_MS, `decided in ${during.ms} ms`);
  await clear();
  const wait = reason === "invalid_policy" ? POLICY_TTL : POLICY_RETRY;
  const before = hits?.();
  expectOutcome(await rig.request(tok, T + wait - 1), status, reason, "before the store is asked again");
  if (hits) assert.equal(hits(), before, "the store is not asked again before the retry");
  expectOutcome(await rig.request(tok, T + wait), 200, "allowed", "once the store is asked again");
  const why = reason === "invalid_policy" ? "policy TTL" : "the core's retry after a failed load";
  return { outcome: `${shown(during)} (${during.ms} ms)`, recovery: `200 at t+${wait}s (${why}; ${status} before)` };
}

/**
 * A store slower than the adapter's policy timeout: the decision must come within `boundMs`
 * as a 503. Observed: what the request answers, and when.
 * @returns {Promise<{ status: number, reason: string, ms: number, bounded: boolean }>}
 */
export async function unboundedStore(rig, boundMs) {
  const tok = token({ sub: "slow-store" });
  const pending = timed(rig, tok, T);
  const first = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve(null), boundMs))]);
  const got = first ?? (await pending);
  return { ...got, bounded: first !== null };
}

/**
 * Clock skew at the `graceSeconds` boundary, with the injected clock: the core rejects at
 * `now >= exp + grace`, `nbf > now + grace`, `iat > now + grace`.
 * @returns {Promise<Array<[string, string, string]>>} matrix rows
 */
export async function clockSkew(rig) {
  const rows = [];
  const at = T + 1000; // a second not used by the other scenarios of this rig
  // exp: the last accepted second, then the same token one second later.
  const lastSecond = token({ sub: "exp-inside", exp: at - GRACE + 1 });
  expectOutcome(await rig.request(lastSecond, at), 200, "allowed", "exp + grace = now + 1");
  expectOutcome(await rig.request(lastSecond, at + 1), 403, "expired", "the same token, exp + grace = now");
  expectOutcome(await rig.request(token({ sub: "exp-at", exp: at - GRACE }), at), 403, "expired", "exp + grace = now");
  rows.push([
    `exp at the grace boundary (${GRACE} s)`,
    "exp+grace = now: 403 expired; exp+grace = now+1: 200",
    "n/a: the same token flips to 403 expired the next second (caches do not extend it)",
  ]);
  for (const [claim, reason] of [
    ["nbf", "not_yet_valid"],
    ["iat", "issued_in_future"],
  ]) {
    expectOutcome(
      await rig.request(token({ sub: `${claim}-at`, [claim]: at + GRACE }), at),
      200,
      "allowed",
      `${claim} = now + grace`,
    );
    const ahead = token({ sub: `${claim}-past`, [claim]: at + GRACE + 1 });
    expectOutcome(await rig.request(ahead, at), 403, reason, `${claim} = now + grace + 1`);
    expectOutcome(await rig.request(ahead, at + 1), 200, "allowed", "the same token once the clocks agree");
    rows.push([
      `${claim} at the grace boundary`,
      `${claim} = now+grace: 200; now+grace+1: 403 ${reason}`,
      "the same token: 200 one second later",
    ]);
  }
  return rows;
}
