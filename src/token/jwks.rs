//! JWK Set documents (RFC 7517 §5): parsing, per-key validation and key selection.
//!
//! A document is rejected only when it is not a JWK Set at all. Keys that cannot be used
//! — symmetric, private, unknown type or curve, weak RSA, `use` other than `sig`, an `alg`
//! that does not fit, repeated members — are skipped and reported with a [`KeyError`], so
//! that one odd key in an issuer's set does not take the others down.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::crypto::{Algorithm, AlgorithmSet, KeyError, KeyMaterial, PublicKey};

/// Largest JWK Set document accepted, in bytes.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// A parsed JWK Set: the usable keys, and the keys that were skipped and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<Arc<PublicKey>>,
    skipped: Vec<SkippedKey>,
}

/// A key of the document that is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    /// Its position in the document's `keys` array.
    pub index: usize,
    /// Its `kid`, when it has a string one.
    pub kid: Option<String>,
    /// Why it is skipped.
    pub reason: KeyError,
}

/// The outcome of [`Jwks::select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySelection<'a> {
    /// The key to verify with.
    Found(&'a Arc<PublicKey>),
    /// No key in the set has the token's `kid` (the set may be stale: refresh it).
    UnknownKid,
    /// Keys with the token's `kid` exist, but none allows the token's algorithm (this
    /// includes a `kid` that only skipped keys carry).
    NoKeyForAlgorithm,
    /// The token has no `kid`, and not exactly one usable key allows its algorithm.
    Ambiguous,
}

/// Why a document is not a JWK Set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksError {
    /// The document is larger than [`MAX_JWKS_BYTES`].
    TooLarge {
        /// Its size in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The document is not JSON (syntax error, trailing data, nesting too deep).
    NotJson,
    /// The document is JSON but not an object with a `keys` array (or repeats `keys`).
    NotAJwkSet,
}

impl JwksError {
    /// The stable, machine-readable code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "jwks_too_large",
            Self::NotJson => "jwks_not_json",
            Self::NotAJwkSet => "jwks_not_a_jwk_set",
        }
    }
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { len, limit } => {
                write!(f, "JWKS document has {len} bytes, more than {limit}")
            }
            Self::NotJson => f.write_str("JWKS document is not valid JSON"),
            Self::NotAJwkSet => f.write_str("JWKS document is not an object with a `keys` array"),
        }
    }
}

impl core::error::Error for JwksError {}

impl Jwks {
    /// Parses a JWK Set document.
    ///
    /// Errors only when the document itself is not a JWK Set: larger than
    /// [`MAX_JWKS_BYTES`], not JSON, or without a `keys` array. Keys that cannot be used
    /// are skipped and listed in [`skipped`](Self::skipped).
    pub fn parse(json: &[u8]) -> Result<Jwks, JwksError> {
        if json.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge {
                len: json.len(),
                limit: MAX_JWKS_BYTES,
            });
        }
        let document: Document = serde_json::from_slice(json).map_err(|err| {
            if err.classify() == serde_json::error::Category::Data {
                JwksError::NotAJwkSet
            } else {
                JwksError::NotJson
            }
        })?;
        let mut jwks = Jwks::default();
        for (index, entry) in document.keys.into_iter().enumerate() {
            let kid = entry.kid();
            match entry.into_key() {
                Ok(key) => jwks.keys.push(Arc::new(key)),
                Err(reason) => jwks.skipped.push(SkippedKey { index, kid, reason }),
            }
        }
        Ok(jwks)
    }

    /// A set made of already-built keys (static configuration, tests).
    pub fn from_keys<I: IntoIterator<Item = PublicKey>>(keys: I) -> Jwks {
        Jwks {
            keys: keys.into_iter().map(Arc::new).collect(),
            skipped: Vec::new(),
        }
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[Arc<PublicKey>] {
        &self.keys
    }

    /// The keys that were skipped, in document order.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Whether the set has no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Picks the key for a token whose header has `kid` and `alg`.
    ///
    /// With a `kid`: the first usable key with that `kid` whose algorithms contain `alg`;
    /// [`KeySelection::NoKeyForAlgorithm`] when keys with that `kid` exist (usable or
    /// skipped) but none fits `alg`; [`KeySelection::UnknownKid`] otherwise.
    /// Without a `kid`: the key only when exactly one usable key allows `alg`, else
    /// [`KeySelection::Ambiguous`].
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> KeySelection<'_> {
        match kid {
            Some(kid) => {
                let mut known = false;
                for key in &self.keys {
                    if key.kid() == Some(kid) {
                        if key.allows(alg) {
                            return KeySelection::Found(key);
                        }
                        known = true;
                    }
                }
                if known || self.skipped.iter().any(|s| s.kid.as_deref() == Some(kid)) {
                    KeySelection::NoKeyForAlgorithm
                } else {
                    KeySelection::UnknownKid
                }
            }
            None => {
                let mut fitting = self.keys.iter().filter(|key| key.allows(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => KeySelection::Found(key),
                    _ => KeySelection::Ambiguous,
                }
            }
        }
    }

    /// Whether a usable key has this `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|key| key.kid() == Some(kid))
    }
}

