//! Revocation through the public API: the configuration's checks, `revoke` in one process,
//! and the caches never serving an allow past a record. (The store-backed behaviour over
//! time is in the conformance suite, tests/cases/revocations*.json.)

mod support;

use std::net::IpAddr;

use edge_authz::{
    Authorizer, Config, Need, PolicyInput, Reason, Request, Revocation, RevokeError, Step,
};
use serde_json::{json, Value};
use support::{jwks_document, sign_token, suite_keys};

const NOW: u64 = 1_767_225_600;
const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SuitePool1";

fn config(revocation: Value) -> Value {
    json!({
        "issuers": [{"userPoolId": "us-east-1_SuitePool1", "tokenUse": "access", "clientId": ["suite-client"]}],
        "policies": {"groups": {"staff": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}}},
        "revocation": revocation,
    })
}

fn errors_of(value: Value) -> String {
    match Config::from_value(&value) {
        Ok(_) => String::new(),
        Err(errors) => errors.to_string(),
    }
}

#[test]
fn the_revocation_section_is_checked_field_by_field() {
    assert_eq!(errors_of(config(json!({}))), "");
    assert_eq!(errors_of(config(Value::Null)), "");
    for (section, says) in [
        (
            json!({"freshnessSeconds": 0}),
            "revocation.freshnessSeconds: must be at least 1",
        ),
        (
            json!({"freshnessSeconds": 7200}),
            "revocation.freshnessSeconds: must be an integer from 0 to 3600",
        ),
        (
            json!({"whenUnavailable": "allow"}),
            "revocation.whenUnavailable: must be one of `deny`, `stale`",
        ),
        (
            json!({"store": "redis"}),
            "revocation.store: must be one of `external`, `local`",
        ),
        (
            json!({"cacheEntries": 3}),
            "revocation.cacheEntries: must be at least 64",
        ),
        (
            json!({"freshness": 30}),
            "revocation.freshness: unknown field",
        ),
        (json!(true), "revocation: must be an object"),
    ] {
        let errors = errors_of(config(section.clone()));
        assert!(errors.contains(says), "{section}: {errors}");
    }
    let mut with_fragment = config(json!({}));
    with_fragment["issuers"] = json!([{"issuer": "https://login.example/#x", "jwksUri": "https://login.example/jwks", "audience": null}]);
    assert!(errors_of(with_fragment).contains("must not contain `#`"));
}

#[test]
fn an_api_gateway_cache_longer_than_the_freshness_is_warned_about() {
    let mut value = config(json!({"freshnessSeconds": 30}));
    value["apiGatewayCache"] =
        json!({"ttlSeconds": 300, "identitySources": ["method.request.header.Authorization"]});
    let loaded = Config::from_value(&value).expect("valid");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("apiGatewayCache.ttlSeconds")
                && w.contains("revocation.freshnessSeconds")),
        "{:?}",
        loaded.warnings
    );
    value["apiGatewayCache"]["ttlSeconds"] = json!(30);
    assert!(Config::from_value(&value)
        .expect("valid")
        .warnings
        .is_empty());
}

fn token(sub: &str, iat: u64, jti: &str, origin_jti: &str) -> String {
    let claims = json!({
        "sub": sub, "iss": ISS, "client_id": "suite-client", "token_use": "access",
        "iat": iat, "exp": NOW + 3600, "jti": jti, "origin_jti": origin_jti,
        "cognito:groups": ["staff"],
    });
    sign_token(&suite_keys(), "suite-rsa-1", None, &claims, false)
}

fn authorizer(revocation: Value) -> Authorizer {
    let mut authorizer = Authorizer::new(
        Config::from_value(&config(revocation))
            .expect("config")
            .config,
    );
    let jwks = jwks_document(&suite_keys(), &["suite-rsa-1".into()]);
    authorizer.jwks_fetched(0, &jwks, NOW).expect("jwks");
    authorizer
}

