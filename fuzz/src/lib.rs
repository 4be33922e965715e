//! Shared by the fuzz targets: the conformance suite's keys (tests/cases/keys.json),
//! deterministic token signing, a forger's key, and the policies of the test suite.
//!
//! Everything here uses the public API of `edge-authz` only.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use base64ct::{Base64UrlUnpadded, Encoding};
use edge_authz::token::crypto::{KeyMaterial, RustCryptoVerifier};
use edge_authz::{Jwks, PublicKey, SignatureVerdict, SignatureVerifier};
use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{Algorithm, AlgorithmSignature};
use serde_json::{json, Map, Value};

/// The time every harness starts at (the conformance suite's 2026-01-01).
pub const BASE_NOW: u64 = 1_767_225_600;

/// The repository root (the fuzz crate lives in `fuzz/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// base64url without padding.
pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Who signs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signer {
    /// `suite-rsa-1` (RS256).
    Rsa1,
    /// `suite-rsa-2` (RS256).
    Rsa2,
    /// `suite-ec-1` (ES256).
    Ec,
    /// `suite-ed-1` (EdDSA).
    Ed,
    /// A forger: an Ed25519 key that no real JWKS publishes.
    Forger,
}

impl Signer {
    /// Every signer.
    pub const ALL: [Signer; 5] = [
        Signer::Rsa1,
        Signer::Rsa2,
        Signer::Ec,
        Signer::Ed,
        Signer::Forger,
    ];

    /// The `kid` of the key (the forger claims the real Ed25519 key's).
    pub fn kid(self) -> &'static str {
        match self {
            Signer::Rsa1 => "suite-rsa-1",
            Signer::Rsa2 => "suite-rsa-2",
            Signer::Ec => "suite-ec-1",
            Signer::Ed | Signer::Forger => "suite-ed-1",
        }
    }

    /// The JWS `alg`.
    pub fn alg(self) -> &'static str {
        match self {
            Signer::Rsa1 | Signer::Rsa2 => "RS256",
            Signer::Ec => "ES256",
            Signer::Ed | Signer::Forger => "EdDSA",
        }
    }

    /// The signer of suite key `kid`.
    pub fn from_kid(kid: &str) -> Option<Signer> {
        match kid {
            "suite-rsa-1" => Some(Signer::Rsa1),
            "suite-rsa-2" => Some(Signer::Rsa2),
            "suite-ec-1" => Some(Signer::Ec),
            "suite-ed-1" => Some(Signer::Ed),
            "forger" => Some(Signer::Forger),
            _ => None,
        }
    }

    /// Signs `message` (deterministically: same message, same signature).
    pub fn sign(self, message: &[u8]) -> Vec<u8> {
        let keys = keys();
        match self {
            Signer::Rsa1 | Signer::Rsa2 => {
                let key = if self == Signer::Rsa1 {
                    &keys.rsa1
                } else {
                    &keys.rsa2
                };
                Rsa::rs256().sign(key, message).as_bytes().to_vec()
            }
            Signer::Ec => Es256.sign(&keys.ec, message).as_bytes().to_vec(),
            Signer::Ed => keys.ed.sign(message, None).to_vec(),
            Signer::Forger => keys.forger.sk.sign(message, None).to_vec(),
        }
    }

    /// Signs `message` fast: the RSA keys (whose real signatures take milliseconds in an
    /// instrumented build) get a stand-in signature that only [`HarnessCrypto`] accepts,
    /// and only for exactly this key and message; the others sign for real.
    pub fn sign_fast(self, message: &[u8]) -> Vec<u8> {
        match self {
            Signer::Rsa1 | Signer::Rsa2 => stand_in_signature(self, message),
            _ => self.sign(message),
        }
    }

    /// The public JWK (what a JWKS publishing this key holds).
    pub fn public_jwk(self) -> Value {
        let keys = keys();
        match self {
            Signer::Forger => json!({
                "kty": "OKP", "crv": "Ed25519", "kid": "suite-ed-1", "alg": "EdDSA", "use": "sig",
                "x": b64(keys.forger.pk.as_ref()),
            }),
            _ => keys
                .public
                .iter()
                .find(|k| k["kid"] == self.kid())
                .cloned()
                .unwrap_or(Value::Null),
        }
    }

    /// The decoded public key material, to recognise the key in any JWKS.
    pub fn material(self) -> &'static KeyMaterial {
        let keys = keys();
        let i = Signer::ALL.iter().position(|s| *s == self).unwrap_or(0);
        &keys.materials[i]
    }
}

