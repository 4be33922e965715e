// What the Node middlewares share: building the authorizer from their options and removing
// forged identity and method-override headers (a denial's shape is the host layer's,
// `denialResponse` in host.js).
import { ADAPTER_AUTHORIZE, createAuthorizer } from "./node.js";
import { ConfigError } from "./errors.js";
import { identityHeaderMatcher, METHOD_OVERRIDE_HEADER, resolvedDotSegments, ROUTER_REFUSAL } from "./identity.js";

export { identityHeaderMatcher, resolvedDotSegments, ROUTER_REFUSAL };

/**
 * The authorizer's own entry for the adapters (`createAuthorizer`'s authorizers have it):
 * `authorize` plus, for `onDecision`, the router's view (`routed`: the request-target the
 * app's router gets, refused with `ROUTER_REFUSAL` when it would route another path) and
 * failures reported as 503 decisions. Any other object with `authorize` is called as is.
 * @param {any} authorizer
 * @param {object} input
 * @param {string | null} routed
 */
export function adapterAuthorize(authorizer, input, routed) {
  const entry = authorizer[ADAPTER_AUTHORIZE];
  return typeof entry === "function" ? entry.call(authorizer, input, routed) : authorizer.authorize(input);
}

/**
 * An authorizer given as is (anything with `authorize`), or built from `{config, ...options}`.
 * @param {any} options
 * @param {string} where for error messages
 */
export function authorizerFrom(options, where) {
  if (typeof options?.authorize === "function") return options;
  if (typeof options !== "object" || options === null) {
    throw new ConfigError(`${where}: expected {config, ...options} or an authorizer from createAuthorizer`);
  }
  const { config, sourceIp, ...rest } = options;
  if (config === undefined) throw new ConfigError(`${where}: \`config\` is required (or pass an authorizer)`);
  return createAuthorizer(config, rest);
}

/** Middleware options that are not the authorizer's. */
export function splitOptions(options) {
  if (typeof options?.authorize === "function")
    return { authorizer: options, sourceIp: null, identityHeaders: identityHeaderMatcher("x-authz-") };
  const { sourceIp = null, authorizer, identityHeaderPrefix, ...rest } = options ?? {};
  if (sourceIp !== null && typeof sourceIp !== "function")
    throw new ConfigError("sourceIp: must be a function (request) => string");
  if (authorizer !== undefined) {
    if (typeof authorizer?.authorize !== "function")
      throw new ConfigError("authorizer: must be an authorizer from createAuthorizer");
    // Options beside a built authorizer would be silently ignored: refuse them instead.
    const ignored = Object.keys(rest);
    if (ignored.length)
      throw new ConfigError(
        `\`${ignored[0]}\`: with \`authorizer\`, give the authorizer's options to createAuthorizer (here: sourceIp, identityHeaderPrefix)`,
      );
  }
  return { authorizer: authorizer ?? rest, sourceIp, identityHeaders: identityHeaderMatcher(identityHeaderPrefix) };
}

/**
 * Removes, from a node:http request, the headers a client must not hand the app: those
 * under the identity prefix (`identityHeaderMatcher`: any case, `-` and `_` alike) — the
 * Worker and Lambda@Edge send the caller's identity to their origin under it, so an app
 * behind either, or one that trusts such headers, must never get a client's own — and the
 * method-override headers (`METHOD_OVERRIDE_HEADER`), so that a `method-override` mounted
 * after the middleware cannot route another method than the one authorized. Both views
 * Node keeps are cleaned, `headers` (names lower-cased) and `rawHeaders` (names as sent),
 * before anything reads them.
 * @param {{ headers?: Record<string, unknown>, rawHeaders?: string[] }} req
 * @param {RegExp} matcher from `identityHeaderMatcher`
 */
export function stripForgedHeaders(req, matcher) {
  const { headers, rawHeaders } = req;
  const forged = (name) => matcher.test(name) || METHOD_OVERRIDE_HEADER.test(name);
  if (headers) for (const name in headers) if (forged(name)) delete headers[name];
  if (Array.isArray(rawHeaders)) {
    for (let i = rawHeaders.length - 2; i >= 0; i -= 2) if (forged(rawHeaders[i])) rawHeaders.splice(i, 2);
  }
}
