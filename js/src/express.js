// Express / Connect middleware: `app.use(edgeAuthz({config, policies}))`. On allow,
// `req.auth` is the caller's identity and the next handler runs; otherwise the response is
// ended with the configured status and JSON body. Configuration errors throw here, at
// construction.
//
// The path authorized is the one Express routes: the request-target as received (Express
// matches it without decoding), with Express's own case and trailing-slash rules, read from
// the routers themselves per request (see `expressMatching`).
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
 * @param {object} options `{config, ...createAuthorizer options, sourceIp?, identityHeaderPrefix?}` or an authorizer
 * @returns {(req: any, res: any, next: (error?: unknown) => void) => void}
 */
export function edgeAuthz(options) {
  const { authorizer: given, sourceIp, identityHeaders } = splitOptions(options);
  const authorizer = authorizerFrom(given, "edgeAuthz (express)");
  const ipOf = sourceIp ?? ((req) => req.ip ?? req.socket?.remoteAddress);
  return function edgeAuthzMiddleware(req, res, next) {
    let decided;
    let path = "";
    try {
      // Before anything reads them, the core included: the app sees what was decided on.
      stripForgedHeaders(req, identityHeaders);
      path = routedUrl(req);
      decided = adapterAuthorize(
        authorizer,
        { method: req.method, path, headers: req.headers, sourceIp: ipOf(req), matching: expressMatching(req.app) },
        path,
      );
    } catch (error) {
      decided = Promise.reject(error);
    }
    decided.then(
      (decision) => {
        if (resolvedDotSegments(path, decision)) {
          send(res, denialResponse(ROUTER_REFUSAL));
        } else if (decision.outcome === "allow") {
          req.auth = decision.context;
          next();
        } else {
          send(res, denialResponse(decision));
        }
      },
      () => send(res, denialResponse(null)),
    );
  };
}

/**
 * The request-target the routers after this middleware match: `originalUrl` (as received),
 * unless an earlier middleware rewrote `req.url`, which Express then routes instead.
 * Mounted at `/api`, Express turns `/api?q` into `req.url` `/?q`: that is not a rewrite.
 */
function routedUrl(req) {
  const original = req.originalUrl ?? req.url;
  const base = req.baseUrl ?? "";
  const routed = base + req.url;
  if (routed === original) return original;
  if (base !== "" && (req.url === "/" || req.url.startsWith("/?")) && original === base + req.url.slice(1))
    return original;
  return routed;
}

/** One matching object per rule pair, kept: none is built per request. */
const MATCHINGS = [
  Object.freeze({ caseSensitive: false, trailingSlash: "strip" }),
  Object.freeze({ caseSensitive: true, trailingSlash: "strip" }),
  Object.freeze({ caseSensitive: false, trailingSlash: "keep" }),
  Object.freeze({ caseSensitive: true, trailingSlash: "keep" }),
];
/** Nested routers deeper than this count as unknown (case-insensitive, non-strict). */
const MAX_ROUTER_DEPTH = 8;

/**
 * How `app`'s routers match paths, as the core is to: case-sensitive only if every router
 * on the app is, strict (`/x/` ≠ `/x`) only if every one is. Read from the routers, not
 * from `app.get("case sensitive routing")`: Express 5 builds the app's router on its first
 * `use`/route with the settings of that moment and ignores later `app.set`, and every
 * `express.Router()` has its own options (insensitive and non-strict by default). A mounted
 * sub-app cannot be inspected: it counts as insensitive and non-strict, which never lets a
 * case or slash variant walk around a Deny. Express 4 and 5 alike (`appRouter`); if reading
 * the app or its routers throws, the least strict rules (case-insensitive, trailing slash
 * stripped), never an error. Exported for the tests.
 * @param {any} app `req.app`
 */
export function expressMatching(app) {
  try {
    const router = appRouter(app);
    if (router && Array.isArray(router.stack)) return MATCHINGS[routerRules(router, 0)];
    if (typeof app?.enabled === "function")
      return MATCHINGS[(app.enabled("case sensitive routing") ? 1 : 0) | (app.enabled("strict routing") ? 2 : 0)];
    // Not Express (Connect, node:http): the configuration's `request` rules.
    return null;
  } catch {
    // A getter that throws (Express 4's `app.router`, an app or router of another shape):
    // the least strict rules, under which no case or slash variant walks around a Deny.
    return MATCHINGS[0];
  }
}

/**
 * The app's router: Express 4 keeps it in `app._router` (its `app.router` getter throws
 * "'app.router' is deprecated!"), Express 5 in `app.router` (built on first read). Read
 * `_router` first, so Express 4's getter is not touched while it has a router.
 */
function appRouter(app) {
  return app?._router ?? app?.router;
}

/** Bit 1: case-sensitive, bit 2: strict, for `router` and every router under it. */
function routerRules(router, depth) {
  let rules = (router.caseSensitive === true ? 1 : 0) | (router.strict === true ? 2 : 0);
  for (const layer of router.stack) {
    if (rules === 0) break;
    const handle = layer?.handle;
    if (handle && Array.isArray(handle.stack) && depth < MAX_ROUTER_DEPTH) rules &= routerRules(handle, depth + 1);
    else if (handle?.name === "mounted_app" || (handle && Array.isArray(handle.stack))) rules = 0;
  }
  return rules;
}

function send(res, { status, headers, body }) {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(body);
}

export default edgeAuthz;
