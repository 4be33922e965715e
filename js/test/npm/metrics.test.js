// OpenTelemetry metrics (issue 17) from the Node API, a real Express and a real Fastify app on
// loopback, and Lambda@Edge viewer-request events: `metrics: {meter}` creates the counter
// `edge_authz.decisions` and the histogram `edge_authz.decision.duration` (ms) once, and each
// decision adds 1 and records its latency with the attributes outcome, reason and
// http.response.status_code; never the token. The Meter is a recording one implementing the
// @opentelemetry/api shape (createCounter/createHistogram → add/record); with
// @opentelemetry/sdk-metrics installed, a real MeterProvider is read back too. Nothing is
// imported for metrics: the package never loads @opentelemetry/api itself.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import express from "express";
import Fastify from "fastify";
import { createAuthorizer } from "../../src/node.js";
import { edgeAuthz as expressAuthz } from "../../src/express.js";
import { edgeAuthz as fastifyAuthz } from "../../src/fastify.js";
import { createHandler } from "../../src/lambda-edge.js";
import { jwksDocument } from "../support/suite.js";
import { startJwksServer } from "../support/servers.js";
import { NOW, VET_POLICY, accessToken, keys, poolConfig } from "./fixtures.js";
import { viewerRequest } from "./lambda-edge-events.js";

const policies = { groups: { "pet-veterinarian": VET_POLICY } };
const STATUS = "http.response.status_code";

/** A Meter of @opentelemetry/api's shape that keeps every instrument and data point. */
function recordingMeter() {
  const instruments = new Map();
  const instrument = (kind, method) => (name, options) => {
    assert.ok(!instruments.has(name), `${name} created once`);
    const created = { kind, options, points: [] };
    instruments.set(name, created);
    return { [method]: (value, attributes) => created.points.push({ value, attributes: { ...attributes } }) };
  };
  return {
    instruments,
    createCounter: instrument("counter", "add"),
    createHistogram: instrument("histogram", "record"),
    createUpDownCounter: () => assert.fail("not used"),
    createObservableGauge: () => assert.fail("not used"),
  };
}

const vet = (token, extra = {}) => ({
  method: "GET",
  path: "/petstore/v1/pets",
  headers: token ? { authorization: `Bearer ${token}` } : {},
  sourceIp: "192.0.2.10",
  ...extra,
});

function assertNoToken(meter, token) {
  const text = JSON.stringify([...meter.instruments.values()]);
  for (const part of token.split(".")) assert.ok(!text.includes(part), "a part of the token in a metric");
}

let jwks;
before(async () => {
  jwks = await startJwksServer(jwksDocument(keys, ["suite-rsa-1"]));
});
after(() => jwks.close());

