// edge-authz for Node.js (hand-written; checked by `tsc --noEmit` in the package tests).

/**
 * An `Error` with a stable `code` (`invalid_config`, `invalid_request`, ...), the base of
 * every error edge-authz throws. One class for `import` and `require` alike: `instanceof`
 * holds across them, for the subclasses too. Every subclass keeps the `name` "AuthzError".
 */
export declare class AuthzError extends Error {
  constructor(code: string, message: string);
  code: string;
  /** "AuthzError" */
  name: string;
}

/** A configuration problem, thrown at construction, never per request; the message says where. */
export declare class ConfigError extends AuthzError {
  static readonly code: string;
  constructor(message: string, options?: { variables?: string[] });
  code: "invalid_config" | "unconfigured";
  /** The Worker's bindings involved, when known. */
  variables?: string[];
}

/** The Worker's deployment still has placeholders: `variables` names them. */
export declare class UnconfiguredError extends ConfigError {
  static readonly code: string;
  constructor(message: string, variables: string[]);
  code: "unconfigured";
  variables: string[];
}

/** Malformed input to `authorize`: a bug in the caller, not a denial. */
export declare class RequestError extends AuthzError {
  static readonly code: string;
  constructor(message: string);
  code: "invalid_request";
}

/** Fetching a JWKS failed (`jwks_http_error`, `jwks_too_large`, or the core's code for a document that is not a JWK Set). */
export declare class JwksError extends AuthzError {
  static readonly code: string;
  constructor(code: string, message: string);
}

/** Loading policies failed (`policy_store_failed`, `policy_store_timeout`, `invalid_policy_document`, `no_policy_store`). */
export declare class PolicyLoadError extends AuthzError {
  static readonly code: string;
  constructor(code: string, message: string);
}

// The reason codes and outcomes are generated from the Rust core (types/core.d.ts).
import type { Outcome, Reason, UnauthorizedReason, ForbiddenReason } from "./core.js";
export type {
  AllowReason,
  BadRequestReason,
  ForbiddenReason,
  Outcome,
  Reason,
  UnauthorizedReason,
  UnavailableReason,
} from "./core.js";

/** `decision.reason` once the caller is known: the policies' answer, or why there is none. */
export type PolicyReason = Extract<
  Reason,
  "allowed" | "explicit_deny" | "implicit_deny" | "invalid_policy" | "policies_unavailable"
>;

/** `decision.reason` when a revocation record refuses the caller (403), or the store could not be read (503). */
export type RevocationReason = Extract<Reason, "revoked" | "revocations_unavailable">;

/** `decision.reason` when `claimCheck` refused a caller the core allowed (403). */
export type ExtensionReason = Extract<Reason, "claim_check_failed">;

/** `decision.reason` when the credentials or the token are refused (401, 403; 503 for `jwks_unavailable`). */
export type TokenReason = Exclude<
  UnauthorizedReason | ForbiddenReason | "jwks_unavailable",
  PolicyReason | ExtensionReason | RevocationReason
>;

/** Every `decision.reason`: a stable code for logs (never send it to the client). */
export type DecisionReason = Exclude<Reason, "internal_error">;

export type ContextValue = string | number | boolean;

