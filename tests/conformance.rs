//! Runs the conformance suite (`tests/cases/*.json`) through the native core, twice: with
//! the built-in pure-Rust crypto, and with every signature handed to the "host"
//! (`Need::CheckSignature`), the path the Worker and Node take. Both must match the cases.
//! The cases run through the core's own driver (`drive_blocking`) over a test host.

mod support;

use std::cell::{Cell, RefCell};
use std::net::IpAddr;
use std::sync::Arc;

use edge_authz::token::crypto::{DeferToHost, RustCryptoVerifier};
use edge_authz::{
    drive_blocking, Authorizer, Config, Host, PolicyInput, Request, RevocationsLoaded,
    SignatureCheck, SignatureVerdict, SignatureVerifier, StoredPolicy,
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
    revocations: Map<String, Value>,
    revocations_down: bool,
    revocation_reads: usize,
}

/// The test's host: the world's I/O, the case's clock, the built-in crypto as the "host"
/// crypto; run by the core's own driver, as every adapter is.
struct SuiteHost {
    authorizer: RefCell<Authorizer>,
    world: RefCell<World>,
    now: Cell<u64>,
    /// Whether revocation reads return the policies asked for alongside.
    batch: bool,
}

impl Host for SuiteHost {
    type Error = &'static str;

    fn with_authorizer<R>(&self, f: impl FnOnce(&mut Authorizer) -> R) -> R {
        f(&mut self.authorizer.borrow_mut())
    }

    fn now(&self) -> u64 {
        self.now.get()
    }

    async fn fetch_jwks(&self, _issuer: usize, _url: &str) -> Result<Vec<u8>, Self::Error> {
        let mut world = self.world.borrow_mut();
        world.fetches += 1;
        if world.down {
            return Err("the JWKS endpoint is down");
        }
        Ok(jwks_document(&world.keys, &world.served))
    }

    async fn await_jwks(&self, _issuer: usize) {
        panic!("no concurrent fetch in a sequential run")
    }

    async fn load_policies(
        &self,
        groups: &[String],
    ) -> Result<Vec<(String, StoredPolicy)>, Self::Error> {
        // Invalid policies are part of the suite: the authorizer must deny them.
        let world = self.world.borrow();
        Ok(groups
            .iter()
            .map(|group| {
                (
                    group.clone(),
                    PolicyInput::stored(world.store.get(group)).into(),
                )
            })
            .collect())
    }

    async fn load_revocations(
        &self,
        keys: &[String],
        groups: &[String],
    ) -> Result<RevocationsLoaded, Self::Error> {
        let mut world = self.world.borrow_mut();
        world.revocation_reads += 1;
        if world.revocations_down {
            return Err("the revocation store is down");
        }
        // One run reads the policies asked for alongside, as a store that batches does.
        let policies = if self.batch {
            groups
                .iter()
                .map(|g| (g.clone(), PolicyInput::stored(world.store.get(g)).into()))
                .collect()
        } else {
            Vec::new()
        };
        let records = keys
            .iter()
            .map(|key| {
                (
                    key.clone(),
                    PolicyInput::stored(world.revocations.get(key)).into(),
                )
            })
            .collect();
        Ok(RevocationsLoaded { records, policies })
    }

    async fn check_signature(&self, check: &SignatureCheck) -> SignatureVerdict {
        RustCryptoVerifier.verify(
            check.algorithm,
            &check.key,
            check.signing_input.as_bytes(),
            &check.signature,
        )
    }
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
        let host = SuiteHost {
            authorizer: RefCell::new(authorizer),
            world: RefCell::new(World {
                keys: suite_keys(),
                served: scenario.jwks.clone(),
                down: false,
                store: scenario.store.clone(),
                fetches: 0,
                revocations: scenario.revocations.clone(),
                revocations_down: false,
                revocation_reads: 0,
            }),
            now: Cell::new(0),
            batch: defer_to_host,
        };
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for case in &scenario.cases {
            count += 1;
            {
                let mut world = host.world.borrow_mut();
                if let Some(served) = &case.jwks {
                    world.served = served.clone();
                }
                if let Some(down) = case.jwks_down {
                    world.down = down;
                }
                for (key, record) in case.revoke.iter().flatten() {
                    match record {
                        Value::Null => world.revocations.remove(key),
                        record => world.revocations.insert(key.clone(), record.clone()),
                    };
                }
                if let Some(down) = case.revocations_down {
                    world.revocations_down = down;
                }
                world.fetches = 0;
                world.revocation_reads = 0;
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
            host.now.set(case.now);
            let decision = drive_blocking(&host, &request).expect("the run settles");
            let authorizer = host.authorizer.borrow();
            let rendered = authorizer.render(&decision);
            let status = rendered.status;
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
                let actual = rendered.context_json();
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
                let fetched = host.world.borrow().fetches;
                if fetched != fetches {
                    problems.push(format!("{fetched} JWKS fetches, expected {fetches}"));
                }
            }
            if let Some(reads) = case.expect.revocation_reads {
                let read = host.world.borrow().revocation_reads;
                if read != reads {
                    problems.push(format!("{read} revocation store reads, expected {reads}"));
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
