// The path-confusion matrix (support/path-matrix.js) through the Worker in workerd
// (Miniflare listening on 127.0.0.1, raw request lines), in front of a real Express 5 origin
// and a real Fastify 5 origin, each with its default router options and a Worker configured
// to match them. workerd parses the request-target before the Worker runs (dot segments
// resolved, `\` turned into `/`, fragments dropped): the matrix says what the Worker then
// sees. For every target: the admin handler never answers 200, the origin receives exactly
// the path the Worker authorized (its log line, echoed by the test entry), and the only
// `x-authz-*` headers it gets are the Worker's own.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawRequest } from "./support/raw-http.js";
import { startJwksServer } from "./support/servers.js";
import { startMiniflare } from "./support/workerd.js";
import {
  GROUP,
  JWKS,
  NOW,
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
  routeOf,
  searchOf,
  statusClass,
} from "./support/path-matrix.js";

const token = matrixToken();
/** The identity headers the Worker itself sends: the only `x-authz-*` an origin may get. */
const IDENTITY = [
  "x-authz-sub",
  "x-authz-username",
  "x-authz-groups",
  "x-authz-scope",
  "x-authz-client-id",
  "x-authz-token-use",
  "x-authz-issuer",
];

let jwks;
before(async () => {
  jwks = await startJwksServer(JWKS);
});
after(() => jwks.close());

/**
 * The origins: each app with its default router, and the Worker's `request` rules for it.
 * Express matches case-insensitively and ignores a trailing slash; Fastify (find-my-way)
 * matches case-sensitively, keeps the slash, and decodes escapes, which the core does too.
 */
const ORIGINS = [
  {
    label: "worker → express",
    start: () => listenExpress(expressApp()),
    request: { caseSensitive: false, trailingSlash: "strip" },
    view: { caseSensitive: false, strip: true, merge: false },
  },
  {
    label: "worker → fastify",
    start: async () => listenFastify(await fastifyApp()),
    request: undefined,
    view: { caseSensitive: true, strip: false, merge: false },
  },
];

const parse = (body) => {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
};

for (const { label, start, request, view } of ORIGINS) {
  describe(label, () => {
    let origin;
    let mf;
    let worker;
    before(async () => {
      origin = await start();
      mf = await startMiniflare(
        "test/support/worker-under-test.js",
        { AUTHZ_CONFIG: JSON.stringify(matrixConfig(jwks.url, request)), UPSTREAM: origin.url },
        { kv: false, host: "127.0.0.1", port: 0, handleRuntimeStdio: () => {} },
      );
      worker = (await mf.ready).href;
    });
    after(async () => {
      await mf?.dispose();
      await origin?.close();
    });

    test("every target of the matrix, one at a time", async () => {
      const problems = [];
      for (const [index, entry] of TARGETS.entries()) {
        const method = entry.method ?? "GET";
        const name = `${label} ${method} ${entry.name}`;
        const headers = matrixHeaders(token, index, [
          ["X-Test-Clock", String(NOW)],
          ["X-Test-Echo-Authz", "1"],
        ]);
        const response = await rawRequest(worker, { method, target: entry.target, headers });
        const authz = response.headers["x-test-authz"]
          ? JSON.parse(decodeURIComponent(response.headers["x-test-authz"]))
          : null;
        const expected = expectedStatus(entry, { ...view, parser: "workerd" });
        if (statusClass(response.status) !== expected)
          problems.push(`${name}: status ${response.status} (${authz?.reason ?? "no decision"}), expected ${expected}`);
        const route = response.headers["x-route"];
        if (route === "admin" && response.status === 200) problems.push(`${name}: the admin handler answered 200`);
        if (response.status === 400 && expected === 400 && authz?.reason !== entry.reason)
          problems.push(`${name}: reason ${authz?.reason}, expected ${entry.reason}`);
        if (route === undefined) continue;
        // The origin answered: after an allow, for exactly the authorized path.
        if (authz?.reason !== "allowed") problems.push(`${name}: the origin answered after ${authz?.reason}`);
        const authorized = authz?.authorizedPath ?? authz?.path;
        if (route !== routeOf(authorized, view))
          problems.push(`${name}: ${route} ran, the authorized ${authorized} routes to ${routeOf(authorized, view)}`);
        if (method === "HEAD") continue;
        const echo = parse(response.body);
        const received = echo?.url ?? "";
        const receivedPath = received.split("?")[0];
        if (receivedPath !== authorized)
          problems.push(`${name}: the origin got ${receivedPath}, the Worker authorized ${authorized}`);
        if (searchOf(received) !== searchOf(entry.target).split("#")[0])
          problems.push(`${name}: the origin got the query ${searchOf(received)}`);
        problems.push(...forgedHeaderProblems(echo?.headers, IDENTITY).map((p) => `${name}: ${p}`));
        if (echo?.headers?.["x-authz-sub"] !== SUB || echo?.headers?.["x-authz-groups"] !== GROUP)
          problems.push(`${name}: identity ${echo?.headers?.["x-authz-sub"]} / ${echo?.headers?.["x-authz-groups"]}`);
      }
      assert.deepEqual(problems, []);
    });

    test("denials are JSON and never cached", async () => {
      for (const target of ["/petstore/v2/admin", "/petstore/v2/admin;x"]) {
        const response = await rawRequest(worker, {
          target,
          headers: matrixHeaders(token, target, [["X-Test-Clock", String(NOW)]]),
        });
        assert.ok(response.status === 403 || response.status === 400, `${target}: ${response.status}`);
        assert.equal(response.headers["content-type"], "application/json", target);
        assert.equal(response.headers["cache-control"], "no-store", target);
      }
    });
  });
}
