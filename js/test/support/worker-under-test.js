// Test-only entry for workerd: the production Worker with a clock the test sets per request
// (`x-test-clock`, whole seconds), a switch that makes the POLICIES KV fail
// (`x-test-kv-fault: 1`), one that makes the REVOCATIONS KV fail
// (`x-test-revocations-fault: 1`; `slow:<ms>` answers after <ms>), the number of REVOCATIONS
// reads the request caused (`x-test-revocation-reads`, absent for none: one bulk get per
// caller, as the conformance suite counts reads), and, on request (`x-test-echo-authz: 1`), the Worker's own log
// line for the request in the `x-test-authz` response header (URI-encoded JSON): which path
// it authorized. Tests that ask for it send one request at a time. Production deploys
// js/src/worker.js, which has none of these.
import { createWorker } from "../../src/worker.js";

let clock = 0;
let kvFault = false;
let revocationsFault = "";
let revocationReads = 0;
/** The last `authz` log event: the current request's, as requests asking for it are sequential. */
let lastAuthz = null;
const worker = createWorker({
  now: () => clock,
  log: (event) => {
    if (event.event === "authz") lastAuthz = event;
    console.log(JSON.stringify(event));
  },
});

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
    REVOCATIONS: env.REVOCATIONS && {
      async get(...args) {
        // The Worker reads a caller's keys with one bulk get: one read.
        revocationReads++;
        const fault = revocationsFault;
        if (fault === "1") throw new Error("injected REVOCATIONS KV failure");
        if (fault.startsWith("slow:")) await new Promise((resolve) => setTimeout(resolve, Number(fault.slice(5))));
        return env.REVOCATIONS.get(...args);
      },
    },
  };
  return testEnv;
}

export default {
  async fetch(request, env, ctx) {
    const headers = new Headers(request.headers);
    clock = Number(headers.get("x-test-clock") ?? Math.floor(Date.now() / 1000));
    kvFault = headers.get("x-test-kv-fault") === "1";
    revocationsFault = headers.get("x-test-revocations-fault") ?? "";
    revocationReads = 0;
    const echoAuthz = headers.get("x-test-echo-authz") === "1";
    headers.delete("x-test-clock");
    headers.delete("x-test-kv-fault");
    headers.delete("x-test-revocations-fault");
    headers.delete("x-test-echo-authz");
    lastAuthz = null;
    const response = await worker.fetch(new Request(request, { headers }), envFor(env), ctx);
    if (!echoAuthz && revocationReads === 0) return response;
    const copy = new Response(response.body, response);
    if (revocationReads > 0) copy.headers.set("x-test-revocation-reads", String(revocationReads));
    if (!echoAuthz) return copy;
    copy.headers.set("x-test-authz", encodeURIComponent(JSON.stringify(lastAuthz)));
    return copy;
  },
};
