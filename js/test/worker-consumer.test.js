// The Worker in a project of one's own, as js/README.md documents it: examples/worker/ (a
// package.json depending on edge-authz, `export { default } from "edge-authz/worker"`, a
// wrangler.toml) copied to a temporary directory with this package installed from its
// `npm pack` tarball, bundled by `wrangler deploy --dry-run --outdir`, and the bundle run in
// workerd. wrangler and npm run offline: NODE_OPTIONS preloads support/offline-guard.cjs,
// which refuses and records any connection or DNS lookup leaving the machine, and the test
// asserts there was none (no login, no update check, no telemetry).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";

const run = promisify(execFile);
const jsRoot = fileURLToPath(new URL("../", import.meta.url));
const example = fileURLToPath(new URL("../../examples/worker/", import.meta.url));
const wrangler = join(jsRoot, "node_modules/.bin/wrangler");
const guard = fileURLToPath(new URL("./support/offline-guard.cjs", import.meta.url));
/** js/README.md's "In your own Worker project": its ```js and ```toml blocks. */
const readmeSection =
  readFileSync(join(jsRoot, "README.md"), "utf8").split("### In your own Worker project")[1]?.split("\n### ")[0] ?? "";
const readmeBlock = (lang) => readmeSection.match(new RegExp("```" + lang + "\\n([\\s\\S]*?)```"))?.[1];

let tmp;
let project;
let outdir;
let guardLog;
/** The tools' environment: offline, no banner (its update check), no telemetry, no one's credentials or config. */
let toolEnv;
let dryRun;
/** The bundle's entry module in outdir (named after `main`: index.js). */
let bundleEntry;

