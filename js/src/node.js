// Node.js: `createAuthorizer(config, options)` → `authorize({method, path, headers, sourceIp})`.
// The wasm core decides; this module answers its needs with Node's I/O: JWKS over `fetch`
// (timeout, one fetch per issuer in flight, refreshed when the core sees an unknown `kid`),
// signatures with node:crypto (synchronously), policies from a file, an object, a URL
// (ETag + TTL) or the caller's own async function, revocation records from a URL or the
// caller's own async function.

import { readFileSync } from "node:fs";
import { constants, createPublicKey, randomBytes, verify as cryptoVerify } from "node:crypto";
import { selectBackend } from "./backend.js";
import { EdgeAuthorizer, isRepeatCaller, matchingFlags } from "./authorizer.js";
import {
  AuthzError,
  codeOf,
  ConfigError,
  JwksError,
  messageOf,
  PolicyLoadError,
  RequestError,
  UnconfiguredError,
} from "./errors.js";
import {
  DEFAULT_JWKS_TIMEOUT_MS,
  DEFAULT_POLICIES_TIMEOUT_MS,
  DEFAULT_POLICIES_TTL_SECONDS,
  DEFAULT_REVOCATIONS_TIMEOUT_MS,
  DEFAULT_REVOCATIONS_TTL_SECONDS,
  checkClaims,
  fetchJwks,
  isPlainObject,
  jsonText,
  parseJsonStrict,
  safeLog,
  storedPolicy,
  urlPolicyLoader,
  urlRevocationLoader,
} from "./host.js";
import { resolvedDotSegments, ROUTER_REFUSAL } from "./identity.js";

export { AuthzError, ConfigError, JwksError, PolicyLoadError, RequestError, UnconfiguredError };

/** node:crypto parameters per JWS algorithm: [digest, extra verify options or null]. */
const NODE_ALGORITHMS = {
  RS256: ["sha256", null],
  RS384: ["sha384", null],
  RS512: ["sha512", null],
  PS256: ["sha256", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  PS384: ["sha384", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }],
  PS512: ["sha512", { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }],
  ES256: ["sha256", { dsaEncoding: "ieee-p1363" }],
  ES384: ["sha384", { dsaEncoding: "ieee-p1363" }],
  EdDSA: [null, null],
};

/** Public keys parsed from JWKs are kept: parsing costs more than verifying. */
const MAX_CACHED_KEYS = 64;

/**
 * A synchronous verifier backed by node:crypto. The core chose the key and the algorithm
 * (never the token); this only checks the signature. Imported keys are kept by `keyId`
 * (the core's stable key id) or, without one, by JWK text. Used inline by the core
 * (`verifySignatureSync`): for a `keyId` it already imported, the core passes no `jwk`;
 * for an unknown one it answers `undefined` and the core calls again with the JWK.
 * @returns {(check: import("./webcrypto.js").SignatureCheck) => boolean | undefined}
 */
export function nodeCryptoVerifier() {
  /** @type {Map<number | string, import("node:crypto").KeyObject>} */
  const keys = new Map();
  return function verifySignature({ algorithm, keyId, jwk, signingInput, signature }) {
    const params = NODE_ALGORITHMS[/** @type {keyof typeof NODE_ALGORITHMS} */ (algorithm)];
    if (!params) return false;
    const cacheKey = keyId ?? jwk;
    let key = keys.get(cacheKey);
    if (!key) {
      if (jwk === undefined) return undefined;
      if (keys.size >= MAX_CACHED_KEYS) keys.clear();
      key = createPublicKey({ key: JSON.parse(jwk), format: "jwk" });
      keys.set(cacheKey, key);
    }
    const data = typeof signingInput === "string" ? Buffer.from(signingInput, "latin1") : signingInput;
    // Without options the KeyObject goes as it is: no options object per check.
    return cryptoVerify(params[0], data, params[1] === null ? key : { key, ...params[1] }, signature);
  };
}

/** @param {string} where @param {string} message */
function configError(where, message) {
  return new ConfigError(`${where}: ${message}`);
}

/** The configuration as an object, from an object or JSON text. */
function parseConfig(config) {
  if (typeof config === "string") {
    try {
      config = parseJsonStrict(config);
    } catch (error) {
      throw configError("config", error.code === "repeated_member" ? error.message : `not JSON: ${error.message}`);
    }
  }
  if (!isPlainObject(config))
    throw configError("config", "must be the edge-authz configuration, an object or its JSON text");
  return config;
}

/** A policy document `{"groups": {name: policy | null}}`, checked. */
function policyDocument(document, where) {
  if (!isPlainObject(document) || !isPlainObject(document.groups))
    throw configError(where, 'must be a policy document {"groups": {"<group>": <policy> | null}}');
  const extra = Object.keys(document).filter((name) => name !== "groups");
  if (extra.length)
    throw configError(where, `unknown member ${extra.map((n) => `\`${n}\``).join(", ")} (only \`groups\`)`);
  return document;
}

