//! The token verifier: parse, pick the issuer and key, check the signature, check claims.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::claims::{self, Identity, Issuer};
use super::crypto::{Algorithm, PublicKey, SignatureVerdict, SignatureVerifier};
use super::error::TokenError;
use super::jwks::{Jwks, KeySelection};
use super::jws::{self, UnverifiedToken};
use super::keys::{KeyCache, KeyLookup};
use super::object::Claims;

/// The largest accepted token by default (8 KiB): Cognito tokens with many groups stay
/// well under it, and it bounds the work an attacker can ask of us.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The largest clock grace we accept in a configuration (5 minutes).
pub const MAX_GRACE_SECONDS: u64 = 300;

/// A token whose signature and claims have been checked.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    /// Index of the issuer (in configuration order) that issued it.
    pub issuer: usize,
    /// Who the caller is.
    pub identity: Identity,
    /// All claims of the payload (they feed `jwt:*` condition keys and variables).
    pub claims: Claims,
}

impl VerifiedToken {
    /// The earliest time the token claims to be valid at: the later of `nbf` and `iat`
    /// (0 without either). Both were checked against the clock when it was verified.
    pub(crate) fn not_before(&self) -> u64 {
        let date = |name| {
            claims::numeric_date(&self.claims, name)
                .ok()
                .flatten()
                .unwrap_or(0)
        };
        date("nbf").max(date("iat"))
    }
}

/// A signature check the host performs with its own crypto (see [`SignatureVerdict::Deferred`]).
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    /// The algorithm to verify with (already checked against the key).
    pub algorithm: Algorithm,
    /// The key, with its public JWK for the host to import.
    pub key: Arc<PublicKey>,
    /// The signed bytes: `header.payload` of the token.
    pub signing_input: String,
    /// The decoded signature (JWS form: `r || s` for ECDSA).
    pub signature: Vec<u8>,
}

/// A token parsed and matched to its issuer and key, waiting for the host's signature
/// verdict: kept so that the step after [`SignatureCheck`] does not parse it again.
#[derive(Debug)]
pub(crate) struct PendingToken {
    issuer: usize,
    claims: Claims,
}

/// What verifying a token needs or yields.
#[derive(Debug)]
pub(crate) enum Verification {
    Verified(VerifiedToken),
    Rejected(TokenError),
    FetchJwks(usize),
    AwaitJwks(usize),
    CheckSignature(SignatureCheck, PendingToken),
}

/// Verifies tokens of a set of trusted issuers.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    issuers: Vec<Issuer>,
    grace: u64,
    max_token_bytes: usize,
}

impl TokenVerifier {
    /// A verifier for `issuers`, with a clock grace in seconds (clamped to
    /// [`MAX_GRACE_SECONDS`]) and a token size limit.
    pub fn new(issuers: Vec<Issuer>, grace: u64, max_token_bytes: usize) -> Self {
        Self {
            issuers,
            grace: grace.min(MAX_GRACE_SECONDS),
            max_token_bytes,
        }
    }

    /// The configured issuers, in order.
    pub fn issuers(&self) -> &[Issuer] {
        &self.issuers
    }

    /// The clock grace in seconds.
    pub fn grace(&self) -> u64 {
        self.grace
    }

    /// Verifies `token` against a JWKS the caller holds, synchronously (no cache, no
    /// fetch): for tools and tests. `now` is seconds since the epoch.
    pub fn verify_with_jwks(
        &self,
        token: &str,
        jwks: &Jwks,
        crypto: &dyn SignatureVerifier,
        now: u64,
    ) -> Result<VerifiedToken, TokenError> {
        let (parsed, issuer) = self.parse(token)?;
        let key = match jwks.select(parsed.kid.as_deref(), parsed.algorithm) {
            KeySelection::Found(key) => key.clone(),
            KeySelection::UnknownKid => return Err(TokenError::UnknownKid),
            KeySelection::Ambiguous => return Err(TokenError::AmbiguousKey),
            KeySelection::NoKeyForAlgorithm => return Err(TokenError::AlgorithmNotAllowed),
        };
        match self.check_signature(&parsed, &key, crypto) {
            SignatureVerdict::Valid => self.check_claims(parsed.claims, issuer, now),
            SignatureVerdict::Invalid | SignatureVerdict::Deferred => Err(TokenError::BadSignature),
        }
    }

