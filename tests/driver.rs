//! The core's driver (`drive`, `Run`) over a host that misbehaves on demand: the rules every
//! adapter gets from it — bounded runs, failures that never allow, events for the logs —
//! and the one rendering of what adapters send.

mod support;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::IpAddr;

use edge_authz::token::crypto::RustCryptoVerifier;
use edge_authz::{
    drive_blocking, ApiGatewayAnswer, ApiGatewayFormat, Authorizer, Config, Event, Host, Outcome,
    PolicyInput, Reason, Request, RevocationsLoaded, RunError, SignatureCheck, SignatureVerdict,
    SignatureVerifier, StoredPolicy, MAX_STEPS,
};
use serde_json::{json, Value};
use support::{cases_dir, jwks_document, load_scenario, suite_keys, token_of, Scenario};

/// How the host answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Honest,
    JwksDown,
    StoreDown,
    /// Answers a policy load without the groups asked for: the core keeps asking.
    StoreForgets,
    /// A JWKS fetch that never completes (a blocking host that is not one).
    Pending,
}

struct TestHost {
    authorizer: RefCell<Authorizer>,
    scenario: Scenario,
    mode: Mode,
    now: u64,
    fetches: Cell<usize>,
    loads: Cell<usize>,
    events: RefCell<Vec<String>>,
}

impl TestHost {
    fn new(mode: Mode) -> Self {
        let scenario = load_scenario(&cases_dir().join("external-policies.json"));
        let config = Config::from_value(&scenario.config).expect("config").config;
        let now = allowed_case(&scenario).now;
        Self {
            authorizer: RefCell::new(Authorizer::new(config)),
            scenario,
            mode,
            now,
            fetches: Cell::new(0),
            loads: Cell::new(0),
            events: RefCell::new(Vec::new()),
        }
    }
}

fn allowed_case(scenario: &Scenario) -> &support::Case {
    scenario
        .cases
        .iter()
        .find(|c| c.expect.reason == "allowed" && c.request.source_ip.is_some())
        .expect("an allowed case")
}

impl Host for TestHost {
    type Error = &'static str;

    fn with_authorizer<R>(&self, f: impl FnOnce(&mut Authorizer) -> R) -> R {
        f(&mut self.authorizer.borrow_mut())
    }

    fn now(&self) -> u64 {
        self.now
    }

    fn fetch_jwks(
        &self,
        _issuer: usize,
        _url: &str,
    ) -> impl Future<Output = Result<Vec<u8>, &'static str>> {
        self.fetches.set(self.fetches.get() + 1);
        let answer = match self.mode {
            Mode::JwksDown => Some(Err("connection refused")),
            Mode::Pending => None,
            _ => Some(Ok(jwks_document(&suite_keys(), &self.scenario.jwks))),
        };
        async move {
            match answer {
                Some(answer) => answer,
                None => std::future::pending().await,
            }
        }
    }

    async fn await_jwks(&self, _issuer: usize) {}

    async fn load_policies(
        &self,
        groups: &[String],
    ) -> Result<Vec<(String, StoredPolicy)>, &'static str> {
        self.loads.set(self.loads.get() + 1);
        match self.mode {
            Mode::StoreDown => Err("throttled"),
            Mode::StoreForgets => Ok(Vec::new()),
            _ => Ok(groups
                .iter()
                .map(|g| {
                    let stored = PolicyInput::stored(self.scenario.store.get(g));
                    (g.clone(), stored.into())
                })
                .collect()),
        }
    }

    async fn load_revocations(
        &self,
        keys: &[String],
        _groups: &[String],
    ) -> Result<RevocationsLoaded, &'static str> {
        Ok(RevocationsLoaded::records(
            keys.iter()
                .map(|key| (key.clone(), StoredPolicy::Absent))
                .collect(),
        ))
    }

    async fn check_signature(&self, check: &SignatureCheck) -> SignatureVerdict {
        RustCryptoVerifier.verify(
            check.algorithm,
            &check.key,
            check.signing_input.as_bytes(),
            &check.signature,
        )
    }

    fn observe(&self, event: Event<'_>) {
        let name = match event {
            Event::JwksFetched { jwks, .. } => format!("jwks_fetched {}", jwks.len()),
            Event::JwksInvalid { .. } => "jwks_invalid".into(),
            Event::JwksFetchFailed { error, .. } => format!("jwks_fetch_failed {error}"),
            Event::PolicyLoaded { group, .. } => format!("policy_loaded {group}"),
            Event::PolicyInvalid { group, .. } => format!("policy_invalid {group}"),
            Event::PoliciesUnavailable { error, .. } => format!("policies_unavailable {error}"),
            Event::RunFailed { error } => format!("run_failed {}", error.code()),
            _ => "other".into(),
        };
        self.events.borrow_mut().push(name);
    }
}

/// Runs the scenario's allowed case through `host`.
fn run(host: &TestHost) -> Result<edge_authz::Decision, RunError> {
    let case = allowed_case(&host.scenario);
    let token = token_of(case.token.as_ref().expect("token"), &suite_keys());
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str())];
    let request = Request {
        headers: &headers,
        source_ip: case
            .request
            .source_ip
            .as_ref()
            .map(|ip| ip.parse::<IpAddr>().expect("ip")),
        secure_transport: Some(true),
        ..Request::new(&case.request.method, &case.request.path)
    };
    drive_blocking(host, &request)
}

