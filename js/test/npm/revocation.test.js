// Revocation through the Node API, Express, Fastify and Lambda@Edge, with real parts: a JWKS
// server and a revocation document served over HTTP on loopback, the user's own function as
// a store, the injectable clock. Per adapter: a token allowed (and memoised), a record
// written to the store, the same token still allowed within the freshness window and refused
// (403 revoked) once it has passed, and never served from a cache after it; revoke() takes
// effect at once. Then the edge cases: an unreadable record, the store down (deny, stale),
// a slow store, and the configuration checks.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import express from "express";
import Fastify from "fastify";
import { AuthzError, ConfigError, createAuthorizer } from "../../src/node.js";
import { edgeAuthz as expressAuthz } from "../../src/express.js";
import { edgeAuthz as fastifyAuthz } from "../../src/fastify.js";
import { createHandler } from "../../src/lambda-edge.js";
import { jwksDocument, tokenOf } from "../support/suite.js";
import { startJwksServer } from "../support/servers.js";
import { ISSUER, NOW, keys, poolConfig } from "./fixtures.js";
import { viewerRequest } from "./lambda-edge-events.js";

const SUB = "b7c1e0f2-0000-4000-8000-00000000abcd";
const FRESHNESS = 30;
const userKey = (sub = SUB) => `user#${ISSUER}#${sub}`;
const ALLOW_ALL = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: "*" }],
};

let jwks;
before(async () => {
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
});
after(() => jwks.close());

function config(revocation = { freshnessSeconds: FRESHNESS }) {
  return poolConfig(jwks.url, { policies: { groups: { staff: ALLOW_ALL } }, revocation });
}

/** An access token of `sub`, issued a minute before NOW, with a jti and an origin_jti. */
function token({ sub = SUB, jti = "jti-1", originJti = "session-1", iat = NOW - 60 } = {}) {
  const claims = {
    iss: ISSUER,
    sub,
    "cognito:groups": ["staff"],
    token_use: "access",
    client_id: "suite-client",
    username: "someone",
    scope: "aws.cognito.signin.user.admin",
    exp: NOW + 3600,
    jti,
    origin_jti: originJti,
  };
  if (iat !== undefined) claims.iat = iat;
  return tokenOf({ key: "suite-rsa-1", claims }, keys);
}

/** A store the user's function reads: key → record; counts its calls, can fail or stall. */
function functionStore() {
  const store = { records: new Map(), reads: 0, down: false, delayMs: 0 };
  store.load = async (keys) => {
    store.reads++;
    if (store.delayMs) await new Promise((resolve) => setTimeout(resolve, store.delayMs));
    if (store.down) throw new Error("the store is down");
    return new Map(keys.filter((key) => store.records.has(key)).map((key) => [key, store.records.get(key)]));
  };
  return store;
}

