// Generated from the Rust core (src/boundary.rs) by `UPDATE_GENERATED=1 cargo test -p edge-authz --lib boundary`: do not edit.

/** Step kinds of the core's `authorize` code (`code % 8`). */
export const STEP = Object.freeze({ decided: 0, fetchJwks: 1, awaitJwks: 2, loadPolicies: 3, checkSignature: 4, decidedRewritten: 5, loadRevocations: 6 });
/** `Request.matching` bit flags. */
export const MATCHING = Object.freeze({ caseInsensitive: 1, stripTrailingSlash: 2, mergeSlashes: 4 });
/** The verdict id meaning "read `verdict()`, do not keep it". */
export const VERDICT_UNCACHED = 255;
/** Every reason code, in the core's order (`responseFor` takes the index). */
export const REASON_CODES = Object.freeze(["allowed", "explicit_deny", "implicit_deny", "invalid_policy", "policies_unavailable", "no_credentials", "malformed_authorization", "too_large", "malformed", "alg_not_allowed", "unsupported_crit", "wrong_issuer", "unknown_kid", "ambiguous_key", "bad_signature", "expired", "not_yet_valid", "issued_in_future", "missing_claim", "wrong_token_use", "wrong_client", "missing_scope", "missing_group", "jwks_unavailable", "revoked", "revocations_unavailable", "path_not_origin_form", "path_fragment", "path_control_character", "path_bad_escape", "path_double_encoding", "path_invalid_utf8", "path_backslash", "path_encoded_slash", "path_dot_segment", "path_empty_segment", "path_semicolon", "path_trailing_dot", "path_too_long", "invalid_method", "invalid_method_arn", "request_nul", "path_router_mismatch", "claim_check_failed", "internal_error"]);
/** Every reason code, with the outcome it belongs to. */
export const REASONS = Object.freeze({
  allowed: "allow",
  explicit_deny: "forbidden",
  implicit_deny: "forbidden",
  invalid_policy: "forbidden",
  policies_unavailable: "unavailable",
  no_credentials: "unauthorized",
  malformed_authorization: "unauthorized",
  too_large: "forbidden",
  malformed: "forbidden",
  alg_not_allowed: "forbidden",
  unsupported_crit: "forbidden",
  wrong_issuer: "forbidden",
  unknown_kid: "forbidden",
  ambiguous_key: "forbidden",
  bad_signature: "forbidden",
  expired: "forbidden",
  not_yet_valid: "forbidden",
  issued_in_future: "forbidden",
  missing_claim: "forbidden",
  wrong_token_use: "forbidden",
  wrong_client: "forbidden",
  missing_scope: "forbidden",
  missing_group: "forbidden",
  jwks_unavailable: "unavailable",
  revoked: "forbidden",
  revocations_unavailable: "unavailable",
  path_not_origin_form: "bad_request",
  path_fragment: "bad_request",
  path_control_character: "bad_request",
  path_bad_escape: "bad_request",
  path_double_encoding: "bad_request",
  path_invalid_utf8: "bad_request",
  path_backslash: "bad_request",
  path_encoded_slash: "bad_request",
  path_dot_segment: "bad_request",
  path_empty_segment: "bad_request",
  path_semicolon: "bad_request",
  path_trailing_dot: "bad_request",
  path_too_long: "bad_request",
  invalid_method: "bad_request",
  invalid_method_arn: "bad_request",
  request_nul: "bad_request",
  path_router_mismatch: "bad_request",
  claim_check_failed: "forbidden",
  internal_error: "unavailable",
});
/** The headers of every denial (`Rendered.headers`), and of a 401. */
export const DENIAL_HEADERS = Object.freeze({ "content-type": "application/json", "cache-control": "no-store" });
export const UNAUTHORIZED_HEADERS = Object.freeze({ "content-type": "application/json", "cache-control": "no-store", "www-authenticate": "Bearer" });
/** The default `unavailable` body, for a failure before any configuration is read. */
export const UNAVAILABLE_BODY = "{\"message\":\"Service Unavailable\"}";
/** The largest JWK Set the core accepts (bytes): a fetcher reads no more. */
export const MAX_JWKS_BYTES = 262144;