describe("metrics: {meter} (Node API)", () => {
  test("one counter and one histogram, named, with units; a point in each per decision", async () => {
    const meter = recordingMeter();
    const events = [];
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: false,
      metrics: { meter },
      onDecision: (event) => events.push(event),
    });
    assert.deepEqual([...meter.instruments.keys()], ["edge_authz.decisions", "edge_authz.decision.duration"]);
    const counter = meter.instruments.get("edge_authz.decisions");
    const histogram = meter.instruments.get("edge_authz.decision.duration");
    assert.equal(counter.kind, "counter");
    assert.equal(counter.options.unit, "{decision}");
    assert.equal(histogram.kind, "histogram");
    assert.equal(histogram.options.unit, "ms");
    const buckets = histogram.options.advice.explicitBucketBoundaries;
    assert.ok(buckets[0] < 1 && buckets.at(-1) >= 1000, "sub-millisecond to seconds");
    assert.deepEqual(
      [...buckets].sort((a, b) => a - b),
      buckets,
    );

    const token = accessToken();
    assert.equal((await authorizer.authorize(vet(token))).outcome, "allow");
    await authorizer.authorize(vet(token)); // memoised: a decision all the same
    assert.equal((await authorizer.authorize(vet(null))).status, 401);
    assert.equal((await authorizer.authorize(vet(token, { sourceIp: "198.51.100.7" }))).reason, "implicit_deny");

    const expected = [
      { outcome: "allow", reason: "allowed", [STATUS]: 200 },
      { outcome: "allow", reason: "allowed", [STATUS]: 200 },
      { outcome: "unauthorized", reason: "no_credentials", [STATUS]: 401 },
      { outcome: "forbidden", reason: "implicit_deny", [STATUS]: 403 },
    ];
    assert.deepEqual(
      counter.points.map((p) => p.value),
      [1, 1, 1, 1],
    );
    assert.deepEqual(
      counter.points.map((p) => p.attributes),
      expected,
    );
    assert.deepEqual(
      histogram.points.map((p) => p.attributes),
      expected,
    );
    // The latency recorded is the one onDecision reports.
    assert.deepEqual(
      histogram.points.map((p) => p.value),
      events.map((e) => e.latencyMs),
    );
    for (const { value } of histogram.points) assert.ok(value >= 0 && Number.isFinite(value));
    assert.equal(events.length, 4, "the user's onDecision still gets every event");
    assertNoToken(meter, token);
  });

  test("claimCheck refusals are counted as what the caller is answered", async () => {
    const meter = recordingMeter();
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: false,
      metrics: { meter },
      claimCheck: (claims) => claims.sub !== "blocked",
    });
    await authorizer.authorize(vet(accessToken({ sub: "blocked" })));
    assert.deepEqual(meter.instruments.get("edge_authz.decisions").points[0].attributes, {
      outcome: "forbidden",
      reason: "claim_check_failed",
      [STATUS]: 403,
    });
  });

  test("a meter that throws changes no decision; it is logged and onDecision still runs", async () => {
    const logged = [];
    const events = [];
    const meter = {
      createCounter: () => ({
        add() {
          throw new Error("exporter down");
        },
      }),
      createHistogram: () => ({ record() {} }),
    };
    const authorizer = createAuthorizer(poolConfig(jwks.url), {
      policies,
      now: () => NOW,
      log: (event) => logged.push(event),
      metrics: { meter },
      onDecision: (event) => events.push(event),
    });
    assert.equal((await authorizer.authorize(vet(accessToken()))).outcome, "allow");
    assert.equal(events.length, 1);
    assert.deepEqual(
      logged.filter((e) => e.event === "metrics_failed"),
      [{ event: "metrics_failed", message: "exporter down" }],
    );
  });

  test("options.metrics must be {meter} with a Meter (invalid_config at construction)", () => {
    for (const metrics of [
      true,
      "otel",
      { meter: {} },
      { meter: recordingMeter(), prefix: "x" },
      { createCounter() {} },
    ]) {
      assert.throws(
        () => createAuthorizer(poolConfig(jwks.url), { policies, metrics }),
        (error) => error.code === "invalid_config" && /options\.metrics/.test(error.message),
        JSON.stringify(metrics),
      );
    }
    // Unset, null and false: no metrics, nothing created.
    for (const metrics of [undefined, null, false]) createAuthorizer(poolConfig(jwks.url), { policies, metrics });
  });

  test("the package imports no OpenTelemetry module: zero cost without metrics", () => {
    for (const file of ["node.js", "express.js", "fastify.js", "lambda-edge.js", "http.js", "authorizer.js"]) {
      const source = readFileSync(new URL(`../../src/${file}`, import.meta.url), "utf8");
      assert.ok(!/(?:import|require)\s*\(?\s*["']@opentelemetry/.test(source), `${file} imports OpenTelemetry`);
    }
  });
});

describe("Express, Fastify and Lambda@Edge take the same option", () => {
  const options = (meter) => ({
    config: poolConfig(jwks.url),
    policies,
    now: () => NOW,
    log: false,
    metrics: { meter },
    claimCheck: (claims) => claims.sub !== "blocked",
  });
  const EXPECTED = [
    { outcome: "allow", reason: "allowed", [STATUS]: 200 },
    { outcome: "forbidden", reason: "claim_check_failed", [STATUS]: 403 },
    { outcome: "unauthorized", reason: "no_credentials", [STATUS]: 401 },
  ];

  async function exercise(base, meter) {
    const get = (token) =>
      fetch(`${base}/petstore/v1/pets`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const token = accessToken();
    assert.equal((await get(token)).status, 200);
    assert.equal((await get(accessToken({ sub: "blocked" }))).status, 403);
    assert.equal((await get(null)).status, 401);
    const counter = meter.instruments.get("edge_authz.decisions");
    assert.deepEqual(
      counter.points.map((p) => p.attributes),
      EXPECTED,
    );
    assert.equal(meter.instruments.get("edge_authz.decision.duration").points.length, 3);
    assertNoToken(meter, token);
  }

  test("Express", async () => {
    const meter = recordingMeter();
    const app = express();
    app.use(expressAuthz(options(meter)));
    app.get("/petstore/v1/pets", (req, res) => res.json({ sub: req.auth.sub }));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      await exercise(`http://127.0.0.1:${server.address().port}`, meter);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("Fastify", async () => {
    const meter = recordingMeter();
    const app = Fastify();
    await app.register(fastifyAuthz, options(meter));
    app.get("/petstore/v1/pets", async (request) => ({ sub: request.auth?.sub }));
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      await exercise(base, meter);
    } finally {
      await app.close();
    }
  });

  test("Lambda@Edge", async () => {
    const JWKS_URI = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SuitePool1/.well-known/jwks.json";
    const meter = recordingMeter();
    const handler = createHandler({
      ...options(meter),
      config: poolConfig(JWKS_URI),
      jwks: { [JWKS_URI]: JSON.parse(jwksDocument(keys, ["suite-rsa-1"])) },
      fetch: () => Promise.reject(new Error("no network in this test")),
    });
    assert.equal(
      (await handler(viewerRequest({ token: accessToken(), clientIp: "192.0.2.10" }))).uri,
      "/petstore/v1/pets",
    );
    const blocked = viewerRequest({ token: accessToken({ sub: "blocked" }), clientIp: "192.0.2.10" });
    assert.equal((await handler(blocked)).status, "403");
    assert.equal((await handler(viewerRequest({ clientIp: "192.0.2.10" }))).status, "401");
    assert.deepEqual(
      meter.instruments.get("edge_authz.decisions").points.map((p) => p.attributes),
      EXPECTED,
    );
  });
});

// With @opentelemetry/sdk-metrics installed (a dev dependency to add), the same option with
// a real MeterProvider, read back through a MetricReader.
const sdk = await import("@opentelemetry/sdk-metrics").catch(() => null);

describe("a real OpenTelemetry MeterProvider", () => {
  test(
    "the counter's sums and the histogram's counts by attributes",
    { skip: sdk ? false : "@opentelemetry/sdk-metrics is not installed" },
    async () => {
      const { MeterProvider, MetricReader } = sdk;
      class TestReader extends MetricReader {
        async onForceFlush() {}
        async onShutdown() {}
      }
      const reader = new TestReader();
      const provider = new MeterProvider({ readers: [reader] });
      const authorizer = createAuthorizer(poolConfig(jwks.url), {
        policies,
        now: () => NOW,
        log: false,
        metrics: { meter: provider.getMeter("edge-authz") },
      });
      const token = accessToken();
      await authorizer.authorize(vet(token));
      await authorizer.authorize(vet(token));
      await authorizer.authorize(vet(null));
      const { resourceMetrics } = await reader.collect();
      const metrics = new Map(
        resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((m) => [m.descriptor.name, m]),
      );
      const decisions = metrics.get("edge_authz.decisions");
      const duration = metrics.get("edge_authz.decision.duration");
      assert.equal(duration.descriptor.unit, "ms");
      const byReason = (metric, read) =>
        Object.fromEntries(metric.dataPoints.map((point) => [point.attributes.reason, read(point.value)]));
      assert.deepEqual(
        byReason(decisions, (value) => value),
        { allowed: 2, no_credentials: 1 },
      );
      assert.deepEqual(
        byReason(duration, (value) => value.count),
        { allowed: 2, no_credentials: 1 },
      );
      // The advised boundaries, not the SDK's defaults (which start at 5 ms).
      assert.equal(duration.dataPoints[0].value.buckets.boundaries[0], 0.05);
      await provider.shutdown();
    },
  );
});
