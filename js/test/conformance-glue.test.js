// The conformance suite through the wasm build and the JS glue under Node: every case,
// every signature checked with WebCrypto (the path the Worker takes).
import assert from "node:assert/strict";
import { test } from "node:test";
import { randomBytes } from "node:crypto";
import { EdgeAuthorizer } from "../src/authorizer.js";
import { webCryptoVerifier } from "../src/webcrypto.js";
import { wasm } from "./support/wasm-node.js";
import { caseHeaders, jwksDocument, scenarios, suiteKeys, tokenOf } from "./support/suite.js";

test("the conformance suite passes through the wasm build and the glue", async () => {
  const keys = suiteKeys();
  const failures = [];
  let count = 0;
  for (const scenario of scenarios()) {
    const world = { served: scenario.jwks, down: false, fetches: 0, revocationsDown: false, revocationReads: 0 };
    const store = scenario.store ?? {};
    const revocations = new Map(Object.entries(scenario.revocations ?? {}));
    const authorizer = new EdgeAuthorizer(wasm, {
      config: JSON.stringify(scenario.config),
      hashKey: randomBytes(8),
      io: {
        async fetchJwks() {
          world.fetches++;
          if (world.down) throw new Error("JWKS endpoint down");
          return new TextEncoder().encode(jwksDocument(keys, world.served));
        },
        async loadPolicies(groups) {
          return new Map(
            groups.map((g) => [
              g,
              store[g] == null ? null : typeof store[g] === "string" ? store[g] : JSON.stringify(store[g]),
            ]),
          );
        },
        async loadRevocations(keys) {
          world.revocationReads++;
          if (world.revocationsDown) throw new Error("the revocation store is down");
          return new Map(keys.map((key) => [key, revocations.get(key) ?? null]));
        },
        verifySignature: webCryptoVerifier(),
      },
      explain: true,
    });
    for (const testCase of scenario.cases) {
      count++;
      if (testCase.jwks) world.served = testCase.jwks;
      if (testCase.jwksDown !== undefined) world.down = testCase.jwksDown;
      for (const [key, record] of Object.entries(testCase.revoke ?? {})) {
        if (record === null) revocations.delete(key);
        else revocations.set(key, record);
      }
      if (testCase.revocationsDown !== undefined) world.revocationsDown = testCase.revocationsDown;
      world.revocationReads = 0;
      const token = testCase.token ? tokenOf(testCase.token, keys) : undefined;
      const path = testCase.request.path;
      world.fetches = 0;
      const decision = await authorizer.authorize(
        {
          method: testCase.request.method,
          path,
          headers: caseHeaders(testCase, token),
          query: Object.entries(testCase.request.query ?? {}),
          sourceIp: testCase.request.sourceIp,
          secureTransport: true,
          methodArn: testCase.request.methodArn,
        },
        testCase.now,
      );
      const problems = [];
      const { expect } = testCase;
      if (decision.status !== expect.status) problems.push(`status ${decision.status}, expected ${expect.status}`);
      if (decision.reason !== expect.reason) problems.push(`reason ${decision.reason}, expected ${expect.reason}`);
      for (const [name, value] of Object.entries(expect.context ?? {})) {
        if (decision.context[name] !== value)
          problems.push(`context.${name} = ${decision.context[name]}, expected ${value}`);
      }
      if (expect.jwksFetches !== undefined && world.fetches !== expect.jwksFetches)
        problems.push(`${world.fetches} JWKS fetches, expected ${expect.jwksFetches}`);
      if (expect.revocationReads !== undefined && world.revocationReads !== expect.revocationReads)
        problems.push(`${world.revocationReads} revocation store reads, expected ${expect.revocationReads}`);
      if (problems.length)
        failures.push(`${scenario.file} / ${testCase.name}: ${problems.join("; ")} (${decision.explanation})`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${count} cases failed`);
  assert.ok(count >= 80, `the suite shrank to ${count} cases`);
});
