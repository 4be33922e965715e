//! Public keys: the decoded material, the load-time checks, and why a key is refused.
//!
//! Every check runs once, when a key is loaded, so that a key in a [`PublicKey`] is known
//! good and verification parses nothing per token.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::algorithm::{Algorithm, AlgorithmSet};
use super::jwk::public_jwk_json;
#[cfg(feature = "rust-crypto")]
use super::rust_crypto::{prepare, PreparedKey};

/// Smallest usable RSA modulus, in bits (RFC 7518 §3.3).
pub const RSA_MIN_MODULUS_BITS: usize = 2048;
/// Largest accepted RSA modulus, in bits (the pure-Rust `rsa` crate's limit; it also bounds
/// the cost of one verification).
pub const RSA_MAX_MODULUS_BITS: usize = 4096;

/// Public key material, decoded: big-endian unsigned integers (RSA) or raw coordinates.
///
/// [`PublicKey::new`] normalises RSA integers to their minimal encoding (no leading zero
/// bytes); EC coordinates are fixed-length (32 bytes for P-256, 48 for P-384).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyMaterial {
    /// An RSA public key.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
    /// A P-256 point.
    EcP256 {
        /// x coordinate, 32 bytes.
        x: Vec<u8>,
        /// y coordinate, 32 bytes.
        y: Vec<u8>,
    },
    /// A P-384 point.
    EcP384 {
        /// x coordinate, 48 bytes.
        x: Vec<u8>,
        /// y coordinate, 48 bytes.
        y: Vec<u8>,
    },
    /// An Ed25519 public key.
    Ed25519 {
        /// The 32-byte encoded point.
        x: Vec<u8>,
    },
}

impl KeyMaterial {
    /// The algorithms this kind of key can be used with at all (`RS*`/`PS*` for RSA,
    /// `ES256` for P-256, `ES384` for P-384, `EdDSA` for Ed25519). A JWK without `alg` gets
    /// this set.
    pub const fn compatible_algorithms(&self) -> AlgorithmSet {
        match self {
            Self::Rsa { .. } => AlgorithmSet::RSA,
            Self::EcP256 { .. } => AlgorithmSet::single(Algorithm::Es256),
            Self::EcP384 { .. } => AlgorithmSet::single(Algorithm::Es384),
            Self::Ed25519 { .. } => AlgorithmSet::single(Algorithm::EdDsa),
        }
    }
}