export interface Decision {
  /** `bad_request`: the path (or method) is ambiguous and refused (`path_dot_segment`, ...). */
  outcome: Outcome;
  /** Stable reason code for logs; never send it to the client. */
  reason: DecisionReason;
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

/** A string or a list of strings. */
export type OneOrMany = string | string[];

/** Accepted algorithms (`issuers[].algorithms`). */
export type Algorithm = "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "EdDSA";

interface IssuerCommon {
  /** Default `[]`: if set, the token needs at least one of these scopes. */
  scopes?: OneOrMany;
  /** Default `[]`: if set, the token needs at least one of these groups. */
  groups?: OneOrMany;
  /** Default: pool `RS256`, OIDC all. */
  algorithms?: Algorithm | Algorithm[];
  /** The claim listing the caller's groups: default `cognito:groups` (pool) / `groups` (OIDC). */
  groupsClaim?: string;
}

/** A Cognito user pool: `iss` = `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`. */
export interface CognitoIssuer extends IssuerCommon {
  userPoolId: string;
  /** `access` (client in `client_id`), `id` (client in `aud`) or `any`. */
  tokenUse: "access" | "id" | "any";
  /** Accepted clients; `null` accepts any, explicitly. */
  clientId: OneOrMany | null;
  /** Overrides the AWS URL (for local emulators). */
  issuer?: string;
  /** Default: derived from the pool. */
  jwksUri?: string;
  audience?: never;
  requireExp?: never;
}

/** An OIDC issuer, matched by its exact `iss`. */
export interface OidcIssuer extends IssuerCommon {
  issuer: string;
  /** `https://` (plain `http://` only for loopback). */
  jwksUri: string;
  /** Accepted audiences; `null` accepts any, explicitly. */
  audience: OneOrMany | null;
  /** Default true: whether `exp` is required. */
  requireExp?: boolean;
  userPoolId?: never;
  tokenUse?: never;
  clientId?: never;
}

export type IssuerConfig = CognitoIssuer | OidcIssuer;

/** A condition block: operator → condition key → value(s). */
export type PolicyCondition = Record<string, Record<string, string | number | boolean | Array<string | number | boolean>>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: OneOrMany;
  NotAction?: OneOrMany;
  Resource?: OneOrMany;
  NotResource?: OneOrMany;
  Condition?: PolicyCondition;
}

/** An IAM identity policy (README, "Policy reference"). */
export interface IamPolicy {
  Version?: "2012-10-17" | "2008-10-17";
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** `{status, body}` of a denial: body as text or a JSON object. */
export interface DenialResponse {
  /** An HTTP error status (400-599). */
  status?: number;
  body?: string | Record<string, unknown>;
}

/** API Gateway's authorizer cache (the Lambda sets it). */
export interface ApiGatewayCacheConfig {
  /** Default 300, max 3600. */
  ttlSeconds?: number;
  /** `method.request.header.NAME`, `$request.header.NAME`, `context.identity.sourceIp`, ... */
  identitySources?: OneOrMany;
  /** Default false. */
  simpleResponses?: boolean;
}

/**
 * The edge-authz configuration (README, "Configuration reference"): JSON, camelCase;
 * unknown members are errors. Checked in full by the core at construction.
 */
export interface EdgeAuthzConfig {
  /** Trusted issuers (at least one); a token is matched to one by its exact `iss`. */
  issuers: IssuerConfig[];
  /** Default 0 (max 300): clock skew allowed on `exp`, `nbf`, `iat`. */
  graceSeconds?: number;
  /** Default 8192: longer tokens are rejected before any parsing. */
  maxTokenBytes?: number;
  jwksCache?: {
    /** Default 3600. */
    ttlSeconds?: number;
    /** Default 10. */
    penaltySeconds?: number;
    /** Default 3600. */
    maxStaleSeconds?: number;
    /** Default 30. */
    fetchTimeoutSeconds?: number;
  };
  credentials?: {
    /** Default `authorization`: the header carrying `Bearer <token>`. */
    header?: string;
    /** A cookie with the bare token, tried when the header is absent. */
    cookie?: string | null;
    /** Default true; false also accepts a bare token in the header. */
    requireBearer?: boolean;
  };
  /** Of the ARNs built from method and path: default `local`, `000000000000`, `edge`, `$default`. */
  api?: { region?: string; accountId?: string; apiId?: string; stage?: string };
  policies?: {
    /** Group → policy, bundled; without it policies are loaded by the adapter. */
    groups?: Record<string, IamPolicy | null>;
    /** A policy for every authenticated caller. */
    everyone?: IamPolicy | null;
    /** A policy for callers in no group. */
    noGroup?: IamPolicy | null;
    /** Default 300. */
    ttlSeconds?: number;
    /** Default 3600. */
    maxStaleSeconds?: number;
  };
  /** Cache sizes (entries), default 10000; 0 disables. */
  cache?: { tokens?: number; decisions?: number };
  /** Default: API Gateway's. */
  responses?: {
    unauthorized?: DenialResponse;
    forbidden?: DenialResponse;
    explicitDeny?: DenialResponse;
    unavailable?: DenialResponse;
    badRequest?: DenialResponse;
  };
  /** Extra claims copied into the identity context. */
  context?: { claims?: OneOrMany };
  request?: RequestRules;
  apiGatewayCache?: ApiGatewayCacheConfig | null;
  /** Revocation records checked after verification, before policies; absent: off. */
  revocation?: RevocationConfig;
}

/**
 * The configuration's `revocation` section. Records: `user#{iss}#{sub}` → `{"before": T}`
 * (tokens issued at or before T, and tokens without `iat`, are refused),
 * `session#{iss}#{origin_jti}` and `token#{iss}#{jti}` → `{}`; each with an optional
 * `"expiresAt": T` after which it counts for nothing.
 */
export interface RevocationConfig {
  /** Default 30 (1-3600): a record written to the store takes effect within this many seconds. */
  freshnessSeconds?: number;
  /** Default "deny" (503 `revocations_unavailable`); "stale": the last answer serves up to `maxStaleSeconds` past freshness. */
  whenUnavailable?: "deny" | "stale";
  /** Default 300. */
  maxStaleSeconds?: number;
  /** Default "external" (the adapter's store: `revocations`, the Worker's REVOCATIONS KV); "local": `revoke()` only. */
  store?: "external" | "local";
  /** Default 100000: records (and absences) kept. */
  cacheEntries?: number;
}

/** A revocation record as stored (object or JSON text); `null`/`undefined`: none. */
export type RevocationRecord = { before?: number; expiresAt?: number } | string | null | undefined;

/** Your revocation store: each key's record (keys absent from the answer have none). */
export type RevocationLoader = (
  keys: string[],
) => Promise<Map<string, RevocationRecord> | Record<string, RevocationRecord>>;

export type RevocationsOption =
  /** A document `{"revocations": {key: record}}`, revalidated with `If-None-Match` after `ttlSeconds` (default 5, at most `revocation.freshnessSeconds`). */
  | { url: string; ttlSeconds?: number; timeoutMs?: number }
  | RevocationLoader;

/** What `revoke` revokes: a user's tokens issued at or before `before` (default now), a sign-in, one token. */
export type RevokeTarget = { sub: string; before?: number } | { originJti: string } | { jti: string };

/** The configuration as an object, or as its JSON text. */
export type ConfigInput = EdgeAuthzConfig | string;

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
  groups: Record<string, IamPolicy | string | null>;
}