/// Decides, answering a revocation read with "no records".
fn decide(authorizer: &mut Authorizer, token: &str, now: u64) -> Reason {
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str())];
    let request = Request {
        headers: &headers,
        source_ip: Some(IpAddr::from([192, 0, 2, 10])),
        ..Request::new("GET", "/pets")
    };
    for _ in 0..4 {
        match authorizer.authorize(&request, now) {
            Step::Decided(decision) => return decision.reason,
            Step::Need(Need::LoadRevocations { keys, .. }) => {
                for key in keys {
                    authorizer
                        .revocation_loaded(&key, PolicyInput::Absent, now)
                        .unwrap();
                }
            }
            Step::Need(need) => panic!("unexpected {need:?}"),
        }
    }
    panic!("no decision");
}

#[test]
fn revoke_in_one_process_takes_effect_at_once_past_every_cache() {
    let mut authorizer = authorizer(json!({}));
    let alice = token("alice", NOW - 60, "a-1", "alice-session");
    assert_eq!(decide(&mut authorizer, &alice, NOW), Reason::Allowed);
    // Decided again from the decision cache...
    assert_eq!(decide(&mut authorizer, &alice, NOW + 1), Reason::Allowed);
    // ...until revoked: at once, well within the freshness window.
    let session = Revocation::Session {
        issuer: ISS.into(),
        origin_jti: "alice-session".into(),
    };
    authorizer
        .revoke(&session, Some(NOW + 86_400), NOW + 2)
        .unwrap();
    assert_eq!(decide(&mut authorizer, &alice, NOW + 2), Reason::Revoked);
    // The store knowing nothing of it does not undo it.
    assert_eq!(decide(&mut authorizer, &alice, NOW + 100), Reason::Revoked);
    // Another sign-in of the same user is not that session.
    let again = token("alice", NOW + 50, "a-2", "alice-session-2");
    assert_eq!(decide(&mut authorizer, &again, NOW + 100), Reason::Allowed);
    // A user cutoff refuses every token issued at or before it, the new one included.
    let cutoff = Revocation::User {
        issuer: ISS.into(),
        subject: "alice".into(),
        before: NOW + 50,
    };
    authorizer.revoke(&cutoff, None, NOW + 101).unwrap();
    assert_eq!(decide(&mut authorizer, &again, NOW + 101), Reason::Revoked);
}

#[test]
fn a_local_store_never_asks_and_revoke_needs_the_section() {
    let mut local = authorizer(json!({"store": "local"}));
    assert!(!local.loads_revocations());
    let bob = token("bob", NOW - 60, "b-1", "bob-session");
    // `decide` panics on any need but LoadRevocations; a local store asks for nothing.
    let bearer = format!("Bearer {bob}");
    let headers = [("authorization", bearer.as_str())];
    let request = Request {
        headers: &headers,
        ..Request::new("GET", "/pets")
    };
    assert!(
        matches!(local.authorize(&request, NOW), Step::Decided(d) if d.reason == Reason::Allowed)
    );
    let token_record = Revocation::Token {
        issuer: ISS.into(),
        jti: "b-1".into(),
    };
    local.revoke(&token_record, None, NOW).unwrap();
    assert!(
        matches!(local.authorize(&request, NOW), Step::Decided(d) if d.reason == Reason::Revoked)
    );

    let mut off = Authorizer::new(
        Config::from_value(&json!({
            "issuers": [{"userPoolId": "us-east-1_SuitePool1", "tokenUse": "access", "clientId": null}],
            "policies": {"groups": {}},
        }))
        .unwrap()
        .config,
    );
    assert_eq!(off.revoke(&token_record, None, NOW), Err(RevokeError::Off));
    assert!(RevokeError::Off.to_string().contains("revocation"));
    let elsewhere = Revocation::Token {
        issuer: "https://login.example/".into(),
        jti: "b-1".into(),
    };
    assert_eq!(
        local.revoke(&elsewhere, None, NOW),
        Err(RevokeError::UnknownIssuer)
    );
}
