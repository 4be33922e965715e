// What an attacker review of the request-integrity work (issue 14) found in the Node
// adapters, each on real parts (raw request lines over TCP to real Express and Fastify apps,
// CloudFront events for Lambda@Edge):
//   1. identity headers spelt with `_` (`X_Authz_Sub`, `x-authz_groups`) reached the app: a
//      CGI, WSGI, Rack or PHP app reads them as `HTTP_X_AUTHZ_SUB`, like the real ones;
//   2. under Express 4, whose `app.router` getter throws, every request was answered 503;
//   3. method-override headers went through: a `method-override` mounted after edgeAuthz
//      routed an authorized POST as the DELETE the policy denies.
// Express 4 (the dev dependency `express4`) and method-override come from support/npm-extras.js.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Fastify from "fastify";
import express from "express";
import { edgeAuthz as expressAuthz, expressMatching } from "../../src/express.js";
import { edgeAuthz as fastifyAuthz } from "../../src/fastify.js";
import { createHandler } from "../../src/lambda-edge.js";
import { rawRequest } from "../support/raw-http.js";
import { npmExtras } from "../support/npm-extras.js";
import {
  GROUP,
  JWKS,
  JWKS_URI,
  NOW,
  SUB,
  listenExpress,
  listenFastify,
  matrixConfig,
  matrixToken,
  methodConfig,
} from "../support/path-matrix.js";

const token = matrixToken();
const offline = () => Promise.reject(new Error("no network in this test"));
const authorizerOptions = { jwks: { [JWKS_URI]: JSON.parse(JWKS) }, now: () => NOW, fetch: offline, log: false };
const extras = await npmExtras();

/** Identity headers forged with `_` for `-`, in odd cases: one a CGI-style app would read as each of ours. */
const UNDERSCORE_FORGED = [
  ["X_Authz_Sub", "forged"],
  ["x-authz_groups", "admins"],
  ["X_AUTHZ-Username", "root"],
  ["x_authz_client_id", "evil"],
];
/** Every method-override spelling a client may send: the three names, any case, `-` or `_`. */
const OVERRIDE_SPELLINGS = [
  "X-HTTP-Method-Override",
  "x-http-method",
  "X-Method-Override",
  "X_HTTP_Method_Override",
  "x_http_method",
  "x-method_override",
  "X-HTTP-METHOD-OVERRIDE",
];

/**
 * The environment a CGI, WSGI, Rack or PHP app builds from headers as sent (`rawHeaders`):
 * `HTTP_` + upper case with `-` → `_`, repeated names comma-joined.
 * @param {string[]} rawHeaders
 */
function cgiEnviron(rawHeaders) {
  /** @type {Record<string, string>} */
  const environ = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = `HTTP_${rawHeaders[i].toUpperCase().replace(/-/g, "_")}`;
    environ[key] = key in environ ? `${environ[key]},${rawHeaders[i + 1]}` : rawHeaders[i + 1];
  }
  return environ;
}

/** Names (lower-cased) of the identity or method-override headers among `names`. */
const suspicious = (names) =>
  names
    .map((n) => n.toLowerCase())
    .filter(
      (n) => /^x[-_](authz|caller)[-_]/.test(n) || /^x[-_](http[-_]method([-_]override)?|method[-_]override)$/.test(n),
    );

const parse = (body) => {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
};