/// Why a key cannot be used (a JWK skipped from a set, or [`PublicKey::new`] refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The document (single JWK) is not valid JSON.
    InvalidJson,
    /// The entry is not a JSON object.
    NotAnObject,
    /// The key repeats a member.
    DuplicateMember,
    /// A required member is missing.
    MissingMember(&'static str),
    /// A member has the wrong JSON type (for example a numeric `kid`).
    InvalidMember(&'static str),
    /// A member is not canonical unpadded base64url.
    InvalidBase64(&'static str),
    /// `kty` is `oct`: symmetric keys are never used.
    SymmetricKey,
    /// `kty` is not `RSA`, `EC` or `OKP`.
    UnsupportedKeyType,
    /// `crv` is not `P-256`, `P-384` (EC) or `Ed25519` (OKP).
    UnsupportedCurve,
    /// The key has private members (`d`, `p`, `q`, ...): a JWKS must publish public keys only.
    PrivateKeyMaterial,
    /// `use` is present and not `sig`.
    NotForSignatures,
    /// `key_ops` is present and does not contain `verify`.
    NoVerifyOperation,
    /// `alg` names an algorithm we never use (`none`, `HS256`, unknown names).
    UnsupportedAlgorithm,
    /// The algorithm does not fit the key type or curve (e.g. `RS256` on an EC key).
    AlgorithmMismatch,
    /// No algorithm was given.
    NoAlgorithm,
    /// The RSA modulus has fewer than 2048 bits.
    RsaModulusTooSmall {
        /// Its size in bits.
        bits: usize,
    },
    /// The RSA modulus has more than 4096 bits.
    RsaModulusTooLarge {
        /// Its size in bits.
        bits: usize,
    },
    /// The RSA modulus is even.
    RsaInvalidModulus,
    /// The RSA public exponent is even, below 3 or above 2^33 - 1.
    RsaInvalidExponent,
    /// An EC coordinate or the Ed25519 key does not have the curve's exact length.
    InvalidKeyLength,
    /// The EC point is not on the curve (or is the identity), or the Ed25519 key is not a
    /// canonical point of large order.
    InvalidPoint,
}

impl KeyError {
    /// The stable, machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson => "invalid_json",
            Self::NotAnObject => "not_an_object",
            Self::DuplicateMember => "duplicate_member",
            Self::MissingMember(_) => "missing_member",
            Self::InvalidMember(_) => "invalid_member",
            Self::InvalidBase64(_) => "invalid_base64",
            Self::SymmetricKey => "symmetric_key",
            Self::UnsupportedKeyType => "unsupported_kty",
            Self::UnsupportedCurve => "unsupported_crv",
            Self::PrivateKeyMaterial => "private_key_material",
            Self::NotForSignatures => "not_for_signatures",
            Self::NoVerifyOperation => "no_verify_operation",
            Self::UnsupportedAlgorithm => "unsupported_alg",
            Self::AlgorithmMismatch => "alg_mismatch",
            Self::NoAlgorithm => "no_alg",
            Self::RsaModulusTooSmall { .. } => "rsa_modulus_too_small",
            Self::RsaModulusTooLarge { .. } => "rsa_modulus_too_large",
            Self::RsaInvalidModulus => "rsa_invalid_modulus",
            Self::RsaInvalidExponent => "rsa_invalid_exponent",
            Self::InvalidKeyLength => "invalid_key_length",
            Self::InvalidPoint => "invalid_point",
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJson => f.write_str("key is not valid JSON"),
            Self::NotAnObject => f.write_str("key is not a JSON object"),
            Self::DuplicateMember => f.write_str("key repeats a member"),
            Self::MissingMember(m) => write!(f, "key lacks the `{m}` member"),
            Self::InvalidMember(m) => write!(f, "key member `{m}` has the wrong type"),
            Self::InvalidBase64(m) => write!(f, "key member `{m}` is not unpadded base64url"),
            Self::SymmetricKey => f.write_str("symmetric (`oct`) keys are not used"),
            Self::UnsupportedKeyType => f.write_str("unsupported key type (`kty`)"),
            Self::UnsupportedCurve => f.write_str("unsupported curve (`crv`)"),
            Self::PrivateKeyMaterial => f.write_str("key contains private key material"),
            Self::NotForSignatures => f.write_str("key `use` is not `sig`"),
            Self::NoVerifyOperation => f.write_str("key `key_ops` does not allow `verify`"),
            Self::UnsupportedAlgorithm => f.write_str("key `alg` is not a supported algorithm"),
            Self::AlgorithmMismatch => f.write_str("algorithm does not fit the key type"),
            Self::NoAlgorithm => f.write_str("key allows no algorithm"),
            Self::RsaModulusTooSmall { bits } => {
                write!(
                    f,
                    "RSA modulus has {bits} bits, fewer than {RSA_MIN_MODULUS_BITS}"
                )
            }
            Self::RsaModulusTooLarge { bits } => {
                write!(
                    f,
                    "RSA modulus has {bits} bits, more than {RSA_MAX_MODULUS_BITS}"
                )
            }
            Self::RsaInvalidModulus => f.write_str("RSA modulus is not a valid modulus"),
            Self::RsaInvalidExponent => f.write_str("RSA public exponent is out of range"),
            Self::InvalidKeyLength => f.write_str("key coordinate has the wrong length"),
            Self::InvalidPoint => f.write_str("key is not a valid curve point"),
        }
    }
}

impl core::error::Error for KeyError {}

