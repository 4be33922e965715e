//! JWK Sets end to end: keys generated (or, for RSA, loaded from test fixtures: RSA key
//! generation takes minutes in a debug build), published as a JWKS, parsed, selected and
//! verified with `RustCryptoVerifier`; then the skipping rules, the selection rules and
//! junk documents.
#![cfg(feature = "rust-crypto")]

use std::path::PathBuf;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use edge_authz::token::crypto::{
    Algorithm, AlgorithmSet, DeferToHost, KeyError, KeyMaterial, PublicKey, RustCryptoVerifier,
    SignatureVerdict, SignatureVerifier,
};
use edge_authz::token::jwks::{parse_jwk, Jwks, JwksError, KeySelection, MAX_JWKS_BYTES};
use jwt_compact::alg::{Ed25519, Es256, Rsa, RsaPrivateKey};
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::{AlgorithmExt as _, AlgorithmSignature as _, Claims, Header};
use proptest::prelude::*;
use rand::{RngCore as _, SeedableRng as _};
use serde_json::{json, Value};

type P256Key = <Es256 as jwt_compact::Algorithm>::SigningKey;
type Ed25519Key = <Ed25519 as jwt_compact::Algorithm>::SigningKey;

enum Secret {
    Rsa(RsaPrivateKey),
    P256(P256Key),
    P384(p384::ecdsa::SigningKey),
    Ed25519(Ed25519Key),
}

struct TestKey {
    secret: Secret,
    /// The public JWK, without `kid`/`alg`.
    jwk: Value,
}

impl TestKey {
    fn rsa(bits: usize) -> TestKey {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/vectors/keys/rsa-{bits}.private.jwk.json"));
        let text = std::fs::read_to_string(path).unwrap();
        let jwk: JsonWebKey<'_> = serde_json::from_str(&text).unwrap();
        let secret = RsaPrivateKey::try_from(&jwk).unwrap();
        let full: Value = serde_json::from_str(&text).unwrap();
        let public = json!({ "kty": "RSA", "n": full["n"], "e": full["e"] });
        TestKey {
            secret: Secret::Rsa(secret),
            jwk: public,
        }
    }

    fn p256(rng: &mut rand::rngs::StdRng) -> TestKey {
        let mut bytes = [0_u8; 32];
        rng.fill_bytes(&mut bytes);
        let secret = P256Key::from_slice(&bytes).unwrap();
        let public = <P256Key as jwt_compact::alg::SigningKey<Es256>>::to_verifying_key(&secret);
        let jwk = serde_json::to_value(JsonWebKey::from(&public)).unwrap();
        TestKey {
            secret: Secret::P256(secret),
            jwk,
        }
    }

    fn p384(rng: &mut rand::rngs::StdRng) -> TestKey {
        let secret = p384::ecdsa::SigningKey::random(rng);
        let point = secret.verifying_key().to_encoded_point(false);
        let jwk = json!({
            "kty": "EC",
            "crv": "P-384",
            "x": Base64UrlUnpadded::encode_string(point.x().unwrap()),
            "y": Base64UrlUnpadded::encode_string(point.y().unwrap()),
        });
        TestKey {
            secret: Secret::P384(secret),
            jwk,
        }
    }

    fn ed25519(rng: &mut rand::rngs::StdRng) -> TestKey {
        let (secret, public) = Ed25519::generate(rng);
        let jwk = serde_json::to_value(JsonWebKey::from(&public)).unwrap();
        TestKey {
            secret: Secret::Ed25519(secret),
            jwk,
        }
    }

    /// The public JWK with `kid` (and `alg`, if given).
    fn published(&self, kid: &str, alg: Option<&str>) -> Value {
        let mut jwk = self.jwk.clone();
        jwk["kid"] = json!(kid);
        if let Some(alg) = alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    }

    fn sign(&self, alg: Algorithm, input: &[u8]) -> Vec<u8> {
        use jwt_compact::Algorithm as _;
        match &self.secret {
            Secret::Rsa(key) => Rsa::with_name(alg.name())
                .sign(key, input)
                .as_bytes()
                .into_owned(),
            Secret::P256(key) => Es256.sign(key, input).as_bytes().into_owned(),
            Secret::P384(key) => {
                use p384::ecdsa::signature::Signer as _;
                let signature: p384::ecdsa::Signature = key.sign(input);
                signature.to_bytes().to_vec()
            }
            Secret::Ed25519(key) => Ed25519.sign(key, input).as_bytes().into_owned(),
        }
    }