describe("1. identity headers spelt with `_`", () => {
  const headers = [["Authorization", `Bearer ${token}`], ...UNDERSCORE_FORGED, ["X-Authz-Sub", "forged-dash"]];

  test("Express: never in req.headers nor req.rawHeaders, so never in a CGI-style environment", async () => {
    const app = express();
    app.use(expressAuthz({ config: matrixConfig(), ...authorizerOptions }));
    app.use((req, res) => res.json({ headers: req.headers, rawHeaders: req.rawHeaders, auth: req.auth }));
    const server = await listenExpress(app);
    try {
      const response = await rawRequest(server.url, { target: "/petstore/v1/pets", headers });
      assert.equal(response.status, 200);
      const echo = JSON.parse(response.body);
      assert.deepEqual(suspicious(Object.keys(echo.headers)), []);
      assert.deepEqual(suspicious(echo.rawHeaders.filter((_, i) => i % 2 === 0)), []);
      assert.deepEqual(
        Object.keys(cgiEnviron(echo.rawHeaders)).filter((k) => k.startsWith("HTTP_X_AUTHZ_")),
        [],
      );
      assert.equal(echo.auth.sub, SUB);
    } finally {
      await server.close();
    }
  });

  test("Express: a custom identityHeaderPrefix is matched with `_` for `-` too", async () => {
    const app = express();
    app.use(expressAuthz({ config: matrixConfig(), ...authorizerOptions, identityHeaderPrefix: "X-Caller-" }));
    app.use((req, res) => res.json({ rawHeaders: req.rawHeaders }));
    const server = await listenExpress(app);
    try {
      const response = await rawRequest(server.url, {
        target: "/petstore/v1/pets",
        headers: [
          ["Authorization", `Bearer ${token}`],
          ["X_Caller_Sub", "forged"],
          ["x-caller_groups", "admins"],
          ["X-Callers", "kept"],
        ],
      });
      assert.equal(response.status, 200);
      const names = JSON.parse(response.body).rawHeaders.filter((_, i) => i % 2 === 0);
      assert.deepEqual(suspicious(names), []);
      assert.ok(names.includes("X-Callers"), "a name that only starts like the prefix is kept");
    } finally {
      await server.close();
    }
  });

  test("Fastify: never in request.headers nor request.raw.rawHeaders", async () => {
    const app = Fastify();
    await app.register(fastifyAuthz, { config: matrixConfig(), ...authorizerOptions });
    app.get("/petstore/v1/pets", async (request) => ({
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders,
      auth: request.auth,
    }));
    const server = await listenFastify(app);
    try {
      const response = await rawRequest(server.url, { target: "/petstore/v1/pets", headers });
      assert.equal(response.status, 200);
      const echo = JSON.parse(response.body);
      assert.deepEqual(suspicious(Object.keys(echo.headers)), []);
      assert.deepEqual(suspicious(echo.rawHeaders.filter((_, i) => i % 2 === 0)), []);
      assert.equal(echo.auth.sub, SUB);
    } finally {
      await server.close();
    }
  });

  test("Lambda@Edge: dropped whether the `_` is in the map key or in an entry's key; ours are written with `-`", async () => {
    const handler = createHandler({ config: matrixConfig(), ...authorizerOptions });
    const result = await handler(
      cloudFrontEvent("GET", {
        authorization: [{ key: "Authorization", value: `Bearer ${token}` }],
        x_authz_sub: [{ key: "X_Authz_Sub", value: "forged" }],
        "x-authz_groups": [{ key: "x-authz_groups", value: "admins" }],
        "user-agent": [
          { key: "User-Agent", value: "curl/8.5.0" },
          { key: "X_AUTHZ_USERNAME", value: "root" },
        ],
      }),
    );
    assert.equal(result.uri, "/petstore/v1/pets");
    const entries = Object.entries(result.headers).flatMap(([name, list]) => list.map((e) => [name, e.key, e.value]));
    const identity = entries.filter(([name, key]) => /^x[-_]authz[-_]/i.test(name) || /^x[-_]authz[-_]/i.test(key));
    const ours = ["sub", "username", "groups", "scope", "client-id", "token-use", "issuer"].map((n) => `x-authz-${n}`);
    for (const [name, key, value] of identity) {
      assert.ok(
        ours.includes(name) && key === name && !["forged", "admins", "root"].includes(value),
        `forwarded ${name} ${key}: ${value}`,
      );
    }
    assert.deepEqual(result.headers["x-authz-sub"], [{ key: "x-authz-sub", value: SUB }]);
    assert.deepEqual(result.headers["x-authz-groups"], [{ key: "x-authz-groups", value: GROUP }]);
    assert.deepEqual(result.headers["user-agent"], [{ key: "User-Agent", value: "curl/8.5.0" }]);
  });
});

