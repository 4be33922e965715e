// The Cloudflare Worker: authorizes every request at the edge and forwards the allowed ones
// to the origin with the caller's identity as headers. Configuration: see js/README.md.

import wasmModule from "../dist/edge_authz_bg.wasm";
import { initSync, Authorizer, Request as WasmRequest } from "../dist/edge_authz.js";
import { EdgeAuthorizer } from "./authorizer.js";
import { AuthzError, ConfigError, JwksError, PolicyLoadError, RequestError, UnconfiguredError } from "./errors.js";
import {
  checkClaims,
  denialResponse,
  fetchJwks,
  identityHeaders,
  jsonText,
  storedPolicy,
  urlPolicyLoader,
} from "./host.js";
import { webCryptoVerifier } from "./webcrypto.js";
import {
  decisionLogEvent,
  headerName,
  headerValue,
  identityHeaderMatcher,
  METHOD_OVERRIDE_HEADER,
} from "./identity.js";

export { headerName, headerValue };
export { AuthzError, ConfigError, JwksError, PolicyLoadError, RequestError, UnconfiguredError };

/**
 * @typedef {object} Env
 * @property {string | object} AUTHZ_CONFIG          the edge-authz configuration (JSON text or object)
 * @property {string} [UPSTREAM]                     origin base URL; unset: the request's own URL (route mode)
 * @property {string} [IDENTITY_HEADER_PREFIX]       default `x-authz-`
 * @property {string} [FORWARD_AUTHORIZATION]        `false` drops Authorization before forwarding
 * @property {string} [CORS_PREFLIGHT]               `pass` (default) | `answer` | `authorize`
 * @property {string} [CORS_ALLOW_ORIGINS]           `answer` mode: `*` or a comma-separated list
 * @property {string} [CORS_ALLOW_METHODS]
 * @property {string} [CORS_ALLOW_HEADERS]
 * @property {string} [CORS_MAX_AGE]
 * @property {string} [POLICIES_URL]                 fetch policies from this JSON document instead of KV
 * @property {string} [POLICIES_URL_TTL_SECONDS]     default 60
 * @property {string} [POLICIES_TIMEOUT_MS]          default 5000: a KV read or POLICIES_URL fetch slower than this counts as failed (503)
 * @property {string} [JWKS_FETCH_TIMEOUT_MS]        default 5000
 * @property {string} [JWKS_KV_MAX_AGE_SECONDS]      default 300
 * @property {string} [EXPLAIN]                      `true`: log one-line explanations
 * @property {string} [EXPOSE_REASON]                `true`: `edge-authz-reason` response header (debugging only)
 * @property {string} [REVOCATIONS_TIMEOUT_MS]      default 5000: a REVOCATIONS read slower than this counts as failed
 * @property {KVNamespace} [POLICIES]                group → policy JSON
 * @property {KVNamespace} [REVOCATIONS]             revocation records (`edge-authz revoke --format kv`): required with a `revocation` section
 * @property {KVNamespace} [JWKS_CACHE]              optional: JWKS shared by fresh isolates
 * @property {AnalyticsEngineDataset} [METRICS]     optional: one data point per decision (js/README.md, "Metrics and a claim check in the Worker")
 * @property {string} [ENVIRONMENT]                  `dev`: loopback and example hosts accepted (local development, tests)
 */

const REASON_HEADER = "edge-authz-reason";

/**
 * A check of one's own, run after the core's rules on allows only: anything but `true`
 * (`false`, a throw, a rejection) turns the allow into a 403 `claim_check_failed`.
 * `request.path` is the canonical path authorized and forwarded (`decision.path`);
 * `request.receivedPath` the one received.
 * @typedef {(claims: Record<string, string | number | boolean>, request: { method: string, path: string, receivedPath: string, headers: Headers, query: URLSearchParams, sourceIp: string | null, secureTransport: boolean }, env: Env) => boolean | Promise<boolean>} ClaimCheck
 */