function guardRecords() {
  try {
    return readFileSync(guardLog, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), "edge-authz-consumer-"));
  guardLog = join(tmp, "offline-guard.log");
  toolEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("CLOUDFLARE_") && !name.startsWith("WRANGLER_")),
  );
  Object.assign(toolEnv, {
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true",
    npm_config_update_notifier: "false",
    XDG_CONFIG_HOME: join(tmp, "xdg"),
    NODE_OPTIONS: `--require ${JSON.stringify(guard)}`,
    OFFLINE_GUARD_LOG: guardLog,
  });

  // The package as published (`files`), installed as npm would: node_modules/edge-authz.
  const { stdout: packed } = await run(
    "npm",
    ["pack", "--offline", "--ignore-scripts", "--json", "--pack-destination", tmp],
    { cwd: jsRoot, env: toolEnv },
  );
  const tarball = join(tmp, JSON.parse(packed)[0].filename);
  project = join(tmp, "project");
  cpSync(example, project, { recursive: true, filter: (source) => !/[/\\](node_modules|\.wrangler)$/.test(source) });
  const installed = join(project, "node_modules/edge-authz");
  mkdirSync(installed, { recursive: true });
  await run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);

  outdir = join(tmp, "out");
  dryRun = await run(wrangler, ["deploy", "--dry-run", "--outdir", outdir], { cwd: project, env: toolEnv });
  bundleEntry = join(outdir, "index.js");
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("examples/worker: edge-authz in one's own Worker project", () => {
  test("src/index.js is the one line js/README.md shows", () => {
    const line = 'export { default } from "edge-authz/worker";';
    assert.equal(readmeBlock("js"), `${line}\n`);
    assert.ok(readFileSync(join(example, "src/index.js"), "utf8").split("\n").includes(line));
  });

  test("the offline guard is not vacuous: a fetch under it is refused and recorded", async () => {
    const probe = join(tmp, "probe.log");
    const { stdout } = await run(
      process.execPath,
      [
        "-e",
        'fetch("http://192.0.2.1:8/").then(() => console.log("reached"), (e) => console.log(e.cause?.message ?? e.message))',
      ],
      { env: { ...toolEnv, OFFLINE_GUARD_LOG: probe }, timeout: 10_000 },
    );
    assert.match(stdout, /offline guard: connect 192\.0\.2\.1:8 refused/);
    assert.match(readFileSync(probe, "utf8"), /connect 192\.0\.2\.1:8/);
  });

  test("wrangler deploy --dry-run bundles it, offline: the worker, the wasm, the bindings", () => {
    assert.match(dryRun.stdout, /--dry-run: exiting now/);
    assert.match(dryRun.stdout, /env\.POLICIES \(0{32}\)/);
    assert.match(dryRun.stdout, /env\.UPSTREAM \("UNCONFIGURED"\)/);
    assert.deepEqual(guardRecords(), [], "npm pack and wrangler tried no connection or lookup");
    const files = readdirSync(outdir);
    const wasm = files.filter((file) => file.endsWith(".wasm"));
    assert.equal(wasm.length, 1, files.join(" "));
    assert.ok(
      readFileSync(join(outdir, wasm[0])).equals(readFileSync(join(jsRoot, "dist/edge_authz_bg.wasm"))),
      "the package's wasm, as built",
    );
    assert.ok(files.includes("index.js"), files.join(" "));
    const bundle = readFileSync(bundleEntry, "utf8");
    assert.ok(bundle.includes(`"./${wasm[0]}"`), "the bundle imports the wasm module");
    assert.ok(bundle.includes("refuseUnconfigured"), "the bundle is edge-authz's Worker");
  });

  describe("the bundle in workerd", () => {
    let mf;
    const logs = [];
    /** @type {string[]} */
    const outbound = [];
    before(async () => {
      const config = unstable_readConfig({ config: join(project, "wrangler.toml") }, { hideWarnings: true });
      // The README's wrangler.toml, as a reader configures the example.
      const readmeToml = join(tmp, "readme-wrangler.toml");
      writeFileSync(readmeToml, readmeBlock("toml"));
      const readme = unstable_readConfig({ config: readmeToml }, { hideWarnings: true });
      assert.equal(readme.main, join(tmp, "src/index.js"));
      assert.deepEqual(
        readme.kv_namespaces.map(({ binding }) => binding),
        ["POLICIES"],
      );
      const worker = (name, bindings) => ({
        name,
        modules: true,
        scriptPath: bundleEntry,
        modulesRoot: outdir,
        modulesRules: [
          { type: "ESModule", include: ["**/*.js"] },
          { type: "CompiledWasm", include: ["**/*.wasm"] },
        ],
        compatibilityDate: config.compatibility_date,
        kvNamespaces: config.kv_namespaces.map(({ binding }) => binding),
        bindings,
        outboundService: (request) => {
          outbound.push(request.url);
          return new Response("the tests run offline", { status: 599 });
        },
      });
      mf = new Miniflare({
        workers: [worker("as-shipped", config.vars), worker("configured", readme.vars)],
        handleStructuredLogs: ({ message }) => {
          logs.push(message);
        },
      });
      await mf.ready;
    });
    after(() => mf?.dispose());

    const events = (reason) =>
      logs
        .map((line) => {
          try {
            return JSON.parse(line);
          } catch {
            return null;
          }
        })
        .filter((event) => event?.reason === reason);
    /** workerd's log lines reach Miniflare after the response, in their own time. */
    async function logged(reason) {
      for (const deadline = Date.now() + 5000; events(reason).length === 0 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return events(reason);
    }

    test("deployed as the example ships (UNCONFIGURED): 503, and the log names what to set", async () => {
      const response = await (await mf.getWorker("as-shipped")).fetch("https://authz.example.workers.dev/pets");
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), { message: "Service Unavailable" });
      const [event] = await logged("unconfigured");
      assert.ok(event, logs.join("\n"));
      assert.deepEqual(event.variables, [
        "UPSTREAM",
        "AUTHZ_CONFIG.issuers[0].userPoolId",
        "AUTHZ_CONFIG.issuers[0].clientId[0]",
      ]);
      assert.match(event.message, /Set UPSTREAM to your origin's URL/);
      assert.deepEqual(outbound, []);
    });

    test("configured as js/README.md shows: it starts, and a request without a token is API Gateway's 401", async () => {
      const response = await (await mf.getWorker("configured")).fetch("https://authz.example.workers.dev/pets");
      assert.equal(response.status, 401);
      assert.equal(response.headers.get("www-authenticate"), "Bearer");
      assert.deepEqual(await response.json(), { message: "Unauthorized" });
      assert.equal((await logged("no_credentials")).length, 1, logs.join("\n"));
      assert.deepEqual(outbound, []);
    });
  });
});
