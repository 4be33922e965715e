// The fault matrix through the Worker in workerd (Miniflare): a real JWKS origin on
// loopback, policies in Miniflare's KV (outage, throttling and slowness injected by the test
// entry, corrupt values put in the real namespace) or in a document at POLICIES_URL (a
// loopback origin), the clock injected per request. Every case starts on a cold Worker
// (a new authorizer: no keys, policies or cached tokens), asserts the status and reason
// during the fault (never an allow), then that the same request is allowed again by the
// same Worker once the fault clears (no restart). Prints the matrix.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { faults, startFaultServer, startJwksOrigin, startPolicyOrigin } from "./support/fault-server.js";
import {
  GROUP,
  INVALID_POLICY,
  Matrix,
  NOT_JSON,
  POLICY,
  POLICY_RETRY,
  SLOW_MS,
  T,
  TIMEOUT_MS,
  clockSkew,
  faultConfig,
  initialJwks,
  jwksFault,
  jwksRotation,
  policyFault,
  retiredKeyReplay,
  token,
  unboundedStore,
} from "./support/fault-matrix.js";
import { startFaultWorker } from "./support/workerd-faults.js";

const matrix = new Matrix("Cloudflare Worker in workerd (Miniflare)");
const document = { groups: { [GROUP]: POLICY } };

/**
 * Two Workers for the whole file, policies from KV and from POLICIES_URL; every case
 * starts on a cold authorizer (`fresh`, see support/worker-faults-entry.js) with the JWKS
 * origin, the KV value and the policy origin back to healthy.
 */
let upstream;
let jwks;
let policyOrigin;
const rigs = {};
before(async () => {
  // The origin behind the Worker echoes the headers it got (one connection per request, so
  // that workerd never reuses a socket the origin has timed out).
  upstream = await startFaultServer((request) => ({ body: JSON.stringify({ headers: request.headers }) }));
  jwks = await startJwksOrigin(initialJwks());
  policyOrigin = await startPolicyOrigin(document);
  rigs.kv = await workerRig({});
  rigs.url = await workerRig({ POLICIES_URL: policyOrigin.policiesUrl, POLICIES_URL_TTL_SECONDS: "0" });
});
after(async () => {
  for (const rig of Object.values(rigs)) await rig.dispose();
  await Promise.all([upstream, jwks, policyOrigin].map((server) => server?.close()));
  console.log(`\n${matrix}\n`);
});

/**
 * A Worker in front of the shared JWKS origin; `vars` for the policy store (KV without).
 * The JWKS fetch and the policy store (KV read or POLICIES_URL fetch) time out after TIMEOUT_MS.
 */
async function workerRig(vars) {
  const kv = vars.POLICIES_URL === undefined;
  const worker = await startFaultWorker(
    {
      AUTHZ_CONFIG: JSON.stringify(faultConfig(jwks.jwksUrl)),
      UPSTREAM: upstream.origin,
      EXPOSE_REASON: "true",
      JWKS_FETCH_TIMEOUT_MS: String(TIMEOUT_MS),
      POLICIES_TIMEOUT_MS: String(TIMEOUT_MS),
      ...vars,
    },
    { kv },
  );
  const rig = {
    jwks,
    origin: kv ? null : policyOrigin,
    kv: worker.policies,
    /** The KV fault of the next requests (see worker-faults-entry.js). */
    kvFault: "",
    fresh: true,
    /** Everything healthy again, and a cold authorizer for the next request. */
    async reset() {
      await jwks.set(faults.up());
      jwks.state.body = initialJwks();
      rig.kvFault = "";
      if (kv) await worker.policies.put(GROUP, JSON.stringify(POLICY));
      else {
        policyOrigin.state.document = document;
        await policyOrigin.set(faults.up());
      }
      rig.fresh = true;
    },
    async request(tok, at) {
      const fresh = rig.fresh;
      rig.fresh = false;
      const response = await worker.fetch("/petstore/v1/pets", {
        clock: at,
        kvFault: rig.kvFault,
        fresh,
        headers: { authorization: `Bearer ${tok}` },
      });
      const reason = response.headers.get("edge-authz-reason");
      if (response.status === 200) {
        const echo = await response.json();
        assert.equal(
          echo.headers["x-authz-sub"],
          JSON.parse(Buffer.from(tok.split(".")[1], "base64url")).sub,
          "forwarded with the caller's identity",
        );
      } else {
        assert.equal(response.headers.get("content-type"), "application/json");
        JSON.parse(await response.text()); // read to the end: a cancelled body makes workerd log a broken pipe
      }
      return { status: response.status, reason };
    },
    dispose: () => worker.dispose(),
  };
  return rig;
}

