//! Why the authorizer decided as it did: one typed [`Reason`] with a stable code.
//!
//! Every reason code any runtime logs, tests or exposes exists once, here. The TypeScript
//! union `Reason` in `js/types/core.d.ts` is generated from [`Reason::ALL`]
//! (`tests/typescript.rs`), so the two cannot drift.

use core::fmt;

use crate::credentials::CredentialError;
use crate::decision::Outcome;
use crate::request_path::PathError;
use crate::token::error::TokenError;

macro_rules! reasons {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal => $outcome:ident, )*) => {
        /// Why a request was decided as it was. Each reason has a stable [`code`](Self::code)
        /// for logs, metrics and tests (never sent to the client) and belongs to exactly one
        /// [`Outcome`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reason {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),*];

            /// The stable code (`allowed`, `expired`, `path_fragment`, ...).
            pub const fn code(self) -> &'static str {
                match self { $(Reason::$variant => $code,)* }
            }

            /// The outcome every decision with this reason has.
            pub const fn outcome(self) -> Outcome {
                match self { $(Reason::$variant => Outcome::$outcome,)* }
            }

            /// The reason with this code, if any.
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some(Reason::$variant),)* _ => None }
            }

            /// What the reason means, in one line (the doc comment of its variant).
            pub fn describe(self) -> &'static str {
                let text: &'static str = match self { $(Reason::$variant => concat!($($doc),*),)* };
                text.trim_start()
            }
        }
    };
}

