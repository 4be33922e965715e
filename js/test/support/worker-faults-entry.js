// Test-only entry for workerd, for the fault matrix (test/faults.test.js): the production
// Worker with the clock set per request (`x-test-clock`, whole seconds) and the POLICIES
// KV switched per request (`x-test-kv-fault`): `down` (reads reject as a KV outage does),
// `throttled` (reads reject with KV's 429), `slow:<ms>` (reads answer after <ms>). Values
// themselves (e.g. a corrupt policy) are put in Miniflare's real KV by the test.
// `x-test-fresh: 1` replaces the Worker with a new one (a cold authorizer: no keys, no
// policies, no cached tokens) before the request, so that each case of the matrix starts
// cold without the cost of a new workerd.
import { createWorker } from "../../src/worker.js";

let clock = 0;
let kvFault = "";
const fresh = () => createWorker({ now: () => clock, log: () => {} });
let worker = fresh();

function faultyGet(kv) {
  return async (...args) => {
    const fault = kvFault;
    if (fault === "down") throw new Error("KV GET failed: 503 Service Unavailable");
    if (fault === "throttled") throw new Error("KV GET failed: 429 Too Many Requests");
    if (fault.startsWith("slow:")) await new Promise((resolve) => setTimeout(resolve, Number(fault.slice(5))));
    return kv.get(...args);
  };
}

/** One env object for the isolate's life, as in production. */
let testEnv = null;
function envFor(env) {
  testEnv ??= { ...env, POLICIES: env.POLICIES && { get: faultyGet(env.POLICIES) } };
  return testEnv;
}

export default {
  fetch(request, env, ctx) {
    const headers = new Headers(request.headers);
    clock = Number(headers.get("x-test-clock") ?? Math.floor(Date.now() / 1000));
    kvFault = headers.get("x-test-kv-fault") ?? "";
    if (headers.get("x-test-fresh") === "1") worker = fresh();
    for (const name of ["x-test-clock", "x-test-kv-fault", "x-test-fresh"]) headers.delete(name);
    return worker.fetch(new Request(request, { headers }), envFor(env), ctx);
  },
};
