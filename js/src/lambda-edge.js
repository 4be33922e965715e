// Lambda@Edge (CloudFront viewer-request): `export const handler = createHandler(bundle)`.
// Allow → the request goes on with `uri` set to the canonical path that was authorized and
// the caller's identity as headers (forged ones removed, whatever their case and with `-` or
// `_`, and method-override headers too); deny → a CloudFront response (`status` as a string,
// headers as `{key, value}` lists, JSON body).
// Lambda@Edge has no environment variables: the bundle (configuration, policies, preloaded
// JWKS) is built into the zip by `make lambda-edge-zip`, policies may come from a URL.
import { ADAPTER_AUTHORIZE, createAuthorizer } from "./node.js";
import { ConfigError } from "./errors.js";
import { DENIAL_HEADER_CASE, denialResponse, identityHeaders as identityHeaderPairs, safeLog } from "./host.js";
import { decisionLogEvent, identityHeaderMatcher, identityPrefix, METHOD_OVERRIDE_HEADER } from "./identity.js";

const STATUS_TEXT = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};
const BUNDLE_MEMBERS = [
  "config",
  "policies",
  "revocations",
  "policiesTimeoutMs",
  "revocationsTimeoutMs",
  "jwks",
  "identityHeaderPrefix",
  "forwardAuthorization",
  "jwksTimeoutMs",
  "explain",
  "backend",
  "log",
  "now",
  "fetch",
  "onDecision",
  "claimCheck",
  "metrics",
];

/** A CloudFront header list entry. */
const cfHeader = (key, value) => [{ key, value }];

/**
 * @param {object} bundle `{config, policies?, jwks?, identityHeaderPrefix?, forwardAuthorization?, jwksTimeoutMs?, explain?}`
 * @returns {(event: any) => Promise<any>}
 */
export function createHandler(bundle) {
  if (typeof bundle !== "object" || bundle === null)
    throw new ConfigError("createHandler: expected {config, policies?, jwks?, ...}");
  const unknown = Object.keys(bundle).filter((name) => !BUNDLE_MEMBERS.includes(name));
  if (unknown.length)
    throw new ConfigError(`createHandler: unknown member \`${unknown[0]}\` (known: ${BUNDLE_MEMBERS.join(", ")})`);
  const { config, identityHeaderPrefix = "x-authz-", forwardAuthorization = true, ...options } = bundle;
  const prefix = identityPrefix(identityHeaderPrefix, "createHandler: identityHeaderPrefix");
  const identityHeaders = identityHeaderMatcher(prefix);
  if (typeof forwardAuthorization !== "boolean")
    throw new ConfigError("createHandler: forwardAuthorization must be true or false");
  const authorizer = createAuthorizer(config, options);
  const log = safeLog(
    options.log === false ? () => {} : (options.log ?? ((event) => console.log(JSON.stringify(event)))),
  );

  return async function handler(event) {
    const request = event?.Records?.[0]?.cf?.request;
    if (!request || typeof request.uri !== "string" || typeof request.method !== "string") {
      log({ event: "authz", reason: "invalid_event", status: 503 });
      return response(denialResponse(null));
    }
    let decision;
    try {
      decision = await authorizer[ADAPTER_AUTHORIZE](
        {
          method: request.method,
          path: request.uri,
          headers: cloudFrontHeaderPairs(request.headers),
          query: request.querystring ?? "",
          sourceIp: request.clientIp,
          secureTransport: secureTransportOf(request.headers),
        },
        null,
      );
    } catch (error) {
      log({
        event: "authz",
        reason: error?.code ?? "internal_error",
        status: 503,
        method: request.method,
        path: request.uri,
      });
      return response(denialResponse(null));
    }
    log(decisionLogEvent(decision, request.method, request.uri));
    if (decision.outcome !== "allow") return response(denialResponse(decision));
    const headers = forwardedHeaders(request.headers, identityHeaders, forwardAuthorization);
    for (const [header, value] of identityHeaderPairs(prefix, decision.context))
      headers[header] = cfHeader(header, value);
    // The origin gets the path that was authorized, never the one received (`/v1/../v2/x`).
    return { ...request, uri: decision.path, headers };
  };
}

/**
 * The event's headers minus identity-prefixed ones (any case, `-` and `_` alike:
 * `identityHeaderMatcher`), method-override ones (`METHOD_OVERRIDE_HEADER`: the origin would
 * route another method than the one authorized), and `Authorization` if not forwarded.
 * CloudFront keys the map by lower-case name, but an event is data: both the map key and
 * each entry's `key` are compared in any case, and an entry is dropped on either.
 * @param {RegExp} identityHeaders from `identityHeaderMatcher`
 */
function forwardedHeaders(headers, identityHeaders, forwardAuthorization) {
  const dropped = (lower) =>
    identityHeaders.test(lower) ||
    METHOD_OVERRIDE_HEADER.test(lower) ||
    (!forwardAuthorization && lower === "authorization");
  const kept = {};
  for (const [name, list] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (dropped(lower)) continue;
    if (!Array.isArray(list)) {
      kept[name] = list;
      continue;
    }
    const entries = list.filter((entry) => !dropped(typeof entry?.key === "string" ? entry.key.toLowerCase() : lower));
    if (entries.length) kept[name] = entries;
  }
  return kept;
}

/** `{name: [{key, value}, ...]}` → `[name, value]` pairs. */
function cloudFrontHeaderPairs(headers) {
  const pairs = [];
  for (const [name, list] of Object.entries(headers ?? {})) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) if (typeof entry?.value === "string") pairs.push([name, entry.value]);
  }
  return pairs;
}

/** `CloudFront-Forwarded-Proto` when the distribution forwards it; unknown otherwise. */
function secureTransportOf(headers) {
  const proto = headers?.["cloudfront-forwarded-proto"]?.[0]?.value;
  return proto === undefined ? null : proto === "https";
}

/** A denial (`denialResponse`) as CloudFront takes it: status as a string, `{key, value}` header lists. */
function response({ status, headers: denialHeaders, body }) {
  const headers = {};
  for (const [name, value] of Object.entries(denialHeaders))
    headers[name] = cfHeader(DENIAL_HEADER_CASE[name] ?? name, value);
  return { status: String(status), statusDescription: STATUS_TEXT[status] ?? "Denied", headers, body };
}
