// Fastify plugin: `app.register(edgeAuthz, {config, policies})`. An `onRequest` hook decides
// every request of the instance (the plugin is not encapsulated); `request.auth` is the
// caller's identity. Configuration errors fail the registration (`app.ready()`).
//
// The path authorized is the one Fastify's router (find-my-way) matched: the request-target
// as the router received it (`request.raw.url`, after any `rewriteUrl`), with the router's
// case, trailing-slash and duplicate-slash options, read once at registration (see
// `fastifyMatching`). find-my-way decodes percent-escapes before matching except the
// reserved `# $ % & + , / : ; = ? @` (`/v2/%61dmin` matches `/v2/admin`); the core decodes
// the same letters, so such a request is authorized as the path it is routed to.
import { denialResponse } from "./host.js";
import {
  adapterAuthorize,
  authorizerFrom,
  ROUTER_REFUSAL,
  resolvedDotSegments,
  splitOptions,
  stripForgedHeaders,
} from "./http.js";

/**
 * @param {any} fastify
 * @param {object} options `{config, ...createAuthorizer options, sourceIp?, identityHeaderPrefix?}` or `{authorizer}`
 */
export async function edgeAuthz(fastify, options) {
  const { authorizer: given, sourceIp, identityHeaders } = splitOptions(options);
  const authorizer = authorizerFrom(given, "edgeAuthz (fastify)");
  const ipOf = sourceIp ?? ((request) => request.ip);
  const router = fastifyRouterOptions(fastify);
  const matching = fastifyMatching(router);
  if (!fastify.hasRequestDecorator("auth")) fastify.decorateRequest("auth", null);
  fastify.addHook("onRequest", async (request, reply) => {
    let decision = null;
    try {
      stripForgedHeaders(request.raw, identityHeaders);
      if (request.additionalHeaders) stripForgedHeaders({ headers: request.additionalHeaders }, identityHeaders);
      const path = router.useSemicolonDelimiter ? semicolonAsQuery(request.raw.url) : request.raw.url;
      decision = await adapterAuthorize(
        authorizer,
        { method: request.method, path, headers: request.raw.headers, sourceIp: ipOf(request), matching },
        path,
      );
      if (resolvedDotSegments(path, decision)) decision = ROUTER_REFUSAL;
    } catch {
      decision = null;
    }
    if (decision?.outcome === "allow") {
      request.auth = decision.context;
      return;
    }
    const { status, headers, body } = denialResponse(decision);
    reply.code(status).headers(headers).send(body);
    return reply;
  });
}

/**
 * The options Fastify built its find-my-way router from. Fastify keeps them (every router
 * option, `routerOptions` over the deprecated top-level ones) under its private
 * `fastify.options` symbol; `initialConfig` is not enough, as its `routerOptions` gets
 * defaults filled in that the router never saw (`{ignoreTrailingSlash: true, routerOptions:
 * {maxParamLength: 50}}` routes with `ignoreTrailingSlash` but `initialConfig` says false).
 * Without the symbol (another Fastify), each option is taken as its least strict value in
 * `initialConfig`: a case or slash variant is then matched as the Deny it might reach.
 * Exported for the tests.
 * @param {any} fastify
 * @returns {{ caseSensitive: boolean, ignoreTrailingSlash: boolean, ignoreDuplicateSlashes: boolean, useSemicolonDelimiter: boolean }}
 */
export function fastifyRouterOptions(fastify) {
  const built = privateOptions(fastify)?.routerOptions;
  if (built && typeof built === "object") {
    return {
      caseSensitive: built.caseSensitive !== false,
      ignoreTrailingSlash: built.ignoreTrailingSlash === true,
      ignoreDuplicateSlashes: built.ignoreDuplicateSlashes === true,
      useSemicolonDelimiter: built.useSemicolonDelimiter === true,
    };
  }
  const top = fastify.initialConfig ?? {};
  const nested = top.routerOptions ?? {};
  return {
    caseSensitive: top.caseSensitive !== false && nested.caseSensitive !== false,
    ignoreTrailingSlash: top.ignoreTrailingSlash === true || nested.ignoreTrailingSlash === true,
    ignoreDuplicateSlashes: top.ignoreDuplicateSlashes === true || nested.ignoreDuplicateSlashes === true,
    useSemicolonDelimiter: top.useSemicolonDelimiter === true || nested.useSemicolonDelimiter === true,
  };
}

/** `fastify[Symbol('fastify.options')]`, on the instance or the one it was derived from. */
function privateOptions(fastify) {
  for (let object = fastify, depth = 0; object && depth < 32; object = Object.getPrototypeOf(object), depth++) {
    const symbol = Object.getOwnPropertySymbols(object).find((s) => s.description === "fastify.options");
    if (symbol) return object[symbol];
  }
  return null;
}

/** The core's matching for find-my-way's options (one object for the instance's life). */
export function fastifyMatching({ caseSensitive, ignoreTrailingSlash, ignoreDuplicateSlashes }) {
  return Object.freeze({
    caseSensitive,
    trailingSlash: ignoreTrailingSlash ? "strip" : "keep",
    mergeSlashes: ignoreDuplicateSlashes,
  });
}

/**
 * With `useSemicolonDelimiter`, find-my-way ends the path at the first `;` (before any `?` or
 * `#`) and reads the rest as the query: `/admin;x` routes to `/admin`. The core is given the
 * same split, so it authorizes `/admin`.
 */
function semicolonAsQuery(url) {
  const semicolon = url.indexOf(";");
  if (semicolon < 0) return url;
  const question = url.indexOf("?");
  const hash = url.indexOf("#");
  if ((question >= 0 && question < semicolon) || (hash >= 0 && hash < semicolon)) return url;
  return `${url.slice(0, semicolon)}?${url.slice(semicolon + 1)}`;
}

// What fastify-plugin does: the hook applies to the registering instance, not a child scope.
Object.defineProperty(edgeAuthz, Symbol.for("skip-override"), { value: true });
Object.defineProperty(edgeAuthz, Symbol.for("fastify.display-name"), { value: "edge-authz" });
Object.defineProperty(edgeAuthz, Symbol.for("plugin-meta"), { value: { name: "edge-authz" } });

export default edgeAuthz;
