// The TypeScript types, as a consumer gets them: `npm pack`, an offline install of the
// tarball into fresh projects, and the installed `typescript` run with `--strict --noEmit`
// on the README's snippets (js/README.md's `<!-- snippet -->` blocks and the Worker one-liner,
// each as the JavaScript it is, `checkJs`, and as TypeScript) under `node16`, `nodenext` and
// `bundler` resolution, plus typed ESM and CommonJS consumers. Negative checks: a misspelt
// configuration member, a `reason` compared with a code that does not exist, a `req.auth` of
// the wrong type, ... fail. `AuthzError` is one class for `import` and `require` in one
// process. attw (a dev dependency, run offline) finds no problem with the `strict` profile
// (node10, node16 from CJS and ESM, bundler), and none for the Worker entry, ESM only
// (workerd), with the `esm-only` profile.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";

const pkgDir = fileURLToPath(new URL("../..", import.meta.url));
const tsc = join(pkgDir, "node_modules", "typescript", "bin", "tsc");
const attw = join(pkgDir, "node_modules", "@arethetypeswrong", "cli", "dist", "index.js");
const guard = join(pkgDir, "test", "support", "offline-guard.cjs");
const npmEnv = {
  ...process.env,
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};
const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", env: npmEnv });

/** js/README.md's `<!-- snippet: NAME -->` blocks, and its Worker one-liner (`worker.mjs`). */
function readmeSnippets() {
  const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
  const snippets = new Map();
  for (const match of readme.matchAll(/<!-- snippet: ([\w.-]+) -->\n```js\n([\s\S]*?)```/g))
    snippets.set(match[1], match[2]);
  const worker = readme.match(/```js\n(export \{ default \} from "edge-authz\/worker";\n)```/);
  assert.ok(worker, 'js/README.md has no `export { default } from "edge-authz/worker"` block');
  snippets.set("worker.mjs", worker[1]);
  return snippets;
}

const RESOLUTIONS = {
  node16: { module: "node16", moduleResolution: "node16" },
  nodenext: { module: "nodenext", moduleResolution: "nodenext" },
  bundler: { module: "esnext", moduleResolution: "bundler" },
};

let work;
let tarball;
before(() => {
  work = mkdtempSync(join(tmpdir(), "edge-authz-types-"));
  const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", work], pkgDir));
  tarball = join(work, packed.filename);
});
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * A consumer project with the tarball installed (offline), and express, fastify and the
 * @types (Node, Express) of this package's dev dependencies linked in, as a consumer has them.
 */
function consumer(name, type = "module") {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true, type }));
  npm(["install", "--offline", "--no-package-lock", tarball], dir);
  for (const dep of ["express", "fastify", "@types"])
    symlinkSync(join(pkgDir, "node_modules", dep), join(dir, "node_modules", dep));
  return dir;
}

function runTsc(dir, resolution, files, extra = {}) {
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        ...RESOLUTIONS[resolution],
        target: "es2022",
        lib: ["es2022", "dom"],
        strict: true,
        noEmit: true,
        allowJs: true,
        checkJs: true,
        skipLibCheck: false,
        ...extra,
      },
      files,
    }),
  );
  const run = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: dir, encoding: "utf8" });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}

/** The snippet as TypeScript: a JSDoc `@param {T} name` of a function becomes `name: T`. */
const asTypeScript = (code) =>
  code.replace(/\/\*\* @param \{([^}]+)\} (\w+) \*\/\n(export (?:async )?function \w+\()\2\)/g, "$3$2: $1)");

describe("the README's snippets under tsc --strict", () => {
  let dir;
  const files = [];
  before(() => {
    dir = consumer("snippets");
    for (const [name, code] of readmeSnippets()) {
      writeFileSync(join(dir, name), code);
      const ts = name.replace(/\.mjs$/, ".mts");
      writeFileSync(join(dir, ts), asTypeScript(code));
      files.push(name, ts);
    }
  });

  test("the snippets are there: Node, Express, Fastify, Lambda@Edge, Worker", () => {
    assert.deepEqual(files.filter((f) => f.endsWith(".mjs")).sort(), [
      "express.mjs",
      "fastify.mjs",
      "lambda-edge.mjs",
      "node.mjs",
      "worker.mjs",
    ]);
    assert.match(readFileSync(join(dir, "node.mts"), "utf8"), /check\(req: import\("node:http"\)\.IncomingMessage\)/);
  });

  for (const resolution of Object.keys(RESOLUTIONS)) {
    test(`as JavaScript (checkJs) and as TypeScript, ${resolution}`, () => {
      const { ok, output } = runTsc(dir, resolution, files);
      assert.ok(ok, output);
    });
  }
});

