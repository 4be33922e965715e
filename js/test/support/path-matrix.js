// The path-confusion matrix (issue 14), one list for every adapter: request-targets that a
// router, a URL parser or the core might read differently, each sent as a raw request line
// (support/raw-http.js) to Express, Fastify and the Worker in workerd, and as a CloudFront
// event to Lambda@Edge. The policy allows GET and HEAD on /petstore/* and denies GET on
// /petstore/v2/admin (written for GET only: the core's Deny covers HEAD, as Express and
// Fastify answer HEAD with the GET handler). Whatever the adapter, for every target:
//   - the admin handler never answers 200;
//   - what the app or origin receives is the path the authorizer authorized;
//   - no client-sent `x-authz-*` header reaches it (nor `x_authz_*`, nor a method override);
//   - the status is the expected one for the adapter's view (below).
import express from "express";
import Fastify from "fastify";
import { jwksDocument, suiteKeys, tokenOf } from "./suite.js";

export const keys = suiteKeys();
/** The injected clock (2026-01-01T00:00:00Z). */
export const NOW = 1767225600;
export const POOL = "us-east-1_SuitePool1";
export const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
export const JWKS_URI = `${ISSUER}/.well-known/jwks.json`;
export const JWKS = jwksDocument(keys, ["suite-rsa-1"]);
export const GROUP = "keepers";
const ARN = "arn:aws:execute-api:us-east-1:123456789012:petstore1/prod";

/** The api-id, stage and method slots spelled out (no wildcard for them). */
export const POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PetStore",
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: [`${ARN}/GET/petstore/*`, `${ARN}/HEAD/petstore/*`],
    },
    { Sid: "NoAdmin", Effect: "Deny", Action: "execute-api:Invoke", Resource: `${ARN}/GET/petstore/v2/admin` },
  ],
};

/**
 * The configuration: the pool, the API's slots, the policy bundled, `request` rules if given.
 * @param {string} jwksUri
 * @param {Record<string, unknown>} [request] the configuration's `request` section
 */
export function matrixConfig(jwksUri = JWKS_URI, request = undefined) {
  return {
    issuers: [{ userPoolId: POOL, tokenUse: "access", clientId: ["suite-client"], jwksUri }],
    api: { region: "us-east-1", accountId: "123456789012", apiId: "petstore1", stage: "prod" },
    policies: { groups: { [GROUP]: POLICY } },
    ...(request ? { request } : {}),
  };
}

/**
 * For the method-override tests: POST (and GET, HEAD) allowed on /petstore/*, DELETE denied
 * there, so a POST that an origin routes as DELETE is a way around the Deny.
 */
export const METHOD_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "PetStore",
      Effect: "Allow",
      Action: "execute-api:Invoke",
      Resource: ["GET", "HEAD", "POST"].map((method) => `${ARN}/${method}/petstore/*`),
    },
    { Sid: "NoDelete", Effect: "Deny", Action: "execute-api:Invoke", Resource: `${ARN}/DELETE/petstore/*` },
  ],
};

/** `matrixConfig` with `METHOD_POLICY` for the group. */
export function methodConfig(jwksUri = JWKS_URI) {
  return { ...matrixConfig(jwksUri), policies: { groups: { [GROUP]: METHOD_POLICY } } };
}

export const SUB = "a1b2c3d4-0000-4000-8000-000000000014";
/** A valid access token of a caller in `keepers` at `NOW`. */
export function matrixToken() {
  return tokenOf(
    {
      key: "suite-rsa-1",
      claims: {
        iss: ISSUER,
        sub: SUB,
        "cognito:groups": [GROUP],
        token_use: "access",
        client_id: "suite-client",
        username: "keeper",
        scope: "pets",
        iat: NOW - 60,
        exp: NOW + 3600,
      },
    },
    keys,
  );
}

