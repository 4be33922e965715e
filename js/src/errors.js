// The errors edge-authz throws, like jose's `errors`: one base class, `AuthzError`, with a
// stable `code`, and a subclass per kind of failure. Every class keeps the `name`
// "AuthzError" (logs and `err.name` checks written against it keep working): tell them
// apart with `instanceof` or `code`.
//
// One set of classes per process: the ESM sources and the CommonJS bundles (cjs/, built from
// these sources) each evaluate this module, and each class is kept under a `Symbol.for` key
// of `globalThis` by the first evaluation, so that `instanceof` holds whichever of `import`
// and `require` made or tests the error. `AuthzError` keeps the key it always had.

/**
 * The class kept under `Symbol.for("edge-authz.<name>")`, made by `make` on first use.
 * @template T @param {string} name @param {() => T} make @returns {T}
 */
function shared(name, make) {
  const key = Symbol.for(`edge-authz.${name}`);
  return (globalThis[key] ??= make());
}

/** @param {Function} constructor */
function namedAuthzError(constructor) {
  Object.defineProperty(constructor.prototype, "name", {
    value: "AuthzError",
    writable: true,
    configurable: true,
    enumerable: false,
  });
  return constructor;
}

/** An `Error` with a stable `code`; the base of every error edge-authz throws. */
export const AuthzError = shared("AuthzError", () =>
  namedAuthzError(
    class AuthzError extends Error {
      /** @param {string} code @param {string} message */
      constructor(code, message) {
        super(message);
        this.code = code;
      }
    },
  ),
);

/**
 * A configuration problem (`invalid_config`), thrown at construction, never per request; the
 * message says where. `variables`: the Worker's bindings involved, when known.
 */
export const ConfigError = shared("ConfigError", () =>
  namedAuthzError(
    class ConfigError extends AuthzError {
      static code = "invalid_config";
      /** @param {string} message @param {{ variables?: string[] }} [options] */
      constructor(message, { variables } = {}) {
        super(ConfigError.code, message);
        if (variables !== undefined) this.variables = variables;
      }
    },
  ),
);

/**
 * The Worker's deployment still has placeholders (`unconfigured`): `variables` names them.
 */
export const UnconfiguredError = shared("UnconfiguredError", () =>
  namedAuthzError(
    class UnconfiguredError extends ConfigError {
      static code = "unconfigured";
      /** @param {string} message @param {string[]} variables */
      constructor(message, variables) {
        super(message, { variables });
        this.code = UnconfiguredError.code;
      }
    },
  ),
);

/** Malformed input to `authorize` (`invalid_request`): a bug in the caller, not a denial. */
export const RequestError = shared("RequestError", () =>
  namedAuthzError(
    class RequestError extends AuthzError {
      static code = "invalid_request";
      /** @param {string} message */
      constructor(message) {
        super(RequestError.code, message);
      }
    },
  ),
);

/**
 * Fetching a JWKS failed (`new JwksError(code, message)`): `jwks_http_error` (not a 2xx),
 * `jwks_too_large`, the core's code for a document that is not a JWK Set
 * (`jwks_not_json`, ...), or `jwks_fetch_failed` (anything else).
 */
export const JwksError = shared("JwksError", () =>
  namedAuthzError(
    class JwksError extends AuthzError {
      static code = "jwks_fetch_failed";
    },
  ),
);

/**
 * Loading policies failed (`new PolicyLoadError(code, message)`): `policy_store_failed` (a
 * store error, a URL not answering 2xx), `policy_store_timeout`, `invalid_policy_document`
 * (a document without a `groups` object), `no_policy_store` (none configured).
 */
export const PolicyLoadError = shared("PolicyLoadError", () =>
  namedAuthzError(
    class PolicyLoadError extends AuthzError {
      static code = "policy_store_failed";
    },
  ),
);

/** `error.code` if it is a string, else `fallback`. */
export function codeOf(error, fallback) {
  return typeof error?.code === "string" ? error.code : fallback;
}

/** `error.message` of an `Error`, else the value as text. */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
