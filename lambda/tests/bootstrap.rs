//! The real `bootstrap` binary driven through a Lambda Runtime API emulator on loopback,
//! fed API Gateway events of every type, with faults: JWKS 500/slow/garbage, DynamoDB
//! down/throttled/`UnprocessedKeys`. Nothing ever ends in an allow it should not.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const SEED_INVALID_TOKEN: &str = "aGVhZGVy.Y2xhaW1z.c2lnbmF0dXJl";

fn v1(p: &str) -> String {
    format!("{ARN_PREFIX}/GET{p}")
}

fn expect_response(inv: Invocation) -> Value {
    match inv {
        Invocation::Response(v) => v,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn expect_unauthorized(inv: Invocation) {
    assert_eq!(
        inv,
        Invocation::Error {
            error_type: "Unauthorized".into(),
            error_message: "Unauthorized".into()
        },
        "API Gateway answers 401 only for the error message `Unauthorized`"
    );
}

fn log_lines(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn every_event_type_through_the_binary_with_a_bundled_cold_start() {
    let emulator = Emulator::start();
    let started = Instant::now();
    // One function for every event type: REST and HTTP API events cannot share a cache key
    // (an HTTP API simple response is cached for every route unless the method and path are
    // in it), so API Gateway's cache is off here; api_gateway_cache.rs tests it.
    let bootstrap = Bootstrap::spawn(&emulator, &bundled_vars(&[("AUTHORIZER_CACHE_TTL", "0")]));
    assert!(
        emulator.wait_ready(Duration::from_secs(10)),
        "no init: {}",
        bootstrap.logs()
    );
    let now = now();
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now);

    // REST TOKEN
    let allow =
        expect_response(emulator.invoke(token_event(Some(&token), "GET", "/petstore/v1/pets")));
    println!("init + first decision: {:?}", started.elapsed());
    assert_eq!(allow["principalId"], "a1b2c3d4-0000-4000-8000-000000000001");
    assert!(policy_allows(&allow, &v1("/petstore/v1/pets")));
    assert!(
        policy_allows(&allow, &format!("{ARN_PREFIX}/POST/petstore/v1/pets/7")),
        "the merged policy covers every route"
    );
    assert!(policy_allows(&allow, &v1("/petstore/v2/status")));
    assert!(
        !policy_allows(&allow, &v1("/petstore/v2/pets")),
        "safe under API Gateway's cache"
    );
    assert_eq!(allow["context"]["groups"], "pet-veterinarian");
    assert_eq!(allow["context"]["username"], "cognitouser");
    for (_, v) in allow["context"].as_object().unwrap() {
        assert!(
            v.is_string() || v.is_number() || v.is_boolean(),
            "context values must be scalars: {v}"
        );
    }
    let deny =
        expect_response(emulator.invoke(token_event(Some(&token), "GET", "/petstore/v2/pets")));
    assert!(!policy_allows(&deny, &v1("/petstore/v2/pets")));
    assert_eq!(deny["policyDocument"]["Statement"][0]["Effect"], "Deny");
    expect_unauthorized(emulator.invoke(token_event(None, "GET", "/petstore/v1/pets")));
    let invalid = expect_response(emulator.invoke(token_event(
        Some(SEED_INVALID_TOKEN),
        "GET",
        "/petstore/v1/pets",
    )));
    assert!(!policy_allows(&invalid, &v1("/petstore/v1/pets")));
    let mut no_bearer = token_event(None, "GET", "/petstore/v1/pets");
    no_bearer["authorizationToken"] = json!(format!("Basic {token}"));
    expect_unauthorized(emulator.invoke(no_bearer));

    // REST REQUEST
    let allow = expect_response(emulator.invoke(request_event(
        Some(&token),
        "GET",
        "/petstore/v1/pets",
        "192.0.2.10",
    )));
    assert!(policy_allows(&allow, &v1("/petstore/v1/pets")));
    let deny = expect_response(emulator.invoke(request_event(
        Some(&token),
        "GET",
        "/petstore/v2/pets",
        "192.0.2.10",
    )));
    assert!(!policy_allows(&deny, &v1("/petstore/v2/pets")));
    expect_unauthorized(emulator.invoke(request_event(
        None,
        "GET",
        "/petstore/v1/pets",
        "192.0.2.10",
    )));

    // HTTP API payload 1.0 (IAM policy response)
    let allow = expect_response(emulator.invoke(http_v1_event(
        Some(&token),
        "GET",
        "/petstore/v1/pets",
        "192.0.2.10",
    )));
    assert!(policy_allows(&allow, &v1("/petstore/v1/pets")));
    expect_unauthorized(emulator.invoke(http_v1_event(
        None,
        "GET",
        "/petstore/v1/pets",
        "192.0.2.10",
    )));

    // HTTP API payload 2.0, simple response
    let allow = expect_response(emulator.invoke(http_v2_event(
        Some(&token),
        "GET",
        "/petstore/v1/pets",
        "192.0.2.10",
    )));
    assert_eq!(allow["isAuthorized"], true);
    assert_eq!(
        allow["context"]["sub"],
        "a1b2c3d4-0000-4000-8000-000000000001"
    );
    let deny = expect_response(emulator.invoke(http_v2_event(
        Some(&token),
        "GET",
        "/petstore/v2/pets",
        "192.0.2.10",
    )));
    assert_eq!(deny, json!({"isAuthorized": false, "context": {}}));
    expect_unauthorized(emulator.invoke(http_v2_event(
        None,
        "GET",
        "/petstore/v1/pets",
        "192.0.2.10",
    )));

    // Not an authorizer event: an error (API Gateway 500), never an allow.
    match emulator.invoke(json!({"hello": "world"})) {
        Invocation::Error { error_type, .. } => assert_eq!(error_type, "InvalidEvent"),
        other => panic!("expected an error, got {other:?}"),
    }

    bootstrap.log_events("decision", 14); // all of them read from the pipe
    let logs = bootstrap.logs();
    assert!(!logs.contains(&token), "the token must never be logged");
    assert!(
        !logs.contains(SEED_INVALID_TOKEN),
        "not even an invalid one"
    );
    let lines = log_lines(&logs);
    let decisions: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["event"] == "decision")
        .collect();
    assert_eq!(
        decisions.len(),
        14,
        "one JSON log line per invocation:\n{logs}"
    );
    let reasons: Vec<&str> = decisions
        .iter()
        .map(|l| l["fields"]["reason"].as_str().unwrap_or(""))
        .collect();
    for expected in [
        "allowed",
        "implicit_deny",
        "no_credentials",
        "malformed",
        "malformed_authorization",
        "invalid_event",
    ] {
        assert!(
            reasons.contains(&expected),
            "reason {expected} not logged: {reasons:?}"
        );
    }
    assert!(
        lines.iter().all(|l| l["fields"]["event"] != "jwks_fetched"
            && l["fields"]["event"] != "jwks_fetch_failed"),
        "the bundled JWKS made the JWKS endpoint unnecessary:\n{logs}"
    );
}

#[test]
fn http_api_iam_responses_when_configured() {
    let emulator = Emulator::start();
    let _bootstrap = Bootstrap::spawn(
        &emulator,
        &bundled_vars(&[("HTTP_RESPONSE", "iam"), ("EVENT_TYPE", "http-v2")]),
    );
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now());
    let allow = expect_response(emulator.invoke(http_v2_event(
        Some(&token),
        "GET",
        "/petstore/v1/pets",
        "192.0.2.10",
    )));
    assert!(policy_allows(&allow, &v1("/petstore/v1/pets")));
    assert_eq!(allow["context"]["clientId"], CLIENT);
    let deny = expect_response(emulator.invoke(http_v2_event(
        Some(&token),
        "DELETE",
        "/petstore/v2/pets",
        "192.0.2.10",
    )));
    assert!(!policy_allows(
        &deny,
        &format!("{ARN_PREFIX}/DELETE/petstore/v2/pets")
    ));
}

