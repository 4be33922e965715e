// The Worker's start-up checks in workerd (Miniflare), as deployed (no `ENVIRONMENT = "dev"`):
// the repository's wrangler.toml deployed as it is, and any UNCONFIGURED value, loopback or
// example upstream or issuer, answers 503 to every request, with a log line naming each
// variable and the fix, before any fetch (never an allow); [env.dev] and ENVIRONMENT = "dev"
// start. Every Worker is one of a single Miniflare instance, and every fetch a Worker makes
// goes to the test's outbound service, which records it.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { jwksDocument, suiteKeys, tokenOf } from "./support/suite.js";
import { startJwksServer, startPetstore } from "./support/servers.js";
import { workerdWorker } from "./support/workerd.js";

const repoToml = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));
const keys = suiteKeys();
const NOW = 1767225600;
const POOL = "us-east-1_SuitePool1";
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const ALLOW_ALL = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: "arn:aws:execute-api:*:*:*/*/*/*" }],
};

const pool = (extra = {}) => ({ userPoolId: POOL, tokenUse: "access", clientId: ["suite-client"], ...extra });
const authz = (issuers, extra = {}) => JSON.stringify({ issuers, policies: { groups: { vets: ALLOW_ALL } }, ...extra });
const REAL = { AUTHZ_CONFIG: authz([pool()]), UPSTREAM: "https://origin.internal/base" };
const token = () =>
  tokenOf(
    {
      key: "suite-rsa-1",
      claims: {
        iss: ISSUER,
        sub: "u-1",
        "cognito:groups": ["vets"],
        token_use: "access",
        client_id: "suite-client",
        username: "u",
        iat: NOW - 60,
        exp: NOW + 3600,
      },
    },
    keys,
  );

/** The wrangler.toml's vars, top level or of an environment, as wrangler deploys them. */
const tomlVars = (env) => unstable_readConfig({ config: repoToml, env }, { hideWarnings: true }).vars;

let jwks;
let petstore;
let mf;
/** @type {Record<string, string[]>} the URLs each Worker fetched */
const outbound = {};
/** name → bindings (production: no ENVIRONMENT unless given) */
let workers;

before(async () => {
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
  petstore = await startPetstore();
  const loopback = { AUTHZ_CONFIG: authz([pool({ jwksUri: jwks.url })]), UPSTREAM: petstore.url };
  workers = {
    "repo-toml": tomlVars(undefined),
    "repo-toml-env-dev": tomlVars("dev"),
    real: REAL,
    "route-mode": { ...REAL, UPSTREAM: "" },
    "upstream-127": { ...REAL, UPSTREAM: "http://127.0.0.1:8788" },
    "upstream-localhost": { ...REAL, UPSTREAM: "http://localhost:3000/api" },
    "upstream-ipv6-loopback": { ...REAL, UPSTREAM: "http://[0:0:0:0:0:0:0:1]:8080" },
    "upstream-decimal-127": { ...REAL, UPSTREAM: "http://2130706433/" },
    "upstream-unspecified": { ...REAL, UPSTREAM: "http://0.0.0.0:8080" },
    "upstream-example-com": { ...REAL, UPSTREAM: "https://api.example.com/v1" },
    "upstream-dot-test": { ...REAL, UPSTREAM: "https://origin.test" },
    "policies-url-loopback": { ...REAL, POLICIES_URL: "http://127.0.0.1:9/policies.json" },
    "jwks-loopback": {
      ...REAL,
      AUTHZ_CONFIG: authz([pool({ jwksUri: "http://127.0.0.1:8788/.well-known/jwks.json" })]),
    },
    "oidc-example": {
      ...REAL,
      AUTHZ_CONFIG: authz([
        pool(),
        {
          issuer: "https://login.example.com/",
          jwksUri: "https://login.example.com/.well-known/jwks.json",
          audience: ["api"],
        },
      ]),
    },
    "marker-in-text": { ...REAL, AUTHZ_CONFIG: authz([pool({ clientId: ["UNCONFIGURED"] })]) },
    "marker-in-dev": { ...REAL, ENVIRONMENT: "dev", UPSTREAM: "UNCONFIGURED" },
    "environment-development": { ...loopback, ENVIRONMENT: "development" },
    "loopback-production": loopback,
    "loopback-dev": { ...loopback, ENVIRONMENT: "dev" },
    "bad-option": { ...REAL, CORS_PREFLIGHT: "sometimes" },
    "no-config": { UPSTREAM: REAL.UPSTREAM },
    "invalid-config": { ...REAL, AUTHZ_CONFIG: JSON.stringify({ issuers: [] }) },
  };
  mf = new Miniflare({
    workers: Object.entries(workers).map(([name, bindings]) => {
      outbound[name] = [];
      return {
        name,
        ...workerdWorker("test/support/worker-under-test.js", bindings, { dev: false }),
        outboundService: async (request) => {
          outbound[name].push(request.url);
          // Only the loopback servers of this file are reachable; nothing leaves the machine.
          const { hostname } = new URL(request.url);
          if (hostname === "127.0.0.1") return fetch(request.url, { method: request.method, headers: request.headers });
          return new Response("the tests run offline", { status: 599 });
        },
      };
    }),
    handleRuntimeStdio: () => {},
  });
  await mf.ready;
});
after(async () => {
  await mf?.dispose();
  await jwks?.close();
  await petstore?.close();
});

