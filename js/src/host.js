// The host layer every adapter shares (the Worker, Node and through it Express, Fastify and
// Lambda@Edge), like aws-jwt-verify's node-web-compat: the I/O the core asks for and the
// answers the adapters send, written once over what workerd and Node >= 18 both have
// (`fetch`, `AbortSignal.timeout`, web streams). No `node:` import: the Worker loads it.
//
// - `fetchJwks`: one JWKS fetch (timeout, status check, size limit);
// - `urlPolicyLoader` / `urlRevocationLoader`: policies (revocation records) from one JSON
//   document at a URL, single-flight, revalidated by ETag after a TTL;
// - `jsonText` / `storedPolicy`: a stored value (text, object, none) as the core takes it;
// - `identityHeaders`: the caller's identity as `[name, value]` headers for the origin;
// - `denialResponse`: status, headers and body of a denial.

import { AuthzError, JwksError, PolicyLoadError } from "./errors.js";
import { headerName, headerValue } from "./identity.js";
import { DENIAL_HEADERS, MAX_JWKS_BYTES, UNAUTHORIZED_HEADERS, UNAVAILABLE_BODY } from "./core-codes.js";

export const JSON_TYPE = "application/json";

/** The core refuses a larger JWK Set (generated from src/token/jwks.rs): read no more. */
export { MAX_JWKS_BYTES } from "./core-codes.js";

/** Defaults shared by every adapter. */
export const DEFAULT_JWKS_TIMEOUT_MS = 5000;
export const DEFAULT_POLICIES_TIMEOUT_MS = 5000;
export const DEFAULT_POLICIES_TTL_SECONDS = 60;
export const DEFAULT_REVOCATIONS_TIMEOUT_MS = DEFAULT_POLICIES_TIMEOUT_MS;
/** Short: a record in a URL document takes effect within this plus `revocation.freshnessSeconds`. */
export const DEFAULT_REVOCATIONS_TTL_SECONDS = 5;

/** An object that is not an array (nor a `URL`): what a JSON document's `{...}` parses to. */
export function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof URL);
}

/**
 * `JSON.parse`, refusing a repeated object member. `JSON.parse` keeps the last of two equal
 * members silently, other readers the first (the core refuses them in every text it parses):
 * a configuration or policy document read here would otherwise say one thing to a reviewer
 * and another to the authorizer. Throws `JSON.parse`'s `SyntaxError`, or one with `code`
 * "repeated_member" naming the member's location.
 * @param {string} text
 * @returns {any}
 */