function readJsonFile(path, where) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw configError(where, `cannot read ${path}: ${error.code ?? error.message}`);
  }
  try {
    return parseJsonStrict(text);
  } catch (error) {
    throw configError(where, `${path}${error.code === "repeated_member" ? ": " : " is not JSON: "}${error.message}`);
  }
}

function nonNegative(value, fallback, where) {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw configError(where, `must be a non-negative number, not ${JSON.stringify(value)}`);
  return value;
}

/**
 * Resolves `options.policies` into either bundled groups (merged into the configuration, so
 * the core validates them now) or a loader the core calls per group.
 */
function resolvePolicies(policies, fetchImpl) {
  if (policies === undefined || policies === null) return { groups: null, loader: null };
  if (typeof policies === "function") return { groups: null, loader: functionPolicyLoader(policies) };
  if (typeof policies === "string" || policies instanceof URL) {
    const url = policies instanceof URL ? policies : /^https?:\/\//i.test(policies) ? new URL(policies) : null;
    if (url && url.protocol !== "file:") return { groups: null, loader: urlPolicyLoader({ url, fetch: fetchImpl }) };
    const document = readJsonFile(url ?? policies, "options.policies");
    return { groups: policyDocument(document, `options.policies (${policies})`).groups, loader: null };
  }
  if (isPlainObject(policies) && "url" in policies) {
    let url;
    try {
      url = new URL(policies.url);
    } catch {
      throw configError("options.policies.url", `not a URL: ${JSON.stringify(policies.url)}`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw configError("options.policies.url", `must be http(s), not ${url.protocol}`);
    const extra = Object.keys(policies).filter((n) => !["url", "ttlSeconds", "timeoutMs"].includes(n));
    if (extra.length)
      throw configError("options.policies", `unknown member \`${extra[0]}\` (url, ttlSeconds, timeoutMs)`);
    return {
      groups: null,
      loader: urlPolicyLoader({
        url,
        ttlSeconds: nonNegative(policies.ttlSeconds, DEFAULT_POLICIES_TTL_SECONDS, "options.policies.ttlSeconds"),
        timeoutMs: nonNegative(policies.timeoutMs, DEFAULT_POLICIES_TIMEOUT_MS, "options.policies.timeoutMs"),
        fetch: fetchImpl,
      }),
    };
  }
  if (isPlainObject(policies) && "file" in policies) {
    return {
      groups: policyDocument(
        readJsonFile(policies.file, "options.policies.file"),
        `options.policies.file (${policies.file})`,
      ).groups,
      loader: null,
    };
  }
  return { groups: policyDocument(policies, "options.policies").groups, loader: null };
}

/** The caller's function: `(groups) => Promise<Map | Record<group, policy | null>>`. */
function functionPolicyLoader(load) {
  return async function loadPolicies(groups) {
    const loaded = await load([...groups]);
    const get =
      loaded instanceof Map
        ? (g) => loaded.get(g)
        : isPlainObject(loaded)
          ? (g) => (Object.hasOwn(loaded, g) ? loaded[g] : null)
          : null;
    if (!get)
      throw new PolicyLoadError(
        "policy_store_failed",
        "the policies function must resolve to a Map or an object keyed by group",
      );
    return new Map(groups.map((group) => [group, storedPolicy(get(group))]));
  };
}

/**
 * Resolves `options.revocations` into a loader the core calls with the keys of a caller's
 * records: `{url, ttlSeconds?, timeoutMs?}` (a document `{"revocations": {key: record}}`,
 * read as a policy URL is) or the caller's function. `freshness`: the configuration's
 * `revocation.freshnessSeconds`, which a URL's TTL may not exceed.
 */
function resolveRevocations(revocations, fetchImpl, freshness) {
  if (revocations === undefined || revocations === null) return null;
  if (typeof revocations === "function") return functionRevocationLoader(revocations);
  if (!isPlainObject(revocations) || !("url" in revocations))
    throw configError(
      "options.revocations",
      "must be {url, ttlSeconds?, timeoutMs?} or an async function (keys) => records",
    );
  const extra = Object.keys(revocations).filter((n) => !["url", "ttlSeconds", "timeoutMs"].includes(n));
  if (extra.length)
    throw configError("options.revocations", `unknown member \`${extra[0]}\` (url, ttlSeconds, timeoutMs)`);
  let url;
  try {
    url = new URL(revocations.url);
  } catch {
    throw configError("options.revocations.url", `not a URL: ${JSON.stringify(revocations.url)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw configError("options.revocations.url", `must be http(s), not ${url.protocol}`);
  const ttlSeconds = nonNegative(
    revocations.ttlSeconds,
    Math.min(DEFAULT_REVOCATIONS_TTL_SECONDS, freshness),
    "options.revocations.ttlSeconds",
  );
  if (ttlSeconds > freshness)
    throw configError(
      "options.revocations.ttlSeconds",
      `${ttlSeconds} is longer than revocation.freshnessSeconds (${freshness}): a revocation would take up to ttlSeconds + freshnessSeconds to take effect`,
    );
  return urlRevocationLoader({
    url,
    ttlSeconds,
    timeoutMs: nonNegative(revocations.timeoutMs, DEFAULT_REVOCATIONS_TIMEOUT_MS, "options.revocations.timeoutMs"),
    fetch: fetchImpl,
  });
}

/** The caller's function: `(keys) => Promise<Map | Record<key, record | null>>`. */
function functionRevocationLoader(load) {
  return async function loadRevocations(keys) {
    const loaded = await load([...keys]);
    const get =
      loaded instanceof Map
        ? (k) => loaded.get(k)
        : isPlainObject(loaded)
          ? (k) => (Object.hasOwn(loaded, k) ? loaded[k] : null)
          : null;
    if (!get)
      throw new AuthzError(
        "revocation_store_failed",
        "the revocations function must resolve to a Map or an object keyed by record key",
      );
    return new Map(keys.map((key) => [key, storedPolicy(get(key))]));
  };
}

/** Each configured issuer's `iss`, as the core matches tokens to it (records are per issuer). */
function issuerNames(config) {
  return (Array.isArray(config.issuers) ? config.issuers : []).map((issuer) =>
    typeof issuer?.issuer === "string"
      ? issuer.issuer
      : `https://cognito-idp.${String(issuer?.userPoolId).split("_")[0]}.amazonaws.com/${issuer?.userPoolId}`,
  );
}

/** JWKS over `fetch`; a preloaded copy (by JWKS URL) answers only the first fetch of each URL. */
function jwksFetcher({ timeoutMs, preloaded, fetchImpl }) {
  const used = new Set();
  return async function fetchOrPreloaded(url) {
    if (preloaded.has(url) && !used.has(url)) {
      used.add(url);
      return preloaded.get(url);
    }
    return fetchJwks(url, { fetch: fetchImpl, timeoutMs });
  };
}

function preloadedJwks(jwks) {
  const map = new Map();
  if (jwks === undefined || jwks === null) return map;
  if (!isPlainObject(jwks)) throw configError("options.jwks", "must be an object {jwksUri: JWK Set}");
  const encoder = new TextEncoder();
  for (const [url, document] of Object.entries(jwks)) {
    if (!isPlainObject(document) && typeof document !== "string")
      throw configError(`options.jwks["${url}"]`, "must be a JWK Set (object or JSON text)");
    map.set(url, encoder.encode(jsonText(document)));
  }
  return map;
}

/** The default log: failures and warnings as JSON lines on stderr; never tokens. */
function defaultLog(event) {
  if (event.event !== "jwks_fetched") process.stderr.write(`${JSON.stringify({ source: "edge-authz", ...event })}\n`);
}

/** More header pairs than this is not a request: refuse it rather than read forever. */
const MAX_HEADER_PAIRS = 10000;

/**
 * Headers from Node's `{name: value | value[]}`, a `Headers`, a `Map`, `[name, value]` pairs
 * or any iterable of them (a generator included), read exactly once into `[name, value]`
 * strings: the memo and the core must see the same headers, and a one-shot iterable can be
 * read only once.
 * @returns {Array<[string, string]>}
 */
function headerPairs(headers) {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== "object")
    throw new RequestError("authorize: headers must be an object, a Headers, a Map or [name, value] pairs");
  /** @type {Array<[string, string]>} */
  const pairs = [];
  if (typeof headers[Symbol.iterator] === "function") {
    for (const pair of headers) {
      if (!Array.isArray(pair) || pair.length !== 2)
        throw new RequestError("authorize: headers must be an object, a Headers, a Map or [name, value] pairs");
      if (pairs.length === MAX_HEADER_PAIRS) throw tooManyHeaders();
      pairs.push([String(pair[0]), String(pair[1])]);
    }
    return pairs;
  }
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value) pairs.push([name, String(item)]);
    } else {
      pairs.push([name, String(value)]);
    }
    if (pairs.length > MAX_HEADER_PAIRS) throw tooManyHeaders();
  }
  return pairs;
}

