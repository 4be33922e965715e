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
//! 4. the first JWKS fetch over TLS once the function is up: handshake, request and parse, in
//!    a fresh process (cold: the DRBG seeding included), then warm (a new connection, and a
//!    refresh on the kept-alive one); median of 9 processes.
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
    if let Ok(mode) = std::env::var(TLS_CHILD_VAR) {
        tls_child(&mode);
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

    // 4. the first JWKS fetch over TLS.
    let tls = tls_fetch_bench();
    println!(
        "first JWKS fetch over TLS (loopback, {}): cold {:.2} ms (median of {}; min {:.2}, max {:.2}) = DRBG seeding {:.2} ms + handshake, request and parse {:.2} ms; warm: new connection {:.2} ms, kept-alive connection {:.2} ms",
        tls["tls"].as_str().unwrap_or("?"),
        tls["first_fetch_ms"]["median"].as_f64().unwrap(),
        tls["first_fetch_ms"]["runs"],
        tls["first_fetch_ms"]["min"].as_f64().unwrap(),
        tls["first_fetch_ms"]["max"].as_f64().unwrap(),
        tls["drbg_seed_ms"].as_f64().unwrap(),
        tls["first_fetch_after_seed_ms"].as_f64().unwrap(),
        tls["new_connection_warm_ms"].as_f64().unwrap(),
        tls["keep_alive_ms"].as_f64().unwrap(),
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
        "jwks_tls_fetch": tls,
    });
    let out = bench_out();
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("lambda-bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).unwrap();
    println!("results: {}", path.display());
}

// -- 4. the first JWKS fetch over TLS ---------------------------------------------------------
//
// A rustls server (aws-lc-rs) on loopback with an RSA-2048 leaf certificate issued by a
// throwaway CA (made with the openssl CLI, trusted by the client for the bench only), and
// the Lambda's own `JwksClient` (`with_roots`: the production connector, provider and
// protocol versions, only the trust anchors differ). The client runs in a fresh process of
// this binary per sample, so "cold" includes whatever the process does first: aws-lc-rs
// seeding its DRBG on its first random bytes (the ClientHello's), the handshake, the request
// and `Jwks::parse`. Loopback has no round-trip time: a real issuer adds about three RTTs
// (TCP, TLS 1.3, the request).

/// Set in the children: `cold` (the fetch is the process's first use of randomness) or
/// `seeded` (the DRBG is seeded first, timed on its own).
const TLS_CHILD_VAR: &str = "EDGE_AUTHZ_BENCH_TLS_CHILD";

