// The conformance suite through the Worker in workerd (Miniflare): real KV for stored
// policies and revocation records (REVOCATIONS: the scenario's records put first, a case's
// `revoke` written or deleted before it, `revocationsDown` as failing reads, the reads
// counted by the test entry), a JWKS origin and a petstore upstream on loopback. Status and reason (the
// `edge-authz-reason` header, on because EXPOSE_REASON is set), the identity headers the
// upstream received, and the JWKS fetches must match every case. Cases with a `methodArn`
// describe API Gateway input, which a Worker never receives; they run in the glue suite. So
// do requests a Worker cannot receive as written: a method that is not an HTTP token, and
// request-targets that URL parsing changes before the Worker sees them (`..`, `\`, `#x`,
// absolute-form; test/path-matrix.test.js sends those to workerd as raw request lines).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { caseHeaders, jwksDocument, scenarios, suiteKeys, tokenOf, withJwksUrl } from "./support/suite.js";
import { startJwksServer, startPetstore } from "./support/servers.js";
import { startWorker } from "./support/workerd.js";

const keys = suiteKeys();
let jwks;
let petstore;
before(async () => {
  jwks = await startJwksServer("");
  petstore = await startPetstore();
});
after(async () => {
  await jwks.close();
  await petstore.close();
});

/** Whether a Worker receives the request's method and path unchanged. */
function reachesWorkerAsWritten({ method, path }) {
  if (!/^[A-Za-z]+$/.test(method) || !path.startsWith("/")) return false;
  // As `startWorker().fetch` builds it (not resolved against a base: `//x` stays a path).
  const url = new URL(`http://worker.test${path}`);
  return `${url.pathname}${url.search}` === path;
}

const identityHeader = (key) => `x-authz-${key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;

test("the conformance suite passes through the Worker in workerd", async () => {
  const failures = [];
  const skipped = [];
  const unreachable = [];
  let ran = 0;
  for (const scenario of scenarios()) {
    jwks.state.body = jwksDocument(keys, scenario.jwks);
    jwks.state.down = false;
    const worker = await startWorker({
      AUTHZ_CONFIG: JSON.stringify(withJwksUrl(scenario.config, jwks.url)),
      UPSTREAM: petstore.url,
      EXPOSE_REASON: "true",
      EXPLAIN: "true",
    });
    try {
      for (const [group, policy] of Object.entries(scenario.store ?? {})) {
        if (policy !== null)
          await worker.policies.put(group, typeof policy === "string" ? policy : JSON.stringify(policy));
      }
      const stored = (record) => (typeof record === "string" ? record : JSON.stringify(record));
      for (const [key, record] of Object.entries(scenario.revocations ?? {})) {
        if (record !== null) await worker.revocations.put(key, stored(record));
      }
      let revocationsDown = false;
      for (const testCase of scenario.cases) {
        if (testCase.jwks) jwks.state.body = jwksDocument(keys, testCase.jwks);
        if (testCase.jwksDown !== undefined) jwks.state.down = testCase.jwksDown;
        for (const [key, record] of Object.entries(testCase.revoke ?? {})) {
          if (record === null) await worker.revocations.delete(key);
          else await worker.revocations.put(key, stored(record));
        }
        if (testCase.revocationsDown !== undefined) revocationsDown = testCase.revocationsDown;
        if (testCase.request.methodArn) {
          skipped.push(testCase.name);
          continue;
        }
        if (!reachesWorkerAsWritten(testCase.request)) {
          unreachable.push(`${scenario.file} / ${testCase.name}`);
          continue;
        }
        ran++;
        const token = testCase.token ? tokenOf(testCase.token, keys) : undefined;
        const headers = new Headers(caseHeaders(testCase, token));
        if (testCase.request.sourceIp) headers.set("cf-connecting-ip", testCase.request.sourceIp);
        const query = new URLSearchParams(testCase.request.query ?? {}).toString();
        jwks.state.fetches = 0;
        const response = await worker.fetch(`${testCase.request.path}${query ? `?${query}` : ""}`, {
          method: testCase.request.method,
          headers,
          clock: testCase.now,
          revocationsFault: revocationsDown,
        });
        const body = await response.text();
        const { expect } = testCase;
        const problems = [];
        const reason = response.headers.get("edge-authz-reason");
        if (response.status !== expect.status) problems.push(`status ${response.status}, expected ${expect.status}`);
        if (reason !== expect.reason) problems.push(`reason ${reason}, expected ${expect.reason}`);
        if (expect.status === 200) {
          if (response.headers.get("x-upstream") !== "petstore") problems.push("not answered by the upstream");
          const echo = JSON.parse(body);
          const received = echo.headers;
          // The origin gets the canonical path, whatever the client sent.
          const forwardPath = testCase.expect.forwardPath ?? testCase.request.path.split("?")[0];
          if (echo.path.split("?")[0] !== forwardPath)
            problems.push(`the upstream got ${echo.path}, expected ${forwardPath}`);
          for (const [name, value] of Object.entries(expect.context ?? {})) {
            if (received[identityHeader(name)] !== String(value))
              problems.push(`${identityHeader(name)} = ${received[identityHeader(name)]}, expected ${value}`);
          }
        } else if (response.headers.get("content-type") !== "application/json") {
          problems.push(`content-type ${response.headers.get("content-type")}`);
        }
        if (expect.jwksFetches !== undefined && jwks.state.fetches !== expect.jwksFetches)
          problems.push(`${jwks.state.fetches} JWKS fetches, expected ${expect.jwksFetches}`);
        const reads = Number(response.headers.get("x-test-revocation-reads") ?? 0);
        if (expect.revocationReads !== undefined && reads !== expect.revocationReads)
          problems.push(`${reads} revocation store reads, expected ${expect.revocationReads}`);
        if (problems.length) failures.push(`${scenario.file} / ${testCase.name}: ${problems.join("; ")}`);
      }
    } finally {
      await worker.dispose();
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${ran} cases failed`);
  assert.deepEqual(skipped, [
    "API Gateway's ARN, its path decoded",
    "API Gateway's ARN with a dot segment",
    "API Gateway's ARN, HEAD",
    "a methodArn given by API Gateway",
  ]);
  assert.deepEqual(unreachable, [
    "request-paths-relaxed.json / dot segments are resolved",
    "request-paths-relaxed.json / encoded dot segments are resolved",
    "request-paths-relaxed.json / dot-dot above the root",
    "request-paths-relaxed.json / a fragment is still refused",
    "request-paths.json / fragment",
    "request-paths.json / dot-dot segment",
    "request-paths.json / encoded dot-dot segment",
    "request-paths.json / dot segment",
    "request-paths.json / backslash",
    "request-paths.json / absolute-form",
    "request-paths.json / asterisk-form",
    "request-paths.json / a method that is not a token of letters",
  ]);
  assert.ok(ran >= 80, `only ${ran} cases ran`);
});
