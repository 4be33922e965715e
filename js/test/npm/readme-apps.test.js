// The README's Node, Express, Fastify and Lambda@Edge snippets, run as written: extracted
// from js/README.md into a folder inside the package (so `edge-authz/...` resolves to this
// package by self-reference), with a config.json whose JWKS is a loopback server. A real
// Express app and a real Fastify app listen on 127.0.0.1.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { jwksDocument } from "../support/suite.js";
import { startJwksServer } from "../support/servers.js";
import { VET_POLICY, accessToken, keys, poolConfig } from "./fixtures.js";

const dir = fileURLToPath(new URL("../../.readme-snippets/", import.meta.url));
const nowSeconds = () => Math.floor(Date.now() / 1000);
const freshToken = (claims = {}) => accessToken({ iat: nowSeconds() - 60, exp: nowSeconds() + 3600, ...claims });

/** Every `<!-- snippet: NAME -->` + ```js block of the README. */
export function readmeSnippets() {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const snippets = new Map();
  for (const match of readme.matchAll(/<!-- snippet: ([\w.-]+) -->\n```js\n([\s\S]*?)```/g))
    snippets.set(match[1], match[2]);
  return snippets;
}

/** Every `<!-- config: NAME -->` + ```json block of the README (the configuration samples). */
function readmeConfigs() {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  return new Map(
    [...readme.matchAll(/<!-- config: ([\w.-]+) -->\n```json\n([\s\S]*?)```/g)].map((m) => [m[1], JSON.parse(m[2])]),
  );
}

let jwks;
let snippets;
before(async () => {
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  snippets = readmeSnippets();
  for (const [name, code] of snippets) writeFileSync(`${dir}${name}`, code);
  writeFileSync(`${dir}config.json`, JSON.stringify(poolConfig(jwks.url)));
  writeFileSync(`${dir}policies.json`, JSON.stringify({ groups: { "pet-veterinarian": VET_POLICY } }));
});
after(async () => {
  await jwks.close();
  rmSync(dir, { recursive: true, force: true });
});

test("the README has the four snippets", () => {
  assert.deepEqual([...snippets.keys()].sort(), ["express.mjs", "fastify.mjs", "lambda-edge.mjs", "node.mjs"]);
});

describe("the README's configuration samples", () => {
  const configs = readmeConfigs();

  test("a Cognito issuer, an OIDC issuer and a policies document, each accepted as it is", async () => {
    assert.deepEqual([...configs.keys()], ["cognito", "oidc", "policies"]);
    const { createAuthorizer } = await import("edge-authz");
    for (const name of ["cognito", "oidc"]) {
      const authorizer = createAuthorizer(configs.get(name), { policies: configs.get("policies"), log: false });
      assert.equal(authorizer.loadsPolicies, false, name);
    }
    assert.deepEqual(Object.keys(configs.get("cognito").issuers[0]).sort(), ["clientId", "tokenUse", "userPoolId"]);
    assert.equal(configs.get("oidc").issuers[0].groupsClaim, "roles");
  });

  test("the policies sample allows a pet-veterinarian's GET /pets and /pets/{id}, nothing else", async () => {
    const { createAuthorizer } = await import("edge-authz");
    const authorizer = createAuthorizer(
      { ...configs.get("cognito"), issuers: poolConfig(jwks.url).issuers },
      { policies: configs.get("policies"), log: false },
    );
    const decide = (method, path, groups = ["pet-veterinarian"]) =>
      authorizer.authorize({ method, path, headers: { authorization: `Bearer ${freshToken({ groups })}` } });
    assert.equal((await decide("GET", "/pets")).outcome, "allow");
    assert.equal((await decide("GET", "/pets/42")).outcome, "allow");
    assert.equal((await decide("DELETE", "/pets/42")).reason, "implicit_deny");
    assert.equal((await decide("GET", "/owners")).reason, "implicit_deny");
    assert.equal((await decide("GET", "/pets", ["pet-groomer"])).reason, "implicit_deny");
  });
});