const tooManyHeaders = () => new RequestError(`authorize: more than ${MAX_HEADER_PAIRS} headers`);

/** `::ffff:192.0.2.1` (an IPv4 client on a dual-stack socket) → `192.0.2.1`. */
export function normalizeIp(ip) {
  if (ip === undefined || ip === null || ip === "") return null;
  const text = String(ip);
  return text.startsWith("::ffff:") && text.includes(".") ? text.slice(7) : text;
}

/**
 * Memoised decisions per second: the same request within the same second, nothing reloaded.
 * Bounded by entries and by bytes: each Map level of an entry counts its key's length plus
 * `MEMO_LEVEL_BYTES` (a small Map's own size in V8, measured: ~350 KiB for an entry of 1,000
 * headers before the bound), and a request whose entry alone would exceed
 * `MAX_MEMO_ENTRY_BYTES` is not memoised (it would evict everything for one caller).
 */
const MAX_MEMO = 4096;
const MAX_MEMO_BYTES = 8 * 1024 * 1024;
const MAX_MEMO_ENTRY_BYTES = 64 * 1024;
const MEMO_LEVEL_BYTES = 160;

/** A copy: callers may change `decision.context` (e.g. via `req.auth`) without touching the memo. */
const copyOf = (decision) => ({ ...decision, context: { ...decision.context } });

