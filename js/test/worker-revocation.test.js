// Revocation in the Worker, in workerd (Miniflare) with a real REVOCATIONS KV namespace: a
// token allowed, a record put in KV, the same token still allowed within the freshness
// window and refused (403 revoked) once it has passed, never served from a cache after it;
// an unreadable record; KV down (deny → 503, stale → served within its window) and slow;
// keys with `#` and non-ASCII characters; no binding → the Worker refuses to start.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jwksDocument, suiteKeys, tokenOf } from "./support/suite.js";
import { startJwksServer, startPetstore } from "./support/servers.js";
import { startMiniflare, startWorker } from "./support/workerd.js";

const keys = suiteKeys();
const NOW = 1767225600;
const FRESHNESS = 30;
const POOL = "us-east-1_SuitePool1";
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const ALLOW_ALL = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: "*" }],
};

let jwks;
let petstore;
before(async () => {
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
  petstore = await startPetstore();
});
after(async () => {
  await jwks.close();
  await petstore.close();
});

const authzConfig = (revocation = { freshnessSeconds: FRESHNESS }) =>
  JSON.stringify({
    issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["suite-client"], jwksUri: jwks.url }],
    policies: { groups: { staff: ALLOW_ALL } },
    ...(revocation ? { revocation } : {}),
  });

function token({ sub = "alice", jti = "jti-1", originJti = "session-1", iat = NOW - 60 } = {}) {
  return tokenOf(
    {
      key: "suite-rsa-1",
      claims: {
        iss: ISSUER,
        sub,
        "cognito:groups": ["staff"],
        token_use: "access",
        client_id: "suite-client",
        username: sub,
        iat,
        exp: NOW + 3600,
        jti,
        origin_jti: originJti,
      },
    },
    keys,
  );
}

async function start(revocation, options) {
  return startWorker(
    { AUTHZ_CONFIG: authzConfig(revocation), UPSTREAM: petstore.url, EXPOSE_REASON: "true", ...options },
    {},
  );
}

/** Status, reason and the REVOCATIONS read batches of one request at `clock`. */
async function call(worker, bearer, clock, init = {}) {
  const response = await worker.fetch("/petstore/v1/pets", {
    headers: { authorization: `Bearer ${bearer}` },
    clock,
    ...init,
  });
  await response.arrayBuffer();
  return {
    status: response.status,
    reason: response.headers.get("edge-authz-reason"),
    reads: Number(response.headers.get("x-test-revocation-reads") ?? 0),
  };
}