reasons! {
    /// The policies allow the request.
    Allowed = "allowed" => Allow,
    /// A Deny statement matched.
    ExplicitDeny = "explicit_deny" => Forbidden,
    /// No Allow statement matched.
    ImplicitDeny = "implicit_deny" => Forbidden,
    /// A policy of the caller's groups failed validation: denied until it is fixed.
    InvalidPolicy = "invalid_policy" => Forbidden,
    /// The caller's group policies could not be loaded and none is cached.
    PoliciesUnavailable = "policies_unavailable" => Unavailable,
    /// The request carries no bearer token.
    NoCredentials = "no_credentials" => Unauthorized,
    /// The credential is not `Bearer <token>` (or is given twice).
    MalformedAuthorization = "malformed_authorization" => Unauthorized,
    /// The token is longer than the configured limit.
    TooLarge = "too_large" => Forbidden,
    /// The token is not a JWS compact token with JSON header and claims.
    Malformed = "malformed" => Forbidden,
    /// The token's algorithm is not allowed for its issuer or key.
    AlgNotAllowed = "alg_not_allowed" => Forbidden,
    /// The token's header carries an unsupported `crit`.
    UnsupportedCrit = "unsupported_crit" => Forbidden,
    /// The token's issuer is not configured.
    WrongIssuer = "wrong_issuer" => Forbidden,
    /// No key of the issuer's JWKS has the token's `kid`.
    UnknownKid = "unknown_kid" => Forbidden,
    /// The token names no `kid` and no single key fits.
    AmbiguousKey = "ambiguous_key" => Forbidden,
    /// The token's signature does not verify.
    BadSignature = "bad_signature" => Forbidden,
    /// The token has expired.
    Expired = "expired" => Forbidden,
    /// The token is not valid yet (`nbf`).
    NotYetValid = "not_yet_valid" => Forbidden,
    /// The token was issued in the future (`iat`).
    IssuedInFuture = "issued_in_future" => Forbidden,
    /// A required claim is missing or has the wrong type.
    MissingClaim = "missing_claim" => Forbidden,
    /// The token's `token_use` is not accepted.
    WrongTokenUse = "wrong_token_use" => Forbidden,
    /// The token's client is not accepted.
    WrongClient = "wrong_client" => Forbidden,
    /// None of the required scopes is granted.
    MissingScope = "missing_scope" => Forbidden,
    /// None of the required groups is held.
    MissingGroup = "missing_group" => Forbidden,
    /// The issuer's keys could not be fetched and none is cached.
    JwksUnavailable = "jwks_unavailable" => Unavailable,
    /// A revocation record covers the token (its user signed out, was disabled or removed,
    /// its session or the token itself was revoked).
    Revoked = "revoked" => Forbidden,
    /// The revocation store could not be read and no usable answer is cached.
    RevocationsUnavailable = "revocations_unavailable" => Unavailable,
    /// The request target is not a path starting with `/`.
    PathNotOriginForm = "path_not_origin_form" => BadRequest,
    /// The path contains a fragment (`#`).
    PathFragment = "path_fragment" => BadRequest,
    /// The path contains a control character.
    PathControlCharacter = "path_control_character" => BadRequest,
    /// A `%` in the path is not followed by two hexadecimal digits.
    PathBadEscape = "path_bad_escape" => BadRequest,
    /// The path is percent-encoded twice.
    PathDoubleEncoding = "path_double_encoding" => BadRequest,
    /// The path's percent-encoded bytes are not UTF-8.
    PathInvalidUtf8 = "path_invalid_utf8" => BadRequest,
    /// The path contains a backslash.
    PathBackslash = "path_backslash" => BadRequest,
    /// The path contains an encoded slash (`%2F`).
    PathEncodedSlash = "path_encoded_slash" => BadRequest,
    /// The path contains a dot segment.
    PathDotSegment = "path_dot_segment" => BadRequest,
    /// The path contains an empty segment (`//`).
    PathEmptySegment = "path_empty_segment" => BadRequest,
    /// The path contains a `;`.
    PathSemicolon = "path_semicolon" => BadRequest,
    /// A path segment ends in a dot or a space.
    PathTrailingDot = "path_trailing_dot" => BadRequest,
    /// The path is longer than the configured maximum.
    PathTooLong = "path_too_long" => BadRequest,
    /// The method is not 1–32 ASCII letters.
    InvalidMethod = "invalid_method" => BadRequest,
    /// API Gateway's method ARN is not one the core can read.
    InvalidMethodArn = "invalid_method_arn" => BadRequest,
    /// A header or query parameter holds a NUL character.
    RequestNul = "request_nul" => BadRequest,
    /// The app's router would route another path than the one authorized (an adapter's
    /// refusal, e.g. Express resolving dot segments).
    PathRouterMismatch = "path_router_mismatch" => BadRequest,
    /// The host's claim check refused the caller.
    ClaimCheckFailed = "claim_check_failed" => Forbidden,
    /// The authorizer failed (a host error, or a run that did not settle): never an allow.
    InternalError = "internal_error" => Unavailable,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl PartialEq<str> for Reason {
    fn eq(&self, other: &str) -> bool {
        self.code() == other
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

impl PartialEq<alloc::string::String> for Reason {
    fn eq(&self, other: &alloc::string::String) -> bool {
        self.code() == other.as_str()
    }
}

impl From<&TokenError> for Reason {
    fn from(error: &TokenError) -> Self {
        match error {
            TokenError::TooLarge { .. } => Self::TooLarge,
            TokenError::Malformed(_) => Self::Malformed,
            TokenError::AlgorithmNotAllowed => Self::AlgNotAllowed,
            TokenError::UnsupportedCritical => Self::UnsupportedCrit,
            TokenError::WrongIssuer => Self::WrongIssuer,
            TokenError::UnknownKid => Self::UnknownKid,
            TokenError::AmbiguousKey => Self::AmbiguousKey,
            TokenError::BadSignature => Self::BadSignature,
            TokenError::Expired => Self::Expired,
            TokenError::NotYetValid => Self::NotYetValid,
            TokenError::IssuedInFuture => Self::IssuedInFuture,
            TokenError::MissingClaim(_) => Self::MissingClaim,
            TokenError::WrongTokenUse => Self::WrongTokenUse,
            TokenError::WrongClient => Self::WrongClient,
            TokenError::MissingScope => Self::MissingScope,
            TokenError::MissingGroup => Self::MissingGroup,
            TokenError::JwksUnavailable => Self::JwksUnavailable,
        }
    }
}

impl From<PathError> for Reason {
    fn from(error: PathError) -> Self {
        match error {
            PathError::NotOriginForm => Self::PathNotOriginForm,
            PathError::Fragment => Self::PathFragment,
            PathError::ControlCharacter => Self::PathControlCharacter,
            PathError::BadEscape => Self::PathBadEscape,
            PathError::DoubleEncoding => Self::PathDoubleEncoding,
            PathError::InvalidUtf8 => Self::PathInvalidUtf8,
            PathError::Backslash => Self::PathBackslash,
            PathError::EncodedSlash => Self::PathEncodedSlash,
            PathError::DotSegment => Self::PathDotSegment,
            PathError::EmptySegment => Self::PathEmptySegment,
            PathError::Semicolon => Self::PathSemicolon,
            PathError::TrailingDot => Self::PathTrailingDot,
            PathError::TooLong => Self::PathTooLong,
            PathError::InvalidMethod => Self::InvalidMethod,
            PathError::InvalidMethodArn => Self::InvalidMethodArn,
            PathError::NulInRequest => Self::RequestNul,
        }
    }
}

impl From<CredentialError> for Reason {
    fn from(error: CredentialError) -> Self {
        match error {
            CredentialError::Missing => Self::NoCredentials,
            CredentialError::Malformed => Self::MalformedAuthorization,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, reason) in Reason::ALL.iter().enumerate() {
            assert_eq!(Reason::from_code(reason.code()), Some(*reason));
            assert!(
                Reason::ALL[..i].iter().all(|r| r.code() != reason.code()),
                "{reason} twice"
            );
            assert!(!reason.describe().is_empty());
        }
        assert_eq!(Reason::from_code("nope"), None);
    }

    #[test]
    fn the_typed_conversions_keep_the_old_codes() {
        let tokens = [
            TokenError::TooLarge { limit: 1 },
            TokenError::Malformed(crate::token::error::Malformed::Segments),
            TokenError::AlgorithmNotAllowed,
            TokenError::UnsupportedCritical,
            TokenError::WrongIssuer,
            TokenError::UnknownKid,
            TokenError::AmbiguousKey,
            TokenError::BadSignature,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::IssuedInFuture,
            TokenError::MissingClaim("sub"),
            TokenError::WrongTokenUse,
            TokenError::WrongClient,
            TokenError::MissingScope,
            TokenError::MissingGroup,
            TokenError::JwksUnavailable,
        ];
        for error in &tokens {
            assert_eq!(Reason::from(error).code(), error.code());
        }
        for error in [CredentialError::Missing, CredentialError::Malformed] {
            assert_eq!(Reason::from(error).code(), error.code());
            assert_eq!(Reason::from(error).outcome(), Outcome::Unauthorized);
        }
    }
}
