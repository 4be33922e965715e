// Observability and extension points (issue 17) on real parts: the Node API against a JWKS
// server on loopback, a real Express and a real Fastify app on loopback, and Lambda@Edge
// viewer-request events. `onDecision` (one event per decision, never the token, a throwing
// hook changes nothing), `jwks_fetched`/`jwks_failed` naming the JWKS URL, `hydrate()`, and
// `claimCheck` (refuses an allow, never widens a denial).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import express from "express";
import Fastify from "fastify";
import { AuthzError, createAuthorizer } from "../../src/node.js";
import { edgeAuthz as expressAuthz } from "../../src/express.js";
import { edgeAuthz as fastifyAuthz } from "../../src/fastify.js";
import { createHandler } from "../../src/lambda-edge.js";
import { jwksDocument, tokenOf } from "../support/suite.js";
import { startJwksServer } from "../support/servers.js";
import { rawRequest } from "../support/raw-http.js";
import { ISSUER, NOW, VET_POLICY, accessToken, keys, poolConfig } from "./fixtures.js";
import { viewerRequest } from "./lambda-edge-events.js";

const SUB = "a1b2c3d4-0000-4000-8000-000000000001";
const policies = { groups: { "pet-veterinarian": VET_POLICY } };
const vet = (token, extra = {}) => ({
  method: "get",
  path: "/petstore/v1/pets?limit=5",
  headers: { authorization: `Bearer ${token}` },
  sourceIp: "192.0.2.10",
  ...extra,
});
const EVENT_KEYS = ["outcome", "reason", "status", "method", "path", "authorizedPath", "latencyMs", "principal"];

/** No part of the token, nor the header carrying it, in what the hook or the log got. */
function assertNoToken(events, token) {
  const text = JSON.stringify(events);
  for (const part of token.split("."))
    assert.ok(!text.includes(part), "a part of the token reached the hook or the log");
  assert.ok(!/bearer/i.test(text), "the Authorization header reached the hook or the log");
}

let jwks;
before(async () => {
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
});
after(() => jwks.close());

