// Starts the Worker's fault-matrix entry (worker-faults-entry.js) in workerd through
// Miniflare, with a real (local) POLICIES KV namespace.
import { startMiniflare } from "./workerd.js";

/**
 * @param {Record<string, unknown>} bindings the Worker's vars
 * @param {{ kv?: boolean }} [options] bind the POLICIES namespace (default true)
 */
export async function startFaultWorker(bindings, { kv = true } = {}) {
  const mf = await startMiniflare("test/support/worker-faults-entry.js", bindings, { kv });
  return {
    policies: kv ? await mf.getKVNamespace("POLICIES") : null,
    /**
     * @param {string} path
     * @param {{ clock: number, kvFault?: string, fresh?: boolean, headers?: Record<string, string> }} init
     *   `fresh`: a cold Worker (new authorizer) serves this request and the next ones
     */
    fetch(path, { clock, kvFault, fresh, headers = {} }) {
      const all = new Headers(headers);
      all.set("x-test-clock", String(clock));
      if (kvFault) all.set("x-test-kv-fault", kvFault);
      if (fresh) all.set("x-test-fresh", "1");
      return mf.dispatchFetch(`http://worker.test${path}`, { headers: all, redirect: "manual" });
    },
    dispose: () => mf.dispose(),
  };
}