#[test]
fn an_invalid_configuration_fails_init_with_every_problem() {
    let emulator = Emulator::start();
    let mut bootstrap = Bootstrap::spawn(
        &emulator,
        &[
            ("CLIENT_IDS", "x".into()),
            ("EVENT_TYPE", "websocket".into()),
            ("GRACE_SECONDS", "soon".into()),
        ],
    );
    let code = bootstrap
        .wait_exit(Duration::from_secs(10))
        .expect("init fails and the process exits");
    assert_ne!(code, 0);
    let logs = bootstrap.logs();
    for needle in [
        "USER_POOL_ID",
        "CLIENT_IDS: only used with USER_POOL_ID",
        "EVENT_TYPE",
        "GRACE_SECONDS",
        "POLICY_TABLE",
    ] {
        assert!(
            logs.contains(needle),
            "{needle} missing from the init error:\n{logs}"
        );
    }
}

#[test]
fn jwks_faults_end_in_deny_and_rotation_is_followed() {
    let jwks = JwksServer::start(&["suite-rsa-1"]);
    jwks.fault(JwksFault::Status500);
    let policies = temp_file(
        "policies.json",
        json!({ "pet-veterinarian": vet_policy() })
            .to_string()
            .as_bytes(),
    );
    let emulator = Emulator::start();
    let bootstrap = Bootstrap::spawn(
        &emulator,
        &[
            ("USER_POOL_ID", POOL.into()),
            ("CLIENT_IDS", CLIENT.into()),
            ("JWKS_URI", jwks.url()),
            ("POLICIES_FILE", policies.display().to_string()),
            ("JWKS_TIMEOUT_MS", "300".into()),
            // A one-second refetch penalty, so that faults and rotation show up quickly.
            (
                "CONFIG",
                json!({"jwksCache": {"penaltySeconds": 1}}).to_string(),
            ),
        ],
    );
    let now = now();
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now);
    let event = || request_event(Some(&token), "GET", "/petstore/v1/pets", "192.0.2.10");
    let denied = |inv: Invocation| {
        let r = expect_response(inv);
        assert!(
            !policy_allows(&r, &v1("/petstore/v1/pets")),
            "a JWKS fault must not allow: {r}"
        );
    };

    let pause = || std::thread::sleep(Duration::from_millis(1100)); // past the penalty
    denied(emulator.invoke(event())); // 500
    jwks.fault(JwksFault::Garbage);
    pause();
    denied(emulator.invoke(event()));
    jwks.fault(JwksFault::Slow(Duration::from_secs(3)));
    pause();
    let t = Instant::now();
    denied(emulator.invoke(event()));
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "the slow JWKS fetch is cut at its timeout: {:?}",
        t.elapsed()
    );
    assert!(
        jwks.fetches() >= 3,
        "{} fetches\n{}",
        jwks.fetches(),
        bootstrap.logs()
    );

    jwks.fault(JwksFault::None);
    pause();
    let allow = expect_response(emulator.invoke(event()));
    assert!(
        policy_allows(&allow, &v1("/petstore/v1/pets")),
        "recovered: {allow}"
    );

    // Rotation: a token signed with a new key is accepted once the endpoint publishes it.
    let rotated = access_token("suite-rsa-2", &["pet-veterinarian"], now);
    let rotated_event = request_event(Some(&rotated), "GET", "/petstore/v1/pets", "192.0.2.10");
    denied(emulator.invoke(rotated_event.clone()));
    jwks.set(&["suite-rsa-1", "suite-rsa-2"]);
    pause();
    let before = jwks.fetches();
    let allow = expect_response(emulator.invoke(rotated_event));
    assert!(
        policy_allows(&allow, &v1("/petstore/v1/pets")),
        "rotated key: {allow}"
    );
    assert_eq!(
        jwks.fetches(),
        before + 1,
        "one refetch for the unknown kid"
    );

    for event in ["jwks_fetch_failed", "jwks_invalid", "jwks_fetched"] {
        let logs = bootstrap.logs_once_containing(event);
        assert!(logs.contains(event), "{event} not logged:\n{logs}");
    }
    let logs = bootstrap.logs();
    assert!(
        !logs.contains(&token) && !logs.contains(&rotated),
        "tokens must never be logged"
    );
}