/**
 * Identity headers a client forges, in odd cases and with `_` for `-` (a CGI, WSGI, Rack or
 * PHP origin reads `X_Authz_Sub` as `X-Authz-Sub`, and comma-joins `x-authz_groups` with the
 * real `x-authz-groups`): none may reach an app.
 */
export const FORGED = [
  ["X-Authz-Sub", "forged"],
  ["x-AUTHZ-groups", "admins"],
  ["X_Authz_Sub", "forged-underscore"],
  ["x-authz_groups", "admins-underscore"],
];

/** Method-override headers a client sends: none may reach an app (it would route the method they name). */
export const OVERRIDES = [
  ["X-HTTP-Method-Override", "DELETE"],
  ["x_http_method", "DELETE"],
  ["X-Method-Override", "DELETE"],
];

/** A header name under the identity prefix, `-` and `_` alike (names lower-cased). */
const IDENTITY_NAME = /^x[-_]authz[-_]/;
/** A method-override header name, `-` and `_` alike (names lower-cased). */
const OVERRIDE_NAME = /^x[-_](?:http[-_]method(?:[-_]override)?|method[-_]override)$/;

const ALLOW = 200;
const DENY = 403;
const REFUSE = 400;

/**
 * A view is how an adapter sees a target: its router's matching and who parsed the request
 * line first. `node`: Node's HTTP parser (Express, Fastify); `workerd`: workerd, which parses
 * the URL before the Worker; `event`: a CloudFront event, given to the handler as is.
 * @typedef {{ caseSensitive: boolean, strip: boolean, merge: boolean, parser: "node" | "workerd" | "event" }} View
 *
 * An entry's `status` is for a case-sensitive, keep-the-slash, no-merge view given the
 * target as is; the others override it for the views they name:
 *   insensitive (case-insensitive matching), merged (duplicate slashes merged),
 *   node (Node's parser answers it: 400, no app runs), workerd (workerd changes the target
 *   first: the status of what the Worker then sees; "error" when workerd answers 5xx itself),
 *   event (a CloudFront event: the raw target reaches the handler, unlike a request line).
 * @typedef {{ name: string, target: string, method?: string, status: number, reason?: string,
 *   insensitive?: number, merged?: number, node?: number, workerd?: number | "error", event?: number }} Entry
 */