/**
 * Builds a Worker. The clock is injectable (whole seconds since the epoch); production uses
 * the default export, whose clock is `Date.now()`. `claimCheck`: see `ClaimCheck` (a Worker
 * project of one's own: `export default createWorker({ claimCheck })`).
 * @param {{ now?: () => number, log?: (event: Record<string, unknown>) => void, claimCheck?: ClaimCheck }} [options]
 * @returns {{ fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> }}
 */
export function createWorker({
  now = () => Math.floor(Date.now() / 1000),
  log = (event) => console.log(JSON.stringify(event)),
  claimCheck = undefined,
} = {}) {
  if (claimCheck !== undefined && typeof claimCheck !== "function")
    throw new ConfigError(
      "createWorker: claimCheck must be a function (claims, request, env) => boolean | Promise<boolean>",
    );
  const hooks = { claimCheck: claimCheck ?? null };
  /** @type {Promise<State> | null} built on the first request (randomness is not allowed at startup) */
  let state = null;
  return {
    async fetch(request, env, ctx) {
      // Time only moves across I/O in workerd: the latency is the JWKS, KV and store reads'.
      const started = performance.now();
      /** Whether this request's decision went to METRICS (at most one data point per request). */
      const report = { done: false };
      let current;
      try {
        state ??= buildState(env, log);
        current = await state;
      } catch (error) {
        const reason = error?.code ?? "startup_failed";
        log({
          event: "authz",
          reason,
          status: 503,
          message: error?.message,
          ...(error?.variables ? { variables: error.variables } : {}),
        });
        recordDecision(env, request, { outcome: "unavailable", reason, status: 503 }, started, report);
        return unavailable();
      }
      try {
        return await handle(current, request, now(), ctx, env, { hooks, started, report });
      } catch (error) {
        log({ event: "authz", reason: "internal_error", status: 503, message: error?.message });
        recordDecision(env, request, FAILED, started, report);
        return unavailable(current.options.exposeReason ? "internal_error" : null);
      }
    },
  };
}

/** What the Worker answers when it could not decide (for METRICS). */
const FAILED = Object.freeze({ outcome: "unavailable", reason: "internal_error", status: 503 });

/**
 * One Workers Analytics Engine data point for the request's decision, when the Worker has a
 * `METRICS` binding (none: nothing is done): `blobs` [outcome, reason, method, colo],
 * `doubles` [latency in ms, status], `indexes` [reason] (the sampling key: a rare reason,
 * `revoked` or `jwks_unavailable`, is sampled apart from the many `allowed`). Never the
 * token, the caller or the path. A failing write is dropped: metrics never fail a request.
 */
function recordDecision(env, request, { outcome, reason, status }, started, report) {
  const dataset = env?.METRICS;
  if (report.done || typeof dataset?.writeDataPoint !== "function") return;
  report.done = true;
  try {
    dataset.writeDataPoint({
      blobs: [outcome, reason, request.method, typeof request.cf?.colo === "string" ? request.cf.colo : ""],
      doubles: [performance.now() - started, status],
      indexes: [reason],
    });
  } catch {
    // Analytics Engine is best effort; the answer is not.
  }
}

export default createWorker();

/**
 * @typedef {ReturnType<typeof parseOptions>} Options
 * @typedef {{ options: Options, authorizer: EdgeAuthorizer, log: (event: Record<string, unknown>) => void }} State
 */

