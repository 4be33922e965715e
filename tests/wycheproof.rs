//! Project Wycheproof signature vectors through every signature backend the build has, with
//! keys built by `PublicKey::new` (the path the token verifier uses): the same cases run as
//! `rust_crypto::*` (`RustCryptoVerifier`, feature `rust-crypto`) and `aws_lc::*`
//! (`AwsLcVerifier`, feature `aws-lc`; on in `cargo test --workspace` because the Lambda
//! enables it).
//!
//! The vectors are vendored in `tests/vectors/wycheproof/` (Apache-2.0, see the LICENSE
//! beside them). A `valid` vector must verify and an `invalid` one must not; `acceptable`
//! ones may go either way but must not panic. Vectors whose key our rules refuse are
//! counted apart.
#![cfg(any(feature = "rust-crypto", feature = "aws-lc"))]

use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;
use std::path::PathBuf;

use edge_authz::token::crypto::{
    Algorithm, AlgorithmSet, KeyMaterial, PublicKey, SignatureVerdict, SignatureVerifier,
};
use edge_authz::token::jwks::parse_jwk;
use serde_json::Value;

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    valid: usize,
    invalid: usize,
    acceptable_valid: usize,
    acceptable_invalid: usize,
    /// Vectors whose group key `PublicKey::new` refuses, by expected result.
    unusable_valid: usize,
    unusable_invalid: usize,
    unusable_acceptable: usize,
}

impl Counts {
    fn total(&self) -> usize {
        self.valid
            + self.invalid
            + self.acceptable_valid
            + self.acceptable_invalid
            + self.unusable_valid
            + self.unusable_invalid
            + self.unusable_acceptable
    }
}

fn load(file: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/wycheproof")
        .join(file);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap()
}

fn hex_field(value: &Value, field: &str) -> Vec<u8> {
    hex::decode(
        value[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field}")),
    )
    .unwrap()
}

/// A fixed-length big-endian coordinate from Wycheproof's minimal two's-complement hex.
fn coordinate(value: &Value, field: &str, len: usize) -> Vec<u8> {
    let bytes = hex_field(value, field);
    let digits: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
    if digits.len() > len {
        return digits; // PublicKey::new refuses it
    }
    let mut out = vec![0; len - digits.len()];
    out.extend_from_slice(&digits);
    out
}

fn material(algorithm: Algorithm, group: &Value) -> KeyMaterial {
    let key = &group["publicKey"];
    match algorithm {
        Algorithm::Es256 => KeyMaterial::EcP256 {
            x: coordinate(key, "wx", 32),
            y: coordinate(key, "wy", 32),
        },
        Algorithm::Es384 => KeyMaterial::EcP384 {
            x: coordinate(key, "wx", 48),
            y: coordinate(key, "wy", 48),
        },
        Algorithm::EdDsa => KeyMaterial::Ed25519 {
            x: hex_field(key, "pk"),
        },
        _ => KeyMaterial::Rsa {
            n: hex_field(key, "modulus"),
            e: hex_field(key, "publicExponent"),
        },
    }
}

fn run(verifier: &dyn SignatureVerifier, file: &str, algorithm: Algorithm) -> Counts {
    let doc = load(file);
    let mut counts = Counts::default();
    let groups = doc["testGroups"].as_array().unwrap();
    for group in groups {
        let material = material(algorithm, group);
        let key = PublicKey::new(
            Some("wycheproof".into()),
            material.clone(),
            AlgorithmSet::single(algorithm),
        );
        // The JWK form of the group key, where the file has one, must give the same key.
        if let Some(jwk) = group.get("publicKeyJwk").or_else(|| group.get("keyJwk")) {
            let from_jwk = parse_jwk(jwk.to_string().as_bytes());
            match (&key, &from_jwk) {
                (Ok(key), Ok(from_jwk)) => assert_eq!(key.material(), from_jwk.material()),
                (Err(_), Err(_)) => {}
                _ => panic!("{file}: JWK and raw key disagree: {key:?} vs {from_jwk:?}"),
            }
        }
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            let result = test["result"].as_str().unwrap();
            let msg = hex_field(test, "msg");
            let sig = hex_field(test, "sig");
            let Ok(key) = &key else {
                match result {
                    "valid" => counts.unusable_valid += 1,
                    "invalid" => counts.unusable_invalid += 1,
                    _ => counts.unusable_acceptable += 1,
                }
                continue;
            };
            let verdict = catch_unwind(AssertUnwindSafe(|| {
                verifier.verify(algorithm, key, &msg, &sig)
            }))
            .unwrap_or_else(|_| panic!("{file} tcId {id}: verify panicked"));
            assert_ne!(verdict, SignatureVerdict::Deferred, "{file} tcId {id}");
            match result {
                "valid" => {
                    assert_eq!(verdict, SignatureVerdict::Valid, "{file} tcId {id}: {test}");
                    counts.valid += 1;
                    // The same signature under any other algorithm is never valid.
                    for other in Algorithm::ALL.into_iter().filter(|&a| a != algorithm) {
                        assert_eq!(
                            verifier.verify(other, key, &msg, &sig),
                            SignatureVerdict::Invalid,
                            "{file} tcId {id} as {other}"
                        );
                    }
                }
                "invalid" => {
                    assert_eq!(
                        verdict,
                        SignatureVerdict::Invalid,
                        "{file} tcId {id}: {test}"
                    );
                    counts.invalid += 1;
                }
                "acceptable" => {
                    if verdict == SignatureVerdict::Valid {
                        counts.acceptable_valid += 1;
                    } else {
                        counts.acceptable_invalid += 1;
                    }
                }
                other => panic!("{file} tcId {id}: unknown result {other}"),
            }
        }
    }
    let expected = doc["numberOfTests"].as_u64().unwrap() as usize;
    assert_eq!(counts.total(), expected, "{file}: not every vector ran");
    assert!(counts.valid > 0, "{file}: no valid vector ran");
    assert!(counts.invalid > 0, "{file}: no invalid vector ran");
    eprintln!("{file}: {counts:?}");
    counts
}