describe("onDecision (Node API)", () => {
  test("one event per decision: outcome, reason, status, method, path (no query), latency, principal; never the token", async () => {
    const events = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: false,
      onDecision: (event) => events.push(event),
    });
    const token = accessToken();
    const allowed = await authorizer.authorize(vet(token));
    assert.equal(allowed.outcome, "allow", allowed.reason);
    // The same request again (memoised within the second) is a decision too.
    await authorizer.authorize(vet(token));
    const noToken = await authorizer.authorize({ method: "GET", path: "/petstore/v1/pets", sourceIp: "192.0.2.10" });
    const policyDenied = await authorizer.authorize(vet(token, { sourceIp: "198.51.100.7" }));
    assert.equal(noToken.status, 401);
    assert.equal(policyDenied.reason, "implicit_deny");
    assert.equal(events.length, 4);
    for (const event of events) {
      for (const key of Object.keys(event)) assert.ok(EVENT_KEYS.includes(key), `unexpected member ${key}`);
      assert.equal(typeof event.latencyMs, "number");
      assert.ok(event.latencyMs >= 0);
      assert.equal(event.method, "GET");
      assert.equal(event.path, "/petstore/v1/pets");
      assert.ok(!("authorizedPath" in event));
    }
    assert.deepEqual(
      events.map(({ outcome, reason, status, principal }) => ({ outcome, reason, status, principal })),
      [
        { outcome: "allow", reason: "allowed", status: 200, principal: SUB },
        { outcome: "allow", reason: "allowed", status: 200, principal: SUB },
        { outcome: "unauthorized", reason: "no_credentials", status: 401, principal: undefined },
        { outcome: "forbidden", reason: "implicit_deny", status: 403, principal: SUB },
      ],
    );
    assert.ok(!("principal" in events[2]));
    assertNoToken(events, token);
  });

  test("a token refused before the policies: no principal; a rewritten path is reported as authorizedPath", async () => {
    const events = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url, { request: { dotSegments: "resolve" } }), {
      policies,
      now: () => NOW,
      log: false,
      onDecision: (event) => events.push(event),
    });
    await authorizer.authorize(vet(accessToken({ exp: NOW - 10 })));
    await authorizer.authorize(vet(accessToken(), { path: "/petstore/v1/x/../pets" }));
    assert.equal(events[0].reason, "expired");
    assert.ok(!("principal" in events[0]));
    assert.equal(events[1].outcome, "allow");
    assert.equal(events[1].path, "/petstore/v1/x/../pets");
    assert.equal(events[1].authorizedPath, "/petstore/v1/pets");
  });

  test("a hook that throws or rejects changes no answer; it is logged through `log`", async () => {
    const logged = [];
    for (const onDecision of [
      () => {
        throw new Error("hook down");
      },
      async () => {
        throw new Error("hook down");
      },
    ]) {
      const authorizer = createAuthorizer(poolConfig(jwks.url), {
        policies,
        now: () => NOW,
        log: (event) => logged.push(event),
        onDecision,
      });
      const decision = await authorizer.authorize(vet(accessToken()));
      assert.equal(decision.outcome, "allow");
      assert.equal((await authorizer.authorize(vet(""))).status, 401);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(
      logged.filter((event) => event.event === "on_decision_failed" && event.message === "hook down").length,
      4,
    );
  });

  test("a log that throws or rejects changes no answer and leaves no unhandled rejection", async () => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // VET_POLICY's greedy wildcard is a policy_warning at construction; the JWKS fetch and
      // the hook's failure are logged per request.
      for (const log of [
        (event) => {
          throw new Error(`log sink down (${event.event})`);
        },
        async (event) => {
          throw new Error(`log sink down (${event.event})`);
        },
      ]) {
        const authorizer = createAuthorizer(poolConfig(jwks.url), {
          policies,
          now: () => NOW,
          log,
          onDecision: () => {
            throw new Error("hook down");
          },
        });
        assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
        assert.equal((await authorizer.authorize(vet(""))).status, 401);
        const handler = createHandler({ config: poolConfig(jwks.url), policies, now: () => NOW, log });
        const forwarded = await handler(viewerRequest({ token: accessToken(), clientIp: "192.0.2.10" }));
        assert.equal(forwarded.uri, "/petstore/v1/pets");
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(
        unhandled.map((reason) => reason?.message ?? String(reason)),
        [],
      );
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("onDecision and claimCheck must be functions (invalid_config at construction)", () => {
    for (const name of ["onDecision", "claimCheck"]) {
      assert.throws(
        () => createAuthorizer(poolConfig(jwks.url), { policies, [name]: "yes" }),
        (error) =>
          error instanceof AuthzError && error.code === "invalid_config" && error.message.includes(`options.${name}`),
      );
    }
  });
});

describe("JWKS log events name the JWKS URL", () => {
  test("jwks_fetched and jwks_failed carry jwksUri and issuerIndex", async () => {
    const events = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: (event) => events.push(event),
    });
    await authorizer.authorize(vet(accessToken()));
    const fetched = events.find((event) => event.event === "jwks_fetched");
    assert.deepEqual(
      { jwksUri: fetched.jwksUri, issuerIndex: fetched.issuerIndex, issuer: fetched.issuer },
      { jwksUri: jwks.url, issuerIndex: 0, issuer: undefined },
    );
    jwks.state.down = true;
    try {
      const failing = createAuthorizer(poolConfig(jwks.url), {
        policies,
        now: () => NOW,
        log: (event) => events.push(event),
      });
      await failing.authorize(vet(accessToken()));
    } finally {
      jwks.state.down = false;
    }
    const failed = events.find((event) => event.event === "jwks_failed");
    assert.equal(failed.jwksUri, jwks.url);
    assert.equal(failed.issuerIndex, 0);
    assert.ok(!("issuer" in failed));
  });
});