/** @param {Env} env */
function parseOptions(env) {
  const flag = (value, fallback) =>
    value === undefined || value === "" ? fallback : String(value).toLowerCase() === "true";
  const number = (value, fallback) => {
    if (value === undefined || value === "") return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw configError(`not a non-negative number: ${value}`);
    return parsed;
  };
  const preflight = env.CORS_PREFLIGHT || "pass";
  if (!["pass", "answer", "authorize"].includes(preflight))
    throw configError(`CORS_PREFLIGHT must be pass, answer or authorize, not ${preflight}`);
  const prefix = (env.IDENTITY_HEADER_PREFIX ?? "x-authz-").toLowerCase();
  if (!/^[a-z0-9-]+$/.test(prefix))
    throw configError(`IDENTITY_HEADER_PREFIX must be letters, digits and dashes: ${prefix}`);
  const url = (name, value) => {
    if (!value) return null;
    try {
      return new URL(value);
    } catch {
      throw configError(`${name} is not an absolute URL: ${value}`);
    }
  };
  return {
    upstream: url("UPSTREAM", env.UPSTREAM),
    prefix,
    /** Incoming headers under the prefix: any case, `-` and `_` alike (`X_Authz_Sub`). */
    identityHeaders: identityHeaderMatcher(prefix),
    forwardAuthorization: flag(env.FORWARD_AUTHORIZATION, true),
    cors: {
      preflight,
      origins: (env.CORS_ALLOW_ORIGINS ?? "")
        .split(",")
        .map((o) => o.trim())
        .filter(Boolean),
      methods: env.CORS_ALLOW_METHODS || "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      headers: env.CORS_ALLOW_HEADERS || "authorization, content-type",
      maxAge: String(number(env.CORS_MAX_AGE, 600)),
    },
    policiesUrl: url("POLICIES_URL", env.POLICIES_URL),
    policiesUrlTtl: number(env.POLICIES_URL_TTL_SECONDS, 60),
    jwksTimeoutMs: number(env.JWKS_FETCH_TIMEOUT_MS, 5000),
    policiesTimeoutMs: number(env.POLICIES_TIMEOUT_MS, 5000),
    revocationsTimeoutMs: number(env.REVOCATIONS_TIMEOUT_MS, 5000),
    jwksKvMaxAge: number(env.JWKS_KV_MAX_AGE_SECONDS, 300),
    explain: flag(env.EXPLAIN, false),
    exposeReason: flag(env.EXPOSE_REASON, false),
  };
}

function configError(message) {
  return new ConfigError(message);
}

/** What wrangler.toml's top-level `[vars]` hold until the deployment is configured. */
const UNCONFIGURED = "UNCONFIGURED";

/**
 * Refuses to start a Worker whose origin or issuers are still placeholders, so that a
 * `wrangler deploy` of the repository's wrangler.toml as it is answers 503 (and says what to
 * set) instead of forwarding to nowhere: any binding or AUTHZ_CONFIG value containing
 * `UNCONFIGURED`, and, unless `ENVIRONMENT` is `dev`, an UPSTREAM, POLICIES_URL or issuer
 * (`jwksUri`, `issuer`) on a loopback or unspecified address or a reserved example name
 * (`localhost`, `127.0.0.0/8`, `::1`, `0.0.0.0`, `.test`, `.example`, `.invalid`,
 * `example.com`, ...). Malformed values are left to the parsers that report them.
 * @param {Env} env
 */
function refuseUnconfigured(env) {
  const dev = env.ENVIRONMENT === "dev";
  /** @type {{ variable: string, problem: string }[]} */
  const found = [];
  const marker = (variable) => found.push({ variable, problem: `still ${UNCONFIGURED}` });
  for (const [name, value] of Object.entries(env)) {
    if (name !== "AUTHZ_CONFIG" && typeof value === "string" && value.includes(UNCONFIGURED)) marker(name);
  }
  let config = env.AUTHZ_CONFIG;
  if (typeof config === "string") {
    try {
      config = JSON.parse(config);
    } catch {
      if (config.includes(UNCONFIGURED)) marker("AUTHZ_CONFIG");
      config = null;
    }
  }
  (function walk(value, path) {
    if (typeof value === "string" && value.includes(UNCONFIGURED)) marker(path);
    else if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[${i}]`));
    else if (value && typeof value === "object")
      for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`);
  })(config, "AUTHZ_CONFIG");
  if (!dev) {
    const host = (variable, value) => {
      if (typeof value !== "string" || value === "" || value.includes(UNCONFIGURED)) return;
      let hostname;
      try {
        hostname = new URL(value).hostname;
      } catch {
        return;
      }
      const kind = placeholderHost(hostname);
      if (kind) found.push({ variable, problem: `${hostname} is ${kind}` });
    };
    host("UPSTREAM", env.UPSTREAM);
    host("POLICIES_URL", env.POLICIES_URL);
    const issuers = Array.isArray(config?.issuers) ? config.issuers : [];
    issuers.forEach((issuer, i) => {
      host(`AUTHZ_CONFIG.issuers[${i}].jwksUri`, issuer?.jwksUri);
      host(`AUTHZ_CONFIG.issuers[${i}].issuer`, issuer?.issuer);
    });
  }
  if (found.length === 0) return;
  const message =
    `not configured: ${found.map(({ variable, problem }) => `${variable} (${problem})`).join(", ")}. ` +
    "Set UPSTREAM to your origin's URL (empty: the request's own URL, for a Worker on a route) and " +
    "AUTHZ_CONFIG.issuers to your user pool or OIDC issuer, in wrangler.toml's [vars] or the dashboard, then deploy again; " +
    'loopback and example hosts are accepted only with ENVIRONMENT = "dev" (local development). Every request is answered 503 until then.';
  throw new UnconfiguredError(
    message,
    found.map(({ variable }) => variable),
  );
}