#[test]
fn an_honest_host_gets_the_decision_in_one_fetch_and_one_load() {
    let host = TestHost::new(Mode::Honest);
    let decision = run(&host).expect("settles");
    assert_eq!(decision.reason, Reason::Allowed);
    assert_eq!((host.fetches.get(), host.loads.get()), (1, 1));
    let events = host.events.borrow();
    assert!(events[0].starts_with("jwks_fetched "), "{events:?}");
    assert!(events[1].starts_with("policy_loaded "), "{events:?}");
    // Cached now: no I/O at all the second time.
    let again = run(&host).expect("settles");
    assert_eq!(again.reason, Reason::Allowed);
    assert_eq!((host.fetches.get(), host.loads.get()), (1, 1));
}

#[test]
fn a_store_that_never_answers_the_groups_ends_the_run_never_allowing() {
    let host = TestHost::new(Mode::StoreForgets);
    assert_eq!(run(&host).unwrap_err(), RunError::TooManySteps);
    // One step for the fetch, one for the signature decision, the rest asking for policies.
    assert!(
        host.loads.get() < usize::from(MAX_STEPS),
        "{}",
        host.loads.get()
    );
    assert_eq!(
        host.events.borrow().last().map(String::as_str),
        Some("run_failed too_many_steps")
    );
    let authorizer = host.authorizer.borrow();
    let failure = authorizer.render_failure();
    assert_eq!(
        (failure.status, failure.reason),
        (503, Reason::InternalError)
    );
    assert_eq!(failure.outcome, Outcome::Unavailable);
}

#[test]
fn failed_io_is_a_503_decision_and_an_event() {
    let host = TestHost::new(Mode::JwksDown);
    let decision = run(&host).expect("settles");
    assert_eq!(decision.reason, Reason::JwksUnavailable);
    assert_eq!(host.authorizer.borrow().render(&decision).status, 503);
    assert!(host.events.borrow()[0].contains("connection refused"));

    let host = TestHost::new(Mode::StoreDown);
    let decision = run(&host).expect("settles");
    assert_eq!(decision.reason, Reason::PoliciesUnavailable);
    assert_eq!(decision.outcome, Outcome::Unavailable);
    assert!(host
        .events
        .borrow()
        .iter()
        .any(|e| e == "policies_unavailable throttled"));
}

#[test]
fn a_pending_future_on_a_blocking_host_fails_the_run() {
    let host = TestHost::new(Mode::Pending);
    assert_eq!(run(&host).unwrap_err(), RunError::HostPending);
}

#[test]
fn a_run_that_did_not_settle_is_a_deny_for_api_gateway() {
    let host = TestHost::new(Mode::StoreForgets);
    let error = run(&host).unwrap_err();
    let authorizer = host.authorizer.borrow();
    let arn = "arn:aws:execute-api:us-east-1:123456789012:petstore1/prod/GET/petstore/v1/pets";
    let request = Request {
        method_arn: Some(arn),
        ..Request::new("GET", "/petstore/v1/pets")
    };
    let answer =
        authorizer.api_gateway_answer(Err(error), &request, host.now, ApiGatewayFormat::Iam);
    let ApiGatewayAnswer::Response(response) = answer else {
        panic!("a deny document, not Unauthorized");
    };
    assert_eq!(response["principalId"], "unauthorized");
    assert_eq!(
        response["policyDocument"]["Statement"],
        json!([{ "Effect": "Deny", "Action": "execute-api:Invoke", "Resource": arn }])
    );
    let simple =
        authorizer.api_gateway_answer(Err(error), &request, host.now, ApiGatewayFormat::Simple);
    assert_eq!(
        simple,
        ApiGatewayAnswer::Response(json!({ "isAuthorized": false, "context": {} }))
    );
}

#[test]
fn every_adapter_sends_the_same_rendering() {
    let host = TestHost::new(Mode::Honest);
    let allowed = run(&host).expect("settles");
    let authorizer = host.authorizer.borrow();
    let answer = authorizer.render(&allowed);
    assert_eq!((answer.status, answer.body), (200, None));
    assert!(answer.headers.is_empty());
    assert_eq!(
        answer.context_json()["sub"],
        Value::from(allowed.identity().unwrap().subject.clone())
    );
    let request = Request::new("GET", "/petstore/v1/pets");
    let ApiGatewayAnswer::Response(response) =
        authorizer.api_gateway_answer(Ok(&allowed), &request, host.now, ApiGatewayFormat::Iam)
    else {
        panic!("an allow is a response");
    };
    assert_eq!(response["context"], Value::Object(answer.context_json()));
    drop(authorizer);

    // No credentials: 401 with the scheme; Unauthorized for API Gateway.
    let mut authorizer = host.authorizer.borrow_mut();
    let edge_authz::Step::Decided(denied) = authorizer.authorize(&request, host.now) else {
        panic!("decided without I/O");
    };
    let answer = authorizer.render(&denied);
    assert_eq!((answer.status, answer.reason), (401, Reason::NoCredentials));
    assert!(answer.headers.contains(&("www-authenticate", "Bearer")));
    assert!(answer.headers.contains(&("cache-control", "no-store")));
    assert_eq!(answer.body, Some(r#"{"message":"Unauthorized"}"#));
    assert_eq!(
        authorizer.api_gateway_answer(Ok(&denied), &request, host.now, ApiGatewayFormat::Iam),
        ApiGatewayAnswer::Unauthorized
    );
    // A host's own refusal (a claim check) renders from the configured responses too.
    let refused = authorizer.render_as(Reason::ClaimCheckFailed, &allowed);
    assert_eq!((refused.status, refused.outcome), (403, Outcome::Forbidden));
    assert!(!refused.headers.contains(&("www-authenticate", "Bearer")));
}

#[test]
fn every_reason_has_one_outcome_and_a_stable_code() {
    for reason in Reason::ALL {
        assert_eq!(Reason::from_code(reason.code()), Some(*reason));
        assert_eq!(*reason, reason.code());
    }
    assert_eq!(
        Reason::ALL.len(),
        45,
        "a new reason: add it to the conformance cases too"
    );
}
