// The Lambda@Edge handler on AWS-shaped viewer-request events, and the deployment zip built
// by scripts/lambda-edge-zip.js (what `make lambda-edge-zip` runs): ≤ 300 KB, and its own
// index.handler decides events when unpacked.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { createHandler } from "../../src/lambda-edge.js";
import { jwksDocument } from "../support/suite.js";
import { NOW, VET_POLICY, accessToken, keys, poolConfig } from "./fixtures.js";
import { viewerRequest } from "./lambda-edge-events.js";

const JWKS_URI = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SuitePool1/.well-known/jwks.json";
const bundle = {
  config: poolConfig(JWKS_URI),
  policies: { groups: { "pet-veterinarian": VET_POLICY } },
  jwks: { [JWKS_URI]: JSON.parse(jwksDocument(keys, ["suite-rsa-1"])) },
};
const offline = () => Promise.reject(new Error("no network in this test"));

describe("viewer-request events", () => {
  const handler = createHandler({ ...bundle, now: () => NOW, fetch: offline, log: false });

  test("allow: the request goes on with identity headers; forged ones are removed, others kept", async () => {
    const event = viewerRequest({
      token: accessToken(),
      clientIp: "192.0.2.10",
      querystring: "limit=5",
      extraHeaders: { "X-Authz-Sub": "admin", "X-Authz-Groups": "root" },
    });
    const result = await handler(event);
    assert.equal(result.uri, "/petstore/v1/pets");
    assert.equal(result.querystring, "limit=5");
    assert.equal(result.clientIp, "192.0.2.10");
    assert.deepEqual(result.headers["x-authz-sub"], [
      { key: "x-authz-sub", value: "a1b2c3d4-0000-4000-8000-000000000001" },
    ]);
    assert.deepEqual(result.headers["x-authz-groups"], [{ key: "x-authz-groups", value: "pet-veterinarian" }]);
    assert.deepEqual(result.headers["x-authz-client-id"], [{ key: "x-authz-client-id", value: "suite-client" }]);
    assert.deepEqual(result.headers.host, [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }]);
    assert.ok(result.headers.authorization, "Authorization is forwarded by default");
    assert.ok(!("status" in result));
  });

  test("deny: a CloudFront response with a string status, {key, value} headers and a JSON body", async () => {
    const unauthorized = await handler(viewerRequest({ clientIp: "192.0.2.10" }));
    assert.deepEqual(unauthorized, {
      status: "401",
      statusDescription: "Unauthorized",
      headers: {
        "content-type": [{ key: "Content-Type", value: "application/json" }],
        "cache-control": [{ key: "Cache-Control", value: "no-store" }],
        "www-authenticate": [{ key: "WWW-Authenticate", value: "Bearer" }],
      },
      body: '{"message":"Unauthorized"}',
    });
    const outside = await handler(viewerRequest({ token: accessToken(), clientIp: "203.0.113.7" }));
    assert.equal(outside.status, "403");
    assert.equal(outside.statusDescription, "Forbidden");
  });

  test("forwardAuthorization: false removes Authorization; a custom prefix is used and stripped", async () => {
    const custom = createHandler({
      ...bundle,
      now: () => NOW,
      fetch: offline,
      log: false,
      forwardAuthorization: false,
      identityHeaderPrefix: "x-user-",
    });
    const result = await custom(
      viewerRequest({ token: accessToken(), clientIp: "192.0.2.10", extraHeaders: { "x-user-sub": "forged" } }),
    );
    assert.equal(result.headers.authorization, undefined);
    assert.equal(result.headers["x-user-sub"][0].value, "a1b2c3d4-0000-4000-8000-000000000001");
  });

  test("a malformed event or a bad client address: 503, never the request", async () => {
    assert.equal((await handler({ Records: [] })).status, "503");
    assert.equal((await handler(viewerRequest({ token: accessToken(), clientIp: "not-an-ip" }))).status, "503");
  });

  test("the preloaded JWKS means no fetch; without it and no network: 503", async () => {
    const { jwks, ...noJwks } = bundle;
    const cold = createHandler({ ...noJwks, now: () => NOW, fetch: offline, log: false });
    assert.equal((await cold(viewerRequest({ token: accessToken(), clientIp: "192.0.2.10" }))).status, "503");
  });

  test("policiesTimeoutMs bounds a slow policy store, as in the Node API (typed in LambdaEdgeBundle)", async () => {
    const { policies, ...rest } = bundle;
    const slow = createHandler({
      ...rest,
      now: () => NOW,
      fetch: offline,
      log: false,
      policies: () => new Promise(() => {}),
      policiesTimeoutMs: 50,
    });
    const started = performance.now();
    assert.equal((await slow(viewerRequest({ token: accessToken(), clientIp: "192.0.2.10" }))).status, "503");
    assert.ok(performance.now() - started < 2000, "answered at the timeout, not the default 5 s");
  });

  test("bad bundles throw at init, saying what", () => {
    assert.throws(() => createHandler(null), /expected \{config/);
    assert.throws(() => createHandler({ ...bundle, polices: {} }), /unknown member `polices`/);
    assert.throws(() => createHandler({ ...bundle, identityHeaderPrefix: "x authz" }), /identityHeaderPrefix/);
    assert.throws(
      () => createHandler({ ...bundle, forwardAuthorization: "no" }),
      /forwardAuthorization must be true or false/,
    );
    assert.throws(
      () => createHandler({ ...bundle, config: { issuers: [{}] } }),
      (e) => e.code === "invalid_config",
    );
  });
});

describe("the deployment zip", () => {
  const script = fileURLToPath(new URL("../../scripts/lambda-edge-zip.js", import.meta.url));

  test("is at most 300 KB and its index.handler decides events", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-authz-le-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify(bundle.config));
    writeFileSync(join(dir, "policies.json"), JSON.stringify(bundle.policies));
    writeFileSync(join(dir, "jwks.json"), JSON.stringify(bundle.jwks));
    const zip = join(dir, "out", "lambda-edge.zip");
    execFileSync(process.execPath, [
      script,
      "--config",
      join(dir, "config.json"),
      "--policies",
      join(dir, "policies.json"),
      "--jwks",
      join(dir, "jwks.json"),
      "--out",
      zip,
    ]);
    const size = statSync(zip).size;
    console.log(`lambda-edge.zip: ${size} bytes (budget 300 KB, limit 1 MB)`);
    assert.ok(size <= 300 * 1024, `${size} bytes`);
    const unpacked = join(dir, "unpacked");
    execFileSync("python3", ["-m", "zipfile", "-e", zip, unpacked]);
    const { handler } = await import(join(unpacked, "index.mjs"));
    // The bundled tokens are dated NOW; the deployed handler uses the real clock.
    const token = accessToken({ iat: Math.floor(Date.now() / 1000) - 60, exp: Math.floor(Date.now() / 1000) + 3600 });
    const allowed = await handler(viewerRequest({ token, clientIp: "192.0.2.10" }));
    assert.equal(allowed.headers["x-authz-username"][0].value, "cognitouser");
    assert.equal((await handler(viewerRequest({ clientIp: "192.0.2.10" }))).status, "401");
  });

  test("a bad configuration fails the build with the reason", () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-authz-le-"));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ issuers: [{ issuer: "x" }] }));
    const run = spawnSync(
      process.execPath,
      [script, "--config", join(dir, "config.json"), "--out", join(dir, "x.zip")],
      { encoding: "utf8" },
    );
    assert.equal(run.status, 2);
    assert.match(run.stderr, /the bundle is invalid: .*issuers\[0\]/);
  });
});
