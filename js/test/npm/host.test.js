// The host layer (src/host.js) every adapter shares, and the error classes (src/errors.js):
// the URL policy loader (single flight, ETag revalidation, failures), the JWKS fetcher
// (status, size limit, timeout), stored policies as text, identity headers, the denial, the
// `AuthzError` hierarchy, and the package's exports against its hand-written types.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import {
  AuthzError,
  ConfigError,
  JwksError,
  PolicyLoadError,
  RequestError,
  UnconfiguredError,
} from "../../src/errors.js";
import {
  DENIAL_HEADER_CASE,
  contextValueText,
  denialResponse,
  fetchJwks,
  identityHeaders,
  jsonText,
  MAX_JWKS_BYTES,
  parseJsonStrict,
  storedPolicy,
  urlPolicyLoader,
} from "../../src/host.js";
import { UNAVAILABLE_BODY } from "../../src/identity.js";

const POLICY = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: "*" }] };
const URL_ = "https://policies.test/policies.json";

/** A `fetch` answering from `answer(init, n)`; every call is recorded. */
function fakeFetch(answer) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url: String(url), headers: { ...init.headers }, signal: init.signal });
    return answer(init, calls.length);
  };
  return { fetch, calls };
}

const json = (value, headers = {}) =>
  new Response(JSON.stringify(value), { status: 200, headers: { "content-type": "application/json", ...headers } });

describe("urlPolicyLoader", () => {
  test("N concurrent loads while the document is fetched → 1 fetch, every caller answered", async () => {
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const { fetch, calls } = fakeFetch(async () => {
      await gate;
      return json({ groups: { a: POLICY, b: JSON.stringify(POLICY), c: null } }, { etag: '"v1"' });
    });
    const load = urlPolicyLoader({ url: URL_, fetch });
    const pending = Array.from({ length: 16 }, (_, i) => load([["a", "b", "c", "d"][i % 4]]));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(calls.length, 1);
    release();
    const results = await Promise.all(pending);
    assert.equal(calls.length, 1);
    assert.deepEqual(results.slice(0, 4), [
      new Map([["a", POLICY]]),
      new Map([["b", JSON.stringify(POLICY)]]),
      new Map([["c", null]]),
      new Map([["d", null]]),
    ]);
    assert.equal(calls[0].headers.accept, "application/json");
    assert.equal(calls[0].headers["if-none-match"], undefined);
  });

  test("used for ttlSeconds, then revalidated with If-None-Match: a 304 keeps the document", async () => {
    let now = 1_000_000;
    let version = 1;
    const { fetch, calls } = fakeFetch((init) => {
      if (init.headers["if-none-match"] === `"v${version}"`) return new Response(null, { status: 304 });
      return json(
        { groups: { a: { ...POLICY, Version: version === 1 ? "2012-10-17" : "2008-10-17" } } },
        { etag: `"v${version}"` },
      );
    });
    const load = urlPolicyLoader({ url: URL_, ttlSeconds: 60, fetch, clock: () => now });
    const first = await load(["a"]);
    now += 59_999;
    assert.deepEqual(await load(["a"]), first);
    assert.equal(calls.length, 1, "within the TTL: no fetch");
    now += 1;
    assert.deepEqual(await load(["a"]), first);
    assert.equal(calls.length, 2);
    assert.equal(calls[1].headers["if-none-match"], '"v1"');
    // The 304 restarted the TTL.
    now += 30_000;
    await load(["a"]);
    assert.equal(calls.length, 2);
    // A new version: 200 with the new document and ETag.
    version = 2;
    now += 30_000;
    const changed = await load(["a"]);
    assert.equal(calls.length, 3);
    assert.equal(changed.get("a").Version, "2008-10-17");
    now += 60_000;
    await load(["a"]);
    assert.equal(calls[3].headers["if-none-match"], '"v2"');
  });

  test("a 304 without a document (none cached) is not a document; failures are PolicyLoadErrors, retried next time", async () => {
    const answers = [
      new Response(null, { status: 304 }),
      new Response("down", { status: 503 }),
      new Response("<html>", { status: 200 }),
      json({ groups: [] }),
      json([]),
      json({ groups: { a: POLICY } }),
    ];
    const { fetch, calls } = fakeFetch((_, n) => answers[n - 1]);
    const load = urlPolicyLoader({ url: URL_, fetch });
    const expected = [
      "policy_store_failed",
      "policy_store_failed",
      "invalid_policy_document",
      "invalid_policy_document",
      "invalid_policy_document",
    ];
    for (const code of expected) {
      await assert.rejects(
        load(["a"]),
        (error) =>
          error instanceof PolicyLoadError &&
          error instanceof AuthzError &&
          error.code === code &&
          error.message.includes(URL_),
      );
    }
    assert.deepEqual(await load(["a"]), new Map([["a", POLICY]]));
    assert.equal(calls.length, 6);
  });

  test("the fetch is bounded by timeoutMs", async () => {
    const { fetch, calls } = fakeFetch(
      (init) =>
        new Promise((_, reject) => {
          init.signal.addEventListener("abort", () => reject(init.signal.reason));
        }),
    );
    const started = Date.now();
    // AbortSignal.timeout's timer does not hold the event loop open: this one does.
    const keepAlive = setTimeout(() => {}, 5000);
    await assert.rejects(
      urlPolicyLoader({ url: URL_, fetch, timeoutMs: 50 })(["a"]),
      (error) => error.name === "TimeoutError",
    );
    clearTimeout(keepAlive);
    assert.ok(Date.now() - started < 2000);
    assert.equal(calls.length, 1);
  });
});

