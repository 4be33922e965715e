//! The conformance suite (`tests/cases/*.json`) through the Lambda handler: each case
//! becomes an API Gateway event (REST `REQUEST`, then HTTP API 2.0 with the IAM response),
//! JWKS come over HTTP from a loopback server serving the case's keys, external policies
//! from moto's DynamoDB server seeded through the SDK. The clock is the case's `now`.
//! Revocation records live in a moto table too (`REVOCATION_TABLE`): seeded with the
//! scenario's records (JSON text for REST events, DynamoDB maps for HTTP API ones), a
//! case's `revoke` written with PutItem/DeleteItem, `revocationsDown` by deleting the table
//! (restored with the records it should hold), `revocationReads` counted as the
//! `BatchGetItem` calls the function sent to that table.

mod common;

use std::collections::BTreeMap;

use common::revocations::{self, RecordForm};
use common::support::{load_scenario, scenario_files, suite_keys, token_of, Case};
use common::{JwksFault, JwksServer, Moto};
use edge_authz_lambda::dynamo::PolicyTable;
use edge_authz_lambda::{Handler, Rejection, Settings, Tables};
use serde_json::{json, Map, Value};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    RestRequest,
    HttpV2Iam,
}

fn arn_of(config: &Value, method: &str, path: &str) -> String {
    let api = &config["api"];
    let s = |k: &str, d: &str| api[k].as_str().unwrap_or(d).to_owned();
    let path = path.split('?').next().unwrap_or("").trim_start_matches('/');
    format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}/{}",
        s("region", "local"),
        s("accountId", "000000000000"),
        s("apiId", "edge"),
        s("stage", "$default"),
        method.to_ascii_uppercase(),
        path
    )
}

fn event_for(shape: Shape, case: &Case, token: Option<&str>) -> Value {
    let mut headers = Map::new();
    for (k, v) in &case.request.headers {
        headers.insert(k.clone(), json!(v.replace("{token}", token.unwrap_or(""))));
    }
    if let Some(token) = token {
        if !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
        {
            headers.insert("Authorization".into(), json!(format!("Bearer {token}")));
        }
    }
    let query: Map<String, Value> = case
        .request
        .query
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let r = &case.request;
    match shape {
        Shape::RestRequest => {
            let mut e = json!({
                "type": "REQUEST",
                "resource": "/{proxy+}",
                "path": r.path,
                "httpMethod": r.method,
                "headers": headers,
                "queryStringParameters": query,
                "requestContext": {"httpMethod": r.method, "path": r.path, "identity": {}}
            });
            if let Some(arn) = &r.method_arn {
                e["methodArn"] = json!(arn);
            }
            if let Some(ip) = &r.source_ip {
                e["requestContext"]["identity"]["sourceIp"] = json!(ip);
            }
            e
        }
        Shape::HttpV2Iam => {
            let lower: Map<String, Value> = headers
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect();
            let mut e = json!({
                "version": "2.0",
                "type": "REQUEST",
                "rawPath": r.path,
                "headers": lower,
                "queryStringParameters": query,
                "requestContext": {"http": {"method": r.method, "path": r.path}}
            });
            if let Some(arn) = &r.method_arn {
                e["routeArn"] = json!(arn);
            }
            if let Some(ip) = &r.source_ip {
                e["requestContext"]["http"]["sourceIp"] = json!(ip);
            }
            e
        }
    }
}