export type PolicyLoader = (
  groups: string[],
) => Promise<Map<string, IamPolicy | string | null | undefined> | Record<string, IamPolicy | string | null | undefined>>;

export type PoliciesOption =
  /** a path to a policy document (read and validated at construction), or an http(s) URL */
  | string
  | URL
  | PolicyDocument
  | { file: string }
  | { url: string; ttlSeconds?: number; timeoutMs?: number }
  | PolicyLoader;

export type LogEvent = { event: string } & Record<string, unknown>;

/**
 * What `onDecision` gets, once per decision. Never the token nor the Authorization header.
 */
export interface DecisionEvent {
  outcome: Decision["outcome"];
  /** `internal_error`: the adapter could not decide (it answered 503). */
  reason: Reason;
  status: number;
  /** Upper-cased. */
  method: string;
  /** As received, without the query. */
  path: string;
  /** The canonical path decided on, when it is not `path` (the core rewrote it). */
  authorizedPath?: string;
  /** From the call to the decision, in milliseconds (fractional). */
  latencyMs: number;
  /** The `sub` of a caller that was allowed or denied by the policies (or by `claimCheck`). */
  principal?: ContextValue;
}

/**
 * What `claimCheck` is given beside the claims: what was passed to `authorize` (the adapters
 * pass `{method, path, headers, ...}`), with `path` the canonical path the core authorized.
 */
export interface ClaimCheckRequest extends Omit<AuthorizeInput, "path"> {
  /**
   * The canonical path authorized (`decision.path`: wire form, no query; `/v1/%61dmin` is
   * `/v1/admin`), the one a proxy forwards and a router serves: judge this one. Lower-cased
   * when the path was matched case-insensitively (`/v1/ADMIN` is `/v1/admin`), as the core
   * matched it against the policies.
   */
  path: string;
  /** The path as given to `authorize` (the query included, if it was). */
  receivedPath: string;
}

/**
 * Run after the core's rules, on allows only: anything but `true` (`false`, a throw, a
 * rejection) turns the allow into a 403 `claim_check_failed`. `claims` is the identity
 * context (sub, username, groups, scope, clientId, tokenUse, issuer and the claims listed in
 * the configuration's `context.claims`).
 */
