// Lambda@Edge (CloudFront viewer-request): `export const handler = createHandler(bundle)`.
// Allow → the request goes on with `uri` set to the canonical path that was authorized and
// the caller's identity as headers (forged ones removed, whatever their case and with `-` or
// `_`, and method-override headers too); deny → a CloudFront response (`status` as a string,
// headers as `{key, value}` lists, JSON body).
// Lambda@Edge has no environment variables: the bundle (configuration, policies, preloaded
// JWKS) is built into the zip by `make lambda-edge-zip`, policies may come from a URL.
import { ADAPTER_AUTHORIZE, createAuthorizer } from "./node.js";
import { decisionLogEvent, headerName, headerValue, identityHeaderMatcher, identityPrefix, METHOD_OVERRIDE_HEADER, UNAVAILABLE_BODY } from "./identity.js";

const STATUS_TEXT = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable" };
const BUNDLE_MEMBERS = ["config", "policies", "jwks", "identityHeaderPrefix", "forwardAuthorization", "jwksTimeoutMs", "explain", "log", "now", "fetch", "onDecision", "claimCheck"];

/** A CloudFront header list entry. */
const cfHeader = (key, value) => [{ key, value }];

/**
 * @param {object} bundle `{config, policies?, jwks?, identityHeaderPrefix?, forwardAuthorization?, jwksTimeoutMs?, explain?}`
 * @returns {(event: any) => Promise<any>}
 */
export function createHandler(bundle) {
  if (typeof bundle !== "object" || bundle === null) throw Object.assign(new Error("createHandler: expected {config, policies?, jwks?, ...}"), { code: "invalid_config" });
  const unknown = Object.keys(bundle).filter((name) => !BUNDLE_MEMBERS.includes(name));
  if (unknown.length) throw Object.assign(new Error(`createHandler: unknown member \`${unknown[0]}\` (known: ${BUNDLE_MEMBERS.join(", ")})`), { code: "invalid_config" });
  const { config, identityHeaderPrefix = "x-authz-", forwardAuthorization = true, ...options } = bundle;
  const prefix = identityPrefix(identityHeaderPrefix, "createHandler: identityHeaderPrefix");
  const identityHeaders = identityHeaderMatcher(prefix);
  if (typeof forwardAuthorization !== "boolean") throw Object.assign(new Error("createHandler: forwardAuthorization must be true or false"), { code: "invalid_config" });
  const authorizer = createAuthorizer(config, options);
  const log = options.log === false ? () => {} : options.log ?? ((event) => console.log(JSON.stringify(event)));

  return async function handler(event) {
    const request = event?.Records?.[0]?.cf?.request;
    if (!request || typeof request.uri !== "string" || typeof request.method !== "string") {
      log({ event: "authz", reason: "invalid_event", status: 503 });
      return response(503, UNAVAILABLE_BODY);
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
      log({ event: "authz", reason: error?.code ?? "internal_error", status: 503, method: request.method, path: request.uri });
      return response(503, UNAVAILABLE_BODY);
    }
    log(decisionLogEvent(decision, request.method, request.uri));
    if (decision.outcome !== "allow") return response(decision.status, decision.body ?? UNAVAILABLE_BODY);
    const headers = forwardedHeaders(request.headers, identityHeaders, forwardAuthorization);
    for (const [name, value] of Object.entries(decision.context)) {
      const header = prefix + headerName(name);
      headers[header] = cfHeader(header, headerValue(value));
    }
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
  const dropped = (lower) => identityHeaders.test(lower) || METHOD_OVERRIDE_HEADER.test(lower) || (!forwardAuthorization && lower === "authorization");
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

function response(status, body) {
  const headers = {
    "content-type": cfHeader("Content-Type", "application/json"),
    "cache-control": cfHeader("Cache-Control", "no-store"),
  };
  if (status === 401) headers["www-authenticate"] = cfHeader("WWW-Authenticate", "Bearer");
  return { status: String(status), statusDescription: STATUS_TEXT[status] ?? "Denied", headers, body };
}
