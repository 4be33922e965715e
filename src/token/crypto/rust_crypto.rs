//! The pure-Rust backend (feature `rust-crypto`): `jwt-compact` (with the `rsa`, `p256` and
//! `ed25519-compact` crates) and `p384`, portable to every target including wasm and bare
//! metal.

use alloc::vec::Vec;

use super::algorithm::Algorithm;
use super::key::{KeyError, KeyMaterial, PublicKey};
use super::{SignatureVerdict, SignatureVerifier};

/// The pure-Rust key, built once at load so that verification parses nothing per token.
#[derive(Clone)]
pub(super) enum PreparedKey {
    Rsa(jwt_compact::alg::RsaPublicKey),
    P256(<jwt_compact::alg::Es256 as jwt_compact::Algorithm>::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(<jwt_compact::alg::Ed25519 as jwt_compact::Algorithm>::VerifyingKey),
}

pub(super) fn prepare(material: &KeyMaterial) -> Result<PreparedKey, KeyError> {
    use alloc::borrow::Cow;
    use jwt_compact::alg::{self, Ed25519, Es256, RsaPublicKey};
    use jwt_compact::jwk::JsonWebKey;

    Ok(match material {
        KeyMaterial::Rsa { n, e } => {
            let jwk = JsonWebKey::Rsa {
                modulus: Cow::Borrowed(n),
                public_exponent: Cow::Borrowed(e),
                private_parts: None,
            };
            let key = RsaPublicKey::try_from(&jwk).map_err(|_| KeyError::RsaInvalidExponent)?;
            PreparedKey::Rsa(key)
        }
        KeyMaterial::EcP256 { x, y } => {
            let sec1 = uncompressed_point(x, y);
            let key = <<Es256 as jwt_compact::Algorithm>::VerifyingKey as alg::VerifyingKey<
                Es256,
            >>::from_slice(&sec1)
            .map_err(|_| KeyError::InvalidPoint)?;
            PreparedKey::P256(key)
        }
        KeyMaterial::EcP384 { x, y } => {
            let sec1 = uncompressed_point(x, y);
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                .map_err(|_| KeyError::InvalidPoint)?;
            PreparedKey::P384(key)
        }
        KeyMaterial::Ed25519 { x } => {
            let key = <<Ed25519 as jwt_compact::Algorithm>::VerifyingKey as alg::VerifyingKey<
                Ed25519,
            >>::from_slice(x)
            .map_err(|_| KeyError::InvalidKeyLength)?;
            // Constructors only check the length: reject non-canonical and small-order
            // points at load (such a key could never verify a signature anyway).
            key.validate().map_err(|_| KeyError::InvalidPoint)?;
            PreparedKey::Ed25519(key)
        }
    })
}

fn uncompressed_point(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut sec1 = Vec::with_capacity(1 + x.len() + y.len());
    sec1.push(0x04);
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    sec1
}
/// Pure-Rust verification: `jwt-compact` (with the `rsa`, `p256` and `ed25519-compact`
/// crates) for `RS*`, `PS*`, `ES256` and `EdDSA`, and the `p384` crate directly for
/// `ES384`, which `jwt-compact` does not implement.
///
/// Never answers [`SignatureVerdict::Deferred`]. A key whose algorithms do not include
/// `algorithm`, or a signature of the wrong length, is [`SignatureVerdict::Invalid`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoVerifier;

impl RustCryptoVerifier {
    fn check(algorithm: Algorithm, key: &PublicKey, input: &[u8], signature: &[u8]) -> bool {
        use jwt_compact::alg::{Ed25519, Es256, Rsa};
        use jwt_compact::{Algorithm as _, AlgorithmSignature as _};

        if !key.allows(algorithm) {
            return false;
        }
        match (&key.prepared, algorithm) {
            (PreparedKey::Rsa(rsa_key), _) => {
                let rsa = match algorithm {
                    Algorithm::Rs256 => Rsa::rs256(),
                    Algorithm::Rs384 => Rsa::rs384(),
                    Algorithm::Rs512 => Rsa::rs512(),
                    Algorithm::Ps256 => Rsa::ps256(),
                    Algorithm::Ps384 => Rsa::ps384(),
                    Algorithm::Ps512 => Rsa::ps512(),
                    _ => return false,
                };
                let modulus_len = key.rsa_modulus_bits().unwrap_or(0).div_ceil(8);
                if signature.len() != modulus_len {
                    return false;
                }
                match <Rsa as jwt_compact::Algorithm>::Signature::try_from_slice(signature) {
                    Ok(sig) => rsa.verify_signature(&sig, rsa_key, input),
                    Err(_) => false,
                }
            }
            (PreparedKey::P256(p256_key), Algorithm::Es256) => {
                if signature.len() != 64 {
                    return false;
                }
                match <Es256 as jwt_compact::Algorithm>::Signature::try_from_slice(signature) {
                    Ok(sig) => Es256.verify_signature(&sig, p256_key, input),
                    Err(_) => false,
                }
            }
            (PreparedKey::P384(p384_key), Algorithm::Es384) => {
                use p384::ecdsa::signature::Verifier as _;
                if signature.len() != 96 {
                    return false;
                }
                match p384::ecdsa::Signature::from_slice(signature) {
                    Ok(sig) => p384_key.verify(input, &sig).is_ok(),
                    Err(_) => false,
                }
            }
            (PreparedKey::Ed25519(ed_key), Algorithm::EdDsa) => {
                // jwt-compact's `try_from_slice` for Ed25519 panics on a wrong length.
                if signature.len() != 64 {
                    return false;
                }
                match <Ed25519 as jwt_compact::Algorithm>::Signature::try_from_slice(signature) {
                    Ok(sig) => Ed25519.verify_signature(&sig, ed_key, input),
                    Err(_) => false,
                }
            }
            _ => false,
        }
    }
}

impl SignatureVerifier for RustCryptoVerifier {
    fn verify(
        &self,
        algorithm: Algorithm,
        key: &PublicKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> SignatureVerdict {
        if Self::check(algorithm, key, signing_input, signature) {
            SignatureVerdict::Valid
        } else {
            SignatureVerdict::Invalid
        }
    }
}
