// The runtime-neutral glue: drives the core's sans-IO loop (Need → I/O → retry) with the
// host's I/O. The Worker, and later Node and Lambda@Edge, differ only in what they pass in.

import { AuthzError, codeOf, JwksError, messageOf, PolicyLoadError, RequestError } from "./errors.js";
import { DEFAULT_POLICIES_TIMEOUT_MS, DEFAULT_REVOCATIONS_TIMEOUT_MS, judgedPath } from "./host.js";
import { MATCHING, REASON_CODES, STEP, VERDICT_UNCACHED } from "./core-codes.js";

export { AuthzError };

/**
 * @typedef {object} Decision
 * @property {import("../types/core.js").Outcome} outcome
 * @property {import("../types/core.js").Reason} reason stable code for logs; never send it to the client
 * @property {number} status     200 on allow, else the configured denial status (400 for a refused path)
 * @property {string | null} body JSON text of the denial (null on allow)
 * @property {Record<string, string | number | boolean>} context the caller's identity
 * @property {string} path       the canonical path that was authorized, in wire form (no query):
 *   what a forwarding adapter sends to the origin
 * @property {string} [explanation] with `explain: true`
 *
 * @typedef {object} PathMatching how the router the adapter stands in front of matches paths.
 *   Given, it replaces the configuration's `request` rules for case, trailing and duplicate
 *   slashes for that request, members left out taking the defaults below.
 * @property {boolean} [caseSensitive]  default true
 * @property {"keep" | "strip"} [trailingSlash] default "keep"
 * @property {boolean} [mergeSlashes]   default false
 *
 * @typedef {object} AuthorizeInput
 * @property {string} method
 * @property {string} path       as received on the wire (percent-encoding intact); a `?query` is cut by the core
 * @property {PathMatching | number | null} [matching] the router's matching for this request (or its
 *   `matchingFlags`, computed once); absent: the configuration's
 * @property {Iterable<[string, string]>} [headers]
 * @property {Iterable<[string, string]>} [query]
 * @property {string | null} [sourceIp]
 * @property {boolean | null} [secureTransport]
 * @property {string | null} [methodArn]
 *
 * @typedef {object} Io
 * @property {(url: string, issuer: number) => Promise<Uint8Array>} fetchJwks  throws on failure
 * @property {(groups: string[]) => Promise<Map<string, unknown>>} [loadPolicies]  throws on failure; each
 *   group's policy as JSON text, a parsed document or `null` (none): the core reads and checks it
 * @property {number} [policiesTimeoutMs] how long `loadPolicies` may take before it counts as
 *   failed (default 5000): a slow store answers 503, it does not hold requests
 * @property {(keys: string[]) => Promise<Map<string, unknown>>} [loadRevocations]  throws on failure; each
 *   key's revocation record as JSON text, a parsed record or `null` (none): asked only with a
 *   `revocation` section whose store is external (`loadsRevocations`)
 * @property {number} [revocationsTimeoutMs] how long `loadRevocations` may take before it
 *   counts as failed (default 5000)
 * @property {(check: import("./webcrypto.js").SignatureCheck) => Promise<boolean> | boolean} verifySignature
 *   asynchronous (or synchronous) crypto, asked through a `checkSignature` step
 * @property {(check: import("./webcrypto.js").SignatureCheck) => boolean | undefined} [verifySignatureSync]
 *   synchronous crypto (node:crypto), called inline by the core during `authorize`: no
 *   extra pass. `check.jwk` is absent for a `keyId` seen before; answer `undefined` to get
 *   it (the core calls again with it). `signingInput` and `signature` are views into the
 *   wasm memory, valid during the call only.
 * @property {(event: Record<string, unknown>) => void} [log]
 */

/** Default limit on one `loadPolicies` call. */
const POLICIES_TIMEOUT_MS = DEFAULT_POLICIES_TIMEOUT_MS;
/** Decoded contexts kept by caller id (cleared when full). */
const MAX_CONTEXTS = 1024;
/** Request objects kept for reuse (one per request in flight). */
const MAX_POOLED_REQUESTS = 64;
const NO_CONTEXT = Object.freeze({});

/** Decisions for a caller (token) the glue had decided for before: see `isRepeatCaller`. */
const repeatCallers = new WeakSet();

/**
 * Whether `decision` is for a caller decided before by the same authorizer: adapters memoise
 * those, and not one-off tokens, whose memo entries would only cost time and memory.
 * @param {Decision} decision
 */
