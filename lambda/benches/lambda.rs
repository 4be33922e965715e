//! `make lambda-bench`: native crypto throughput against `openssl speed`, per-invocation
//! time through the handler, and the binary's init time through the Runtime API emulator.
//!
//! 1. cold verify + decision per second: the core with the aws-lc-rs verifier, token and
//!    decision caches off, so every call parses and verifies an RS256 token and evaluates
//!    the seed's policy; compared with `openssl speed -seconds 3 rsa2048` verify/s (budget
//!    ≥ 0.7×).
//! 2. a REST `REQUEST` event through `Handler::handle` (event parsing, decision, response).
//! 3. process start → first decision with a bundled JWKS, through the emulator (median of 10).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use edge_authz::{Authorizer, Config, Request, Step};
use edge_authz_lambda::verifier::AwsLcVerifier;
use serde_json::json;

fn config(cache: bool) -> serde_json::Value {
    let size = if cache { 10_000 } else { 0 };
    json!({
        "issuers": [{"userPoolId": POOL, "tokenUse": "access", "clientId": [CLIENT], "jwksUri": "http://127.0.0.1:9/jwks.json"}],
        "api": {"region": "us-east-1", "accountId": "123456789012", "apiId": "petstore1", "stage": "prod"},
        "policies": {"groups": {"pet-veterinarian": vet_policy()}},
        "cache": {"tokens": size, "decisions": size}
    })
}

fn openssl_rsa2048_verify_per_second() -> Option<f64> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "                  sign    verify    sign/s verify/s"
    // "rsa 2048 bits 0.000714s 0.000023s   1401.2  44334.1"
    let header: Vec<&str> = text
        .lines()
        .find(|l| l.contains("verify/s"))?
        .split_whitespace()
        .collect();
    let column = header.iter().position(|h| *h == "verify/s")?;
    let data = text
        .lines()
        .find(|l| l.trim_start().starts_with("rsa 2048 bits"))?;
    let values: Vec<&str> = data.split_whitespace().skip(3).collect();
    values.get(column)?.parse().ok()
}

fn per_second(mut f: impl FnMut(), seconds: f64) -> f64 {
    for _ in 0..200 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let now = now();
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now);
    let headers_owned = [("authorization".to_owned(), format!("Bearer {token}"))];
    let headers: Vec<(&str, &str)> = headers_owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request = Request {
        headers: &headers,
        source_ip: Some("192.0.2.10".parse().unwrap()),
        ..Request::new("GET", "/petstore/v1/pets")
    };

    // 1. cold verify + decision
    let loaded = Config::from_value(&config(false)).unwrap();
    let mut cold = Authorizer::new(loaded.config).with_verifier(Arc::new(AwsLcVerifier::new()));
    cold.jwks_fetched(0, &jwks_of(&["suite-rsa-1"]), now)
        .unwrap();
    let mut allowed = 0u64;
    let cold_rate = per_second(
        || match cold.authorize(&request, now) {
            Step::Decided(d) if d.is_allowed() => allowed += 1,
            other => panic!("unexpected {other:?}"),
        },
        3.0,
    );
    assert!(allowed > 0);
    let openssl = openssl_rsa2048_verify_per_second();
    println!("cold verify + decision (RS256, aws-lc-rs, caches off): {cold_rate:.0}/s");
    match openssl {
        Some(o) => {
            let ratio = cold_rate / o;
            println!(
                "openssl speed -seconds 3 rsa2048 verify: {o:.0}/s → ratio {ratio:.2} (budget ≥ 0.70: {})",
                if ratio >= 0.7 { "met" } else { "NOT met" }
            );
        }
        None => println!("openssl speed rsa2048: could not read its output"),
    }

    // Where the time goes: the signature check alone, through our verifier.
    {
        use edge_authz::{Jwks, SignatureVerifier};
        let set = Jwks::parse(&jwks_of(&["suite-rsa-1"])).unwrap();
        let key = set.keys()[0].clone();
        let (input, sig) = token.rsplit_once('.').unwrap();
        use base64ct::Encoding as _;
        let sig = base64ct::Base64UrlUnpadded::decode_vec(sig).unwrap();
        let verifier = AwsLcVerifier::new();
        let rate = per_second(
            || {
                let v = verifier.verify(edge_authz::Algorithm::Rs256, &key, input.as_bytes(), &sig);
                assert_eq!(v, edge_authz::SignatureVerdict::Valid);
            },
            2.0,
        );
        println!(
            "  of which the RS256 signature check alone (aws-lc-rs, prepared key): {rate:.0}/s"
        );
    }

    // Warm (cached token and decision), for reference.
    let loaded = Config::from_value(&config(true)).unwrap();
    let mut warm = Authorizer::new(loaded.config).with_verifier(Arc::new(AwsLcVerifier::new()));
    warm.jwks_fetched(0, &jwks_of(&["suite-rsa-1"]), now)
        .unwrap();
    let warm_rate = per_second(
        || {
            let _ = warm.authorize(&request, now);
        },
        1.0,
    );
    println!("cached token + decision: {warm_rate:.0}/s");

    // 2. through the handler (event in, response out), caches off.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let jwks = JwksServer::start(&["suite-rsa-1"]);
    let mut handler_config = config(false);
    handler_config["issuers"][0]["jwksUri"] = json!(jwks.url());
    let vars =
        std::collections::BTreeMap::from([("CONFIG".to_owned(), handler_config.to_string())]);
    let settings = edge_authz_lambda::Settings::from_vars(&vars).unwrap();
    let handler = edge_authz_lambda::Handler::new(settings, None, now).unwrap();
    let event = request_event(Some(&token), "GET", "/petstore/v1/pets", "192.0.2.10");
    let first = rt.block_on(handler.handle(event.clone(), now));
    let through_handler = if first.reason() == "allowed" {
        let rate = per_second(
            || {
                let _ = rt.block_on(handler.handle(event.clone(), now));
            },
            2.0,
        );
        Some(rate)
    } else {
        None
    };
    match through_handler {
        Some(rate) => println!(
            "REQUEST event through the handler, cold token each time: {rate:.0}/s ({:.1} µs each)",
            1e6 / rate
        ),
        None => panic!("handler: first decision was {}", first.reason()),
    }

    // 3. init time of the real binary, bundled JWKS and policies.
    let jwks_file = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let policies = temp_file(
        "policies.json",
        json!({ "pet-veterinarian": vet_policy() })
            .to_string()
            .as_bytes(),
    );
    let mut samples = Vec::new();
    for _ in 0..10 {
        let emulator = Emulator::start();
        let start = Instant::now();
        let _bootstrap = Bootstrap::spawn(
            &emulator,
            &[
                ("USER_POOL_ID", POOL.into()),
                ("CLIENT_IDS", CLIENT.into()),
                ("JWKS_URI", "http://127.0.0.1:9/jwks.json".into()),
                ("JWKS_FILE", jwks_file.display().to_string()),
                ("POLICIES_FILE", policies.display().to_string()),
            ],
        );
        match emulator.invoke(token_event(Some(&token), "GET", "/petstore/v1/pets")) {
            Invocation::Response(r)
                if policy_allows(&r, &format!("{ARN_PREFIX}/GET/petstore/v1/pets")) => {}
            other => panic!("first decision was not an allow: {other:?}"),
        }
        samples.push(start.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "init (process start → first decision, bundled JWKS, via the emulator): median {:.1} ms, min {:.1} ms, max {:.1} ms ({} runs; binary: {})",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len(),
        env!("CARGO_BIN_EXE_bootstrap"),
    );
}