async fn run_suite(shape: Shape, moto: &Moto) -> usize {
    let keys = suite_keys();
    let files = scenario_files();
    assert!(
        files.len() >= 8,
        "the suite shrank to {} scenarios",
        files.len()
    );
    let client = common::dynamodb_client(&moto.endpoint);
    let mut failures = Vec::new();
    let mut count = 0;
    for (n, path) in files.iter().enumerate() {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let scenario = load_scenario(path);
        let served: Vec<&str> = scenario.jwks.iter().map(String::as_str).collect();
        let jwks = JwksServer::start(&served);
        let mut config = scenario.config.clone();
        for issuer in config["issuers"].as_array_mut().unwrap() {
            issuer["jwksUri"] = json!(jwks.url());
        }
        // Decisions, one request at a time: API Gateway's cache is not part of the suite (its
        // scenarios test time, address and header conditions, which a cached policy could
        // not hold; tests/api_gateway_cache.rs covers the cache).
        let mut vars = BTreeMap::from([
            ("CONFIG".to_owned(), config.to_string()),
            ("AUTHORIZER_CACHE_TTL".to_owned(), "0".to_owned()),
        ]);
        let external = config["policies"].get("groups").is_none();
        let mut tables = Tables::default();
        let budget = std::time::Duration::from_secs(5);
        if external {
            let name = format!("policies-{shape:?}-{n}").to_ascii_lowercase();
            common::seed_table(&client, &name, &scenario.store).await;
            vars.insert("POLICY_TABLE".into(), name.clone());
            tables.policies = Some(PolicyTable::new(client.clone(), name, 4, budget));
        }
        // Revocation records: the scenario's, in their own table.
        let form = match shape {
            Shape::RestRequest => RecordForm::Text,
            Shape::HttpV2Iam => RecordForm::Map,
        };
        let mut records = scenario.revocations.clone();
        let mut revocation_table = None;
        if config.get("revocation").is_some_and(|r| !r.is_null()) {
            let name = format!("revocations-{shape:?}-{n}").to_ascii_lowercase();
            revocations::seed(&client, &name, &records, form).await;
            vars.insert("REVOCATION_TABLE".into(), name.clone());
            let table = PolicyTable::revocations(client.clone(), name, 4, budget);
            revocation_table = Some(table.clone());
            tables.revocations = Some(table);
        }
        let mut revocations_down = false;
        if shape == Shape::HttpV2Iam {
            vars.insert("HTTP_RESPONSE".into(), "iam".into());
        }
        let settings = Settings::from_vars(&vars).unwrap_or_else(|e| panic!("{file}: {e}"));
        let first_now = scenario.cases.first().map_or(0, |c| c.now);
        let handler = Handler::with_tables(settings, tables, first_now).unwrap();
        for case in &scenario.cases {
            count += 1;
            if case.revoke.is_some() || case.revocations_down.is_some() {
                let table = revocation_table
                    .as_ref()
                    .unwrap_or_else(|| panic!("{file} / {}: no revocation table", case.name));
                for (key, record) in case.revoke.iter().flatten() {
                    if record.is_null() {
                        records.remove(key);
                    } else {
                        records.insert(key.clone(), record.clone());
                    }
                    if !revocations_down {
                        revocations::write(&client, table.name(), key, record, form).await;
                    }
                }
                match case.revocations_down {
                    Some(true) if !revocations_down => {
                        revocations::drop_table(&client, table.name()).await;
                        revocations_down = true;
                    }
                    Some(false) if revocations_down => {
                        revocations::seed(&client, table.name(), &records, form).await;
                        revocations_down = false;
                    }
                    _ => {}
                }
            }
            let reads_before = revocation_table.as_ref().map_or(0, PolicyTable::calls);
            if let Some(kids) = &case.jwks {
                jwks.set(&kids.iter().map(String::as_str).collect::<Vec<_>>());
            }
            if let Some(down) = case.jwks_down {
                jwks.fault(if down {
                    JwksFault::Status500
                } else {
                    JwksFault::None
                });
            }
            let token = case.token.as_ref().map(|t| token_of(t, &keys));
            jwks.take_fetches();
            let event = event_for(shape, case, token.as_deref());
            let handled = handler.handle(event, case.now).await;
            let arn = case.request.method_arn.clone().unwrap_or_else(|| {
                arn_of(&scenario.config, &case.request.method, &case.request.path)
            });
            let mut problems = Vec::new();
            let status = match &handled.result {
                Err(Rejection::Unauthorized) => 401,
                Err(other) => {
                    problems.push(format!("error {other}"));
                    500
                }
                Ok(response) if common::policy_allows(response, &arn) => 200,
                Ok(response) => {
                    if response["policyDocument"]["Statement"]
                        .as_array()
                        .is_none_or(|s| s.is_empty())
                    {
                        problems.push(format!("deny without statements: {response}"));
                    }
                    403
                }
            };
            // An authorizer answers allow, Deny (403) or Unauthorized (401): unavailable keys
            // or policies (503) and refused paths (400) are a Deny.
            let expected_status = if matches!(case.expect.status, 503 | 400) {
                403
            } else {
                case.expect.status
            };
            if status != expected_status {
                problems.push(format!("status {status}, expected {expected_status}"));
            }
            if handled.reason() != case.expect.reason {
                problems.push(format!(
                    "reason `{}`, expected `{}`",
                    handled.reason(),
                    case.expect.reason
                ));
            }
            if let (Some(expected), Ok(response)) = (&case.expect.context, &handled.result) {
                for (k, v) in expected {
                    if response["context"].get(k) != Some(v) {
                        problems.push(format!(
                            "context.{k} = {:?}, expected {v}",
                            response["context"].get(k)
                        ));
                    }
                }
                if response["principalId"] != response["context"]["sub"] {
                    problems.push(format!(
                        "principalId {} is not the sub",
                        response["principalId"]
                    ));
                }
            }
            if let Some(reads) = case.expect.revocation_reads {
                let table = revocation_table.as_ref().expect("a revocation table");
                let read = (table.calls() - reads_before) as usize;
                if read != reads {
                    problems.push(format!(
                        "{read} BatchGetItem calls to the revocation table, expected {reads}"
                    ));
                }
            }
            if let Some(fetches) = case.expect.jwks_fetches {
                let actual = jwks.take_fetches();
                if actual != fetches {
                    problems.push(format!("{actual} JWKS fetches, expected {fetches}"));
                }
            }
            if !problems.is_empty() {
                let explain = handled
                    .decision
                    .as_ref()
                    .map(|d| d.explain())
                    .unwrap_or_default();
                failures.push(format!(
                    "[{shape:?}] {file} / {}: {} ({explain})",
                    case.name,
                    problems.join("; ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: run by `make lambda-test`"]
async fn conformance_suite_through_the_handler() {
    let moto = Moto::start();
    let rest = run_suite(Shape::RestRequest, &moto).await;
    assert!(rest >= 80, "the suite shrank to {rest} cases");
    let http = run_suite(Shape::HttpV2Iam, &moto).await;
    println!("conformance through the Lambda handler: {rest} cases as REST REQUEST events, {http} as HTTP API 2.0 events");
}