export function isRepeatCaller(decision) {
  return repeatCallers.has(decision);
}

/**
 * The `Request.matching` bits of a router's matching, checked: a typo must not silently
 * mean "case-sensitive" (each member's absence means its default). No allocation: adapters
 * call it per request with the one object they keep per router.
 * @param {PathMatching} matching
 * @returns {number}
 */
export function matchingFlags(matching) {
  if (typeof matching !== "object")
    throw new RequestError("authorize: matching must be {caseSensitive?, trailingSlash?, mergeSlashes?}");
  const { caseSensitive = true, trailingSlash = "keep", mergeSlashes = false } = matching;
  if (typeof caseSensitive !== "boolean")
    throw new RequestError(
      `authorize: matching.caseSensitive must be true or false, not ${JSON.stringify(caseSensitive)}`,
    );
  if (trailingSlash !== "keep" && trailingSlash !== "strip")
    throw new RequestError(
      `authorize: matching.trailingSlash must be "keep" or "strip", not ${JSON.stringify(trailingSlash)}`,
    );
  if (typeof mergeSlashes !== "boolean")
    throw new RequestError(
      `authorize: matching.mergeSlashes must be true or false, not ${JSON.stringify(mergeSlashes)}`,
    );
  return (
    (caseSensitive ? 0 : MATCHING.caseInsensitive) |
    (trailingSlash === "strip" ? MATCHING.stripTrailingSlash : 0) |
    (mergeSlashes ? MATCHING.mergeSlashes : 0)
  );
}

export class EdgeAuthorizer {
  #wasm;
  #core;
  #io;
  #explain;
  /** @type {Map<number, Promise<void>>} one JWKS fetch in flight per issuer */
  #jwksInFlight = new Map();
  /** @type {Map<number, Promise<Uint8Array>>} `prefetchJwks` fetches in flight, by issuer */
  #prefetches = new Map();
  /**
   * Bumped whenever keys, policies or revocation records change: decisions memoised by an
   * adapter are stale then.
   */
  #generation = 0;
  /** @type {Array<{outcome: string, reason: string, status: number, body: string | null}>} by verdict id */
  #verdicts = [];
  /** @type {Map<number, Record<string, string | number | boolean>>} decoded contexts by caller id (frozen) */
  #contexts = new Map();
  /** @type {Map<string, any>} `responseFor` answers, by reason */
  #responses = new Map();
  /** @type {any[]} wasm Request objects not in use */
  #requests = [];
  /** The configuration's `request.caseSensitive`: how a request without `matching` is matched. */
  #caseSensitive = true;

