// The packages as published (scripts/stage-npm.js: `edge-authz` with its platform packages as
// optional dependencies), installed offline into fresh projects: with this platform's package
// the native backend runs, without it the wasm does, from ESM and from CommonJS, and a forced
// `native` says why it cannot. The main tarball carries no binary.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, test } from "node:test";
import { platformTag } from "../../src/backend.js";

const pkgDir = fileURLToPath(new URL("../..", import.meta.url));
// The children choose their backend themselves: the test matrix's variable must not leak in.
const { EDGE_AUTHZ_BACKEND: _matrix, ...cleanEnv } = process.env;
const env = { ...cleanEnv, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" };
const tag = platformTag();
const hostPackage = join(pkgDir, "npm", tag, "package.json");
const built = existsSync(hostPackage) && existsSync(join(pkgDir, "npm", tag, `edge-authz.${tag}.node`));

let tarballs;
let work;
before(() => {
  work = mkdtempSync(join(tmpdir(), "edge-authz-native-"));
  // --partial: this machine builds its own platform's addon (make native-packages builds both).
  const output = execFileSync(process.execPath, [join(pkgDir, "scripts", "stage-npm.js"), "--out", work, "--partial"], {
    cwd: pkgDir,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  tarballs = JSON.parse(output.slice(output.indexOf("[")));
});

/** A fresh project with `names` installed offline from the staged tarballs. */
function project(name, names) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true }));
  const files = names.map((wanted) => tarballs.find((t) => t.name === wanted).file);
  execFileSync("npm", ["install", "--offline", "--no-package-lock", ...files], { cwd: dir, env, encoding: "utf8" });
  return dir;
}

const CONFIG = JSON.stringify({
  issuers: [{ issuer: "https://i.test/", jwksUri: "https://i.test/jwks.json", audience: null }],
  policies: { groups: {} },
});
const PROBE_BODY = `
  const a = createAuthorizer(${CONFIG}, { log: false });
  const d = await a.authorize({ method: "GET", path: "/" });
  let forced;
  try { forced = createAuthorizer(${CONFIG}, { log: false, backend: "native" }).backend; }
  catch (e) { forced = e instanceof AuthzError ? e.code + ": " + e.message : String(e); }
  console.log(JSON.stringify([a.backend, d.status, d.reason, forced]));
`;

/** `[backend, status, reason, forced native]` from ESM and from CommonJS, which must agree. */
function probe(dir, extraEnv = {}) {
  writeFileSync(join(dir, "probe.mjs"), `import { createAuthorizer, AuthzError } from "edge-authz";\n${PROBE_BODY}`);
  writeFileSync(
    join(dir, "probe.cjs"),
    `const { createAuthorizer, AuthzError } = require("edge-authz");\n(async () => {${PROBE_BODY}})();`,
  );
  const run = (file) =>
    JSON.parse(execFileSync(process.execPath, [file], { cwd: dir, env: { ...env, ...extraEnv }, encoding: "utf8" }));
  const esm = run("probe.mjs");
  assert.deepEqual(run("probe.cjs"), esm, "ESM and CommonJS disagree");
  return esm;
}