/** @param {string} hostname as `URL` gives it (lower case, IPv4 normalised, IPv6 in brackets) @returns {string | null} */
function placeholderHost(hostname) {
  const host = hostname.replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host))
    return "a loopback host";
  if (host === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host)) return "a loopback host";
  if (host === "0.0.0.0" || host === "[::]") return "the unspecified address";
  if (/(^|\.)(test|example|invalid)$/.test(host) || /(^|\.)example\.(com|net|org)$/.test(host))
    return "a reserved example name";
  return null;
}

let wasmReady = false;

/** @param {Env} env @returns {Promise<State>} */
async function buildState(env, log) {
  if (!wasmReady) {
    initSync({ module: wasmModule });
    wasmReady = true;
  }
  refuseUnconfigured(env);
  const options = parseOptions(env);
  if (env.AUTHZ_CONFIG === undefined) {
    throw new ConfigError(
      "AUTHZ_CONFIG is not set: put the edge-authz configuration in wrangler.toml's [vars.AUTHZ_CONFIG] (js/README.md)",
      {
        variables: ["AUTHZ_CONFIG"],
      },
    );
  }
  const config = jsonText(env.AUTHZ_CONFIG);
  const authorizer = new EdgeAuthorizer(
    { Authorizer, Request: WasmRequest },
    {
      config,
      hashKey: crypto.getRandomValues(new Uint8Array(8)),
      explain: options.explain,
      io: {
        fetchJwks: jwksFetcher(env, options),
        loadPolicies: options.policiesUrl
          ? urlPolicyLoader({
              url: options.policiesUrl,
              ttlSeconds: options.policiesUrlTtl,
              timeoutMs: options.policiesTimeoutMs,
            })
          : kvPolicyLoader(env),
        policiesTimeoutMs: options.policiesTimeoutMs,
        loadRevocations: kvRevocationLoader(env),
        revocationsTimeoutMs: options.revocationsTimeoutMs,
        verifySignature: webCryptoVerifier(),
        log,
      },
    },
  );
  if (env.METRICS !== undefined && typeof env.METRICS?.writeDataPoint !== "function") {
    throw new ConfigError(
      "METRICS is bound but is not a Workers Analytics Engine dataset (no writeDataPoint): bind one with " +
        '[[analytics_engine_datasets]] binding = "METRICS" in wrangler.toml (js/README.md, "Metrics and a claim check in the Worker"), or unbind it. ' +
        "Every request is answered 503 until then.",
      { variables: ["METRICS"] },
    );
  }
  // Fail closed: a configuration that asks for revocation must never run without its records.
  if (authorizer.loadsRevocations && !isKvNamespace(env.REVOCATIONS)) {
    throw new ConfigError(
      "AUTHZ_CONFIG has a revocation section but the Worker has no REVOCATIONS KV binding: add " +
        '[[kv_namespaces]] binding = "REVOCATIONS" to wrangler.toml (js/README.md, "Revocation"), or remove ' +
        "the section. Every request is answered 503 until then.",
      { variables: ["REVOCATIONS"] },
    );
  }
  return { options, authorizer, log };
}

