// The conformance suite (tests/cases/) through the Node API (createAuthorizer: fetch for
// JWKS, node:crypto signatures, a policies function, a revocations function counting its
// reads) and through the Lambda@Edge handler
// (CloudFront viewer-request events in, CloudFront request/response out).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthorizer } from "../../src/node.js";
import { createHandler } from "../../src/lambda-edge.js";
import { caseHeaders, jwksDocument, scenarios, suiteKeys, tokenOf } from "../support/suite.js";

const keys = suiteKeys();

/**
 * One scenario's world: the JWKS served (by an injected fetch), the policy store, the
 * revocation store (a function: one call is one read), the clock.
 */
function world(scenario) {
  const state = {
    served: scenario.jwks,
    down: false,
    fetches: 0,
    now: 0,
    revocations: new Map(Object.entries(scenario.revocations ?? {})),
    revocationsDown: false,
    revocationReads: 0,
  };
  const store = scenario.store ?? {};
  const options = {
    fetch: async () => {
      state.fetches++;
      if (state.down) return new Response("down", { status: 500 });
      return new Response(jwksDocument(keys, state.served), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    },
    now: () => state.now,
    log: false,
    explain: true,
  };
  if (!scenario.config.policies?.groups)
    options.policies = async (groups) => Object.fromEntries(groups.map((g) => [g, store[g] ?? null]));
  if (scenario.config.revocation && scenario.config.revocation.store !== "local")
    options.revocations = async (keys) => {
      state.revocationReads++;
      if (state.revocationsDown) throw new Error("the revocation store is down");
      return new Map(keys.map((key) => [key, state.revocations.get(key) ?? null]));
    };
  return { state, options };
}

/** The path a forwarding adapter must send: the case's `forwardPath`, else the path as given. */
function expectedForwardPath(testCase) {
  return testCase.expect.forwardPath ?? testCase.request.path.split("?")[0];
}

function check(decided, testCase, state, label) {
  const problems = [];
  const { expect } = testCase;
  if (decided.path !== undefined && expect.status !== 400 && decided.path !== expectedForwardPath(testCase))
    problems.push(`path ${decided.path}, expected ${expectedForwardPath(testCase)}`);
  if (decided.status !== expect.status) problems.push(`status ${decided.status}, expected ${expect.status}`);
  if (decided.reason !== undefined && decided.reason !== expect.reason)
    problems.push(`reason ${decided.reason}, expected ${expect.reason}`);
  for (const [name, value] of Object.entries(expect.context ?? {})) {
    if (decided.context[name] !== value) problems.push(`context.${name} = ${decided.context[name]}, expected ${value}`);
  }
  if (expect.jwksFetches !== undefined && state.fetches !== expect.jwksFetches)
    problems.push(`${state.fetches} JWKS fetches, expected ${expect.jwksFetches}`);
  if (expect.revocationReads !== undefined && state.revocationReads !== expect.revocationReads)
    problems.push(`${state.revocationReads} revocation store reads, expected ${expect.revocationReads}`);
  return problems.length ? [`${label} / ${testCase.name}: ${problems.join("; ")}`] : [];
}

function prepare(testCase, state) {
  if (testCase.jwks) state.served = testCase.jwks;
  if (testCase.jwksDown !== undefined) state.down = testCase.jwksDown;
  for (const [key, record] of Object.entries(testCase.revoke ?? {})) {
    if (record === null) state.revocations.delete(key);
    else state.revocations.set(key, record);
  }
  if (testCase.revocationsDown !== undefined) state.revocationsDown = testCase.revocationsDown;
  state.fetches = 0;
  state.revocationReads = 0;
  state.now = testCase.now;
  return testCase.token ? tokenOf(testCase.token, keys) : undefined;
}

test("the conformance suite passes through the Node API", async () => {
  const failures = [];
  let count = 0;
  for (const scenario of scenarios()) {
    const { state, options } = world(scenario);
    const authorizer = createAuthorizer(scenario.config, options);
    for (const testCase of scenario.cases) {
      count++;
      const token = prepare(testCase, state);
      const decision = await authorizer.authorize({
        method: testCase.request.method,
        path: testCase.request.path,
        headers: Object.fromEntries(caseHeaders(testCase, token)),
        query: testCase.request.query ?? undefined,
        sourceIp: testCase.request.sourceIp,
        secureTransport: true,
        methodArn: testCase.request.methodArn,
      });
      failures.push(...check(decision, testCase, state, scenario.file));
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${count} cases failed`);
  assert.ok(count >= 80, `the suite shrank to ${count} cases`);
});

/** A viewer-request event in AWS's documented shape (Lambda@Edge event structure). */
export function viewerRequest({ method, uri, querystring = "", clientIp, headers }) {
  const cfHeaders = {};
  for (const [name, value] of headers) (cfHeaders[name.toLowerCase()] ??= []).push({ key: name, value });
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d111111abcdef8.cloudfront.net",
            distributionId: "EDFDVBD6EXAMPLE",
            eventType: "viewer-request",
            requestId: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==",
          },
          request: { clientIp, headers: cfHeaders, method, querystring, uri },
        },
      },
    ],
  };
}

test("the conformance suite passes through the Lambda@Edge handler", async () => {
  const failures = [];
  let count = 0;
  let skipped = 0;
  for (const scenario of scenarios()) {
    const { state, options } = world(scenario);
    const handler = createHandler({ config: scenario.config, ...options, log: false });
    for (const testCase of scenario.cases) {
      // CloudFront has no execute-api ARN and no bare-credential events: those cases belong to API Gateway.
      if (testCase.request.methodArn || testCase.request.credential !== undefined) {
        skipped++;
        continue;
      }
      count++;
      const token = prepare(testCase, state);
      const result = await handler(
        viewerRequest({
          method: testCase.request.method,
          uri: testCase.request.path,
          querystring: new URLSearchParams(testCase.request.query ?? {}).toString(),
          clientIp: testCase.request.sourceIp ?? "203.0.113.9",
          headers: [...caseHeaders(testCase, token), ["CloudFront-Forwarded-Proto", "https"]],
        }),
      );
      let decided;
      if ("status" in result) {
        assert.equal(typeof result.status, "string");
        assert.deepEqual(result.headers["content-type"], [{ key: "Content-Type", value: "application/json" }]);
        decided = { status: Number(result.status), context: {}, reason: undefined, path: undefined };
        JSON.parse(result.body);
      } else {
        const context = {};
        for (const [name, [{ value }]] of Object.entries(result.headers))
          if (name.startsWith("x-authz-")) context[name] = value;
        // The origin gets the canonical path, whatever the viewer sent.
        decided = { status: 200, reason: undefined, context: {}, path: result.uri };
        // Context values arrive as headers: `clientId` → x-authz-client-id, values as text.
        for (const [name, value] of Object.entries(testCase.expect.context ?? {})) {
          const header = `x-authz-${name
            .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
            .toLowerCase()
            .replace(/[^a-z0-9-]/g, "-")}`;
          decided.context[name] = context[header] === String(value) ? value : context[header];
        }
      }
      failures.push(...check(decided, testCase, state, `lambda-edge ${scenario.file}`));
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${count} cases failed`);
  assert.ok(count >= 70, `only ${count} cases ran through Lambda@Edge (${skipped} skipped)`);
});