describe("2. Express 4: `app.router` throws there", () => {
  const deprecated = () => {
    throw new Error(
      "'app.router' is deprecated!\nPlease see the 3.x to 4.x migration guide for details on how to update your app.",
    );
  };
  const LEAST_STRICT = { caseSensitive: false, trailingSlash: "strip" };

  test("expressMatching reads `_router` first, and a getter that throws gives the least strict rules", () => {
    // Express 4's shape: `_router` (case-sensitive and strict here), `router` a throwing getter.
    const express4Like = { _router: { caseSensitive: true, strict: true, stack: [] }, enabled: () => false };
    Object.defineProperty(express4Like, "router", { get: deprecated });
    assert.deepEqual(expressMatching(express4Like), { caseSensitive: true, trailingSlash: "keep" });
    const noRouterYet = Object.defineProperty({ enabled: () => true }, "router", { get: deprecated });
    assert.deepEqual(expressMatching(noRouterYet), LEAST_STRICT);
    assert.deepEqual(expressMatching(Object.defineProperty({}, "_router", { get: deprecated })), LEAST_STRICT);
    assert.deepEqual(
      expressMatching({
        _router: Object.defineProperty({ caseSensitive: true, strict: true }, "stack", { get: deprecated }),
      }),
      LEAST_STRICT,
    );
    assert.deepEqual(expressMatching({ enabled: deprecated }), LEAST_STRICT);
    const throwingLayer = {
      caseSensitive: true,
      strict: true,
      stack: [Object.defineProperty({}, "handle", { get: deprecated })],
    };
    assert.deepEqual(expressMatching({ _router: throwingLayer }), LEAST_STRICT);
  });

  test("the middleware decides (403, 401, next) for an app whose `router` getter throws, never 503", async () => {
    const middleware = expressAuthz({ config: matrixConfig(), ...authorizerOptions });
    const app = Object.defineProperty({ enabled: () => true }, "router", { get: deprecated });
    const run = (target, authorization) =>
      new Promise((resolve) => {
        const rawHeaders = authorization ? ["Authorization", authorization] : [];
        const req = {
          method: "GET",
          url: target,
          originalUrl: target,
          baseUrl: "",
          headers: authorization ? { authorization } : {},
          rawHeaders,
          app,
          ip: "127.0.0.1",
        };
        const res = { statusCode: 200, setHeader() {}, end: () => resolve(res.statusCode) };
        middleware(req, res, () => resolve("next"));
      });
    assert.equal(await run("/petstore/v1/pets", `Bearer ${token}`), "next");
    assert.equal(await run("/petstore/v2/admin", `Bearer ${token}`), 403);
    // The least strict rules: the case and slash variants are the Deny they may reach.
    assert.equal(await run("/petstore/v2/ADMIN/", `Bearer ${token}`), 403);
    assert.equal(await run("/petstore/v1/pets", null), 401);
  });

  test("a real Express 4 app (npm-extras) decides every request with its router's rules", async () => {
    for (const [settings, matching, statuses] of [
      [{}, LEAST_STRICT, { "/petstore/v1/pets": 200, "/petstore/v2/admin": 403, "/petstore/v2/ADMIN/": 403 }],
      [
        { "case sensitive routing": true, "strict routing": true },
        { caseSensitive: true, trailingSlash: "keep" },
        { "/petstore/v1/pets": 200, "/petstore/v2/admin": 403, "/petstore/v2/ADMIN/": 200 },
      ],
    ]) {
      const app = extras.express4();
      for (const [name, value] of Object.entries(settings)) app.set(name, value);
      app.use(expressAuthz({ config: matrixConfig(), ...authorizerOptions }));
      app.get("/petstore/v2/admin", (req, res) => res.set("x-route", "admin").json({}));
      app.use((req, res) => res.set("x-route", "catch-all").json({ auth: req.auth }));
      assert.throws(() => app.router, /deprecated/, "the Express 4 under test");
      assert.deepEqual(expressMatching(app), matching);
      const server = await listenExpress(app);
      try {
        for (const [target, status] of Object.entries(statuses)) {
          const response = await rawRequest(server.url, { target, headers: [["Authorization", `Bearer ${token}`]] });
          assert.equal(response.status, status, `${JSON.stringify(settings)} ${target}`);
          assert.notEqual(response.headers["x-route"], "admin", target);
        }
        assert.equal((await rawRequest(server.url, { target: "/petstore/v1/pets" })).status, 401);
      } finally {
        await server.close();
      }
    }
  });
});

