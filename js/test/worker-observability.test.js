// Issue 17 in workerd (Miniflare): Workers Analytics Engine data points from the METRICS
// binding (Miniflare's own analyticsEngineDatasets binding; each point also recorded by the
// test entry, support/worker-observed.js), none without the binding, a clear 503 when
// METRICS is something else; and `claimCheck` in a Worker of one's own
// (`createWorker({claimCheck})`): run after the core's rules on allows only, with the
// identity context (configured claims included), the request and env; anything but `true`
// refuses with 403 `claim_check_failed`; it never widens a denial.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { jwksDocument, suiteKeys, tokenOf } from "./support/suite.js";
import { startJwksServer, startPetstore } from "./support/servers.js";
import { startMiniflare } from "./support/workerd.js";

const keys = suiteKeys();
const NOW = 1767225600;
const POOL = "us-east-1_SuitePool1";
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const SUB = "a1b2c3d4-0000-4000-8000-000000000001";
const VET_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: ["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*"],
    },
  ],
};

function config(jwksUrl, extra = {}) {
  return JSON.stringify({
    issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["suite-client"], jwksUri: jwksUrl }],
    api: { region: "us-east-1", accountId: "123456789012", apiId: "petstore1", stage: "prod" },
    policies: { ttlSeconds: 300 },
    context: { claims: ["custom:tenant"] },
    ...extra,
  });
}

function accessToken(tenant) {
  return tokenOf(
    {
      key: "suite-rsa-1",
      claims: {
        iss: ISSUER,
        sub: SUB,
        "cognito:groups": ["pet-veterinarian"],
        token_use: "access",
        client_id: "suite-client",
        username: "cognitouser",
        scope: "aws.cognito.signin.user.admin",
        iat: NOW - 60,
        exp: NOW + 3600,
        "custom:tenant": tenant,
      },
    },
    keys,
  );
}

const header = (response, name) => JSON.parse(decodeURIComponent(response.headers.get(name)));

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

/** The observed Worker in workerd; `metrics`: bind METRICS to Miniflare's Analytics Engine dataset. */
async function observedWorker({ metrics = true, bindings = {} } = {}) {
  const mf = await startMiniflare(
    "test/support/worker-observed.js",
    { AUTHZ_CONFIG: config(jwks.url), UPSTREAM: petstore.url, ...bindings },
    metrics ? { analyticsEngineDatasets: { METRICS: { dataset: "edge_authz_decisions" } } } : {},
  );
  await (await mf.getKVNamespace("POLICIES")).put("pet-veterinarian", JSON.stringify(VET_POLICY));
  return {
    fetch: (path, headers = {}) =>
      mf.dispatchFetch(`http://worker.test${path}`, {
        headers: { "x-test-clock": String(NOW), "cf-connecting-ip": "192.0.2.10", ...headers },
        redirect: "manual",
      }),
    dispose: () => mf.dispose(),
  };
}

describe("METRICS: a Workers Analytics Engine data point per decision", () => {
  let worker;
  before(async () => {
    worker = await observedWorker();
  });
  after(() => worker.dispose());

  test("blobs [outcome, reason, method, colo], doubles [latencyMs, status], indexes [reason]; never the token", async () => {
    const acme = accessToken("acme");
    const cases = [
      { path: "/petstore/v1/pets", headers: {}, outcome: "unauthorized", reason: "no_credentials", status: 401 },
      {
        path: "/petstore/v1/pets?limit=1",
        headers: { authorization: `Bearer ${acme}` },
        outcome: "allow",
        reason: "allowed",
        status: 200,
      },
      {
        path: "/petstore/v2/pets",
        headers: { authorization: `Bearer ${acme}` },
        outcome: "forbidden",
        reason: "implicit_deny",
        status: 403,
      },
    ];
    for (const { path, headers, outcome, reason, status } of cases) {
      const response = await worker.fetch(path, headers);
      assert.equal(response.status, status, path);
      await response.arrayBuffer();
      const points = header(response, "x-test-metrics");
      assert.equal(points.length, 1, `one data point for ${path}`);
      const [point] = points;
      assert.deepEqual(Object.keys(point).sort(), ["blobs", "doubles", "indexes"]);
      assert.equal(point.blobs.length, 4);
      assert.deepEqual(point.blobs.slice(0, 3), [outcome, reason, "GET"]);
      assert.equal(typeof point.blobs[3], "string");
      assert.equal(point.doubles.length, 2);
      assert.ok(point.doubles[0] >= 0 && Number.isFinite(point.doubles[0]), `latency ${point.doubles[0]}`);
      assert.equal(point.doubles[1], status);
      assert.deepEqual(point.indexes, [reason]);
      const text = JSON.stringify(point);
      for (const part of acme.split(".")) assert.ok(!text.includes(part), "a part of the token in a data point");
      assert.ok(!text.includes(SUB) && !text.includes("/petstore"), "no caller, no path");
    }
  });
});