/** @type {Entry[]} */
export const TARGETS = [
  // What is allowed, and the denied path itself.
  { name: "pets", target: "/petstore/v1/pets", status: ALLOW },
  { name: "pets with a query", target: "/petstore/v1/pets?limit=2&x=/../", status: ALLOW },
  { name: "HEAD pets", method: "HEAD", target: "/petstore/v1/pets", status: ALLOW },
  { name: "another v2 path", target: "/petstore/v2/status", status: ALLOW },
  { name: "admin", target: "/petstore/v2/admin", status: DENY },
  { name: "HEAD admin (the Deny names GET)", method: "HEAD", target: "/petstore/v2/admin", status: DENY },
  { name: "admin with a query", target: "/petstore/v2/admin?x=/../v1/pets", status: DENY },
  // Case.
  { name: "ADMIN", target: "/petstore/v2/ADMIN", status: ALLOW, insensitive: DENY },
  { name: "Admin", target: "/petstore/v2/Admin", status: ALLOW, insensitive: DENY },
  { name: "PETSTORE (the Allow is lower-case)", target: "/PETSTORE/v2/admin", status: DENY },
  { name: "ADMIN/", target: "/petstore/v2/ADMIN/", status: ALLOW, insensitive: DENY },
  // Trailing and duplicate slashes.
  { name: "admin/", target: "/petstore/v2/admin/", status: DENY },
  { name: "admin/ with a query", target: "/petstore/v2/admin/?a=b", status: DENY },
  { name: "admin//", target: "/petstore/v2/admin//", status: REFUSE, reason: "path_empty_segment", merged: DENY },
  { name: "v2//admin", target: "/petstore/v2//admin", status: REFUSE, reason: "path_empty_segment", merged: DENY },
  { name: "//petstore", target: "//petstore/v2/admin", status: REFUSE, reason: "path_empty_segment", merged: DENY },
  // Fragments and parameters.
  { name: "fragment", target: "/petstore/v2/admin#x", status: REFUSE, reason: "path_fragment", workerd: DENY },
  // workerd resolves the dot segments after the `#` into the path: the Worker sees (and
  // forwards) /petstore/v1/pets.
  {
    name: "fragment hiding a path",
    target: "/petstore/v2/admin#/../../v1/pets",
    status: REFUSE,
    reason: "path_fragment",
    workerd: ALLOW,
  },
  { name: "semicolon", target: "/petstore/v2/admin;x", status: REFUSE, reason: "path_semicolon" },
  { name: "semicolon session id", target: "/petstore/v2/admin;jsessionid=1", status: REFUSE, reason: "path_semicolon" },
  { name: "encoded semicolon", target: "/petstore/v2/admin%3Bx", status: REFUSE, reason: "path_semicolon" },
  // Encoded letters.
  { name: "%61dmin", target: "/petstore/v2/%61dmin", status: DENY },
  { name: "adm%69n", target: "/petstore/v2/adm%69n", status: DENY },
  { name: "every letter, lower-case hex", target: "/petstore/v2/%61%64%6d%69%6e", status: DENY },
  { name: "every letter, upper-case hex", target: "/petstore/v2/%61%64%6D%69%6E", status: DENY },
  { name: "%70etstore", target: "/%70etstore/v2/admin", status: DENY },
  { name: "HEAD %61dmin", method: "HEAD", target: "/petstore/v2/%61dmin", status: DENY },
  { name: "%41DMIN (encoded upper case)", target: "/petstore/v2/%41DMIN", status: ALLOW, insensitive: DENY },
  { name: "an encoded letter of an allowed path", target: "/petstore/v1/%70ets", status: ALLOW },
  { name: "double encoding", target: "/petstore/v2/%2561dmin", status: REFUSE, reason: "path_double_encoding" },
  { name: "double-encoded dot", target: "/petstore/v2/admin%252e", status: REFUSE, reason: "path_double_encoding" },
  { name: "encoded # stays a character", target: "/petstore/v2/admin%23x", status: ALLOW },
  { name: "encoded ? stays a character", target: "/petstore/v2/admin%3Fx", status: ALLOW },
  // Slashes and backslashes, raw and encoded.
  { name: "%2F", target: "/petstore/v2%2Fadmin", status: REFUSE, reason: "path_encoded_slash" },
  { name: "%2f", target: "/petstore/v2%2fadmin", status: REFUSE, reason: "path_encoded_slash" },
  { name: "every slash %2F", target: "/petstore%2Fv2%2Fadmin", status: REFUSE, reason: "path_encoded_slash" },
  { name: "backslash", target: "/petstore/v2\\admin", status: REFUSE, reason: "path_backslash", workerd: DENY },
  { name: "%5C", target: "/petstore/v2%5Cadmin", status: REFUSE, reason: "path_backslash" },
  // Dot segments, raw and encoded, and trailing dots.
  { name: "./", target: "/petstore/v2/./admin", status: REFUSE, reason: "path_dot_segment", workerd: DENY },
  { name: "%2e/", target: "/petstore/v2/%2e/admin", status: REFUSE, reason: "path_dot_segment", workerd: DENY },
  { name: "../", target: "/petstore/v1/../v2/admin", status: REFUSE, reason: "path_dot_segment", workerd: DENY },
  {
    name: "%2e%2e/",
    target: "/petstore/v1/%2e%2e/v2/admin",
    status: REFUSE,
    reason: "path_dot_segment",
    workerd: DENY,
  },
  {
    name: "%2E%2E/",
    target: "/petstore/v1/%2E%2E/v2/admin",
    status: REFUSE,
    reason: "path_dot_segment",
    workerd: DENY,
  },
  {
    name: "admin/../admin",
    target: "/petstore/v2/admin/../admin",
    status: REFUSE,
    reason: "path_dot_segment",
    workerd: DENY,
  },
  {
    name: "admin/.. (its parent)",
    target: "/petstore/v2/admin/..",
    status: REFUSE,
    reason: "path_dot_segment",
    workerd: ALLOW,
  },
  { name: "admin/.", target: "/petstore/v2/admin/.", status: REFUSE, reason: "path_dot_segment", workerd: DENY },
  { name: "admin.", target: "/petstore/v2/admin.", status: REFUSE, reason: "path_trailing_dot" },
  { name: "admin..", target: "/petstore/v2/admin..", status: REFUSE, reason: "path_trailing_dot" },
  { name: "admin%2e", target: "/petstore/v2/admin%2e", status: REFUSE, reason: "path_trailing_dot" },
  // Control characters and spaces.
  { name: "%00 after", target: "/petstore/v2/admin%00", status: REFUSE, reason: "path_control_character" },
  { name: "%00 before", target: "/petstore/v2/%00admin", status: REFUSE, reason: "path_control_character" },
  { name: "encoded trailing space", target: "/petstore/v2/admin%20", status: REFUSE, reason: "path_trailing_dot" },
  { name: "encoded inner space", target: "/petstore/v2/ad%20min", status: ALLOW },
  // Raw, a space ends the request-target: Node answers 400, workerd reads `/petstore/v2/admin`.
  { name: "raw space", target: "/petstore/v2/admin x", status: ALLOW, node: REFUSE, workerd: DENY },
  {
    name: "raw tab",
    target: "/petstore/v2/admin\tx",
    status: REFUSE,
    reason: "path_control_character",
    node: REFUSE,
    workerd: DENY,
  },
  { name: "bad escape", target: "/petstore/v2/admin%", status: REFUSE, reason: "path_bad_escape" },
  { name: "bad escape %zz", target: "/petstore/v2/adm%zz", status: REFUSE, reason: "path_bad_escape" },
  // Forms that are not a path.
  {
    name: "absolute-form",
    target: "http://petstore.example/petstore/v2/admin",
    status: REFUSE,
    reason: "path_not_origin_form",
    workerd: "error",
  },
  { name: "asterisk-form", target: "*", status: REFUSE, reason: "path_not_origin_form", workerd: "error" },
  {
    name: "overlong (10 KB)",
    target: `/petstore/v1/${"a".repeat(10 * 1024)}`,
    status: REFUSE,
    reason: "path_too_long",
  },
  // Non-ASCII: encoded (either hex case), and raw UTF-8 bytes (Node's parser refuses them).
  { name: "non-ASCII, upper-case hex", target: "/petstore/v1/caf%C3%A9", status: ALLOW },
  { name: "non-ASCII, lower-case hex", target: "/petstore/v1/caf%c3%a9", status: ALLOW },
  { name: "non-ASCII, raw UTF-8", target: "/petstore/v1/caf\xC3\xA9", status: ALLOW, node: REFUSE },
  { name: "invalid UTF-8", target: "/petstore/v2/admin%FF", status: REFUSE, reason: "path_invalid_utf8" },
];