// Typed uses of every entry point; each `@ts-expect-error` line must be an error (an unused
// one is TS2578), so the same run proves what is accepted and what is refused.
const TYPED_ESM = `import { readFileSync } from "node:fs";
import express from "express";
import Fastify from "fastify";
import { AuthzError, ConfigError, JwksError, PolicyLoadError, RequestError, createAuthorizer, type Decision, type DecisionEvent, type DecisionReason, type EdgeAuthzConfig } from "edge-authz";
import { edgeAuthz } from "edge-authz/express";
import fastifyAuthz from "edge-authz/fastify";
import { createHandler, type CloudFrontRequestEvent } from "edge-authz/lambda-edge";
import worker, { ConfigError as WorkerConfigError, UnconfiguredError, type WorkerEnv } from "edge-authz/worker";

const config: EdgeAuthzConfig = {
  issuers: [
    { userPoolId: "us-east-1_AbC123xyz", tokenUse: "access", clientId: ["5ghrtgp2ifbm0ml4fh8a3n0kkn"] },
    { issuer: "https://login.example.com/", jwksUri: "https://login.example.com/.well-known/jwks.json", audience: ["api://petstore"], algorithms: ["RS256", "ES256"], groupsClaim: "roles" },
  ],
  graceSeconds: 0,
  maxTokenBytes: 8192,
  jwksCache: { ttlSeconds: 3600, penaltySeconds: 10, maxStaleSeconds: 3600, fetchTimeoutSeconds: 30 },
  credentials: { header: "authorization", cookie: null, requireBearer: true },
  api: { region: "us-east-1", accountId: "123456789012", apiId: "a1b2c3d4e5", stage: "prod" },
  policies: {
    groups: { "pet-veterinarian": { Version: "2012-10-17", Statement: [{ Sid: "PetStore-API", Effect: "Allow", Action: "execute-api:Invoke", Resource: ["arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/petstore/v1/*"] }] } },
    everyone: null,
    noGroup: null,
    ttlSeconds: 300,
    maxStaleSeconds: 3600,
  },
  cache: { tokens: 10000, decisions: 10000 },
  responses: { forbidden: { status: 403, body: { Message: "User is not authorized to access this resource" } } },
  context: { claims: ["email"] },
  request: { caseSensitive: true, trailingSlash: "keep", mergeSlashes: false, dotSegments: "reject", escapedSlashes: "reject", semicolons: "reject", maxPathBytes: 8192 },
  apiGatewayCache: { ttlSeconds: 300, identitySources: ["method.request.header.Authorization"], simpleResponses: false },
};
const authorizer = createAuthorizer(config, { policies: { groups: {} } });
createAuthorizer(readFileSync("config.json", "utf8"));
await authorizer.hydrate();
const observed = createAuthorizer(config, {
  onDecision: (event: DecisionEvent) => console.log(event.outcome, event.reason, event.status, event.latencyMs, event.principal, event.authorizedPath),
  claimCheck: async (claims, request) => claims.tenant === "acme" && request.method === "GET",
});
// @ts-expect-error: a claim check answers a boolean
createAuthorizer(config, { claimCheck: () => "yes" });
// @ts-expect-error: the event has no token
createAuthorizer(config, { onDecision: (event) => console.log(event.token) });
if ((await observed.authorize({ method: "GET", path: "/" })).reason === "claim_check_failed") console.log("refused");
// @ts-expect-error: misspelt member (userPoolID)
createAuthorizer({ issuers: [{ userPoolID: "us-east-1_x", tokenUse: "access", clientId: null }] });
// @ts-expect-error: unknown top-level member
createAuthorizer({ issuers: [], graceSecond: 5 });
// @ts-expect-error: a pool issuer needs tokenUse
createAuthorizer({ issuers: [{ userPoolId: "us-east-1_x", clientId: null }] });
// @ts-expect-error: an OIDC issuer has an audience, not a clientId
createAuthorizer({ issuers: [{ issuer: "https://i/", jwksUri: "https://i/j", clientId: null }] });
// @ts-expect-error: not a choice
createAuthorizer({ issuers: [], request: { dotSegments: "ignore" } });
// @ts-expect-error: not a policy
createAuthorizer({ issuers: [], policies: { groups: { g: { Statement: [{ Effect: "Permit" }] } } } });

const revoking = createAuthorizer(
  { ...config, revocation: { freshnessSeconds: 30, whenUnavailable: "stale", maxStaleSeconds: 300, store: "external", cacheEntries: 1000 } },
  {
    revocations: async (keys) => new Map(keys.map((key) => [key, key.startsWith("user#") ? { before: 1767225600 } : null])),
    revocationsTimeoutMs: 2000,
  },
);
createAuthorizer(config, { revocations: { url: "https://records.internal/revocations.json", ttlSeconds: 5 } });
const revokedKey: string = revoking.revoke({ sub: "u-1", before: 1767225600 }, { expiresAt: 1767312000 });
revoking.revoke({ originJti: "o-1" }, { issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x" });
revoking.revoke({ jti: "j-1" });
console.log(revokedKey, revoking.loadsRevocations);
// @ts-expect-error: not a revocation target
revoking.revoke({ username: "u" });
// @ts-expect-error: not a choice
createAuthorizer({ issuers: [], revocation: { whenUnavailable: "allow" } });
if ((await revoking.authorize({ method: "GET", path: "/" })).reason === "revoked") console.log("revoked");

const decision: Decision = await authorizer.authorize({ method: "GET", path: "/" });
const reason: DecisionReason = decision.reason;
if (decision.reason === "expired" || decision.reason === "path_dot_segment" || decision.reason === "implicit_deny") console.log(reason);
// @ts-expect-error: no such reason code
if (decision.reason === "token_expired") console.log(reason);
// @ts-expect-error: reason is not any string
const anyReason: typeof decision.reason = "whatever";

try { createAuthorizer(config); } catch (error) {
  if (error instanceof AuthzError) { const code: string = error.code; const name: string = error.name; console.log(code, name); }
  if (error instanceof ConfigError) { const code: "invalid_config" | "unconfigured" = error.code; const variables: string[] | undefined = error.variables; console.log(code, variables); }
  if (error instanceof RequestError) { const code: "invalid_request" = error.code; console.log(code); }
  if (error instanceof JwksError || error instanceof PolicyLoadError) { const base: AuthzError = error; console.log(base.code); }
  if (error instanceof UnconfiguredError) { const variables: string[] = error.variables; const base: WorkerConfigError = error; console.log(variables, base); }
  const configCode: string = ConfigError.code;
  console.log(configCode);
  // @ts-expect-error: a RequestError's code is invalid_request only
  if (error instanceof RequestError) { const wrong: "invalid_config" = error.code; console.log(wrong); }
}

const app = express();
app.use(edgeAuthz({ config, policies: "policies.json" }));
app.get("/", (req, res) => {
  const sub: string | number | boolean | undefined = req.auth.sub;
  // @ts-expect-error: the identity is not a string
  const wrong: string = req.auth;
  res.json({ sub, wrong });
});
const fastify = Fastify();
await fastify.register(fastifyAuthz, { config, policies: { url: "https://policies.internal/doc.json", ttlSeconds: 60 } });
// @ts-expect-error: the plugin's options are typed
await fastify.register(fastifyAuthz, { config, identityHeaderPrefix: 42 });
fastify.get("/", async (request) => ({ caller: request.auth.sub }));

const handler = createHandler({ config, forwardAuthorization: false, onDecision: (event) => console.log(event.latencyMs), claimCheck: (claims) => claims.tokenUse === "access" });
declare const event: CloudFrontRequestEvent;
await handler(event);
const env: WorkerEnv = { AUTHZ_CONFIG: config, UPSTREAM: "https://origin" };
// @ts-expect-error: AUTHZ_CONFIG is a configuration
const badEnv: WorkerEnv = { AUTHZ_CONFIG: 42 };
export { env, badEnv, worker, anyReason };
`;

