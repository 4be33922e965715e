// The path-confusion matrix (test/support/path-matrix.js) against real Express 5, Express 4
// (support/npm-extras.js) and Fastify 5 apps on 127.0.0.1 (raw request lines), under their
// default router options and under the others, and against the Lambda@Edge handler with
// CloudFront events built from the same targets. Each app's authorizer is wrapped to record
// the decision it made per request, so the test compares what the app received with what
// was authorized.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import express from "express";
import { createAuthorizer } from "../../src/node.js";
import { edgeAuthz as expressAuthz, expressMatching } from "../../src/express.js";
import { edgeAuthz as fastifyAuthz, fastifyRouterOptions } from "../../src/fastify.js";
import { createHandler } from "../../src/lambda-edge.js";
import { npmExtras } from "../support/npm-extras.js";
import { rawRequest } from "../support/raw-http.js";
import {
  FORGED,
  GROUP,
  OVERRIDES,
  JWKS,
  JWKS_URI,
  NOW,
  POLICY,
  SUB,
  TARGETS,
  expectedStatus,
  expressApp,
  fastifyApp,
  forgedHeaderProblems,
  listenExpress,
  listenFastify,
  matrixConfig,
  matrixHeaders,
  matrixToken,
  pathOf,
  routeOf,
  searchOf,
  statusClass,
} from "../support/path-matrix.js";

const token = matrixToken();
/** Express 4 (not a dev dependency), or why it is missing. */
const extras = await npmExtras();
const offline = () => Promise.reject(new Error("no network in this test"));
const authorizerOptions = { jwks: { [JWKS_URI]: JSON.parse(JWKS) }, now: () => NOW, fetch: offline, log: false };

test("the matrix has at least 40 request-targets, each named once", () => {
  assert.ok(TARGETS.length >= 40, `${TARGETS.length} targets`);
  assert.equal(new Set(TARGETS.map((t) => t.name)).size, TARGETS.length);
});

/**
 * An authorizer that records each decision under the request's `x-test-id`, with the input
 * it decided on: what the middleware asked about, to compare with what the app received.
 */
function recordingAuthorizer(config = matrixConfig()) {
  const inner = createAuthorizer(config, authorizerOptions);
  /** @type {Map<string, { input: any, decision: any }>} */
  const decisions = new Map();
  return {
    inner,
    decisions,
    async authorize(input) {
      const decision = await inner.authorize(input);
      const id = input.headers?.["x-test-id"];
      if (id !== undefined) decisions.set(id, { input: { ...input }, decision });
      return decision;
    },
  };
}

const parse = (body) => {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
};

/**
 * Sends every target to the app at `base` and returns the problems found.
 * @param {string} base
 * @param {ReturnType<typeof recordingAuthorizer>} recorder
 * @param {import("../support/path-matrix.js").View & { label: string, decodes: boolean }} view
 *   `decodes`: the router decodes escapes before matching (find-my-way), so a target reaches
 *   exactly the route of its canonical path; Express matches the target undecoded, so an
 *   encoded variant may fall through to the catch-all instead.
 */