/**
 * The status expected for `entry` in `view` (see `View`), or "error" (workerd answers 5xx).
 * @param {Entry} entry @param {View} view
 */
export function expectedStatus(entry, view) {
  if (view.parser === "node" && entry.node !== undefined) return entry.node;
  if (view.parser === "workerd" && entry.workerd !== undefined) return entry.workerd;
  if (view.parser === "event" && entry.event !== undefined) return entry.event;
  if (view.merge && entry.merged !== undefined) return entry.merged;
  if (!view.caseSensitive && entry.insensitive !== undefined) return entry.insensitive;
  return entry.status;
}

/** The app's routes: which one `path` (no query) reaches under the router's matching. */
export function routeOf(path, { caseSensitive, strip, merge }) {
  let p = merge ? path.replace(/\/{2,}/g, "/") : path;
  if (strip && p.length > 1 && p.endsWith("/")) p = p.slice(0, -1);
  if (!caseSensitive) p = p.toLowerCase();
  if (p === "/petstore/v2/admin") return "admin";
  if (p === "/petstore/v1/pets") return "pets";
  return "catch-all";
}

/** What every app echoes (and names in `x-route`, for HEAD): the route that ran, the target it got, its headers and caller. */
function echo(route, url, headers, auth) {
  return { route, url, headers, auth: auth ?? null };
}