const TYPED_CJS = `import edgeAuthz = require("edge-authz");
import expressAdapter = require("edge-authz/express");
import fastifyAdapter = require("edge-authz/fastify");
import lambdaEdge = require("edge-authz/lambda-edge");
const authorizer = edgeAuthz.createAuthorizer({ issuers: [{ issuer: "https://i/", jwksUri: "https://i/j", audience: null }] }, { log: false });
export const pending: Promise<edgeAuthz.Decision> = authorizer.authorize({ method: "GET", path: "/" });
export const isDeny = (d: edgeAuthz.Decision) => d.reason === "explicit_deny";
// @ts-expect-error: no such reason code
export const isTypo = (d: edgeAuthz.Decision) => d.reason === "explicit_denied";
// @ts-expect-error: misspelt member (userPoolID)
edgeAuthz.createAuthorizer({ issuers: [{ userPoolID: "us-east-1_x", tokenUse: "access", clientId: null }] });
export const mw = expressAdapter.edgeAuthz(authorizer);
export const mwWith = expressAdapter.edgeAuthz({ authorizer, sourceIp: (req) => req.ip, identityHeaderPrefix: "x-authz-" });
export const hydrated: Promise<void> = authorizer.hydrate();
export const observedMw = expressAdapter.edgeAuthz({ config: "{}", onDecision: (event: edgeAuthz.DecisionEvent) => console.log(event.reason), claimCheck: (claims) => claims.sub !== "blocked" });
export const plugin = fastifyAdapter.edgeAuthz;
export const handler = lambdaEdge.createHandler({ config: "{}" });
export const isAuthzError = (e: unknown) => e instanceof edgeAuthz.AuthzError && e.code === "invalid_config";
export const isConfigError = (e: unknown) => e instanceof edgeAuthz.ConfigError && e instanceof edgeAuthz.AuthzError;
`;