/** One request to a Worker, with its log event for the request (worker-under-test's echo). */
async function call(name, headers = {}) {
  const worker = await mf.getWorker(name);
  const response = await worker.fetch("http://worker.test/petstore/v1/pets", {
    headers: { "x-test-clock": String(NOW), "x-test-echo-authz": "1", "cf-connecting-ip": "192.0.2.10", ...headers },
    redirect: "manual",
  });
  const event = JSON.parse(decodeURIComponent(response.headers.get("x-test-authz")));
  const body = await response.text();
  return { status: response.status, headers: response.headers, body, event };
}

/** The refusal: 503 with the unavailable body, reason `unconfigured`, exactly `variables` named, nothing fetched. */
async function assertRefused(name, variables) {
  for (const headers of [{}, { authorization: `Bearer ${token()}` }]) {
    const { status, headers: responseHeaders, body, event } = await call(name, headers);
    assert.equal(status, 503, `${name}: ${JSON.stringify(event)}`);
    assert.deepEqual(JSON.parse(body), { message: "Service Unavailable" });
    assert.equal(responseHeaders.get("cache-control"), "no-store");
    assert.equal(event.reason, "unconfigured");
    assert.equal(event.status, 503);
    assert.deepEqual(event.variables, variables);
    for (const variable of variables) assert.ok(event.message.includes(variable), event.message);
    assert.match(
      event.message,
      /Set UPSTREAM to your origin's URL .* AUTHZ_CONFIG\.issuers .* wrangler\.toml's \[vars\]/,
    );
    assert.match(event.message, /only with ENVIRONMENT = "dev"/);
  }
  assert.deepEqual(outbound[name], [], `${name} fetched nothing`);
}

/** Started: no token is API Gateway's 401, decided without any fetch. */
async function assertStarted(name) {
  const { status, headers, event } = await call(name);
  assert.equal(status, 401, `${name}: ${JSON.stringify(event)}`);
  assert.equal(headers.get("www-authenticate"), "Bearer");
  assert.equal(event.reason, "no_credentials");
  assert.deepEqual(outbound[name], []);
}

describe("the repository's wrangler.toml", () => {
  test("deployed as it is (top-level [vars]): every request 503, the log names UPSTREAM and the issuer's placeholders", async () => {
    await assertRefused("repo-toml", [
      "UPSTREAM",
      "AUTHZ_CONFIG.issuers[0].userPoolId",
      "AUTHZ_CONFIG.issuers[0].clientId[0]",
    ]);
  });

  test("[env.dev] (wrangler dev --env dev): ENVIRONMENT = dev, loopback upstream and issuer, the Worker starts", async () => {
    assert.equal(workers["repo-toml-env-dev"].ENVIRONMENT, "dev");
    assert.equal(workers["repo-toml-env-dev"].UPSTREAM, "http://127.0.0.1:8788");
    await assertStarted("repo-toml-env-dev");
  });
});

