// `npm pack`, then an offline install of the tarball into a fresh project (no dependencies
// needed), every entry point imported from ESM and CommonJS, and `tsc --noEmit` on a small
// TypeScript consumer of the entries' types (Fastify's, which need fastify installed, and
// the README's snippets under every resolution: types.test.js).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, test } from "node:test";

const pkgDir = fileURLToPath(new URL("../..", import.meta.url));
const tsc = join(pkgDir, "node_modules", "typescript", "bin", "tsc");
const npm = (args, cwd) =>
  execFileSync("npm", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" },
  });

let project;
let files;
before(() => {
  const work = mkdtempSync(join(tmpdir(), "edge-authz-pack-"));
  const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", work], pkgDir));
  files = packed.files.map((f) => f.path).sort();
  project = join(work, "consumer");
  execFileSync("mkdir", [project]);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
  npm(["install", "--offline", "--no-package-lock", join(work, packed.filename)], project);
});

test("the package's LICENSE and CHANGELOG are the repository's", () => {
  for (const name of ["LICENSE", "CHANGELOG.md"]) {
    const root = readFileSync(new URL(`../../../${name}`, import.meta.url), "utf8");
    assert.equal(
      readFileSync(new URL(`../../${name}`, import.meta.url), "utf8"),
      root,
      `js/${name} differs from ${name}`,
    );
  }
  assert.match(
    readFileSync(new URL("../../LICENSE", import.meta.url), "utf8"),
    /Apache License\s+Version 2\.0, January 2004/,
  );
});

test("the tarball ships only the runtime files, no runtime dependencies", () => {
  const manifest = JSON.parse(readFileSync(join(project, "node_modules", "edge-authz", "package.json"), "utf8"));
  assert.equal(manifest.dependencies, undefined);
  assert.equal(manifest.private, undefined);
  assert.equal(manifest.engines.node, ">=18");
  for (const file of [
    "dist/edge_authz_bg.wasm",
    "dist/edge_authz.js",
    "src/node.js",
    "cjs/index.cjs",
    "types/index.d.ts",
    "types/index.d.cts",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "package.json",
  ]) {
    assert.ok(files.includes(file), `${file} missing from ${files.join(", ")}`);
  }
  assert.deepEqual(
    files.filter(
      (f) => /^(test|bench|scripts|node_modules)\//.test(f) || (f.endsWith(".d.ts") && f.startsWith("dist/")),
    ),
    [],
  );
  // types come first in every condition (TypeScript reads conditions in order).
  for (const [entry, target] of Object.entries(manifest.exports)) {
    if (typeof target === "string") continue;
    for (const branch of [target, ...Object.values(target).filter((v) => typeof v === "object")]) {
      if (branch.types) assert.equal(Object.keys(branch)[0], "types", `${entry}: types is not first`);
    }
  }
});

