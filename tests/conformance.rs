//! Runs the conformance suite (`tests/cases/*.json`) through the native core, twice: with
//! the built-in pure-Rust crypto, and with every signature handed to the "host"
//! (`Need::CheckSignature`), the path the Worker and Node take. Both must match the cases.

mod support;

use std::net::IpAddr;
use std::sync::Arc;

use edge_authz::token::crypto::{DeferToHost, RustCryptoVerifier};
use edge_authz::{
    Authorizer, Config, ContextValue, Decision, Need, Request, SignatureVerdict, SignatureVerifier,
    Step,
};
use serde_json::{Map, Value};
use support::{jwks_document, load_scenario, scenario_files, suite_keys, token_of, SuiteKey};

/// The JWKS endpoint and policy store a scenario's adapter talks to.
struct World {
    keys: Vec<SuiteKey>,
    served: Vec<String>,
    down: bool,
    store: Map<String, Value>,
    fetches: usize,
}

/// Drives the sans-IO loop the way an adapter does.
fn run(
    authorizer: &mut Authorizer,
    world: &mut World,
    request: &Request<'_>,
    now: u64,
    host: &dyn SignatureVerifier,
) -> Decision {
    for _ in 0..10 {
        match authorizer.authorize(request, now) {
            Step::Decided(decision) => return decision,
            Step::Need(Need::FetchJwks { issuer, .. }) => {
                world.fetches += 1;
                if world.down {
                    authorizer.jwks_failed(issuer, now);
                } else {
                    let doc = jwks_document(&world.keys, &world.served);
                    authorizer
                        .jwks_fetched(issuer, &doc, now)
                        .expect("suite JWKS parses");
                }
            }
            Step::Need(Need::AwaitJwks { .. }) => panic!("no concurrent fetch in a sequential run"),
            Step::Need(Need::LoadPolicies { groups }) => {
                for group in groups {
                    // Invalid policies are part of the suite: the authorizer must deny them.
                    let _ = match world.store.get(&group) {
                        Some(Value::String(text)) => {
                            authorizer.policy_loaded(&group, Some(text), now)
                        }
                        Some(Value::Null) | None => authorizer.policy_loaded(&group, None, now),
                        Some(doc) => authorizer.policy_value_loaded(&group, Some(doc), now),
                    };
                }
            }
            Step::Need(Need::CheckSignature { token, check }) => {
                let verdict = host.verify(
                    check.algorithm,
                    &check.key,
                    check.signing_input.as_bytes(),
                    &check.signature,
                );
                authorizer.signature_checked(token, verdict == SignatureVerdict::Valid);
            }
        }
    }
    panic!("the authorizer kept asking for more");
}

fn context_json(decision: &Decision) -> Map<String, Value> {
    decision
        .context()
        .iter()
        .map(|(k, v)| {
            let v = match v {
                ContextValue::String(s) => Value::String(s.clone()),
                ContextValue::Number(n) => serde_json::json!(n),
                ContextValue::Bool(b) => Value::Bool(*b),
            };
            (k.to_string(), v)
        })
        .collect()
}

fn run_suite(defer_to_host: bool) -> (usize, usize) {
    let keys = suite_keys();
    let dir = scenario_files();
    let mut failures = Vec::new();
    let mut count = 0;
    for path in &dir {
        let scenario = load_scenario(path);
        let loaded = Config::from_value(&scenario.config)
            .unwrap_or_else(|e| panic!("{}: config: {e}", path.display()));
        let mut authorizer = Authorizer::new(loaded.config);
        if defer_to_host {
            authorizer = authorizer.with_verifier(Arc::new(DeferToHost));
        }
        let mut world = World {
            keys: suite_keys(),
            served: scenario.jwks.clone(),
            down: false,
            store: scenario.store.clone(),
            fetches: 0,
        };
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for case in &scenario.cases {
            count += 1;
            if let Some(served) = &case.jwks {
                world.served = served.clone();
            }
            if let Some(down) = case.jwks_down {
                world.down = down;
            }
            let token = case.token.as_ref().map(|t| token_of(t, &keys));
            let mut headers: Vec<(String, String)> = case
                .request
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.replace("{token}", token.as_deref().unwrap_or("")),
                    )
                })
                .collect();
            if let Some(token) = &token {
                if !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                {
                    headers.push(("Authorization".into(), format!("Bearer {token}")));
                }
            }
            let header_refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let query: Vec<(&str, &str)> = case
                .request
                .query
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let request = Request {
                method: &case.request.method,
                path: &case.request.path,
                method_arn: case.request.method_arn.as_deref(),
                headers: &header_refs,
                query: &query,
                source_ip: case
                    .request
                    .source_ip
                    .as_ref()
                    .map(|ip| ip.parse::<IpAddr>().expect("sourceIp")),
                secure_transport: Some(true),
                credential: None,
                matching: None,
            };
            world.fetches = 0;
            let decision = run(
                &mut authorizer,
                &mut world,
                &request,
                case.now,
                &RustCryptoVerifier,
            );
            let status = authorizer.response(&decision).map_or(200, |r| r.status);
            let mut problems = Vec::new();
            if status != case.expect.status {
                problems.push(format!("status {status}, expected {}", case.expect.status));
            }
            if decision.reason != case.expect.reason {
                problems.push(format!(
                    "reason `{}`, expected `{}`",
                    decision.reason, case.expect.reason
                ));
            }
            if let Some(expected) = &case.expect.context {
                let actual = context_json(&decision);
                for (k, v) in expected {
                    if actual.get(k) != Some(v) {
                        problems.push(format!("context.{k} = {:?}, expected {v}", actual.get(k)));
                    }
                }
            }
            if let Some(expected) = &case.expect.forward_path {
                if decision.forward_path() != Some(expected.as_str()) {
                    problems.push(format!(
                        "forward path {:?}, expected {expected:?}",
                        decision.forward_path()
                    ));
                }
            }
            if let Some(fetches) = case.expect.jwks_fetches {
                if world.fetches != fetches {
                    problems.push(format!(
                        "{} JWKS fetches, expected {fetches}",
                        world.fetches
                    ));
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{file} / {}: {} ({})",
                    case.name,
                    problems.join("; "),
                    decision.explain()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} conformance cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (dir.len(), count)
}

#[test]
fn conformance_suite_with_built_in_crypto() {
    let (scenarios, cases) = run_suite(false);
    assert!(cases >= 80, "the suite shrank to {cases} cases");
    println!("conformance (built-in crypto): {cases} cases in {scenarios} scenarios passed");
}

#[test]
fn conformance_suite_with_host_crypto() {
    let (scenarios, cases) = run_suite(true);
    println!("conformance (host crypto via Need::CheckSignature): {cases} cases in {scenarios} scenarios passed");
}