async function runMatrix(base, recorder, view) {
  const problems = [];
  for (const [index, entry] of TARGETS.entries()) {
    const id = `${view.label}-${index}`;
    const method = entry.method ?? "GET";
    const label = `${view.label} ${method} ${entry.name}`;
    const response = await rawRequest(base, { method, target: entry.target, headers: matrixHeaders(token, id) });
    const expected = expectedStatus(entry, view);
    const recorded = recorder.decisions.get(id);
    const route = response.headers["x-route"];
    if (statusClass(response.status) !== expected)
      problems.push(
        `${label}: status ${response.status} (${recorded?.decision.reason ?? "no decision"}), expected ${expected}`,
      );
    if (route === "admin" && response.status === 200) problems.push(`${label}: the admin handler answered 200`);
    if (expected === 400 && entry.node === undefined && recorded && recorded.decision.reason !== entry.reason)
      problems.push(`${label}: reason ${recorded.decision.reason}, expected ${entry.reason}`);
    if (route === undefined) continue;
    // An app handler ran: only after an allow, for exactly the target the router got.
    if (!recorded) {
      problems.push(`${label}: ${route} ran without a decision`);
      continue;
    }
    const { input, decision } = recorded;
    if (decision.outcome !== "allow") problems.push(`${label}: ${route} ran after ${decision.outcome}`);
    const expectedRoute = routeOf(decision.path, view);
    if (route !== expectedRoute && (view.decodes || route !== "catch-all"))
      problems.push(`${label}: ${route} ran, the authorized ${decision.path} routes to ${expectedRoute}`);
    // The canonical path is a fixed point, decided the same way.
    const again = await recorder.inner.authorize({ ...input, path: `${decision.path}${searchOf(input.path)}` });
    if (again.outcome !== decision.outcome || again.path !== decision.path)
      problems.push(`${label}: ${decision.path} is decided ${again.outcome} as ${again.path}`);
    const echo = parse(response.body);
    if (method === "HEAD") continue;
    if (echo?.url !== input.path)
      problems.push(`${label}: the app routed ${echo?.url}, the authorizer was asked about ${input.path}`);
    if (echo?.auth?.sub !== SUB) problems.push(`${label}: req.auth is ${JSON.stringify(echo?.auth)}`);
    problems.push(...forgedHeaderProblems(echo?.headers).map((p) => `${label}: ${p}`));
  }
  return problems;
}

