// Identity headers sent to the origin, shared by the Worker, Lambda@Edge and Node adapters,
// and the incoming headers every adapter removes: forged identity headers and method
// overrides.

import { ConfigError } from "./errors.js";

/**
 * The identity header prefix, lower-cased, or an `invalid_config` error naming `where`.
 * @param {unknown} prefix default `x-authz-`
 * @param {string} where the option's name, for the message
 * @returns {string}
 */
export function identityPrefix(prefix = "x-authz-", where = "identityHeaderPrefix") {
  const lower = String(prefix).toLowerCase();
  if (!/^[a-z0-9-]+$/.test(lower)) throw new ConfigError(`${where} must be letters, digits and dashes: ${prefix}`);
  return lower;
}

/**
 * Matches the names of incoming headers under the identity prefix: in any case, and with
 * `-` and `_` alike (`X_Authz_Sub`, `x-authz_groups`), as CGI, WSGI, Rack and PHP origins
 * map both to the same variable (`HTTP_X_AUTHZ_SUB`): a client's own would reach them as, or
 * comma-joined with, the identity we send. The identity headers written keep the `-`.
 * @param {string | undefined} prefix validated by `identityPrefix` (default `x-authz-`)
 * @returns {RegExp}
 */
export function identityHeaderMatcher(prefix) {
  return new RegExp(`^${identityPrefix(prefix).replace(/-/g, "[-_]")}`, "i");
}

/**
 * Method-override headers (`X-HTTP-Method-Override`, `X-HTTP-Method`, `X-Method-Override`,
 * in any case, `-` and `_` alike): Express's `method-override` and many frameworks route a
 * `POST` carrying one as the method it names, which is not the method authorized. Every
 * adapter removes them.
 */
export const METHOD_OVERRIDE_HEADER = /^x[-_](?:http[-_]method(?:[-_]override)?|method[-_]override)$/i;

/** `clientId` → `client-id`; anything but letters, digits and dashes → `-`. */
export function headerName(key) {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-");
}

/** Printable ASCII as is; `%`, controls and non-ASCII percent-encoded (UTF-8), unambiguously. */
export function headerValue(value) {
  return String(value).replace(/[^\x20-\x24\x26-\x7e]+/gu, (run) => encodeURIComponent(run));
}

/** The JSON body answered when the authorizer itself cannot decide. */
export { UNAVAILABLE_BODY } from "./core-codes.js";

/**
 * The `authz` log line of a decision, shared by the Worker and Lambda@Edge: never the token;
 * `authorizedPath` when the core rewrote the path it decided on.
 * @param {{ reason: string, status: number, path: string, explanation?: string }} decision
 * @param {string} method
 * @param {string} path the path as received
 */
export function decisionLogEvent(decision, method, path) {
  return {
    event: "authz",
    reason: decision.reason,
    status: decision.status,
    method,
    path,
    ...(decision.path !== path ? { authorizedPath: decision.path } : {}),
    ...(decision.explanation ? { explanation: decision.explanation } : {}),
  };
}

/** A `.` or `..` segment of a path, raw or percent-encoded (`%2e`), up to its query. */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:[/?#]|$)/i;

/**
 * Whether the core made its decision for a path the app's router does not route: Express and
 * find-my-way never resolve dot segments, so with the configuration's `dotSegments:
 * "resolve"` the core would authorize `/a/admin/..` as `/a/` while the router sends it to a
 * route under `/a/admin`. The middlewares refuse such a request (400) instead.
 * @param {string} target the request-target the router got
 * @param {{ outcome: string }} decision
 */
export function resolvedDotSegments(target, decision) {
  if (decision.outcome === "bad_request" || (!target.includes(".") && !/%2e/i.test(target))) return false;
  const end = target.search(/[?#]/);
  return DOT_SEGMENT.test(end < 0 ? target : target.slice(0, end));
}

/**
 * What the middlewares answer for a path their router would read otherwise than the core
 * (`resolvedDotSegments`, and Fastify's lower-casing): 400, the core's default body.
 */
export const ROUTER_REFUSAL = Object.freeze({
  outcome: "bad_request",
  reason: "path_router_mismatch",
  status: 400,
  body: JSON.stringify({ message: "Bad Request" }),
});
