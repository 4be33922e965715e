//! Token parsing + verification (`TokenVerifier::verify_with_jwks`) against a fixed JWKS
//! (the conformance suite's four public keys), with the issuers of the conformance
//! scenarios.
//!
//! Input, line by line (seeds are the suite's token specs, see fuzz/seeds.py):
//! 1. `SIGNER [SCENARIO]` — `suite-rsa-1`, `suite-rsa-2`, `suite-ec-1`, `suite-ed-1`,
//!    `forger` (an Ed25519 key the JWKS does not hold, claiming `suite-ed-1`), `none` (an
//!    empty signature) or `raw`; SCENARIO indexes tests/cases/*.json for the issuers;
//! 2. `now`, seconds since the epoch;
//! 3. the JWS header (any bytes: base64url-encoded and signed as they are), or the whole
//!    token for `raw`;
//! 4. the payload (any bytes);
//! 5. optionally, a payload swapped in after signing.
//!
//! So the fuzzer works on the JSON of structurally valid, correctly signed tokens. The
//! EC and Ed25519 keys sign and verify for real; RSA signatures (milliseconds each in an
//! instrumented build) are stand-ins that the harness's crypto accepts for exactly the
//! signed bytes and the signing key (see `HarnessCrypto`).
//! Invariants: never panics; a token is accepted only if a published key signed exactly
//! these bytes with the header's algorithm, and it is within its `exp`/`nbf`/`iat` (with
//! the issuer's grace) at `now`; the identity matches the claims.
#![no_main]

use std::sync::OnceLock;

use edge_authz::token::crypto::DeferToHost;
use edge_authz::{Config, Jwks, TokenVerifier};
use edge_authz_fuzz::{b64, jwks_document, scenarios, HarnessCrypto, Signer, BASE_NOW};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Fixture {
    jwks: Jwks,
    verifiers: Vec<TokenVerifier>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let doc = jwks_document(&[Signer::Rsa1, Signer::Rsa2, Signer::Ec, Signer::Ed]);
        let jwks = Jwks::parse(&doc).expect("suite JWKS");
        assert_eq!(jwks.len(), 4);
        let verifiers = scenarios()
            .iter()
            .map(|s| {
                let loaded = Config::from_value(&s.doc["config"])
                    .unwrap_or_else(|e| panic!("{}: config does not load: {e}", s.name));
                let c = loaded.config;
                TokenVerifier::new(c.issuers, c.grace_seconds, c.max_token_bytes)
            })
            .collect();
        Fixture { jwks, verifiers }
    })
}

/// A NumericDate as the verifier reads it (truncated; malformed ones are rejected).
fn date(claims: &serde_json::Map<String, Value>, name: &str) -> Option<u64> {
    let n = claims.get(name)?.as_number()?;
    n.as_u64().or_else(|| n.as_f64().map(|f| f as u64))
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut parts = data.splitn(5, |&b| b == b'\n');
    let control = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let mut words = control.split(' ');
    let signer_name = words.next().unwrap_or("");
    let scenario = words
        .next()
        .and_then(|w| w.parse::<usize>().ok())
        .unwrap_or(0)
        % f.verifiers.len();
    let verifier = &f.verifiers[scenario];
    let now = parts
        .next()
        .and_then(|n| core::str::from_utf8(n).ok())
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(BASE_NOW);
    let header = parts.next().unwrap_or_default();
    let payload = parts.next().unwrap_or_default();
    let swapped = parts.next();

    let signer = Signer::from_kid(signer_name);
    let token = match signer_name {
        "raw" => String::from_utf8_lossy(header).into_owned(),
        _ => {
            let signing_input = format!("{}.{}", b64(header), b64(payload));
            let signature = match signer {
                Some(signer) => b64(&signer.sign_fast(signing_input.as_bytes())),
                None => String::new(),
            };
            let sent_payload = swapped.map_or_else(|| b64(payload), b64);
            format!("{}.{sent_payload}.{signature}", b64(header))
        }
    };

    let result = verifier.verify_with_jwks(&token, &f.jwks, &HarnessCrypto, now);
    // Host crypto that defers everything can never make a synchronous verification pass.
    let deferred = verifier.verify_with_jwks(&token, &f.jwks, &DeferToHost, now);
    assert!(deferred.is_err(), "verified without any signature check");

    let verified = match result {
        Ok(verified) => verified,
        Err(e) => {
            let _ = e.code();
            let _ = format!("{e:?}");
            return;
        }
    };
    // Accepted: a published key signed exactly these bytes, with the header's algorithm.
    let signer = match (signer_name, signer) {
        ("raw", _) => None,
        (_, Some(Signer::Forger)) | (_, None) => {
            panic!("accepted a token signed by {signer_name}: {token}")
        }
        (_, Some(signer)) => Some(signer),
    };
    if let Some(signer) = signer {
        assert!(
            swapped.is_none_or(|s| s == payload),
            "accepted a token whose payload was swapped after signing: {token}"
        );
        if let Ok(Value::Object(h)) = serde_json::from_slice::<Value>(header) {
            assert_eq!(
                h.get("alg").and_then(Value::as_str),
                Some(signer.alg()),
                "accepted a {} signature under another alg: {token}",
                signer.alg()
            );
        }
    }
    // Within its time claims, with the issuer's grace.
    let grace = verifier.grace();
    // Through the claims' serde_json view: read independently of the one-pass reader.
    let claims = verified.claims.map();
    if let Some(exp) = date(claims, "exp") {
        assert!(
            now < exp.saturating_add(grace),
            "expired: exp {exp}, now {now}"
        );
        assert_eq!(verified.identity.expires_at, Some(exp));
    } else {
        let issuer = &verifier.issuers()[verified.issuer];
        assert!(!issuer.require_exp, "accepted without exp");
    }
    for name in ["nbf", "iat"] {
        if let Some(t) = date(claims, name) {
            assert!(t <= now.saturating_add(grace), "{name} {t} after now {now}");
        }
    }
    let issuer = &verifier.issuers()[verified.issuer];
    assert_eq!(
        claims.get("iss").and_then(Value::as_str),
        Some(issuer.issuer.as_str())
    );
    assert_eq!(verified.identity.issuer, issuer.issuer);
    assert_eq!(
        claims.get("sub").and_then(Value::as_str),
        Some(verified.identity.subject.as_str())
    );
    assert!(!verified.identity.subject.is_empty());
    if !issuer.required_groups.is_empty() {
        assert!(verified
            .identity
            .groups
            .iter()
            .any(|g| issuer.required_groups.contains(g)));
    }
    if !issuer.required_scopes.is_empty() {
        assert!(verified
            .identity
            .scopes
            .iter()
            .any(|s| issuer.required_scopes.contains(s)));
    }
});