    /// A compact JWS with this header `alg`/`kid`, signed with `signed_as`.
    fn token(&self, alg: Algorithm, kid: Option<&str>, signed_as: Algorithm) -> String {
        let mut header = json!({ "alg": alg.name(), "typ": "JWT" });
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let payload = json!({ "sub": "alice", "exp": 2_000_000_000_u64 });
        let input = format!(
            "{}.{}",
            Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
            Base64UrlUnpadded::encode_string(payload.to_string().as_bytes())
        );
        let signature = self.sign(signed_as, input.as_bytes());
        format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
    }
}

fn jwks(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

/// What a token verifier does with a compact JWS: read `alg`/`kid` from the header (here
/// without the other checks), select the key, verify.
fn verify_token(set: &Jwks, token: &str) -> Result<SignatureVerdict, String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("segments".into());
    };
    let header: Value =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(h).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let alg = Algorithm::from_name(header["alg"].as_str().unwrap_or(""))
        .ok_or_else(|| "alg".to_string())?;
    let kid = header["kid"].as_str();
    let signature = Base64UrlUnpadded::decode_vec(s).map_err(|e| e.to_string())?;
    match set.select(kid, alg) {
        KeySelection::Found(key) => {
            let input = format!("{h}.{p}");
            Ok(RustCryptoVerifier.verify(alg, key, input.as_bytes(), &signature))
        }
        other => Err(format!("{other:?}")),
    }
}

fn flip_last_signature_bit(token: &str) -> String {
    let (input, s) = token.rsplit_once('.').unwrap();
    let mut signature = Base64UrlUnpadded::decode_vec(s).unwrap();
    *signature.last_mut().unwrap() ^= 1;
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
}

fn tamper_payload(token: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    let payload = Base64UrlUnpadded::encode_string(br#"{"sub":"mallory","exp":2000000000}"#);
    parts[1] = &payload;
    parts.join(".")
}

#[test]
fn every_algorithm_round_trips_through_a_jwks() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let rsa2048 = TestKey::rsa(2048);
    let rsa3072 = TestKey::rsa(3072);
    let rsa4096 = TestKey::rsa(4096);
    let p256 = TestKey::p256(&mut rng);
    let p384 = TestKey::p384(&mut rng);
    let ed = TestKey::ed25519(&mut rng);
    let doc = jwks(&[
        rsa2048.published("rsa2048", None),
        rsa3072.published("rsa3072", Some("RS384")),
        rsa4096.published("rsa4096", Some("PS512")),
        p256.published("p256", None),
        p384.published("p384", Some("ES384")),
        ed.published("ed", None),
    ]);
    let set = Jwks::parse(&doc).unwrap();
    assert_eq!(set.skipped(), []);
    assert_eq!(set.keys().len(), 6);

    let bits: Vec<_> = set.keys().iter().map(|k| k.rsa_modulus_bits()).collect();
    assert_eq!(bits, [Some(2048), Some(3072), Some(4096), None, None, None]);
    let algs: Vec<_> = set.keys().iter().map(|k| k.algorithms()).collect();
    assert_eq!(
        algs,
        [
            AlgorithmSet::RSA,
            AlgorithmSet::single(Algorithm::Rs384),
            AlgorithmSet::single(Algorithm::Ps512),
            AlgorithmSet::single(Algorithm::Es256),
            AlgorithmSet::single(Algorithm::Es384),
            AlgorithmSet::single(Algorithm::EdDsa),
        ]
    );

    let cases: Vec<(&TestKey, &str, Algorithm)> = vec![
        (&rsa2048, "rsa2048", Algorithm::Rs256),
        (&rsa2048, "rsa2048", Algorithm::Rs384),
        (&rsa2048, "rsa2048", Algorithm::Rs512),
        (&rsa2048, "rsa2048", Algorithm::Ps256),
        (&rsa2048, "rsa2048", Algorithm::Ps384),
        (&rsa2048, "rsa2048", Algorithm::Ps512),
        (&rsa3072, "rsa3072", Algorithm::Rs384),
        (&rsa4096, "rsa4096", Algorithm::Ps512),
        (&p256, "p256", Algorithm::Es256),
        (&p384, "p384", Algorithm::Es384),
        (&ed, "ed", Algorithm::EdDsa),
    ];
    for (key, kid, alg) in cases {
        let token = key.token(alg, Some(kid), alg);
        assert_eq!(
            verify_token(&set, &token),
            Ok(SignatureVerdict::Valid),
            "{kid} {alg}"
        );
        assert_eq!(
            verify_token(&set, &flip_last_signature_bit(&token)),
            Ok(SignatureVerdict::Invalid),
            "{kid} {alg} flipped signature"
        );
        assert_eq!(
            verify_token(&set, &tamper_payload(&token)),
            Ok(SignatureVerdict::Invalid),
            "{kid} {alg} tampered payload"
        );
    }

    // A key's JWK for hosts has only public members and reads back as the same key.
    for key in set.keys() {
        let jwk: Value = serde_json::from_str(key.jwk_json()).unwrap();
        let members: Vec<&str> = jwk
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for member in members {
            assert!(
                ["kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"].contains(&member),
                "{member} in {jwk}"
            );
        }
        assert_eq!(jwk["use"], "sig");
        let again = parse_jwk(key.jwk_json().as_bytes()).unwrap();
        assert_eq!(&again, &**key);
    }
    let single: Value = serde_json::from_str(set.keys()[1].jwk_json()).unwrap();
    assert_eq!(single["alg"], "RS384");
    let multi: Value = serde_json::from_str(set.keys()[0].jwk_json()).unwrap();
    assert!(multi.get("alg").is_none());
}