describe("hydrate()", () => {
  test("fetches every issuer's JWKS now: the first request then fetches nothing", async () => {
    jwks.state.fetches = 0;
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    assert.equal(await authorizer.hydrate(), undefined);
    assert.equal(jwks.state.fetches, 1);
    assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
    assert.equal(jwks.state.fetches, 1);
  });

  test("a request arriving while hydrate() fetches waits for that fetch: one fetch in all", async () => {
    jwks.state.fetches = 0;
    const authorizer = createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });
    const [, decision] = await Promise.all([authorizer.hydrate(), authorizer.authorize(vet(accessToken()))]);
    assert.equal(decision.outcome, "allow", decision.reason);
    assert.equal(jwks.state.fetches, 1);
  });

  test("the URL is the core's: derived from a pool's `issuer` when there is no jwksUri, per issuer", async () => {
    jwks.state.fetches = 0;
    const root = jwks.url.replace(/\/\.well-known\/jwks\.json$/, "");
    const config = {
      issuers: [
        { userPoolId: "us-east-1_SuitePool1", tokenUse: "access", clientId: ["suite-client"], jwksUri: jwks.url },
        { userPoolId: "us-east-1_Emulated1", issuer: root, tokenUse: "access", clientId: ["suite-client"] },
      ],
    };
    const authorizer = createAuthorizer(config, { policies, now: () => NOW, log: false });
    await authorizer.hydrate();
    assert.equal(jwks.state.fetches, 2);
    const claims = {
      iss: root,
      sub: "emulated",
      "cognito:groups": ["pet-veterinarian"],
      token_use: "access",
      client_id: "suite-client",
      iat: NOW - 60,
      exp: NOW + 3600,
    };
    const decision = await authorizer.authorize(vet(tokenOf({ key: "suite-rsa-1", claims }, keys)));
    assert.equal(decision.outcome, "allow", decision.reason);
    assert.equal(jwks.state.fetches, 2, "the derived URL was fetched by hydrate, not again on demand");
  });

  test("a failure rejects with an AuthzError naming the JWKS URL; the authorizer then fetches on demand", async () => {
    jwks.state.down = true;
    const events = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: (event) => events.push(event),
    });
    try {
      await assert.rejects(
        authorizer.hydrate(),
        (error) =>
          error instanceof AuthzError &&
          error.name === "AuthzError" &&
          error.code === "jwks_http_error" &&
          error.message.includes(jwks.url) &&
          error.message.split(jwks.url).length === 2,
      );
    } finally {
      jwks.state.down = false;
    }
    assert.ok(events.some((event) => event.event === "jwks_failed" && event.jwksUri === jwks.url));
    // Same second, no penalty window: the request fetches the keys itself.
    const decision = await authorizer.authorize(vet(accessToken()));
    assert.equal(decision.outcome, "allow", decision.reason);
  });

  test("a preloaded JWKS (options.jwks) hydrates without the network", async () => {
    const url = "https://issuer.invalid/jwks.json";
    const authorizer = createAuthorizer(poolConfig(url), {
      policies,
      now: () => NOW,
      log: false,
      jwks: { [url]: jwksDocument(keys, ["suite-rsa-1"]) },
      fetch: () => Promise.reject(new Error("no network")),
    });
    await authorizer.hydrate();
    assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
  });
});

describe("claimCheck (Node API)", () => {
  const tenantToken = (tenant) =>
    tokenOf(
      {
        key: "suite-rsa-1",
        claims: {
          iss: ISSUER,
          sub: SUB,
          "cognito:groups": ["pet-veterinarian"],
          token_use: "access",
          client_id: "suite-client",
          tenant,
          iat: NOW - 60,
          exp: NOW + 3600,
        },
      },
      keys,
    );

  test("runs on allows with the identity context (configured context.claims included) and the request", async () => {
    const calls = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url, { context: { claims: ["tenant"] } }), {
      policies,
      now: () => NOW,
      log: false,
      claimCheck: (claims, request) => {
        calls.push({ claims, request });
        return claims.tenant === "acme";
      },
    });
    const allowed = await authorizer.authorize(vet(tenantToken("acme")));
    assert.equal(allowed.outcome, "allow", allowed.reason);
    assert.equal(calls[0].claims.sub, SUB);
    assert.equal(calls[0].claims.tenant, "acme");
    assert.equal(calls[0].claims.groups, "pet-veterinarian");
    // The path judged is the one authorized (and served), canonical, without the query.
    assert.equal(calls[0].request.path, "/petstore/v1/pets");
    assert.equal(calls[0].request.receivedPath, "/petstore/v1/pets?limit=5");
    const refused = await authorizer.authorize(vet(tenantToken("other")));
    assert.deepEqual(
      { outcome: refused.outcome, reason: refused.reason, status: refused.status },
      { outcome: "forbidden", reason: "claim_check_failed", status: 403 },
    );
    assert.equal(refused.body, JSON.stringify({ Message: "User is not authorized to access this resource" }));
    // Memoised by the core, checked again: the hook sees every allow.
    await authorizer.authorize(vet(tenantToken("other")));
    assert.equal(calls.length, 3);
  });

  test("never widens: not called for a denial", async () => {
    let calls = 0;
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: false,
      claimCheck: () => (calls++, true),
    });
    assert.equal(
      (await authorizer.authorize(vet(accessToken(), { sourceIp: "198.51.100.7" }))).reason,
      "implicit_deny",
    );
    assert.equal((await authorizer.authorize(vet(accessToken({ exp: NOW - 10 })))).reason, "expired");
    assert.equal((await authorizer.authorize({ method: "GET", path: "/petstore/v1/pets" })).reason, "no_credentials");
    assert.equal(calls, 0);
  });

  test("a throw, a rejection or anything but true refuses (403, the configured forbidden response); a throw is logged", async () => {
    const logged = [];
    const forbidden = { status: 403, body: { message: "nope" } };
    const checks = [
      () => {
        throw new Error("claims store down");
      },
      async () => {
        throw new Error("claims store down");
      },
      () => "yes",
      async () => false,
      // A thrown value with no text (String() of it throws) is a refusal too, not a failure.
      () => {
        throw Object.create(null);
      },
    ];
    for (const claimCheck of checks) {
      const events = [];
      const authorizer = createAuthorizer(poolConfig(jwks.url, { responses: { forbidden } }), {
        policies,
        now: () => NOW,
        log: (event) => logged.push(event),
        claimCheck,
        onDecision: (event) => events.push(event),
      });
      const decision = await authorizer.authorize(vet(accessToken()));
      assert.deepEqual(
        { outcome: decision.outcome, reason: decision.reason, status: decision.status, body: decision.body },
        { outcome: "forbidden", reason: "claim_check_failed", status: 403, body: '{"message":"nope"}' },
      );
      assert.deepEqual(
        events.map(({ reason, principal }) => ({ reason, principal })),
        [{ reason: "claim_check_failed", principal: SUB }],
      );
    }
    assert.equal(
      logged.filter((event) => event.event === "claim_check_error" && event.message === "claims store down").length,
      2,
    );
    const passing = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: false,
      claimCheck: async () => true,
    });
    assert.equal((await passing.authorize(vet(accessToken()))).outcome, "allow");
  });
});