/**
 * Authorizes the path of `request.url` and forwards exactly the canonical path it authorized.
 * workerd hands the Worker a URL it has already parsed: dot segments (`/v1/../v2`, `%2e%2e`)
 * are resolved, `\` is `/`, a fragment is gone, and `"`, `{`, `}`, `<`, `>`, `^`, `` ` ``
 * and non-ASCII are percent-encoded; the path as the client sent it is not available. That
 * parsed path is what the Worker authorizes and, canonicalised, what it sends to the origin,
 * so the two agree; `%2F`, `%5C`, `%61`, `;`, `//`, `%00` reach the core as sent.
 * @param {State} state @param {Request} request @param {number} now @param {ExecutionContext} ctx
 * @param {Env} env @param {{ hooks: { claimCheck: ClaimCheck | null }, started: number, report: { done: boolean } }} per
 */
async function handle({ options, authorizer, log }, request, now, ctx, env, { hooks, started, report }) {
  const url = new URL(request.url);
  if (request.method === "OPTIONS" && isPreflight(request) && options.cors.preflight !== "authorize") {
    if (options.cors.preflight === "answer") return answerPreflight(request, options);
    log({ event: "authz", reason: "preflight_passed", status: 0, method: request.method, path: url.pathname });
    return forward(request, url, url.pathname, options, null, null);
  }
  pendingWaitUntil = ctx;
  const input = {
    method: request.method,
    path: url.pathname,
    headers: request.headers,
    query: url.searchParams,
    sourceIp: request.headers.get("cf-connecting-ip"),
    secureTransport: url.protocol === "https:",
  };
  let decision = await authorizer.authorize(input, now);
  // The hook judges the path the origin will get (`decision.path`, canonical: `/v1/%61dmin`
  // is `/v1/admin`; lower-cased under `caseSensitive: false`, as the core matched it), never
  // the one received: a refusal by path must not be walked around.
  if (hooks.claimCheck !== null && decision.outcome === "allow")
    decision = await checkClaims(
      () => hooks.claimCheck(decision.context, authorizer.claimCheckRequest(input, decision), env),
      decision,
      authorizer,
      log,
    );
  log(decisionLogEvent(decision, request.method, url.pathname));
  recordDecision(env, request, decision, started, report);
  const reasonHeader = options.exposeReason ? decision.reason : null;
  if (decision.outcome === "allow")
    return forward(request, url, decision.path, options, decision.context, reasonHeader);
  return deny(decision, request, options, reasonHeader);
}

/** The ExecutionContext of the request being served, for background KV writes. */
let pendingWaitUntil = null;

function isPreflight(request) {
  return request.headers.has("origin") && request.headers.has("access-control-request-method");
}

function answerPreflight(request, options) {
  const headers = new Headers({ vary: "origin" });
  const origin = allowedOrigin(request, options);
  if (origin) {
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-allow-methods", options.cors.methods);
    headers.set("access-control-allow-headers", options.cors.headers);
    headers.set("access-control-max-age", options.cors.maxAge);
  }
  return new Response(null, { status: 204, headers });
}

function allowedOrigin(request, options) {
  const origin = request.headers.get("origin");
  if (!origin || options.cors.preflight !== "answer") return null;
  if (options.cors.origins.includes("*")) return "*";
  return options.cors.origins.includes(origin) ? origin : null;
}

/** The host layer's denial (`denialResponse`: never cached), with CORS and the reason header. */
function deny(decision, request, options, reasonHeader) {
  const { status, headers: denialHeaders, body } = denialResponse(decision);
  const headers = new Headers(denialHeaders);
  const origin = allowedOrigin(request, options);
  if (origin) {
    headers.set("access-control-allow-origin", origin);
    headers.set("vary", "origin");
  }
  if (reasonHeader) headers.set(REASON_HEADER, reasonHeader);
  return new Response(body, { status, headers });
}

function unavailable(reason = null) {
  const { status, headers: denialHeaders, body } = denialResponse(null);
  const headers = new Headers(denialHeaders);
  if (reason) headers.set(REASON_HEADER, reason);
  return new Response(body, { status, headers });
}