#[test]
fn tokens_from_jwt_compact_verify() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let rsa = TestKey::rsa(2048);
    let p256 = TestKey::p256(&mut rng);
    let ed = TestKey::ed25519(&mut rng);
    let set = Jwks::parse(&jwks(&[
        rsa.published("r", None),
        p256.published("p", None),
        ed.published("e", None),
    ]))
    .unwrap();
    let claims = Claims::empty();
    let Secret::Rsa(rsa_key) = &rsa.secret else {
        unreachable!()
    };
    let Secret::P256(p256_key) = &p256.secret else {
        unreachable!()
    };
    let Secret::Ed25519(ed_key) = &ed.secret else {
        unreachable!()
    };
    let tokens = [
        Rsa::rs256().token(&Header::empty().with_key_id("r"), &claims, rsa_key),
        Rsa::ps256().token(&Header::empty().with_key_id("r"), &claims, rsa_key),
        Es256.token(&Header::empty().with_key_id("p"), &claims, p256_key),
        Ed25519.token(&Header::empty().with_key_id("e"), &claims, ed_key),
    ];
    for token in tokens {
        let token = token.unwrap();
        assert_eq!(
            verify_token(&set, &token),
            Ok(SignatureVerdict::Valid),
            "{token}"
        );
    }
}

#[test]
fn algorithm_confusion_is_refused() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let rsa = TestKey::rsa(2048);
    let p256 = TestKey::p256(&mut rng);
    let p384 = TestKey::p384(&mut rng);
    let set = Jwks::parse(&jwks(&[
        rsa.published("rsa", Some("RS256")),
        p256.published("p256", None),
        p384.published("p384", None),
    ]))
    .unwrap();
    // The key is pinned to RS256: a PS256 token under its kid finds no key...
    let token = rsa.token(Algorithm::Ps256, Some("rsa"), Algorithm::Ps256);
    assert_eq!(verify_token(&set, &token), Err("NoKeyForAlgorithm".into()));
    // ...and the verifier refuses the pair even if asked directly.
    let (input, s) = token.rsplit_once('.').unwrap();
    let signature = Base64UrlUnpadded::decode_vec(s).unwrap();
    let key = &set.keys()[0];
    assert_eq!(
        RustCryptoVerifier.verify(Algorithm::Ps256, key, input.as_bytes(), &signature),
        SignatureVerdict::Invalid
    );
    // An EC key is never used for RSA or for the other curve.
    let token = p256.token(Algorithm::Es384, Some("p256"), Algorithm::Es256);
    assert_eq!(verify_token(&set, &token), Err("NoKeyForAlgorithm".into()));
    let token = p256.token(Algorithm::Rs256, Some("p256"), Algorithm::Es256);
    assert_eq!(verify_token(&set, &token), Err("NoKeyForAlgorithm".into()));
    // A valid signature presented under another kid fails.
    let token = p384.token(Algorithm::Es384, Some("p384"), Algorithm::Es384);
    assert_eq!(verify_token(&set, &token), Ok(SignatureVerdict::Valid));
    let mut other = rsa.token(Algorithm::Es384, Some("p384"), Algorithm::Rs256);
    assert_eq!(verify_token(&set, &other), Ok(SignatureVerdict::Invalid));
    other = p256.token(Algorithm::Es384, Some("p384"), Algorithm::Es256);
    assert_eq!(verify_token(&set, &other), Ok(SignatureVerdict::Invalid));
    // `none` and HMAC never even name an algorithm.
    for name in ["none", "None", "HS256", "HS512", "ES256K", "Ed25519", ""] {
        assert_eq!(Algorithm::from_name(name), None, "{name}");
    }
}