/** Runs `scenario` on the KV or URL Worker, reset to healthy and cold. @param {"kv" | "url"} store */
async function withRig(store, scenario) {
  const rig = rigs[store];
  await rig.reset();
  return scenario(rig);
}

/**
 * A slow policy store on a cold Worker (POLICIES_TIMEOUT_MS = TIMEOUT_MS): 503
 * `policies_unavailable` within `boundMs`, not the store's answer once it comes; after the
 * store is fast again, still 503 without asking it until the core's retry, then allowed.
 * @param {{ inject: () => Promise<void> | void, clear: () => Promise<void> | void, boundMs: number, hits?: () => number }} spec
 * @returns {Promise<{ outcome: string, recovery: string }>} the matrix row's cells
 */
async function slowStore(rig, { inject, clear, boundMs, hits }) {
  await inject();
  const got = await unboundedStore(rig, boundMs);
  assert.ok(got.bounded, `answered after ${got.ms} ms`);
  assert.deepEqual(
    { status: got.status, reason: got.reason },
    { status: 503, reason: "policies_unavailable" },
    "during the fault",
  );
  await clear();
  const tok = token({ sub: "slow-store" }); // unboundedStore's request
  const before = hits?.();
  assert.deepEqual(
    await rig.request(tok, T + POLICY_RETRY - 1),
    { status: 503, reason: "policies_unavailable" },
    "before the store is asked again",
  );
  if (hits) assert.equal(hits(), before, "the store is not asked again before the retry");
  assert.deepEqual(
    await rig.request(tok, T + POLICY_RETRY),
    { status: 200, reason: "allowed" },
    "once the store is asked again",
  );
  return {
    outcome: `${got.status} ${got.reason} (${got.ms} ms)`,
    recovery: `200 at t+${POLICY_RETRY}s (the core's retry after a failed load; 503 before)`,
  };
}

describe("JWKS faults", () => {
  const cases = [
    ["JWKS down (port closed)", faults.down()],
    [`JWKS slow (${SLOW_MS} ms, JWKS_FETCH_TIMEOUT_MS ${TIMEOUT_MS})`, faults.slow(SLOW_MS)],
    ["JWKS 500", faults.status(500, "internal error")],
    ["JWKS garbage (200, HTML)", faults.garbage("<html>not a key set</html>")],
  ];
  for (const [name, fault] of cases) {
    test(name, async () => {
      const { outcome, recovery } = await withRig("kv", (rig) => jwksFault(rig, fault));
      matrix.add(name, outcome, recovery);
    });
  }

  test("JWKS rotates mid-traffic (new key in, old key retired)", async () => {
    const { outcome, recovery } = await withRig("kv", (rig) => jwksRotation(rig));
    matrix.add("JWKS rotates mid-traffic", outcome, recovery);
  });

  // A JWKS refresh that drops a key clears the core's token, resolved and decision caches
  // (src/authorizer.rs, `jwks_fetched`): a token verified with the key before is refused
  // like a fresh one.
  test("a token verified before its key was retired is refused after the refresh", async () => {
    const got = await withRig("kv", (rig) => retiredKeyReplay(rig));
    matrix.add(
      "JWKS retires a key: a token verified with it before",
      `${got.status} ${got.reason}${got.status === 200 ? " (REGRESSION: cached verification outlives the key)" : ""}`,
      "fresh tokens of the retired key: 403 unknown_kid",
    );
    assert.deepEqual(got, { status: 403, reason: "unknown_kid" });
  });
});