test("the manifests name the repository, homepage and bugs, one home for all (Cargo.toml's too)", () => {
  const installed = JSON.parse(readFileSync(join(project, "node_modules", "edge-authz", "package.json"), "utf8"));
  const cargo = readFileSync(new URL("../../../Cargo.toml", import.meta.url), "utf8");
  const home = cargo.match(/^\[workspace\.package\][^[]*?^repository = "([^"]+)"/ms)?.[1];
  assert.match(home ?? "", /^https:\/\/[^/]+\/[^/]+\/[^/]+$/, "the workspace Cargo.toml has a repository URL");
  const platforms = readdirSync(join(pkgDir, "npm"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => [
      `npm/${entry.name}`,
      JSON.parse(readFileSync(join(pkgDir, "npm", entry.name, "package.json"), "utf8")),
    ]);
  assert.ok(platforms.length >= 2, "the platform packages");
  for (const [directory, manifest] of [["", installed], ...platforms]) {
    const name = manifest.name;
    assert.deepEqual(
      manifest.repository,
      { type: "git", url: `git+${home}.git`, directory: directory ? `js/${directory}` : "js" },
      `${name}: repository`,
    );
    assert.equal(manifest.homepage, `${home}#readme`, `${name}: homepage`);
    assert.deepEqual(manifest.bugs, { url: `${home}/issues` }, `${name}: bugs`);
  }
});

test("every entry point imports from ESM and requires from CommonJS, and decides", () => {
  const config = JSON.stringify({
    issuers: [{ issuer: "https://i.test/", jwksUri: "https://i.test/jwks.json", audience: null }],
    policies: { groups: {} },
  });
  writeFileSync(
    join(project, "esm.mjs"),
    `import { createAuthorizer, AuthzError } from "edge-authz";
import { edgeAuthz as express } from "edge-authz/express";
import { edgeAuthz as fastify } from "edge-authz/fastify";
import { createHandler } from "edge-authz/lambda-edge";
const worker = import.meta.resolve("edge-authz/worker");
const a = createAuthorizer(${config}, { log: false });
const d = await a.authorize({ method: "GET", path: "/" });
let code; try { createAuthorizer({}); } catch (e) { code = e instanceof AuthzError && e.code; }
const h = createHandler({ config: ${config}, log: false });
const r = await h({ Records: [{ cf: { request: { clientIp: "192.0.2.1", headers: {}, method: "GET", querystring: "", uri: "/" } } }] });
console.log(JSON.stringify([d.status, code, typeof express, typeof fastify, r.status, worker.endsWith("/src/worker.js")]));
`,
  );
  writeFileSync(
    join(project, "cjs.cjs"),
    `const { createAuthorizer, AuthzError } = require("edge-authz");
const { edgeAuthz: express } = require("edge-authz/express");
const { edgeAuthz: fastify } = require("edge-authz/fastify");
const { createHandler } = require("edge-authz/lambda-edge");
(async () => {
  const a = createAuthorizer(${config}, { log: false });
  const d = await a.authorize({ method: "GET", path: "/" });
  let code; try { createAuthorizer({}); } catch (e) { code = e instanceof AuthzError && e.code; }
  const h = createHandler({ config: ${config}, log: false });
  const r = await h({ Records: [{ cf: { request: { clientIp: "192.0.2.1", headers: {}, method: "GET", querystring: "", uri: "/" } } }] });
  console.log(JSON.stringify([d.status, code, typeof express, typeof fastify, r.status, true]));
})();
`,
  );
  const expected = [401, "invalid_config", "function", "function", "401", true];
  assert.deepEqual(
    JSON.parse(execFileSync(process.execPath, ["esm.mjs"], { cwd: project, encoding: "utf8" })),
    expected,
  );
  assert.deepEqual(
    JSON.parse(execFileSync(process.execPath, ["cjs.cjs"], { cwd: project, encoding: "utf8" })),
    expected,
  );
});

test("tsc --noEmit accepts a typed consumer (ESM and CommonJS) and rejects a wrong one", () => {
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files: ["consumer.mts", "consumer.cts"],
    }),
  );
  writeFileSync(
    join(project, "consumer.mts"),
    `import { createAuthorizer, type Decision } from "edge-authz";
import { edgeAuthz } from "edge-authz/express";
import { createHandler, type CloudFrontRequestEvent } from "edge-authz/lambda-edge";
import worker from "edge-authz/worker";
const authorizer = createAuthorizer({ issuers: [], request: { trailingSlash: "strip", dotSegments: "reject" } }, { policies: async (groups: string[]) => new Map(groups.map((g) => [g, null])), jwksTimeoutMs: 2000 });
const decision: Decision = await authorizer.authorize({ method: "GET", path: "/", headers: { host: "x" }, sourceIp: null, matching: { caseSensitive: false, trailingSlash: "strip", mergeSlashes: false } });
const sub: string | number | boolean | undefined = decision.context.sub;
const forwarded: string = decision.path;
const refused: boolean = decision.outcome === "bad_request";
const mw = edgeAuthz({ config: "{}", policies: "policies.json", identityHeaderPrefix: "x-authz-" });
const handler = createHandler({ config: { issuers: [] }, jwks: { "https://x/jwks.json": { keys: [] } } });
declare const event: CloudFrontRequestEvent;
const result = await handler(event);
const status: string | undefined = "status" in result ? (result.status as string) : undefined;
export { sub, forwarded, refused, mw, status, worker };
`,
  );
  writeFileSync(
    join(project, "consumer.cts"),
    `import edgeAuthzModule = require("edge-authz");
import expressModule = require("edge-authz/express");
const authorizer = edgeAuthzModule.createAuthorizer({ issuers: [] }, { log: false });
export const pending: Promise<edgeAuthzModule.Decision> = authorizer.authorize({ method: "GET", path: "/" });
export const mw = expressModule.edgeAuthz(authorizer);
`,
  );
  execFileSync(process.execPath, [tsc, "-p", "."], { cwd: project, encoding: "utf8" });
  writeFileSync(
    join(project, "consumer.cts"),
    `import edgeAuthzModule = require("edge-authz");\nexport const wrong: number = edgeAuthzModule.createAuthorizer({ issuers: [] }).loadsPolicies;\n`,
  );
  assert.throws(
    () => execFileSync(process.execPath, [tsc, "-p", "."], { cwd: project, encoding: "utf8" }),
    (e) => /consumer\.cts.*TS2322/s.test(e.stdout),
  );
});
