// The Worker in workerd (Miniflare) beyond the suite: the seed walkthrough with policies in
// KV, header forgery, CORS, faults (KV, JWKS, configuration) → 503 and recovery, key
// rotation, the Authorization header dropped, policies from a URL with ETag.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { jwksDocument, suiteKeys, tokenOf } from "./support/suite.js";
import { startJwksServer, startPetstore } from "./support/servers.js";
import { startWorker } from "./support/workerd.js";

const keys = suiteKeys();
const NOW = 1767225600;
const POOL = "us-east-1_SuitePool1";
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const VET_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PetStore-API",
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: ["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*", "arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status"],
      Condition: { IpAddress: { "aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"] } },
    },
  ],
};

function config(jwksUrl, extra = {}) {
  return JSON.stringify({
    issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["suite-client"], jwksUri: jwksUrl }],
    api: { region: "us-east-1", accountId: "123456789012", apiId: "petstore1", stage: "prod" },
    policies: { ttlSeconds: 300 },
    ...extra,
  });
}

function accessToken({
  kid = "suite-rsa-1",
  sub = "a1b2c3d4-0000-4000-8000-000000000001",
  groups = ["pet-veterinarian"],
  exp = NOW + 3600,
} = {}) {
  return tokenOf(
    {
      key: kid,
      claims: {
        iss: ISSUER,
        sub,
        "cognito:groups": groups,
        token_use: "access",
        client_id: "suite-client",
        username: "cognitouser",
        scope: "aws.cognito.signin.user.admin",
        iat: NOW - 60,
        exp,
      },
    },
    keys,
  );
}

const fromVet = (token, extra = {}) => ({
  authorization: `Bearer ${token}`,
  "cf-connecting-ip": "192.0.2.10",
  ...extra,
});

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

describe("the seed walkthrough with policies in KV", () => {
  let worker;
  before(async () => {
    worker = await startWorker({
      AUTHZ_CONFIG: config(jwks.url),
      UPSTREAM: `${petstore.url}/base/`,
      EXPOSE_REASON: "true",
    });
    await worker.policies.put("pet-veterinarian", JSON.stringify(VET_POLICY));
  });
  after(() => worker.dispose());

  test("no token: 401 with API Gateway's body, JSON and WWW-Authenticate", async () => {
    const response = await worker.fetch("/petstore/v1/pets", { clock: NOW });
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { message: "Unauthorized" });
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("www-authenticate"), "Bearer");
    assert.equal(response.headers.get("edge-authz-reason"), "no_credentials");
  });

  test("the article's invalid token: 403 with API Gateway's body", async () => {
    const response = await worker.fetch("/petstore/v1/pets", {
      clock: NOW,
      headers: { authorization: "Bearer aGVhZGVy.Y2xhaW1z.c2lnbmF0dXJl" },
    });
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { Message: "User is not authorized to access this resource" });
    assert.equal(response.headers.get("www-authenticate"), null);
  });

  test("cognitouser: allowed on v1 and v2/status, forwarded with identity headers under the upstream's base path", async () => {
    const token = accessToken();
    const response = await worker.fetch("/petstore/v1/pets?limit=2", { clock: NOW, headers: fromVet(token) });
    assert.equal(response.status, 200);
    const echo = await response.json();
    assert.equal(echo.path, "/base/petstore/v1/pets?limit=2");
    assert.equal(echo.headers["x-authz-sub"], "a1b2c3d4-0000-4000-8000-000000000001");
    assert.equal(echo.headers["x-authz-username"], "cognitouser");
    assert.equal(echo.headers["x-authz-groups"], "pet-veterinarian");
    assert.equal(echo.headers["x-authz-client-id"], "suite-client");
    assert.equal(echo.headers["x-authz-token-use"], "access");
    assert.equal(echo.headers["x-authz-issuer"], ISSUER);
    assert.equal(echo.headers.authorization, `Bearer ${token}`);
    const status = await worker.fetch("/petstore/v2/status", { clock: NOW, headers: fromVet(token) });
    assert.equal(status.status, 200);
    await status.body?.cancel();
  });

  test("cognitouser: v2/pets and another address are denied", async () => {
    const token = accessToken();
    const v2 = await worker.fetch("/petstore/v2/pets", { clock: NOW, headers: fromVet(token) });
    assert.equal(v2.status, 403);
    assert.equal(v2.headers.get("edge-authz-reason"), "implicit_deny");
    await v2.body?.cancel();
    const elsewhere = await worker.fetch("/petstore/v1/pets", {
      clock: NOW,
      headers: fromVet(token, { "cf-connecting-ip": "203.0.113.5" }),
    });
    assert.equal(elsewhere.status, 403);
    await elsewhere.body?.cancel();
  });

  test("forged identity headers are stripped, in any case, before the real ones are set", async () => {
    const response = await worker.fetch("/petstore/v1/pets", {
      clock: NOW,
      headers: fromVet(accessToken(), { "X-Authz-Sub": "admin", "x-authz-groups": "admins", "x-authz-role": "root" }),
    });
    const echo = await response.json();
    assert.equal(echo.headers["x-authz-sub"], "a1b2c3d4-0000-4000-8000-000000000001");
    assert.equal(echo.headers["x-authz-groups"], "pet-veterinarian");
    assert.equal(echo.headers["x-authz-role"], undefined);
  });

  test("a forged identity header without a token gets nowhere", async () => {
    const response = await worker.fetch("/petstore/v1/pets", { clock: NOW, headers: { "x-authz-sub": "admin" } });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });

  test("a KV failure with nothing cached is 503, never an allow; it recovers", async () => {
    const token = accessToken({ sub: "kv-fault-user", groups: ["kv-fault-group"] });
    await worker.policies.put("kv-fault-group", JSON.stringify(VET_POLICY));
    const failing = await worker.fetch("/petstore/v1/pets", { clock: NOW, headers: fromVet(token), kvFault: true });
    assert.equal(failing.status, 503);
    assert.equal(failing.headers.get("content-type"), "application/json");
    assert.equal(failing.headers.get("edge-authz-reason"), "policies_unavailable");
    assert.ok((await failing.json()).message);
    const later = await worker.fetch("/petstore/v1/pets", { clock: NOW + 10, headers: fromVet(token) });
    assert.equal(later.status, 200);
    await later.body?.cancel();
  });
});