/**
 * The key of the authorizer's entry for the adapters (Express, Fastify, Lambda@Edge): see
 * `NodeAuthorizer#decide`. A registered symbol, so that an authorizer made by `require`
 * serves a middleware loaded by `import` alike.
 */
export const ADAPTER_AUTHORIZE = Symbol.for("edge-authz.adapterAuthorize");

/** Reasons given once the caller is known: `principal` is reported for them. */
const CALLER_KNOWN_REASONS = new Set([
  "allowed",
  "explicit_deny",
  "implicit_deny",
  "invalid_policy",
  "policies_unavailable",
  "claim_check_failed",
]);

/**
 * The Node authorizer. Build it once per process (module scope) and share it.
 */
export class NodeAuthorizer {
  #glue;
  #now;
  /** @type {((event: object) => unknown) | null} */
  #onDecision = null;
  /** @type {((claims: object, request: object) => unknown) | null} */
  #claimCheck = null;
  #log;
  /** @type {{ responseFor(reason: string): object }} the core's answers for decisions made here (claim check, router refusal) */
  #responses;
  /** @type {Array<{ index: number, jwksUri: string }>} */
  #issuers;
  /** @type {string[]} each issuer's `iss` */
  #issuerNames;
  /** @type {Map<unknown, any>} request → decision (see `memoLeaf`), for `#memoSecond` and `#memoGeneration` only */
  #memo = new Map();
  #memoSize = 0;
  #memoBytes = 0;
  #memoSecond = -1;
  #memoGeneration = -1;

  /** @internal use `createAuthorizer` */
  constructor(
    glue,
    now,
    { onDecision = null, claimCheck = null, log = () => {}, responses, issuers = [], issuerNames = [] } = {},
  ) {
    this.#glue = glue;
    this.#now = now;
    this.#onDecision = onDecision;
    this.#claimCheck = claimCheck;
    this.#log = log;
    this.#responses = responses;
    this.#issuers = issuers;
    this.#issuerNames = issuerNames;
  }

  /**
   * Fetches every configured issuer's JWKS now (a preloaded one from `options.jwks` counts as
   * its first fetch), so that the first requests do not wait for them. Resolves when every
   * issuer's keys are in; rejects with an `AuthzError` naming each JWKS URL that failed
   * (`code` the first failure's). The authorizer works either way: an issuer whose keys
   * could not be fetched is fetched again on the first request that needs them.
   * @returns {Promise<void>}
   */
  async hydrate() {
    const now = this.#now();
    const results = await Promise.allSettled(
      this.#issuers.map(({ index, jwksUri }) => this.#glue.prefetchJwks(index, jwksUri, now)),
    );
    const failures = results
      .filter((result) => result.status === "rejected")
      .map((result) => /** @type {PromiseRejectedResult} */ (result).reason);
    if (failures.length === 0) return;
    throw new JwksError(
      codeOf(failures[0], "jwks_fetch_failed"),
      `hydrate: ${failures.map((failure) => failure?.message ?? String(failure)).join("; ")}`,
    );
  }

  /**
   * Which build of the core decides: `"native"` (this platform's addon, signatures by
   * aws-lc-rs) or `"wasm"` (everywhere; signatures by node:crypto). See `options.backend`.
   */
  get backend() {
    return this.#glue.backend;
  }

  /** Whether policies come from `options.policies` (URL or function) rather than bundled ones. */
  get loadsPolicies() {
    return this.#glue.loadsPolicies;
  }

  /** Whether revocation records come from `options.revocations` (the configuration's `revocation.store` is external). */
  get loadsRevocations() {
    return this.#glue.loadsRevocations;
  }

