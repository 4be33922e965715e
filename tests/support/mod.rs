//! Shared by the integration tests: the conformance suite's keys and token signing.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey};

type Ed25519SecretKey = <Ed25519 as Algorithm>::SigningKey;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmSignature};
use serde_json::{json, Map, Value};

/// The repository's `tests/cases` directory.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("cases")
}

/// A private signing key of the suite.
pub struct SuiteKey {
    pub kid: String,
    pub alg: String,
    pub jwk: Value,
}

impl SuiteKey {
    /// The public JWK (private members removed).
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.jwk.as_object().cloned().unwrap_or_default();
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            jwk.remove(private);
        }
        Value::Object(jwk)
    }

    /// Signs `message` with the key's own algorithm.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let jwk: JsonWebKey<'_> = serde_json::from_value(self.jwk.clone()).expect("suite JWK");
        match self.alg.as_str() {
            "RS256" => {
                let key = RsaPrivateKey::try_from(&jwk).expect("RSA private key");
                Rsa::rs256().sign(&key, message).as_bytes().to_vec()
            }
            "ES256" => {
                let key = <Es256 as Algorithm>::SigningKey::try_from(&jwk).expect("P-256 key");
                Es256.sign(&key, message).as_bytes().to_vec()
            }
            "EdDSA" => {
                let key = Ed25519SecretKey::try_from(&jwk).expect("Ed25519 key");
                Ed25519.sign(&key, message).as_bytes().to_vec()
            }
            other => panic!("suite key algorithm {other} not handled"),
        }
    }
}

/// The suite's keys from `tests/cases/keys.json`.
pub fn suite_keys() -> Vec<SuiteKey> {
    let text = std::fs::read_to_string(cases_dir().join("keys.json")).expect("keys.json");
    let doc: Value = serde_json::from_str(&text).expect("keys.json is JSON");
    doc["keys"]
        .as_array()
        .expect("keys array")
        .iter()
        .map(|jwk| SuiteKey {
            kid: jwk["kid"].as_str().expect("kid").to_owned(),
            alg: jwk["alg"].as_str().expect("alg").to_owned(),
            jwk: jwk.clone(),
        })
        .collect()
}

pub fn key<'k>(keys: &'k [SuiteKey], kid: &str) -> &'k SuiteKey {
    keys.iter()
        .find(|k| k.kid == kid)
        .unwrap_or_else(|| panic!("no suite key {kid}"))
}

/// A JWKS document publishing the public parts of `kids`.
pub fn jwks_document(keys: &[SuiteKey], kids: &[String]) -> Vec<u8> {
    let published: Vec<Value> = kids.iter().map(|kid| key(keys, kid).public_jwk()).collect();
    serde_json::to_vec(&json!({ "keys": published })).expect("serialize")
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Signs `claims` with suite key `kid`. The header is `{alg, kid, typ}` with `overrides`
/// applied (a null value removes a member). `tamper_payload` swaps the payload after signing.
pub fn sign_token(
    keys: &[SuiteKey],
    kid: &str,
    overrides: Option<&Map<String, Value>>,
    claims: &Value,
    tamper_payload: bool,
) -> String {
    let key = key(keys, kid);
    let mut header = Map::new();
    header.insert("alg".into(), json!(key.alg));
    header.insert("typ".into(), json!("JWT"));
    header.insert("kid".into(), json!(key.kid));
    for (name, value) in overrides.into_iter().flatten() {
        if value.is_null() {
            header.remove(name);
        } else {
            header.insert(name.clone(), value.clone());
        }
    }
    let header = b64(&serde_json::to_vec(&header).expect("header"));
    let payload = b64(&serde_json::to_vec(claims).expect("claims"));
    let signing_input = format!("{header}.{payload}");
    let signature = b64(&key.sign(signing_input.as_bytes()));
    if tamper_payload {
        let mut other = claims.clone();
        other["sub"] = json!("someone-else");
        let payload = b64(&serde_json::to_vec(&other).expect("claims"));
        return format!("{header}.{payload}.{signature}");
    }
    format!("{signing_input}.{signature}")
}
