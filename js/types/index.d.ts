// edge-authz for Node.js (hand-written; checked by `tsc --noEmit` in the package tests).

/** An `Error` with a stable `code` (`invalid_config`, `invalid_request`, ...). */
export declare class AuthzError extends Error {
  constructor(code: string, message: string);
  code: string;
}

export type ContextValue = string | number | boolean;

export interface Decision {
  /** `bad_request`: the path (or method) is ambiguous and refused (`path_dot_segment`, ...). */
  outcome: "allow" | "unauthorized" | "forbidden" | "unavailable" | "bad_request";
  /** Stable reason code for logs; never send it to the client. */
  reason: string;
  /** 200 on allow, else the configured denial status (400 for `bad_request`). */
  status: number;
  /** JSON text of the denial (null on allow). */
  body: string | null;
  /** The caller's identity: sub, username, groups, scope, clientId, tokenUse, issuer, configured claims. */
  context: Record<string, ContextValue>;
  /**
   * The canonical path that was authorized, percent-encoded for the wire, without the query:
   * what a proxy must forward (`/petstore/v2/%61dmin` → `/petstore/v2/admin`).
   */
  path: string;
  /** With `explain: true`: which statement decided. */
  explanation?: string;
}

/**
 * How the router in front of which you authorize matches paths. Given, it replaces the
 * configuration's `request` rules for case and slashes for this request; members left out
 * take their defaults.
 */
export interface PathMatching {
  /** Default true; false: policies are matched against the lower-cased path. */
  caseSensitive?: boolean;
  /** Default "keep"; "strip": `/x/` is matched as `/x` (the root stays). */
  trailingSlash?: "keep" | "strip";
  /** Default false (`//` is refused); true: merged. */
  mergeSlashes?: boolean;
}

/** The configuration's `request` section: how paths are made canonical and matched. */
export interface RequestRules extends PathMatching {
  /** Default "reject" (400); "resolve": RFC 3986 remove_dot_segments. */
  dotSegments?: "reject" | "resolve";
  /** `%2F` and `%5C`: default "reject" (400); "keep": they stay encoded. */
  escapedSlashes?: "reject" | "keep";
  /** `;` raw or `%3B`: default "reject" (400); "keep". */
  semicolons?: "reject" | "keep";
  /** Default 8192. */
  maxPathBytes?: number;
}

/** The edge-authz configuration (README, "Configuration reference"); checked by the core. */
export interface EdgeAuthzConfig {
  request?: RequestRules;
  [member: string]: unknown;
}

/** Read once (a generator or any one-shot iterable is fine). */
export type HeadersInput =
  | Record<string, string | string[] | undefined>
  | Iterable<[string, string]>;

export interface AuthorizeInput {
  /** Any string; one that is not a token of letters is a 400 decision (`invalid_method`). */
  method: string;
  /**
   * The request target as received (percent-encoding intact); a `?query` part is parsed
   * unless `query` is given. Not origin-form (`http://h/x`, `*`) is a 400 decision.
   */
  path: string;
  /** The router's matching for this request; absent: the configuration's `request` rules. */
  matching?: PathMatching | null;
  headers?: HeadersInput;
  query?: string | URLSearchParams | Record<string, string> | Iterable<[string, string]>;
  /** The client address; `::ffff:a.b.c.d` counts as IPv4. */
  sourceIp?: string | null;
  secureTransport?: boolean | null;
  methodArn?: string | null;
}

/** A policy document: group name → IAM policy (object or JSON text), or null for none. */
export interface PolicyDocument {
  groups: Record<string, object | string | null>;
}

export type PolicyLoader = (
  groups: string[],
) => Promise<Map<string, object | string | null | undefined> | Record<string, object | string | null | undefined>>;

export type PoliciesOption =
  /** a path to a policy document (read and validated at construction), or an http(s) URL */
  | string
  | URL
  | PolicyDocument
  | { file: string }
  | { url: string; ttlSeconds?: number; timeoutMs?: number }
  | PolicyLoader;

export type LogEvent = { event: string } & Record<string, unknown>;

export interface AuthorizerOptions {
  policies?: PoliciesOption;
  /** JWK Sets by JWKS URL, used for the first fetch of each (e.g. bundled into Lambda@Edge). */
  jwks?: Record<string, object | string>;
  /** Default 5000. */
  jwksTimeoutMs?: number;
  /** Default 5000: a policy source (URL, file, your function) slower than this fails (503 until the retry). */
  policiesTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Whole seconds since the epoch; default `Date.now()`. */
  now?: () => number;
  /** Default: failures and warnings as JSON lines on stderr. `false`: silent. */
  log?: ((event: LogEvent) => void) | false;
  explain?: boolean;
}

export declare class NodeAuthorizer {
  private constructor();
  readonly loadsPolicies: boolean;
  /** Rejects only on malformed input (`invalid_request`); failures are 503 decisions. */
  authorize(input: AuthorizeInput): Promise<Decision>;
}

/**
 * A signature for the host's crypto to check. The core chose the key and the algorithm.
 * `keyId` is the core's stable id of the key (the same for the same JWK): cache imported
 * keys under it. `jwk` (the public JWK, JSON text) is absent only in inline checks for a
 * `keyId` seen before; a verifier answers `undefined` then to get it. Inline checks pass
 * `signingInput` and `signature` as views into the wasm memory, valid during the call only.
 */
export interface SignatureCheck {
  algorithm: string;
  keyId?: number;
  jwk?: string;
  signingInput: string | Uint8Array;
  signature: Uint8Array;
}

/** Throws `AuthzError` (`invalid_config`, the message says where) on any configuration problem. */
export declare function createAuthorizer(config: EdgeAuthzConfig | object | string, options?: AuthorizerOptions): NodeAuthorizer;
/** Synchronous node:crypto verification, with a cache of imported keys (by `keyId`, else by JWK). */
export declare function nodeCryptoVerifier(): (check: SignatureCheck) => boolean | undefined;
export declare function normalizeIp(ip: string | null | undefined): string | null;