describe("policy store: Workers KV", () => {
  /** Cases: [name, inject(rig), status, reason] */
  const cases = [
    ["down (reads reject)", (rig) => (rig.kvFault = "down"), 503, "policies_unavailable"],
    ["throttled (reads reject with 429)", (rig) => (rig.kvFault = "throttled"), 503, "policies_unavailable"],
    ["corrupt value (not JSON)", (rig) => rig.kv.put(GROUP, NOT_JSON), 403, "invalid_policy"],
    [
      "corrupt policy (fails validation)",
      (rig) => rig.kv.put(GROUP, JSON.stringify(INVALID_POLICY)),
      403,
      "invalid_policy",
    ],
  ];
  for (const [name, inject, status, reason] of cases) {
    test(name, async () => {
      const { outcome, recovery } = await withRig("kv", (rig) =>
        policyFault(rig, {
          inject: () => inject(rig),
          clear: async () => {
            rig.kvFault = "";
            await rig.kv.put(GROUP, JSON.stringify(POLICY));
          },
          status,
          reason,
        }),
      );
      matrix.add(`KV ${name}`, outcome, recovery);
    });
  }

  // A KV read slower than POLICIES_TIMEOUT_MS (TIMEOUT_MS here) counts as a failed load.
  const bound = 1000;
  test(`slow (${SLOW_MS} ms, POLICIES_TIMEOUT_MS ${TIMEOUT_MS}): a 503 within ${bound} ms`, async () => {
    const { outcome, recovery } = await withRig("kv", (rig) =>
      slowStore(rig, {
        inject: () => (rig.kvFault = `slow:${SLOW_MS}`),
        clear: () => (rig.kvFault = ""),
        boundMs: bound,
      }),
    );
    matrix.add(`KV slow (${SLOW_MS} ms, POLICIES_TIMEOUT_MS ${TIMEOUT_MS})`, outcome, recovery);
  });
});

describe("policy store: a document at POLICIES_URL (ETag, TTL 0)", () => {
  /** Cases: [name, inject(origin), status, reason] */
  const cases = [
    ["down (port closed)", (o) => o.set(faults.down()), 503, "policies_unavailable"],
    [
      "throttled (429)",
      (o) => o.set(faults.status(429, '{"message":"Too Many Requests"}', { "retry-after": "1" })),
      503,
      "policies_unavailable",
    ],
    ["corrupt document (not JSON)", (o) => o.set(faults.garbage(NOT_JSON)), 503, "policies_unavailable"],
    [
      "corrupt policy (fails validation)",
      (o) => {
        o.state.document = { groups: { [GROUP]: INVALID_POLICY } };
      },
      403,
      "invalid_policy",
    ],
  ];

  /** Runs `scenario(rig, origin)` on the POLICIES_URL Worker. */
  const withPolicyOrigin = (scenario) => withRig("url", (rig) => scenario(rig, rig.origin));

  for (const [name, inject, status, reason] of cases) {
    test(name, async () => {
      const { outcome, recovery } = await withPolicyOrigin((rig, origin) =>
        policyFault(rig, {
          inject: () => inject(origin),
          clear: async () => {
            origin.state.document = document;
            await origin.set(faults.up());
          },
          status,
          reason,
          hits: () => origin.hits,
        }),
      );
      matrix.add(`POLICIES_URL ${name}`, outcome, recovery);
    });
  }

  // A POLICIES_URL fetch slower than POLICIES_TIMEOUT_MS (TIMEOUT_MS here) is aborted and
  // counts as a failed load.
  const bound = 1000;
  test(`slow (${SLOW_MS} ms, POLICIES_TIMEOUT_MS ${TIMEOUT_MS}): a 503 within ${bound} ms`, async () => {
    const { outcome, recovery } = await withPolicyOrigin((rig, origin) =>
      slowStore(rig, {
        inject: () => origin.set(faults.slow(SLOW_MS)),
        clear: () => origin.set(faults.up()),
        boundMs: bound,
        hits: () => origin.hits,
      }),
    );
    matrix.add(`POLICIES_URL slow (${SLOW_MS} ms, POLICIES_TIMEOUT_MS ${TIMEOUT_MS})`, outcome, recovery);
  });
});

describe("clock skew", () => {
  test("exp, nbf, iat exactly at and one second past graceSeconds", async () => {
    const rows = await withRig("kv", (rig) => clockSkew(rig));
    for (const row of rows) matrix.add(...row);
  });
});