/**
 * An Express app (5, or the `express` given: Express 4) with an admin handler, a pets handler
 * and a catch-all that echoes.
 * @param {{ settings?: Record<string, unknown>, before?: Function[], express?: Function }} [options]
 *   settings are set before the first route (when Express builds its router from them);
 *   `before`: middlewares
 */
export function expressApp({ settings = {}, before = [], express: expressModule = express } = {}) {
  const app = expressModule();
  for (const [name, value] of Object.entries(settings)) app.set(name, value);
  for (const middleware of before) app.use(middleware);
  const reply = (route) => (req, res) =>
    res.set("x-route", route).json(echo(route, req.originalUrl, req.headers, req.auth));
  app.get("/petstore/v2/admin", reply("admin"));
  app.get("/petstore/v1/pets", reply("pets"));
  app.use(reply("catch-all"));
  return app;
}

/**
 * A Fastify 5 app with the same three handlers.
 * @param {{ options?: object, register?: (app: any) => Promise<void> }} [setup]
 */
export async function fastifyApp({ options = {}, register = async () => {} } = {}) {
  const app = Fastify(options);
  await register(app);
  const reply = (route) => async (request, response) => {
    response.header("x-route", route);
    return echo(route, request.raw.url, request.headers, request.auth);
  };
  app.get("/petstore/v2/admin", reply("admin"));
  app.get("/petstore/v1/pets", reply("pets"));
  app.all("/*", reply("catch-all"));
  return app;
}

/** Starts a node:http server of `handler` on 127.0.0.1; `{url, close}`. */
export async function listenExpress(app) {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve, reject) => server.once("listening", resolve).once("error", reject));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export async function listenFastify(app) {
  await app.listen({ port: 0, host: "127.0.0.1" });
  return { url: `http://127.0.0.1:${app.server.address().port}`, close: () => app.close() };
}

/** The request line's headers: the token, the forged identity and method-override headers, a test id. */
export function matrixHeaders(token, id, extra = []) {
  return [["Authorization", `Bearer ${token}`], ...FORGED, ...OVERRIDES, ["X-Test-Id", String(id)], ...extra];
}

/**
 * Problems with an echo: an identity-prefixed header (with `-` or `_`) other than the
 * `allowed` ones the adapter itself sends (exact names), or a method override, reached the app.
 */
export function forgedHeaderProblems(headers, allowed = []) {
  return Object.keys(headers ?? {})
    .filter((name) => {
      const lower = name.toLowerCase();
      return (IDENTITY_NAME.test(lower) && !allowed.includes(lower)) || OVERRIDE_NAME.test(lower);
    })
    .map((name) => `the app got ${name}: ${headers[name]}`);
}

/** The status class of a response: what `expectedStatus` compares with. */
export function statusClass(status) {
  return status >= 500 ? "error" : status;
}

/** The path part of a request-target (no query). */
export const pathOf = (target) => target.split("?")[0];
/** The query part of a request-target, with its `?`, or "". */
export const searchOf = (target) => (target.includes("?") ? target.slice(target.indexOf("?")) : "");