describe("typed consumers (ESM and CommonJS) accept what is documented and refuse the rest", () => {
  let dir;
  before(() => {
    dir = consumer("typed");
    writeFileSync(join(dir, "typed.mts"), TYPED_ESM);
    writeFileSync(join(dir, "typed.cts"), TYPED_CJS);
  });

  for (const resolution of Object.keys(RESOLUTIONS)) {
    test(resolution, () => {
      const files = resolution === "bundler" ? ["typed.mts"] : ["typed.mts", "typed.cts"];
      const { ok, output } = runTsc(dir, resolution, files);
      assert.ok(ok, output);
    });
  }

  test("the errors are the ones meant: a misspelt userPoolID, a reason that is no code", () => {
    writeFileSync(
      join(dir, "wrong.mts"),
      `import { createAuthorizer } from "edge-authz";
const authorizer = createAuthorizer({ issuers: [{ userPoolID: "us-east-1_x", tokenUse: "access", clientId: null }] });
const decision = await authorizer.authorize({ method: "GET", path: "/" });
export const expired = decision.reason === "token_expired";
`,
    );
    const { ok, output } = runTsc(dir, "node16", ["wrong.mts"]);
    assert.ok(!ok);
    assert.match(
      output,
      /wrong\.mts\(2,\d+\): error TS2561: .*'userPoolID' does not exist in type 'CognitoIssuer'\. Did you mean to write 'userPoolId'\?/,
    );
    assert.match(output, /wrong\.mts\(4,\d+\): error TS2367: .*"token_expired"/);
    assert.equal(output.match(/error TS/g).length, 2, output);
  });
});