/// Parses a single JWK (a JSON object) with the same rules as the members of a set.
pub fn parse_jwk(json: &[u8]) -> Result<PublicKey, KeyError> {
    if json.len() > MAX_JWKS_BYTES {
        return Err(KeyError::InvalidJson);
    }
    let entry: Entry = serde_json::from_slice(json).map_err(|_| KeyError::InvalidJson)?;
    entry.into_key()
}

#[derive(serde::Deserialize)]
struct Document {
    keys: Vec<Entry>,
}

/// One element of `keys`, as read: never fails for well-formed JSON.
enum Entry {
    NotAnObject,
    Object(alloc::boxed::Box<Members>),
}

#[derive(Default)]
struct Members {
    duplicate: bool,
    private: bool,
    kty: Option<Value>,
    kid: Option<Value>,
    use_: Option<Value>,
    key_ops: Option<Value>,
    alg: Option<Value>,
    crv: Option<Value>,
    n: Option<Value>,
    e: Option<Value>,
    x: Option<Value>,
    y: Option<Value>,
}

/// Members that only private (or symmetric) keys have (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Entry, E> {
        Ok(Entry::NotAnObject)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Entry, E> {
        Ok(Entry::NotAnObject)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Entry, E> {
        Ok(Entry::NotAnObject)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Entry, E> {
        Ok(Entry::NotAnObject)
    }

    fn visit_str<E>(self, _: &str) -> Result<Entry, E> {
        Ok(Entry::NotAnObject)
    }

    fn visit_unit<E>(self) -> Result<Entry, E> {
        Ok(Entry::NotAnObject)
    }

    fn visit_none<E>(self) -> Result<Entry, E> {
        Ok(Entry::NotAnObject)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Entry::NotAnObject)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let mut members = Members::default();
        let mut seen = crate::HashSet::default();
        while let Some(name) = map.next_key::<String>()? {
            let slot = match name.as_str() {
                "kty" => Some(&mut members.kty),
                "kid" => Some(&mut members.kid),
                "use" => Some(&mut members.use_),
                "key_ops" => Some(&mut members.key_ops),
                "alg" => Some(&mut members.alg),
                "crv" => Some(&mut members.crv),
                "n" => Some(&mut members.n),
                "e" => Some(&mut members.e),
                "x" => Some(&mut members.x),
                "y" => Some(&mut members.y),
                _ => None,
            };
            match slot {
                Some(slot) => *slot = Some(map.next_value::<Value>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                    if PRIVATE_MEMBERS.contains(&name.as_str()) {
                        members.private = true;
                    }
                }
            }
            if !seen.insert(name) {
                members.duplicate = true;
            }
        }
        Ok(Entry::Object(alloc::boxed::Box::new(members)))
    }
}

impl Entry {
    fn kid(&self) -> Option<String> {
        match self {
            Entry::Object(members) => match &members.kid {
                Some(Value::String(kid)) => Some(kid.clone()),
                _ => None,
            },
            Entry::NotAnObject => None,
        }
    }

    fn into_key(self) -> Result<PublicKey, KeyError> {
        match self {
            Entry::NotAnObject => Err(KeyError::NotAnObject),
            Entry::Object(members) => members.into_key(),
        }
    }
}

fn string_member<'a>(
    value: &'a Option<Value>,
    name: &'static str,
) -> Result<Option<&'a str>, KeyError> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(KeyError::InvalidMember(name)),
    }
}