export type ClaimCheck = (claims: Record<string, ContextValue>, request: ClaimCheckRequest) => boolean | Promise<boolean>;

/** Which build of the core runs under Node.js (see `AuthorizerOptions.backend`). */
export type Backend = "native" | "wasm";

/**
 * The part of an OpenTelemetry `Meter` the authorizer uses: pass one from `@opentelemetry/api`
 * (`metrics.getMeter("edge-authz")`). Typed by its shape, so these types need no
 * OpenTelemetry package.
 */
export interface DecisionMeter {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { add(value: number, attributes?: DecisionMetricAttributes): void };
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): { record(value: number, attributes?: DecisionMetricAttributes): void };
}

/** The attributes of `edge_authz.decisions` and `edge_authz.decision.duration` (a type, not an interface: OpenTelemetry's `Attributes` is an index signature). */
export type DecisionMetricAttributes = {
  outcome: Decision["outcome"];
  reason: Reason;
  "http.response.status_code": number;
};

export interface AuthorizerOptions {
  /**
   * `"auto"` (default): the native addon when this platform's optional package
   * (`@edge-authz/linux-x64-gnu`, `@edge-authz/linux-arm64-gnu`) loads, else the wasm;
   * `"native"`: the addon or a `ConfigError` saying why it did not load; `"wasm"`: the wasm.
   * Without the option, the `EDGE_AUTHZ_BACKEND` environment variable (same values) decides.
   */
  backend?: Backend | "auto";
  policies?: PoliciesOption;
  /** JWK Sets by JWKS URL, used for the first fetch of each (e.g. bundled into Lambda@Edge). */
  jwks?: Record<string, object | string>;
  /** Default 5000. */
  jwksTimeoutMs?: number;
  /** Default 5000: a policy source (URL, file, your function) slower than this fails (503 until the retry). */
  policiesTimeoutMs?: number;
  /** Required when the configuration has a `revocation` section with an external store. */
  revocations?: RevocationsOption;
  /** Default 5000: a revocation store slower than this counts as unavailable. */
  revocationsTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Whole seconds since the epoch; default `Date.now()`. */
  now?: () => number;
  /** Default: failures and warnings as JSON lines on stderr. `false`: silent. */
  log?: ((event: LogEvent) => void) | false;
  explain?: boolean;
  /** Called once per decision; a hook that throws is logged (`on_decision_failed`) and changes nothing. */
  onDecision?: (event: DecisionEvent) => void | Promise<void>;
  /** A check of your own on every allow; it can refuse (403 `claim_check_failed`), never allow. */
  claimCheck?: ClaimCheck;
  /**
   * OpenTelemetry metrics: the counter `edge_authz.decisions` and the histogram
   * `edge_authz.decision.duration` (ms), by outcome, reason and http.response.status_code.
   */
  metrics?: { meter: DecisionMeter } | null | false;
}

export declare class NodeAuthorizer {
  private constructor();
  /** Which build of the core decides: the native addon or the wasm. */
  readonly backend: Backend;
  readonly loadsPolicies: boolean;
  /** Whether revocation records are read from `options.revocations`. */
  readonly loadsRevocations: boolean;
  /**
   * Revokes in this process at once (decisions cached or memoised before are not served
   * after it); other processes read the store. `issuer` defaults to the only configured
   * issuer. Returns the record's key. Throws `AuthzError` `revocation_off` (no `revocation`
   * section) or `invalid_revocation`.
   */
  revoke(target: RevokeTarget, options?: { issuer?: string; expiresAt?: number }): string;
  /**
   * Fetches every configured issuer's JWKS now. Rejects with an `AuthzError` naming the JWKS
   * URLs that failed; the authorizer works either way (it fetches them on demand).
   */
  hydrate(): Promise<void>;
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
export declare function createAuthorizer(config: ConfigInput, options?: AuthorizerOptions): NodeAuthorizer;
/** Synchronous node:crypto verification, with a cache of imported keys (by `keyId`, else by JWK). */
export declare function nodeCryptoVerifier(): (check: SignatureCheck) => boolean | undefined;
export declare function normalizeIp(ip: string | null | undefined): string | null;