describe("JWKS faults and key rotation", () => {
  let worker;
  before(async () => {
    jwks.state.body = jwksDocument(keys, ["suite-rsa-1"]);
    jwks.state.down = true;
    worker = await startWorker({ AUTHZ_CONFIG: config(jwks.url), UPSTREAM: petstore.url, EXPOSE_REASON: "true" });
    await worker.policies.put("pet-veterinarian", JSON.stringify(VET_POLICY));
  });
  after(() => {
    jwks.state.down = false;
    return worker.dispose();
  });

  test("JWKS down with nothing cached: 503; back up: allowed", async () => {
    const token = accessToken();
    const down = await worker.fetch("/petstore/v1/pets", { clock: NOW, headers: fromVet(token) });
    assert.equal(down.status, 503);
    assert.equal(down.headers.get("edge-authz-reason"), "jwks_unavailable");
    await down.body?.cancel();
    jwks.state.down = false;
    const up = await worker.fetch("/petstore/v1/pets", { clock: NOW + 60, headers: fromVet(token) });
    assert.equal(up.status, 200);
    await up.body?.cancel();
  });

  test("a token signed with a new key is accepted once the JWKS publishes it", async () => {
    jwks.state.body = jwksDocument(keys, ["suite-rsa-1", "suite-rsa-2"]);
    jwks.state.fetches = 0;
    const rotated = await worker.fetch("/petstore/v1/pets", {
      clock: NOW + 120,
      headers: fromVet(accessToken({ kid: "suite-rsa-2" })),
    });
    assert.equal(rotated.status, 200);
    assert.equal(jwks.state.fetches, 1);
    await rotated.body?.cancel();
    jwks.state.body = jwksDocument(keys, ["suite-rsa-2"]);
    const retired = await worker.fetch("/petstore/v1/pets", {
      clock: NOW + 200,
      headers: fromVet(accessToken({ kid: "suite-rsa-1", sub: "retired-key-user" })),
    });
    // rsa-1 is still in the cached JWKS until it is refreshed: the TTL governs, not the token.
    assert.equal(retired.status, 200);
    await retired.body?.cancel();
  });

  test("a token whose kid is unknown is refused without hammering the JWKS endpoint", async () => {
    jwks.state.fetches = 0;
    const headers = fromVet(
      tokenOf({ key: "suite-rsa-1", header: { kid: "no-such-kid" }, claims: { iss: ISSUER } }, keys),
    );
    for (let i = 0; i < 3; i++) {
      const response = await worker.fetch("/petstore/v1/pets", { clock: NOW + 201, headers });
      assert.equal(response.status, 403);
      assert.equal(response.headers.get("edge-authz-reason"), "unknown_kid");
      await response.body?.cancel();
    }
    assert.ok(jwks.state.fetches <= 1, `${jwks.state.fetches} fetches`);
  });
});