describe("Express 5 with edgeAuthz", () => {
  const apps = [
    { label: "express(defaults)", settings: {}, view: { caseSensitive: false, strip: true, merge: false } },
    {
      label: "express(case sensitive, strict)",
      settings: { "case sensitive routing": true, "strict routing": true },
      view: { caseSensitive: true, strip: false, merge: false },
    },
  ];
  for (const { label, settings, view } of apps) {
    test(`${label}: every target of the matrix`, async () => {
      const recorder = recordingAuthorizer();
      const server = await listenExpress(expressApp({ settings, before: [expressAuthz(recorder)] }));
      try {
        const problems = await runMatrix(server.url, recorder, { ...view, parser: "node", label, decodes: false });
        assert.deepEqual(problems, []);
      } finally {
        await server.close();
      }
    });
  }

  test("the router's own rules count, not a setting changed after Express built it", async () => {
    // `app.use` builds the router (case-insensitive, non-strict); the later `set` is ignored by it.
    const recorder = recordingAuthorizer();
    const app = express();
    app.use(expressAuthz(recorder));
    app.set("case sensitive routing", true);
    app.set("strict routing", true);
    app.get("/petstore/v2/admin", (req, res) => res.set("x-route", "admin").json({}));
    app.use((req, res) => res.set("x-route", "catch-all").json({}));
    assert.deepEqual(expressMatching(app), { caseSensitive: false, trailingSlash: "strip" });
    const server = await listenExpress(app);
    try {
      for (const target of ["/petstore/v2/ADMIN", "/petstore/v2/admin/", "/petstore/v2/Admin/"]) {
        const response = await rawRequest(server.url, { target, headers: matrixHeaders(token, target) });
        assert.equal(response.status, 403, target);
        assert.equal(response.headers["x-route"], undefined, target);
      }
    } finally {
      await server.close();
    }
  });

  test("an express.Router() inside a case-sensitive app matches case-insensitively: so does the core", async () => {
    const recorder = recordingAuthorizer();
    const app = express();
    app.set("case sensitive routing", true);
    app.use(expressAuthz(recorder));
    const nested = express.Router(); // insensitive and non-strict by default
    nested.get("/v2/admin", (req, res) => res.set("x-route", "admin").json({}));
    app.use("/petstore", nested);
    app.use((req, res) => res.set("x-route", "catch-all").json({}));
    assert.deepEqual(expressMatching(app), { caseSensitive: false, trailingSlash: "strip" });
    const sensitive = express();
    sensitive.set("case sensitive routing", true);
    sensitive.use("/petstore", express.Router({ caseSensitive: true, strict: false }));
    assert.deepEqual(expressMatching(sensitive), { caseSensitive: true, trailingSlash: "strip" });
    const server = await listenExpress(app);
    try {
      const response = await rawRequest(server.url, {
        target: "/petstore/v2/ADMIN",
        headers: matrixHeaders(token, "nested"),
      });
      assert.equal(response.status, 403);
      assert.equal(response.headers["x-route"], undefined);
    } finally {
      await server.close();
    }
  });

  test("a req.url rewritten by an earlier middleware is what is routed, so it is what is authorized", async () => {
    const rewrite = (req, res, next) => {
      if (req.url === "/petstore/v1/alias") req.url = "/petstore/v2/admin";
      next();
    };
    const server = await listenExpress(
      expressApp({ before: [rewrite, expressAuthz({ config: matrixConfig(), ...authorizerOptions })] }),
    );
    try {
      const response = await rawRequest(server.url, {
        target: "/petstore/v1/alias",
        headers: matrixHeaders(token, "rewrite"),
      });
      assert.equal(response.status, 403);
      assert.equal(response.headers["x-route"], undefined);
      const mounted = express();
      mounted.use("/api", expressAuthz({ config: matrixConfig(), ...authorizerOptions }));
      mounted.use("/api", (req, res) => res.json({ url: req.originalUrl }));
      const api = await listenExpress(mounted);
      try {
        // Mounted at /api, Express makes `/api?x=1` a `req.url` of `/?x=1`: not a rewrite.
        const root = await rawRequest(api.url, { target: "/api?x=1", headers: matrixHeaders(token, "mounted") });
        assert.equal(root.status, 403, "/api is not under /petstore");
        const pets = await rawRequest(api.url, {
          target: "/api/../petstore/v1/pets",
          headers: matrixHeaders(token, "mounted-dots"),
        });
        assert.equal(pets.status, 400);
      } finally {
        await api.close();
      }
    } finally {
      await server.close();
    }
  });

  test("bad_request answers 400 with the configured body, no-store, and the app never runs", async () => {
    const app = expressApp({
      before: [
        expressAuthz({
          config: { ...matrixConfig(), responses: { badRequest: { status: 400, body: { error: "refused" } } } },
          ...authorizerOptions,
        }),
      ],
    });
    const server = await listenExpress(app);
    try {
      const response = await rawRequest(server.url, {
        target: "/petstore/v1/../v2/admin",
        headers: matrixHeaders(token, "bad"),
      });
      assert.equal(response.status, 400);
      assert.deepEqual(JSON.parse(response.body), { error: "refused" });
      assert.equal(response.headers["content-type"], "application/json");
      assert.equal(response.headers["cache-control"], "no-store");
      assert.equal(response.headers["x-route"], undefined);
    } finally {
      await server.close();
    }
  });

  test("identityHeaderPrefix: its headers are removed in any case, x-authz-* then reach the app", async () => {
    const app = expressApp({
      before: [expressAuthz({ config: matrixConfig(), ...authorizerOptions, identityHeaderPrefix: "X-Caller-" })],
    });
    const server = await listenExpress(app);
    try {
      const response = await rawRequest(server.url, {
        target: "/petstore/v1/pets",
        headers: matrixHeaders(token, "prefix", [["x-CALLER-sub", "forged"]]),
      });
      assert.equal(response.status, 200);
      const { headers } = JSON.parse(response.body);
      assert.equal(headers["x-caller-sub"], undefined);
      assert.equal(headers["x-authz-sub"], "forged");
      assert.throws(
        () => expressAuthz({ config: matrixConfig(), identityHeaderPrefix: "x_bad" }),
        (e) => e.code === "invalid_config" && /identityHeaderPrefix/.test(e.message),
      );
    } finally {
      await server.close();
    }
  });
});

