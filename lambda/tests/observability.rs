//! Issue 17's observability and extension points for the Lambda: CloudWatch EMF metric lines
//! written by the real `bootstrap` binary (driven through the Runtime API emulator) for every
//! kind of answer, never carrying the token; and `Handler::with_claim_check`, run by the real
//! handler on API Gateway events after the core's rules (it refuses allows, never widens a
//! denial).

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use edge_authz_lambda::{Handler, Rejection, Settings};
use serde_json::{json, Value};

/// The bundled environment, with API Gateway's cache off (every invocation decides).
fn bundled_vars(extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut vars = common::bundled_vars(&[("AUTHORIZER_CACHE_TTL", "0")]);
    vars.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    vars
}

/// The EMF lines (those with `_aws`) of the binary's output, once there are `at_least`.
fn emf_lines(bootstrap: &Bootstrap, at_least: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<Value> = bootstrap
            .logs()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l.get("_aws").is_some())
            .collect();
        if found.len() >= at_least || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The line is EMF as CloudWatch reads it: every dimension and metric it declares is a
/// root member of the right type.
fn assert_emf(line: &Value, namespace: &str) {
    let aws = &line["_aws"];
    let ts = aws["Timestamp"].as_u64().expect("Timestamp in ms");
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        ts <= wall && wall - ts < 60_000,
        "Timestamp {ts} is now, in ms"
    );
    let directives = aws["CloudWatchMetrics"].as_array().unwrap();
    assert_eq!(directives.len(), 1);
    let d = &directives[0];
    assert_eq!(d["Namespace"], namespace);
    assert_eq!(d["Dimensions"], json!([["Outcome"], ["Outcome", "Reason"]]));
    assert_eq!(
        d["Metrics"],
        json!([{"Name": "Decisions", "Unit": "Count"}, {"Name": "Latency", "Unit": "Milliseconds"}])
    );
    assert!(line["Outcome"].is_string() && line["Reason"].is_string());
    assert_eq!(line["Decisions"], 1);
    let latency = line["Latency"].as_f64().unwrap();
    assert!((0.0..10_000.0).contains(&latency), "latency {latency}");
}

#[test]
fn one_emf_line_per_decision_from_the_binary_never_the_token() {
    let emulator = Emulator::start();
    let bootstrap = Bootstrap::spawn(&emulator, &bundled_vars(&[]));
    assert!(
        emulator.wait_ready(Duration::from_secs(10)),
        "no init: {}",
        bootstrap.logs()
    );
    let now = now();
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now);
    let ip = "192.0.2.10";
    emulator.invoke(request_event(Some(&token), "GET", "/petstore/v1/pets", ip));
    emulator.invoke(request_event(Some(&token), "GET", "/petstore/v2/pets", ip));
    emulator.invoke(token_event(None, "GET", "/petstore/v1/pets"));
    emulator.invoke(request_event(
        Some(&token),
        "GET",
        "/petstore/v1/%2e%2e/v2/pets",
        ip,
    ));
    emulator.invoke(json!({"type": "WEBSOCKET"}));
    let lines = emf_lines(&bootstrap, 5);
    assert_eq!(
        lines.len(),
        5,
        "one line per invocation: {}",
        bootstrap.logs()
    );
    for line in &lines {
        assert_emf(line, "EdgeAuthz");
    }
    let seen: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["Outcome"].as_str().unwrap(),
                l["Reason"].as_str().unwrap(),
                l["Kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("allow", "allowed", "request"),
            ("forbidden", "implicit_deny", "request"),
            ("unauthorized", "no_credentials", "token"),
            ("bad_request", "path_dot_segment", "request"),
            ("bad_request", "invalid_event", "unknown"),
        ]
    );
    let text = serde_json::to_string(&lines).unwrap();
    for part in token.split('.') {
        assert!(!text.contains(part), "a part of the token in a metric line");
    }
    assert!(!text.contains("a1b2c3d4"), "no principal in metric lines");
}

#[test]
fn no_token_in_the_logs_at_trace_level() {
    // `LOG_LEVEL=trace` (documented) must not turn on lambda_runtime's own `trace` line,
    // which holds each raw event: the `Authorization` header with it.
    let emulator = Emulator::start();
    let bootstrap = Bootstrap::spawn(&emulator, &bundled_vars(&[("LOG_LEVEL", "trace")]));
    assert!(
        emulator.wait_ready(Duration::from_secs(10)),
        "no init: {}",
        bootstrap.logs()
    );
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now());
    let ip = "192.0.2.10";
    emulator.invoke(request_event(Some(&token), "GET", "/petstore/v1/pets", ip));
    emulator.invoke(token_event(Some(&token), "GET", "/petstore/v2/pets"));
    bootstrap.log_events("decision", 2);
    let logs = bootstrap.logs();
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature), "the token in a log line: {logs}");
}

#[test]
fn metrics_namespace_and_off() {
    let emulator = Emulator::start();
    let bootstrap = Bootstrap::spawn(
        &emulator,
        &bundled_vars(&[("METRICS_NAMESPACE", "EdgeAuthz/prod")]),
    );
    assert!(emulator.wait_ready(Duration::from_secs(10)));
    emulator.invoke(token_event(None, "GET", "/petstore/v1/pets"));
    let lines = emf_lines(&bootstrap, 1);
    assert_eq!(lines.len(), 1);
    assert_emf(&lines[0], "EdgeAuthz/prod");
    drop(bootstrap);
    drop(emulator);

    let emulator = Emulator::start();
    let bootstrap = Bootstrap::spawn(&emulator, &bundled_vars(&[("METRICS", "off")]));
    assert!(emulator.wait_ready(Duration::from_secs(10)));
    emulator.invoke(token_event(None, "GET", "/petstore/v1/pets"));
    // The decision's log line is there (written after the metric line would be); no metric
    // line before it.
    assert_eq!(bootstrap.log_events("decision", 1).len(), 1);
    assert!(emf_lines(&bootstrap, 0).is_empty(), "{}", bootstrap.logs());
}