describe("METRICS absent or not a dataset", () => {
  test("without the binding the Worker answers as before and writes nothing", async () => {
    const worker = await observedWorker({ metrics: false });
    try {
      const response = await worker.fetch("/petstore/v1/pets", { authorization: `Bearer ${accessToken("acme")}` });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      assert.deepEqual(header(response, "x-test-metrics"), []);
    } finally {
      await worker.dispose();
    }
  });

  test("a METRICS that is no Analytics Engine dataset (a var): 503 until it is fixed, fail closed", async () => {
    const worker = await observedWorker({ metrics: false, bindings: { METRICS: "edge_authz" } });
    try {
      const response = await worker.fetch("/petstore/v1/pets", { authorization: `Bearer ${accessToken("acme")}` });
      assert.equal(response.status, 503);
      await response.arrayBuffer();
      assert.deepEqual(header(response, "x-test-metrics"), []);
    } finally {
      await worker.dispose();
    }
  });
});

describe("claimCheck in a Worker of one's own", () => {
  let worker;
  before(async () => {
    worker = await observedWorker();
  });
  after(() => worker.dispose());

  test("runs on allows with the identity context (configured claims included), the request and env", async () => {
    const response = await worker.fetch("/petstore/v1/pets?limit=1", {
      authorization: `Bearer ${accessToken("acme")}`,
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).headers["x-authz-sub"], SUB);
    const [call, ...more] = header(response, "x-test-claim-checks");
    assert.equal(more.length, 0);
    assert.equal(call.claims.sub, SUB);
    assert.equal(call.claims.groups, "pet-veterinarian");
    assert.equal(call.claims["custom:tenant"], "acme");
    assert.deepEqual(call.request, {
      method: "GET",
      path: "/petstore/v1/pets",
      receivedPath: "/petstore/v1/pets",
      sourceIp: "192.0.2.10",
      secureTransport: false,
      headers: true,
      query: "limit=1",
    });
    assert.equal(call.env, true);
  });

  test("request.path is the canonical path authorized and forwarded, not the one received", async () => {
    // `%70` is `p`: the core authorizes, and the Worker forwards, `/petstore/v1/pets`. A hook
    // that refuses by path must judge that path, or `/v1/%61dmin` walks around a refusal of
    // `/v1/admin` and still reaches the origin as `/v1/admin`.
    const response = await worker.fetch("/petstore/v1/%70ets?limit=1", {
      authorization: `Bearer ${accessToken("acme")}`,
    });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).path, "/petstore/v1/pets?limit=1");
    const [call] = header(response, "x-test-claim-checks");
    assert.equal(call.request.path, "/petstore/v1/pets");
    assert.equal(call.request.receivedPath, "/petstore/v1/%70ets");
    assert.equal(call.request.query, "limit=1");
  });

  test("request.path is lower-cased when the configuration matches case-insensitively", async () => {
    // `request.caseSensitive: false` says the origin serves `/petstore/v1/PETS` as
    // `/petstore/v1/pets`, and the core allows it as that: a hook refusing `/petstore/v1/pets`
    // must see it so, or the other case walks around its refusal.
    const insensitive = await observedWorker({
      bindings: { AUTHZ_CONFIG: config(jwks.url, { request: { caseSensitive: false } }) },
    });
    try {
      const response = await insensitive.fetch("/petstore/v1/PETS/%C3%89?limit=1", {
        authorization: `Bearer ${accessToken("acme")}`,
      });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      const [call] = header(response, "x-test-claim-checks");
      assert.equal(call.request.path, "/petstore/v1/pets/%C3%A9");
      assert.equal(call.request.receivedPath, "/petstore/v1/PETS/%C3%89");
    } finally {
      await insensitive.dispose();
    }
  });

  test("anything but true refuses: 403 claim_check_failed with the forbidden body, nothing forwarded", async () => {
    const received = petstore.received.length;
    for (const [tenant, hook] of [
      ["globex", null],
      ["acme", "truthy"],
      ["acme", "throw"],
    ]) {
      const headers = { authorization: `Bearer ${accessToken(tenant)}` };
      if (hook) headers["x-test-claim-check"] = hook;
      const response = await worker.fetch("/petstore/v1/pets", headers);
      assert.equal(response.status, 403, `${tenant} ${hook}`);
      assert.deepEqual(await response.json(), { Message: "User is not authorized to access this resource" });
      const [point] = header(response, "x-test-metrics");
      assert.deepEqual(point.blobs.slice(0, 2), ["forbidden", "claim_check_failed"]);
      assert.equal(point.doubles[1], 403);
      const errors = header(response, "x-test-claim-errors");
      assert.equal(errors.length, hook === "throw" ? 1 : 0);
      if (hook === "throw") assert.equal(errors[0].message, "the hook's own bug");
    }
    assert.equal(petstore.received.length, received, "nothing reached the origin");
  });

  test("never widens: not called for a denial", async () => {
    const denied = await worker.fetch("/petstore/v2/pets", { authorization: `Bearer ${accessToken("acme")}` });
    assert.equal(denied.status, 403);
    await denied.arrayBuffer();
    assert.deepEqual(header(denied, "x-test-claim-checks"), []);
    assert.deepEqual(header(denied, "x-test-metrics")[0].blobs.slice(0, 2), ["forbidden", "implicit_deny"]);
    const anonymous = await worker.fetch("/petstore/v1/pets");
    assert.equal(anonymous.status, 401);
    await anonymous.arrayBuffer();
    assert.deepEqual(header(anonymous, "x-test-claim-checks"), []);
  });
});