/// The suite, once per backend: `$verifier` builds the backend's verifier. The expected
/// counts are the vectors' own (and `PublicKey::new`'s refusals), the same for every backend.
macro_rules! wycheproof_suite {
    ($backend:ident, $verifier:expr) => {
        mod $backend {
            use super::*;

            #[test]
            fn rsa_pkcs1_2048_sha256() {
                let c = run(
                    &$verifier,
                    "rsa_signature_2048_sha256_test.json",
                    Algorithm::Rs256,
                );
                assert_eq!((c.valid, c.invalid), (9, 249));
            }

            #[test]
            fn rsa_pkcs1_3072_sha256() {
                let c = run(
                    &$verifier,
                    "rsa_signature_3072_sha256_test.json",
                    Algorithm::Rs256,
                );
                assert_eq!((c.valid, c.invalid), (8, 250));
            }

            #[test]
            fn rsa_pkcs1_4096_sha256() {
                let c = run(
                    &$verifier,
                    "rsa_signature_4096_sha256_test.json",
                    Algorithm::Rs256,
                );
                assert_eq!((c.valid, c.invalid), (7, 250));
            }

            #[test]
            fn rsa_pkcs1_2048_sha384() {
                let c = run(
                    &$verifier,
                    "rsa_signature_2048_sha384_test.json",
                    Algorithm::Rs384,
                );
                assert_eq!((c.valid, c.invalid), (7, 250));
            }

            #[test]
            fn rsa_pkcs1_2048_sha512() {
                let c = run(
                    &$verifier,
                    "rsa_signature_2048_sha512_test.json",
                    Algorithm::Rs512,
                );
                assert_eq!((c.valid, c.invalid), (8, 250));
            }

            #[test]
            fn rsa_pss_2048_sha256() {
                let c = run(
                    &$verifier,
                    "rsa_pss_2048_sha256_mgf1_32_test.json",
                    Algorithm::Ps256,
                );
                assert_eq!((c.valid, c.invalid), (63, 45));
            }

            #[test]
            fn ecdsa_p256_sha256_p1363() {
                let c = run(
                    &$verifier,
                    "ecdsa_secp256r1_sha256_p1363_test.json",
                    Algorithm::Es256,
                );
                assert_eq!((c.valid, c.invalid), (173, 89));
            }

            #[test]
            fn ecdsa_p384_sha384_p1363() {
                let c = run(
                    &$verifier,
                    "ecdsa_secp384r1_sha384_p1363_test.json",
                    Algorithm::Es384,
                );
                assert_eq!((c.valid, c.invalid), (193, 87));
            }

            #[test]
            fn ed25519() {
                let c = run(&$verifier, "ed25519_test.json", Algorithm::EdDsa);
                assert_eq!((c.valid, c.invalid), (88, 63));
            }
        }
    };
}

#[cfg(feature = "rust-crypto")]
wycheproof_suite!(rust_crypto, edge_authz::token::crypto::RustCryptoVerifier);

#[cfg(feature = "aws-lc")]
wycheproof_suite!(aws_lc, edge_authz::token::crypto::AwsLcVerifier::new());
