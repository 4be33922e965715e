//! Signature algorithms, public keys and the pluggable signature check.
//!
//! The core never trusts a token's `alg` header on its own: the algorithm a key may be
//! used with is fixed when the key is loaded (from the JWK's `kty`, `crv` and `alg`), and a
//! token whose header names another algorithm is rejected before any crypto runs.
//!
//! Verification is behind [`SignatureVerifier`] so that hosts can use their own crypto
//! (node:crypto, WebCrypto, ring); [`RustCryptoVerifier`] is the portable default and
//! `AwsLcVerifier` (feature `aws-lc`, std) the native one the Lambda uses.
//!
//! One file per concern, one per backend (like jwt-compact's `alg/`): `algorithm.rs`
//! ([`Algorithm`], [`AlgorithmSet`]), `key.rs` ([`PublicKey`] and its load-time checks),
//! `jwk.rs` (the public JWK each key carries), then the backends, each behind its feature:
//! `rust_crypto.rs` (`rust-crypto`) and `aws_lc.rs` (`aws-lc`). The modules are private and
//! everything is re-exported here, so paths stay `token::crypto::...`.

mod algorithm;
#[cfg(feature = "aws-lc")]
mod aws_lc;
mod jwk;
mod key;
#[cfg(feature = "rust-crypto")]
mod rust_crypto;

pub use algorithm::{Algorithm, AlgorithmSet, AlgorithmSetIter};
#[cfg(feature = "aws-lc")]
pub use aws_lc::AwsLcVerifier;
pub use key::{KeyError, KeyMaterial, PublicKey, RSA_MAX_MODULUS_BITS, RSA_MIN_MODULUS_BITS};
#[cfg(feature = "rust-crypto")]
pub use rust_crypto::RustCryptoVerifier;

/// The outcome of a signature check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVerdict {
    /// The signature verifies.
    Valid,
    /// The signature does not verify (or key and algorithm do not fit).
    Invalid,
    /// Not checked here: the host checks it (asynchronously, e.g. with WebCrypto) and
    /// reports back.
    Deferred,
}

/// The pluggable signature check.
///
/// `signing_input` is the ASCII `header.payload` of the compact JWS; `signature` is the
/// decoded signature in JWS form: `r || s` for ECDSA, the raw 64 bytes for Ed25519, and
/// modulus-length bytes for RSA.
///
/// Implementations must answer [`SignatureVerdict::Invalid`] (never panic) when
/// `key.algorithms()` does not contain `algorithm` or the signature is malformed.
pub trait SignatureVerifier {
    /// Checks `signature` over `signing_input` with `key` under `algorithm`.
    fn verify(
        &self,
        algorithm: Algorithm,
        key: &PublicKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> SignatureVerdict;
}

impl<T: SignatureVerifier + ?Sized> SignatureVerifier for &T {
    fn verify(
        &self,
        algorithm: Algorithm,
        key: &PublicKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> SignatureVerdict {
        (**self).verify(algorithm, key, signing_input, signature)
    }
}

/// A verifier that checks nothing and answers [`SignatureVerdict::Deferred`]: for hosts
/// whose crypto is asynchronous (WebCrypto), which verify with [`PublicKey::jwk_json`]
/// themselves.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeferToHost;

impl SignatureVerifier for DeferToHost {
    fn verify(&self, _: Algorithm, _: &PublicKey, _: &[u8], _: &[u8]) -> SignatureVerdict {
        SignatureVerdict::Deferred
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PublicKey>();
        assert_send_sync::<alloc::sync::Arc<PublicKey>>();
        assert_send_sync::<super::super::jwks::Jwks>();
        assert_send_sync::<DeferToHost>();
        #[cfg(feature = "rust-crypto")]
        assert_send_sync::<RustCryptoVerifier>();
        #[cfg(feature = "aws-lc")]
        assert_send_sync::<AwsLcVerifier>();
    }
}
