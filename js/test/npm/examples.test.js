// The repository's examples/ as a user runs them: each project copied to a temporary
// directory, this package installed there from its `npm pack` tarball (as npm lays it out:
// node_modules/edge-authz; the project's framework linked from this package's dev
// dependencies, which the tests run offline), its config.json pointed at a loopback JWKS
// (the rest of the file as shipped) and its policies.json as shipped. Express, Fastify and
// node:http: the project's `server.js` started as a process and asked over real HTTP;
// Lambda@Edge: the project's `npm run zip`, the zip unpacked, and its handler given
// CloudFront viewer-request events. In each: an allowed request, a denied one, a missing
// token. Every process runs under support/offline-guard.cjs, and none tried the network.
// (examples/worker: worker-consumer.test.js.)
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { jwksDocument } from "../support/suite.js";
import { startJwksServer } from "../support/servers.js";
import { accessToken, keys, poolConfig } from "./fixtures.js";
import { viewerRequest } from "./lambda-edge-events.js";

const run = promisify(execFile);
const jsRoot = fileURLToPath(new URL("../../", import.meta.url));
const examples = fileURLToPath(new URL("../../../examples/", import.meta.url));
const guard = fileURLToPath(new URL("../support/offline-guard.cjs", import.meta.url));
const version = JSON.parse(readFileSync(join(jsRoot, "package.json"), "utf8")).version;
const SUB = "a1b2c3d4-0000-4000-8000-000000000001";

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** A token of the suite's pool, valid now; `groups` decide what the example's policies allow. */
const token = (groups) => accessToken({ groups, iat: nowSeconds() - 60, exp: nowSeconds() + 3600 });

