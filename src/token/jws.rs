//! JWS compact serialization: `base64url(header) . base64url(payload) . base64url(signature)`.
//!
//! Parsing yields an [`UnverifiedToken`]: nothing in it is trusted until the signature and
//! the claim rules have been checked by the verifier.

use alloc::string::String;
use alloc::vec::Vec;

use super::crypto::Algorithm;
use super::error::{Malformed, TokenError};
use super::object::Claims;

/// A parsed but unverified token.
#[derive(Debug)]
pub(crate) struct UnverifiedToken<'a> {
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) claims: Claims,
    pub(crate) signature: Vec<u8>,
}

/// Splits, decodes and checks the shape of a compact JWS, before any crypto.
pub(crate) fn parse(token: &str, max_len: usize) -> Result<UnverifiedToken<'_>, TokenError> {
    if token.len() > max_len {
        return Err(TokenError::TooLarge { limit: max_len });
    }
    let malformed = TokenError::Malformed;
    let (signing_input, signature_b64) = token
        .rsplit_once('.')
        .ok_or(malformed(Malformed::Segments))?;
    let (header_b64, payload_b64) = signing_input
        .split_once('.')
        .ok_or(malformed(Malformed::Segments))?;
    if header_b64.is_empty() || payload_b64.contains('.') {
        return Err(malformed(Malformed::Segments));
    }
    // The header first: an unsigned (`alg: none`, empty signature) or HMAC token is
    // reported as such rather than as a missing segment.
    let Some(header) = Claims::from_vec(decode(header_b64)?) else {
        return Err(malformed(Malformed::HeaderJson));
    };
    let (algorithm, kid) = check_header(&header)?;
    if payload_b64.is_empty() || signature_b64.is_empty() {
        return Err(malformed(Malformed::Segments));
    }
    let payload = decode(payload_b64)?;
    let signature = decode(signature_b64)?;

    let Some(claims) = Claims::from_vec(payload) else {
        return Err(malformed(Malformed::ClaimsJson));
    };
    Ok(UnverifiedToken {
        signing_input,
        algorithm,
        kid,
        claims,
        signature,
    })
}

fn decode(segment: &str) -> Result<Vec<u8>, TokenError> {
    crate::base64url::decode(segment).ok_or(TokenError::Malformed(Malformed::Base64))
}

/// Reads `alg` and `kid`; rejects what we do not implement.
///
/// `jku`, `x5u`, `jwk` and `x5c` are deliberately never read: keys come only from the
/// configured issuer's JWKS.
fn check_header(header: &Claims) -> Result<(Algorithm, Option<String>), TokenError> {
    if header.contains_key("crit") {
        // RFC 7515 §4.1.11: a recipient must reject extensions it does not understand, and
        // we understand none (this also rules out `b64: false`).
        return Err(TokenError::UnsupportedCritical);
    }
    if header.contains_key("enc") || header.contains_key("zip") {
        // A JWE header: encrypted tokens are not supported.
        return Err(TokenError::Malformed(Malformed::HeaderJson));
    }
    let algorithm = match header.str("alg") {
        Ok(Some(name)) => Algorithm::from_name(name).ok_or(TokenError::AlgorithmNotAllowed)?,
        _ => return Err(TokenError::Malformed(Malformed::HeaderJson)),
    };
    let kid = match header.str("kid") {
        Ok(kid) => kid.map(String::from),
        Err(()) => return Err(TokenError::Malformed(Malformed::HeaderJson)),
    };
    Ok((algorithm, kid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding};

    fn b64(s: &str) -> String {
        Base64UrlUnpadded::encode_string(s.as_bytes())
    }

    fn token(header: &str, payload: &str) -> String {
        alloc::format!("{}.{}.c2ln", b64(header), b64(payload))
    }

    fn code(token: &str) -> &'static str {
        match parse(token, 8192) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn accepts_a_well_formed_token() {
        let t = token(r#"{"alg":"RS256","kid":"k1"}"#, r#"{"sub":"u"}"#);
        let parsed = parse(&t, 8192).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Rs256);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.signature, b"sig");
    }

    #[test]
    fn rejects_shapes() {
        let h = b64(r#"{"alg":"RS256"}"#);
        let p = b64("{}");
        for bad in [
            String::new(),
            String::from("."),
            String::from(".."),
            alloc::format!("{h}.{p}"),
            alloc::format!("{h}.{p}."),
            alloc::format!("{h}..c2ln"),
            alloc::format!(".{p}.c2ln"),
            alloc::format!("{h}.{p}.c2ln.x"),
            alloc::format!("{h}..{p}.c2ln"),
        ] {
            assert_eq!(code(&bad), "malformed", "{bad:?}");
        }
        // Padding and the standard alphabet are not base64url.
        assert_eq!(code(&alloc::format!("{h}=.{p}.c2ln")), "malformed");
        assert_eq!(code(&alloc::format!("{h}.{p}.c2l+")), "malformed");
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(code(&token(r#"{"alg":"none"}"#, "{}")), "alg_not_allowed");
        assert_eq!(code(&token(r#"{"alg":"HS256"}"#, "{}")), "alg_not_allowed");
        assert_eq!(code(&token(r#"{"kid":"x"}"#, "{}")), "malformed");
        assert_eq!(
            code(&token(r#"{"alg":"RS256","alg":"none"}"#, "{}")),
            "malformed"
        );
        assert_eq!(
            code(&token(r#"{"alg":"RS256","kid":7}"#, "{}")),
            "malformed"
        );
        assert_eq!(
            code(&token(r#"{"alg":"RS256","crit":["exp"],"exp":1}"#, "{}")),
            "unsupported_crit"
        );
        assert_eq!(code(&token(r#"["RS256"]"#, "{}")), "malformed");
        assert_eq!(code(&token(r#"{"alg":"RS256"}"#, "[]")), "malformed");
        assert_eq!(
            code(&token(r#"{"alg":"RS256"}"#, r#"{"a":1,"a":2}"#)),
            "malformed"
        );
    }

    #[test]
    fn rejects_oversized_before_decoding() {
        let t = "a".repeat(9000);
        assert_eq!(code(&t), "too_large");
    }
}