#[test]
fn verifier_rejects_malformed_signatures_without_panicking() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(10);
    let keys = [
        TestKey::rsa(2048),
        TestKey::p256(&mut rng),
        TestKey::p384(&mut rng),
        TestKey::ed25519(&mut rng),
    ];
    let set = Jwks::parse(&jwks(
        &keys
            .iter()
            .enumerate()
            .map(|(i, k)| k.published(&i.to_string(), None))
            .collect::<Vec<_>>(),
    ))
    .unwrap();
    assert_eq!(set.keys().len(), 4);
    let lengths = [
        0, 1, 31, 32, 63, 64, 65, 95, 96, 97, 128, 255, 256, 257, 512, 4096,
    ];
    for key in set.keys() {
        for alg in Algorithm::ALL {
            for len in lengths {
                for fill in [0x00, 0xff] {
                    let signature = vec![fill; len];
                    let verdict = RustCryptoVerifier.verify(alg, key, b"a.b", &signature);
                    assert_eq!(verdict, SignatureVerdict::Invalid, "{alg} {len} {fill}");
                }
            }
            assert_eq!(
                DeferToHost.verify(alg, key, b"a.b", b""),
                SignatureVerdict::Deferred
            );
        }
    }
}

#[test]
fn selection_rules() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let a = TestKey::p256(&mut rng);
    let b = TestKey::p256(&mut rng);
    let c = TestKey::ed25519(&mut rng);
    let rsa = TestKey::rsa(2048);

    // One key, no kid in the token: found.
    let one = Jwks::parse(&jwks(&[a.published("a", None)])).unwrap();
    let token = a.token(Algorithm::Es256, None, Algorithm::Es256);
    assert_eq!(verify_token(&one, &token), Ok(SignatureVerdict::Valid));
    assert!(
        matches!(one.select(None, Algorithm::Es256), KeySelection::Found(k) if k.kid() == Some("a"))
    );
    // No fitting key and no kid: ambiguous (nothing to pick).
    assert_eq!(one.select(None, Algorithm::EdDsa), KeySelection::Ambiguous);

    // Two keys for the alg, no kid: ambiguous; with kid: the right one.
    let two = Jwks::parse(&jwks(&[
        a.published("a", None),
        b.published("b", None),
        c.published("c", None),
        rsa.published("r", Some("RS256")),
    ]))
    .unwrap();
    assert_eq!(two.select(None, Algorithm::Es256), KeySelection::Ambiguous);
    let token = b.token(Algorithm::Es256, None, Algorithm::Es256);
    assert_eq!(verify_token(&two, &token), Err("Ambiguous".into()));
    let token = b.token(Algorithm::Es256, Some("b"), Algorithm::Es256);
    assert_eq!(verify_token(&two, &token), Ok(SignatureVerdict::Valid));
    // Only one key allows EdDSA / RS256: found without kid.
    assert!(
        matches!(two.select(None, Algorithm::EdDsa), KeySelection::Found(k) if k.kid() == Some("c"))
    );
    assert!(
        matches!(two.select(None, Algorithm::Rs256), KeySelection::Found(k) if k.kid() == Some("r"))
    );
    assert_eq!(two.select(None, Algorithm::Ps256), KeySelection::Ambiguous);
    // Unknown kid; known kid with an algorithm it does not allow.
    assert_eq!(
        two.select(Some("zzz"), Algorithm::Es256),
        KeySelection::UnknownKid
    );
    assert_eq!(
        two.select(Some("a"), Algorithm::EdDsa),
        KeySelection::NoKeyForAlgorithm
    );
    assert_eq!(
        two.select(Some("r"), Algorithm::Ps256),
        KeySelection::NoKeyForAlgorithm
    );
    assert!(two.contains_kid("a") && two.contains_kid("r") && !two.contains_kid("zzz"));
    assert_eq!(
        two.select(Some(""), Algorithm::Es256),
        KeySelection::UnknownKid
    );

    // The same kid on two keys of different types: the one that fits the alg.
    let shared = Jwks::parse(&jwks(&[
        rsa.published("same", Some("RS256")),
        a.published("same", None),
    ]))
    .unwrap();
    assert!(matches!(
        shared.select(Some("same"), Algorithm::Es256),
        KeySelection::Found(k) if matches!(k.material(), KeyMaterial::EcP256 { .. })
    ));
    assert!(matches!(
        shared.select(Some("same"), Algorithm::Rs256),
        KeySelection::Found(k) if matches!(k.material(), KeyMaterial::Rsa { .. })
    ));
    // Same kid, same alg: the first.
    let dup = Jwks::parse(&jwks(&[a.published("x", None), b.published("x", None)])).unwrap();
    let token = a.token(Algorithm::Es256, Some("x"), Algorithm::Es256);
    assert_eq!(verify_token(&dup, &token), Ok(SignatureVerdict::Valid));

    // A kid that only a skipped key carries is known, not unknown (no refresh storm).
    let mut weak = a.published("weak", None);
    weak["d"] = json!("AAAA");
    let skipped = Jwks::parse(&jwks(&[weak, b.published("b", None)])).unwrap();
    assert_eq!(skipped.skipped().len(), 1);
    assert_eq!(
        skipped.select(Some("weak"), Algorithm::Es256),
        KeySelection::NoKeyForAlgorithm
    );
    assert!(!skipped.contains_kid("weak"));

    // An empty set.
    let empty = Jwks::parse(br#"{"keys":[]}"#).unwrap();
    assert_eq!(
        empty.select(None, Algorithm::Rs256),
        KeySelection::Ambiguous
    );
    assert_eq!(
        empty.select(Some("a"), Algorithm::Rs256),
        KeySelection::UnknownKid
    );
}