/**
 * Forwards to the origin: `path` (the canonical one authorized, in wire form) and the query
 * as received; identity headers replace any the client sent under the prefix (in any case,
 * with `-` or `_`: a CGI, WSGI, Rack or PHP origin reads `X_Authz_Sub` as `X-Authz-Sub`), and
 * method-override headers are dropped (`X-HTTP-Method-Override: DELETE` on an authorized
 * `POST` would have the origin route a method that was not authorized).
 * @param {string} path
 * @param {Record<string, string | number | boolean> | null} context null for preflights
 */
async function forward(request, url, path, options, context, reasonHeader) {
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (options.identityHeaders.test(name) || METHOD_OVERRIDE_HEADER.test(name)) continue;
    if (name === "authorization" && !options.forwardAuthorization) continue;
    headers.append(name, value);
  }
  for (const [name, value] of identityHeaders(options.prefix, context)) headers.set(name, value);
  const base = options.upstream
    ? `${options.upstream.origin}${options.upstream.pathname.replace(/\/$/, "")}`
    : url.origin;
  const target = `${base}${path}${url.search}`;
  const response = await fetch(target, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? null : request.body,
    redirect: "manual",
  });
  if (!reasonHeader) return response;
  const copy = new Response(response.body, response);
  copy.headers.set(REASON_HEADER, reasonHeader);
  return copy;
}

const utf8Decoder = new TextDecoder();

/** JWKS from the issuer (the host layer's `fetchJwks`), with an optional KV copy so a fresh isolate need not refetch. */
function jwksFetcher(env, options) {
  /** @type {Set<number>} issuers fetched by this isolate: later fetches always go to the network */
  const fetchedHere = new Set();
  return async function fetchJwksOrKvCopy(url, issuer) {
    const kv = env.JWKS_CACHE;
    const kvKey = `jwks:${url}`;
    if (kv && !fetchedHere.has(issuer)) {
      fetchedHere.add(issuer);
      try {
        const copy = await kv.get(kvKey, "json");
        if (copy && Date.now() / 1000 - copy.fetchedAt < options.jwksKvMaxAge)
          return new TextEncoder().encode(copy.body);
      } catch {
        // The KV copy is an optimisation: fall through to the issuer.
      }
    }
    fetchedHere.add(issuer);
    // As text, as the KV copy keeps it (`response.text()`'s decoding: UTF-8, a BOM dropped).
    const body = utf8Decoder.decode(await fetchJwks(url, { timeoutMs: options.jwksTimeoutMs }));
    if (kv) {
      const write = kv.put(kvKey, JSON.stringify({ fetchedAt: Math.floor(Date.now() / 1000), body })).catch(() => {});
      pendingWaitUntil?.waitUntil(write);
    }
    return new TextEncoder().encode(body);
  };
}

/** Whether `value` looks like a KV namespace binding (what the Worker calls on it). */
function isKvNamespace(value) {
  return typeof value?.get === "function";
}

/**
 * Revocation records from the `REVOCATIONS` KV namespace: key = the record's key
 * (`user#{iss}#{sub}`, ...), value = the record's JSON. A caller's keys are read in
 * parallel; any failed read fails the whole batch (the core answers per
 * `revocation.whenUnavailable`).
 */
function kvRevocationLoader(env) {
  return async function loadRevocations(keys) {
    const kv = env.REVOCATIONS;
    if (!isKvNamespace(kv)) throw new AuthzError("no_revocation_store", "no REVOCATIONS KV binding");
    // One KV read for all of the caller's keys (bulk get: up to 100 keys, a Map back).
    const values = await kv.get(keys, "text");
    if (!(values instanceof Map)) throw new AuthzError("revocation_store_failed", "REVOCATIONS: bulk get gave no Map");
    return new Map(keys.map((key) => [key, values.get(key) ?? null]));
  };
}

/** Policies from the `POLICIES` KV namespace: key = group, value = policy JSON. */
function kvPolicyLoader(env) {
  return async function loadPolicies(groups) {
    const kv = env.POLICIES;
    if (!kv) throw new PolicyLoadError("no_policy_store", "no POLICIES KV binding");
    const values = await Promise.all(groups.map((group) => kv.get(group, "text")));
    return new Map(groups.map((group, i) => [group, storedPolicy(values[i])]));
  };
}