describe("configuration", () => {
  before(() => {
    jwks.state.body = jwksDocument(keys, ["suite-rsa-1"]);
    jwks.state.down = false;
  });

  test("an invalid configuration answers 503 to every request", async () => {
    const worker = await startWorker({
      AUTHZ_CONFIG: JSON.stringify({ issuers: [], bogus: true }),
      UPSTREAM: petstore.url,
    });
    try {
      const response = await worker.fetch("/petstore/v1/pets", { clock: NOW, headers: fromVet(accessToken()) });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get("content-type"), "application/json");
      assert.equal(response.headers.get("cache-control"), "no-store");
      await response.body?.cancel();
    } finally {
      await worker.dispose();
    }
  });

  test("without a POLICIES binding, policies are unavailable: 503", async () => {
    const worker = await startWorker(
      { AUTHZ_CONFIG: config(jwks.url), UPSTREAM: petstore.url, EXPOSE_REASON: "true" },
      { kv: false },
    );
    try {
      const response = await worker.fetch("/petstore/v1/pets", { clock: NOW, headers: fromVet(accessToken()) });
      assert.equal(response.status, 503);
      assert.equal(response.headers.get("edge-authz-reason"), "policies_unavailable");
      await response.body?.cancel();
    } finally {
      await worker.dispose();
    }
  });

  test("FORWARD_AUTHORIZATION=false drops the Authorization header; the prefix is configurable", async () => {
    const worker = await startWorker({
      AUTHZ_CONFIG: config(jwks.url),
      UPSTREAM: petstore.url,
      FORWARD_AUTHORIZATION: "false",
      IDENTITY_HEADER_PREFIX: "X-Caller-",
    });
    try {
      await worker.policies.put("pet-veterinarian", JSON.stringify(VET_POLICY));
      const response = await worker.fetch("/petstore/v1/pets", {
        clock: NOW,
        headers: fromVet(accessToken(), { "x-caller-sub": "forged" }),
      });
      const echo = await response.json();
      assert.equal(echo.headers.authorization, undefined);
      assert.equal(echo.headers["x-caller-sub"], "a1b2c3d4-0000-4000-8000-000000000001");
      assert.equal(echo.headers["x-authz-sub"], undefined);
      assert.equal(response.headers.get("edge-authz-reason"), null, "the reason is exposed only when asked for");
    } finally {
      await worker.dispose();
    }
  });

  test("policies from a URL: fetched once, revalidated by ETag after the TTL, failures → 503", async () => {
    const document = { groups: { "pet-veterinarian": VET_POLICY } };
    const served = { requests: [], down: false };
    const server = createServer((request, response) => {
      served.requests.push(request.headers["if-none-match"] ?? null);
      if (served.down) return response.writeHead(500).end();
      if (request.headers["if-none-match"] === '"v1"') return response.writeHead(304).end();
      response.writeHead(200, { "content-type": "application/json", etag: '"v1"' }).end(JSON.stringify(document));
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const policiesUrl = `http://127.0.0.1:${server.address().port}/policies.json`;
    const worker = await startWorker(
      {
        AUTHZ_CONFIG: config(jwks.url, { policies: { ttlSeconds: 1, maxStaleSeconds: 0 } }),
        UPSTREAM: petstore.url,
        POLICIES_URL: policiesUrl,
        POLICIES_URL_TTL_SECONDS: "0",
        EXPOSE_REASON: "true",
      },
      { kv: false },
    );
    try {
      const token = accessToken();
      const first = await worker.fetch("/petstore/v1/pets", { clock: NOW, headers: fromVet(token) });
      assert.equal(first.status, 200);
      await first.body?.cancel();
      const second = await worker.fetch("/petstore/v1/pets", { clock: NOW + 5, headers: fromVet(token) });
      assert.equal(second.status, 200);
      await second.body?.cancel();
      assert.deepEqual(served.requests, [null, '"v1"']);
      served.down = true;
      const failing = await worker.fetch("/petstore/v1/pets", { clock: NOW + 10, headers: fromVet(token) });
      assert.equal(failing.status, 503);
      assert.equal(failing.headers.get("edge-authz-reason"), "policies_unavailable");
      await failing.body?.cancel();
    } finally {
      await worker.dispose();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("policies from a URL: one fetch for concurrent requests", () => {
  test("N concurrent requests needing policies while the document is fetched → 1 fetch (single flight)", async () => {
    const N = 8;
    const groups = Array.from({ length: N }, (_, i) => `group-${i}`);
    const document = { groups: Object.fromEntries(groups.map((group) => [group, VET_POLICY])) };
    const served = { requests: 0 };
    const server = createServer((request, response) => {
      served.requests++;
      // Slow enough that every request asks for its group while this fetch runs.
      setTimeout(
        () =>
          response.writeHead(200, { "content-type": "application/json", etag: '"v1"' }).end(JSON.stringify(document)),
        300,
      );
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const policiesUrl = `http://127.0.0.1:${server.address().port}/policies.json`;
    const worker = await startWorker(
      { AUTHZ_CONFIG: config(jwks.url), UPSTREAM: petstore.url, POLICIES_URL: policiesUrl, EXPOSE_REASON: "true" },
      { kv: false },
    );
    try {
      // The JWKS first, so that the requests below reach their policy loads together.
      const warm = await worker.fetch("/petstore/v1/pets", {
        clock: NOW,
        headers: fromVet(accessToken({ groups: [] })),
      });
      await warm.body?.cancel();
      const responses = await Promise.all(
        groups.map((group, i) =>
          worker.fetch("/petstore/v1/pets", {
            clock: NOW,
            headers: fromVet(accessToken({ sub: `a1b2c3d4-0000-4000-8000-00000000001${i}`, groups: [group] })),
          }),
        ),
      );
      for (const response of responses) {
        assert.equal(response.status, 200, response.headers.get("edge-authz-reason") ?? "");
        await response.body?.cancel();
      }
      assert.equal(served.requests, 1);
    } finally {
      await worker.dispose();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("CORS preflight", () => {
  const preflight = {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "GET" },
  };

  test("pass (default): the preflight goes to the origin unauthenticated, without identity headers", async () => {
    const worker = await startWorker({ AUTHZ_CONFIG: config(jwks.url), UPSTREAM: petstore.url });
    try {
      const response = await worker.fetch("/petstore/v1/pets", {
        ...preflight,
        headers: { ...preflight.headers, "x-authz-sub": "forged" },
        clock: NOW,
      });
      assert.equal(response.status, 200);
      const echo = await response.json();
      assert.equal(echo.method, "OPTIONS");
      assert.equal(echo.headers["x-authz-sub"], undefined);
      const plainOptions = await worker.fetch("/petstore/v1/pets", { method: "OPTIONS", clock: NOW });
      assert.equal(plainOptions.status, 401, "an OPTIONS that is not a preflight is authorized");
      await plainOptions.body?.cancel();
    } finally {
      await worker.dispose();
    }
  });

  test("answer: the Worker answers allowed origins itself and adds CORS headers to denials", async () => {
    const worker = await startWorker({
      AUTHZ_CONFIG: config(jwks.url),
      UPSTREAM: petstore.url,
      CORS_PREFLIGHT: "answer",
      CORS_ALLOW_ORIGINS: "https://app.example",
    });
    try {
      const before = petstore.received.length;
      const allowed = await worker.fetch("/petstore/v1/pets", { ...preflight, clock: NOW });
      assert.equal(allowed.status, 204);
      assert.equal(allowed.headers.get("access-control-allow-origin"), "https://app.example");
      assert.match(allowed.headers.get("access-control-allow-headers"), /authorization/);
      const other = await worker.fetch("/petstore/v1/pets", {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
        clock: NOW,
      });
      assert.equal(other.status, 204);
      assert.equal(other.headers.get("access-control-allow-origin"), null);
      assert.equal(petstore.received.length, before, "nothing reached the origin");
      const denied = await worker.fetch("/petstore/v1/pets", {
        headers: { origin: "https://app.example" },
        clock: NOW,
      });
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get("access-control-allow-origin"), "https://app.example");
      await denied.body?.cancel();
    } finally {
      await worker.dispose();
    }
  });

  test("authorize: a preflight without a token is refused", async () => {
    const worker = await startWorker({
      AUTHZ_CONFIG: config(jwks.url),
      UPSTREAM: petstore.url,
      CORS_PREFLIGHT: "authorize",
    });
    try {
      const response = await worker.fetch("/petstore/v1/pets", { ...preflight, clock: NOW });
      assert.equal(response.status, 401);
      await response.body?.cancel();
    } finally {
      await worker.dispose();
    }
  });
});
