// The Node API beyond the suite: a JWKS server on loopback with key rotation, single-flight
// fetches, timeouts, policies from a file, an object, a URL (ETag + TTL) and a function,
// synchronous node:crypto verification, and every configuration / input error.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { after, before, describe, test } from "node:test";
import { AuthzError, createAuthorizer, nodeCryptoVerifier, normalizeIp } from "../../src/node.js";
import { jwksDocument } from "../support/suite.js";
import { startJwksServer } from "../support/servers.js";
import { NOW, VET_POLICY, accessToken, keys, poolConfig } from "./fixtures.js";

const vet = (token, extra = {}) => ({
  method: "GET",
  path: "/petstore/v1/pets",
  headers: { authorization: `Bearer ${token}` },
  sourceIp: "192.0.2.10",
  ...extra,
});
const policies = { groups: { "pet-veterinarian": VET_POLICY } };

let jwks;
before(async () => {
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
});
after(() => jwks.close());

describe("JWKS over fetch", () => {
  test("allows a valid token and gives the identity; the JWKS is fetched once", async () => {
    jwks.state.fetches = 0;
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const decision = await authorizer.authorize(vet(accessToken()));
    assert.equal(decision.outcome, "allow", decision.reason);
    assert.equal(decision.status, 200);
    assert.equal(decision.context.sub, "a1b2c3d4-0000-4000-8000-000000000001");
    assert.equal(decision.context.clientId, "suite-client");
    assert.equal((await authorizer.authorize(vet(accessToken({ sub: "other" })))).outcome, "allow");
    assert.equal(jwks.state.fetches, 1);
  });

  test("concurrent first requests share one fetch (single-flight)", async () => {
    jwks.state.fetches = 0;
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => authorizer.authorize(vet(accessToken({ sub: `user-${i}` })))),
    );
    assert.deepEqual(new Set(decisions.map((d) => d.outcome)), new Set(["allow"]));
    assert.equal(jwks.state.fetches, 1);
  });

  test("a token signed with a rotated-in key refreshes the JWKS (unknown kid); the retired key is refused", async () => {
    jwks.state.body = jwksDocument(keys, ["suite-rsa-1"]);
    jwks.state.fetches = 0;
    let now = NOW;
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => now, log: false });
    assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
    jwks.state.body = jwksDocument(keys, ["suite-rsa-2"]);
    now += 60; // past the unknown-kid penalty
    const rotated = await authorizer.authorize(vet(accessToken({ kid: "suite-rsa-2", sub: "rotated" })));
    assert.equal(rotated.outcome, "allow", rotated.reason);
    assert.equal(jwks.state.fetches, 2);
    const retired = await authorizer.authorize(vet(accessToken({ sub: "fresh-token-old-key" })));
    assert.equal(retired.reason, "unknown_kid");
    assert.equal(retired.status, 403);
  });

  test("JWKS down with nothing cached: 503, never an allow; a failed fetch is logged without the token", async () => {
    jwks.state.body = jwksDocument(keys, ["suite-rsa-1"]);
    jwks.state.down = true;
    const events = [];
    try {
      const authorizer = createAuthorizer(poolConfig(jwks.url), {
        policies,
        now: () => NOW,
        log: (e) => events.push(e),
      });
      const token = accessToken();
      const decision = await authorizer.authorize(vet(token));
      assert.equal(decision.status, 503);
      assert.equal(decision.outcome, "unavailable");
      assert.ok(
        events.some((e) => e.event === "jwks_failed" && e.code === "jwks_http_error"),
        JSON.stringify(events),
      );
      assert.ok(!JSON.stringify(events).includes(token.split(".")[2]), "a token reached the log");
    } finally {
      jwks.state.down = false;
    }
  });

  test("a JWKS endpoint that never answers times out (jwksTimeoutMs) into a 503", async () => {
    const hang = createServer(() => {});
    await new Promise((resolve) => hang.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${hang.address().port}/jwks.json`;
      const authorizer = createAuthorizer(poolConfig(url), {
        policies,
        now: () => NOW,
        log: false,
        jwksTimeoutMs: 200,
      });
      const started = Date.now();
      const decision = await authorizer.authorize(vet(accessToken()));
      assert.equal(decision.status, 503);
      assert.ok(Date.now() - started < 3000);
    } finally {
      hang.closeAllConnections();
      await new Promise((resolve) => hang.close(resolve));
    }
  });

  test("a preloaded JWKS answers the first fetch without the network", async () => {
    jwks.state.fetches = 0;
    const url = "https://issuer.invalid/jwks.json";
    const authorizer = createAuthorizer(poolConfig(url), {
      policies,
      now: () => NOW,
      log: false,
      jwks: { [url]: JSON.parse(jwksDocument(keys, ["suite-rsa-1"])) },
      fetch: () => Promise.reject(new Error("no network")),
    });
    assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
  });
});

describe("signatures with node:crypto", () => {
  test("the verifier answers synchronously (a boolean, no promise) and rejects a forged signature", () => {
    const verify = nodeCryptoVerifier();
    const [header, payload, signature] = accessToken().split(".");
    const jwk = JSON.stringify(JSON.parse(jwksDocument(keys, ["suite-rsa-1"])).keys[0]);
    const check = {
      algorithm: "RS256",
      jwk,
      signingInput: `${header}.${payload}`,
      signature: Buffer.from(signature, "base64url"),
    };
    assert.equal(verify(check), true);
    assert.equal(verify({ ...check, signingInput: `${header}.${payload}x` }), false);
    assert.equal(verify({ ...check, algorithm: "none" }), false);
  });

  test("node:crypto verifies inline, in the core's one pass; keys are imported once per key id", async () => {
    const { EdgeAuthorizer } = await import("../../src/authorizer.js");
    const { wasm } = await import("../support/wasm-node.js");
    const verify = nodeCryptoVerifier();
    const calls = [];
    const glue = new EdgeAuthorizer(wasm, {
      config: JSON.stringify({ ...poolConfig("https://i.test/jwks.json"), policies }),
      hashKey: new Uint8Array(8),
      io: {
        fetchJwks: async () => new TextEncoder().encode(jwksDocument(keys, ["suite-rsa-1"])),
        verifySignature: () => assert.fail("no checkSignature step with a synchronous verifier"),
        verifySignatureSync: (check) => {
          calls.push({
            keyId: check.keyId,
            jwk: check.jwk !== undefined,
            bytes: check.signingInput instanceof Uint8Array,
          });
          return verify(check);
        },
      },
    });
    const input = (token) => ({
      method: "GET",
      path: "/petstore/v1/pets",
      headers: [["authorization", `Bearer ${token}`]],
      sourceIp: "192.0.2.10",
    });
    assert.equal((await glue.authorize(input(accessToken()), NOW)).outcome, "allow");
    assert.equal((await glue.authorize(input(accessToken({ sub: "other" })), NOW)).outcome, "allow");
    const [h, p, s] = accessToken({ sub: "third" }).split(".");
    const forged = `${h}.${p}.${Buffer.from(s, "base64url").reverse().toString("base64url")}`;
    assert.equal((await glue.authorize(input(forged), NOW)).reason, "bad_signature");
    // First token: asked without the JWK (unknown id → undefined), then with it; later tokens: the id alone.
    assert.equal(calls.length, 4);
    assert.deepEqual(
      calls.map((c) => c.jwk),
      [false, true, false, false],
    );
    assert.ok(calls.every((c) => typeof c.keyId === "number" && c.keyId === calls[0].keyId && c.bytes));
  });

  test("a synchronous verifier that throws denies (bad_signature) and is logged", async () => {
    const { EdgeAuthorizer } = await import("../../src/authorizer.js");
    const { wasm } = await import("../support/wasm-node.js");
    const events = [];
    const glue = new EdgeAuthorizer(wasm, {
      config: JSON.stringify({ ...poolConfig("https://i.test/jwks.json"), policies }),
      hashKey: new Uint8Array(8),
      io: {
        fetchJwks: async () => new TextEncoder().encode(jwksDocument(keys, ["suite-rsa-1"])),
        verifySignature: () => assert.fail("no checkSignature step with a synchronous verifier"),
        verifySignatureSync: () => {
          throw new Error("boom");
        },
        log: (event) => events.push(event),
      },
    });
    const decision = await glue.authorize(
      {
        method: "GET",
        path: "/petstore/v1/pets",
        headers: [["authorization", `Bearer ${accessToken()}`]],
        sourceIp: "192.0.2.10",
      },
      NOW,
    );
    assert.equal(decision.outcome, "forbidden");
    assert.equal(decision.reason, "bad_signature");
    assert.ok(events.some((e) => e.event === "signature_check_failed" && e.message === "boom"));
  });

  test("a tampered payload is denied", async () => {
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const [h, p, s] = accessToken().split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "admin" })).toString("base64url");
    const decision = await authorizer.authorize(vet(`${h}.${forged}.${s}`));
    assert.equal(decision.reason, "bad_signature");
    assert.equal(decision.status, 403);
  });
});

describe("policies", () => {
  test("from a file, validated at construction", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-authz-"));
    writeFileSync(join(dir, "policies.json"), JSON.stringify(policies));
    for (const given of [join(dir, "policies.json"), { file: join(dir, "policies.json") }]) {
      const authorizer = createAuthorizer(poolConfig(jwks.url), { policies: given, now: () => NOW, log: false });
      assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
      assert.equal((await authorizer.authorize(vet(accessToken(), { path: "/admin" }))).status, 403);
    }
    writeFileSync(
      join(dir, "bad.json"),
      JSON.stringify({ groups: { "pet-veterinarian": { Statement: [{ Effect: "Maybe" }] } } }),
    );
    assert.throws(
      () => createAuthorizer(poolConfig(jwks.url), { policies: join(dir, "bad.json") }),
      (e) => e.code === "invalid_config" && /pet-veterinarian/.test(e.message) && /Effect/.test(e.message),
    );
    // A group named twice: JSON.parse would keep the second (Allow) without a word.
    const deny = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }] });
    writeFileSync(
      join(dir, "twice.json"),
      `{"groups": {"pet-veterinarian": ${deny}, "pet-veterinarian": ${JSON.stringify(VET_POLICY)}}}`,
    );
    assert.throws(
      () => createAuthorizer(poolConfig(jwks.url), { policies: join(dir, "twice.json") }),
      (e) =>
        e.code === "invalid_config" &&
        e.message ===
          `options.policies: ${join(dir, "twice.json")}: groups.pet-veterinarian: repeated member "pet-veterinarian"`,
    );
    assert.throws(
      () => createAuthorizer(poolConfig(jwks.url), { policies: join(dir, "missing.json") }),
      (e) => e.code === "invalid_config" && /options\.policies/.test(e.message) && /ENOENT/.test(e.message),
    );
  });

  test("from the caller's async function (a Map or an object; null = no policy; a throw = 503)", async () => {
    const asked = [];
    let failing = false;
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      now: () => NOW,
      log: false,
      policies: async (groups) => {
        asked.push(groups);
        if (failing) throw new Error("DynamoDB throttled");
        return new Map([["pet-veterinarian", VET_POLICY]]);
      },
    });
    assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
    assert.deepEqual(asked, [["pet-veterinarian"]]);
    failing = true;
    const other = await authorizer.authorize(vet(accessToken({ groups: ["pet-groomer"], sub: "groomer" })));
    assert.equal(other.status, 503);
  });

  test("from a URL: ETag revalidation after the TTL, 304 keeps the copy, a failure with nothing cached is 503", async () => {
    const served = { etag: '"v1"', body: JSON.stringify(policies), requests: [], fail: false };
    const server = createServer((req, res) => {
      served.requests.push(req.headers["if-none-match"] ?? null);
      if (served.fail) return res.writeHead(500).end();
      if (req.headers["if-none-match"] === served.etag) return res.writeHead(304).end();
      res.writeHead(200, { etag: served.etag, "content-type": "application/json" }).end(served.body);
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${server.address().port}/policies.json`;
      let now = NOW;
      const authorizer = createAuthorizer(poolConfig(jwks.url, { policies: { ttlSeconds: 1 } }), {
        policies: { url, ttlSeconds: 0 },
        now: () => now,
        log: false,
      });
      assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
      now += 5; // past the core's policy TTL: asked again, revalidated with If-None-Match
      assert.equal((await authorizer.authorize(vet(accessToken({ sub: "second" })))).outcome, "allow");
      assert.deepEqual(served.requests, [null, '"v1"']);
      const broken = createAuthorizer(poolConfig(jwks.url), {
        policies: url.replace("policies.json", "x"),
        now: () => NOW,
        log: false,
      });
      served.fail = true;
      assert.equal((await broken.authorize(vet(accessToken()))).status, 503);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("repeated requests (the per-second memo)", () => {
  test("a caller changing decision.context does not change the next decision", async () => {
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const token = accessToken();
    const first = await authorizer.authorize(vet(token));
    first.context.sub = "tampered";
    first.outcome = "forbidden";
    const second = await authorizer.authorize(vet(token));
    assert.equal(second.outcome, "allow");
    assert.equal(second.context.sub, "a1b2c3d4-0000-4000-8000-000000000001");
  });

  test("the next second is decided anew: a token expires on time", async () => {
    let now = NOW;
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => now, log: false });
    const token = accessToken({ exp: NOW + 1 });
    assert.equal((await authorizer.authorize(vet(token))).outcome, "allow");
    assert.equal((await authorizer.authorize(vet(token))).outcome, "allow");
    now = NOW + 2;
    const expired = await authorizer.authorize(vet(token));
    assert.equal(expired.outcome, "forbidden");
    assert.equal(expired.reason, "expired");
  });

  test("any header, the address or the query changes the decision's key", async () => {
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const token = accessToken();
    assert.equal((await authorizer.authorize(vet(token))).outcome, "allow");
    assert.equal((await authorizer.authorize(vet(token, { sourceIp: "203.0.113.1" }))).status, 403);
    assert.equal((await authorizer.authorize(vet(token, { path: "/admin" }))).status, 403);
    assert.equal(
      (await authorizer.authorize(vet(token, { headers: { authorization: `Bearer ${token}x` } }))).outcome === "allow",
      false,
    );
  });

  test("the memo is dropped whenever keys or policies are (re)loaded (the glue's generation)", async () => {
    const { EdgeAuthorizer } = await import("../../src/authorizer.js");
    const { wasm } = await import("../support/wasm-node.js");
    const glue = new EdgeAuthorizer(wasm, {
      config: JSON.stringify(poolConfig("https://i.test/jwks.json")),
      hashKey: new Uint8Array(8),
      io: {
        fetchJwks: async () => new TextEncoder().encode(jwksDocument(keys, ["suite-rsa-1"])),
        loadPolicies: async () => new Map([["pet-veterinarian", JSON.stringify(VET_POLICY)]]),
        verifySignature: nodeCryptoVerifier(),
      },
    });
    const input = {
      method: "GET",
      path: "/petstore/v1/pets",
      headers: [["authorization", `Bearer ${accessToken()}`]],
      sourceIp: "192.0.2.10",
    };
    const before = glue.generation;
    assert.equal((await glue.authorize(input, NOW)).outcome, "allow");
    const loaded = glue.generation;
    assert.ok(loaded >= before + 4, `JWKS fetch and policy load bump the generation (${before} → ${loaded})`);
    assert.equal((await glue.authorize(input, NOW)).outcome, "allow");
    assert.equal(glue.generation, loaded, "a cached decision changes nothing");
  });
});

describe("the memo's key and bounds (issue 14)", () => {
  const token = accessToken();
  /** Headers a caller can give only once: a second read yields nothing (and is counted). */
  function oneShot(pairs) {
    const state = { reads: 0 };
    const iterable = {
      [Symbol.iterator]() {
        state.reads++;
        return state.reads === 1 ? pairs[Symbol.iterator]() : [][Symbol.iterator]();
      },
    };
    return { iterable, state };
  }
  function* generated(pairs) {
    yield* pairs;
  }

  test("a one-shot iterable or generator of headers is read once; a later request without a token never gets its allow", async () => {
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const pairs = [
      ["authorization", `Bearer ${token}`],
      ["accept", "*/*"],
    ];
    for (let i = 0; i < 3; i++) {
      const { iterable, state } = oneShot(pairs);
      assert.equal((await authorizer.authorize(vet(token, { headers: iterable }))).outcome, "allow");
      assert.equal(state.reads, 1);
      assert.equal((await authorizer.authorize(vet(token, { headers: generated(pairs) }))).outcome, "allow");
    }
    for (const headers of [generated([]), [], {}, undefined, new Headers(), new Map()]) {
      const decision = await authorizer.authorize(vet(token, { headers }));
      assert.deepEqual([decision.outcome, decision.reason], ["unauthorized", "no_credentials"]);
    }
  });

  test("Headers, a Map, pairs and a Node object are the same request", async () => {
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const forms = [
      { authorization: `Bearer ${token}` },
      new Headers({ authorization: `Bearer ${token}` }),
      new Map([["authorization", `Bearer ${token}`]]),
      [["authorization", `Bearer ${token}`]],
    ];
    for (const headers of [...forms, ...forms])
      assert.equal((await authorizer.authorize(vet(token, { headers }))).outcome, "allow");
    await assert.rejects(
      authorizer.authorize(vet(token, { headers: [["authorization"]] })),
      (e) => e.code === "invalid_request",
    );
  });

  test("the router's matching is part of the key: the same request under other matching is decided anew", async () => {
    const denyAdmin = structuredClone(VET_POLICY);
    denyAdmin.Statement[0].Resource = ["arn:aws:execute-api:*:*:*/*/*/petstore/*"];
    denyAdmin.Statement.push({
      Effect: "Deny",
      Action: "execute-api:Invoke",
      Resource: "arn:aws:execute-api:*:*:*/*/GET/petstore/v2/admin",
    });
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies: { groups: { "pet-veterinarian": denyAdmin } },
      now: () => NOW,
      log: false,
    });
    const upper = vet(token, { path: "/petstore/v2/ADMIN" });
    for (let i = 0; i < 2; i++) {
      assert.equal((await authorizer.authorize(upper)).status, 200, "IAM matching is case-sensitive");
      assert.equal((await authorizer.authorize({ ...upper, matching: { caseSensitive: false } })).status, 403);
      assert.equal((await authorizer.authorize({ ...upper, matching: { caseSensitive: true } })).status, 200);
      const slash = await authorizer.authorize({
        ...vet(token, { path: "/petstore/v1/pets/" }),
        matching: { trailingSlash: "strip" },
      });
      assert.deepEqual([slash.status, slash.path], [200, "/petstore/v1/pets"]);
      const merged = await authorizer.authorize({
        ...vet(token, { path: "/petstore//v2/admin" }),
        matching: { mergeSlashes: true },
      });
      assert.deepEqual([merged.status, merged.path], [403, "/petstore/v2/admin"]);
      assert.equal((await authorizer.authorize(vet(token, { path: "/petstore//v2/admin" }))).status, 400);
    }
  });

  test("memory is bounded by bytes: distinct requests of 1,000 headers (and of 100) do not pile up", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc");
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    assert.equal((await authorizer.authorize(vet(token))).outcome, "allow"); // the caller is known from now on
    const many = (count, i) => [
      ["authorization", `Bearer ${token}`],
      ...Array.from({ length: count }, (_, h) => [`x-header-${h}`, `value-${i}-${h}`]),
    ];
    gc();
    const start = process.memoryUsage().heapUsed;
    // Unbounded, these memo entries would hold ~350 KiB each (1,000 headers) and ~35 KiB
    // each (100 headers): 150 MB in all, all in the same second.
    for (let i = 0; i < 200; i++)
      assert.equal((await authorizer.authorize(vet(token, { headers: many(1000, i) }))).outcome, "allow");
    for (let i = 0; i < 2000; i++)
      assert.equal((await authorizer.authorize(vet(token, { headers: many(100, i) }))).outcome, "allow");
    gc();
    const grown = process.memoryUsage().heapUsed - start;
    assert.ok(grown < 24 * 1024 * 1024, `the heap grew by ${(grown / 1048576).toFixed(1)} MiB`);
    // Used after the measure, so that the collector could not free it (and its memo) before.
    assert.equal((await authorizer.authorize(vet(token))).outcome, "allow");
  });
});

