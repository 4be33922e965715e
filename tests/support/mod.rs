//! Shared by the integration tests: the conformance suite's keys and token signing.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use base64ct::{Base64UrlUnpadded, Encoding};
use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey};

type Ed25519SecretKey = <Ed25519 as Algorithm>::SigningKey;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmSignature};
use std::collections::BTreeMap;

use serde::Deserialize;
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

/// One scenario file of the conformance suite (see tests/cases/README.md).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub description: String,
    pub config: Value,
    pub jwks: Vec<String>,
    #[serde(default)]
    pub store: Map<String, Value>,
    /// The revocation store's records (key → record, JSON text, or null).
    #[serde(default)]
    pub revocations: Map<String, Value>,
    pub cases: Vec<Case>,
}

/// One case, run in order against the scenario's authorizer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Case {
    pub name: String,
    pub now: u64,
    pub jwks: Option<Vec<String>>,
    pub jwks_down: Option<bool>,
    /// Records written to (a record) or deleted from (null) the revocation store first.
    pub revoke: Option<Map<String, Value>>,
    /// From now on the revocation store cannot be read (false restores it).
    pub revocations_down: Option<bool>,
    pub token: Option<TokenSpec>,
    pub request: RequestSpec,
    pub expect: Expect,
}

/// How a case's token is made: signed by a suite key, or given raw.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    pub key: Option<String>,
    pub header: Option<Map<String, Value>>,
    pub claims: Option<Value>,
    pub raw: Option<String>,
    pub tamper: Option<String>,
}

/// The request of a case.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestSpec {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    pub source_ip: Option<String>,
    pub method_arn: Option<String>,
}

/// What a case must yield.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expect {
    pub status: u16,
    pub reason: String,
    pub context: Option<Map<String, Value>>,
    pub jwks_fetches: Option<usize>,
    /// Revocation store reads this case caused.
    pub revocation_reads: Option<usize>,
    /// The canonical path a forwarding adapter must send, when it is not the one given.
    pub forward_path: Option<String>,
}

/// Every scenario file of the suite, sorted (keys.json is not a scenario).
pub fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("keys.json"))
        .collect();
    files.sort();
    files
}

/// Reads one scenario; a malformed file fails the test with its name.
pub fn load_scenario(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path).expect("read scenario");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The token a case sends.
pub fn token_of(spec: &TokenSpec, keys: &[SuiteKey]) -> String {
    if let Some(raw) = &spec.raw {
        return raw.clone();
    }
    let kid = spec.key.as_deref().expect("token.key or token.raw");
    let claims = spec.claims.clone().unwrap_or(Value::Object(Map::new()));
    let tamper = match spec.tamper.as_deref() {
        None => false,
        Some("payload") => true,
        Some(other) => panic!("unknown tamper {other}"),
    };
    sign_token(keys, kid, spec.header.as_ref(), &claims, tamper)
}