  /**
   * @param {{ Authorizer: any, Request: any, name?: "native" | "wasm" }} wasm the core's classes:
   *   the wasm-bindgen exports (initialised) or the native addon's (js/src/backend.js)
   * @param {object} options
   * @param {string} options.config the edge-authz configuration, JSON text
   * @param {Uint8Array} options.hashKey 8 random bytes keying the cache hashes
   * @param {Io} options.io
   * @param {boolean} [options.explain] add a one-line explanation to every decision
   */
  constructor(wasm, { config, hashKey, io, explain = false }) {
    this.#wasm = wasm;
    this.#io = io;
    this.#explain = explain;
    const sync = io.verifySignatureSync;
    const inline = sync
      ? (algorithm, keyId, signingInput, signature, jwk) => {
          try {
            const verdict = sync({ algorithm, keyId, jwk, signingInput, signature });
            return verdict === undefined ? undefined : verdict === true;
          } catch (error) {
            this.#log({
              event: "signature_check_failed",
              code: codeOf(error, "crypto_error"),
              message: messageOf(error),
            });
            return false;
          }
        }
      : undefined;
    this.#core = new wasm.Authorizer(config, hashKey, inline);
    // The core accepted it: JSON without repeated members, `caseSensitive` a boolean if given.
    this.#caseSensitive = JSON.parse(config)?.request?.caseSensitive !== false;
    for (const warning of this.#core.warnings) this.#log({ event: "policy_warning", warning });
  }

  /**
   * What a `claimCheck` judges, in every adapter: the `authorize` input with `path` the
   * canonical path the core authorized (`decision.path`: what a proxy forwards and a router
   * serves; `/v1/%61dmin` is `/v1/admin`), lower-cased when the request was matched
   * case-insensitively (`judgedPath`), so that a refusal by path cannot be walked around by
   * another spelling of it; `receivedPath` is the path as given.
   * @param {any} input
   * @param {Decision} decision
   */
  claimCheckRequest(input, decision) {
    return { ...input, path: judgedPath(decision.path, this.#matchesCase(input.matching)), receivedPath: input.path };
  }

  /**
   * Whether a request's path was matched case-sensitively: as its `matching` says (the
   * object or its flags), else as the configuration's `request.caseSensitive`.
   * @param {PathMatching | number | null | undefined} matching
   */
  #matchesCase(matching) {
    if (matching == null) return this.#caseSensitive;
    if (typeof matching === "number") return (matching & MATCHING.caseInsensitive) === 0;
    return matching.caseSensitive !== false;
  }

  /**
   * Changes whenever the core's keys, policies or revocation records change (a JWKS, policy
   * or revocation load, or a failed one; `revoke`). The core's decision for the same request
   * at the same `now` cannot change otherwise.
   */
  get generation() {
    return this.#generation;
  }

  /** Which build of the core runs: `"native"` (the Node addon) or `"wasm"`. */
  get backend() {
    return this.#wasm.name === "native" ? "native" : "wasm";
  }

  /** Each configured issuer's JWKS URL, by issuer index, as the core derived it. */
  get jwksUris() {
    return this.#core.jwksUris;
  }

  /**
   * What to answer for `reason` when the adapter decides in the core's place (a claim check,
   * a router refusal): `{outcome, reason, status, body}` from the configured responses.
   * @param {import("../types/core.js").Reason} reason
   * @returns {{ outcome: string, reason: string, status: number, body: string | null }}
   */
  responseFor(reason) {
    let response = this.#responses.get(reason);
    if (response === undefined) {
      const index = REASON_CODES.indexOf(reason);
      if (index < 0) throw new AuthzError("unknown_reason", `\`${reason}\` is not a reason code`);
      response = Object.freeze(JSON.parse(this.#core.responseFor(index)));
      this.#responses.set(reason, response);
    }
    return response;
  }

  /** Whether policies come from the adapter's store rather than the configuration. */
  get loadsPolicies() {
    return this.#core.loadsPolicies;
  }

  /** Whether revocation records are read from the adapter's store (`io.loadRevocations`). */
  get loadsRevocations() {
    return this.#core.loadsRevocations;
  }

  /**
   * Revokes in this authorizer at once (its store is not written): `kind` `user` (the tokens
   * of `value`, a `sub`, issued at or before `before`, default `now`), `session` (`value` an
   * `origin_jti`) or `token` (`value` a `jti`), of issuer `issuer` (the tokens' `iss`), until
   * `expiresAt` (seconds; absent: for the authorizer's life). Returns the record's key.
   * Throws an `AuthzError`: `revocation_off` (no `revocation` section), `invalid_revocation`.
   * @param {"user" | "session" | "token"} kind @param {string} issuer @param {string} value
   * @param {number | undefined} before @param {number | undefined} expiresAt @param {number} now
   * @returns {string}
   */
  revoke(kind, issuer, value, before, expiresAt, now) {
    let key;
    try {
      key = this.#core.revoke(kind, issuer, value, before, expiresAt, now);
    } catch (error) {
      throw asAuthzError(error);
    }
    // Decisions memoised by the adapters must not outlive it.
    this.#generation++;
    this.#log({ event: "revoked", key });
    return key;
  }

  /**
   * Decides a request at `now` (whole seconds since the epoch).
   * @param {AuthorizeInput} input
   * @param {number} now
   * @returns {Promise<Decision>}
   */
  async authorize(input, now) {
    const { method, path, sourceIp = null, secureTransport = null, methodArn = null, matching } = input;
    // Checked here, for both backends alike: a wasm-bindgen argument of another type is
    // coerced (the string "false" would be a secure transport) or traps the instance, and
    // the addon throws untyped errors.
    if (typeof method !== "string" || typeof path !== "string")
      throw new RequestError("authorize: method and path must be strings");
    if (sourceIp !== null && typeof sourceIp !== "string")
      throw new RequestError(`authorize: sourceIp must be a string or null, not ${typeof sourceIp}`);
    if (secureTransport !== null && typeof secureTransport !== "boolean")
      throw new RequestError(`authorize: secureTransport must be true, false or null, not ${typeof secureTransport}`);
    if (methodArn !== null && typeof methodArn !== "string")
      throw new RequestError(`authorize: methodArn must be a string or null, not ${typeof methodArn}`);
    const request = this.#requests.pop() ?? new this.#wasm.Request();
    try {
      const { bytes, headerCount, queryCount } = encodePairs(input.headers, input.query);
      try {
        request.set(method, path, bytes, headerCount, queryCount, sourceIp ?? "", secureTransport ?? undefined);
      } catch (error) {
        // `invalid_request` (an address that is not one, pairs that are not UTF-8): typed.
        throw codeOf(error, "") === RequestError.code ? new RequestError(messageOf(error)) : asAuthzError(error);
      }
      // After `set`, which resets it to the configuration's rules.
      if (matching != null)
        request.matching = typeof matching === "number" ? knownFlags(matching) : matchingFlags(matching);
      if (methodArn) request.methodArn = methodArn;
      // The core bounds the run (`Run`: 16 steps, one JWKS fetch per issuer): past them its
      // `authorize` throws `too_many_steps` / `jwks_refetch_refused`, and the request fails.
      for (;;) {
        const code = this.#step(request, now);
        const kind = code % 8;
        if (kind === STEP.decided) return this.#decision(code, pathOf(input.path));
        if (kind === STEP.decidedRewritten) return this.#decision(code, this.#core.path());
        const need = this.#core.need();
        switch (kind) {
          case STEP.fetchJwks:
            await this.#fetchJwks(need.issuer, need.url, now);
            break;
          case STEP.awaitJwks:
            await this.#awaitJwks(need.issuer, now);
            break;
          case STEP.loadPolicies:
            await this.#loadPolicies(need.groups, now);
            break;
          case STEP.loadRevocations:
            await this.#loadRevocations(need.keys, now);
            break;
          case STEP.checkSignature: {
            // A synchronous verifier answers without a trip through the event loop.
            let valid = this.#verify(need);
            if (typeof valid !== "boolean") valid = await this.#settle(valid);
            this.#core.signatureChecked(need.token, valid);
            break;
          }
          default:
            throw new AuthzError("unknown_step", `unknown step ${kind}`);
        }
      }
    } finally {
      if (this.#requests.length < MAX_POOLED_REQUESTS) this.#requests.push(request);
      else request.free();
    }
  }

  /**
   * One step of the core. Its refusals (`too_many_steps`, `jwks_refetch_refused`, a bad
   * request or time) are thrown as `AuthzError`s with the core's code, like every error of
   * this package.
   * @returns {number}
   */
  #step(request, now) {
    try {
      return this.#core.authorize(request, now);
    } catch (error) {
      throw asAuthzError(error);
    }
  }

  /**
   * The decision of the core's last step, from its code: the verdict and the context are
   * decoded once per id and kept; the caller gets its own copy of the context.
   * @param {number} code
   * @param {string} path the canonical path
   * @returns {Decision}
   */
  #decision(code, path) {
    const rest = Math.floor(code / 8);
    const verdictId = rest % 256;
    const callerId = Math.floor(rest / 256);
    let verdict = this.#verdicts[verdictId];
    if (verdict === undefined) {
      verdict = JSON.parse(this.#core.verdict());
      if (verdictId !== VERDICT_UNCACHED) this.#verdicts[verdictId] = verdict;
    }
    let context = NO_CONTEXT;
    let repeat = false;
    if (callerId !== 0) {
      context = this.#contexts.get(callerId);
      repeat = context !== undefined;
      if (!repeat) {
        if (this.#contexts.size >= MAX_CONTEXTS) this.#contexts.clear();
        context = Object.freeze(JSON.parse(this.#core.context()));
        this.#contexts.set(callerId, context);
      }
    }
    const decision = {
      outcome: verdict.outcome,
      reason: verdict.reason,
      status: verdict.status,
      body: verdict.body,
      context: { ...context },
      path,
    };
    if (this.#explain) decision.explanation = this.#core.explanation();
    if (repeat) repeatCallers.add(decision);
    return decision;
  }

  /** Starts the issuer's fetch; concurrent requests wait on the same promise. */
  #fetchJwks(issuer, url, now) {
    const fetching = (async () => {
      this.#generation++;
      try {
        const body = await (this.#prefetches.get(issuer) ?? this.#io.fetchJwks(url, issuer));
        const keys = this.#core.jwksFetched(issuer, body, now);
        this.#log({ event: "jwks_fetched", jwksUri: url, issuerIndex: issuer, keys });
      } catch (error) {
        this.#log({
          event: "jwks_failed",
          jwksUri: url,
          issuerIndex: issuer,
          code: codeOf(error, "jwks_fetch_failed"),
          message: messageOf(error),
        });
        this.#core.jwksFailed(issuer, now);
      }
      this.#generation++;
    })().finally(() => this.#jwksInFlight.delete(issuer));
    this.#jwksInFlight.set(issuer, fetching);
    return fetching;
  }

  /**
   * Fetches the JWKS of issuer `issuer` (its index in the configuration) from `url` now, not
   * on a request's need: what `hydrate()` does. Resolves with the number of keys; rejects
   * (an `AuthzError` naming `url`) when the fetch fails or the document is not a JWK Set.
   * A failed fetch is not reported to the core as failed (no penalty window): the next
   * request that needs the keys fetches them as if `hydrate` had not run. A document that
   * is not a JWK Set counts as a failed fetch, as on a request's need.
   * @param {number} issuer
   * @param {string} url
   * @param {number} now
   * @returns {Promise<number>}
   */
  async prefetchJwks(issuer, url, now) {
    let body;
    // A request that needs the keys meanwhile waits for this fetch rather than starting one.
    const fetching = this.#io.fetchJwks(url, issuer);
    this.#prefetches.set(issuer, fetching);
    try {
      body = await fetching;
    } catch (error) {
      const code = codeOf(error, "jwks_fetch_failed");
      this.#log({ event: "jwks_failed", jwksUri: url, issuerIndex: issuer, code, message: messageOf(error) });
      throw new JwksError(code, namingUrl(messageOf(error), url));
    } finally {
      if (this.#prefetches.get(issuer) === fetching) this.#prefetches.delete(issuer);
    }
    this.#generation++;
    try {
      const keys = this.#core.jwksFetched(issuer, body, now);
      this.#log({ event: "jwks_fetched", jwksUri: url, issuerIndex: issuer, keys });
      return keys;
    } catch (error) {
      const code = codeOf(error, "jwks_fetch_failed");
      this.#log({ event: "jwks_failed", jwksUri: url, issuerIndex: issuer, code, message: messageOf(error) });
      throw new JwksError(code, namingUrl(messageOf(error), url));
    } finally {
      this.#generation++;
    }
  }

  async #awaitJwks(issuer, now) {
    this.#generation++;
    const inFlight = this.#jwksInFlight.get(issuer);
    if (inFlight) return inFlight;
    // The core believes a fetch is running but none is: report it failed, never wait forever.
    this.#log({ event: "jwks_failed", issuerIndex: issuer, code: "jwks_fetch_lost" });
    this.#core.jwksFailed(issuer, now);
    this.#generation++;
  }

  async #loadPolicies(groups, now) {
    this.#generation++;
    try {
      await this.#loadPoliciesNow(groups, now);
    } finally {
      this.#generation++;
    }
  }

  async #loadPoliciesNow(groups, now) {
    if (!this.#io.loadPolicies) {
      this.#log({ event: "policies_failed", groups, code: "no_policy_store" });
      this.#core.policiesFailed(groups, now);
      return;
    }
    let loaded;
    try {
      loaded = await withTimeout(
        this.#io.loadPolicies(groups),
        this.#io.policiesTimeoutMs ?? POLICIES_TIMEOUT_MS,
        (ms) => new PolicyLoadError("policy_store_timeout", `the policy store did not answer within ${ms} ms`),
      );
    } catch (error) {
      this.#log({
        event: "policies_failed",
        groups,
        code: codeOf(error, "policy_store_failed"),
        message: messageOf(error),
      });
      this.#core.policiesFailed(groups, now);
      return;
    }
    for (const group of groups) {
      try {
        const warnings = this.#core.policyLoaded(group, loaded.get(group) ?? undefined, now);
        for (const warning of warnings) this.#log({ event: "policy_warning", group, warning });
      } catch (error) {
        // Kept as invalid by the core: the group's callers are denied until it is fixed.
        this.#log({ event: "invalid_policy", group, code: codeOf(error, "invalid_policy"), message: messageOf(error) });
      }
    }
  }

  async #loadRevocations(keys, now) {
    this.#generation++;
    try {
      await this.#loadRevocationsNow(keys, now);
    } finally {
      this.#generation++;
    }
  }

  async #loadRevocationsNow(keys, now) {
    if (!this.#io.loadRevocations) {
      this.#log({ event: "revocations_unavailable", keys: keys.length, code: "no_revocation_store" });
      this.#core.revocationsFailed(keys, now);
      return;
    }
    let loaded;
    try {
      loaded = await withTimeout(
        this.#io.loadRevocations(keys),
        this.#io.revocationsTimeoutMs ?? DEFAULT_REVOCATIONS_TIMEOUT_MS,
        (ms) => new AuthzError("revocation_store_timeout", `the revocation store did not answer within ${ms} ms`),
      );
      if (!(loaded instanceof Map))
        throw new AuthzError("revocation_store_failed", "the revocation store must resolve to a Map of key to record");
    } catch (error) {
      this.#log({
        event: "revocations_unavailable",
        keys: keys.length,
        code: codeOf(error, "revocation_store_failed"),
        message: messageOf(error),
      });
      this.#core.revocationsFailed(keys, now);
      return;
    }
    for (const key of keys) {
      const record = loaded.get(key);
      try {
        this.#core.revocationLoaded(key, record === undefined ? null : record, now);
      } catch (error) {
        // Kept as revoking by the core: the request is not failed, the record is reported.
        this.#log({
          event: "revocation_invalid",
          key,
          code: codeOf(error, "invalid_revocation"),
          message: messageOf(error),
        });
      }
    }
  }

  /** @returns {boolean | Promise<unknown>} only `true` counts as valid */
  #verify(check) {
    try {
      const verdict = this.#io.verifySignature(check);
      return typeof verdict?.then === "function" ? verdict : verdict === true;
    } catch (error) {
      this.#log({ event: "signature_check_failed", code: codeOf(error, "crypto_error"), message: messageOf(error) });
      return false;
    }
  }

  /** @param {Promise<unknown>} verdict */
  async #settle(verdict) {
    try {
      return (await verdict) === true;
    } catch (error) {
      this.#log({ event: "signature_check_failed", code: codeOf(error, "crypto_error"), message: messageOf(error) });
      return false;
    }
  }

  #log(event) {
    this.#io.log?.(event);
  }
}

