// The fault matrix through the Node middleware: an Express app on loopback whose
// `edgeAuthz` middleware wraps a `createAuthorizer` (injected clock, short timeouts), a real
// JWKS origin and real policy stores (a document URL with ETag, and the caller's async
// function) switched into each fault. Every case runs on a fresh authorizer, asserts the
// status and reason during the fault (never an allow), then that the same request is
// allowed again by the same instance once the fault clears. Prints the matrix.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import express from "express";
import { createAuthorizer } from "../../src/node.js";
import { edgeAuthz } from "../../src/express.js";
import { faults, startJwksOrigin, startPolicyOrigin } from "../support/fault-server.js";
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
} from "../support/fault-matrix.js";

const matrix = new Matrix("Node middleware (Express + createAuthorizer)");
after(() => console.log(`\n${matrix}\n`));

/**
 * A fresh Express app and authorizer in front of a fresh JWKS origin.
 * @param {(jwksUrl: string) => any} policies the `policies` option
 * @param {Record<string, unknown>} [options] more `createAuthorizer` options (e.g. `policiesTimeoutMs`)
 */
async function nodeRig(policies, options = {}) {
  const jwks = await startJwksOrigin(initialJwks());
  let clock = T;
  const authorizer = createAuthorizer(faultConfig(jwks.jwksUrl), {
    policies,
    now: () => clock,
    jwksTimeoutMs: TIMEOUT_MS,
    log: false,
    ...options,
  });
  // The middleware is given the authorizer itself (as the README allows), wrapped to keep
  // each decision's reason for the assertions: the HTTP status is the middleware's.
  const reasons = new Map();
  const recording = {
    async authorize(input) {
      const decision = await authorizer.authorize(input);
      reasons.set(input.headers["x-request-id"], decision.reason);
      return decision;
    },
  };
  const app = express();
  app.use(edgeAuthz(recording));
  app.get("/petstore/v1/pets", (req, res) => res.json({ caller: req.auth.sub }));
  const server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${server.address().port}/petstore/v1/pets`;
  let ids = 0;
  return {
    jwks,
    async request(tok, at) {
      clock = at;
      const id = String(++ids);
      const response = await fetch(url, { headers: { authorization: `Bearer ${tok}`, "x-request-id": id } });
      const body = await response.json();
      if (response.status === 200)
        assert.equal(body.caller, JSON.parse(Buffer.from(tok.split(".")[1], "base64url")).sub);
      else assert.equal(response.headers.get("content-type"), "application/json");
      return { status: response.status, reason: reasons.get(id) };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await jwks.close();
    },
  };
}

/** Runs `scenario` on a fresh rig (`options` for `createAuthorizer`) and always closes it. */
async function withRig(policies, scenario, options) {
  const rig = await nodeRig(policies, options);
  try {
    return await scenario(rig);
  } finally {
    await rig.close();
  }
}

const document = { groups: { [GROUP]: POLICY } };

describe("JWKS faults", () => {
  const cases = [
    ["JWKS down (port closed)", faults.down()],
    [`JWKS slow (${SLOW_MS} ms, timeout ${TIMEOUT_MS} ms)`, faults.slow(SLOW_MS)],
    ["JWKS 500", faults.status(500, "internal error")],
    ["JWKS garbage (200, HTML)", faults.garbage("<html>not a key set</html>")],
  ];
  for (const [name, fault] of cases) {
    test(name, async () => {
      const { outcome, recovery } = await withRig(document, (rig) => jwksFault(rig, fault));
      matrix.add(name, outcome, recovery);
    });
  }

  test("JWKS rotates mid-traffic (new key in, old key retired)", async () => {
    const { outcome, recovery } = await withRig(document, (rig) => jwksRotation(rig));
    matrix.add("JWKS rotates mid-traffic", outcome, recovery);
  });

  // A verified token is cached until exp + grace, but a JWKS refresh that drops a key
  // clears the core's token, resolved and decision caches (src/authorizer.rs,
  // `jwks_fetched`): a token verified with the key before is refused like a fresh one.
  test("a token verified before its key was retired is refused after the refresh", async () => {
    const got = await withRig(document, (rig) => retiredKeyReplay(rig));
    matrix.add(
      "JWKS retires a key: a token verified with it before",
      `${got.status} ${got.reason}${got.status === 200 ? " (REGRESSION: cached verification outlives the key)" : ""}`,
      "fresh tokens of the retired key: 403 unknown_kid",
    );
    assert.deepEqual(got, { status: 403, reason: "unknown_kid" });
  });
});

describe("policy store: a document URL (ETag, ttlSeconds 0)", () => {
  /** Cases: [name, inject(origin), status, reason] */
  const cases = [
    ["down (port closed)", (o) => o.set(faults.down()), 503, "policies_unavailable"],
    [`slow (${SLOW_MS} ms, timeoutMs ${TIMEOUT_MS})`, (o) => o.set(faults.slow(SLOW_MS)), 503, "policies_unavailable"],
    [
      "throttled (429)",
      (o) => o.set(faults.status(429, '{"message":"Too Many Requests"}', { "retry-after": "1" })),
      503,
      "policies_unavailable",
    ],
    ["corrupt document (not JSON)", (o) => o.set(faults.garbage(NOT_JSON)), 503, "policies_unavailable"],
    [
      "ambiguous document (a group named twice)",
      (o) => o.set(faults.garbage(`{"groups": {"${GROUP}": null, "${GROUP}": ${JSON.stringify(POLICY)}}}`)),
      503,
      "policies_unavailable",
    ],
    [
      "corrupt policy (fails validation)",
      (o) => {
        o.state.document = { groups: { [GROUP]: INVALID_POLICY } };
      },
      403,
      "invalid_policy",
    ],
  ];
  for (const [name, inject, status, reason] of cases) {
    test(name, async () => {
      const origin = await startPolicyOrigin(document);
      try {
        const policies = { url: origin.policiesUrl, ttlSeconds: 0, timeoutMs: TIMEOUT_MS };
        const { outcome, recovery } = await withRig(policies, (rig) =>
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
        matrix.add(`policies URL ${name}`, outcome, recovery);
      } finally {
        await origin.close();
      }
    });
  }
});

describe("policy store: the caller's async function", () => {
  /** A store the function reads, switched into each fault (as a DynamoDB SDK would fail). */
  function functionStore() {
    const store = { mode: "up", calls: 0 };
    store.load = async (groups) => {
      store.calls++;
      switch (store.mode) {
        case "down":
          throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8000"), { code: "ECONNREFUSED" });
        case "throttled":
          throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
            name: "ThrottlingException",
            $metadata: { httpStatusCode: 400 },
          });
        case "corrupt-text":
          return new Map(groups.map((g) => [g, NOT_JSON]));
        case "corrupt-shape":
          return [[GROUP, POLICY]]; // neither a Map nor an object keyed by group
        case "slow":
          await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
          return new Map(groups.map((g) => [g, POLICY]));
        default:
          return new Map(groups.map((g) => [g, POLICY]));
      }
    };
    return store;
  }

  const cases = [
    ["down (throws ECONNREFUSED)", "down", 503, "policies_unavailable"],
    ["throttled (throws ThrottlingException)", "throttled", 503, "policies_unavailable"],
    ["corrupt policy (not JSON)", "corrupt-text", 403, "invalid_policy"],
    ["corrupt answer (an array, not a Map or object)", "corrupt-shape", 503, "policies_unavailable"],
  ];
  for (const [name, mode, status, reason] of cases) {
    test(name, async () => {
      const store = functionStore();
      const { outcome, recovery } = await withRig(store.load, (rig) =>
        policyFault(rig, {
          inject: () => {
            store.mode = mode;
          },
          clear: () => {
            store.mode = "up";
          },
          status,
          reason,
          hits: () => store.calls,
        }),
      );
      matrix.add(`policies function ${name}`, outcome, recovery);
    });
  }

  // `policiesTimeoutMs` bounds the caller's function as well: a store slower than it counts
  // as a failed load (503), it does not hold the requests that need its policies.
  const bound = 1000;
  test(`slow (${SLOW_MS} ms, policiesTimeoutMs ${TIMEOUT_MS}): a 503 within ${bound} ms`, async () => {
    const store = functionStore();
    const { outcome, recovery } = await withRig(
      store.load,
      async (rig) => {
        store.mode = "slow";
        const got = await unboundedStore(rig, bound);
        assert.ok(got.bounded, `answered after ${got.ms} ms`);
        assert.deepEqual(
          { status: got.status, reason: got.reason },
          { status: 503, reason: "policies_unavailable" },
          "during the fault",
        );
        store.mode = "up";
        const tok = token({ sub: "slow-store" }); // unboundedStore's request
        const calls = store.calls;
        assert.deepEqual(
          await rig.request(tok, T + POLICY_RETRY - 1),
          { status: 503, reason: "policies_unavailable" },
          "before the store is asked again",
        );
        assert.equal(store.calls, calls, "the store is not asked again before the retry");
        assert.deepEqual(
          await rig.request(tok, T + POLICY_RETRY),
          { status: 200, reason: "allowed" },
          "once the store is asked again",
        );
        return {
          outcome: `${got.status} ${got.reason} (${got.ms} ms)`,
          recovery: `200 at t+${POLICY_RETRY}s (the core's retry after a failed load; 503 before)`,
        };
      },
      { policiesTimeoutMs: TIMEOUT_MS },
    );
    matrix.add(`policies function slow (${SLOW_MS} ms, policiesTimeoutMs ${TIMEOUT_MS})`, outcome, recovery);
  });
});

describe("clock skew", () => {
  test(`exp, nbf, iat exactly at and one second past graceSeconds`, async () => {
    const rows = await withRig(document, (rig) => clockSkew(rig));
    for (const row of rows) matrix.add(...row);
  });
});