/// A DynamoDB-JSON attribute value.
fn ddb(value: &Value) -> Value {
    match value {
        Value::String(s) => json!({"S": s}),
        Value::Number(n) => json!({"N": n.to_string()}),
        Value::Bool(b) => json!({"BOOL": b}),
        Value::Null => json!({"NULL": true}),
        Value::Array(items) => json!({"L": items.iter().map(ddb).collect::<Vec<_>>()}),
        Value::Object(map) => {
            json!({"M": map.iter().map(|(k, v)| (k.clone(), ddb(v))).collect::<serde_json::Map<_, _>>()})
        }
    }
}

fn spawn_with_table(emulator: &Emulator, endpoint: &str, attempts: &str) -> Bootstrap {
    let jwks = temp_file("jwks.json", &jwks_of(&["suite-rsa-1"]));
    Bootstrap::spawn(
        emulator,
        &[
            ("USER_POOL_ID", POOL.into()),
            ("CLIENT_IDS", CLIENT.into()),
            ("JWKS_URI", "http://127.0.0.1:9/jwks.json".into()),
            ("JWKS_FILE", jwks.display().to_string()),
            ("POLICY_TABLE", "auth-policy-store".into()),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.into()),
            ("DYNAMODB_TIMEOUT_MS", "1000".into()),
            ("DYNAMODB_ATTEMPTS", attempts.into()),
        ],
    )
}

