// edge-authz for Node.js (hand-written; checked by `tsc --noEmit` in the package tests).

/** An `Error` with a stable `code` (`invalid_config`, `invalid_request`, ...). */
export declare class AuthzError extends Error {
  constructor(code: string, message: string);
  code: string;
}

export type ContextValue = string | number | boolean;

export interface Decision {
  outcome: "allow" | "unauthorized" | "forbidden" | "unavailable";
  /** Stable reason code for logs; never send it to the client. */
  reason: string;
  /** 200 on allow, else the configured denial status. */
  status: number;
  /** JSON text of the denial (null on allow). */
  body: string | null;
  /** The caller's identity: sub, username, groups, scope, clientId, tokenUse, issuer, configured claims. */
  context: Record<string, ContextValue>;
  /** With `explain: true`: which statement decided. */
  explanation?: string;
}

export type HeadersInput =
  | Record<string, string | string[] | undefined>
  | Iterable<[string, string]>;

export interface AuthorizeInput {
  method: string;
  /** The request target; a `?query` part is parsed unless `query` is given. */
  path: string;
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

export interface SignatureCheck {
  algorithm: string;
  jwk: string;
  signingInput: string;
  signature: Uint8Array;
}

/** Throws `AuthzError` (`invalid_config`, the message says where) on any configuration problem. */
export declare function createAuthorizer(config: object | string, options?: AuthorizerOptions): NodeAuthorizer;
export declare function nodeCryptoVerifier(): (check: SignatureCheck) => boolean;
export declare function normalizeIp(ip: string | null | undefined): string | null;