describe("3. method-override headers", () => {
  const { methodOverride } = extras;
  const which = "method-override";

  /** An app that honours all three override headers, mounted after (or before) edgeAuthz. */
  function overrideApp(expressModule, { overrideFirst = false } = {}) {
    const app = expressModule();
    const overrides = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"].map((header) =>
      methodOverride(header),
    );
    const edge = expressAuthz({ config: methodConfig(), ...authorizerOptions });
    if (overrideFirst) app.use(...overrides, edge);
    else app.use(edge, ...overrides);
    app.delete("/petstore/v1/pets", (req, res) => res.set("x-route", "delete").json({ method: req.method }));
    app.post("/petstore/v1/pets", (req, res) =>
      res.set("x-route", "post").json({ method: req.method, headers: req.headers, rawHeaders: req.rawHeaders }),
    );
    app.use((req, res) => res.set("x-route", "catch-all").json({ method: req.method }));
    return app;
  }

  const expresses = [["Express 5", express, undefined]];
  expresses.push(["Express 4", extras.express4, false]);
  for (const [label, expressModule, skip] of expresses) {
    test(
      `${label} + ${which} after edgeAuthz: an authorized POST stays a POST, whatever the override says`,
      { skip },
      async () => {
        const server = await listenExpress(overrideApp(expressModule));
        try {
          const denied = await rawRequest(server.url, {
            method: "DELETE",
            target: "/petstore/v1/pets",
            headers: [["Authorization", `Bearer ${token}`]],
          });
          assert.equal(denied.status, 403, "the policy denies DELETE");
          for (const spelling of [...OVERRIDE_SPELLINGS, null]) {
            const extra = spelling ? [[spelling, "DELETE"]] : OVERRIDE_SPELLINGS.map((name) => [name, "DELETE"]);
            const response = await rawRequest(server.url, {
              method: "POST",
              target: "/petstore/v1/pets",
              headers: [["Authorization", `Bearer ${token}`], ["Content-Length", "0"], ...extra],
            });
            const what = spelling ?? "every spelling at once";
            assert.equal(response.status, 200, what);
            assert.equal(response.headers["x-route"], "post", `${what}: the DELETE handler ran`);
            const echo = JSON.parse(response.body);
            assert.equal(echo.method, "POST", what);
            assert.deepEqual(
              suspicious([...Object.keys(echo.headers), ...echo.rawHeaders.filter((_, i) => i % 2 === 0)]),
              [],
              what,
            );
          }
        } finally {
          await server.close();
        }
      },
    );

    test(
      `${label} + ${which} before edgeAuthz (as js/README says): the overridden method is the one authorized`,
      { skip },
      async () => {
        const server = await listenExpress(overrideApp(expressModule, { overrideFirst: true }));
        try {
          const response = await rawRequest(server.url, {
            method: "POST",
            target: "/petstore/v1/pets",
            headers: [
              ["Authorization", `Bearer ${token}`],
              ["Content-Length", "0"],
              ["X-HTTP-Method-Override", "DELETE"],
            ],
          });
          assert.equal(response.status, 403);
          assert.equal(response.headers["x-route"], undefined);
          const post = await rawRequest(server.url, {
            method: "POST",
            target: "/petstore/v1/pets",
            headers: [
              ["Authorization", `Bearer ${token}`],
              ["Content-Length", "0"],
            ],
          });
          assert.equal(post.headers["x-route"], "post");
        } finally {
          await server.close();
        }
      },
    );
  }

  test("Fastify: no override header in request.headers nor request.raw.rawHeaders", async () => {
    const app = Fastify();
    await app.register(fastifyAuthz, { config: methodConfig(), ...authorizerOptions });
    app.post("/petstore/v1/pets", async (request) => ({
      method: request.method,
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders,
    }));
    app.delete("/petstore/v1/pets", async (request, reply) => reply.header("x-route", "delete").send({}));
    const server = await listenFastify(app);
    try {
      const response = await rawRequest(server.url, {
        method: "POST",
        target: "/petstore/v1/pets",
        headers: [
          ["Authorization", `Bearer ${token}`],
          ["Content-Length", "0"],
          ...OVERRIDE_SPELLINGS.map((name) => [name, "DELETE"]),
        ],
      });
      assert.equal(response.status, 200);
      const echo = JSON.parse(response.body);
      assert.equal(echo.method, "POST");
      assert.deepEqual(
        suspicious([...Object.keys(echo.headers), ...echo.rawHeaders.filter((_, i) => i % 2 === 0)]),
        [],
      );
      const denied = await rawRequest(server.url, {
        method: "DELETE",
        target: "/petstore/v1/pets",
        headers: [["Authorization", `Bearer ${token}`]],
      });
      assert.equal(denied.status, 403);
    } finally {
      await server.close();
    }
  });

  test("Lambda@Edge: an authorized POST is forwarded without override headers, in map keys or entry keys", async () => {
    const handler = createHandler({ config: methodConfig(), ...authorizerOptions });
    const headers = {
      authorization: [{ key: "Authorization", value: `Bearer ${token}` }],
      ...Object.fromEntries(OVERRIDE_SPELLINGS.map((name) => [name.toLowerCase(), [{ key: name, value: "DELETE" }]])),
      accept: [
        { key: "Accept", value: "*/*" },
        { key: "X-HTTP-Method-Override", value: "DELETE" },
        { key: "x_method_override", value: "DELETE" },
      ],
    };
    const result = await handler(cloudFrontEvent("POST", headers));
    assert.equal(result.method, "POST");
    assert.equal(result.uri, "/petstore/v1/pets");
    const names = Object.entries(result.headers).flatMap(([name, list]) => [name, ...list.map((e) => e.key)]);
    assert.deepEqual(
      suspicious(names).filter((n) => !/^x-authz-/.test(n)),
      [],
    );
    assert.deepEqual(result.headers.accept, [{ key: "Accept", value: "*/*" }]);
    const denied = await handler(cloudFrontEvent("DELETE", { authorization: headers.authorization }));
    assert.equal(denied.status, "403");
  });
});

