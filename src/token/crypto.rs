//! Signature algorithms, public keys and the pluggable signature check.
//!
//! The core never trusts a token's `alg` header on its own: the algorithm a key may be
//! used with is fixed when the key is loaded (from the JWK's `kty`, `crv` and `alg`), and a
//! token whose header names another algorithm is rejected before any crypto runs.
//!
//! Verification is behind [`SignatureVerifier`] so that hosts can use their own crypto
//! (node:crypto, WebCrypto, ring); [`RustCryptoVerifier`] is the portable default.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64ct::{Base64UrlUnpadded, Encoding as _};

/// A JWS signature algorithm the core can verify (RFC 7518 names).
///
/// HMAC (`HS*`) and `none` are deliberately absent: a token naming them never verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
    Ps256,
    /// RSASSA-PSS with SHA-384 (MGF1 SHA-384, 48-byte salt).
    Ps384,
    /// RSASSA-PSS with SHA-512 (MGF1 SHA-512, 64-byte salt).
    Ps512,
    /// ECDSA on P-256 with SHA-256; the signature is `r || s`, 64 bytes.
    Es256,
    /// ECDSA on P-384 with SHA-384; the signature is `r || s`, 96 bytes.
    Es384,
    /// Ed25519 (`EdDSA` with `crv: Ed25519`); the signature is 64 bytes.
    EdDsa,
}

impl Algorithm {
    /// Every supported algorithm, in a fixed order (the bit order of [`AlgorithmSet`]).
    pub const ALL: [Algorithm; 9] = [
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::EdDsa,
    ];

    /// The algorithm with this exact JWS name (`RS256` ... `EdDSA`, case-sensitive).
    ///
    /// `none`, `HS256` and every other name (in any case) give `None`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Self::Rs256,
            "RS384" => Self::Rs384,
            "RS512" => Self::Rs512,
            "PS256" => Self::Ps256,
            "PS384" => Self::Ps384,
            "PS512" => Self::Ps512,
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "EdDSA" => Self::EdDsa,
            _ => return None,
        })
    }

    /// The JWS name (`alg` header value).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Whether this is an RSA algorithm (`RS*` or `PS*`).
    pub const fn is_rsa(self) -> bool {
        matches!(
            self,
            Self::Rs256 | Self::Rs384 | Self::Rs512 | Self::Ps256 | Self::Ps384 | Self::Ps512
        )
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small, `Copy` set of [`Algorithm`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AlgorithmSet(u16);

impl AlgorithmSet {
    /// No algorithm.
    pub const EMPTY: Self = Self(0);
    /// Every supported algorithm.
    pub const ALL: Self = Self((1 << Algorithm::ALL.len()) - 1);
    /// `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`.
    pub const RSA: Self = Self(
        Algorithm::Rs256.bit()
            | Algorithm::Rs384.bit()
            | Algorithm::Rs512.bit()
            | Algorithm::Ps256.bit()
            | Algorithm::Ps384.bit()
            | Algorithm::Ps512.bit(),
    );

    /// The set holding only `algorithm`.
    pub const fn single(algorithm: Algorithm) -> Self {
        Self(algorithm.bit())
    }

    /// This set plus `algorithm`.
    #[must_use]
    pub const fn with(self, algorithm: Algorithm) -> Self {
        Self(self.0 | algorithm.bit())
    }

    /// Adds `algorithm`.
    pub fn insert(&mut self, algorithm: Algorithm) {
        self.0 |= algorithm.bit();
    }

    /// Whether `algorithm` is in the set.
    pub const fn contains(self, algorithm: Algorithm) -> bool {
        self.0 & algorithm.bit() != 0
    }

    /// The algorithms in both sets.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// The algorithms in either set.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every algorithm of `self` is in `other`.
    pub const fn is_subset(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many algorithms are in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The algorithms in the set, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> AlgorithmSetIter {
        AlgorithmSetIter { set: self, next: 0 }
    }
}

impl From<Algorithm> for AlgorithmSet {
    fn from(algorithm: Algorithm) -> Self {
        Self::single(algorithm)
    }
}

impl FromIterator<Algorithm> for AlgorithmSet {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for algorithm in iter {
            set.insert(algorithm);
        }
        set
    }
}

impl IntoIterator for AlgorithmSet {
    type Item = Algorithm;
    type IntoIter = AlgorithmSetIter;

    fn into_iter(self) -> AlgorithmSetIter {
        self.iter()
    }
}

impl fmt::Debug for AlgorithmSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(Algorithm::name))
            .finish()
    }
}

/// Iterator over an [`AlgorithmSet`].
#[derive(Debug, Clone)]
pub struct AlgorithmSetIter {
    set: AlgorithmSet,
    next: usize,
}

impl Iterator for AlgorithmSetIter {
    type Item = Algorithm;

    fn next(&mut self) -> Option<Algorithm> {
        while let Some(&algorithm) = Algorithm::ALL.get(self.next) {
            self.next += 1;
            if self.set.contains(algorithm) {
                return Some(algorithm);
            }
        }
        None
    }
}

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