describe("the Worker reads REVOCATIONS", () => {
  test("allowed, a cutoff put in KV, refused once the window has passed, never served again", async () => {
    const worker = await start();
    try {
      const bearer = token();
      assert.deepEqual(await call(worker, bearer, NOW), { status: 200, reason: "allowed", reads: 1 });
      assert.deepEqual(await call(worker, bearer, NOW + 1), { status: 200, reason: "allowed", reads: 0 });
      // What `edge-authz revoke --sub alice --format kv` writes.
      await worker.revocations.put(`user#${ISSUER}#alice`, JSON.stringify({ before: NOW, expiresAt: NOW + 86400 }));
      assert.deepEqual(await call(worker, bearer, NOW + 10), { status: 200, reason: "allowed", reads: 0 });
      assert.deepEqual(await call(worker, bearer, NOW + FRESHNESS + 1), { status: 403, reason: "revoked", reads: 1 });
      assert.deepEqual(await call(worker, bearer, NOW + FRESHNESS + 1), { status: 403, reason: "revoked", reads: 0 });
      assert.deepEqual(await call(worker, bearer, NOW + FRESHNESS + 2), { status: 403, reason: "revoked", reads: 0 });
      assert.equal((await call(worker, bearer, NOW + 10 * FRESHNESS)).status, 403);
      // A new sign-in after the cutoff.
      const later = token({ jti: "jti-2", originJti: "session-2", iat: NOW + 1 });
      assert.equal((await call(worker, later, NOW + 10 * FRESHNESS)).status, 200);
      // A session record, then a token record.
      const bob = token({ sub: "bob", jti: "bob-1", originJti: "bob-session" });
      assert.equal((await call(worker, bob, NOW + 400)).status, 200);
      await worker.revocations.put(`session#${ISSUER}#bob-session`, "{}");
      assert.equal((await call(worker, bob, NOW + 400 + FRESHNESS + 1)).status, 403);
      const carol = token({ sub: "carol", jti: "carol-1", originJti: "carol-session" });
      await worker.revocations.put(`token#${ISSUER}#carol-1`, "{}");
      assert.deepEqual(await call(worker, carol, NOW + 500), { status: 403, reason: "revoked", reads: 1 });
    } finally {
      await worker.dispose();
    }
  });

  test("keys with `#` and non-ASCII characters are read as written", async () => {
    const worker = await start();
    try {
      const sub = "ü#ñ 用户/🙂";
      const jti = "j#ti/é";
      await worker.revocations.put(`token#${ISSUER}#${jti}`, "{}");
      const other = token({ sub, jti: "fine", originJti: "s#ö" });
      assert.equal((await call(worker, token({ sub, jti, originJti: "s#1" }), NOW)).status, 403);
      assert.equal((await call(worker, other, NOW)).status, 200);
      await worker.revocations.put(`session#${ISSUER}#s#ö`, "{}");
      assert.equal((await call(worker, other, NOW + FRESHNESS + 1)).status, 403);
      const dave = token({ sub: "dave#🙂", jti: "d-1", originJti: "d-s" });
      await worker.revocations.put(`user#${ISSUER}#dave#🙂`, JSON.stringify({ before: NOW }));
      assert.equal((await call(worker, dave, NOW)).status, 403);
    } finally {
      await worker.dispose();
    }
  });

  test("an unreadable record revokes", async () => {
    const worker = await start();
    try {
      await worker.revocations.put(`user#${ISSUER}#alice`, "not a record");
      assert.deepEqual(await call(worker, token(), NOW), { status: 403, reason: "revoked", reads: 1 });
    } finally {
      await worker.dispose();
    }
  });

  test("KV down: deny answers 503; stale serves the last answer within its window; a slow KV is down", async () => {
    const deny = await start(undefined, { REVOCATIONS_TIMEOUT_MS: "50" });
    try {
      assert.equal((await call(deny, token(), NOW)).status, 200);
      assert.equal((await call(deny, token(), NOW + 5, { revocationsFault: true })).status, 200, "still fresh");
      assert.deepEqual(await call(deny, token(), NOW + FRESHNESS + 1, { revocationsFault: true }), {
        status: 503,
        reason: "revocations_unavailable",
        reads: 1,
      });
      const slow = await call(deny, token({ sub: "slow", jti: "s-1", originJti: "s-s" }), NOW + 40, {
        revocationsFault: "slow:500",
      });
      assert.deepEqual([slow.status, slow.reason], [503, "revocations_unavailable"]);
      assert.equal((await call(deny, token(), NOW + 100)).status, 200, "back");
    } finally {
      await deny.dispose();
    }
    const stale = await start({ freshnessSeconds: FRESHNESS, whenUnavailable: "stale", maxStaleSeconds: 60 });
    try {
      assert.equal((await call(stale, token(), NOW)).status, 200);
      assert.equal((await call(stale, token(), NOW + FRESHNESS + 30, { revocationsFault: true })).status, 200);
      const never = token({ sub: "never", jti: "n-1", originJti: "n-s" });
      assert.equal((await call(stale, never, NOW + FRESHNESS + 30, { revocationsFault: true })).status, 503);
      assert.equal((await call(stale, token(), NOW + FRESHNESS + 61, { revocationsFault: true })).status, 503);
    } finally {
      await stale.dispose();
    }
  });

  test("a revocation section without the REVOCATIONS binding: the Worker refuses to start", async () => {
    const logs = [];
    const mf = await startMiniflare(
      "test/support/worker-under-test.js",
      { AUTHZ_CONFIG: authzConfig(), UPSTREAM: petstore.url },
      {
        kv: false,
        handleStructuredLogs: ({ message }) => {
          logs.push(message);
        },
      },
    );
    try {
      const forwarded = petstore.received.length;
      const response = await mf.dispatchFetch("http://worker.test/petstore/v1/pets", {
        headers: { authorization: `Bearer ${token()}`, "x-test-clock": String(NOW) },
      });
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), { message: "Service Unavailable" });
      assert.equal(petstore.received.length, forwarded, "nothing forwarded");
      const line = logs.map((m) => JSON.parse(m)).find((e) => e.event === "authz" && e.status === 503);
      assert.equal(line?.reason, "invalid_config");
      assert.deepEqual(line?.variables, ["REVOCATIONS"]);
      assert.match(line?.message, /no REVOCATIONS KV binding/);
    } finally {
      await mf.dispose();
    }
    // Records kept by the process only (`store: "local"`) need no binding.
    const local = await startWorker(
      { AUTHZ_CONFIG: authzConfig({ store: "local" }), UPSTREAM: petstore.url },
      { kv: false },
    );
    try {
      const response = await local.fetch("/petstore/v1/pets", {
        headers: { authorization: `Bearer ${token()}` },
        clock: NOW,
      });
      await response.arrayBuffer();
      assert.equal(response.status, 200);
    } finally {
      await local.dispose();
    }
  });
});