describe("outside ENVIRONMENT = dev", () => {
  test("a real-looking configuration starts; so does route mode (UPSTREAM empty)", async () => {
    await assertStarted("real");
    await assertStarted("route-mode");
  });

  for (const [name, variables] of [
    ["upstream-127", ["UPSTREAM"]],
    ["upstream-localhost", ["UPSTREAM"]],
    ["upstream-ipv6-loopback", ["UPSTREAM"]],
    ["upstream-decimal-127", ["UPSTREAM"]],
    ["upstream-unspecified", ["UPSTREAM"]],
    ["upstream-example-com", ["UPSTREAM"]],
    ["upstream-dot-test", ["UPSTREAM"]],
    ["policies-url-loopback", ["POLICIES_URL"]],
    ["jwks-loopback", ["AUTHZ_CONFIG.issuers[0].jwksUri"]],
    ["oidc-example", ["AUTHZ_CONFIG.issuers[1].jwksUri", "AUTHZ_CONFIG.issuers[1].issuer"]],
    ["marker-in-text", ["AUTHZ_CONFIG.issuers[0].clientId[0]"]],
  ]) {
    test(`${name}: refused, naming ${variables.join(", ")}`, () => assertRefused(name, variables));
  }

  test("the log says which host and why", async () => {
    assert.match((await call("upstream-decimal-127")).event.message, /UPSTREAM \(127\.0\.0\.1 is a loopback host\)/);
    assert.match(
      (await call("upstream-example-com")).event.message,
      /UPSTREAM \(api\.example\.com is a reserved example name\)/,
    );
    assert.match(
      (await call("upstream-unspecified")).event.message,
      /UPSTREAM \(0\.0\.0\.0 is the unspecified address\)/,
    );
    assert.match(
      (await call("marker-in-text")).event.message,
      /AUTHZ_CONFIG\.issuers\[0\]\.clientId\[0\] \(still UNCONFIGURED\)/,
    );
  });

  test("a valid token gets nothing from a Worker on loopback hosts: 503, the JWKS and the origin never asked", async () => {
    const fetchesBefore = jwks.state.fetches;
    const receivedBefore = petstore.received.length;
    await assertRefused("loopback-production", ["UPSTREAM", "AUTHZ_CONFIG.issuers[0].jwksUri"]);
    await assertRefused("environment-development", ["UPSTREAM", "AUTHZ_CONFIG.issuers[0].jwksUri"]);
    assert.equal(jwks.state.fetches, fetchesBefore);
    assert.equal(petstore.received.length, receivedBefore);
  });
});

describe("ENVIRONMENT = dev", () => {
  test("the same loopback configuration starts and allows the valid token", async () => {
    const { status, body } = await call("loopback-dev", { authorization: `Bearer ${token()}` });
    assert.equal(status, 200);
    assert.equal(JSON.parse(body).headers["x-authz-sub"], "u-1");
    assert.deepEqual(
      outbound["loopback-dev"].map((url) => new URL(url).origin),
      [new URL(jwks.url).origin, petstore.url],
    );
  });

  test("UNCONFIGURED is refused even there", () => assertRefused("marker-in-dev", ["UPSTREAM"]));
});

describe("configuration errors: 503, and the code every adapter uses (invalid_config)", () => {
  for (const [name, variables, message] of [
    ["bad-option", undefined, /CORS_PREFLIGHT must be pass, answer or authorize, not sometimes/],
    ["no-config", ["AUTHZ_CONFIG"], /AUTHZ_CONFIG is not set/],
    ["invalid-config", undefined, /issuers/],
  ]) {
    test(name, async () => {
      const { status, headers, body, event } = await call(name, { authorization: `Bearer ${token()}` });
      assert.equal(status, 503, JSON.stringify(event));
      assert.deepEqual(JSON.parse(body), { message: "Service Unavailable" });
      assert.equal(headers.get("cache-control"), "no-store");
      assert.equal(event.reason, "invalid_config");
      assert.deepEqual(event.variables, variables);
      assert.match(event.message, message);
      assert.deepEqual(outbound[name], []);
    });
  }
});