#[test]
fn dynamodb_throttling_and_unprocessed_keys() {
    // A DynamoDB stand-in: throttles, or leaves keys unprocessed `unprocessed_rounds` times.
    let calls = Arc::new(AtomicUsize::new(0));
    let mode = Arc::new(std::sync::Mutex::new(("throttle", 0usize)));
    let (c, m) = (calls.clone(), mode.clone());
    let fake = HttpServer::start(move |req| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        assert_eq!(
            req.header("x-amz-target"),
            Some("DynamoDB_20120810.BatchGetItem")
        );
        let (what, rounds) = *m.lock().unwrap();
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let keys = body["RequestItems"]["auth-policy-store"]["Keys"].clone();
        let mut response = match what {
            "throttle" => HttpResponse::json(
                400,
                &json!({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException", "message": "Rate exceeded"}),
            ),
            _ if n < rounds => HttpResponse::json(
                200,
                &json!({"Responses": {"auth-policy-store": []}, "UnprocessedKeys": {"auth-policy-store": {"Keys": keys}}}),
            ),
            _ => HttpResponse::json(
                200,
                &json!({"Responses": {"auth-policy-store": [{"group": {"S": "pet-veterinarian"}, "policy": ddb(&vet_policy())}]},
                        "UnprocessedKeys": {}}),
            ),
        };
        response.headers = vec![("content-type".into(), "application/x-amz-json-1.0".into())];
        response
    });
    let endpoint = fake.url("");
    let token = access_token("suite-rsa-1", &["pet-veterinarian"], now());
    let event = request_event(Some(&token), "GET", "/petstore/v1/pets", "192.0.2.10");

    // Throttled on every call: denied, within the time budget.
    let emulator = Emulator::start();
    let bootstrap = spawn_with_table(&emulator, &endpoint, "4");
    let t = Instant::now();
    let r = expect_response(emulator.invoke(event.clone()));
    assert!(
        !policy_allows(&r, &v1("/petstore/v1/pets")),
        "throttled: {r}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        t.elapsed()
    );
    assert!(calls.load(Ordering::SeqCst) >= 1);
    let logs = bootstrap.logs_once_containing("policies_unavailable");
    assert!(logs.contains("policies_unavailable"), "{logs}");
    drop(bootstrap);

    // Keys left unprocessed twice, then served: allowed after three calls.
    *mode.lock().unwrap() = ("unprocessed", 2);
    calls.store(0, Ordering::SeqCst);
    let emulator = Emulator::start();
    let _bootstrap = spawn_with_table(&emulator, &endpoint, "4");
    let r = expect_response(emulator.invoke(event.clone()));
    assert!(
        policy_allows(&r, &v1("/petstore/v1/pets")),
        "served on the third round: {r}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);

    // Keys never processed: denied after DYNAMODB_ATTEMPTS calls.
    *mode.lock().unwrap() = ("unprocessed", usize::MAX);
    calls.store(0, Ordering::SeqCst);
    let emulator = Emulator::start();
    let _bootstrap = spawn_with_table(&emulator, &endpoint, "3");
    let r = expect_response(emulator.invoke(event));
    assert!(
        !policy_allows(&r, &v1("/petstore/v1/pets")),
        "never processed: {r}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
#[ignore = "needs moto_server: run by `make lambda-test`"]
fn dynamodb_policies_from_moto_and_dynamodb_down() {
    let mut moto = Moto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = dynamodb_client(&moto.endpoint);
    let mut items = serde_json::Map::new();
    items.insert("pet-veterinarian".into(), vet_policy()); // a map, as the seed stores it
    items.insert(
        "readers".into(), // a JSON string
        json!(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:*:*:*/*/GET/*"}]})
        .to_string()),
    );
    items.insert(
        "broken".into(),
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
    );
    rt.block_on(seed_table(&client, "auth-policy-store", &items));

    let emulator = Emulator::start();
    let bootstrap = spawn_with_table(&emulator, &moto.endpoint, "4");
    let now = now();
    let vet = access_token("suite-rsa-1", &["pet-veterinarian"], now);
    let r = expect_response(emulator.invoke(token_event(Some(&vet), "GET", "/petstore/v1/pets")));
    assert!(policy_allows(&r, &v1("/petstore/v1/pets")), "{r}");
    let reader = access_token("suite-rsa-1", &["readers", "nobody-stores-this"], now);
    let r =
        expect_response(emulator.invoke(token_event(Some(&reader), "GET", "/petstore/v2/pets")));
    assert!(policy_allows(&r, &v1("/petstore/v2/pets")), "{r}");
    assert!(!policy_allows(
        &r,
        &format!("{ARN_PREFIX}/POST/petstore/v2/pets")
    ));
    // An invalid stored policy denies its group's callers, even with another group allowing.
    let both = access_token("suite-rsa-1", &["pet-veterinarian", "broken"], now);
    let r = expect_response(emulator.invoke(token_event(Some(&both), "GET", "/petstore/v1/pets")));
    assert!(!policy_allows(&r, &v1("/petstore/v1/pets")), "{r}");
    assert!(bootstrap
        .logs_once_containing("policy_invalid")
        .contains("policy_invalid"));

    // DynamoDB down: groups not cached yet are denied, in bounded time; cached ones still work.
    moto.stop();
    let other = access_token("suite-rsa-1", &["pet-veterinarian", "new-group"], now);
    let t = Instant::now();
    let r = expect_response(emulator.invoke(token_event(Some(&other), "GET", "/petstore/v1/pets")));
    assert!(!policy_allows(&r, &v1("/petstore/v1/pets")), "{r}");
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "bounded: {:?}",
        t.elapsed()
    );
    let r = expect_response(emulator.invoke(token_event(Some(&vet), "GET", "/petstore/v1/pets")));
    assert!(
        policy_allows(&r, &v1("/petstore/v1/pets")),
        "cached policy keeps serving: {r}"
    );
    let logs = bootstrap.logs_once_containing("policies_unavailable");
    assert!(logs.contains("policies_unavailable"), "{logs}");
    for t in [&vet, &reader, &both, &other] {
        assert!(!logs.contains(t.as_str()));
    }
}