describe("errors say what and where", () => {
  const bad = [
    [() => createAuthorizer(undefined), /^config: must be the edge-authz configuration/],
    [() => createAuthorizer("{not json"), /^config: not JSON/],
    [
      () =>
        createAuthorizer('{"issuers": [], "request": {"caseSensitive": true, "caseSensitive": false}}', { policies }),
      /^config: request\.caseSensitive: repeated member "caseSensitive"$/,
    ],
    [() => createAuthorizer({ issuers: [{ issuer: "x" }] }, { policies }), /issuers\[0\]\.audience: is required/],
    [
      () => createAuthorizer(poolConfig("https://i.test/j")),
      /^options\.policies: the configuration has no policies\.groups/,
    ],
    [
      () => createAuthorizer(poolConfig("https://i.test/j"), { policies, polices: 1 }),
      /^options: unknown option `polices`/,
    ],
    [
      () => createAuthorizer(poolConfig("https://i.test/j"), { policies: { groups: [] } }),
      /^options\.policies: must be a policy document/,
    ],
    [
      () => createAuthorizer(poolConfig("https://i.test/j"), { policies: { url: "ftp://x/p.json" } }),
      /^options\.policies\.url: must be http\(s\)/,
    ],
    [
      () => createAuthorizer(poolConfig("https://i.test/j"), { policies, jwksTimeoutMs: -1 }),
      /^options\.jwksTimeoutMs: must be a non-negative number/,
    ],
    [
      () => createAuthorizer(poolConfig("https://i.test/j"), { policies, jwks: { "https://i.test/j": 5 } }),
      /^options\.jwks\["https:\/\/i\.test\/j"\]: must be a JWK Set/,
    ],
    [
      () => createAuthorizer({ ...poolConfig("https://i.test/j"), policies: { groups: {} } }, { policies }),
      /^options\.policies: the configuration already bundles/,
    ],
  ];
  for (const [build, message] of bad) {
    test(`${message}`, () => {
      assert.throws(
        build,
        (error) => error instanceof AuthzError && error.code === "invalid_config" && message.test(error.message),
      );
    });
  }

  test("bad input rejects with invalid_request (never a decision)", async () => {
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const cases = [
      [null, /expected \{method, path, headers, sourceIp\}/],
      [{ method: "GET", path: 5 }, /path must be a string/],
      [{ method: 7, path: "/" }, /method must be a string/],
      [
        { method: "GET", path: "/", matching: { trailingSlash: "drop" } },
        /matching\.trailingSlash must be "keep" or "strip"/,
      ],
      [
        { method: "GET", path: "/", matching: { caseSensitive: "no" } },
        /matching\.caseSensitive must be true or false/,
      ],
      [{ method: "GET", path: "/", sourceIp: "999.1.1.1" }, /sourceIp `999\.1\.1\.1` is not an IP address/],
      [{ method: "GET", path: "/", headers: 5 }, /headers must be/],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(
        authorizer.authorize(input),
        (error) => error.code === "invalid_request" && message.test(error.message),
      );
    }
    // A NUL would shift the pairs the core receives (here smuggling a second Authorization):
    // the pair counts catch it and the core decides it 400 `request_nul`.
    const smuggled = await authorizer.authorize({
      method: "GET",
      path: "/",
      headers: { "x-a": "v\0authorization\0Bearer forged" },
    });
    assert.equal(smuggled.outcome, "bad_request");
    assert.equal(smuggled.reason, "request_nul");
    assert.equal(smuggled.status, 400);
  });

  test("a path or method the core refuses is a 400 decision, as on every runtime (not a rejection)", async () => {
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    for (const [input, reason] of [
      [{ method: "GET", path: "pets" }, "path_not_origin_form"],
      [{ method: "GET", path: "http://h/petstore/v1/pets" }, "path_not_origin_form"],
      [{ method: "G T", path: "/petstore/v1/pets" }, "invalid_method"],
      [{ method: "GET", path: "/petstore/v1/../v1/pets" }, "path_dot_segment"],
    ]) {
      const decision = await authorizer.authorize({ ...input, headers: { authorization: `Bearer ${accessToken()}` } });
      assert.deepEqual(
        [decision.outcome, decision.status, decision.reason, JSON.parse(decision.body)],
        ["bad_request", 400, reason, { message: "Bad Request" }],
      );
    }
  });

  test("an IPv4 client on a dual-stack socket counts as IPv4 (policy conditions match)", async () => {
    assert.equal(normalizeIp("::ffff:192.0.2.10"), "192.0.2.10");
    assert.equal(normalizeIp("::ffff"), "::ffff");
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    assert.equal((await authorizer.authorize(vet(accessToken(), { sourceIp: "::ffff:192.0.2.10" }))).outcome, "allow");
    assert.equal((await authorizer.authorize(vet(accessToken(), { sourceIp: "203.0.113.1" }))).status, 403);
  });
});
