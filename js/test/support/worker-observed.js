// Test-only entry for workerd: a Worker of one's own built with `createWorker({claimCheck})`
// (as a consumer project builds it from edge-authz/worker), whose clock the test sets per
// request (`x-test-clock`). It hands the Worker its real bindings, the METRICS Analytics
// Engine dataset included, with each data point also recorded, and answers, beside the
// Worker's response, what the Worker wrote and what the hook was given: `x-test-metrics`
// (the request's data points), `x-test-claim-checks` (the hook's calls) and
// `x-test-claim-errors` (its `claim_check_error` log events), URI-encoded JSON. Requests are
// sent one at a time.
import { createWorker } from "../../src/worker.js";

let clock = 0;
let calls = [];
let errors = [];
const worker = createWorker({
  now: () => clock,
  log: (event) => {
    if (event.event === "claim_check_error") errors.push(event);
  },
  async claimCheck(claims, request, env) {
    calls.push({
      claims,
      request: {
        method: request.method,
        path: request.path,
        receivedPath: request.receivedPath,
        sourceIp: request.sourceIp,
        secureTransport: request.secureTransport,
        headers: request.headers instanceof Headers,
        query: request.query instanceof URLSearchParams ? request.query.toString() : null,
      },
      env: typeof env.AUTHZ_CONFIG === "string",
    });
    if (request.headers.get("x-test-claim-check") === "throw") throw new Error("the hook's own bug");
    if (request.headers.get("x-test-claim-check") === "truthy") return "yes";
    return claims["custom:tenant"] === "acme";
  },
});

export default {
  async fetch(request, env, ctx) {
    clock = Number(request.headers.get("x-test-clock") ?? Math.floor(Date.now() / 1000));
    const headers = new Headers(request.headers);
    headers.delete("x-test-clock");
    calls = [];
    errors = [];
    const points = [];
    const dataset = env.METRICS;
    const metrics =
      typeof dataset?.writeDataPoint === "function"
        ? {
            writeDataPoint(point) {
              points.push(JSON.parse(JSON.stringify(point)));
              dataset.writeDataPoint(point);
            },
          }
        : dataset;
    const response = await worker.fetch(new Request(request, { headers }), { ...env, METRICS: metrics }, ctx);
    const copy = new Response(response.body, response);
    copy.headers.set("x-test-metrics", encodeURIComponent(JSON.stringify(points)));
    copy.headers.set("x-test-claim-checks", encodeURIComponent(JSON.stringify(calls)));
    copy.headers.set("x-test-claim-errors", encodeURIComponent(JSON.stringify(errors)));
    return copy;
  },
};
