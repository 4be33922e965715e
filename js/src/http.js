// What the Node middlewares share: building the authorizer from their options and the
// shape of a denial.
import { createAuthorizer } from "./node.js";
import { UNAVAILABLE_BODY } from "./identity.js";

/**
 * An authorizer given as is (anything with `authorize`), or built from `{config, ...options}`.
 * @param {any} options
 * @param {string} where for error messages
 */
export function authorizerFrom(options, where) {
  if (typeof options?.authorize === "function") return options;
  if (typeof options !== "object" || options === null) {
    throw Object.assign(new Error(`${where}: expected {config, ...options} or an authorizer from createAuthorizer`), { code: "invalid_config" });
  }
  const { config, sourceIp, ...rest } = options;
  if (config === undefined) throw Object.assign(new Error(`${where}: \`config\` is required (or pass an authorizer)`), { code: "invalid_config" });
  return createAuthorizer(config, rest);
}

/** Middleware options that are not the authorizer's. */
export function splitOptions(options) {
  if (typeof options?.authorize === "function") return { authorizer: options, sourceIp: null };
  const { sourceIp = null, authorizer, ...rest } = options ?? {};
  if (sourceIp !== null && typeof sourceIp !== "function") throw Object.assign(new Error("sourceIp: must be a function (request) => string"), { code: "invalid_config" });
  return { authorizer: authorizer ?? rest, sourceIp };
}

/**
 * Status, headers and body of a denial (401 carries `WWW-Authenticate: Bearer`).
 * @param {{ status: number, body: string | null } | null} decision null: the authorizer failed
 */
export function denial(decision) {
  const status = decision?.status ?? 503;
  /** @type {Record<string, string>} */
  const headers = { "content-type": "application/json", "cache-control": "no-store" };
  if (status === 401) headers["www-authenticate"] = "Bearer";
  return { status, headers, body: decision?.body ?? UNAVAILABLE_BODY };
}