  /**
   * Revokes in this process, at once (decisions cached or memoised before are not served
   * after it): `{sub, before?}` the user's tokens issued at or before `before` (seconds,
   * default now), `{originJti}` every token of one sign-in, `{jti}` one token. `issuer` (the
   * tokens' `iss`) defaults to the only configured issuer; `expiresAt` (seconds) is when the
   * record may be forgotten (default: never, for the process's life). Other processes and
   * the store are not told: write the record to the store for those. Returns the record's
   * key. Throws an `AuthzError`: `revocation_off` (no `revocation` section in the
   * configuration), `invalid_revocation` (a bad argument).
   * @param {{ sub: string, before?: number } | { originJti: string } | { jti: string }} what
   * @param {{ issuer?: string, expiresAt?: number }} [options]
   * @returns {string}
   */
  revoke(what, { issuer, expiresAt } = {}) {
    if (!isPlainObject(what))
      throw new AuthzError("invalid_revocation", "revoke: expected {sub, before?}, {originJti} or {jti}");
    const given = ["sub", "originJti", "jti"].filter((name) => what[name] !== undefined);
    if (given.length !== 1)
      throw new AuthzError("invalid_revocation", "revoke: give exactly one of sub, originJti, jti");
    const [name] = given;
    const extra = Object.keys(what).filter((n) => n !== name && !(n === "before" && name === "sub"));
    if (extra.length) throw new AuthzError("invalid_revocation", `revoke: unknown member \`${extra[0]}\` with ${name}`);
    const value = what[name];
    if (typeof value !== "string" || value === "")
      throw new AuthzError("invalid_revocation", `revoke: ${name} must be a non-empty string`);
    const seconds = (v, where) => {
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
        throw new AuthzError("invalid_revocation", `revoke: ${where} must be seconds since the epoch`);
      return Math.floor(v);
    };
    if (issuer === undefined) {
      if (this.#issuerNames.length !== 1)
        throw new AuthzError(
          "invalid_revocation",
          `revoke: ${this.#issuerNames.length} issuers are configured: name one ({issuer})`,
        );
      [issuer] = this.#issuerNames;
    } else if (typeof issuer !== "string" || issuer === "") {
      throw new AuthzError("invalid_revocation", "revoke: issuer must be the tokens' `iss`");
    }
    const kind = name === "sub" ? "user" : name === "originJti" ? "session" : "token";
    return this.#glue.revoke(
      kind,
      issuer,
      value,
      seconds(what.before, "before"),
      seconds(expiresAt, "expiresAt"),
      this.#now(),
    );
  }

  /**
   * Decides one request. Rejects (with `code: "invalid_request"`) only on malformed input;
   * every other failure is a decision (503 `unavailable`), never an allow. A path that is
   * not an origin-form path the core accepts is a decision too (400 `bad_request`).
   *
   * A decision is remembered for the rest of the second for exactly the same request (method,
   * path, query, every header, address, router matching) while no keys or policies are
   * (re)loaded: the core would decide it the same way, and a repeated token then costs no
   * trip into the wasm.
   * @param {{ method: string, path: string, headers?: any, query?: any, sourceIp?: string | null, secureTransport?: boolean | null, methodArn?: string | null, matching?: import("./authorizer.js").PathMatching | null }} input
   */
  authorize(input) {
    // Without the hooks, nothing but the core's decision: no extra promise or object.
    return this.#onDecision === null && this.#claimCheck === null
      ? this.#coreDecision(input)
      : this.#decide(input, undefined);
  }

  /**
   * The adapters' entry: `authorize`, and, given the request-target the app's router gets
   * (`routed`), the router's refusal of a path it would route otherwise (see
   * `resolvedDotSegments`), so that `onDecision` reports what the client is answered; a
   * failure (a rejection) is reported as the 503 the adapter answers.
   * @internal
   * @param {any} input
   * @param {string | null} routed null: no router (Lambda@Edge)
   */
  [ADAPTER_AUTHORIZE](input, routed) {
    // Without the hooks the adapter refuses the router's mismatch itself, as before.
    return this.#onDecision === null && this.#claimCheck === null
      ? this.#coreDecision(input)
      : this.#decide(input, routed);
  }

  /**
   * The core's decision, then `claimCheck` (allows only), then the router's refusal, then
   * `onDecision`. Without those options, no more work than the core's decision.
   * @param {any} input
   * @param {string | null | undefined} routed undefined: the public `authorize`
   */
  async #decide(input, routed) {
    const onDecision = this.#onDecision;
    const started = onDecision === null ? 0 : performance.now();
    let decision;
    try {
      decision = await this.#coreDecision(input);
      if (this.#claimCheck !== null && decision.outcome === "allow")
        decision = await checkClaims(
          () =>
            /** @type {Function} */ (this.#claimCheck)(decision.context, this.#glue.claimCheckRequest(input, decision)),
          decision,
          this.#responses,
          (event) => this.#safeLog(event),
        );
      if (typeof routed === "string" && resolvedDotSegments(routed, decision))
        decision = this.#responses.responseFor("path_router_mismatch");
    } catch (error) {
      if (onDecision !== null && routed !== undefined) this.#report(onDecision, FAILED, input, started);
      throw error;
    }
    if (onDecision !== null) this.#report(onDecision, decision, input, started);
    return decision;
  }

  /** Calls `onDecision` with what was decided; a hook that throws or rejects is logged, never answered. */
  #report(onDecision, decision, input, started) {
    const method = typeof input?.method === "string" ? input.method.toUpperCase() : String(input?.method);
    const path = typeof input?.path === "string" ? pathOnly(input.path) : String(input?.path);
    /** @type {Record<string, unknown>} */
    const event = { outcome: decision.outcome, reason: decision.reason, status: decision.status, method, path };
    if (typeof decision.path === "string" && decision.path !== path) event.authorizedPath = decision.path;
    event.latencyMs = performance.now() - started;
    const sub = decision.context?.sub;
    if (sub !== undefined && (decision.outcome === "allow" || CALLER_KNOWN_REASONS.has(decision.reason)))
      event.principal = sub;
    try {
      const returned = onDecision(event);
      if (typeof returned?.then === "function") returned.then(undefined, (error) => this.#hookFailed(error));
    } catch (error) {
      this.#hookFailed(error);
    }
  }

  #hookFailed(error) {
    this.#safeLog({ event: "on_decision_failed", message: messageOf(error) });
  }

