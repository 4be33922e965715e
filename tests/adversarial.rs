//! One test per attack on token verification, each asserting the exact error code.
//! Keys are the conformance suite's; tokens are built by hand where an attack needs it.

mod support;

use base64ct::{Base64UrlUnpadded, Encoding};
use edge_authz::token::crypto::RustCryptoVerifier;
use edge_authz::{Config, Jwks, TokenVerifier};
use serde_json::{json, Map, Value};
use support::{jwks_document, key, sign_token, suite_keys, SuiteKey};

const NOW: u64 = 1_767_225_600;
const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Adversary1";

fn verifier(issuer: Value) -> TokenVerifier {
    let config = Config::from_value(&json!({ "issuers": [issuer], "graceSeconds": 0 }))
        .expect("config")
        .config;
    TokenVerifier::new(config.issuers, config.grace_seconds, config.max_token_bytes)
}

fn access_pool() -> Value {
    json!({"userPoolId": "us-east-1_Adversary1", "tokenUse": "access", "clientId": ["client-1"], "groups": ["staff"]})
}

fn claims() -> Value {
    json!({"sub": "user-1", "iss": ISS, "token_use": "access", "client_id": "client-1",
           "iat": NOW - 10, "exp": NOW + 600, "cognito:groups": ["staff"], "username": "u"})
}

struct Fixture {
    keys: Vec<SuiteKey>,
    jwks: Jwks,
    verifier: TokenVerifier,
}

fn fixture() -> Fixture {
    let keys = suite_keys();
    let doc = jwks_document(&keys, &["suite-rsa-1".into(), "suite-ec-1".into()]);
    Fixture {
        jwks: Jwks::parse(&doc).expect("jwks"),
        keys,
        verifier: verifier(access_pool()),
    }
}