/// The throwaway CA and the server's chain and key, under `dir`.
struct TlsFiles {
    ca: std::path::PathBuf,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (make lambda-bench installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tls_files() -> TlsFiles {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = std::env::temp_dir().join(format!("edge-authz-bench-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let subj_ca = "/CN=edge-authz bench CA";
    openssl(
        &dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", subj_ca,
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
    let pem = |name: &str| CertificateDer::from_pem_file(dir.join(name)).unwrap();
    TlsFiles {
        ca: dir.join("ca.pem"),
        chain: vec![pem("leaf.pem"), pem("ca.pem")],
        key: PrivateKeyDer::from_pem_file(dir.join("leaf.key")).unwrap(),
    }
}

/// The JWKS over HTTPS/1.1 with keep-alive; the protocol and key exchange group of the
/// last handshake are kept for the report.
struct TlsJwksServer {
    url: String,
    negotiated: Arc<std::sync::Mutex<String>>,
}

fn start_tls_jwks(files: &TlsFiles, body: Vec<u8>) -> TlsJwksServer {
    use std::io::{Read, Write};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(files.chain.clone(), files.key.clone_key())
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}/.well-known/jwks.json",
        listener.local_addr().unwrap().port()
    );
    let negotiated = Arc::new(std::sync::Mutex::new(String::new()));
    let seen = negotiated.clone();
    let body = Arc::new(body);
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let (config, body, seen) = (config.clone(), body.clone(), seen.clone());
            std::thread::spawn(move || {
                tcp.set_nodelay(true).ok();
                let connection = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(connection, tcp);
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buffer.clear();
                    *seen.lock().unwrap() = format!(
                        "{:?}, {:?}",
                        tls.conn.protocol_version().unwrap(),
                        tls.conn
                            .negotiated_key_exchange_group()
                            .map(|g| g.name())
                            .unwrap()
                    );
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    if tls
                        .write_all(head.as_bytes())
                        .and_then(|()| tls.write_all(&body))
                        .and_then(|()| tls.flush())
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    TlsJwksServer { url, negotiated }
}

/// In a child: the timings of one process, as one JSON line on stdout.
fn tls_child(mode: &str) {
    use rustls::pki_types::pem::PemObject;
    let url = std::env::var("TLS_JWKS_URL").unwrap();
    let ca = std::env::var("TLS_JWKS_CA").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let roots = || {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(&ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        roots
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let seed_ms = (mode == "seeded").then(|| {
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let start = Instant::now();
        provider.secure_random.fill(&mut [0u8; 32]).unwrap();
        ms(start.elapsed())
    });
    let timeout = Duration::from_secs(10);
    let fetch = |client: &edge_authz_lambda::fetch::JwksClient| {
        let start = Instant::now();
        let body = rt.block_on(client.get(&url)).expect("the TLS JWKS fetch");
        let set = edge_authz::Jwks::parse(&body).expect("a JWK Set");
        assert!(!set.keys().is_empty());
        ms(start.elapsed())
    };
    let client = edge_authz_lambda::fetch::JwksClient::with_roots(timeout, roots()).unwrap();
    let first_ms = fetch(&client);
    // A refresh on the pooled connection (an unknown kid within the pool's idle timeout).
    let keep_alive_ms = fetch(&client);
    // A new connection (full handshake, new client: no session to resume) once warm.
    let mut new_connection: Vec<f64> = (0..5)
        .map(|_| {
            fetch(&edge_authz_lambda::fetch::JwksClient::with_roots(timeout, roots()).unwrap())
        })
        .collect();
    new_connection.sort_by(f64::total_cmp);
    println!(
        "{}",
        json!({ "first_ms": first_ms, "seed_ms": seed_ms, "keep_alive_ms": keep_alive_ms, "new_connection_ms": new_connection[2] })
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs the children and summarises them.
fn tls_fetch_bench() -> serde_json::Value {
    let files = tls_files();
    let server = start_tls_jwks(&files, jwks_of(&["suite-rsa-1", "suite-rsa-2"]));
    let runs = if quick() { 3 } else { 9 };
    let child = |mode: &str| -> serde_json::Value {
        let out = Command::new(std::env::current_exe().unwrap())
            .env(TLS_CHILD_VAR, mode)
            .env("TLS_JWKS_URL", &server.url)
            .env("TLS_JWKS_CA", &files.ca)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "TLS child: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("the child's JSON line")
    };
    let cold: Vec<serde_json::Value> = (0..runs).map(|_| child("cold")).collect();
    let seeded: Vec<serde_json::Value> = (0..runs).map(|_| child("seeded")).collect();
    let field = |samples: &[serde_json::Value], name: &str| -> Vec<f64> {
        samples.iter().map(|s| s[name].as_f64().unwrap()).collect()
    };
    let first = field(&cold, "first_ms");
    let results = json!({
        "first_fetch_ms": {
            "median": median(first.clone()),
            "min": first.iter().copied().fold(f64::INFINITY, f64::min),
            "max": first.iter().copied().fold(0.0, f64::max),
            "runs": runs,
        },
        "drbg_seed_ms": median(field(&seeded, "seed_ms")),
        "first_fetch_after_seed_ms": median(field(&seeded, "first_ms")),
        "new_connection_warm_ms": median(field(&cold, "new_connection_ms")),
        "keep_alive_ms": median(field(&cold, "keep_alive_ms")),
        "tls": server.negotiated.lock().unwrap().clone(),
        "server": "loopback rustls (aws-lc-rs), RSA-2048 leaf + CA chain; client: lambda/src/fetch.rs JwksClient",
    });
    std::fs::remove_dir_all(files.ca.parent().unwrap()).ok();
    results
}