async function listen(server) {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${server.address().port}`;
}

describe("Express (the README app on 127.0.0.1)", () => {
  let base;
  let server;
  before(async () => {
    const { default: app } = await import(`${dir}express.mjs`);
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  test("allow: the route runs with req.auth", async () => {
    const response = await fetch(`${base}/petstore/v1/pets?limit=2`, {
      headers: { authorization: `Bearer ${freshToken()}` },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), {
      caller: "a1b2c3d4-0000-4000-8000-000000000001",
      groups: "pet-veterinarian",
    });
  });

  test("no token: 401 with WWW-Authenticate and the API Gateway body; the route never runs", async () => {
    const response = await fetch(`${base}/petstore/v1/pets`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), "Bearer");
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(await response.json(), { message: "Unauthorized" });
  });

  test("a group without the path: 403", async () => {
    const response = await fetch(`${base}/petstore/v1/pets`, {
      headers: { authorization: `Bearer ${freshToken({ groups: ["pet-groomer"] })}` },
    });
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { Message: "User is not authorized to access this resource" });
  });

  test("JWKS down for a fresh app: 503, not an allow", async () => {
    jwks.state.down = true;
    try {
      const { edgeAuthz } = await import("edge-authz/express");
      const express = (await import("express")).default;
      const app = express();
      app.use(
        edgeAuthz({
          config: poolConfig(jwks.url),
          policies: { groups: { "pet-veterinarian": VET_POLICY } },
          log: false,
        }),
      );
      app.get("/petstore/v1/pets", (req, res) => res.json({ reached: true }));
      const other = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => other.once("listening", resolve));
      const response = await fetch(`http://127.0.0.1:${other.address().port}/petstore/v1/pets`, {
        headers: { authorization: `Bearer ${freshToken()}` },
      });
      await new Promise((resolve) => other.close(resolve));
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), { message: "Service Unavailable" });
    } finally {
      jwks.state.down = false;
    }
  });

  test("a bad configuration throws when the middleware is built", async () => {
    const { edgeAuthz } = await import("edge-authz/express");
    assert.throws(
      () => edgeAuthz({ config: { issuers: [] }, policies: { groups: {} } }),
      (e) => e.code === "invalid_config" && /issuers/.test(e.message),
    );
    assert.throws(() => edgeAuthz({ policies: { groups: {} } }), /`config` is required/);
  });
});

describe("Fastify (the README app on 127.0.0.1)", () => {
  let app;
  let base;
  before(async () => {
    app = (await import(`${dir}fastify.mjs`)).default;
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(() => app.close());

  test("allow: the route runs with request.auth", async () => {
    const response = await fetch(`${base}/petstore/v1/pets`, { headers: { authorization: `Bearer ${freshToken()}` } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { caller: "a1b2c3d4-0000-4000-8000-000000000001" });
  });

  test("deny: 401 / 403 with JSON bodies, even on routes that do not exist", async () => {
    const none = await fetch(`${base}/petstore/v1/pets`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), "Bearer");
    const groomer = await fetch(`${base}/anything`, {
      headers: { authorization: `Bearer ${freshToken({ groups: ["pet-groomer"] })}` },
    });
    assert.equal(groomer.status, 403);
    assert.match(groomer.headers.get("content-type"), /^application\/json/);
  });

  test("a bad configuration fails the registration", async () => {
    const Fastify = (await import("fastify")).default;
    const { edgeAuthz } = await import("edge-authz/fastify");
    const broken = Fastify();
    broken.register(edgeAuthz, { config: poolConfig("https://i.test/j") });
    await assert.rejects(broken.ready(), (e) => e.code === "invalid_config" && /options\.policies/.test(e.message));
  });
});

describe("the Node snippet", () => {
  test("decides a node:http request", async () => {
    const { check } = await import(`${dir}node.mjs`);
    const { createServer } = await import("node:http");
    const server = createServer(async (req, res) => {
      const decision = await check(req);
      res
        .writeHead(decision.status, { "content-type": "application/json" })
        .end(decision.body ?? JSON.stringify(decision.context));
    });
    const base = await listen(server);
    try {
      const allowed = await fetch(`${base}/petstore/v1/pets`, { headers: { authorization: `Bearer ${freshToken()}` } });
      assert.equal(allowed.status, 200);
      assert.equal((await allowed.json()).username, "cognitouser");
      assert.equal((await fetch(`${base}/petstore/v1/pets`)).status, 401);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the Lambda@Edge snippet", () => {
  test("allows with identity headers and denies with a CloudFront response", async () => {
    const { handler } = await import(`${dir}lambda-edge.mjs`);
    const { viewerRequest } = await import("./lambda-edge-events.js");
    const allowed = await handler(viewerRequest({ token: freshToken(), clientIp: "192.0.2.10" }));
    assert.equal(allowed.headers["x-authz-sub"][0].value, "a1b2c3d4-0000-4000-8000-000000000001");
    const denied = await handler(viewerRequest({ clientIp: "192.0.2.10" }));
    assert.equal(denied.status, "401");
  });
});