  /** The user's `log`, which must not turn a decision into an error either. */
  #safeLog(event) {
    try {
      this.#log(event);
    } catch {
      // Nowhere left to report it.
    }
  }

  /** The core's decision, memoised for the rest of the second (see `authorize`). */
  async #coreDecision(input) {
    if (typeof input !== "object" || input === null)
      throw new RequestError("authorize: expected {method, path, headers, sourceIp}");
    const { method, path } = input;
    // Any strings: the core refuses a method that is not a token of letters, and a path that
    // is not origin-form (`http://h/x`, `*`), with a 400 decision, as it does on every runtime.
    if (typeof method !== "string")
      throw new RequestError(`authorize: method must be a string, not ${JSON.stringify(method)}`);
    if (typeof path !== "string")
      throw new RequestError(`authorize: path must be a string, not ${JSON.stringify(path)}`);
    const mark = path.indexOf("?");
    const request = {
      method: method.toUpperCase(),
      path: mark >= 0 ? path.slice(0, mark) : path,
      headers: headerPairs(input.headers),
      query: queryPairs(input.query, mark >= 0 ? path.slice(mark + 1) : null),
      sourceIp: normalizeIp(input.sourceIp),
      secureTransport: input.secureTransport ?? null,
      methodArn: input.methodArn ?? null,
      // The flags, not the object: checked once, part of the memo's key, and what the glue sets.
      matching: input.matching == null ? null : matchingFlags(input.matching),
    };
    const now = this.#now();
    const generation = this.#glue.generation;
    if (now !== this.#memoSecond || generation !== this.#memoGeneration) {
      this.#clearMemo();
      this.#memoSecond = now;
      this.#memoGeneration = generation;
    }
    const known = memoLeaf(this.#memo, request, false)?.get(END);
    if (known) return copyOf(known);
    const decision = await this.#glue.authorize(request, now);
    // Only a caller decided before (a one-off token's entry would cost more than it saves),
    // and only if nothing was reloaded meanwhile (by this request or a concurrent one).
    if (
      isRepeatCaller(decision) &&
      this.#glue.generation === generation &&
      this.#memoGeneration === generation &&
      this.#memoSecond === now &&
      this.#remember(request, decision)
    ) {
      return copyOf(decision);
    }
    // Not memoised: the glue's decision (and its context) is this caller's alone.
    return decision;
  }

  /** Stores `decision` for `request` within the bounds; false if it was not stored. */
  #remember(request, decision) {
    const bytes = memoBytes(request);
    if (bytes > MAX_MEMO_ENTRY_BYTES) return false;
    if (this.#memoSize + 1 > MAX_MEMO || this.#memoBytes + bytes > MAX_MEMO_BYTES) this.#clearMemo();
    this.#memoSize++;
    // An upper bound: levels shared with other entries are counted again.
    this.#memoBytes += bytes;
    memoLeaf(this.#memo, request, true)?.set(END, decision);
    return true;
  }

  #clearMemo() {
    this.#memo.clear();
    this.#memoSize = 0;
    this.#memoBytes = 0;
  }
}

/** The query as `[name, value]` strings, from `input.query` or else the path's `?` part. */
function queryPairs(query, fromPath) {
  if (query === undefined || query === null) return fromPath === null ? [] : [...new URLSearchParams(fromPath)];
  if (typeof query === "string" || query instanceof URLSearchParams) return [...new URLSearchParams(query)];
  const pairs =
    typeof query[Symbol.iterator] === "function" ? query : isPlainObject(query) ? Object.entries(query) : null;
  if (pairs === null)
    throw new RequestError("authorize: query must be a string, URLSearchParams, object or [name, value] pairs");
  /** @type {Array<[string, string]>} */
  const out = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2)
      throw new RequestError("authorize: query must be a string, URLSearchParams, object or [name, value] pairs");
    out.push([String(pair[0]), String(pair[1])]);
  }
  return out;
}

/**
 * The memo is a tree of Maps, one level per input the core reads (method, path, address,
 * transport, ARN, router matching, the query's length, every query pair, every header pair,
 * in order, then an end mark): no key string is built, and each header value is hashed on
 * its own. Every input is a level, so two requests that differ in any input the core reads
 * never reach the same leaf.
 * @param {Map<unknown, any>} root
 * @param {boolean} create
 * @returns {Map<unknown, any> | undefined} the leaf level; its `END` entry is the decision
 */
