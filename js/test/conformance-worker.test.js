// The conformance suite through the Worker in workerd (Miniflare): real KV for stored
// policies, a JWKS origin and a petstore upstream on loopback. Status and reason (the
// `edge-authz-reason` header, on because EXPOSE_REASON is set), the identity headers the
// upstream received, and the JWKS fetches must match every case. Cases with a `methodArn`
// describe API Gateway input, which a Worker never receives; they run in the glue suite.
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

const identityHeader = (key) => `x-authz-${key.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;

test("the conformance suite passes through the Worker in workerd", async () => {
  const failures = [];
  const skipped = [];
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
        if (policy !== null) await worker.policies.put(group, typeof policy === "string" ? policy : JSON.stringify(policy));
      }
      for (const testCase of scenario.cases) {
        if (testCase.jwks) jwks.state.body = jwksDocument(keys, testCase.jwks);
        if (testCase.jwksDown !== undefined) jwks.state.down = testCase.jwksDown;
        if (testCase.request.methodArn) {
          skipped.push(testCase.name);
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
        });
        const body = await response.text();
        const { expect } = testCase;
        const problems = [];
        const reason = response.headers.get("edge-authz-reason");
        if (response.status !== expect.status) problems.push(`status ${response.status}, expected ${expect.status}`);
        if (reason !== expect.reason) problems.push(`reason ${reason}, expected ${expect.reason}`);
        if (expect.status === 200) {
          if (response.headers.get("x-upstream") !== "petstore") problems.push("not answered by the upstream");
          const received = JSON.parse(body).headers;
          for (const [name, value] of Object.entries(expect.context ?? {})) {
            if (received[identityHeader(name)] !== String(value)) problems.push(`${identityHeader(name)} = ${received[identityHeader(name)]}, expected ${value}`);
          }
        } else if (response.headers.get("content-type") !== "application/json") {
          problems.push(`content-type ${response.headers.get("content-type")}`);
        }
        if (expect.jwksFetches !== undefined && jwks.state.fetches !== expect.jwksFetches) problems.push(`${jwks.state.fetches} JWKS fetches, expected ${expect.jwksFetches}`);
        if (problems.length) failures.push(`${scenario.file} / ${testCase.name}: ${problems.join("; ")}`);
      }
    } finally {
      await worker.dispose();
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${ran} cases failed`);
  assert.deepEqual(skipped, ["a methodArn given by API Gateway"]);
  assert.ok(ran >= 80, `only ${ran} cases ran`);
});