/// A set of one good key and `bad`; asserts `bad` is skipped for `reason`.
fn assert_skipped(bad: Value, reason: KeyError) {
    let good = json!({"kty":"OKP","crv":"Ed25519","kid":"good",
        "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let doc = jwks(&[good, bad.clone()]);
    let set = Jwks::parse(&doc).unwrap_or_else(|e| panic!("{bad}: {e}"));
    assert_eq!(set.keys().len(), 1, "{bad}");
    assert_eq!(set.keys()[0].kid(), Some("good"));
    assert_eq!(set.skipped().len(), 1, "{bad}");
    let skipped = &set.skipped()[0];
    assert_eq!(skipped.index, 1);
    assert_eq!(skipped.reason, reason, "{bad}");
    assert_eq!(
        skipped.kid.as_deref(),
        bad.get("kid").and_then(Value::as_str)
    );
    // code() and Display are there for logs.
    assert!(!skipped.reason.code().is_empty());
    assert!(!skipped.reason.to_string().is_empty());
}

fn with(mut jwk: Value, member: &str, value: Value) -> Value {
    jwk[member] = value;
    jwk
}

fn without(mut jwk: Value, member: &str) -> Value {
    jwk.as_object_mut().unwrap().remove(member);
    jwk
}

#[test]
fn skipping_rules() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let rsa = TestKey::rsa(2048).published("rsa", None);
    let p256 = TestKey::p256(&mut rng).published("p256", None);
    let p384 = TestKey::p384(&mut rng).published("p384", None);
    let ed = TestKey::ed25519(&mut rng).published("ed", None);
    let b64 = |bytes: &[u8]| json!(Base64UrlUnpadded::encode_string(bytes));

    // The baseline keys are fine, also with use/key_ops/alg that fit.
    for ok in [
        rsa.clone(),
        with(rsa.clone(), "use", json!("sig")),
        with(rsa.clone(), "key_ops", json!(["verify", "sign"])),
        with(p256.clone(), "alg", json!("ES256")),
        with(p384.clone(), "alg", json!("ES384")),
        with(ed.clone(), "alg", json!("EdDSA")),
        with(rsa.clone(), "x5c", json!(["MIIB"])),
    ] {
        let set = Jwks::parse(&jwks(core::slice::from_ref(&ok))).unwrap();
        assert_eq!(set.keys().len(), 1, "{ok} {:?}", set.skipped());
    }

    use KeyError::*;
    // Symmetric and private keys.
    assert_skipped(json!({"kty":"oct","kid":"h","k":"c2VjcmV0"}), SymmetricKey);
    assert_skipped(
        json!({"kty":"oct","alg":"HS256","k":"c2VjcmV0"}),
        SymmetricKey,
    );
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        assert_skipped(with(rsa.clone(), member, json!("AQAB")), PrivateKeyMaterial);
    }
    assert_skipped(with(p256.clone(), "d", json!("AQAB")), PrivateKeyMaterial);
    assert_skipped(with(ed.clone(), "d", json!("AQAB")), PrivateKeyMaterial);
    // Key type.
    assert_skipped(
        with(rsa.clone(), "kty", json!("RSA-PSS")),
        UnsupportedKeyType,
    );
    assert_skipped(with(rsa.clone(), "kty", json!("rsa")), UnsupportedKeyType);
    assert_skipped(without(rsa.clone(), "kty"), MissingMember("kty"));
    assert_skipped(with(rsa.clone(), "kty", json!(1)), InvalidMember("kty"));
    // use / key_ops.
    assert_skipped(with(rsa.clone(), "use", json!("enc")), NotForSignatures);
    assert_skipped(with(rsa.clone(), "use", json!(null)), InvalidMember("use"));
    assert_skipped(
        with(rsa.clone(), "key_ops", json!(["encrypt"])),
        NoVerifyOperation,
    );
    assert_skipped(with(rsa.clone(), "key_ops", json!([])), NoVerifyOperation);
    assert_skipped(
        with(rsa.clone(), "key_ops", json!("verify")),
        InvalidMember("key_ops"),
    );
    assert_skipped(
        with(rsa.clone(), "key_ops", json!(["verify", 1])),
        InvalidMember("key_ops"),
    );
    // alg.
    for alg in [
        "HS256", "none", "rs256", "RSA-OAEP", "ES256K", "Ed25519", "",
    ] {
        assert_skipped(with(rsa.clone(), "alg", json!(alg)), UnsupportedAlgorithm);
    }
    assert_skipped(with(rsa.clone(), "alg", json!(256)), InvalidMember("alg"));
    assert_skipped(with(rsa.clone(), "alg", json!("ES256")), AlgorithmMismatch);
    assert_skipped(with(rsa.clone(), "alg", json!("EdDSA")), AlgorithmMismatch);
    assert_skipped(with(p256.clone(), "alg", json!("RS256")), AlgorithmMismatch);
    assert_skipped(with(p256.clone(), "alg", json!("ES384")), AlgorithmMismatch);
    assert_skipped(with(p384.clone(), "alg", json!("ES256")), AlgorithmMismatch);
    assert_skipped(with(ed.clone(), "alg", json!("ES256")), AlgorithmMismatch);
    // kid must be a string when present.
    assert_skipped(with(rsa.clone(), "kid", json!(7)), InvalidMember("kid"));
    // RSA material.
    let weak: Value = serde_json::from_slice(
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/vectors/keys/rsa-1024.public.jwk.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_skipped(weak, RsaModulusTooSmall { bits: 1024 });
    let n = Base64UrlUnpadded::decode_vec(rsa["n"].as_str().unwrap()).unwrap();
    assert_skipped(
        with(rsa.clone(), "n", b64(&n[1..])),
        RsaModulusTooSmall { bits: 2040 },
    );
    let mut big = vec![0xff_u8; 1025];
    big[0] = 1;
    assert_skipped(
        with(rsa.clone(), "n", b64(&big)),
        RsaModulusTooLarge { bits: 8193 },
    );
    let mut even = n.clone();
    *even.last_mut().unwrap() &= 0xfe;
    assert_skipped(with(rsa.clone(), "n", b64(&even)), RsaInvalidModulus);
    for e in [
        &[1_u8][..],
        &[],
        &[1, 0, 0],
        &[2, 0, 0, 0, 1],
        &[1, 0, 0, 0, 0, 0, 0, 0, 1],
    ] {
        assert_skipped(with(rsa.clone(), "e", b64(e)), RsaInvalidExponent);
    }
    assert_skipped(without(rsa.clone(), "n"), MissingMember("n"));
    assert_skipped(without(rsa.clone(), "e"), MissingMember("e"));
    assert_skipped(with(rsa.clone(), "e", json!("AQAB=")), InvalidBase64("e"));
    assert_skipped(with(rsa.clone(), "e", json!("AQA+")), InvalidBase64("e"));
    assert_skipped(with(rsa.clone(), "e", json!("AQAC")), RsaInvalidExponent);
    let n_text = rsa["n"].as_str().unwrap();
    assert_skipped(
        with(rsa.clone(), "n", json!(format!("{n_text}="))),
        InvalidBase64("n"),
    );
    assert_skipped(
        with(rsa.clone(), "n", json!(format!(" {n_text}"))),
        InvalidBase64("n"),
    );
    assert_skipped(
        with(rsa.clone(), "n", json!(n_text.replace('-', "+"))),
        InvalidBase64("n"),
    );
    // EC material.
    for crv in ["P-521", "secp256k1", "p-256", "Ed25519"] {
        assert_skipped(with(p256.clone(), "crv", json!(crv)), UnsupportedCurve);
    }
    assert_skipped(without(p256.clone(), "crv"), MissingMember("crv"));
    assert_skipped(without(p256.clone(), "y"), MissingMember("y"));
    let x = Base64UrlUnpadded::decode_vec(p256["x"].as_str().unwrap()).unwrap();
    assert_skipped(with(p256.clone(), "x", b64(&x[1..])), InvalidKeyLength);
    assert_skipped(
        with(p256.clone(), "x", b64(&[&[0][..], &x].concat())),
        InvalidKeyLength,
    );
    assert_skipped(with(p384.clone(), "x", b64(&x)), InvalidKeyLength);
    let mut off_curve = x.clone();
    off_curve[31] ^= 1;
    assert_skipped(with(p256.clone(), "x", b64(&off_curve)), InvalidPoint);
    let y384 = Base64UrlUnpadded::decode_vec(p384["y"].as_str().unwrap()).unwrap();
    let mut off_curve = y384.clone();
    off_curve[47] ^= 1;
    assert_skipped(with(p384.clone(), "y", b64(&off_curve)), InvalidPoint);
    assert_skipped(with(p256.clone(), "x", b64(&[0; 32])), InvalidPoint);
    // OKP material.
    for crv in ["X25519", "Ed448", "P-256"] {
        assert_skipped(with(ed.clone(), "crv", json!(crv)), UnsupportedCurve);
    }
    assert_skipped(with(ed.clone(), "x", b64(&[7; 31])), InvalidKeyLength);
    let mut identity = [0_u8; 32];
    identity[0] = 1; // the neutral point: small order
    assert_skipped(with(ed.clone(), "x", b64(&identity)), InvalidPoint);
    assert_skipped(with(ed.clone(), "x", b64(&[0xff; 32])), InvalidPoint); // not canonical
                                                                           // Not an object.
    assert_skipped(json!("RSA"), NotAnObject);
    assert_skipped(json!([rsa.clone()]), NotAnObject);
    assert_skipped(json!(null), NotAnObject);
}

#[test]
fn duplicate_members_skip_the_key() {
    let good = r#"{"kty":"OKP","crv":"Ed25519","kid":"good","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    for bad in [
        r#"{"kty":"OKP","kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","kid":"a","kid":"b","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","alg":"none","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","ext":1,"ext":2,"x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","k\u0074y":"OKP","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    ] {
        let doc = format!(r#"{{"keys":[{good},{bad}]}}"#);
        let set = Jwks::parse(doc.as_bytes()).unwrap();
        assert_eq!(set.keys().len(), 1, "{bad}");
        assert_eq!(set.skipped()[0].reason, KeyError::DuplicateMember, "{bad}");
        assert_eq!(parse_jwk(bad.as_bytes()), Err(KeyError::DuplicateMember));
    }
    // Nested objects in unknown members may repeat their own members.
    let nested = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","z":{"a":1,"a":2}}"#;
    assert!(parse_jwk(nested.as_bytes()).is_ok());
}

#[test]
fn rsa_integers_are_normalised() {
    let rsa = TestKey::rsa(2048).published("r", None);
    let n = Base64UrlUnpadded::decode_vec(rsa["n"].as_str().unwrap()).unwrap();
    let padded = with(
        with(
            rsa.clone(),
            "n",
            json!(Base64UrlUnpadded::encode_string(&[&[0][..], &n].concat())),
        ),
        "e",
        json!("AAEAAQ"),
    );
    let key = parse_jwk(padded.to_string().as_bytes()).unwrap();
    assert_eq!(key.rsa_modulus_bits(), Some(2048));
    assert_eq!(
        key.material(),
        &KeyMaterial::Rsa {
            n,
            e: vec![1, 0, 1]
        }
    );
    let jwk: Value = serde_json::from_str(key.jwk_json()).unwrap();
    assert_eq!(jwk["n"], rsa["n"]);
    assert_eq!(jwk["e"], "AQAB");
}

#[test]
fn public_key_new_checks_algorithms() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let ed = TestKey::ed25519(&mut rng);
    let x = Base64UrlUnpadded::decode_vec(ed.jwk["x"].as_str().unwrap()).unwrap();
    let material = KeyMaterial::Ed25519 { x };
    assert_eq!(
        PublicKey::new(None, material.clone(), AlgorithmSet::EMPTY),
        Err(KeyError::NoAlgorithm)
    );
    assert_eq!(
        PublicKey::new(None, material.clone(), AlgorithmSet::ALL),
        Err(KeyError::AlgorithmMismatch)
    );
    let key = PublicKey::new(None, material, AlgorithmSet::single(Algorithm::EdDsa)).unwrap();
    assert_eq!(key.kid(), None);
    assert_eq!(
        key.jwk_json(),
        format!(
            r#"{{"kty":"OKP","alg":"EdDSA","use":"sig","crv":"Ed25519","x":"{}"}}"#,
            ed.jwk["x"].as_str().unwrap()
        )
    );
    let set = Jwks::from_keys([key]);
    let token = ed.token(Algorithm::EdDsa, None, Algorithm::EdDsa);
    assert_eq!(verify_token(&set, &token), Ok(SignatureVerdict::Valid));
}