describe("fetchJwks", () => {
  const JWKS = JSON.stringify({ keys: [] });
  let server;
  let base;
  before(async () => {
    server = createServer((request, response) => {
      if (request.url === "/ok") return response.writeHead(200, { "content-type": "application/json" }).end(JWKS);
      if (request.url === "/missing") return response.writeHead(404).end("not here");
      if (request.url === "/declared-large")
        return response
          .writeHead(200, { "content-length": String(MAX_JWKS_BYTES + 1) })
          .end("x".repeat(MAX_JWKS_BYTES + 1));
      if (request.url === "/at-limit") return response.writeHead(200).end("x".repeat(MAX_JWKS_BYTES));
      if (request.url === "/streamed-large") {
        // Chunked, no content-length: the limit is checked while reading.
        response.writeHead(200, { "content-type": "application/json" });
        const chunk = "x".repeat(64 * 1024);
        let sent = 0;
        const more = () => {
          if (response.destroyed || sent > 64) return response.end();
          sent++;
          response.write(chunk, more);
        };
        return more();
      }
      if (request.url === "/slow") return setTimeout(() => response.writeHead(200).end(JWKS), 2000).unref();
      response.writeHead(500).end();
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  after(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });

  test("the body's bytes on 2xx", async () => {
    const bytes = await fetchJwks(`${base}/ok`);
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(bytes), JWKS);
    assert.equal((await fetchJwks(`${base}/at-limit`)).length, MAX_JWKS_BYTES);
  });

  test("not 2xx → JwksError jwks_http_error naming the URL", async () => {
    await assert.rejects(
      fetchJwks(`${base}/missing`),
      (error) =>
        error instanceof JwksError &&
        error.code === "jwks_http_error" &&
        error.message === `JWKS ${base}/missing: HTTP 404`,
    );
  });

  test("larger than the core's limit → jwks_too_large, declared or streamed", async () => {
    for (const path of ["/declared-large", "/streamed-large"]) {
      await assert.rejects(
        fetchJwks(`${base}${path}`),
        (error) => error instanceof JwksError && error.code === "jwks_too_large",
        path,
      );
    }
  });

  test("a caller's own fetch answering without a stream is read whole, with the same limit", async () => {
    const small = {
      ok: true,
      status: 200,
      headers: new Headers(),
      arrayBuffer: async () => new TextEncoder().encode(JWKS).buffer,
    };
    assert.equal(new TextDecoder().decode(await fetchJwks("https://i.test/jwks", { fetch: async () => small })), JWKS);
    const large = {
      ok: true,
      status: 200,
      headers: new Headers(),
      arrayBuffer: async () => new ArrayBuffer(MAX_JWKS_BYTES + 1),
    };
    await assert.rejects(
      fetchJwks("https://i.test/jwks", { fetch: async () => large }),
      (error) => error.code === "jwks_too_large",
    );
  });

  test("bounded by timeoutMs", async () => {
    const started = Date.now();
    await assert.rejects(fetchJwks(`${base}/slow`, { timeoutMs: 100 }), (error) => error.name === "TimeoutError");
    assert.ok(Date.now() - started < 1500);
  });
});

describe("stored values as text, identity headers, the denial", () => {
  test("storedPolicy: text and documents as they are (the core reads both), null/undefined → null", () => {
    assert.equal(storedPolicy('{"Version":"2012-10-17"}'), '{"Version":"2012-10-17"}');
    assert.equal(storedPolicy(POLICY), POLICY);
    assert.equal(storedPolicy(null), null);
    assert.equal(storedPolicy(undefined), null);
    assert.equal(storedPolicy(""), "");
    const fn = () => POLICY;
    assert.equal(storedPolicy(fn), fn, "not 'no policy': the core keeps it invalid");
    assert.equal(jsonText({ a: 1 }), '{"a":1}');
    assert.equal(jsonText("x"), "x");
  });

  test("identityHeaders: prefixed, kebab-case names, escaped values; null and non-finite numbers left out", () => {
    const context = {
      sub: "abc",
      clientId: "c1",
      groups: "a,b",
      admin: true,
      authTime: 1767225600,
      name: "Zoë%",
      nan: NaN,
      inf: Infinity,
      none: null,
    };
    assert.deepEqual(identityHeaders("x-authz-", context), [
      ["x-authz-sub", "abc"],
      ["x-authz-client-id", "c1"],
      ["x-authz-groups", "a,b"],
      ["x-authz-admin", "true"],
      ["x-authz-auth-time", "1767225600"],
      ["x-authz-name", "Zo%C3%AB%25"],
    ]);
    assert.deepEqual(identityHeaders("x-u-", null), []);
    assert.equal(contextValueText(-0.5), "-0.5");
    assert.equal(contextValueText(-Infinity), undefined);
    assert.equal(contextValueText({}), undefined);
  });

  test("denialResponse: the decision's status and body, JSON, no-store, Bearer on 401, 503 when the authorizer failed", () => {
    const body = JSON.stringify({ message: "Unauthorized" });
    assert.deepEqual(denialResponse({ status: 401, body }), {
      status: 401,
      headers: { "content-type": "application/json", "cache-control": "no-store", "www-authenticate": "Bearer" },
      body,
    });
    assert.deepEqual(denialResponse({ status: 403, body: "{}" }), {
      status: 403,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      body: "{}",
    });
    assert.deepEqual(denialResponse(null), {
      status: 503,
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      body: UNAVAILABLE_BODY,
    });
    assert.deepEqual(denialResponse({ status: 503, body: null }).body, UNAVAILABLE_BODY);
    for (const name of Object.keys(denialResponse({ status: 401, body }).headers))
      assert.equal(DENIAL_HEADER_CASE[name].toLowerCase(), name);
  });
});

describe("the AuthzError hierarchy", () => {
  test("codes, subclasses, name and stack", () => {
    const cases = [
      [new ConfigError("config: bad"), ConfigError, "invalid_config"],
      [new UnconfiguredError("not configured", ["UPSTREAM"]), UnconfiguredError, "unconfigured"],
      [new RequestError("authorize: bad"), RequestError, "invalid_request"],
      [new JwksError("jwks_http_error", "JWKS u: HTTP 500"), JwksError, "jwks_http_error"],
      [new PolicyLoadError("policy_store_timeout", "slow"), PolicyLoadError, "policy_store_timeout"],
      [new AuthzError("too_many_steps", "loop"), AuthzError, "too_many_steps"],
    ];
    for (const [error, Class, code] of cases) {
      assert.ok(error instanceof Class && error instanceof AuthzError && error instanceof Error, code);
      assert.equal(error.code, code);
      assert.equal(error.name, "AuthzError");
      assert.match(error.stack, /^AuthzError: /);
      assert.equal(String(error).split(":")[0], "AuthzError");
    }
    assert.ok(new UnconfiguredError("m", ["X"]) instanceof ConfigError);
    assert.deepEqual(new UnconfiguredError("m", ["X"]).variables, ["X"]);
    assert.deepEqual(new ConfigError("m", { variables: ["AUTHZ_CONFIG"] }).variables, ["AUTHZ_CONFIG"]);
    assert.equal("variables" in new ConfigError("m"), false);
    assert.equal(ConfigError.code, "invalid_config");
    assert.equal(UnconfiguredError.code, "unconfigured");
    assert.equal(RequestError.code, "invalid_request");
    assert.equal(JwksError.code, "jwks_fetch_failed");
    assert.equal(PolicyLoadError.code, "policy_store_failed");
    assert.ok(!(new RequestError("m") instanceof ConfigError));
    assert.ok(!(new JwksError("c", "m") instanceof PolicyLoadError));
  });

  test("one class per name for the process: kept under Symbol.for, shared with the CommonJS bundle", () => {
    for (const [name, Class] of Object.entries({
      AuthzError,
      ConfigError,
      UnconfiguredError,
      RequestError,
      JwksError,
      PolicyLoadError,
    })) {
      assert.equal(globalThis[Symbol.for(`edge-authz.${name}`)], Class, name);
    }
    const cjs = createRequire(import.meta.url)("../../cjs/index.cjs");
    for (const [name, Class] of Object.entries({
      AuthzError,
      ConfigError,
      UnconfiguredError,
      RequestError,
      JwksError,
      PolicyLoadError,
    })) {
      assert.equal(cjs[name], Class, name);
    }
  });

  test("the adapters throw them: every configuration error is a ConfigError (invalid_config), malformed input a RequestError", async () => {
    const { createAuthorizer } = await import("../../src/node.js");
    const { edgeAuthz } = await import("../../src/express.js");
    const { createHandler } = await import("../../src/lambda-edge.js");
    const config = {
      issuers: [{ issuer: "https://i.test/", jwksUri: "https://i.test/jwks.json", audience: null }],
      policies: { groups: {} },
    };
    const thrown = (f) => {
      try {
        f();
      } catch (error) {
        return error;
      }
      throw new Error("did not throw");
    };
    for (const error of [
      thrown(() => createAuthorizer({})),
      thrown(() => createAuthorizer(config, { nope: 1 })),
      thrown(() => createAuthorizer(config, { jwksTimeoutMs: -1 })),
      thrown(() => edgeAuthz(null)),
      thrown(() => edgeAuthz({ config, sourceIp: "x" })),
      thrown(() => edgeAuthz({ config, identityHeaderPrefix: "x authz" })),
      thrown(() => createHandler(null)),
      thrown(() => createHandler({ config, forwardAuthorization: "yes" })),
    ]) {
      assert.ok(error instanceof ConfigError, `${error}`);
      assert.equal(error.code, "invalid_config");
    }
    const authorizer = createAuthorizer(config, { log: false, fetch: () => Promise.reject(new Error("offline")) });
    for (const input of [
      null,
      { method: 1, path: "/" },
      { method: "GET", path: "/", headers: 5 },
      { method: "GET", path: "/", matching: { caseSensitive: "no" } },
    ]) {
      await assert.rejects(
        authorizer.authorize(input),
        (error) => error instanceof RequestError && error.code === "invalid_request",
      );
    }
  });
});

describe("the exports match the hand-written types", () => {
  /** Names a .d.ts exports: declarations and `export { ... } from`. */
  const declared = (file) => {
    const text = readFileSync(new URL(`../../types/${file}`, import.meta.url), "utf8");
    const names = new Set([...text.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1]));
    for (const [, list] of text.matchAll(/^export \{([^}]*)\} from/gm))
      for (const name of list.split(",")) names.add(name.trim());
    if (/^export default /m.test(text)) names.add("default");
    return names;
  };

  test("every runtime export of each entry point is declared (and every declared value exists)", async () => {
    const entries = {
      "index.d.ts": "../../src/node.js",
      "express.d.ts": "../../src/express.js",
      "fastify.d.ts": "../../src/fastify.js",
      "lambda-edge.d.ts": "../../src/lambda-edge.js",
    };
    for (const [types, source] of Object.entries(entries)) {
      const runtime = new Set(Object.keys(await import(source)));
      // Internal: the adapters' entry, not part of the documented API.
      runtime.delete("ADAPTER_AUTHORIZE");
      // Exported for the tests only.
      for (const name of ["expressMatching", "fastifyRouterOptions", "fastifyMatching"]) runtime.delete(name);
      const types_ = declared(types);
      for (const name of runtime)
        assert.ok(types_.has(name), `${source} exports ${name}, types/${types} does not declare it`);
      for (const name of types_)
        assert.ok(runtime.has(name), `types/${types} declares ${name}, ${source} does not export it`);
    }
  });

  test("the Worker's error exports are declared", () => {
    const names = declared("worker.d.ts");
    for (const name of [
      "AuthzError",
      "ConfigError",
      "UnconfiguredError",
      "RequestError",
      "JwksError",
      "PolicyLoadError",
      "createWorker",
      "headerName",
      "headerValue",
      "default",
    ]) {
      assert.ok(names.has(name), name);
    }
    const source = readFileSync(new URL("../../src/worker.js", import.meta.url), "utf8");
    assert.match(
      source,
      /export \{ AuthzError, ConfigError, JwksError, PolicyLoadError, RequestError, UnconfiguredError \};/,
    );
  });
});

