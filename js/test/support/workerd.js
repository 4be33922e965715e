// Starts a Worker entry of js/ in workerd through Miniflare: the one place that says how
// (modules, the wasm, the compatibility date of wrangler.toml), for the tests, the benches
// and the demo alike.
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";

const jsRoot = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A Worker entry of js/ (its modules and the wasm) in workerd, ready (disposed if it fails
 * to start).
 * @param {string} entry the entry script, relative to js/
 * @param {Record<string, unknown>} bindings the Worker's vars
 * @param {{ kv?: boolean } & Record<string, unknown>} [options] bind the POLICIES namespace
 *   (default true); any other member is a Miniflare option (host, port, inspectorPort,
 *   handleRuntimeStdio, handleStructuredLogs, ...)
 */
export async function startMiniflare(entry, bindings, { kv = true, ...miniflareOptions } = {}) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: `${jsRoot}${entry}`,
    modulesRoot: jsRoot,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-04-01",
    kvNamespaces: kv ? ["POLICIES"] : [],
    bindings,
    ...miniflareOptions,
  });
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
 * @param {{ kv?: boolean }} [options] bind the POLICIES namespace (default true)
 */
export async function startWorker(bindings, { kv = true } = {}) {
  const mf = await startMiniflare("test/support/worker-under-test.js", bindings, { kv });
  return {
    mf,
    policies: kv ? await mf.getKVNamespace("POLICIES") : null,
    /** @param {string} path @param {RequestInit & { clock?: number, kvFault?: boolean }} [init] */
    async fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.clock !== undefined) headers.set("x-test-clock", String(init.clock));
      if (init.kvFault) headers.set("x-test-kv-fault", "1");
      return mf.dispatchFetch(`http://worker.test${path}`, { ...init, headers, redirect: "manual" });
    },
    dispose: () => mf.dispose(),
  };
}