/// A verification key ready to use: its material, the algorithms it may be used with
/// (fixed at load), its `kid`, and its public JWK as JSON for hosts that import it into
/// their own crypto (`crypto.subtle.importKey("jwk", ...)`,
/// `crypto.createPublicKey({ format: "jwk", ... })`).
///
/// With the `rust-crypto` feature it also holds the pre-built pure-Rust key used by
/// [`RustCryptoVerifier`](super::RustCryptoVerifier).
#[derive(Clone)]
pub struct PublicKey {
    kid: Option<String>,
    material: KeyMaterial,
    algorithms: AlgorithmSet,
    jwk_json: String,
    /// Read by the pure-Rust backend (`rust_crypto.rs`).
    #[cfg(feature = "rust-crypto")]
    pub(super) prepared: PreparedKey,
}

impl PublicKey {
    /// Builds a key from decoded material and the algorithms it may be used with.
    ///
    /// Checks: `algorithms` is non-empty and fits the material (see
    /// [`KeyMaterial::compatible_algorithms`]); RSA modulus of 2048 to 4096 bits and odd,
    /// exponent odd in `3..2^33`; EC coordinates of exact length (and, with `rust-crypto`,
    /// the point on the curve); Ed25519 key of 32 bytes (and, with `rust-crypto`, a
    /// canonical point of large order).
    pub fn new(
        kid: Option<String>,
        material: KeyMaterial,
        algorithms: AlgorithmSet,
    ) -> Result<Self, KeyError> {
        if algorithms.is_empty() {
            return Err(KeyError::NoAlgorithm);
        }
        if !algorithms.is_subset(material.compatible_algorithms()) {
            return Err(KeyError::AlgorithmMismatch);
        }
        let material = match material {
            KeyMaterial::Rsa { n, e } => {
                let n = strip_leading_zeros(n);
                let e = strip_leading_zeros(e);
                check_rsa(&n, &e)?;
                KeyMaterial::Rsa { n, e }
            }
            KeyMaterial::EcP256 { x, y } => {
                if x.len() != 32 || y.len() != 32 {
                    return Err(KeyError::InvalidKeyLength);
                }
                KeyMaterial::EcP256 { x, y }
            }
            KeyMaterial::EcP384 { x, y } => {
                if x.len() != 48 || y.len() != 48 {
                    return Err(KeyError::InvalidKeyLength);
                }
                KeyMaterial::EcP384 { x, y }
            }
            KeyMaterial::Ed25519 { x } => {
                if x.len() != 32 {
                    return Err(KeyError::InvalidKeyLength);
                }
                KeyMaterial::Ed25519 { x }
            }
        };
        #[cfg(feature = "rust-crypto")]
        let prepared = prepare(&material)?;
        let jwk_json = public_jwk_json(kid.as_deref(), &material, algorithms);
        Ok(Self {
            kid,
            material,
            algorithms,
            jwk_json,
            #[cfg(feature = "rust-crypto")]
            prepared,
        })
    }

    /// The key id (`kid`), if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The algorithms this key may verify; fixed at load.
    pub fn algorithms(&self) -> AlgorithmSet {
        self.algorithms
    }

    /// Whether this key may verify `algorithm`.
    pub fn allows(&self, algorithm: Algorithm) -> bool {
        self.algorithms.contains(algorithm)
    }

    /// The decoded key material.
    pub fn material(&self) -> &KeyMaterial {
        &self.material
    }

    /// The public JWK as a JSON object with only public members (`kty`, `kid`, `alg` when
    /// the key allows exactly one algorithm, `use: "sig"`, then `n`, `e` or `crv`, `x`,
    /// `y`), ready for WebCrypto / node:crypto JWK import.
    pub fn jwk_json(&self) -> &str {
        &self.jwk_json
    }