/// The pure-Rust key, built once at load so that verification parses nothing per token.
#[cfg(feature = "rust-crypto")]
#[derive(Clone)]
enum PreparedKey {
    Rsa(jwt_compact::alg::RsaPublicKey),
    P256(<jwt_compact::alg::Es256 as jwt_compact::Algorithm>::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(<jwt_compact::alg::Ed25519 as jwt_compact::Algorithm>::VerifyingKey),
}

/// A verification key ready to use: its material, the algorithms it may be used with
/// (fixed at load), its `kid`, and its public JWK as JSON for hosts that import it into
/// their own crypto (`crypto.subtle.importKey("jwk", ...)`,
/// `crypto.createPublicKey({ format: "jwk", ... })`).
///
/// With the `rust-crypto` feature it also holds the pre-built pure-Rust key used by
/// [`RustCryptoVerifier`].
#[derive(Clone)]
pub struct PublicKey {
    kid: Option<String>,
    material: KeyMaterial,
    algorithms: AlgorithmSet,
    jwk_json: String,
    #[cfg(feature = "rust-crypto")]
    prepared: PreparedKey,
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

#[cfg(feature = "rust-crypto")]
fn prepare(material: &KeyMaterial) -> Result<PreparedKey, KeyError> {
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

#[cfg(feature = "rust-crypto")]
fn uncompressed_point(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut sec1 = Vec::with_capacity(1 + x.len() + y.len());
    sec1.push(0x04);
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    sec1
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let v = c as usize;
                out.push_str("\\u00");
                for nibble in [v >> 4, v & 0xf] {
                    if let Some(&h) = HEX.get(nibble) {
                        out.push(char::from(h));
                    }
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_member(out: &mut String, name: &str, value: &str) {
    if out.len() > 1 {
        out.push(',');
    }
    push_json_string(out, name);
    out.push(':');
    push_json_string(out, value);
}

fn push_b64_member(out: &mut String, name: &str, bytes: &[u8]) {
    push_member(out, name, &Base64UrlUnpadded::encode_string(bytes));
}

fn public_jwk_json(kid: Option<&str>, material: &KeyMaterial, algorithms: AlgorithmSet) -> String {
    let mut out = String::from("{");
    let kty = match material {
        KeyMaterial::Rsa { .. } => "RSA",
        KeyMaterial::EcP256 { .. } | KeyMaterial::EcP384 { .. } => "EC",
        KeyMaterial::Ed25519 { .. } => "OKP",
    };
    push_member(&mut out, "kty", kty);
    if let Some(kid) = kid {
        push_member(&mut out, "kid", kid);
    }
    let mut algs = algorithms.iter();
    if let (Some(alg), None) = (algs.next(), algs.next()) {
        push_member(&mut out, "alg", alg.name());
    }
    push_member(&mut out, "use", "sig");
    match material {
        KeyMaterial::Rsa { n, e } => {
            push_b64_member(&mut out, "n", n);
            push_b64_member(&mut out, "e", e);
        }
        KeyMaterial::EcP256 { x, y } | KeyMaterial::EcP384 { x, y } => {
            let crv = if matches!(material, KeyMaterial::EcP256 { .. }) {
                "P-256"
            } else {
                "P-384"
            };
            push_member(&mut out, "crv", crv);
            push_b64_member(&mut out, "x", x);
            push_b64_member(&mut out, "y", y);
        }
        KeyMaterial::Ed25519 { x } => {
            push_member(&mut out, "crv", "Ed25519");
            push_b64_member(&mut out, "x", x);
        }
    }
    out.push('}');
    out
}

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

/// Pure-Rust verification: `jwt-compact` (with the `rsa`, `p256` and `ed25519-compact`
/// crates) for `RS*`, `PS*`, `ES256` and `EdDSA`, and the `p384` crate directly for
/// `ES384`, which `jwt-compact` does not implement.
///
/// Never answers [`SignatureVerdict::Deferred`]. A key whose algorithms do not include
/// `algorithm`, or a signature of the wrong length, is [`SignatureVerdict::Invalid`].
#[cfg(feature = "rust-crypto")]
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoVerifier;

#[cfg(feature = "rust-crypto")]
impl RustCryptoVerifier {
    fn check(algorithm: Algorithm, key: &PublicKey, input: &[u8], signature: &[u8]) -> bool {
        use jwt_compact::alg::{Ed25519, Es256, Rsa};
        use jwt_compact::{Algorithm as _, AlgorithmSignature as _};

        if !key.algorithms.contains(algorithm) {
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

#[cfg(feature = "rust-crypto")]
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
    }

    #[test]
    fn algorithm_names_round_trip() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        for bad in [
            "none", "None", "NONE", "HS256", "rs256", "Ed25519", "ES256K", "", "RS256 ",
        ] {
            assert_eq!(Algorithm::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn algorithm_set_operations() {
        let set: AlgorithmSet = [Algorithm::Rs256, Algorithm::Es256].into_iter().collect();
        assert!(set.contains(Algorithm::Rs256));
        assert!(!set.contains(Algorithm::Rs384));
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Algorithm::Rs256, Algorithm::Es256]
        );
        assert_eq!(
            set.intersection(AlgorithmSet::RSA),
            AlgorithmSet::single(Algorithm::Rs256)
        );
        assert!(AlgorithmSet::EMPTY.is_empty());
        assert_eq!(AlgorithmSet::ALL.len(), 9);
        assert_eq!(AlgorithmSet::ALL.iter().collect::<Vec<_>>(), Algorithm::ALL);
        assert!(AlgorithmSet::RSA.is_subset(AlgorithmSet::ALL));
    }

    #[test]
    fn jwk_json_escapes_kid() {
        let mut out = String::from("{");
        push_member(&mut out, "kid", "a\"b\\c\u{1}");
        out.push('}');
        assert_eq!(out, r#"{"kid":"a\"b\\c\u0001"}"#);
    }

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