function memoLeaf(root, { method, path, headers, query, sourceIp, secureTransport, methodArn, matching }, create) {
  let level = root;
  const step = (part) => {
    let next = level.get(part);
    if (next === undefined) {
      if (!create) return false;
      next = new Map();
      level.set(part, next);
    }
    level = next;
    return true;
  };
  if (
    !step(method) ||
    !step(path) ||
    !step(sourceIp) ||
    !step(secureTransport) ||
    !step(methodArn) ||
    !step(matching) ||
    !step(query.length)
  )
    return undefined;
  for (const [name, value] of query) if (!step(name) || !step(value)) return undefined;
  for (const [name, value] of headers) if (!step(name) || !step(value)) return undefined;
  return level;
}

/** What an entry for `request` may keep, at most (see `MEMO_LEVEL_BYTES`). */
function memoBytes({ method, path, headers, query, sourceIp, methodArn }) {
  const fixedLevels = 8;
  let bytes =
    fixedLevels * MEMO_LEVEL_BYTES + method.length + path.length + (sourceIp?.length ?? 0) + (methodArn?.length ?? 0);
  for (const [name, value] of query) bytes += 2 * MEMO_LEVEL_BYTES + name.length + value.length;
  for (const [name, value] of headers) bytes += 2 * MEMO_LEVEL_BYTES + name.length + value.length;
  return bytes;
}

/** What an adapter answers when the authorizer fails (for `onDecision`). */
const FAILED = Object.freeze({ outcome: "unavailable", reason: "internal_error", status: 503 });

/** A request-target without its query. */
function pathOnly(path) {
  const mark = path.indexOf("?");
  return mark < 0 ? path : path.slice(0, mark);
}

/** Marks the end of a request's inputs (no header name or value is a symbol). */
const END = Symbol("end");

const OPTION_NAMES = [
  "backend",
  "policies",
  "policiesTimeoutMs",
  "revocations",
  "revocationsTimeoutMs",
  "jwks",
  "jwksTimeoutMs",
  "fetch",
  "now",
  "log",
  "explain",
  "onDecision",
  "claimCheck",
  "metrics",
];

/** The metric names (js/README.md, "Metrics"): OpenTelemetry's conventions, dots and a unit. */
const METRIC_DECISIONS = "edge_authz.decisions";
const METRIC_DURATION = "edge_authz.decision.duration";

/**
 * Bucket boundaries in ms for the duration histogram: a memoised or cached decision takes
 * microseconds, a first JWKS fetch or a store read tens to hundreds of milliseconds
 * (OpenTelemetry's default boundaries start at 5 ms, where they would put nearly every
 * decision in the first bucket).
 */
const DURATION_BUCKETS_MS = Object.freeze([
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
]);

/**
 * `options.metrics` (`{meter}`: an OpenTelemetry `Meter`, e.g. `metrics.getMeter("edge-authz")`
 * from `@opentelemetry/api`) → a recorder of `onDecision` events, or null. Nothing is
 * imported here: the caller's Meter (or any object of its shape) is used as it is.
 * @returns {((event: { outcome: string, reason: string, status: number, latencyMs: number }) => void) | null}
 */
function decisionMetrics(metrics) {
  if (metrics === undefined || metrics === null || metrics === false) return null;
  const meter = isPlainObject(metrics) ? metrics.meter : undefined;
  if (typeof meter?.createCounter !== "function" || typeof meter?.createHistogram !== "function")
    throw configError(
      "options.metrics",
      'must be {meter}: an OpenTelemetry Meter (import { metrics } from "@opentelemetry/api"; metrics.getMeter("edge-authz"))',
    );
  const extra = Object.keys(metrics).filter((name) => name !== "meter");
  if (extra.length) throw configError("options.metrics", `unknown member \`${extra[0]}\` (meter)`);
  const decisions = meter.createCounter(METRIC_DECISIONS, {
    description: "Authorization decisions, by outcome and reason",
    unit: "{decision}",
  });
  const duration = meter.createHistogram(METRIC_DURATION, {
    description: "Time from the authorize call to the decision",
    unit: "ms",
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
  });
  /** One frozen attribute set per (outcome, reason, status): a bounded set, no object per decision. */
  const attributeSets = new Map();
  return function recordDecision({ outcome, reason, status, latencyMs }) {
    const key = `${outcome} ${reason} ${status}`;
    let attributes = attributeSets.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({ outcome, reason, "http.response.status_code": status });
      attributeSets.set(key, attributes);
    }
    decisions.add(1, attributes);
    duration.record(latencyMs, attributes);
  };
}

/**
 * `onDecision` as the authorizer calls it: the metrics first (a meter that throws is logged
 * as `metrics_failed` and the user's hook still runs), then the user's hook.
 */
function decisionHook(onDecision, record, log) {
  if (record === null) return onDecision;
  return function reportDecision(event) {
    try {
      record(event);
    } catch (error) {
      try {
        log({ event: "metrics_failed", message: messageOf(error) });
      } catch {
        // Nowhere left to report it.
      }
    }
    return onDecision === null ? undefined : onDecision(event);
  };
}