impl Fixture {
    fn code(&self, token: &str) -> &'static str {
        match self
            .verifier
            .verify_with_jwks(token, &self.jwks, &RustCryptoVerifier, NOW)
        {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    fn signed(&self, header: Option<Map<String, Value>>, claims: &Value) -> String {
        sign_token(&self.keys, "suite-rsa-1", header.as_ref(), claims, false)
    }
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

fn header(v: Value) -> Option<Map<String, Value>> {
    v.as_object().cloned()
}

#[test]
fn the_baseline_token_verifies() {
    let f = fixture();
    assert_eq!(f.code(&f.signed(None, &claims())), "ok");
}

#[test]
fn alg_none_in_every_casing() {
    let f = fixture();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let unsigned = format!(
            "{}.{}.",
            b64(json!({"alg": alg}).to_string().as_bytes()),
            b64(claims().to_string().as_bytes())
        );
        assert_eq!(
            f.code(&unsigned),
            "alg_not_allowed",
            "{alg}, empty signature"
        );
        let signed = f.signed(header(json!({"alg": alg})), &claims());
        assert_eq!(
            f.code(&signed),
            "alg_not_allowed",
            "{alg}, with a signature"
        );
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_bytes() {
    use hmac_free_sha256::hmac_sha256;
    let f = fixture();
    let public = key(&f.keys, "suite-rsa-1").public_jwk().to_string();
    let h = json!({"alg": "HS256", "kid": "suite-rsa-1"});
    let input = format!(
        "{}.{}",
        b64(h.to_string().as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    let mac = hmac_sha256(public.as_bytes(), input.as_bytes());
    assert_eq!(f.code(&format!("{input}.{}", b64(&mac))), "alg_not_allowed");
}

#[test]
fn header_alg_rs256_on_the_ec_key() {
    let f = fixture();
    let t = f.signed(header(json!({"kid": "suite-ec-1"})), &claims());
    assert_eq!(f.code(&t), "alg_not_allowed");
}

#[test]
fn header_alg_es256_on_the_rsa_key() {
    let keys = suite_keys();
    let f = Fixture {
        verifier: verifier(json!({"issuer": ISS, "jwksUri": "https://x/jwks", "audience": null})),
        ..fixture()
    };
    let t = sign_token(
        &keys,
        "suite-ec-1",
        header(json!({"kid": "suite-rsa-1"})).as_ref(),
        &claims(),
        false,
    );
    assert_eq!(f.code(&t), "alg_not_allowed");
}

#[test]
fn kid_path_traversal_and_sql_junk() {
    let f = fixture();
    for kid in [
        "../../../../etc/passwd",
        "' OR '1'='1",
        "suite-rsa-1\u{0}",
        "SUITE-RSA-1",
        "",
        "🔑",
    ] {
        let t = f.signed(header(json!({"kid": kid})), &claims());
        assert_eq!(f.code(&t), "unknown_kid", "{kid:?}");
    }
}

#[test]
fn jku_x5u_jwk_x5c_are_never_used_to_find_keys() {
    // The attacker signs with their own key and points every key-locating header at it.
    let f = fixture();
    let attacker = suite_keys()
        .into_iter()
        .find(|k| k.kid == "suite-rsa-2")
        .expect("key");
    let attacker_public = attacker.public_jwk();
    for (name, value) in [
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("jwk", attacker_public.clone()),
        (
            "x5c",
            json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ),
    ] {
        let mut h = Map::new();
        h.insert(name.into(), value);
        // With the victim's kid the signature does not verify; with the attacker's the key is unknown.
        h.insert("kid".into(), json!("suite-rsa-1"));
        let t = sign_token(&f.keys, "suite-rsa-2", Some(&h), &claims(), false);
        assert_eq!(f.code(&t), "bad_signature", "{name} with a known kid");
        h.insert("kid".into(), json!("suite-rsa-2"));
        let t = sign_token(&f.keys, "suite-rsa-2", Some(&h), &claims(), false);
        assert_eq!(f.code(&t), "unknown_kid", "{name} with the attacker's kid");
    }
}

#[test]
fn crit_is_rejected() {
    let f = fixture();
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("x")] {
        let t = f.signed(header(json!({"crit": crit, "b64": false})), &claims());
        assert_eq!(f.code(&t), "unsupported_crit", "{crit}");
    }
}

#[test]
fn duplicated_dots_and_empty_segments() {
    let f = fixture();
    let t = f.signed(None, &claims());
    let (h, rest) = t.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for bad in [
        format!("{h}..{p}.{s}"),
        format!("{h}.{p}..{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{h}.{p}.{s}"),
        format!("{h}.{p}"),
        format!("{h}..{s}"),
        format!(".{p}.{s}"),
        format!("{h}.{p}.{s}="),
        format!(" {t}"),
        "..".to_owned(),
        String::new(),
    ] {
        assert_eq!(f.code(&bad), "malformed", "{bad:.40}");
    }
}

#[test]
fn duplicate_claims_are_malformed() {
    let f = fixture();
    let h = json!({"alg": "RS256", "kid": "suite-rsa-1"});
    let body = claims().to_string();
    let doubled = body.replacen(
        "\"sub\":\"user-1\"",
        "\"sub\":\"user-1\",\"sub\":\"admin\"",
        1,
    );
    assert_ne!(body, doubled);
    let input = format!(
        "{}.{}",
        b64(h.to_string().as_bytes()),
        b64(doubled.as_bytes())
    );
    let sig = key(&f.keys, "suite-rsa-1").sign(input.as_bytes());
    assert_eq!(f.code(&format!("{input}.{}", b64(&sig))), "malformed");
}

#[test]
fn oversized_tokens_are_rejected_before_parsing() {
    let f = fixture();
    let mut c = claims();
    c["padding"] = json!("x".repeat(8 * 1024));
    assert_eq!(f.code(&f.signed(None, &c)), "too_large");
    assert_eq!(f.code(&"A".repeat(1 << 20)), "too_large");
}

#[test]
fn time_claims() {
    let f = fixture();
    let with = |k: &str, v: Value| {
        let mut c = claims();
        c[k] = v;
        f.code(&f.signed(None, &c))
    };
    assert_eq!(with("exp", json!(NOW)), "expired");
    assert_eq!(with("exp", json!(NOW - 1)), "expired");
    assert_eq!(with("exp", json!(NOW + 1)), "ok");
    assert_eq!(with("nbf", json!(NOW + 1)), "not_yet_valid");
    assert_eq!(with("nbf", json!(NOW)), "ok");
    assert_eq!(with("iat", json!(NOW + 1)), "issued_in_future");
    assert_eq!(with("exp", json!(-5)), "malformed");
    assert_eq!(with("exp", json!("1767229200")), "malformed");
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    assert_eq!(f.code(&f.signed(None, &c)), "missing_claim");
}

#[test]
fn wrong_issuer() {
    let f = fixture();
    for iss in [
        json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"),
        json!(format!("{ISS}/")),
        json!(ISS.to_uppercase()),
    ] {
        let mut c = claims();
        c["iss"] = iss.clone();
        assert_eq!(f.code(&f.signed(None, &c)), "wrong_issuer", "{iss}");
    }
}

#[test]
fn id_token_where_access_is_required_and_vice_versa() {
    let f = fixture();
    let mut id = claims();
    id["token_use"] = json!("id");
    id["aud"] = json!("client-1");
    assert_eq!(f.code(&f.signed(None, &id)), "wrong_token_use");

    let id_pool = Fixture {
        verifier: verifier(
            json!({"userPoolId": "us-east-1_Adversary1", "tokenUse": "id", "clientId": ["client-1"]}),
        ),
        ..fixture()
    };
    assert_eq!(
        id_pool.code(&id_pool.signed(None, &claims())),
        "wrong_token_use"
    );
    assert_eq!(id_pool.code(&id_pool.signed(None, &id)), "ok");
}

#[test]
fn wrong_client() {
    let f = fixture();
    let mut c = claims();
    c["client_id"] = json!("client-2");
    assert_eq!(f.code(&f.signed(None, &c)), "wrong_client");
}

#[test]
fn missing_groups_when_groups_are_required() {
    let f = fixture();
    let mut c = claims();
    c["cognito:groups"] = json!(["visitors"]);
    assert_eq!(f.code(&f.signed(None, &c)), "missing_group");
    c.as_object_mut().unwrap().remove("cognito:groups");
    assert_eq!(f.code(&f.signed(None, &c)), "missing_group");
}

#[test]
fn tampered_payload_and_signature() {
    let f = fixture();
    let t = sign_token(&f.keys, "suite-rsa-1", None, &claims(), true);
    assert_eq!(f.code(&t), "bad_signature");
    let good = f.signed(None, &claims());
    let (input, sig) = good.rsplit_once('.').unwrap();
    let mut sig = Base64UrlUnpadded::decode_vec(sig).unwrap();
    sig[10] ^= 1;
    assert_eq!(f.code(&format!("{input}.{}", b64(&sig))), "bad_signature");
    sig.truncate(100);
    assert_eq!(f.code(&format!("{input}.{}", b64(&sig))), "bad_signature");
    assert_eq!(
        f.code(&raw_token(
            &json!({"alg": "RS256", "kid": "suite-rsa-1"}),
            &claims(),
            b""
        )),
        "malformed"
    );
}

/// A minimal HMAC-SHA256 (RFC 2104) so the HS256 attack can be built without another
/// dependency; the `sha2` crate already comes with jwt-compact.
mod hmac_free_sha256 {
    use sha2::{Digest, Sha256};

    pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
        let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
        let inner_hash = Sha256::new()
            .chain_update(&inner)
            .chain_update(message)
            .finalize();
        Sha256::new()
            .chain_update(&outer)
            .chain_update(inner_hash)
            .finalize()
            .to_vec()
    }
}

/// The access pool, and a policy letting its `staff` group call everything.
fn allow_staff_everywhere() -> Config {
    Config::from_value(&json!({
        "issuers": [access_pool()],
        "policies": {"groups": {"staff": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}}},
    }))
    .expect("config")
    .config
}

/// The reason of the decision on `GET /pets` with `bearer` at `now` (no need expected).
fn reason_of(authorizer: &mut edge_authz::Authorizer, bearer: &str, now: u64) -> &'static str {
    use edge_authz::{Request, Step};
    let headers = [("authorization", bearer)];
    let request = Request {
        headers: &headers,
        ..Request::new("GET", "/pets")
    };
    match authorizer.authorize(&request, now) {
        Step::Decided(d) => d.reason.code(),
        Step::Need(need) => panic!("unexpected {need:?}"),
    }
}

/// A token verified (and cached) before its key left the JWKS is not accepted afterwards:
/// retiring a key (e.g. a compromised one) revokes every token signed with it at once, not
/// at each token's `exp`, which whoever holds the key chooses.
#[test]
fn a_retired_key_revokes_tokens_verified_before() {
    use edge_authz::Authorizer;
    let keys = suite_keys();
    let config = allow_staff_everywhere();
    let mut authorizer = Authorizer::new(config);
    let both = jwks_document(&keys, &["suite-rsa-1".into(), "suite-rsa-2".into()]);
    authorizer.jwks_fetched(0, &both, NOW).expect("jwks");
    let old = format!(
        "Bearer {}",
        sign_token(&keys, "suite-rsa-1", None, &claims(), false)
    );
    let new = format!(
        "Bearer {}",
        sign_token(&keys, "suite-rsa-2", None, &claims(), false)
    );
    assert_eq!(reason_of(&mut authorizer, &old, NOW), "allowed");
    assert_eq!(reason_of(&mut authorizer, &new, NOW), "allowed");

    // suite-rsa-1 is retired; suite-rsa-2 stays.
    let rotated = jwks_document(&keys, &["suite-rsa-2".into()]);
    authorizer.jwks_fetched(0, &rotated, NOW + 1).expect("jwks");
    assert_eq!(reason_of(&mut authorizer, &old, NOW + 1), "unknown_kid");
    assert_eq!(reason_of(&mut authorizer, &new, NOW + 1), "allowed");

    // A refresh that retires nothing keeps the caches (and the answers).
    authorizer.jwks_fetched(0, &rotated, NOW + 2).expect("jwks");
    assert_eq!(reason_of(&mut authorizer, &new, NOW + 2), "allowed");
}

/// A verified token is cached for the span its claims allow, both ends: when the host clock
/// steps back before its `nbf`/`iat` (less the grace), the caches miss and a fresh
/// verification answers, as it would have without them.
#[test]
fn a_clock_stepping_back_before_nbf_misses_the_caches() {
    use edge_authz::Authorizer;
    let keys = suite_keys();
    let mut config = allow_staff_everywhere();
    config.grace_seconds = 5;
    let mut authorizer = Authorizer::new(config);
    let doc = jwks_document(&keys, &["suite-rsa-1".into()]);
    authorizer.jwks_fetched(0, &doc, NOW - 100).expect("jwks");
    let mut later = claims();
    later["nbf"] = json!(NOW - 2);
    let bearers = [
        // `iat` NOW - 10: accepted from NOW - 15.
        format!(
            "Bearer {}",
            sign_token(&keys, "suite-rsa-1", None, &claims(), false)
        ),
        // `nbf` NOW - 2 (after `iat`): accepted from NOW - 7.
        format!(
            "Bearer {}",
            sign_token(&keys, "suite-rsa-1", None, &later, false)
        ),
    ];
    let mut decide = |bearer: &str, now: u64| reason_of(&mut authorizer, bearer, now);
    for (bearer, from, reason) in [
        (&bearers[0], NOW - 15, "issued_in_future"),
        (&bearers[1], NOW - 7, "not_yet_valid"),
    ] {
        // Verified and cached at NOW (token, resolved policies, decision), then asked again
        // at earlier and earlier clocks.
        assert_eq!(decide(bearer, NOW), "allowed");
        assert_eq!(decide(bearer, NOW), "allowed");
        assert_eq!(decide(bearer, from), "allowed");
        assert_eq!(decide(bearer, from - 1), reason);
        assert_eq!(decide(bearer, NOW), "allowed");
    }
}

/// A host verdict counts only for a check the authorizer asked for and still holds: a late
/// or stray `signature_checked(.., true)` cannot vouch for a forged token.
#[test]
fn a_stray_signature_verdict_vouches_for_nothing() {
    use edge_authz::token::crypto::DeferToHost;
    use edge_authz::{Authorizer, Need, Request, Step};
    let keys = suite_keys();
    let config = allow_staff_everywhere();
    let mut authorizer = Authorizer::new(config).with_verifier(std::sync::Arc::new(DeferToHost));
    let doc = jwks_document(&keys, &["suite-rsa-1".into()]);
    authorizer.jwks_fetched(0, &doc, NOW).expect("jwks");
    let genuine = sign_token(&keys, "suite-rsa-1", None, &claims(), false);
    let (signed, _) = genuine.rsplit_once('.').expect("three segments");
    let forged = format!("Bearer {signed}.{}", b64(&[7u8; 256]));
    let headers = [("authorization", forged.as_str())];
    let request = Request {
        headers: &headers,
        ..Request::new("GET", "/pets")
    };
    let Step::Need(Need::CheckSignature { token, .. }) = authorizer.authorize(&request, NOW) else {
        panic!("expected a signature check");
    };
    authorizer.signature_checked(token, false);
    match authorizer.authorize(&request, NOW) {
        Step::Decided(d) => assert_eq!(d.reason, "bad_signature"),
        Step::Need(need) => panic!("unexpected {need:?}"),
    }
    // Late, and wrong: nothing is waiting for it any more.
    authorizer.signature_checked(token, true);
    match authorizer.authorize(&request, NOW) {
        Step::Need(Need::CheckSignature { .. }) => {}
        Step::Decided(d) => panic!("a stray verdict decided the forged token: {}", d.reason),
        Step::Need(need) => panic!("unexpected {need:?}"),
    }
}

/// A host verifier that accepts every signature it is asked about (as a lax host crypto
/// might): what the core checks before asking is all that stands.
struct AcceptsAnything;

impl edge_authz::SignatureVerifier for AcceptsAnything {
    fn verify(
        &self,
        _: edge_authz::Algorithm,
        _: &edge_authz::PublicKey,
        _: &[u8],
        _: &[u8],
    ) -> edge_authz::SignatureVerdict {
        edge_authz::SignatureVerdict::Valid
    }
}

#[test]
fn a_signature_of_any_other_length_than_rfc_7518_s_never_reaches_the_verifier() {
    let f = fixture();
    let code =
        |token: &str| match f
            .verifier
            .verify_with_jwks(token, &f.jwks, &AcceptsAnything, NOW)
        {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
    // RS256 on the suite's 2048-bit key: 256 bytes, and only 256. (An RSA-PSS signature
    // without its leading zero byte verified under node:crypto: a second spelling of a
    // token, which the core now refuses for every host.)
    // (The pool allows RS256 only, as Cognito signs; the lengths of the other algorithms are
    // checked alike, `PublicKey::signature_len`.)
    for (kid, alg, right) in [("suite-rsa-1", "RS256", 256)] {
        let head = json!({"alg": alg, "typ": "JWT", "kid": kid});
        assert_eq!(
            code(&raw_token(&head, &claims(), &vec![1; right])),
            "ok",
            "{alg}"
        );
        for wrong in [right - 1, right + 1, 0, right / 2, 2 * right] {
            assert_eq!(
                code(&raw_token(&head, &claims(), &vec![1; wrong])),
                if wrong == 0 {
                    "malformed"
                } else {
                    "bad_signature"
                },
                "{alg}: {wrong} bytes"
            );
        }
    }
}