    /// The exact length, in bytes, of a JWS signature by this key under `algorithm` (RFC 7518:
    /// the modulus length for RSA, `r || s` for ECDSA, 64 for Ed25519); `None` when the key
    /// cannot sign with it. Checked by the core before any verifier, the host's included: a
    /// signature of another length is a second spelling of a token (an RSA-PSS signature
    /// without its leading zero byte verifies under some hosts' crypto), never a valid one.
    pub fn signature_len(&self, algorithm: Algorithm) -> Option<usize> {
        match (&self.material, algorithm) {
            (
                KeyMaterial::Rsa { n, .. },
                Algorithm::Rs256
                | Algorithm::Rs384
                | Algorithm::Rs512
                | Algorithm::Ps256
                | Algorithm::Ps384
                | Algorithm::Ps512,
            ) => Some(bit_length(n).div_ceil(8)),
            (KeyMaterial::EcP256 { .. }, Algorithm::Es256) => Some(64),
            (KeyMaterial::EcP384 { .. }, Algorithm::Es384) => Some(96),
            (KeyMaterial::Ed25519 { .. }, Algorithm::EdDsa) => Some(64),
            _ => None,
        }
    }

    /// The RSA modulus size in bits; `None` for other key types.
    pub fn rsa_modulus_bits(&self) -> Option<usize> {
        match &self.material {
            KeyMaterial::Rsa { n, .. } => Some(bit_length(n)),
            _ => None,
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        // The prepared key and the JWK JSON are functions of these three.
        self.kid == other.kid
            && self.algorithms == other.algorithms
            && self.material == other.material
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .field("jwk", &self.jwk_json)
            .finish_non_exhaustive()
    }
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// Bit length of a big-endian unsigned integer without leading zero bytes.
fn bit_length(bytes: &[u8]) -> usize {
    match bytes.first() {
        Some(&first) => (bytes.len() - 1) * 8 + (u8::BITS - first.leading_zeros()) as usize,
        None => 0,
    }
}

fn check_rsa(n: &[u8], e: &[u8]) -> Result<(), KeyError> {
    let bits = bit_length(n);
    if bits < RSA_MIN_MODULUS_BITS {
        return Err(KeyError::RsaModulusTooSmall { bits });
    }
    if bits > RSA_MAX_MODULUS_BITS {
        return Err(KeyError::RsaModulusTooLarge { bits });
    }
    if n.last().is_none_or(|&b| b & 1 == 0) {
        return Err(KeyError::RsaInvalidModulus);
    }
    // e fits in 33 bits here, so 8 bytes are plenty.
    if e.len() > 8 {
        return Err(KeyError::RsaInvalidExponent);
    }
    let value = e.iter().fold(0_u64, |acc, &b| (acc << 8) | u64::from(b));
    if !(3..=(1 << 33) - 1).contains(&value) || value & 1 == 0 {
        return Err(KeyError::RsaInvalidExponent);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_checks() {
        let mut n = alloc::vec![0xff_u8; 256];
        assert_eq!(check_rsa(&n, &[1, 0, 1]), Ok(()));
        assert_eq!(check_rsa(&n, &[1, 0, 0]), Err(KeyError::RsaInvalidExponent));
        assert_eq!(check_rsa(&n, &[1]), Err(KeyError::RsaInvalidExponent));
        assert_eq!(check_rsa(&n, &[]), Err(KeyError::RsaInvalidExponent));
        assert_eq!(
            check_rsa(&n, &[2, 0, 0, 0, 1]),
            Err(KeyError::RsaInvalidExponent)
        );
        assert_eq!(check_rsa(&n, &[1, 0xff, 0xff, 0xff, 0xff]), Ok(()));
        assert_eq!(
            check_rsa(&n[1..], &[3]),
            Err(KeyError::RsaModulusTooSmall { bits: 2040 })
        );
        if let Some(last) = n.last_mut() {
            *last = 0xfe;
        }
        assert_eq!(check_rsa(&n, &[3]), Err(KeyError::RsaInvalidModulus));
        assert_eq!(bit_length(&[0x01, 0]), 9);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn strict_base64url() {
        assert_eq!(crate::base64url::decode("AQAB"), Some(alloc::vec![1, 0, 1]));
        assert_eq!(crate::base64url::decode("AQAB="), None);
        assert_eq!(crate::base64url::decode("AQ+/"), None);
        assert_eq!(crate::base64url::decode("AR"), None); // non-canonical trailing bits
        assert_eq!(crate::base64url::decode("AQ"), Some(alloc::vec![1]));
        assert_eq!(crate::base64url::decode("AQ AB"), None);
    }
}