fn required_string<'a>(value: &'a Option<Value>, name: &'static str) -> Result<&'a str, KeyError> {
    string_member(value, name)?.ok_or(KeyError::MissingMember(name))
}

fn required_bytes(value: &Option<Value>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    crate::base64url::decode(required_string(value, name)?).ok_or(KeyError::InvalidBase64(name))
}

impl Members {
    fn into_key(self) -> Result<PublicKey, KeyError> {
        if self.duplicate {
            return Err(KeyError::DuplicateMember);
        }
        let kid = string_member(&self.kid, "kid")?.map(String::from);
        let kty = required_string(&self.kty, "kty")?;
        if kty == "oct" {
            return Err(KeyError::SymmetricKey);
        }
        if self.private {
            return Err(KeyError::PrivateKeyMaterial);
        }
        if !matches!(kty, "RSA" | "EC" | "OKP") {
            return Err(KeyError::UnsupportedKeyType);
        }
        if let Some(key_use) = string_member(&self.use_, "use")? {
            if key_use != "sig" {
                return Err(KeyError::NotForSignatures);
            }
        }
        if let Some(ops) = &self.key_ops {
            let Value::Array(ops) = ops else {
                return Err(KeyError::InvalidMember("key_ops"));
            };
            let mut verify = false;
            for op in ops {
                match op {
                    Value::String(op) => verify |= op == "verify",
                    _ => return Err(KeyError::InvalidMember("key_ops")),
                }
            }
            if !verify {
                return Err(KeyError::NoVerifyOperation);
            }
        }
        let alg = match string_member(&self.alg, "alg")? {
            Some(name) => Some(Algorithm::from_name(name).ok_or(KeyError::UnsupportedAlgorithm)?),
            None => None,
        };
        let material = match kty {
            "RSA" => KeyMaterial::Rsa {
                n: required_bytes(&self.n, "n")?,
                e: required_bytes(&self.e, "e")?,
            },
            "EC" => {
                let crv = required_string(&self.crv, "crv")?;
                if !matches!(crv, "P-256" | "P-384") {
                    return Err(KeyError::UnsupportedCurve);
                }
                let x = required_bytes(&self.x, "x")?;
                let y = required_bytes(&self.y, "y")?;
                if crv == "P-256" {
                    KeyMaterial::EcP256 { x, y }
                } else {
                    KeyMaterial::EcP384 { x, y }
                }
            }
            _ => {
                if required_string(&self.crv, "crv")? != "Ed25519" {
                    return Err(KeyError::UnsupportedCurve);
                }
                KeyMaterial::Ed25519 {
                    x: required_bytes(&self.x, "x")?,
                }
            }
        };
        let algorithms = match alg {
            Some(alg) => AlgorithmSet::single(alg),
            None => material.compatible_algorithms(),
        };
        PublicKey::new(kid, material, algorithms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_documents() {
        assert_eq!(Jwks::parse(b""), Err(JwksError::NotJson));
        assert_eq!(Jwks::parse(b"{"), Err(JwksError::NotJson));
        assert_eq!(Jwks::parse(b"{\"keys\":[]} x"), Err(JwksError::NotJson));
        assert_eq!(Jwks::parse(b"[]"), Err(JwksError::NotAJwkSet));
        assert_eq!(Jwks::parse(b"{}"), Err(JwksError::NotAJwkSet));
        assert_eq!(Jwks::parse(b"{\"keys\":{}}"), Err(JwksError::NotAJwkSet));
        assert_eq!(
            Jwks::parse(b"{\"keys\":[],\"keys\":[]}"),
            Err(JwksError::NotAJwkSet)
        );
        let jwks = Jwks::parse(b"{\"keys\":[1,\"a\",null,[],{}],\"other\":{}}");
        let jwks = jwks.unwrap_or_default();
        assert!(jwks.keys().is_empty());
        let reasons: Vec<_> = jwks.skipped().iter().map(|s| s.reason).collect();
        assert_eq!(
            reasons,
            [
                KeyError::NotAnObject,
                KeyError::NotAnObject,
                KeyError::NotAnObject,
                KeyError::NotAnObject,
                KeyError::MissingMember("kty"),
            ]
        );
    }
}