/** Runs `use(base)` against an Express app listening on loopback, then closes it. */
async function withExpress(app, use) {
  const server = app.listen(0, "127.0.0.1");
  try {
    await new Promise((resolve) => server.once("listening", resolve));
    return await use(`http://127.0.0.1:${server.address().port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Runs `use(base)` against a Fastify app listening on loopback, then closes it. */
async function withFastify(app, use) {
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    return await use(base);
  } finally {
    await app.close();
  }
}

describe("Express and Fastify on loopback", () => {
  const options = (events) => ({
    config: poolConfig(jwks.url, { request: { dotSegments: "resolve" } }),
    policies,
    now: () => NOW,
    log: false,
    onDecision: (event) => events.push(event),
    claimCheck: (claims) => claims.sub !== "blocked",
  });

  /** Allowed, refused by the claim check, no token, and a path the router reads otherwise. */
  async function exercise(base, events) {
    const token = accessToken();
    const get = (path, token) =>
      fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    assert.equal((await get("/petstore/v1/pets?limit=1", token)).status, 200);
    assert.equal((await get("/petstore/v1/pets", accessToken({ sub: "blocked" }))).status, 403);
    assert.equal((await get("/petstore/v1/pets")).status, 401);
    // Sent as a raw request line: fetch would resolve the dot segment itself.
    assert.equal(
      (
        await rawRequest(base, {
          target: "/petstore/v1/pets/admin/..",
          headers: [["Authorization", `Bearer ${token}`]],
        })
      ).status,
      400,
    );
    assert.deepEqual(
      events.map(({ outcome, reason, status, method, path, principal }) => ({
        outcome,
        reason,
        status,
        method,
        path,
        principal,
      })),
      [
        { outcome: "allow", reason: "allowed", status: 200, method: "GET", path: "/petstore/v1/pets", principal: SUB },
        {
          outcome: "forbidden",
          reason: "claim_check_failed",
          status: 403,
          method: "GET",
          path: "/petstore/v1/pets",
          principal: "blocked",
        },
        {
          outcome: "unauthorized",
          reason: "no_credentials",
          status: 401,
          method: "GET",
          path: "/petstore/v1/pets",
          principal: undefined,
        },
        {
          outcome: "bad_request",
          reason: "path_router_mismatch",
          status: 400,
          method: "GET",
          path: "/petstore/v1/pets/admin/..",
          principal: undefined,
        },
      ],
    );
    assertNoToken(events, token);
  }

  test("Express: one event per request with what the client was answered; claimCheck refuses", async () => {
    const events = [];
    const app = express();
    app.use(expressAuthz(options(events)));
    app.get("/petstore/v1/pets", (req, res) => res.json({ sub: req.auth.sub }));
    app.get("/petstore/v1/pets/admin/..", (req, res) => res.json({ admin: true }));
    await withExpress(app, async (base) => {
      await exercise(base, events);
    });
  });

  test("Fastify: one event per request with what the client was answered; claimCheck refuses", async () => {
    const events = [];
    const app = Fastify();
    await app.register(fastifyAuthz, options(events));
    app.get("/petstore/v1/pets", async (request) => ({ sub: request.auth?.sub }));
    await withFastify(app, async (base) => {
      await exercise(base, events);
    });
  });
});

const EDGE_JWKS_URI = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SuitePool1/.well-known/jwks.json";

/** A Lambda@Edge handler with the JWKS bundled (no network), with `hooks` added. */
const edgeHandler = (hooks) =>
  createHandler({
    config: poolConfig(EDGE_JWKS_URI),
    policies,
    jwks: { [EDGE_JWKS_URI]: JSON.parse(jwksDocument(keys, ["suite-rsa-1"])) },
    now: () => NOW,
    fetch: () => Promise.reject(new Error("no network in this test")),
    log: false,
    ...hooks,
  });

describe("Lambda@Edge", () => {
  test("onDecision and claimCheck in the bundle: an event per viewer request; a refused claim check is a 403 response", async () => {
    const events = [];
    const handler = edgeHandler({
      onDecision: (event) => events.push(event),
      claimCheck: (claims, request) => claims.sub !== "blocked" && request.method === "GET",
    });
    const token = accessToken();
    const allowed = await handler(viewerRequest({ token, clientIp: "192.0.2.10" }));
    assert.equal(allowed.uri, "/petstore/v1/pets");
    const refused = await handler(viewerRequest({ token: accessToken({ sub: "blocked" }), clientIp: "192.0.2.10" }));
    assert.equal(refused.status, "403");
    assert.equal((await handler(viewerRequest({ clientIp: "192.0.2.10" }))).status, "401");
    assert.deepEqual(
      events.map(({ reason, status, path, principal }) => ({ reason, status, path, principal })),
      [
        { reason: "allowed", status: 200, path: "/petstore/v1/pets", principal: SUB },
        { reason: "claim_check_failed", status: 403, path: "/petstore/v1/pets", principal: "blocked" },
        { reason: "no_credentials", status: 401, path: "/petstore/v1/pets", principal: undefined },
      ],
    );
    assertNoToken(events, token);
  });
});

describe("claimCheck judges the path authorized and served, not its spelling", () => {
  // A hook refusing by path: `/petstore/v1/%70ets` is `/petstore/v1/pets` to the core, to the
  // router and to the origin, so the hook must see it so (the spelling walked around it once).
  const refusesPets = (seen) => (claims, request) => {
    seen.push({ path: request.path, receivedPath: request.receivedPath });
    return !request.path.startsWith("/petstore/v1/pets");
  };
  const ENCODED = "/petstore/v1/%70ets";

  test("Node API", async () => {
    const seen = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: false,
      claimCheck: refusesPets(seen),
    });
    const decision = await authorizer.authorize(vet(accessToken(), { path: `${ENCODED}?limit=5` }));
    assert.deepEqual([decision.reason, decision.status], ["claim_check_failed", 403]);
    assert.deepEqual(seen, [{ path: "/petstore/v1/pets", receivedPath: `${ENCODED}?limit=5` }]);
  });

  const middlewareOptions = (seen) => ({
    config: poolConfig(jwks.url),
    policies,
    now: () => NOW,
    log: false,
    claimCheck: refusesPets(seen),
  });

  /**
   * The path an adapter's hook judged when a client asked for `target` (refused, 403), its
   * router or configuration matching case-insensitively or not (Express always does).
   */
  const adapters = {
    async Express(target) {
      const seen = [];
      const app = express();
      app.use(expressAuthz(middlewareOptions(seen)));
      app.get("/petstore/v1/pets", (req, res) => res.json({ served: true }));
      // fetch keeps `%70` as written (the URL standard decodes no percent-encoding in a path).
      await withExpress(app, async (base) => assert.equal((await askFor(base, target)).status, 403));
      return seen[0]?.path;
    },
    async Fastify(target, caseSensitive) {
      const seen = [];
      const app = Fastify({ routerOptions: { caseSensitive } });
      await app.register(fastifyAuthz, middlewareOptions(seen));
      app.get("/petstore/v1/pets", async () => ({ served: true }));
      await withFastify(app, async (base) => assert.equal((await askFor(base, target)).status, 403));
      return seen[0]?.path;
    },
    async "Lambda@Edge"(target, caseSensitive) {
      const seen = [];
      const handler = edgeHandler({
        config: poolConfig(EDGE_JWKS_URI, { request: { caseSensitive } }),
        claimCheck: refusesPets(seen),
      });
      const answer = await handler(viewerRequest({ token: accessToken(), clientIp: "192.0.2.10", uri: target }));
      assert.equal(answer.status, "403");
      return seen[0]?.path;
    },
  };
  const askFor = (base, target) => fetch(`${base}${target}`, { headers: { authorization: `Bearer ${accessToken()}` } });

  // A router that matches case-insensitively (Express's default) serves `/petstore/v1/PETS`
  // from `/petstore/v1/pets`' route, and the core allows it as that path: the hook must see
  // it lower-cased, as the core matched it, or the other case walks around its refusal.
  const UPPER = "/petstore/v1/PETS";

  for (const [name, judged] of Object.entries(adapters)) {
    for (const [target, caseSensitive] of [
      [ENCODED, true],
      [UPPER, false],
    ]) {
      test(`${name}: ${target} is judged as /petstore/v1/pets (caseSensitive ${caseSensitive})`, async () => {
        assert.equal(await judged(target, caseSensitive), "/petstore/v1/pets");
      });
    }
  }

  test("a case-insensitive match: the path lower-cased (Node API, config or matching)", async () => {
    for (const [config, matching] of [
      [poolConfig(jwks.url, { request: { caseSensitive: false } }), undefined],
      [poolConfig(jwks.url), { caseSensitive: false }],
    ]) {
      const seen = [];
      const authorizer = createAuthorizer(config, {
        policies,
        now: () => NOW,
        log: false,
        claimCheck: refusesPets(seen),
      });
      const decision = await authorizer.authorize(vet(accessToken(), { path: `${UPPER}/%C3%89?limit=5`, matching }));
      assert.deepEqual([decision.reason, decision.status], ["claim_check_failed", 403]);
      assert.deepEqual(seen, [{ path: "/petstore/v1/pets/%C3%A9", receivedPath: `${UPPER}/%C3%89?limit=5` }]);
    }
    // Matched case-sensitively, the path keeps its case (and `/petstore/v1/PETS` is no route).
    const seen = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: false,
      claimCheck: refusesPets(seen),
    });
    assert.equal((await authorizer.authorize(vet(accessToken(), { path: UPPER }))).outcome, "allow");
    assert.deepEqual(seen, [{ path: UPPER, receivedPath: UPPER }]);
  });
});

describe("Express and Fastify with an authorizer of one's own", () => {
  const built = () => createAuthorizer(poolConfig(jwks.url), { policies, now: () => NOW, log: false });

  test("options beside it are refused, never silently ignored; what is not an authorizer is refused", async () => {
    for (const [name, make] of [
      ["express", (options) => expressAuthz(options)],
      ["fastify", (options) => Fastify().register(fastifyAuthz, options).ready()],
    ]) {
      await assert.rejects(
        async () => make({ authorizer: built(), policies }),
        (error) =>
          error instanceof AuthzError &&
          error.code === "invalid_config" &&
          /^`policies`: with `authorizer`/.test(error.message),
        name,
      );
      await assert.rejects(
        async () => make({ authorizer: {} }),
        (error) => error instanceof AuthzError && /^authorizer: must be an authorizer/.test(error.message),
        name,
      );
    }
  });

  test("Express: {authorizer, sourceIp} decides with that authorizer and that address", async () => {
    const authorizer = built();
    const app = express();
    app.use(expressAuthz({ authorizer, sourceIp: () => "192.0.2.10" }));
    app.get("/petstore/v1/pets", (req, res) => res.json({ sub: req.auth.sub }));
    await withExpress(app, async (base) => {
      const response = await fetch(`${base}/petstore/v1/pets`, {
        headers: { authorization: `Bearer ${accessToken()}` },
      });
      assert.equal(response.status, 200);
      assert.equal((await response.json()).sub, SUB);
    });
  });
});
