// Test-only entry for workerd: the production Worker with a clock the test sets per request
// (`x-test-clock`, whole seconds) and a switch that makes the POLICIES KV fail
// (`x-test-kv-fault: 1`). Production deploys js/src/worker.js, which has neither.
import { createWorker } from "../../src/worker.js";

let clock = 0;
let kvFault = false;
const worker = createWorker({ now: () => clock });

/** One env object for the isolate's life, as in production, whose KV can be made to fail. */
let testEnv = null;
function envFor(env) {
  testEnv ??= {
    ...env,
    POLICIES: env.POLICIES && {
      get(...args) {
        if (kvFault) return Promise.reject(new Error("injected KV failure"));
        return env.POLICIES.get(...args);
      },
    },
  };
  return testEnv;
}

export default {
  fetch(request, env, ctx) {
    const headers = new Headers(request.headers);
    clock = Number(headers.get("x-test-clock") ?? Math.floor(Date.now() / 1000));
    kvFault = headers.get("x-test-kv-fault") === "1";
    headers.delete("x-test-clock");
    headers.delete("x-test-kv-fault");
    return worker.fetch(new Request(request, { headers }), envFor(env), ctx);
  },
};
