// Starts a Worker entry of js/ in workerd through Miniflare: the one place that says how
// (modules, the wasm, the compatibility date of wrangler.toml), for the tests, the benches
// and the demo alike.
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";

const jsRoot = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Miniflare's options for one Worker entry of js/ (its modules and the wasm). Local only, so
 * the Worker runs as wrangler.toml's [env.dev] does: `ENVIRONMENT = "dev"` (loopback and
 * example upstreams and issuers accepted), unless `dev: false` (production's start-up checks,
 * js/test/worker-startup.test.js).
 * @param {string} entry the entry script, relative to js/
 * @param {Record<string, unknown>} bindings the Worker's vars
 * @param {{ kv?: boolean, dev?: boolean }} [options] bind the POLICIES and REVOCATIONS
 *   namespaces (default true); `ENVIRONMENT = "dev"` (default true)
 */
export function workerdWorker(entry, bindings, { kv = true, dev = true } = {}) {
  return {
    modules: true,
    scriptPath: `${jsRoot}${entry}`,
    modulesRoot: jsRoot,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-04-01",
    kvNamespaces: kv ? ["POLICIES", "REVOCATIONS"] : [],
    bindings: dev ? { ENVIRONMENT: "dev", ...bindings } : bindings,
  };
}

/**
 * A Worker entry of js/ in workerd (workerdWorker), ready (disposed if it fails to start).
 * @param {string} entry the entry script, relative to js/
 * @param {Record<string, unknown>} bindings the Worker's vars
 * @param {{ kv?: boolean, dev?: boolean } & Record<string, unknown>} [options] `kv` and `dev`
 *   as workerdWorker's; any other member is a Miniflare option (host, port, inspectorPort,
 *   handleRuntimeStdio, handleStructuredLogs, ...)
 */
export async function startMiniflare(entry, bindings, { kv = true, dev = true, ...miniflareOptions } = {}) {
  const mf = new Miniflare({ ...workerdWorker(entry, bindings, { kv, dev }), ...miniflareOptions });
  try {
    await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
  return mf;
}

/**
 * @param {Record<string, unknown>} bindings the Worker's vars
 * @param {{ kv?: boolean, dev?: boolean }} [options] bind the POLICIES and REVOCATIONS
 *   namespaces (default true); `ENVIRONMENT = "dev"` (default true)
 */
export async function startWorker(bindings, { kv = true, dev = true } = {}) {
  const mf = await startMiniflare("test/support/worker-under-test.js", bindings, { kv, dev });
  return {
    mf,
    policies: kv ? await mf.getKVNamespace("POLICIES") : null,
    revocations: kv ? await mf.getKVNamespace("REVOCATIONS") : null,
    /**
     * @param {string} path
     * @param {RequestInit & { clock?: number, kvFault?: boolean, revocationsFault?: boolean | string }} [init]
     *   `revocationsFault`: true (reads fail) or `slow:<ms>`
     */
    async fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.clock !== undefined) headers.set("x-test-clock", String(init.clock));
      if (init.kvFault) headers.set("x-test-kv-fault", "1");
      if (init.revocationsFault)
        headers.set("x-test-revocations-fault", init.revocationsFault === true ? "1" : init.revocationsFault);
      const { clock, kvFault, revocationsFault, ...rest } = init;
      return mf.dispatchFetch(`http://worker.test${path}`, { ...rest, headers, redirect: "manual" });
    },
    dispose: () => mf.dispose(),
  };
}