/** All the `MATCHING` bits together: a flags number with any other bit is not one. */
const ALL_MATCHING = Object.values(MATCHING).reduce((all, bit) => all | bit, 0);

/** `flags` when it is a whole number of `MATCHING` bits (as `matchingFlags` returns). */
function knownFlags(flags) {
  if (!Number.isInteger(flags) || flags < 0 || (flags & ~ALL_MATCHING) !== 0)
    throw new RequestError(`authorize: matching flags must be a combination of ${ALL_MATCHING} bits, not ${flags}`);
  return flags;
}

/** A core's error (a JavaScript `Error` with a `code`) as this package's `AuthzError`. */
function asAuthzError(error) {
  return typeof error?.code === "string" && !(error instanceof AuthzError)
    ? new AuthzError(error.code, messageOf(error))
    : error;
}

/** The path as given minus its query: what the core authorized when it did not rewrite it. */
function pathOf(path) {
  const mark = path.indexOf("?");
  return mark < 0 ? path : path.slice(0, mark);
}

const encoder = new TextEncoder();
/** Reused for every request: `Request.set` copies it into the wasm before returning. */
let scratch = new Uint8Array(4096);

/**
 * Header and query pairs as the core takes them: the UTF-8 text of
 * `name\0value\0...` (headers, then query) and the pair counts. The core rejects counts
 * that do not match the text (a NUL inside a name or value).
 * @param {Iterable<[string, string]> | undefined} headers
 * @param {Iterable<[string, string]> | undefined} query
 */
function encodePairs(headers, query) {
  let flat = "";
  let headerCount = 0;
  let queryCount = 0;
  if (headers) {
    for (const [name, value] of headers) {
      flat = headerCount === 0 ? `${name}\0${value}` : `${flat}\0${name}\0${value}`;
      headerCount++;
    }
  }
  if (query) {
    for (const [name, value] of query) {
      flat = headerCount + queryCount === 0 ? `${name}\0${value}` : `${flat}\0${name}\0${value}`;
      queryCount++;
    }
  }
  // At most 3 UTF-8 bytes per UTF-16 unit.
  if (flat.length * 3 > scratch.length) scratch = new Uint8Array(flat.length * 3);
  const { written } = encoder.encodeInto(flat, scratch);
  return { bytes: scratch.subarray(0, written), headerCount, queryCount };
}

/**
 * `promise`, or a rejection with `timedOut(ms)` after `ms` milliseconds.
 * @template T @param {Promise<T>} promise @param {number} ms @param {(ms: number) => Error} timedOut
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms, timedOut) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(timedOut(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `message`, prefixed with `JWKS <url>: ` unless it names the URL already. */
function namingUrl(message, url) {
  return message.includes(url) ? message : `JWKS ${url}: ${message}`;
}