test("the main tarball carries no binary and names exactly the staged platform packages as optional", () => {
  const main = tarballs.find((t) => t.name === "edge-authz").file;
  const listing = execFileSync("tar", ["-tzf", main], { encoding: "utf8" }).split("\n");
  assert.deepEqual(
    listing.filter((file) => /\.node$|^package\/npm\//.test(file)),
    [],
  );
  const manifest = JSON.parse(execFileSync("tar", ["-xzOf", main, "package/package.json"], { encoding: "utf8" }));
  const version = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
  // Exactly the platform packages staged: never a dependency on one nobody built.
  const staged = tarballs.filter((t) => t.name.startsWith("@edge-authz/")).map((t) => t.name);
  assert.deepEqual(manifest.optionalDependencies, Object.fromEntries(staged.map((name) => [name, version])));
  if (built) assert.ok(staged.includes(`@edge-authz/${tag}`));
  assert.equal(manifest.scripts, undefined, "the staged manifest keeps no build scripts");
  assert.equal(manifest.dependencies, undefined);
});

test("the platform packages declare their os, cpu and libc, and ship only the addon", () => {
  // The addon's own VERSION (node/Cargo.toml), which the loader checks, is the package's.
  const crate = readFileSync(join(pkgDir, "..", "node", "Cargo.toml"), "utf8");
  const packageVersion = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
  assert.equal(/^version = "([^"]+)"$/m.exec(crate)?.[1], packageVersion, "node/Cargo.toml and js/package.json");
  for (const [platformTagName, cpu] of [
    ["linux-x64-gnu", "x64"],
    ["linux-arm64-gnu", "arm64"],
  ]) {
    const manifest = JSON.parse(readFileSync(join(pkgDir, "npm", platformTagName, "package.json"), "utf8"));
    assert.equal(manifest.name, `@edge-authz/${platformTagName}`);
    assert.deepEqual([manifest.os, manifest.cpu, manifest.libc], [["linux"], [cpu], ["glibc"]]);
    assert.deepEqual(manifest.files, [`edge-authz.${platformTagName}.node`]);
    assert.equal(manifest.main, `edge-authz.${platformTagName}.node`);
  }
  const platformTarball = tarballs.find((t) => t.name === `@edge-authz/${tag}`);
  if (platformTarball) {
    const listing = execFileSync("tar", ["-tzf", platformTarball.file], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(listing.sort(), ["package/README.md", `package/edge-authz.${tag}.node`, "package/package.json"]);
  }
});

test(
  "with this platform's package installed offline, the native backend runs",
  { skip: !built && `no addon built for ${tag}` },
  () => {
    const dir = project("with-native", ["edge-authz", `@edge-authz/${tag}`]);
    assert.ok(existsSync(join(dir, "node_modules", "@edge-authz", tag)), "the platform package is installed");
    assert.deepEqual(probe(dir), ["native", 401, "no_credentials", "native"]);
    // Forced to the wasm, by the environment, it still decides the same.
    assert.deepEqual(probe(dir, { EDGE_AUTHZ_BACKEND: "wasm" }).slice(0, 3), ["wasm", 401, "no_credentials"]);
  },
);

test("without a platform package (another platform, or optional dependencies omitted), the wasm runs", () => {
  const dir = project("without-native", ["edge-authz"]);
  const [backend, status, reason, forced] = probe(dir);
  assert.deepEqual([backend, status, reason], ["wasm", 401, "no_credentials"]);
  assert.match(forced, /^invalid_config: options\.backend: native backend unavailable: no native binary/);
  assert.match(forced, new RegExp(`@edge-authz/${tag}|no native binary is built for ${tag}`));
  // A misspelt environment variable is refused, never read as a default.
  assert.throws(
    () =>
      execFileSync(process.execPath, ["probe.mjs"], {
        cwd: dir,
        env: { ...env, EDGE_AUTHZ_BACKEND: "natve" },
        encoding: "utf8",
        stdio: "pipe",
      }),
    /EDGE_AUTHZ_BACKEND: must be one of auto, native, wasm, not "natve"/,
  );
});

test(
  "a platform package of another version is not loaded: the wasm runs and a forced native says why",
  {
    skip: !built && `no addon built for ${tag}`,
  },
  () => {
    // The same addon, published as another version (a stale or mixed install).
    const stale = join(work, "stale-platform");
    cpSync(join(pkgDir, "npm", tag), stale, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(stale, "package.json"), "utf8"));
    writeFileSync(join(stale, "package.json"), JSON.stringify({ ...manifest, version: "0.0.9" }));
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: stale, env, encoding: "utf8" }),
    );
    tarballs.push({ name: "stale", file: join(work, packed.filename) });
    const dir = project("stale-native", ["edge-authz", "stale"]);
    const [backend, status, , forced] = probe(dir);
    assert.deepEqual([backend, status], ["wasm", 401]);
    assert.match(forced, /native backend unavailable: .*version 0\.0\.9, not edge-authz's/);
  },
);
