//! `make lambda-bench`: native crypto throughput against `openssl speed`, per-invocation
//! time through the handler, and the binary's init time through the Runtime API emulator.
//!
//! 1. cold verify + decision per second: the core with the aws-lc-rs verifier, token and
//!    decision caches off, so every call parses and verifies an RS256 token and evaluates
//!    the seed's policy; compared with `openssl speed -seconds 3 rsa2048` verify/s (budget
//!    ≥ 0.7×). Rates are per CPU-second of the measuring thread, as openssl's are per CPU
//!    second: load from other processes slows neither side of the ratio.
//! 2. a REST `REQUEST` event through `Handler::handle` (event parsing, decision, response).
//! 3. process start → first decision with a bundled JWKS, through the emulator (median of 10).
//!
//! Besides its lines on stdout it writes every figure to `target/bench/lambda-bench.json` (or
//! `$BENCH_OUT/lambda-bench.json`) for `make bench`'s table (js/bench/table.js). `BENCH_QUICK=1`
//! shortens every measurement (a pipeline check, not figures to quote).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use edge_authz::token::crypto::AwsLcVerifier;
use edge_authz::{Authorizer, Config, Request, Step};
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

/// `make bench-quick`: shorter measurements, fewer init runs.
fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Seconds of a measurement: `full`, or a third of it (at least 0.3 s) when quick.
fn seconds(full: f64) -> f64 {
    if quick() {
        (full / 3.0).max(0.3)
    } else {
        full
    }
}

/// Where the JSON results go: `$BENCH_OUT`, else the workspace's `target/bench`.
fn bench_out() -> std::path::PathBuf {
    match std::env::var_os("BENCH_OUT") {
        Some(dir) if !dir.is_empty() => dir.into(),
        _ => std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("lambda/ is in the workspace")
            .join("target/bench"),
    }
}

fn openssl_version() -> Option<String> {
    let out = Command::new("openssl").arg("version").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn openssl_rsa2048_verify_per_second(secs: u32) -> Option<f64> {
    let secs = secs.to_string();
    let out = Command::new("openssl")
        .args(["speed", "-seconds", secs.as_str(), "rsa2048"])
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

/// CPU time of the calling thread (Linux: `/proc/thread-self/schedstat`, nanoseconds on CPU).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Calls of `f` per CPU-second of this thread (per wall second where the CPU time cannot be
/// read). CPU time, like `openssl speed` (which divides by CPU user time unless `-elapsed`),
/// so that other load on the machine slows neither side of the ratio.
fn per_second(mut f: impl FnMut(), seconds: f64) -> f64 {
    for _ in 0..200 {
        f();
    }
    let start = Instant::now();
    let cpu_start = thread_cpu_seconds();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    let spent = match (cpu_start, thread_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => start.elapsed().as_secs_f64(),
    };
    n as f64 / spent
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
        seconds(3.0),
    );
    assert!(allowed > 0);
    let openssl_seconds = if quick() { 1 } else { 3 };
    let openssl = openssl_rsa2048_verify_per_second(openssl_seconds);
    println!("cold verify + decision (RS256, aws-lc-rs, caches off): {cold_rate:.0}/s");
    match openssl {
        Some(o) => {
            let ratio = cold_rate / o;
            println!(
                "openssl speed -seconds {openssl_seconds} rsa2048 verify: {o:.0}/s → ratio {ratio:.2} (budget ≥ 0.70: {})",
                if ratio >= 0.7 { "met" } else { "NOT met" }
            );
        }
        None => println!("openssl speed rsa2048: could not read its output"),
    }

    // Where the time goes: the signature check alone, through our verifier.
    let signature_rate = {
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
            seconds(2.0),
        );
        println!(
            "  of which the RS256 signature check alone (aws-lc-rs, prepared key): {rate:.0}/s"
        );
        rate
    };

    // Warm (cached token and decision), for reference.
    let loaded = Config::from_value(&config(true)).unwrap();
    let mut warm = Authorizer::new(loaded.config).with_verifier(Arc::new(AwsLcVerifier::new()));
    warm.jwks_fetched(0, &jwks_of(&["suite-rsa-1"]), now)
        .unwrap();
    let warm_rate = per_second(
        || {
            let _ = warm.authorize(&request, now);
        },
        seconds(1.0),
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
            seconds(2.0),
        );
        Some(rate)
    } else {
        None
    };
    let handler_rate = match through_handler {
        Some(rate) => {
            println!(
                "REQUEST event through the handler, cold token each time: {rate:.0}/s ({:.1} µs each)",
                1e6 / rate
            );
            rate
        }
        None => panic!("handler: first decision was {}", first.reason()),
    };

    // 3. init time of the real binary, bundled JWKS and policies.
    let jwks_file = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    let policies = temp_file(
        "policies.json",
        json!({ "pet-veterinarian": vet_policy() })
            .to_string()
            .as_bytes(),
    );
    let mut samples = Vec::new();
    let mut peak_rss_kib = Vec::new();
    let init_runs = if quick() { 3 } else { 10 };
    for _ in 0..init_runs {
        let emulator = Emulator::start();
        let start = Instant::now();
        let bootstrap = Bootstrap::spawn(
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
        // The process's peak resident set so far (the kernel's high-water mark).
        let status = std::fs::read_to_string(format!("/proc/{}/status", bootstrap.child.id()))
            .unwrap_or_default();
        if let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_rss_kib.push(kib);
        }
    }
    samples.sort();
    peak_rss_kib.sort();
    let peak_rss_mib = peak_rss_kib.last().map(|kib| *kib as f64 / 1024.0);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "init (process start → first decision, bundled JWKS, via the emulator): median {:.1} ms, min {:.1} ms, max {:.1} ms ({} runs; binary: {}); peak RSS {}",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len(),
        env!("CARGO_BIN_EXE_bootstrap"),
        peak_rss_mib.map_or_else(|| "not measured".to_owned(), |m| format!("{m:.1} MiB")),
    );

    let results = json!({
        "bench": "lambda-bench",
        "command": "cargo bench -p edge-authz-lambda --bench lambda",
        "quick": quick(),
        "cold_verify_decision_per_s": cold_rate,
        "openssl": {
            "version": openssl_version(),
            "command": format!("openssl speed -seconds {openssl_seconds} rsa2048"),
            "rsa2048_verify_per_s": openssl,
        },
        "cold_ratio": openssl.map(|o| cold_rate / o),
        "budget_cold_ratio": 0.7,
        "signature_only_per_s": signature_rate,
        "cached_decision_per_s": warm_rate,
        "handler_request_event_per_s": handler_rate,
        "init_ms": {
            "median": ms(samples[samples.len() / 2]),
            "min": ms(samples[0]),
            "max": ms(samples[samples.len() - 1]),
            "runs": samples.len(),
        },
        "budget_init_ms": 20.0,
        "peak_rss_mib": peak_rss_mib,
        "budget_peak_rss_mib": 15.0,
    });
    let out = bench_out();
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("lambda-bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    println!("results: {}", path.display());
}