#[test]
fn junk_documents() {
    for (doc, error) in [
        (&b""[..], JwksError::NotJson),
        (b"\xff\xfe{}", JwksError::NotJson),
        (b"{\"keys\":[]", JwksError::NotJson),
        (b"{\"keys\":[]}garbage", JwksError::NotJson),
        (b"{\"keys\":[{\"kty\":\"RSA\"]}", JwksError::NotJson),
        (b"null", JwksError::NotAJwkSet),
        (b"[]", JwksError::NotAJwkSet),
        (b"\"keys\"", JwksError::NotAJwkSet),
        (b"{}", JwksError::NotAJwkSet),
        (b"{\"keys\":null}", JwksError::NotAJwkSet),
        (b"{\"keys\":{\"kty\":\"RSA\"}}", JwksError::NotAJwkSet),
        (b"{\"Keys\":[]}", JwksError::NotAJwkSet),
        (b"{\"keys\":[],\"keys\":[]}", JwksError::NotAJwkSet),
    ] {
        assert_eq!(
            Jwks::parse(doc),
            Err(error),
            "{}",
            String::from_utf8_lossy(doc)
        );
    }
    // Deep nesting in values the parser skips is consumed without recursion...
    let deep = format!(
        "{{\"keys\":[{}{}]}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let set = Jwks::parse(deep.as_bytes()).unwrap();
    assert_eq!(set.skipped()[0].reason, KeyError::NotAnObject);
    let deep_member = format!(
        "{{\"keys\":[{{\"kty\":\"OKP\",\"z\":{}{}}}]}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(
        Jwks::parse(deep_member.as_bytes()).unwrap().skipped().len(),
        1
    );
    // ...and in a member it reads, serde_json's depth limit rejects the document.
    let deep_kty = format!(
        "{{\"keys\":[{{\"kty\":{}{}}}]}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(Jwks::parse(deep_kty.as_bytes()), Err(JwksError::NotJson));

    let mut large = b"{\"keys\":[]}".to_vec();
    large.resize(MAX_JWKS_BYTES, b' ');
    assert!(Jwks::parse(&large).is_ok());
    large.push(b' ');
    assert_eq!(
        Jwks::parse(&large),
        Err(JwksError::TooLarge {
            len: MAX_JWKS_BYTES + 1,
            limit: MAX_JWKS_BYTES
        })
    );
    let err = Jwks::parse(b"{}").unwrap_err();
    assert_eq!(err.code(), "jwks_not_a_jwk_set");
    assert!(!err.to_string().is_empty());

    // Unknown top-level members are fine; so is an empty set.
    let set = Jwks::parse(br#"{"keys":[],"cache":{"max-age":3}}"#).unwrap();
    assert!(set.keys().is_empty() && set.skipped().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Jwks::parse(&bytes);
        let _ = parse_jwk(&bytes);
    }

    #[test]
    fn parse_never_panics_on_mutated_sets(
        index in 0_usize..600,
        byte in any::<u8>(),
        cut in 0_usize..600,
    ) {
        let doc = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"sig","key_ops":["verify"]},{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#;
        let mut doc = doc.to_vec();
        let len = doc.len();
        if let Some(b) = doc.get_mut(index % len) {
            *b = byte;
        }
        doc.truncate(len - cut % len);
        if let Ok(set) = Jwks::parse(&doc) {
            for key in set.keys() {
                for alg in Algorithm::ALL {
                    let _ = RustCryptoVerifier.verify(alg, key, b"x.y", &[byte; 64]);
                    let _ = set.select(key.kid(), alg);
                }
            }
        }
    }
}