#[test]
fn invalid_metrics_settings_fail_the_init_by_name() {
    for (vars, says) in [
        (vec![("METRICS", "prometheus")], "METRICS: \"prometheus\""),
        (
            vec![("METRICS_NAMESPACE", "AWS/Lambda")],
            "METRICS_NAMESPACE",
        ),
    ] {
        let map: BTreeMap<String, String> = bundled_vars(&vars)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let error = Settings::from_vars(&map).unwrap_err().to_string();
        assert!(error.contains(says), "{error}");
    }
}

/// The handler as the runtime builds it, from the same variables, on a current-thread runtime.
fn handler(now: u64) -> (Handler, tokio::runtime::Runtime) {
    let map: BTreeMap<String, String> = bundled_vars(&[("METRICS", "off")])
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let handler = {
        let _guard = rt.enter();
        Handler::new(Settings::from_vars(&map).unwrap(), None, now).unwrap()
    };
    (handler, rt)
}

fn token_with(claims: Value, now: u64) -> String {
    let mut all = json!({
        "sub": "a1b2c3d4-0000-4000-8000-000000000001",
        "iss": ISS,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "iat": now - 60,
        "exp": now + 3600,
        "username": "cognitouser",
        "cognito:groups": ["pet-veterinarian"],
    });
    for (k, v) in claims.as_object().unwrap() {
        all[k] = v.clone();
    }
    common::support::sign_token(
        &common::support::suite_keys(),
        "suite-rsa-1",
        None,
        &all,
        false,
    )
}

#[test]
fn claim_check_refuses_allows_and_never_widens() {
    let now = now();
    let (handler, rt) = handler(now);
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let handler = handler.with_claim_check(move |decision| {
        seen.fetch_add(1, Ordering::SeqCst);
        // The full verified claims, beyond the context's.
        decision
            .claims()
            .and_then(|claims| claims.get("custom:tenant"))
            .is_some_and(|tenant| tenant == "acme")
    });
    let acme = token_with(json!({"custom:tenant": "acme"}), now);
    let other = token_with(json!({"custom:tenant": "globex"}), now);
    let ip = "192.0.2.10";

    let allowed = rt.block_on(handler.handle(
        request_event(Some(&acme), "GET", "/petstore/v1/pets", ip),
        now,
    ));
    assert_eq!(allowed.reason(), "allowed");
    let answer = allowed.result.unwrap();
    assert!(policy_allows(
        &answer,
        &format!("{ARN_PREFIX}/GET/petstore/v1/pets")
    ));

    // The core allows; the check refuses: a Deny of the request's ARN, reason claim_check_failed.
    let refused = rt.block_on(handler.handle(
        request_event(Some(&other), "GET", "/petstore/v1/pets", ip),
        now,
    ));
    assert_eq!(refused.reason(), "claim_check_failed");
    let decision = refused.decision.as_ref().unwrap();
    assert_eq!(decision.outcome.as_str(), "forbidden");
    let answer = refused.result.unwrap();
    assert_eq!(
        answer["principalId"],
        "a1b2c3d4-0000-4000-8000-000000000001"
    );
    assert_eq!(
        answer["policyDocument"]["Statement"],
        json!([{"Effect": "Deny", "Action": "execute-api:Invoke",
            "Resource": format!("{ARN_PREFIX}/GET/petstore/v1/pets")}])
    );
    assert!(answer.get("context").is_none(), "no context on a refusal");

    // HTTP API 2.0, simple response: isAuthorized false.
    let v2 = rt.block_on(handler.handle(
        http_v2_event(Some(&other), "GET", "/petstore/v1/pets", ip),
        now,
    ));
    assert_eq!(v2.reason(), "claim_check_failed");
    assert_eq!(v2.result.unwrap()["isAuthorized"], false);
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // Never asked on a denial, so it cannot widen one: the policies' deny, no credentials.
    let denied = rt.block_on(handler.handle(
        request_event(Some(&acme), "GET", "/petstore/v2/pets", ip),
        now,
    ));
    assert_eq!(denied.reason(), "implicit_deny");
    let unauthorized =
        rt.block_on(handler.handle(request_event(None, "GET", "/petstore/v1/pets", ip), now));
    assert_eq!(unauthorized.result.unwrap_err(), Rejection::Unauthorized);
    assert_eq!(calls.load(Ordering::SeqCst), 3, "not called on denials");
}

#[test]
fn a_panicking_claim_check_refuses() {
    let now = now();
    let (handler, rt) = handler(now);
    let handler = handler.with_claim_check(|_| panic!("the hook's own bug"));
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now);
    let handled = rt.block_on(handler.handle(
        request_event(Some(&token), "GET", "/petstore/v1/pets", "192.0.2.10"),
        now,
    ));
    assert_eq!(handled.reason(), "claim_check_failed");
    assert_eq!(
        handled.result.unwrap()["policyDocument"]["Statement"][0]["Effect"],
        "Deny"
    );
}
