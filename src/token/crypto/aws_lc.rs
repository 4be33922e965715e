//! The native backend (feature `aws-lc`): aws-lc-rs, AWS's libcrypto, for hosts that run
//! native code (the Lambda). It needs std, for the mutex around its key cache.
//!
//! Keys are parsed once (DER / point decoding into an `EVP_PKEY`) and kept in a small cache
//! keyed by algorithm and key material, so a cold token costs one signature check and no
//! key parsing.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};

use super::algorithm::Algorithm;
use super::key::{KeyMaterial, PublicKey};
use super::{SignatureVerdict, SignatureVerifier};

/// At most this many prepared keys are kept (a JWKS holds a handful; rotation adds a few).
const MAX_PREPARED: usize = 64;

/// Parsed keys by algorithm and key bytes.
type PreparedKeys = HashMap<(Algorithm, Vec<u8>), Arc<ParsedPublicKey>>;

/// Native verification with aws-lc-rs: `RS*`, `PS*`, `ES256`, `ES384` and `EdDSA`.
///
/// Never answers [`SignatureVerdict::Deferred`]. A key whose algorithms do not include
/// `algorithm`, a key type that does not fit it, or an RSA signature of the wrong length is
/// [`SignatureVerdict::Invalid`].
#[derive(Default)]
pub struct AwsLcVerifier {
    prepared: Mutex<PreparedKeys>,
}

impl fmt::Debug for AwsLcVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsLcVerifier").finish_non_exhaustive()
    }
}

fn algorithm_of(algorithm: Algorithm) -> &'static dyn VerificationAlgorithm {
    match algorithm {
        Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
        Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDsa => &signature::ED25519,
    }
}

/// The public key in the encoding aws-lc-rs takes: a DER `RSAPublicKey` (PKCS #1), an
/// uncompressed EC point, or the raw Ed25519 key.
fn key_bytes(material: &KeyMaterial) -> Vec<u8> {
    match material {
        KeyMaterial::Rsa { n, e } => {
            let mut body = der_integer(n);
            body.extend(der_integer(e));
            der(0x30, &body)
        }
        KeyMaterial::EcP256 { x, y } | KeyMaterial::EcP384 { x, y } => {
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(x);
            point.extend_from_slice(y);
            point
        }
        KeyMaterial::Ed25519 { x } => x.clone(),
    }
}

fn der_integer(unsigned: &[u8]) -> Vec<u8> {
    let trimmed = unsigned
        .iter()
        .position(|b| *b != 0)
        .and_then(|start| unsigned.get(start..))
        .unwrap_or(&[0]);
    let mut value = Vec::with_capacity(trimmed.len() + 1);
    // DER integers are signed: a leading 1 bit needs a zero byte before it.
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        value.push(0);
    }
    value.extend_from_slice(trimmed);
    der(0x02, &value)
}

fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let digits = bytes.iter().skip_while(|b| **b == 0);
        out.push(0x80 | digits.clone().count() as u8);
        out.extend(digits);
    }
    out.extend_from_slice(value);
    out
}

impl AwsLcVerifier {
    /// A verifier with an empty key cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn prepared(&self, algorithm: Algorithm, key: &PublicKey) -> Option<Arc<ParsedPublicKey>> {
        let cache_key = (algorithm, key_bytes(key.material()));
        if let Ok(cache) = self.prepared.lock() {
            if let Some(found) = cache.get(&cache_key) {
                return Some(found.clone());
            }
        }
        let parsed = Arc::new(ParsedPublicKey::new(algorithm_of(algorithm), &cache_key.1).ok()?);
        if let Ok(mut cache) = self.prepared.lock() {
            if cache.len() >= MAX_PREPARED {
                cache.clear();
            }
            cache.insert(cache_key, parsed.clone());
        }
        Some(parsed)
    }
}