export function parseJsonStrict(text) {
  const parsed = JSON.parse(text); // first: the scan below may then assume valid JSON
  let at = 0;
  /** @type {Array<string | number>} the members and indices down to the current value */
  const path = [];
  const skipSpace = () => {
    while (text[at] === " " || text[at] === "\n" || text[at] === "\r" || text[at] === "\t") at++;
  };
  const string = () => {
    const start = at++;
    while (text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
    at++;
    return text.slice(start, at);
  };
  const value = () => {
    skipSpace();
    const opening = text[at];
    if (opening === "{" || opening === "[") {
      at++;
      skipSpace();
      const closing = opening === "{" ? "}" : "]";
      const keys = new Set();
      for (let index = 0; text[at] !== closing; index++) {
        if (opening === "{") {
          const key = JSON.parse(string());
          if (keys.has(key))
            throw Object.assign(
              new SyntaxError(`${location([...path, key])}: repeated member ${JSON.stringify(key)}`),
              {
                code: "repeated_member",
              },
            );
          keys.add(key);
          skipSpace();
          at++; // the colon
          path.push(key);
        } else path.push(index);
        value();
        path.pop();
        skipSpace();
        if (text[at] === ",") at++;
        skipSpace();
      }
      at++;
    } else if (opening === '"') string();
    else while (at < text.length && !",]} \n\r\t".includes(text[at])) at++;
  };
  value();
  return parsed;
}

/** `groups.vets.Statement[0]`: a JSON location as the core writes it. */
function location(path) {
  return path.map((step, i) => (typeof step === "number" ? `[${step}]` : i ? `.${step}` : step)).join("");
}

/**
 * JSON text for the core: a string as it is (the core parses and checks it), anything else
 * serialised.
 * @param {unknown} value
 * @returns {string}
 */
export function jsonText(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A stored policy as the core takes it: JSON text, a parsed document, or `null` for "this
 * group has no policy" (`undefined` too). Any other value (a function, a symbol, a BigInt)
 * is handed over as it is: the core keeps that group invalid, so its callers are denied —
 * never "no policy", which would drop the group's Deny statements.
 * @param {unknown} policy
 * @returns {unknown}
 */
export function storedPolicy(policy) {
  return policy === undefined ? null : policy;
}

/**
 * GETs the JWK Set at `url`: its bytes, or a `JwksError` — `jwks_http_error` for a status
 * other than 2xx, `jwks_too_large` past `MAX_JWKS_BYTES` (checked while reading: a huge
 * body is never held). The timeout covers the whole exchange, body included.
 * @param {string} url
 * @param {{ fetch?: typeof fetch, timeoutMs?: number }} [options]
 * @returns {Promise<Uint8Array>}
 */
export async function fetchJwks(
  url,
  { fetch: fetchImpl = globalThis.fetch, timeoutMs = DEFAULT_JWKS_TIMEOUT_MS } = {},
) {
  const response = await fetchImpl(url, { headers: { accept: JSON_TYPE }, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    discard(response);
    throw new JwksError("jwks_http_error", `JWKS ${url}: HTTP ${response.status}`);
  }
  return readLimited(
    response,
    MAX_JWKS_BYTES,
    () => new JwksError("jwks_too_large", `JWKS ${url}: larger than ${MAX_JWKS_BYTES} bytes`),
  );
}

/** A policy document larger than this is refused (`policy_document_too_large`), not read. */
export const MAX_POLICY_DOCUMENT_BYTES = 4 * 1024 * 1024;

/**
 * The body of `response`, at most `limit` bytes (else `tooLarge()` is thrown and the rest is
 * not read). A response without a readable stream (a caller's own `fetch`) is read whole.
 * @param {Response} response @param {number} limit @param {() => Error} tooLarge
 * @returns {Promise<Uint8Array>}
 */
async function readLimited(response, limit, tooLarge) {
  const declared = Number(response.headers?.get?.("content-length"));
  if (declared > limit) {
    discard(response);
    throw tooLarge();
  }
  const reader = typeof response.body?.getReader === "function" ? response.body.getReader() : null;
  if (reader === null) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > limit) throw tooLarge();
    return bytes;
  }
  /** @type {Uint8Array[]} */
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** Lets go of a body that will not be read (frees the connection). */
function discard(response) {
  try {
    response.body?.cancel?.()?.catch?.(() => {});
  } catch {
    // Already read or locked: nothing to free.
  }
}

/**
 * Policies from one JSON document `{"groups": {name: policy | null}}` at `url`: fetched on
 * first use, used for `ttlSeconds`, then revalidated with `If-None-Match` (a 304 keeps the
 * document). One fetch at a time: requests arriving while it runs wait for it (single
 * flight). Rejects with a `PolicyLoadError`: `policy_store_failed` (not 2xx; a network error
 * or the timeout rejects as `fetch` does), `invalid_policy_document` (not JSON, or no
 * `groups` object), `policy_document_too_large` (over `MAX_POLICY_DOCUMENT_BYTES`).
 * @param {{ url: URL | string, ttlSeconds?: number, timeoutMs?: number, fetch?: typeof fetch, clock?: () => number }} options
 *   `clock`: milliseconds, default `Date.now`
 * @returns {(groups: string[]) => Promise<Map<string, string | null>>}
 */
export function urlPolicyLoader({ ttlSeconds = DEFAULT_POLICIES_TTL_SECONDS, ...options }) {
  return urlDocumentLoader({
    ...options,
    ttlSeconds,
    member: "groups",
    what: "policies",
    error: (code, message) => new PolicyLoadError(code, message),
    codes: {
      failed: "policy_store_failed",
      invalid: "invalid_policy_document",
      tooLarge: "policy_document_too_large",
    },
  });
}

/**
 * Revocation records from one JSON document `{"revocations": {key: record | null}}` at `url`
 * (keys as the core names them: `user#{iss}#{sub}`, `session#{iss}#{origin_jti}`,
 * `token#{iss}#{jti}`), read as `urlPolicyLoader` reads policies: single flight, revalidated
 * by ETag after `ttlSeconds` (default 5), at most `MAX_POLICY_DOCUMENT_BYTES`. The core
 * keeps what it read for `revocation.freshnessSeconds`: a record added to the document
 * takes effect within `ttlSeconds + freshnessSeconds`. Rejects with an `AuthzError`:
 * `revocation_store_failed` (not 2xx), `invalid_revocation_document` (not JSON, or no
 * `revocations` object), `revocation_document_too_large`.
 * @param {{ url: URL | string, ttlSeconds?: number, timeoutMs?: number, fetch?: typeof fetch, clock?: () => number }} options
 * @returns {(keys: string[]) => Promise<Map<string, unknown>>}
 */
export function urlRevocationLoader({ ttlSeconds = DEFAULT_REVOCATIONS_TTL_SECONDS, ...options }) {
  return urlDocumentLoader({
    ...options,
    ttlSeconds,
    member: "revocations",
    what: "revocations",
    error: (code, message) => new AuthzError(code, message),
    codes: {
      failed: "revocation_store_failed",
      invalid: "invalid_revocation_document",
      tooLarge: "revocation_document_too_large",
    },
  });
}

/**
 * The loader behind `urlPolicyLoader` and `urlRevocationLoader`: the object under `member`
 * of the JSON document at `url`, fetched once per `ttlSeconds` (single flight, ETag), each
 * name asked for answered with its value (`null` when absent).
 */
function urlDocumentLoader({
  url,
  ttlSeconds,
  timeoutMs = DEFAULT_POLICIES_TIMEOUT_MS,
  fetch: fetchImpl = globalThis.fetch,
  clock = Date.now,
  member,
  what,
  error,
  codes,
}) {
  /** @type {{ etag: string | null, entries: Record<string, unknown>, checkedAt: number } | null} */
  let cached = null;
  /** @type {Promise<void> | null} */
  let inFlight = null;
  async function refresh() {
    const headers = { accept: JSON_TYPE, ...(cached?.etag ? { "if-none-match": cached.etag } : {}) };
    const response = await fetchImpl(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 304 && cached) {
      cached.checkedAt = clock();
      return;
    }
    if (!response.ok) {
      discard(response);
      throw error(codes.failed, `${what} ${url}: HTTP ${response.status}`);
    }
    const bytes = await readLimited(response, MAX_POLICY_DOCUMENT_BYTES, () =>
      error(codes.tooLarge, `${what} ${url}: larger than ${MAX_POLICY_DOCUMENT_BYTES} bytes`),
    );
    let document = null;
    try {
      document = parseJsonStrict(new TextDecoder().decode(bytes));
    } catch (problem) {
      if (problem?.code === "repeated_member") throw error(codes.invalid, `${what} ${url}: ${problem.message}`);
      // Not JSON: refused below.
    }
    if (!isPlainObject(document) || !isPlainObject(document[member])) {
      throw error(codes.invalid, `${what} ${url}: no \`${member}\` object`);
    }
    cached = { etag: response.headers.get("etag"), entries: document[member], checkedAt: clock() };
  }
  return async function load(names) {
    if (!cached || clock() - cached.checkedAt >= ttlSeconds * 1000) {
      inFlight ??= refresh().finally(() => (inFlight = null));
      await inFlight;
    }
    const entries = /** @type {NonNullable<typeof cached>} */ (cached).entries;
    return new Map(names.map((name) => [name, storedPolicy(Object.hasOwn(entries, name) ? entries[name] : null)]));
  };
}

/**
 * A context value as header text: strings, booleans and finite numbers only (what API
 * Gateway's context allows); anything else (`null`, a non-finite number, an object) is
 * `undefined`, and no header is written for it — as the Lambda authorizer leaves such a
 * value out of API Gateway's context.
 * @param {unknown} value
 * @returns {string | undefined}
 */
export function contextValueText(value) {
  if (typeof value === "string" || typeof value === "boolean") return headerValue(value);
  if (typeof value === "number" && Number.isFinite(value)) return headerValue(value);
  return undefined;
}

/**
 * The caller's identity as headers for the origin: `prefix` + `headerName(key)` (`clientId`
 * → `x-authz-client-id`) and `headerValue(value)`, in the context's order.
 * @param {string} prefix lower-case, validated (`identityPrefix`)
 * @param {Record<string, unknown> | null | undefined} context
 * @returns {Array<[string, string]>}
 */
export function identityHeaders(prefix, context) {
  /** @type {Array<[string, string]>} */
  const headers = [];
  for (const [name, value] of Object.entries(context ?? {})) {
    const text = contextValueText(value);
    if (text !== undefined) headers.push([prefix + headerName(name), text]);
  }
  return headers;
}

/** How the denial's headers are spelt where a runtime keeps the case (CloudFront). */
export const DENIAL_HEADER_CASE = Object.freeze({
  "content-type": "Content-Type",
  "cache-control": "Cache-Control",
  "www-authenticate": "WWW-Authenticate",
});

/**
 * Status, headers and body of a denial: the decision's status and body as the core rendered
 * them from the configuration (`unauthorized`, `forbidden`, `badRequest`, ...), JSON, never
 * cached (the same URL may be allowed with another token), and a 401 carries
 * `WWW-Authenticate: Bearer`. `null` (the authorizer failed): 503 with the unavailable body.
 * @param {{ status: number, body: string | null } | null | undefined} decision
 * @returns {{ status: number, headers: Record<string, string>, body: string }}
 */
export function denialResponse(decision) {
  const status = decision?.status ?? 503;
  // The core's denial headers (generated from src/decision.rs), a fresh copy to add to.
  const headers = { ...(status === 401 ? UNAUTHORIZED_HEADERS : DENIAL_HEADERS) };
  return { status, headers, body: decision?.body ?? UNAVAILABLE_BODY };
}

/**
 * The user's `log` as the authorizer calls it, everywhere (the core's glue included): a log
 * that throws, or rejects (an async one whose sink is down), changes no decision and never
 * becomes an unhandled rejection, which would end the process.
 * @param {(event: Record<string, unknown>) => unknown} log
 * @returns {(event: Record<string, unknown>) => void}
 */
export function safeLog(log) {
  return function logSafely(event) {
    try {
      const returned = log(event);
      if (typeof returned?.then === "function") returned.then(undefined, () => {});
    } catch {
      // Nowhere left to report it.
    }
  };
}

/**
 * The path a `claimCheck` judges: `decision.path` (canonical, wire form), lower-cased when
 * the request was matched case-insensitively, as the core matched it against the policies
 * and as such a router routes it (Express by default: `/v1/ADMIN` is served by `/v1/admin`'s
 * route, so a hook refusing `/v1/admin` must see `/v1/admin`). Non-ASCII letters, which the
 * wire form percent-encodes, are lower-cased too (find-my-way lower-cases the decoded path);
 * escapes keep their upper-case hex.
 * @param {string} path `decision.path`
 * @param {boolean} caseSensitive
 */
export function judgedPath(path, caseSensitive) {
  if (caseSensitive || typeof path !== "string") return path;
  return path.replace(/((?:%[89A-F][0-9A-F])+)|(%[0-9A-F]{2})|[^%]+/g, (part, nonAscii, escape) => {
    if (escape) return escape;
    if (!nonAscii) return part.toLowerCase();
    try {
      return decodeURIComponent(nonAscii)
        .toLowerCase()
        .replace(/[^\0-\x7f]+/g, encodeURIComponent);
    } catch {
      return nonAscii;
    }
  });
}

/**
 * A user's `claimCheck` on an allow, as every JavaScript adapter runs it: anything but
 * `true` (`false`, a throw, a rejection) turns the allow into the configured 403
 * `claim_check_failed`; it can refuse, never widen. `ask` calls the hook with the adapter's
 * arguments; `responses` is the authorizer (`responseFor`); a throw is logged, never a token.
 * @param {() => unknown} ask @param {any} decision
 * @param {{ responseFor(reason: string): object }} responses @param {(event: object) => void} log
 */
export async function checkClaims(ask, decision, responses, log) {
  let passed = false;
  try {
    passed = (await ask()) === true;
  } catch (error) {
    log({ event: "claim_check_error", ...thrownText(error) });
  }
  if (passed) return decision;
  const refused = { ...responses.responseFor("claim_check_failed"), context: decision.context, path: decision.path };
  if (decision.explanation !== undefined) refused.explanation = "claimCheck refused the caller the core allowed";
  return refused;
}

/** The code and message of what a hook threw, for the log: any value, never a throw of its own. */
function thrownText(error) {
  try {
    return {
      code: typeof error?.code === "string" ? error.code : "claim_check_threw",
      message: String(error?.message ?? error),
    };
  } catch {
    return { code: "claim_check_threw", message: "a thrown value with no text" };
  }
}