let tmp;
let tarball;
let jwks;
let guardLog;
/** The children's environment: offline, and the backend chosen by the installed package itself. */
let env;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), "edge-authz-examples-"));
  guardLog = join(tmp, "offline-guard.log");
  const { EDGE_AUTHZ_BACKEND: _matrix, ...inherited } = process.env;
  env = {
    ...inherited,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    NODE_OPTIONS: `--require ${JSON.stringify(guard)}`,
    OFFLINE_GUARD_LOG: guardLog,
  };
  const { stdout } = await run("npm", ["pack", "--offline", "--ignore-scripts", "--json", "--pack-destination", tmp], {
    cwd: jsRoot,
    env,
  });
  tarball = join(tmp, JSON.parse(stdout)[0].filename);
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
});
after(async () => {
  await jwks?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function guardRecords() {
  try {
    return readFileSync(guardLog, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** `^X.Y.Z` admits `installed` (the ranges the examples use). */
function caretAdmits(range, installed) {
  const wanted = range.match(/^\^(\d+)\.(\d+)\.(\d+)$/);
  assert.ok(wanted, `a caret range: ${range}`);
  const have = installed.split(".").map(Number);
  const want = wanted.slice(1).map(Number);
  if (have[0] !== want[0]) return false;
  return have[1] > want[1] || (have[1] === want[1] && have[2] >= want[2]);
}

/**
 * examples/NAME in a temporary directory, edge-authz installed from the tarball, the other
 * dependencies linked; config.json's issuers replaced by the loopback pool's.
 */
async function installExample(name) {
  const project = join(tmp, name);
  cpSync(join(examples, name), project, { recursive: true, filter: (source) => !/[/\\]node_modules$/.test(source) });
  const manifest = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
  assert.equal(manifest.private, true, `${name}: private`);
  assert.ok(caretAdmits(manifest.dependencies["edge-authz"], version), `${name} depends on edge-authz ^${version}`);
  const installed = join(project, "node_modules", "edge-authz");
  mkdirSync(installed, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  for (const [dependency, range] of Object.entries(manifest.dependencies)) {
    if (dependency === "edge-authz") continue;
    const source = join(jsRoot, "node_modules", dependency);
    const have = JSON.parse(readFileSync(join(source, "package.json"), "utf8")).version;
    assert.ok(caretAdmits(range, have), `${name}: ${dependency}@${range} admits the tested ${have}`);
    symlinkSync(source, join(project, "node_modules", dependency), "dir");
  }
  const config = JSON.parse(readFileSync(join(project, "config.json"), "utf8"));
  assert.ok(config.issuers?.length, `${name}/config.json has an issuers sample`);
  writeFileSync(join(project, "config.json"), JSON.stringify({ ...config, issuers: poolConfig(jwks.url).issuers }));
  return project;
}

/** `node server.js` in `project` on an OS-chosen port; resolves with its base URL once it listens. */
function startServer(project) {
  const child = spawn(process.execPath, ["server.js"], {
    cwd: project,
    env: { ...env, PORT: "0", HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const base = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server.js did not listen within 15 s:\n${output}`)), 15_000);
    const seen = (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ""));
      }
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server.js exited (${code}):\n${output}`));
    });
  });
  return { child, base, output: () => output };
}

function stopServer({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  return exited;
}

for (const name of ["express", "fastify", "node-http"]) {
  describe(`examples/${name}: server.js over real HTTP`, () => {
    let server;
    let base;
    before(async () => {
      server = startServer(await installExample(name));
      base = await server.base;
    });
    after(async () => {
      if (server) await stopServer(server);
      assert.deepEqual(guardRecords(), [], "no connection or lookup left the machine");
    });

    test("allowed: a pet-veterinarian's GET /pets reaches the route, with the caller", async () => {
      const response = await fetch(`${base}/pets`, {
        headers: { authorization: `Bearer ${token(["pet-veterinarian"])}` },
      });
      assert.equal(response.status, 200, server.output());
      const body = await response.json();
      assert.deepEqual(body.pets, ["Rex", "Tom"]);
      assert.equal(body.caller, SUB);
      assert.match(String(body.groups), /^pet-veterinarian$/);
    });

    test("denied: a group without a policy for it is 403, and so is a method the policy does not allow", async () => {
      const groomer = await fetch(`${base}/pets`, { headers: { authorization: `Bearer ${token(["pet-groomer"])}` } });
      assert.equal(groomer.status, 403);
      assert.match(groomer.headers.get("content-type"), /^application\/json/);
      assert.deepEqual(await groomer.json(), { Message: "User is not authorized to access this resource" });
      const remove = await fetch(`${base}/pets/1`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token(["pet-veterinarian"])}` },
      });
      assert.equal(remove.status, 403);
    });

    test("no token: 401 with WWW-Authenticate: Bearer, the route never runs", async () => {
      const response = await fetch(`${base}/pets`);
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("www-authenticate"), "Bearer");
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.deepEqual(await response.json(), { message: "Unauthorized" });
    });
  });
}

describe("examples/lambda-edge: npm run zip, and the handler from the zip on CloudFront events", () => {
  let zip;
  let results;
  let logLines;
  before(async () => {
    const project = await installExample("lambda-edge");
    await run("npm", ["run", "zip"], { cwd: project, env });
    zip = join(project, "function.zip");
    const unzipped = join(tmp, "lambda-edge-unzipped");
    mkdirSync(unzipped);
    await run("unzip", ["-q", zip, "-d", unzipped]);
    // What Lambda does: import the handler from the unpacked zip, call it with each event.
    const events = {
      allowed: viewerRequest({ token: token(["pet-veterinarian"]), uri: "/pets" }),
      denied: viewerRequest({ token: token(["pet-groomer"]), uri: "/pets" }),
      missing: viewerRequest({ uri: "/pets" }),
    };
    const driver = join(tmp, "lambda-driver.mjs");
    const resultsFile = join(tmp, "lambda-results.json");
    writeFileSync(
      driver,
      `import { writeFileSync } from "node:fs";
const { handler } = await import(${JSON.stringify(pathToFileURL(join(unzipped, "index.mjs")).href)});
const events = JSON.parse(process.env.EVENTS);
const results = {};
for (const [name, event] of Object.entries(events)) results[name] = await handler(event);
writeFileSync(process.env.RESULTS, JSON.stringify(results));
`,
    );
    // The handler's decision log lines go to stdout (CloudWatch, on Lambda); the answers to a file.
    const { stdout } = await run(process.execPath, [driver], {
      cwd: tmp,
      env: { ...env, EVENTS: JSON.stringify(events), RESULTS: resultsFile },
    });
    results = JSON.parse(readFileSync(resultsFile, "utf8"));
    logLines = stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  });
  after(() => assert.deepEqual(guardRecords(), [], "no connection or lookup left the machine"));

  test("the zip holds the handler, its configuration and the package, well under the 1 MB limit", () => {
    assert.ok(statSync(zip).size < 1024 * 1024, `${statSync(zip).size} bytes`);
  });

  test("each decision is logged as a JSON line, reasons and no token", () => {
    assert.deepEqual(
      logLines.map(({ event, reason, status }) => [event, reason, status]),
      [
        ["authz", "allowed", 200],
        ["authz", "implicit_deny", 403],
        ["authz", "no_credentials", 401],
      ],
    );
    assert.ok(!JSON.stringify(logLines).includes("Bearer"));
  });

  test("allowed: the request goes on to the origin with the identity headers", () => {
    const request = results.allowed;
    assert.equal(request.status, undefined);
    assert.equal(request.uri, "/pets");
    assert.equal(request.headers["x-authz-sub"][0].value, SUB);
    assert.equal(request.headers["x-authz-groups"][0].value, "pet-veterinarian");
  });

  test("denied: CloudFront answers 403 with the JSON body", () => {
    assert.equal(results.denied.status, "403");
    assert.deepEqual(JSON.parse(results.denied.body), { Message: "User is not authorized to access this resource" });
  });

  test("no token: CloudFront answers 401 with WWW-Authenticate", () => {
    assert.equal(results.missing.status, "401");
    assert.equal(results.missing.headers["www-authenticate"][0].value, "Bearer");
  });
});