impl SignatureVerifier for AwsLcVerifier {
    fn verify(
        &self,
        algorithm: Algorithm,
        key: &PublicKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> SignatureVerdict {
        if !key.allows(algorithm) {
            return SignatureVerdict::Invalid;
        }
        // The key type must fit the algorithm (`PublicKey::new` guarantees it; checked
        // again here because aws-lc would parse the bytes for whatever it is given).
        let fits = matches!(
            (key.material(), algorithm),
            (
                KeyMaterial::Rsa { .. },
                Algorithm::Rs256
                    | Algorithm::Rs384
                    | Algorithm::Rs512
                    | Algorithm::Ps256
                    | Algorithm::Ps384
                    | Algorithm::Ps512
            ) | (KeyMaterial::EcP256 { .. }, Algorithm::Es256)
                | (KeyMaterial::EcP384 { .. }, Algorithm::Es384)
                | (KeyMaterial::Ed25519 { .. }, Algorithm::EdDsa)
        );
        if !fits {
            return SignatureVerdict::Invalid;
        }
        if let Some(bits) = key.rsa_modulus_bits() {
            if signature.len() != bits.div_ceil(8) {
                return SignatureVerdict::Invalid;
            }
        }
        match self.prepared(algorithm, key) {
            Some(parsed) if parsed.verify_sig(signing_input, signature).is_ok() => {
                SignatureVerdict::Valid
            }
            _ => SignatureVerdict::Invalid,
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::token::crypto::AlgorithmSet;

    #[test]
    fn der_lengths_and_sign_bits() {
        assert_eq!(der_integer(&[0x00, 0x01]), vec![0x02, 0x01, 0x01]);
        assert_eq!(der_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_integer(&[]), vec![0x02, 0x01, 0x00]);
        let long = der(0x30, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x30, 0x82, 0x01, 0x2c]);
        let short = der(0x30, &[0u8; 0x7f]);
        assert_eq!(&short[..2], &[0x30, 0x7f]);
    }

    #[test]
    fn every_algorithm_verifies_and_rejects() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::rsa::KeySize;
        use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

        let rng = SystemRandom::new();
        let v = AwsLcVerifier::new();
        let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
        let check = |alg, key: &PublicKey, sig: &[u8]| {
            assert_eq!(
                v.verify(alg, key, msg, sig),
                SignatureVerdict::Valid,
                "{alg:?}"
            );
            assert_eq!(
                v.verify(alg, key, b"other.input", sig),
                SignatureVerdict::Invalid,
                "{alg:?}"
            );
            let mut bad = sig.to_vec();
            bad[5] ^= 1;
            assert_eq!(
                v.verify(alg, key, msg, &bad),
                SignatureVerdict::Invalid,
                "{alg:?}"
            );
            assert_eq!(
                v.verify(alg, key, msg, &sig[1..]),
                SignatureVerdict::Invalid,
                "{alg:?}"
            );
        };

        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        // The public key is a DER RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }.
        fn tlv(bytes: &[u8]) -> (&[u8], &[u8]) {
            let (len, head) = match bytes[1] {
                l if l < 0x80 => (l as usize, 2),
                l => {
                    let n = (l & 0x7f) as usize;
                    (
                        bytes[2..2 + n]
                            .iter()
                            .fold(0usize, |a, b| a << 8 | *b as usize),
                        2 + n,
                    )
                }
            };
            (&bytes[head..head + len], &bytes[head + len..])
        }
        let (sequence, _) = tlv(rsa.public_key().as_ref());
        let (n, rest) = tlv(sequence);
        let (e, _) = tlv(rest);
        let material = KeyMaterial::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
        };
        assert_eq!(
            key_bytes(&material),
            rsa.public_key().as_ref(),
            "our DER encoding matches aws-lc's"
        );
        let key = PublicKey::new(None, material, AlgorithmSet::RSA).unwrap();
        let schemes: [(Algorithm, &'static dyn signature::RsaEncoding); 6] = [
            (Algorithm::Rs256, &signature::RSA_PKCS1_SHA256),
            (Algorithm::Rs384, &signature::RSA_PKCS1_SHA384),
            (Algorithm::Rs512, &signature::RSA_PKCS1_SHA512),
            (Algorithm::Ps256, &signature::RSA_PSS_SHA256),
            (Algorithm::Ps384, &signature::RSA_PSS_SHA384),
            (Algorithm::Ps512, &signature::RSA_PSS_SHA512),
        ];
        for (alg, encoding) in schemes {
            let mut sig = vec![0; rsa.public_modulus_len()];
            rsa.sign(encoding, &rng, msg, &mut sig).unwrap();
            check(alg, &key, &sig);
            let other = if alg == Algorithm::Rs256 {
                Algorithm::Ps256
            } else {
                Algorithm::Rs256
            };
            assert_eq!(
                v.verify(other, &key, msg, &sig),
                SignatureVerdict::Invalid,
                "{alg:?} as {other:?}"
            );
        }
        // A key restricted to RS256 refuses PS256 even with a valid PS256 signature.
        let only_rs256 = PublicKey::new(
            None,
            key.material().clone(),
            AlgorithmSet::single(Algorithm::Rs256),
        )
        .unwrap();
        let mut sig = vec![0; rsa.public_modulus_len()];
        rsa.sign(&signature::RSA_PSS_SHA256, &rng, msg, &mut sig)
            .unwrap();
        assert_eq!(
            v.verify(Algorithm::Ps256, &only_rs256, msg, &sig),
            SignatureVerdict::Invalid
        );

        for (alg, signing, len) in [
            (
                Algorithm::Es256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                32,
            ),
            (
                Algorithm::Es384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                48,
            ),
        ] {
            let pair = EcdsaKeyPair::generate(signing).unwrap();
            let point = pair.public_key().as_ref();
            let (x, y) = (point[1..1 + len].to_vec(), point[1 + len..].to_vec());
            let material = if len == 32 {
                KeyMaterial::EcP256 { x, y }
            } else {
                KeyMaterial::EcP384 { x, y }
            };
            let key = PublicKey::new(None, material, AlgorithmSet::single(alg)).unwrap();
            let sig = pair.sign(&rng, msg).unwrap();
            check(alg, &key, sig.as_ref());
        }

        let ed = Ed25519KeyPair::generate().unwrap();
        let key = PublicKey::new(
            None,
            KeyMaterial::Ed25519 {
                x: ed.public_key().as_ref().to_vec(),
            },
            AlgorithmSet::single(Algorithm::EdDsa),
        )
        .unwrap();
        check(Algorithm::EdDsa, &key, ed.sign(msg).as_ref());
        // Key type and algorithm must fit.
        assert_eq!(
            v.verify(Algorithm::Es256, &key, msg, ed.sign(msg).as_ref()),
            SignatureVerdict::Invalid
        );
    }
}