/** A viewer-request event for /petstore/v1/pets with the given CloudFront header map. */
function cloudFrontEvent(method, headers) {
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d111111abcdef8.cloudfront.net",
            distributionId: "EDFDVBD6EXAMPLE",
            eventType: "viewer-request",
            requestId: "integrity",
          },
          request: {
            clientIp: "192.0.2.10",
            headers: { host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }], ...headers },
            method,
            querystring: "",
            uri: "/petstore/v1/pets",
          },
        },
      },
    ],
  };
}

describe("4. a NUL in a query parameter or header", () => {
  // The wasm boundary joins names and values with NUL; one inside a value used to throw
  // (503 to the client). The core decides it `bad_request` (`request_nul`): 400.
  const nulTargets = ["/petstore/v1/pets?x=%00", "/petstore/v1/pets?%00=1", "/petstore/v1/pets?a=b&c=d%00e"];

  test("Express and Fastify answer 400, never 503", async () => {
    const expressApp = express();
    expressApp.use(expressAuthz({ config: matrixConfig(), ...authorizerOptions }));
    expressApp.get("/petstore/v1/pets", (req, res) => res.json({ ok: true }));
    const fastifyApp = Fastify();
    await fastifyApp.register(fastifyAuthz, { config: matrixConfig(), ...authorizerOptions });
    fastifyApp.get("/petstore/v1/pets", async () => ({ ok: true }));
    for (const server of [await listenExpress(expressApp), await listenFastify(fastifyApp)]) {
      try {
        for (const target of nulTargets) {
          const response = await rawRequest(server.url, { target, headers: [["Authorization", `Bearer ${token}`]] });
          assert.equal(response.status, 400, `${target}: ${response.status} ${response.body}`);
          assert.deepEqual(parse(response.body), { message: "Bad Request" }, target);
        }
      } finally {
        await server.close();
      }
    }
  });

  test("Lambda@Edge answers 400 to a NUL in the querystring or a header value", async () => {
    const handler = createHandler({ config: matrixConfig(), ...authorizerOptions });
    const event = (querystring, extra = {}) => ({
      Records: [
        {
          cf: {
            request: {
              clientIp: "192.0.2.10",
              method: "GET",
              uri: "/petstore/v1/pets",
              querystring,
              headers: { authorization: [{ key: "Authorization", value: `Bearer ${token}` }], ...extra },
            },
          },
        },
      ],
    });
    for (const e of [event("x=%00"), event("", { "x-a": [{ key: "X-A", value: "a\u0000b" }] })]) {
      const answer = await handler(e);
      assert.equal(answer.status, "400", JSON.stringify(answer));
    }
  });
});