/// A 256-byte (RSA-2048-sized) keyed digest of `message` standing for `signer`'s RS256
/// signature.
fn stand_in_signature(signer: Signer, message: &[u8]) -> Vec<u8> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut out = Vec::with_capacity(256);
    let mut block = 0u64;
    while out.len() < 256 {
        let mut h = DefaultHasher::new();
        (signer.kid(), block, message).hash(&mut h);
        out.extend_from_slice(&h.finish().to_be_bytes());
        block += 1;
    }
    out
}

/// The harness's host crypto: the real pure-Rust verifier, which also accepts the
/// stand-in RS256 signatures of [`Signer::sign_fast`] — for the suite's RSA keys only, so
/// "accepted" still means "signed by a key the JWKS publishes".
#[derive(Debug, Clone, Copy, Default)]
pub struct HarnessCrypto;

impl SignatureVerifier for HarnessCrypto {
    fn verify(
        &self,
        algorithm: edge_authz::Algorithm,
        key: &PublicKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> SignatureVerdict {
        if algorithm == edge_authz::Algorithm::Rs256 && key.allows(algorithm) {
            for signer in [Signer::Rsa1, Signer::Rsa2] {
                if key.material() == signer.material()
                    && signature == stand_in_signature(signer, signing_input)
                {
                    return SignatureVerdict::Valid;
                }
            }
        }
        RustCryptoVerifier.verify(algorithm, key, signing_input, signature)
    }
}

struct Keys {
    rsa1: RsaPrivateKey,
    rsa2: RsaPrivateKey,
    ec: <Es256 as Algorithm>::SigningKey,
    ed: <Ed25519 as Algorithm>::SigningKey,
    forger: ed25519_compact::KeyPair,
    /// The suite keys' public JWKs, in keys.json order.
    public: Vec<Value>,
    /// Key material of each `Signer::ALL`.
    materials: Vec<KeyMaterial>,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let text = std::fs::read_to_string(repo_root().join("tests/cases/keys.json"))
            .expect("tests/cases/keys.json");
        let doc: Value = serde_json::from_str(&text).expect("keys.json is JSON");
        let private: Vec<Value> = doc["keys"].as_array().expect("keys").clone();
        let find = |kid: &str| -> JsonWebKey<'static> {
            let jwk = private
                .iter()
                .find(|k| k["kid"] == kid)
                .unwrap_or_else(|| panic!("no suite key {kid}"));
            serde_json::from_value(jwk.clone()).expect("suite JWK")
        };
        let public: Vec<Value> = private
            .iter()
            .map(|jwk| {
                let mut jwk = jwk.as_object().cloned().unwrap_or_default();
                for member in ["d", "p", "q", "dp", "dq", "qi"] {
                    jwk.remove(member);
                }
                Value::Object(jwk)
            })
            .collect();
        let forger = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([0x42; 32]));
        let mut keys = Keys {
            rsa1: RsaPrivateKey::try_from(&find("suite-rsa-1")).expect("RSA key"),
            rsa2: RsaPrivateKey::try_from(&find("suite-rsa-2")).expect("RSA key"),
            ec: <Es256 as Algorithm>::SigningKey::try_from(&find("suite-ec-1")).expect("P-256"),
            ed: <Ed25519 as Algorithm>::SigningKey::try_from(&find("suite-ed-1")).expect("Ed"),
            forger,
            public,
            materials: Vec::new(),
        };
        let forger_jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "kid": "suite-ed-1", "alg": "EdDSA",
            "x": b64(keys.forger.pk.as_ref()),
        });
        for signer in Signer::ALL {
            let jwk = match signer {
                Signer::Forger => forger_jwk.clone(),
                _ => keys
                    .public
                    .iter()
                    .find(|k| k["kid"] == signer.kid())
                    .cloned()
                    .expect("public key"),
            };
            let doc = serde_json::to_vec(&json!({ "keys": [jwk] })).expect("JSON");
            let jwks = Jwks::parse(&doc).expect("the suite's keys parse");
            let key = jwks.keys().first().expect("one key");
            keys.materials.push(key.material().clone());
        }
        keys
    })
}