describe("Express 4 with edgeAuthz (installed by support/npm-extras.js)", () => {
  // Express 4's `app.router` getter throws; its router is `app._router`, with the same rules.
  const apps = [
    {
      label: "express4(defaults)",
      settings: {},
      view: { caseSensitive: false, strip: true, merge: false },
      matching: { caseSensitive: false, trailingSlash: "strip" },
    },
    {
      label: "express4(case sensitive, strict)",
      settings: { "case sensitive routing": true, "strict routing": true },
      view: { caseSensitive: true, strip: false, merge: false },
      matching: { caseSensitive: true, trailingSlash: "keep" },
    },
  ];
  for (const { label, settings, view, matching } of apps) {
    test(`${label}: every target of the matrix`, async () => {
      const recorder = recordingAuthorizer();
      const app = expressApp({ settings, before: [expressAuthz(recorder)], express: extras.express4 });
      assert.throws(() => app.router, /deprecated/);
      assert.deepEqual(expressMatching(app), matching);
      const server = await listenExpress(app);
      try {
        const problems = await runMatrix(server.url, recorder, { ...view, parser: "node", label, decodes: false });
        assert.deepEqual(problems, []);
      } finally {
        await server.close();
      }
    });
  }
});

describe("Fastify 5 with edgeAuthz", () => {
  const apps = [
    { label: "fastify(defaults)", options: {}, view: { caseSensitive: true, strip: false, merge: false } },
    {
      label: "fastify(caseSensitive false, ignoreTrailingSlash, ignoreDuplicateSlashes)",
      options: { routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true } },
      view: { caseSensitive: false, strip: true, merge: true },
    },
  ];
  for (const { label, options, view } of apps) {
    test(`${label}: every target of the matrix`, async () => {
      const recorder = recordingAuthorizer();
      const app = await fastifyApp({ options, register: (a) => a.register(fastifyAuthz, { authorizer: recorder }) });
      const server = await listenFastify(app);
      try {
        const problems = await runMatrix(server.url, recorder, { ...view, parser: "node", label, decodes: true });
        assert.deepEqual(problems, []);
      } finally {
        await server.close();
      }
    });
  }

  test("the router's options are read as find-my-way got them (routerOptions over deprecated top-level ones)", async () => {
    const cases = [
      [
        {},
        {
          caseSensitive: true,
          ignoreTrailingSlash: false,
          ignoreDuplicateSlashes: false,
          useSemicolonDelimiter: false,
        },
      ],
      [
        { routerOptions: { caseSensitive: false, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true } },
        { caseSensitive: false, ignoreTrailingSlash: false, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true },
      ],
      // initialConfig.routerOptions says ignoreTrailingSlash false here; the router ignores trailing slashes.
      [
        { ignoreTrailingSlash: true, routerOptions: { maxParamLength: 50 } },
        { caseSensitive: true, ignoreTrailingSlash: true, ignoreDuplicateSlashes: false, useSemicolonDelimiter: false },
      ],
    ];
    for (const [options, expected] of cases) {
      const app = await fastifyApp({ options });
      let seen;
      await app.register(async (child) => {
        seen = fastifyRouterOptions(child);
      });
      await app.ready();
      assert.deepEqual(seen, expected, JSON.stringify(options));
      assert.deepEqual(fastifyRouterOptions(app), expected, JSON.stringify(options));
      await app.close();
    }
  });

  test("rewriteUrl: the router gets the rewritten URL, so it is what is authorized", async () => {
    const rewriteUrl = (req) => (req.url === "/petstore/v1/alias" ? "/petstore/v2/admin" : req.url);
    const app = await fastifyApp({
      options: { rewriteUrl },
      register: (a) => a.register(fastifyAuthz, { config: matrixConfig(), ...authorizerOptions }),
    });
    const server = await listenFastify(app);
    try {
      const response = await rawRequest(server.url, {
        target: "/petstore/v1/alias",
        headers: matrixHeaders(token, "rewrite"),
      });
      assert.equal(response.status, 403);
      assert.equal(response.headers["x-route"], undefined);
    } finally {
      await server.close();
    }
  });

  test("useSemicolonDelimiter: `/admin;x` routes to /admin, so it is authorized as /admin", async () => {
    const recorder = recordingAuthorizer();
    const app = await fastifyApp({
      options: { routerOptions: { useSemicolonDelimiter: true } },
      register: (a) => a.register(fastifyAuthz, { authorizer: recorder }),
    });
    const server = await listenFastify(app);
    try {
      for (const [target, status, route] of [
        ["/petstore/v2/admin;x", 403, undefined],
        ["/petstore/v2/admin;jsessionid=1?a=b", 403, undefined],
        ["/petstore/v1/pets;jsessionid=1", 200, "pets"],
        ["/petstore/v2/admin%3Bx", 400, undefined],
      ]) {
        const response = await rawRequest(server.url, { target, headers: matrixHeaders(token, target) });
        assert.equal(response.status, status, target);
        assert.equal(response.headers["x-route"], route, target);
      }
      assert.equal(recorder.decisions.get("/petstore/v1/pets;jsessionid=1").decision.path, "/petstore/v1/pets");
    } finally {
      await server.close();
    }
  });

  test("caseSensitive false: find-my-way lower-cases with Unicode rules (U+212A KELVIN SIGN is k), so does the core", async () => {
    const policy = structuredClone(POLICY);
    policy.Statement[1].Resource = "arn:aws:execute-api:us-east-1:123456789012:petstore1/prod/GET/petstore/v2/kennel";
    const config = { ...matrixConfig(), policies: { groups: { [GROUP]: policy } } };
    const recorder = recordingAuthorizer(config);
    const app = await fastifyApp({
      options: { routerOptions: { caseSensitive: false } },
      register: (a) => a.register(fastifyAuthz, { authorizer: recorder }),
    });
    app.get("/petstore/v2/kennel", async (request, reply) => reply.header("x-route", "kennel").send({}));
    const server = await listenFastify(app);
    try {
      for (const target of ["/petstore/v2/KENNEL", "/petstore/v2/%E2%84%AAennel", "/petstore/v2/%E2%84%AAENNEL"]) {
        const response = await rawRequest(server.url, { target, headers: matrixHeaders(token, target) });
        assert.equal(response.status, 403, target);
        assert.equal(response.headers["x-route"], undefined, target);
      }
    } finally {
      await server.close();
    }
  });

  test("caseSensitive false: a final capital sigma is lower-cased as ς by find-my-way and by the core alike", async () => {
    const policy = structuredClone(POLICY);
    policy.Statement[1].Resource = "arn:aws:execute-api:us-east-1:123456789012:petstore1/prod/GET/petstore/v2/ας";
    const config = { ...matrixConfig(), policies: { groups: { [GROUP]: policy } } };
    const app = await fastifyApp({
      options: { routerOptions: { caseSensitive: false } },
      register: (a) => a.register(fastifyAuthz, { config, ...authorizerOptions }),
    });
    app.get("/petstore/v2/ας", async (request, reply) => reply.header("x-route", "sigma").send({}));
    const server = await listenFastify(app);
    try {
      for (const [target, statuses] of [
        ["/petstore/v2/%CE%B1%CF%82", [403]],
        ["/petstore/v2/%CE%91%CE%A3", [403]],
        ["/petstore/v2/%CE%91%CE%A3%CE%91", [200]],
      ]) {
        const response = await rawRequest(server.url, { target, headers: matrixHeaders(token, target) });
        assert.ok(statuses.includes(response.status), `${target}: ${response.status}`);
        assert.notEqual(response.headers["x-route"], "sigma", target);
      }
    } finally {
      await server.close();
    }
  });

  test("bad_request answers 400 with the configured body and no-store", async () => {
    const app = await fastifyApp({
      register: (a) =>
        a.register(fastifyAuthz, {
          config: { ...matrixConfig(), responses: { badRequest: { status: 400, body: { error: "refused" } } } },
          ...authorizerOptions,
        }),
    });
    const server = await listenFastify(app);
    try {
      const response = await rawRequest(server.url, {
        target: "/petstore/v2/%2561dmin",
        headers: matrixHeaders(token, "bad"),
      });
      assert.equal(response.status, 400);
      assert.deepEqual(JSON.parse(response.body), { error: "refused" });
      assert.equal(response.headers["cache-control"], "no-store");
      assert.equal(response.headers["x-route"], undefined);
    } finally {
      await server.close();
    }
  });
});

