// The runtime-neutral glue: drives the core's sans-IO loop (Need → I/O → retry) with the
// host's I/O. The Worker, and later Node and Lambda@Edge, differ only in what they pass in.

/**
 * @typedef {object} Decision
 * @property {"allow" | "unauthorized" | "forbidden" | "unavailable"} outcome
 * @property {string} reason     stable code for logs; never send it to the client
 * @property {number} status     200 on allow, else the configured denial status
 * @property {string | null} body JSON text of the denial (null on allow)
 * @property {Record<string, string | number | boolean>} context the caller's identity
 * @property {string} [explanation] with `explain: true`
 *
 * @typedef {object} AuthorizeInput
 * @property {string} method
 * @property {string} path
 * @property {Iterable<[string, string]>} [headers]
 * @property {Iterable<[string, string]>} [query]
 * @property {string | null} [sourceIp]
 * @property {boolean | null} [secureTransport]
 * @property {string | null} [methodArn]
 *
 * @typedef {object} Io
 * @property {(url: string, issuer: number) => Promise<Uint8Array>} fetchJwks  throws on failure
 * @property {(groups: string[]) => Promise<Map<string, string | null>>} [loadPolicies]  throws on failure
 * @property {(check: import("./webcrypto.js").SignatureCheck) => Promise<boolean> | boolean} verifySignature
 * @property {(event: Record<string, unknown>) => void} [log]
 */

/** More needs than this for one request means a bug: deny rather than spin. */
const MAX_STEPS = 32;

/** An `Error` with a stable `code`. */
export class AuthzError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class EdgeAuthorizer {
  #wasm;
  #core;
  #io;
  #explain;
  /** @type {Map<number, Promise<void>>} one JWKS fetch in flight per issuer */
  #jwksInFlight = new Map();
  /** Bumped whenever keys or policies change: decisions memoised by an adapter are stale then. */
  #generation = 0;

  /**
   * @param {{ Authorizer: any, Request: any }} wasm the wasm-bindgen exports (initialised)
   * @param {object} options
   * @param {string} options.config the edge-authz configuration, JSON text
   * @param {Uint8Array} options.hashKey 8 random bytes keying the cache hashes
   * @param {Io} options.io
   * @param {boolean} [options.explain] add a one-line explanation to every decision
   */
  constructor(wasm, { config, hashKey, io, explain = false }) {
    this.#wasm = wasm;
    this.#core = new wasm.Authorizer(config, hashKey);
    this.#io = io;
    this.#explain = explain;
    for (const warning of this.#core.warnings) this.#log({ event: "policy_warning", warning });
  }

  /**
   * Changes whenever the core's keys or policies change (a JWKS or policy load, or a failed
   * one). The core's decision for the same request at the same `now` cannot change otherwise.
   */
  get generation() {
    return this.#generation;
  }

  /** Whether policies come from the adapter's store rather than the configuration. */
  get loadsPolicies() {
    return this.#core.loadsPolicies;
  }

  /**
   * Decides a request at `now` (whole seconds since the epoch).
   * @param {AuthorizeInput} input
   * @param {number} now
   * @returns {Promise<Decision>}
   */
  async authorize(input, now) {
    const request = new this.#wasm.Request(
      input.method,
      input.path,
      flatten(input.headers),
      flatten(input.query),
      input.sourceIp ?? undefined,
      input.secureTransport ?? undefined,
    );
    try {
      if (input.methodArn) request.methodArn = input.methodArn;
      for (let steps = 0; steps < MAX_STEPS; steps++) {
        const step = this.#core.authorize(request, now, this.#explain);
        switch (step.kind) {
          case "decided":
            return step;
          case "fetchJwks":
            await this.#fetchJwks(step.issuer, step.url, now);
            break;
          case "awaitJwks":
            await this.#awaitJwks(step.issuer, now);
            break;
          case "loadPolicies":
            await this.#loadPolicies(step.groups, now);
            break;
          case "checkSignature": {
            // A synchronous verifier (node:crypto) answers without a trip through the event loop.
            let valid = this.#verify(step);
            if (typeof valid !== "boolean") valid = await this.#settle(valid);
            this.#core.signatureChecked(step.token, valid);
            break;
          }
          default:
            throw new AuthzError("unknown_step", `unknown step ${step.kind}`);
        }
      }
      throw new AuthzError("too_many_steps", "the authorizer kept asking for more");
    } finally {
      request.free();
    }
  }

  /** Starts the issuer's fetch; concurrent requests wait on the same promise. */
  #fetchJwks(issuer, url, now) {
    const fetching = (async () => {
      this.#generation++;
      try {
        const body = await this.#io.fetchJwks(url, issuer);
        const keys = this.#core.jwksFetched(issuer, body, now);
        this.#log({ event: "jwks_fetched", issuer, keys });
      } catch (error) {
        this.#log({ event: "jwks_failed", issuer, code: codeOf(error, "jwks_fetch_failed"), message: messageOf(error) });
        this.#core.jwksFailed(issuer, now);
      }
      this.#generation++;
    })().finally(() => this.#jwksInFlight.delete(issuer));
    this.#jwksInFlight.set(issuer, fetching);
    return fetching;
  }

  async #awaitJwks(issuer, now) {
    this.#generation++;
    const inFlight = this.#jwksInFlight.get(issuer);
    if (inFlight) return inFlight;
    // The core believes a fetch is running but none is: report it failed, never wait forever.
    this.#log({ event: "jwks_failed", issuer, code: "jwks_fetch_lost" });
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
      loaded = await this.#io.loadPolicies(groups);
    } catch (error) {
      this.#log({ event: "policies_failed", groups, code: codeOf(error, "policy_store_failed"), message: messageOf(error) });
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

/** @param {Iterable<[string, string]> | undefined} pairs */
function flatten(pairs) {
  const flat = [];
  if (pairs) for (const [name, value] of pairs) flat.push(name, value);
  return flat;
}

function codeOf(error, fallback) {
  return typeof error?.code === "string" ? error.code : fallback;
}

function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