/// A JWKS document publishing `signers`' public keys.
pub fn jwks_document(signers: &[Signer]) -> Vec<u8> {
    let published: Vec<Value> = signers.iter().map(|s| s.public_jwk()).collect();
    serde_json::to_vec(&json!({ "keys": published })).expect("JSON")
}

/// A compact JWS of `header` and `payload` (any bytes), signed by `signer`.
pub fn sign_token(signer: Signer, header: &[u8], payload: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let signature = b64(&signer.sign(signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// The default header for `signer`: `{alg, typ, kid}`.
pub fn header_for(signer: Signer) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("alg".into(), json!(signer.alg()));
    header.insert("typ".into(), json!("JWT"));
    header.insert("kid".into(), json!(signer.kid()));
    header
}

/// One conformance scenario (tests/cases/*.json except keys.json).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// File name.
    pub name: String,
    /// Its whole document.
    pub doc: Value,
}

/// Every conformance scenario, sorted by file name.
pub fn scenarios() -> &'static [Scenario] {
    static SCENARIOS: OnceLock<Vec<Scenario>> = OnceLock::new();
    SCENARIOS.get_or_init(|| {
        let dir = repo_root().join("tests/cases");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("tests/cases")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("keys.json"))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(&path).ok()?;
                let doc: Value = serde_json::from_str(&text).ok()?;
                let name = path.file_name()?.to_string_lossy().into_owned();
                Some(Scenario { name, doc })
            })
            .collect()
    })
}

/// The policy documents of the test suite (bundled and stored policies of every scenario,
/// the README's `json policy` blocks and a few written for the harnesses), as JSON values;
/// some of them are invalid on purpose.
pub fn suite_policies() -> &'static [Arc<Value>] {
    static POLICIES: OnceLock<Vec<Arc<Value>>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        let mut out: Vec<Value> = Vec::new();
        for scenario in scenarios() {
            let policies = &scenario.doc["config"]["policies"];
            if let Some(groups) = policies["groups"].as_object() {
                out.extend(groups.values().cloned());
            }
            for extra in ["everyone", "noGroup"] {
                if policies[extra].is_object() {
                    out.push(policies[extra].clone());
                }
            }
            if let Some(store) = scenario.doc["store"].as_object() {
                for value in store.values() {
                    match value {
                        Value::String(text) => {
                            if let Ok(v) = serde_json::from_str::<Value>(text) {
                                out.push(v);
                            }
                        }
                        Value::Object(_) => out.push(value.clone()),
                        _ => {}
                    }
                }
            }
        }
        if let Ok(readme) = std::fs::read_to_string(repo_root().join("README.md")) {
            for block in readme.split("```json policy").skip(1) {
                let body = block.split("```").next().unwrap_or("");
                if let Ok(v) = serde_json::from_str::<Value>(body) {
                    out.push(v);
                }
            }
        }
        // Written for the harnesses: they name the synthetic groups' claims and paths.
        for text in HARNESS_POLICIES {
            out.push(serde_json::from_str(text).expect("harness policy"));
        }
        let mut seen: Vec<String> = Vec::new();
        out.into_iter()
            .filter(|v| {
                let s = v.to_string();
                let new = !seen.contains(&s);
                seen.push(s);
                new
            })
            .map(Arc::new)
            .collect()
    })
}

/// Policies for the synthetic scenario of the harnesses.
pub const HARNESS_POLICIES: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/*/*/admin*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/*/GET/users/${jwt:sub}"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:*","Resource":"arn:aws:execute-api:*:*:*/*/*/petstore/*","Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]},"Bool":{"aws:SecureTransport":"true"}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-01-01T01:00:00Z"}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEquals":{"request:header/x-tenant":"acme"},"StringLike":{"aws:UserAgent":"curl/*"}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEquals":{"request:query/page":"2"},"ForAnyValue:StringEquals":{"cognito:groups":["g1"]}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","NotResource":"arn:aws:execute-api:*:*:*/*/DELETE/*","Condition":{"NumericLessThan":{"jwt:level":"5"},"Null":{"jwt:email":"false"}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringLike":{"aws:Referer":"https://*.example.com/*"}}},{"Effect":"Deny","NotAction":"execute-api:Invoke","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*","Principal":"*"}]}"#,
];