describe("a configuration that resolves dot segments, in front of routers that do not", () => {
  // The core would authorize /petstore/v2/admin/.. as /petstore/v2/; Express and find-my-way
  // route it as sent (to a route under /petstore/v2/admin, if there were one): refused.
  const config = matrixConfig(JWKS_URI, { dotSegments: "resolve" });
  const targets = [
    ["/petstore/v2/admin/..", 400],
    ["/petstore/v2/admin/%2E%2e", 400],
    ["/petstore/v1/./pets", 400],
    ["/petstore/v1/pets?next=/../", 200],
    ["/petstore/v1/pets", 200],
  ];
  const check = async (url) => {
    for (const [target, status] of targets) {
      const response = await rawRequest(url, { target, headers: matrixHeaders(token, target) });
      assert.equal(response.status, status, target);
      if (status === 400)
        assert.deepEqual(
          [response.headers["x-route"], JSON.parse(response.body)],
          [undefined, { message: "Bad Request" }],
          target,
        );
    }
  };

  test("Express: refused (400)", async () => {
    const server = await listenExpress(expressApp({ before: [expressAuthz({ config, ...authorizerOptions })] }));
    try {
      await check(server.url);
    } finally {
      await server.close();
    }
  });

  test("Fastify: refused (400)", async () => {
    const server = await listenFastify(
      await fastifyApp({ register: (a) => a.register(fastifyAuthz, { config, ...authorizerOptions }) }),
    );
    try {
      await check(server.url);
    } finally {
      await server.close();
    }
  });
});