/**
 * Builds an authorizer. Every configuration problem throws here (`code: "invalid_config"`,
 * the message says where), never per request.
 * @param {object | string} config the edge-authz configuration (object or JSON text)
 * @param {object} [options]
 */
export function createAuthorizer(config, options = {}) {
  if (!isPlainObject(options)) throw configError("options", "must be an object");
  const unknown = Object.keys(options).filter((name) => !OPTION_NAMES.includes(name));
  if (unknown.length)
    throw configError("options", `unknown option \`${unknown[0]}\` (known: ${OPTION_NAMES.join(", ")})`);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== "function")
    throw configError("options.fetch", "must be a function (Node >= 18 has a global fetch)");
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  if (typeof now !== "function")
    throw configError("options.now", "must be a function returning whole seconds since the epoch");
  const userLog = options.log === false ? () => {} : (options.log ?? defaultLog);
  if (typeof userLog !== "function") throw configError("options.log", "must be a function or false");
  const log = safeLog(userLog);
  const onDecision = options.onDecision ?? null;
  if (onDecision !== null && typeof onDecision !== "function")
    throw configError("options.onDecision", "must be a function (event) => void");
  const record = decisionMetrics(options.metrics);
  const claimCheck = options.claimCheck ?? null;
  if (claimCheck !== null && typeof claimCheck !== "function")
    throw configError("options.claimCheck", "must be a function (claims, request) => boolean | Promise<boolean>");
  const jwksTimeoutMs = nonNegative(options.jwksTimeoutMs, DEFAULT_JWKS_TIMEOUT_MS, "options.jwksTimeoutMs");
  // Bounds any policy source, the user's async function included: a slow store answers 503.
  const policiesTimeoutMs = nonNegative(
    options.policiesTimeoutMs,
    DEFAULT_POLICIES_TIMEOUT_MS,
    "options.policiesTimeoutMs",
  );
  const revocationsTimeoutMs = nonNegative(
    options.revocationsTimeoutMs,
    DEFAULT_REVOCATIONS_TIMEOUT_MS,
    "options.revocationsTimeoutMs",
  );
  let parsed = parseConfig(config);
  const { groups, loader } = resolvePolicies(options.policies, fetchImpl);
  const freshness = parsed.revocation?.freshnessSeconds;
  const revocationLoader = resolveRevocations(
    options.revocations,
    fetchImpl,
    typeof freshness === "number" && freshness > 0 ? freshness : 30,
  );
  if (groups) {
    if (parsed.policies?.groups !== undefined)
      throw configError(
        "options.policies",
        "the configuration already bundles policies.groups: give the policies in one place",
      );
    parsed = { ...parsed, policies: { ...(parsed.policies ?? {}), groups } };
  }
  const backend = selectBackend(options.backend);
  // The native backend verifies signatures itself (aws-lc-rs); the wasm asks node:crypto.
  const verifier = backend.name === "wasm" ? nodeCryptoVerifier() : undefined;
  let glue;
  try {
    glue = new EdgeAuthorizer(backend, {
      config: JSON.stringify(parsed),
      hashKey: randomBytes(8),
      explain: options.explain === true,
      io: {
        fetchJwks: jwksFetcher({ timeoutMs: jwksTimeoutMs, preloaded: preloadedJwks(options.jwks), fetchImpl }),
        loadPolicies: loader ?? undefined,
        policiesTimeoutMs,
        loadRevocations: revocationLoader ?? undefined,
        revocationsTimeoutMs,
        verifySignature: verifier,
        verifySignatureSync: verifier,
        log,
      },
    });
  } catch (error) {
    // The core lists every problem with its location (`issuers[0].audience: ...`).
    const code = codeOf(error, ConfigError.code);
    const message = error?.message ?? String(error);
    throw code === ConfigError.code ? new ConfigError(message) : new AuthzError(code, message);
  }
  if (glue.loadsPolicies && !loader) {
    throw configError(
      "options.policies",
      "the configuration has no policies.groups: give policies (a file, an object, a URL or an async function), or every caller is denied",
    );
  }
  if (!glue.loadsPolicies && loader)
    throw configError(
      "options.policies",
      "the configuration already bundles policies.groups: a URL or function would never be asked",
    );
  if (glue.loadsRevocations && !revocationLoader)
    throw configError(
      "options.revocations",
      'the configuration has a revocation section reading an external store: give revocations ({url} or an async function (keys) => records), or set revocation.store to "local" for revoke() alone',
    );
  if (!glue.loadsRevocations && revocationLoader)
    throw configError(
      "options.revocations",
      parsed.revocation === undefined
        ? "the configuration has no revocation section: add one (revocation: {freshnessSeconds: 30}) or the records would never be read"
        : 'revocation.store is "local": the records would never be read',
    );
  const issuers = glue.jwksUris.map((jwksUri, index) => ({ index, jwksUri }));
  return new NodeAuthorizer(glue, now, {
    onDecision: decisionHook(onDecision, record, log),
    claimCheck,
    log,
    responses: glue,
    issuers,
    issuerNames: issuerNames(parsed),
  });
}