describe("parseJsonStrict", () => {
  /** A small deterministic generator (xorshift), so a failure replays. */
  function random(seed) {
    let x = seed;
    return (n) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
  }
  const KEYS = ["a", "b", "Statement", "é", 'q"uote', "back\\slash", "}", "[", ",", ":", " "];
  function value(pick, depth) {
    switch (depth > 3 ? pick(4) : pick(6)) {
      case 0:
        return pick(1000) - 500;
      case 1:
        return KEYS[pick(KEYS.length)] + '}]{[,:"\\';
      case 2:
        return [null, true, false][pick(3)];
      case 3:
        return 1.5e-7;
      case 4:
        return Array.from({ length: pick(4) }, () => value(pick, depth + 1));
      default: {
        const object = {};
        for (let n = pick(5); n > 0; n--) object[KEYS[pick(KEYS.length)]] = value(pick, depth + 1);
        return object;
      }
    }
  }

  test("reads what JSON.parse reads, and refuses a repeated member at any depth with its location", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const pick = random(seed);
      const document = { groups: { vets: value(pick, 0), other: value(pick, 0) } };
      const text = JSON.stringify(document, null, seed % 3);
      assert.deepEqual(parseJsonStrict(text), JSON.parse(text), `seed ${seed}`);
      // The same member twice, written two ways: still one key to every reader.
      const repeated = text.replace('"vets":', '"vets": 1, "v\\u0065ts":');
      assert.throws(
        () => parseJsonStrict(repeated),
        (error) => error.code === "repeated_member" && error.message === 'groups.vets: repeated member "vets"',
        `seed ${seed}`,
      );
    }
    assert.throws(
      () => parseJsonStrict('[{"x": [0, {"y": 1, "y": 2}]}]'),
      (error) => error.message === '[0].x[1].y: repeated member "y"',
    );
    assert.throws(
      () => parseJsonStrict('{"a": 1,'),
      (error) => error instanceof SyntaxError && !error.code,
    );
    assert.deepEqual(parseJsonStrict('{"a": {"a": 1}, "b": ["a", "a"]}'), { a: { a: 1 }, b: ["a", "a"] });
  });
});