describe("one AuthzError for import and require", () => {
  test("instanceof holds across ESM and CommonJS in one process; name is AuthzError", () => {
    const dir = consumer("errors");
    writeFileSync(
      join(dir, "check.mjs"),
      `import { createRequire } from "node:module";
import { AuthzError, ConfigError, RequestError, createAuthorizer } from "edge-authz";
import { edgeAuthz } from "edge-authz/express";
import { createHandler } from "edge-authz/lambda-edge";
const require = createRequire(import.meta.url);
const cjs = require("edge-authz");
const cjsExpress = require("edge-authz/express");
const thrown = (f) => { try { f(); } catch (e) { return e; } throw new Error("did not throw"); };
const fromCjs = thrown(() => cjs.createAuthorizer({}));
const fromEsm = thrown(() => createAuthorizer({}));
const fromCjsExpress = thrown(() => cjsExpress.edgeAuthz({ config: {} }));
const fromEsmExpress = thrown(() => edgeAuthz({ config: {} }));
const fromCjsLambda = thrown(() => require("edge-authz/lambda-edge").createHandler(null));
const fromEsmLambda = thrown(() => createHandler(null));
console.log(JSON.stringify({
  same: cjs.AuthzError === AuthzError,
  cjsIsEsm: fromCjs instanceof AuthzError,
  esmIsCjs: fromEsm instanceof cjs.AuthzError,
  adapters: [fromCjsExpress, fromEsmExpress].map((e) => e instanceof AuthzError && e instanceof cjs.AuthzError),
  errors: [fromCjs, fromEsm].map((e) => e instanceof Error),
  names: [fromCjs.name, fromEsm.name, new AuthzError("x", "y").name, new cjs.AuthzError("x", "y").name],
  codes: [fromCjs.code, fromEsm.code],
  configErrors: [fromCjs, fromEsm, fromCjsExpress, fromEsmExpress, fromCjsLambda, fromEsmLambda].map((e) => e instanceof ConfigError && e instanceof cjs.ConfigError && e instanceof AuthzError && e.code === "invalid_config"),
  sameSubclasses: cjs.ConfigError === ConfigError && cjs.RequestError === RequestError && cjs.JwksError !== undefined && cjs.PolicyLoadError !== undefined,
  notRequestErrors: [fromCjs, fromEsm].map((e) => e instanceof RequestError || e instanceof cjs.RequestError),
  subclassNames: [fromCjsLambda.name, new cjs.RequestError("m").name, String(new RequestError("m")).split(":")[0]],
  text: String(fromEsm).split(":")[0],
  stack: fromCjs.stack.split(":")[0],
}));
`,
    );
    const seen = JSON.parse(execFileSync(process.execPath, ["check.mjs"], { cwd: dir, encoding: "utf8" }));
    assert.deepEqual(seen, {
      same: true,
      cjsIsEsm: true,
      esmIsCjs: true,
      adapters: [true, true],
      errors: [true, true],
      names: ["AuthzError", "AuthzError", "AuthzError", "AuthzError"],
      codes: ["invalid_config", "invalid_config"],
      configErrors: [true, true, true, true, true, true],
      sameSubclasses: true,
      notRequestErrors: [false, false],
      subclassNames: ["AuthzError", "AuthzError", "AuthzError"],
      text: "AuthzError",
      stack: "AuthzError",
    });
  });
});

describe("attw (offline, on the packed tarball)", () => {
  /** attw's JSON report; its problems minus those of the resolutions the profile ignores. */
  const run = (args, ignored) => {
    const log = join(work, `offline-guard-${args.join("_").replace(/\W/g, "")}.log`);
    const result = spawnSync(process.execPath, [attw, tarball, "--format", "json", ...args], {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: `--require ${guard}`, OFFLINE_GUARD_LOG: log },
    });
    const attempts = existsSync(log) ? readFileSync(log, "utf8") : "";
    assert.equal(attempts, "", `attw tried the network: ${attempts}`);
    const report = JSON.parse(result.stdout);
    const problems = Object.values(report.problems ?? {})
      .flat()
      .filter((p) => !ignored.includes(p.resolutionKind));
    return { status: result.status, report, problems, stderr: result.stderr };
  };

  test("the strict profile (node10, node16 from CJS and ESM, bundler): no problem", () => {
    const { status, report, problems, stderr } = run(["--profile", "strict", "--exclude-entrypoints", "./worker"], []);
    assert.deepEqual(problems, [], stderr);
    assert.equal(status, 0);
    assert.deepEqual(Object.keys(report.analysis.entrypoints).sort(), [
      ".",
      "./express",
      "./fastify",
      "./lambda-edge",
      "./package.json",
    ]);
  });

  test("the Worker entry (ESM only, for workerd), esm-only profile: no problem", () => {
    const { status, problems, stderr } = run(
      ["--profile", "esm-only", "--entrypoints", "./worker"],
      ["node10", "node16-cjs"],
    );
    assert.deepEqual(problems, [], stderr);
    assert.equal(status, 0);
  });
});
