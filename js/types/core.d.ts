// Generated from the Rust core (src/boundary.rs) by `UPDATE_GENERATED=1 cargo test -p edge-authz --lib boundary`: do not edit.

/** What to do with a request. */
export type Outcome =
  | "allow"
  | "unauthorized"
  | "forbidden"
  | "unavailable"
  | "bad_request";

/** Why a request was decided as it was: a stable code for logs and metrics (never sent to the client). */
export type Reason =
  /** The policies allow the request. */
  | "allowed"
  /** A Deny statement matched. */
  | "explicit_deny"
  /** No Allow statement matched. */
  | "implicit_deny"
  /** A policy of the caller's groups failed validation: denied until it is fixed. */
  | "invalid_policy"
  /** The caller's group policies could not be loaded and none is cached. */
  | "policies_unavailable"
  /** The request carries no bearer token. */
  | "no_credentials"
  /** The credential is not `Bearer <token>` (or is given twice). */
  | "malformed_authorization"
  /** The token is longer than the configured limit. */
  | "too_large"
  /** The token is not a JWS compact token with JSON header and claims. */
  | "malformed"
  /** The token's algorithm is not allowed for its issuer or key. */
  | "alg_not_allowed"
  /** The token's header carries an unsupported `crit`. */
  | "unsupported_crit"
  /** The token's issuer is not configured. */
  | "wrong_issuer"
  /** No key of the issuer's JWKS has the token's `kid`. */
  | "unknown_kid"
  /** The token names no `kid` and no single key fits. */
  | "ambiguous_key"
  /** The token's signature does not verify. */
  | "bad_signature"
  /** The token has expired. */
  | "expired"
  /** The token is not valid yet (`nbf`). */
  | "not_yet_valid"
  /** The token was issued in the future (`iat`). */
  | "issued_in_future"
  /** A required claim is missing or has the wrong type. */
  | "missing_claim"
  /** The token's `token_use` is not accepted. */
  | "wrong_token_use"
  /** The token's client is not accepted. */
  | "wrong_client"
  /** None of the required scopes is granted. */
  | "missing_scope"
  /** None of the required groups is held. */
  | "missing_group"
  /** The issuer's keys could not be fetched and none is cached. */
  | "jwks_unavailable"
  /** A revocation record covers the token (its user signed out, was disabled or removed, its session or the token itself was revoked). */
  | "revoked"
  /** The revocation store could not be read and no usable answer is cached. */
  | "revocations_unavailable"
  /** The request target is not a path starting with `/`. */
  | "path_not_origin_form"
  /** The path contains a fragment (`#`). */
  | "path_fragment"
  /** The path contains a control character. */
  | "path_control_character"
  /** A `%` in the path is not followed by two hexadecimal digits. */
  | "path_bad_escape"
  /** The path is percent-encoded twice. */
  | "path_double_encoding"
  /** The path's percent-encoded bytes are not UTF-8. */
  | "path_invalid_utf8"
  /** The path contains a backslash. */
  | "path_backslash"
  /** The path contains an encoded slash (`%2F`). */
  | "path_encoded_slash"
  /** The path contains a dot segment. */
  | "path_dot_segment"
  /** The path contains an empty segment (`//`). */
  | "path_empty_segment"
  /** The path contains a `;`. */
  | "path_semicolon"
  /** A path segment ends in a dot or a space. */
  | "path_trailing_dot"
  /** The path is longer than the configured maximum. */
  | "path_too_long"
  /** The method is not 1–32 ASCII letters. */
  | "invalid_method"
  /** API Gateway's method ARN is not one the core can read. */
  | "invalid_method_arn"
  /** A header or query parameter holds a NUL character. */
  | "request_nul"
  /** The app's router would route another path than the one authorized (an adapter's refusal, e.g. Express resolving dot segments). */
  | "path_router_mismatch"
  /** The host's claim check refused the caller. */
  | "claim_check_failed"
  /** The authorizer failed (a host error, or a run that did not settle): never an allow. */
  | "internal_error";

/** The reasons of outcome `allow`. */
export type AllowReason = "allowed";

/** The reasons of outcome `unauthorized`. */
export type UnauthorizedReason = "no_credentials" | "malformed_authorization";

/** The reasons of outcome `forbidden`. */
export type ForbiddenReason = "explicit_deny" | "implicit_deny" | "invalid_policy" | "too_large" | "malformed" | "alg_not_allowed" | "unsupported_crit" | "wrong_issuer" | "unknown_kid" | "ambiguous_key" | "bad_signature" | "expired" | "not_yet_valid" | "issued_in_future" | "missing_claim" | "wrong_token_use" | "wrong_client" | "missing_scope" | "missing_group" | "revoked" | "claim_check_failed";

/** The reasons of outcome `unavailable`. */
export type UnavailableReason = "policies_unavailable" | "jwks_unavailable" | "revocations_unavailable" | "internal_error";

/** The reasons of outcome `bad_request`. */
export type BadRequestReason = "path_not_origin_form" | "path_fragment" | "path_control_character" | "path_bad_escape" | "path_double_encoding" | "path_invalid_utf8" | "path_backslash" | "path_encoded_slash" | "path_dot_segment" | "path_empty_segment" | "path_semicolon" | "path_trailing_dot" | "path_too_long" | "invalid_method" | "invalid_method_arn" | "request_nul" | "path_router_mismatch";