describe("Lambda@Edge with CloudFront events built from the matrix", () => {
  /** The viewer's request as CloudFront hands it over: `uri` and `querystring` apart, UTF-8 text. */
  function event(entry) {
    const target = Buffer.from(entry.target, "latin1").toString("utf8");
    const headers = {
      host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
      authorization: [{ key: "Authorization", value: `Bearer ${token}` }],
      // CloudFront keys the map in lower case; an event is data, so odd keys are tried too.
      "x-authz-sub": [{ key: FORGED[0][0], value: FORGED[0][1] }],
      "X-AUTHZ-GROUPS": [{ key: FORGED[1][0], value: FORGED[1][1] }],
      "x-forwarded-for": [
        { key: "X-Forwarded-For", value: "192.0.2.1" },
        { key: "x-Authz-Role", value: "root" },
        { key: "X_Authz_Role", value: "root" },
      ],
      // `_` for `-`: a CGI, WSGI, Rack or PHP origin reads them as x-authz-* headers.
      x_authz_sub: [{ key: FORGED[2][0], value: FORGED[2][1] }],
      "x-authz_groups": [{ key: FORGED[3][0], value: FORGED[3][1] }],
      // Method overrides: the origin would route the method they name.
      ...Object.fromEntries(OVERRIDES.map(([key, value]) => [key.toLowerCase(), [{ key, value }]])),
      accept: [
        { key: "Accept", value: "*/*" },
        { key: "X-HTTP-Method-Override", value: "DELETE" },
      ],
    };
    return {
      Records: [
        {
          cf: {
            config: {
              distributionDomainName: "d111111abcdef8.cloudfront.net",
              distributionId: "EDFDVBD6EXAMPLE",
              eventType: "viewer-request",
              requestId: "matrix",
            },
            request: {
              clientIp: "192.0.2.10",
              headers,
              method: entry.method ?? "GET",
              querystring: searchOf(target).slice(1),
              uri: pathOf(target),
            },
          },
        },
      ],
    };
  }

  test("every target: the origin gets the canonical path that was authorized, never a forged identity", async () => {
    const handler = createHandler({ config: matrixConfig(), ...authorizerOptions });
    const reference = createAuthorizer(matrixConfig(), authorizerOptions);
    const view = { caseSensitive: true, strip: false, merge: false, parser: "event" };
    const problems = [];
    for (const entry of TARGETS) {
      const label = `lambda-edge ${entry.method ?? "GET"} ${entry.name}`;
      const given = event(entry);
      const { uri, querystring, method } = given.Records[0].cf.request;
      const result = await handler(given);
      const status = "status" in result ? Number(result.status) : 200;
      const expected = expectedStatus(entry, view);
      if (statusClass(status) !== expected) problems.push(`${label}: status ${status}, expected ${expected}`);
      if (status !== 200) continue;
      const decision = await reference.authorize({
        method,
        path: uri,
        query: querystring,
        headers: { authorization: `Bearer ${token}` },
        sourceIp: "192.0.2.10",
      });
      if (result.uri !== decision.path) problems.push(`${label}: forwarded ${result.uri}, authorized ${decision.path}`);
      if (result.querystring !== querystring)
        problems.push(`${label}: query ${result.querystring}, sent ${querystring}`);
      const again = await reference.authorize({
        method,
        path: result.uri,
        query: querystring,
        headers: { authorization: `Bearer ${token}` },
        sourceIp: "192.0.2.10",
      });
      if (again.outcome !== "allow" || again.path !== result.uri)
        problems.push(`${label}: the forwarded ${result.uri} is decided ${again.outcome} as ${again.path}`);
      if (routeOf(result.uri, view) === "admin") problems.push(`${label}: admin forwarded`);
      const identity = Object.entries(result.headers).flatMap(([name, list]) =>
        list
          .filter((e) => /^x[-_]authz[-_]/i.test(e.key ?? name) || /^x[-_]authz[-_]/i.test(name))
          .map((e) => [name, e.key, e.value]),
      );
      const overrides = Object.entries(result.headers).flatMap(([name, list]) =>
        list
          .filter((e) =>
            [e.key, name].some((n) => /^x[-_](http[-_]method([-_]override)?|method[-_]override)$/i.test(n)),
          )
          .map((e) => `${name} ${e.key}: ${e.value}`),
      );
      if (overrides.length) problems.push(`${label}: method overrides forwarded: ${overrides.join(", ")}`);
      if (result.headers.accept?.length !== 1)
        problems.push(`${label}: accept ${JSON.stringify(result.headers.accept)}`);
      const expectedIdentity = ["sub", "username", "groups", "scope", "client-id", "token-use", "issuer"].map(
        (n) => `x-authz-${n}`,
      );
      for (const [name, key, value] of identity) {
        if (
          !expectedIdentity.includes(name) ||
          key !== name ||
          FORGED.some(([, forged]) => forged === value) ||
          value === "root"
        )
          problems.push(`${label}: ${name} ${key}: ${value} forwarded`);
      }
      if (result.headers["x-authz-sub"]?.[0]?.value !== SUB)
        problems.push(`${label}: x-authz-sub ${JSON.stringify(result.headers["x-authz-sub"])}`);
      if (result.headers["x-forwarded-for"]?.length !== 1)
        problems.push(`${label}: x-forwarded-for ${JSON.stringify(result.headers["x-forwarded-for"])}`);
    }
    assert.deepEqual(problems, []);
  });

  test("a refused path is a CloudFront 400 with the configured body", async () => {
    const handler = createHandler({ config: matrixConfig(), ...authorizerOptions });
    const result = await handler(event({ target: "/petstore/v1/%2e%2e/v2/admin" }));
    assert.deepEqual(result, {
      status: "400",
      statusDescription: "Bad Request",
      headers: {
        "content-type": [{ key: "Content-Type", value: "application/json" }],
        "cache-control": [{ key: "Cache-Control", value: "no-store" }],
      },
      body: JSON.stringify({ message: "Bad Request" }),
    });
  });
});