/** A revocation document `{"revocations": {...}}` on loopback, with an ETag; counts GETs. */
async function startRevocationServer() {
  const state = { revocations: {}, gets: 0, notModified: 0, down: false };
  const etag = () => `"${Buffer.from(JSON.stringify(state.revocations)).toString("base64url").slice(-16)}"`;
  const server = createServer((request, response) => {
    state.gets++;
    if (state.down) return response.writeHead(503).end("down");
    const tag = etag();
    if (request.headers["if-none-match"] === tag) {
      state.notModified++;
      return response.writeHead(304, { etag: tag }).end();
    }
    response
      .writeHead(200, { "content-type": "application/json", etag: tag })
      .end(JSON.stringify({ revocations: state.revocations }));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    state,
    url: `http://127.0.0.1:${port}/revocations.json`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const request = (bearer) => ({
  method: "GET",
  path: "/petstore/v1/pets",
  headers: { authorization: `Bearer ${bearer}` },
  sourceIp: "192.0.2.10",
});

/**
 * The life of one token under a store: allowed (twice in the same second: the second from
 * the memo, no read), a cutoff written, still allowed within the window, refused once it has
 * passed and from then on. `call(bearer)` → status; `write(key, record)` writes the store;
 * `reads()` counts its reads (null: not countable).
 */
async function lifecycle(clock, call, write, reads) {
  const bearer = token();
  clock.now = NOW;
  assert.equal(await call(bearer), 200);
  const first = reads();
  assert.equal(await call(bearer), 200, "the same token in the same second");
  assert.equal(reads(), first, "memoised or cached: no second read");
  await write(userKey(), { before: NOW });
  clock.now = NOW + 10;
  assert.equal(await call(bearer), 200, "within the freshness window the cached answer holds");
  clock.now = NOW + FRESHNESS + 1;
  assert.equal(await call(bearer), 403, "the window has passed: revoked");
  assert.equal(await call(bearer), 403, "and never served from a cache again");
  clock.now = NOW + FRESHNESS + 2;
  assert.equal(await call(bearer), 403);
  clock.now = NOW + 5 * FRESHNESS;
  assert.equal(await call(bearer), 403);
  // A token issued after the cutoff (a new sign-in) is allowed.
  assert.equal(await call(token({ jti: "jti-2", originJti: "session-2", iat: NOW + 1 })), 200);
}

describe("Node API", () => {
  test("a function store: allowed, written, refused after the window, never served again", async () => {
    const clock = { now: NOW };
    const store = functionStore();
    const authorizer = createAuthorizer(config(), { revocations: store.load, now: () => clock.now, log: false });
    assert.equal(authorizer.loadsRevocations, true);
    await lifecycle(
      clock,
      async (bearer) => {
        const decision = await authorizer.authorize(request(bearer));
        if (decision.status === 403) assert.equal(decision.reason, "revoked");
        return decision.status;
      },
      (key, record) => store.records.set(key, record),
      () => store.reads,
    );
  });

  test("a URL document: the changed document is seen after ttlSeconds, the record after the window", async () => {
    const server = await startRevocationServer();
    try {
      const clock = { now: NOW };
      // The URL loader's TTL runs on Date.now: drive it with the same clock.
      const realNow = Date.now;
      Date.now = () => clock.now * 1000;
      try {
        const authorizer = createAuthorizer(config(), {
          revocations: { url: server.url, ttlSeconds: 5 },
          now: () => clock.now,
          log: false,
        });
        await lifecycle(
          clock,
          async (bearer) => (await authorizer.authorize(request(bearer))).status,
          (key, record) => {
            server.state.revocations = { ...server.state.revocations, [key]: record };
          },
          () => null,
        );
        assert.ok(server.state.gets >= 2, `${server.state.gets} GETs`);
      } finally {
        Date.now = realNow;
      }
    } finally {
      await server.close();
    }
  });

  test("revoke() takes effect at once, through the per-second memo", async () => {
    const clock = { now: NOW };
    const store = functionStore();
    const events = [];
    const authorizer = createAuthorizer(config(), {
      revocations: store.load,
      now: () => clock.now,
      log: (event) => events.push(event),
    });
    const bearer = token();
    assert.equal((await authorizer.authorize(request(bearer))).status, 200);
    assert.equal((await authorizer.authorize(request(bearer))).status, 200);
    assert.equal(authorizer.revoke({ sub: SUB }), userKey());
    const refused = await authorizer.authorize(request(bearer));
    assert.deepEqual([refused.status, refused.reason], [403, "revoked"], "same second, same request");
    assert.ok(events.some((e) => e.event === "revoked" && e.key === userKey()));
    // A session and a single token, each at once.
    const other = token({ sub: "other", jti: "other-jti", originJti: "other-session" });
    assert.equal((await authorizer.authorize(request(other))).status, 200);
    authorizer.revoke({ originJti: "other-session" }, { issuer: ISSUER });
    assert.equal((await authorizer.authorize(request(other))).status, 403);
    const third = token({ sub: "third", jti: "third-jti", originJti: "third-session" });
    assert.equal((await authorizer.authorize(request(third))).status, 200);
    assert.equal(authorizer.revoke({ jti: "third-jti" }), `token#${ISSUER}#third-jti`);
    assert.equal((await authorizer.authorize(request(third))).status, 403);
    // A cutoff in the past leaves later sign-ins alone; expiresAt ends it.
    const fourth = token({ sub: "fourth", jti: "fourth-jti", originJti: "fourth-session" });
    authorizer.revoke({ sub: "fourth", before: NOW - 120 });
    assert.equal((await authorizer.authorize(request(fourth))).status, 200);
    authorizer.revoke({ sub: "fifth" }, { expiresAt: NOW + 10 });
    const fifth = token({ sub: "fifth", jti: "fifth-jti", originJti: "fifth-session" });
    assert.equal((await authorizer.authorize(request(fifth))).status, 403);
    clock.now = NOW + 11;
    assert.equal((await authorizer.authorize(request(fifth))).status, 200, "the record expired");
  });

  test("revoke(): bad arguments, several issuers, no revocation section", () => {
    const store = functionStore();
    const authorizer = createAuthorizer(config(), { revocations: store.load, log: false });
    for (const bad of [{}, { sub: "" }, { sub: "a", jti: "b" }, { jti: "a", before: 1 }, { sub: 1 }, null]) {
      assert.throws(
        () => authorizer.revoke(/** @type {any} */ (bad)),
        (e) => e instanceof AuthzError && e.code === "invalid_revocation",
        JSON.stringify(bad),
      );
    }
    assert.throws(() => authorizer.revoke({ sub: "a", before: -1 }), { code: "invalid_revocation" });
    const two = createAuthorizer(
      {
        ...config({ store: "local" }),
        issuers: [...config().issuers, { issuer: "https://login.example.com/", jwksUri: jwks.url, audience: null }],
      },
      { log: false },
    );
    assert.equal(two.loadsRevocations, false);
    assert.throws(() => two.revoke({ sub: "a" }), /2 issuers are configured/);
    assert.equal(
      two.revoke({ sub: "a" }, { issuer: "https://login.example.com/" }),
      "user#https://login.example.com/#a",
    );
    const off = createAuthorizer(poolConfig(jwks.url, { policies: { groups: { staff: ALLOW_ALL } } }), { log: false });
    assert.throws(
      () => off.revoke({ sub: "a" }),
      (e) => e instanceof AuthzError && e.code === "revocation_off",
    );
  });

  test("an unreadable record revokes, and is logged", async () => {
    const store = functionStore();
    store.records.set(userKey(), "not a record");
    const events = [];
    const authorizer = createAuthorizer(config(), {
      revocations: store.load,
      now: () => NOW,
      log: (event) => events.push(event),
    });
    const decision = await authorizer.authorize(request(token()));
    assert.deepEqual([decision.status, decision.reason], [403, "revoked"]);
    const logged = events.find((e) => e.event === "revocation_invalid");
    assert.equal(logged?.key, userKey());
    assert.equal(logged?.code, "invalid_revocation");
  });

  test("the store down: deny answers 503; stale serves the last answer within its window", async () => {
    const clock = { now: NOW };
    const deny = functionStore();
    const events = [];
    const denying = createAuthorizer(config(), {
      revocations: deny.load,
      now: () => clock.now,
      log: (event) => events.push(event),
    });
    assert.equal((await denying.authorize(request(token()))).status, 200);
    deny.down = true;
    clock.now = NOW + FRESHNESS + 1;
    const refused = await denying.authorize(request(token()));
    assert.deepEqual([refused.status, refused.reason], [503, "revocations_unavailable"]);
    assert.ok(events.some((e) => e.event === "revocations_unavailable" && e.code === "revocation_store_failed"));

    clock.now = NOW;
    const stale = functionStore();
    const serving = createAuthorizer(
      config({ freshnessSeconds: FRESHNESS, whenUnavailable: "stale", maxStaleSeconds: 60 }),
      {
        revocations: stale.load,
        now: () => clock.now,
        log: false,
      },
    );
    assert.equal((await serving.authorize(request(token()))).status, 200);
    stale.down = true;
    clock.now = NOW + FRESHNESS + 30;
    assert.equal((await serving.authorize(request(token()))).status, 200, "within freshness + maxStaleSeconds");
    const unknown = token({ sub: "never-read", jti: "n-1", originJti: "n-s" });
    assert.equal((await serving.authorize(request(unknown))).status, 503, "a caller never read");
    clock.now = NOW + FRESHNESS + 61;
    assert.equal((await serving.authorize(request(token()))).status, 503, "past the stale window");
  });

  test("a store slower than revocationsTimeoutMs counts as down", async () => {
    const store = functionStore();
    store.delayMs = 200;
    const events = [];
    const authorizer = createAuthorizer(config(), {
      revocations: store.load,
      revocationsTimeoutMs: 20,
      now: () => NOW,
      log: (event) => events.push(event),
    });
    const decision = await authorizer.authorize(request(token()));
    assert.deepEqual([decision.status, decision.reason], [503, "revocations_unavailable"]);
    assert.ok(events.some((e) => e.event === "revocations_unavailable" && e.code === "revocation_store_timeout"));
  });

  test("a function answering something else than records fails closed", async () => {
    const authorizer = createAuthorizer(config(), {
      revocations: async () => /** @type {any} */ ("nope"),
      now: () => NOW,
      log: false,
    });
    assert.equal((await authorizer.authorize(request(token()))).status, 503);
  });

  test("the configuration checks: never silently off", () => {
    assert.throws(
      () => createAuthorizer(config(), { log: false }),
      (e) => e instanceof ConfigError && /options\.revocations: .*revocation section/.test(e.message),
    );
    const store = functionStore();
    assert.throws(
      () =>
        createAuthorizer(poolConfig(jwks.url, { policies: { groups: { staff: ALLOW_ALL } } }), {
          revocations: store.load,
        }),
      /no revocation section/,
    );
    assert.throws(() => createAuthorizer(config({ store: "local" }), { revocations: store.load }), /"local"/);
    assert.throws(
      () => createAuthorizer(config(), { revocations: { url: "https://r.example/x.json", ttlSeconds: 60 } }),
      /ttlSeconds: 60 is longer than revocation.freshnessSeconds \(30\)/,
    );
    assert.throws(() => createAuthorizer(config(), { revocations: { url: "ftp://r/x" } }), /must be http\(s\)/);
    assert.throws(
      () => createAuthorizer(config(), { revocations: { url: "https://r/x", ttl: 1 } }),
      /unknown member `ttl`/,
    );
    assert.throws(() => createAuthorizer(config(), { revocations: "https://r/x" }), /options\.revocations: must be/);
    assert.throws(
      () => createAuthorizer(config(), { revocations: store.load, revocationsTimeoutMs: -1 }),
      /revocationsTimeoutMs/,
    );
    // Local records only: revoke() alone, no option needed.
    assert.equal(createAuthorizer(config({ store: "local" }), { log: false }).loadsRevocations, false);
  });
});

/** Listens on loopback; resolves with the base URL. */
async function listening(server) {
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return `http://127.0.0.1:${port}`;
}

const statusOf = (base) => async (bearer) => {
  const response = await fetch(`${base}/petstore/v1/pets`, { headers: { authorization: `Bearer ${bearer}` } });
  await response.arrayBuffer();
  return response.status;
};

describe("Express and Fastify", () => {
  test("Express: a function store through the middleware's options; revoke() at once", async () => {
    const clock = { now: NOW };
    const store = functionStore();
    const app = express();
    app.use(expressAuthz({ config: config(), revocations: store.load, now: () => clock.now, log: false }));
    app.get("/petstore/v1/pets", (req, res) => res.json({ sub: req.auth.sub }));
    const server = app.listen(0, "127.0.0.1");
    try {
      const call = statusOf(await listening(server));
      await lifecycle(
        clock,
        call,
        (key, record) => store.records.set(key, record),
        () => store.reads,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("Fastify: a URL document through the plugin's options; revoke() at once on a shared authorizer", async () => {
    const documents = await startRevocationServer();
    const clock = { now: NOW };
    const realNow = Date.now;
    Date.now = () => clock.now * 1000;
    const authorizer = createAuthorizer(config(), {
      revocations: { url: documents.url, ttlSeconds: 0 },
      now: () => clock.now,
      log: false,
    });
    const app = Fastify();
    await app.register(fastifyAuthz, { authorizer });
    app.get("/petstore/v1/pets", async (request) => ({ sub: request.auth?.sub }));
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const call = statusOf(base);
      await lifecycle(
        clock,
        call,
        (key, record) => {
          documents.state.revocations = { ...documents.state.revocations, [key]: record };
        },
        () => null,
      );
      assert.ok(documents.state.notModified >= 1, "revalidated with If-None-Match");
      const other = token({ sub: "other", jti: "o-1", originJti: "o-s" });
      assert.equal(await call(other), 200);
      authorizer.revoke({ sub: "other" });
      assert.equal(await call(other), 403, "revoke() at once, same second");
    } finally {
      Date.now = realNow;
      await app.close();
      await documents.close();
    }
  });
});

describe("Lambda@Edge", () => {
  test("createHandler takes revocations: allowed, written, refused after the window", async () => {
    const clock = { now: NOW };
    const store = functionStore();
    const handler = createHandler({ config: config(), revocations: store.load, now: () => clock.now, log: false });
    await lifecycle(
      clock,
      async (bearer) => {
        const result = await handler(viewerRequest({ token: bearer }));
        return "status" in result ? Number(result.status) : 200;
      },
      (key, record) => store.records.set(key, record),
      () => store.reads,
    );
    assert.throws(() => createHandler({ config: config(), log: false }), /options\.revocations/);
  });
});
