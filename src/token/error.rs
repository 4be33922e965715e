//! Why a token was rejected.

use core::fmt;

/// Why a token was rejected. Every variant has a stable machine [`code`](Self::code) for
/// logs and tests; [`Display`](fmt::Display) explains it and never contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than the configured limit; nothing else was looked at.
    TooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// Not a JWS compact token: wrong number of segments, bad base64url, bad JSON.
    Malformed(Malformed),
    /// The header's `alg` is `none`, an HMAC, unknown, not allowed for the issuer, or does
    /// not fit the key it names.
    AlgorithmNotAllowed,
    /// The header carries a `crit` parameter; we implement no JWS extensions.
    UnsupportedCritical,
    /// The `iss` claim is not one of the configured issuers.
    WrongIssuer,
    /// No key in the issuer's JWKS has the token's `kid` (after a refresh, if one was due).
    UnknownKid,
    /// The token has no `kid` and the JWKS does not hold exactly one key that fits.
    AmbiguousKey,
    /// The signature does not verify.
    BadSignature,
    /// `exp` is in the past (beyond the grace).
    Expired,
    /// `nbf` is in the future (beyond the grace).
    NotYetValid,
    /// `iat` is in the future (beyond the grace).
    IssuedInFuture,
    /// A required claim is missing or has the wrong type.
    MissingClaim(&'static str),
    /// `token_use` is not the one the issuer accepts.
    WrongTokenUse,
    /// `client_id` (access tokens) or `aud` (ID tokens) is not an accepted client.
    WrongClient,
    /// None of the required scopes is in `scope`.
    MissingScope,
    /// None of the required groups is in the groups claim.
    MissingGroup,
    /// The issuer's JWKS could not be fetched and no usable copy is cached.
    JwksUnavailable,
}

/// What exactly was malformed (kept for debug logs; the code is always `malformed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Not three non-empty dot-separated segments.
    Segments,
    /// A segment is not canonical unpadded base64url.
    Base64,
    /// The header is not a JSON object (or repeats a member).
    HeaderJson,
    /// The payload is not a JSON object (or repeats a member).
    ClaimsJson,
    /// A registered claim has the wrong type (e.g. `exp` not a number).
    ClaimType,
}

impl TokenError {
    /// The stable, machine-readable code (`expired`, `bad_signature`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(_) => "malformed",
            Self::AlgorithmNotAllowed => "alg_not_allowed",
            Self::UnsupportedCritical => "unsupported_crit",
            Self::WrongIssuer => "wrong_issuer",
            Self::UnknownKid => "unknown_kid",
            Self::AmbiguousKey => "ambiguous_key",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::MissingClaim(_) => "missing_claim",
            Self::WrongTokenUse => "wrong_token_use",
            Self::WrongClient => "wrong_client",
            Self::MissingScope => "missing_scope",
            Self::MissingGroup => "missing_group",
            Self::JwksUnavailable => "jwks_unavailable",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "token is longer than {limit} bytes"),
            Self::Malformed(what) => {
                let what = match what {
                    Malformed::Segments => "not three non-empty dot-separated segments",
                    Malformed::Base64 => "a segment is not unpadded base64url",
                    Malformed::HeaderJson => "header is not a JSON object with unique members",
                    Malformed::ClaimsJson => "payload is not a JSON object with unique members",
                    Malformed::ClaimType => "a registered claim has the wrong type",
                };
                write!(f, "malformed token: {what}")
            }
            Self::AlgorithmNotAllowed => f.write_str("token algorithm is not allowed for this key"),
            Self::UnsupportedCritical => f.write_str("token header has an unsupported `crit`"),
            Self::WrongIssuer => f.write_str("token issuer is not configured"),
            Self::UnknownKid => f.write_str("no key in the issuer's JWKS has the token's `kid`"),
            Self::AmbiguousKey => {
                f.write_str("token has no `kid` and the JWKS has no single fitting key")
            }
            Self::BadSignature => f.write_str("token signature is invalid"),
            Self::Expired => f.write_str("token has expired"),
            Self::NotYetValid => f.write_str("token is not valid yet (`nbf`)"),
            Self::IssuedInFuture => f.write_str("token was issued in the future (`iat`)"),
            Self::MissingClaim(claim) => write!(f, "token lacks a valid `{claim}` claim"),
            Self::WrongTokenUse => f.write_str("token `token_use` is not accepted"),
            Self::WrongClient => f.write_str("token client is not accepted"),
            Self::MissingScope => f.write_str("token has none of the required scopes"),
            Self::MissingGroup => f.write_str("token has none of the required groups"),
            Self::JwksUnavailable => f.write_str("the issuer's JWKS is unavailable"),
        }
    }
}

impl core::error::Error for TokenError {}