    /// The pipeline's step: may ask for keys or for a host signature check (whose answer
    /// comes back through [`Self::verify_pending`]).
    pub(crate) fn verify(
        &self,
        token: &str,
        keys: &mut KeyCache,
        crypto: &dyn SignatureVerifier,
        now: u64,
    ) -> Verification {
        let (parsed, issuer) = match self.parse(token) {
            Ok(ok) => ok,
            Err(e) => return Verification::Rejected(e),
        };
        let key = match keys.lookup(issuer, parsed.kid.as_deref(), parsed.algorithm, now) {
            KeyLookup::Key(key) => key,
            KeyLookup::Fetch => return Verification::FetchJwks(issuer),
            KeyLookup::InFlight => return Verification::AwaitJwks(issuer),
            KeyLookup::Reject(e) => return Verification::Rejected(e),
        };
        match self.check_signature(&parsed, &key, crypto) {
            SignatureVerdict::Valid => match self.check_claims(parsed.claims, issuer, now) {
                Ok(verified) => Verification::Verified(verified),
                Err(e) => Verification::Rejected(e),
            },
            SignatureVerdict::Invalid => Verification::Rejected(TokenError::BadSignature),
            SignatureVerdict::Deferred => Verification::CheckSignature(
                SignatureCheck {
                    algorithm: parsed.algorithm,
                    key,
                    signing_input: String::from(parsed.signing_input),
                    signature: parsed.signature,
                },
                PendingToken {
                    issuer,
                    claims: parsed.claims,
                },
            ),
        }
    }

    /// Finishes a [`PendingToken`] with the host's verdict on its signature.
    pub(crate) fn verify_pending(
        &self,
        pending: PendingToken,
        signature_valid: bool,
        now: u64,
    ) -> Verification {
        if !signature_valid {
            return Verification::Rejected(TokenError::BadSignature);
        }
        match self.check_claims(pending.claims, pending.issuer, now) {
            Ok(verified) => Verification::Verified(verified),
            Err(e) => Verification::Rejected(e),
        }
    }

    /// Parses the token and finds its issuer; checks the algorithm against the issuer's.
    fn parse<'t>(&self, token: &'t str) -> Result<(UnverifiedToken<'t>, usize), TokenError> {
        let parsed = jws::parse(token, self.max_token_bytes)?;
        let iss = match parsed.claims.str("iss") {
            Ok(Some(iss)) => iss,
            Err(()) => return Err(TokenError::MissingClaim("iss")),
            Ok(None) => return Err(TokenError::WrongIssuer),
        };
        let issuer = self
            .issuers
            .iter()
            .position(|i| i.issuer == *iss)
            .ok_or(TokenError::WrongIssuer)?;
        let allowed = self
            .issuers
            .get(issuer)
            .is_some_and(|i| i.algorithms.contains(parsed.algorithm));
        if !allowed {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        Ok((parsed, issuer))
    }

    fn check_signature(
        &self,
        parsed: &UnverifiedToken<'_>,
        key: &PublicKey,
        crypto: &dyn SignatureVerifier,
    ) -> SignatureVerdict {
        if !key.algorithms().contains(parsed.algorithm) {
            return SignatureVerdict::Invalid;
        }
        // Before any verifier, the host's included: only the one length RFC 7518 allows.
        if key.signature_len(parsed.algorithm) != Some(parsed.signature.len()) {
            return SignatureVerdict::Invalid;
        }
        crypto.verify(
            parsed.algorithm,
            key,
            parsed.signing_input.as_bytes(),
            &parsed.signature,
        )
    }

    /// The claim rules, once the signature is known to be good.
    fn check_claims(
        &self,
        claims: Claims,
        issuer: usize,
        now: u64,
    ) -> Result<VerifiedToken, TokenError> {
        let config = self.issuers.get(issuer).ok_or(TokenError::WrongIssuer)?;
        let identity = claims::check(config, &claims, now, self.grace)?;
        Ok(VerifiedToken {
            issuer,
            identity,
            claims,
        })
    }
}
