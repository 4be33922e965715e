//! The authorizer's hot paths: a first-seen token (signature + claims + policies) and a
//! repeated one (token and decision caches). Budget: repeated ≥ 2M decisions/s native.
//! `first_seen_overhead` is a first-seen token with the signature check answered at once:
//! the core's own work per unseen token, which every adapter adds to its crypto.
//! `repeated_token_revocation` is `repeated_token` with revocation on (budget: ≤ 5 % more).

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use edge_authz::{
    Algorithm, Authorizer, Config, Need, PolicyInput, PublicKey, Request, SignatureVerdict,
    SignatureVerifier, Step,
};
use serde_json::json;
use support::{jwks_document, sign_token, suite_keys};

const NOW: u64 = 1_767_225_600;

fn config(cache: bool) -> Config {
    config_with(cache, None)
}

/// The bench configuration, with a `revocation` section when given.
fn config_with(cache: bool, revocation: Option<serde_json::Value>) -> Config {
    let policy = json!({"Version":"2012-10-17","Statement":[{"Sid":"PetStore-API","Effect":"Allow","Action":"execute-api:Invoke",
        "Resource":["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*","arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status"],
        "Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24"]}}}]});
    let size = if cache { 10_000 } else { 0 };
    let mut value = json!({
        "issuers": [{"userPoolId": "us-east-1_SuitePool1", "tokenUse": "access", "clientId": ["suite-client"]}],
        "policies": {"groups": {"pet-veterinarian": policy}},
        "cache": {"tokens": size, "decisions": size},
    });
    if let Some(revocation) = revocation {
        value["revocation"] = revocation;
    }
    Config::from_value(&value).expect("bench config").config
}

fn token(keys: &[support::SuiteKey], kid: &str) -> String {
    let claims = json!({
        "sub": "a1b2c3d4-0000-4000-8000-000000000001",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_SuitePool1",
        "client_id": "suite-client", "token_use": "access", "scope": "aws.cognito.signin.user.admin",
        "auth_time": NOW - 60, "iat": NOW - 60, "exp": NOW + 3600, "jti": "bench",
        "username": "cognitouser", "cognito:groups": ["pet-veterinarian"],
    });
    sign_token(keys, kid, None, &claims, false)
}

fn authorizer(cache: bool) -> Authorizer {
    authorizer_with(config(cache))
}

fn authorizer_with(config: Config) -> Authorizer {
    let keys = suite_keys();
    let mut authorizer = Authorizer::new(config);
    let doc = jwks_document(&keys, &["suite-rsa-1".into(), "suite-ec-1".into()]);
    authorizer.jwks_fetched(0, &doc, NOW).expect("jwks");
    authorizer
}

/// Accepts every signature: isolates the core's work from the crypto's.
struct AcceptEverySignature;

impl SignatureVerifier for AcceptEverySignature {
    fn verify(&self, _: Algorithm, _: &PublicKey, _: &[u8], _: &[u8]) -> SignatureVerdict {
        SignatureVerdict::Valid
    }
}

fn decide(authorizer: &mut Authorizer, request: &Request<'_>) -> bool {
    match authorizer.authorize(request, NOW) {
        Step::Decided(d) => d.is_allowed(),
        Step::Need(need) => panic!("unexpected need {need:?}"),
    }
}

fn benches(c: &mut Criterion) {
    let keys = suite_keys();
    let rs256 = format!("Bearer {}", token(&keys, "suite-rsa-1"));
    let headers = [
        ("authorization", rs256.as_str()),
        ("user-agent", "bench/1.0"),
    ];
    let request = Request {
        headers: &headers,
        source_ip: Some(IpAddr::from([192, 0, 2, 10])),
        ..Request::new("GET", "/petstore/v1/pets")
    };

    let mut group = c.benchmark_group("authorize");
    group.throughput(Throughput::Elements(1));

    let mut cold = authorizer(false);
    assert!(decide(&mut cold, &request));
    group.bench_function("first_seen_rs256", |b| {
        b.iter(|| decide(&mut cold, black_box(&request)))
    });

    let mut overhead = authorizer(false).with_verifier(std::sync::Arc::new(AcceptEverySignature));
    assert!(decide(&mut overhead, &request));
    group.bench_function("first_seen_overhead", |b| {
        b.iter(|| decide(&mut overhead, black_box(&request)))
    });

    let mut warm = authorizer(true);
    assert!(decide(&mut warm, &request));
    group.bench_function("repeated_token", |b| {
        b.iter(|| decide(&mut warm, black_box(&request)))
    });

    // The same, with revocation on: the caller's records (none) read once, fresh for the
    // whole run. What a cached caller pays for revocation (budget: at most 5 % more).
    let mut revoking = authorizer_with(config_with(true, Some(json!({"freshnessSeconds": 30}))));
    match revoking.authorize(&request, NOW) {
        Step::Need(Need::LoadRevocations { keys, .. }) => {
            for key in keys {
                revoking
                    .revocation_loaded(&key, PolicyInput::Absent, NOW)
                    .expect("no record");
            }
        }
        other => panic!("expected the caller's revocation records to be asked for, got {other:?}"),
    }
    assert!(decide(&mut revoking, &request));
    group.bench_function("repeated_token_revocation", |b| {
        b.iter(|| decide(&mut revoking, black_box(&request)))
    });

    let other = Request {
        source_ip: Some(IpAddr::from([198, 51, 100, 7])),
        ..Request::new("GET", "/petstore/v2/status")
    };
    let other = Request {
        headers: &headers,
        ..other
    };
    group.bench_function("repeated_token_two_routes", |b| {
        b.iter(|| {
            decide(&mut warm, black_box(&request));
            decide(&mut warm, black_box(&other))
        })
    });
    group.finish();
}

criterion_group!(authorize, benches);
criterion_main!(authorize);
