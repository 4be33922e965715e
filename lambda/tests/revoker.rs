//! The revoker: CloudTrail events of Cognito's user-pool calls (the shapes Cognito's
//! documentation gives, under `tests/data/cloudtrail/`) mapped to user cutoffs; and, with
//! moto (`make lambda-test`), a Cognito flow end to end: a user signs in to moto's
//! cognito-idp, the authorizer allows their token, an admin signs them out globally, the
//! revoker writes the cutoff that call's CloudTrail event carries, and the same token is
//! refused once the authorizer's freshness window has passed.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveSpecification};
use edge_authz_lambda::dynamo::PolicyTable;
use edge_authz_lambda::revoker::{
    parse_event_time, plan, Handled, Revoker, RevokerSettings, Skip, MAX_TOKEN_LIFETIME,
    REVOKING_CALLS,
};
use edge_authz_lambda::{Handler, Settings, Tables};
use serde_json::{json, Value};

const POOL: &str = "us-east-1_EXAMPLE1";
const SUB: &str = "0f4e2c1a-6b3d-4e9f-8a7c-5d2b1e0f9a38";
/// The fixtures' `eventTime`, 2024-05-06T07:08:09Z.
const EVENT_TIME: u64 = 1_714_979_289;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Value {
    let path = manifest_dir().join("tests/data/cloudtrail").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn settings(pool: &str, table: &str) -> RevokerSettings {
    let vars: BTreeMap<String, String> = [("USER_POOL_ID", pool), ("REVOCATION_TABLE", table)]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    RevokerSettings::from_vars(&vars).unwrap()
}

#[test]
fn each_revoking_call_becomes_a_cutoff_at_its_event_time() {
    let s = settings(POOL, "revocations");
    let issuer = format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}");
    for (file, call) in [
        ("admin-user-global-sign-out.json", "AdminUserGlobalSignOut"),
        ("global-sign-out.json", "GlobalSignOut"),
        ("admin-disable-user.json", "AdminDisableUser"),
        ("admin-delete-user.json", "AdminDeleteUser"),
        ("delete-user.json", "DeleteUser"),
        (
            "admin-remove-user-from-group.json",
            "AdminRemoveUserFromGroup",
        ),
    ] {
        let event = fixture(file);
        let cutoff = plan(&event, &s).unwrap_or_else(|skip| panic!("{file}: {skip}"));
        assert_eq!(cutoff.call, call, "{file}");
        assert_eq!(cutoff.key(), format!("user#{issuer}#{SUB}"), "{file}");
        let record: Value = serde_json::from_str(&cutoff.record()).unwrap();
        assert_eq!(
            record,
            json!({"before": EVENT_TIME, "expiresAt": EVENT_TIME + MAX_TOKEN_LIFETIME}),
            "{file}"
        );
        assert_eq!(cutoff.expires_at, EVENT_TIME + MAX_TOKEN_LIFETIME);
        assert!(!cutoff.event_id.is_empty(), "{file}");
        // A bare CloudTrail record (replayed from a trail) means the same.
        assert_eq!(plan(&event["detail"], &s), Ok(cutoff), "{file}");
    }
    // Every call the template's rule lists has a fixture above.
    assert_eq!(REVOKING_CALLS.len(), 6);
}

#[test]
fn events_that_revoke_nothing_or_cannot_be_mapped_say_why() {
    let s = settings(POOL, "revocations");
    let skip = |file: &str| plan(&fixture(file), &s).unwrap_err();

    let revoke_token = skip("revoke-token.json");
    assert_eq!(
        revoke_token,
        Skip::NotRevoking {
            call: "RevokeToken".into()
        }
    );
    assert!(!revoke_token.missed());
    assert!(
        revoke_token.to_string().contains("origin_jti"),
        "{revoke_token}"
    );

    assert_eq!(
        skip("admin-add-user-to-group.json"),
        Skip::NotRevoking {
            call: "AdminAddUserToGroup".into()
        }
    );
    assert_eq!(
        skip("admin-disable-user-failed.json"),
        Skip::CallFailed {
            call: "AdminDisableUser".into(),
            error: "UserNotFoundException".into()
        }
    );
    assert_eq!(
        skip("admin-disable-user-other-pool.json"),
        Skip::OtherPool {
            call: "AdminDisableUser".into(),
            pool: "us-east-1_OTHERPOOL".into()
        }
    );
    let missed = skip("admin-user-global-sign-out-no-sub.json");
    assert!(missed.missed(), "{missed}");
    assert!(
        missed.to_string().contains("edge-authz revoke --sub"),
        "{missed}"
    );

    // Other sources, a hidden or missing sub, an unreadable time.
    let mut other = fixture("admin-disable-user.json");
    other["source"] = json!("aws.s3");
    assert_eq!(plan(&other, &s), Err(Skip::NotCognitoCall));
    let mut hidden = fixture("global-sign-out.json");
    hidden["detail"]["additionalEventData"]["sub"] = json!("HIDDEN_DUE_TO_SECURITY_REASONS");
    assert!(plan(&hidden, &s).unwrap_err().missed());
    let mut timeless = fixture("admin-delete-user.json");
    timeless["detail"]["eventTime"] = json!("yesterday");
    assert_eq!(
        plan(&timeless, &s),
        Err(Skip::NoTime {
            call: "AdminDeleteUser".into()
        })
    );
    assert_eq!(plan(&json!({}), &s), Err(Skip::NotCognitoCall));
}

#[test]
fn the_templates_rule_lists_exactly_the_revoking_calls() {
    let template = std::fs::read_to_string(manifest_dir().join("template.yaml")).unwrap();
    let start = template
        .find("  RevokerRule:")
        .expect("the template has a RevokerRule");
    let rule = &template[start..];
    let rule = &rule[..rule.find("\n\n").unwrap_or(rule.len())];
    let listed: Vec<&str> = rule
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("eventName:"))
        .skip(1)
        .map_while(|l| l.trim_start().strip_prefix("- "))
        .collect();
    assert_eq!(listed, REVOKING_CALLS, "{rule}");
    assert!(parse_event_time("2024-05-06T07:08:09Z") == Some(EVENT_TIME));
}

#[test]
fn the_templates_authorizer_environment_is_a_valid_configuration() {
    let template = std::fs::read_to_string(manifest_dir().join("template.yaml")).unwrap();
    let config = template
        .lines()
        .find_map(|l| l.trim().strip_prefix("CONFIG: !Sub '"))
        .and_then(|l| l.strip_suffix('\''))
        .expect("the authorizer's CONFIG");
    for (ttl, warned) in [("30", false), ("300", true)] {
        let vars: BTreeMap<String, String> = [
            ("USER_POOL_ID", POOL),
            ("CLIENT_IDS", "client"),
            ("TOKEN_USE", "access"),
            ("POLICY_TABLE", "auth-policy-store"),
            ("EVENT_TYPE", "request"),
            ("AUTHORIZER_CACHE_TTL", ttl),
            (
                "IDENTITY_SOURCES",
                "method.request.header.Authorization,context.identity.sourceIp",
            ),
            ("REVOCATION_TABLE", "revocations"),
            ("METRICS", "emf"),
            ("METRICS_NAMESPACE", "EdgeAuthz"),
            (
                "CONFIG",
                &config.replace("${RevocationFreshnessSeconds}", "30"),
            ),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let settings = Settings::from_vars(&vars).unwrap_or_else(|e| panic!("{e}"));
        let revocation = settings
            .config
            .config
            .revocation
            .expect("a revocation section");
        assert_eq!(revocation.freshness_seconds, 30);
        let warnings = &settings.config.warnings;
        assert_eq!(
            warnings
                .iter()
                .any(|w| w.contains("revocation.freshnessSeconds")),
            warned,
            "TTL {ttl}: {warnings:?}"
        );
    }
}

// ---------------------------------------------------------------- end to end, with moto

fn venv_python() -> PathBuf {
    let moto = std::env::var_os("MOTO_SERVER").map_or_else(
        || {
            manifest_dir()
                .parent()
                .unwrap()
                .join("target/lambda-venv/bin/moto_server")
        },
        PathBuf::from,
    );
    moto.parent().unwrap().join("python")
}

/// One step of `common/moto_cognito.py` (boto3 against moto's cognito-idp).
fn cognito(endpoint: &str, args: &[&str]) -> Value {
    let out = Command::new(venv_python())
        .arg(manifest_dir().join("tests/common/moto_cognito.py"))
        .arg(endpoint)
        .args(args)
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "moto_cognito.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The revocation table as the template creates it: key `key` (S), TTL on `expiresAt`.
async fn create_revocation_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    common::revocations::create_table(client, table).await;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expiresAt")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("TTL on expiresAt");
}

/// The Lambda authorizer's answer to a REST `REQUEST` event carrying `token` at `now`:
/// (allowed, reason).
async fn decide(handler: &Handler, token: &str, now: u64) -> (bool, &'static str) {
    let event = common::request_event(Some(token), "GET", "/petstore/v1/pets", "192.0.2.10");
    let handled = handler.handle(event, now).await;
    let allowed = handled.result.as_ref().is_ok_and(|response| {
        common::policy_allows(
            response,
            &format!("{}/GET/petstore/v1/pets", common::ARN_PREFIX),
        )
    });
    (allowed, handled.reason())
}

/// CloudTrail's record of `call`, as EventBridge delivers it (moto emits none).
fn cloudtrail_event(call: &str, pool: &str, sub: &str, at: u64) -> Value {
    let mut event = fixture("admin-user-global-sign-out.json");
    let time = iso8601(at);
    event["time"] = json!(time);
    event["detail"]["eventTime"] = json!(time);
    event["detail"]["eventName"] = json!(call);
    event["detail"]["requestParameters"]["userPoolId"] = json!(pool);
    event["detail"]["additionalEventData"]["sub"] = json!(sub);
    event
}

fn iso8601(at: u64) -> String {
    // The inverse of parse_event_time, for the test's own clock.
    let days = at / 86_400;
    let secs = at % 86_400;
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto_server: run by `make lambda-test`"]
async fn a_global_sign_out_in_cognito_refuses_the_token_within_the_freshness_window() {
    let moto = common::Moto::start();
    let endpoint = moto.endpoint.clone();
    let dynamodb = common::dynamodb_client(&endpoint);
    let table = "edge-authz-revocations";
    create_revocation_table(&dynamodb, table).await;

    // A user of moto's pool, in group pet-veterinarian, signed in: a real access token.
    let user = cognito(&endpoint, &["setup", "pet-veterinarian"]);
    let (pool, client, sub) = (
        user["pool"].as_str().unwrap(),
        user["client"].as_str().unwrap(),
        user["sub"].as_str().unwrap(),
    );
    let token = user["accessToken"].as_str().unwrap();
    let jwks_uri = format!("{endpoint}/{pool}/.well-known/jwks.json");
    let issuer = format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}");
    let t0 = common::now();

    // The Lambda authorizer, built as in the function, allows it (moto's iss, moto's JWKS).
    let policies = common::temp_file(
        "revoker-e2e-policies.json",
        json!({ "pet-veterinarian": common::vet_policy() })
            .to_string()
            .as_bytes(),
    );
    // The Lambda authorizer, built as in the function with REVOCATION_TABLE (revocation on,
    // freshness 30 s): it allows the token, its (absent) records read once and cached.
    let vars: BTreeMap<String, String> = [
        ("USER_POOL_ID", pool.to_owned()),
        ("CLIENT_IDS", client.to_owned()),
        ("JWKS_URI", jwks_uri.clone()),
        ("POLICIES_FILE", policies.display().to_string()),
        ("REVOCATION_TABLE", table.to_owned()),
        ("AUTHORIZER_CACHE_TTL", "0".to_owned()),
        ("EVENT_TYPE", "request".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let records = PolicyTable::revocations(
        dynamodb.clone(),
        table.to_owned(),
        4,
        Duration::from_secs(5),
    );
    let tables = Tables {
        policies: None,
        revocations: Some(records.clone()),
    };
    let handler = Handler::with_tables(Settings::from_vars(&vars).unwrap(), tables, t0).unwrap();
    assert_eq!(decide(&handler, token, t0).await, (true, "allowed"));
    assert_eq!(records.calls(), 1);

    // An admin signs the user out of every device; CloudTrail records the call with the
    // user's sub, EventBridge hands it to the revoker, which writes the cutoff.
    cognito(
        &endpoint,
        &["sign-out", pool, user["user"].as_str().unwrap()],
    );
    let signed_out = common::now();
    let revoker = Revoker::new(settings(pool, table), dynamodb.clone());
    let event = cloudtrail_event("AdminUserGlobalSignOut", pool, sub, signed_out);
    let Handled::Written(cutoff) = revoker.handle(&event).await.unwrap() else {
        panic!("the sign-out is written");
    };
    assert_eq!(cutoff.key(), format!("user#{issuer}#{sub}"));

    // The record in the table, as the authorizer reads it.
    let item = dynamodb
        .get_item()
        .table_name(table)
        .key("key", AttributeValue::S(cutoff.key()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the record is in the table");
    let record: Value = serde_json::from_str(item["record"].as_s().unwrap()).unwrap();
    let expires_at = signed_out + MAX_TOKEN_LIFETIME;
    assert_eq!(
        record,
        json!({"before": signed_out, "expiresAt": expires_at})
    );
    assert_eq!(item["expiresAt"].as_n().unwrap(), &expires_at.to_string());

    // An event delivered late (an earlier cutoff) does not replace it.
    let late = cloudtrail_event("AdminRemoveUserFromGroup", pool, sub, signed_out - 5);
    assert!(matches!(
        revoker.handle(&late).await.unwrap(),
        Handled::Covered(_)
    ));
    let again = dynamodb
        .get_item()
        .table_name(table)
        .key("key", AttributeValue::S(cutoff.key()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(again["record"], item["record"]);

    // Within the freshness window the cached absence still answers (the documented bound);
    // once it has passed, the record is read and the same token is refused.
    assert_eq!(decide(&handler, token, t0 + 29).await, (true, "allowed"));
    assert_eq!(records.calls(), 1);
    assert_eq!(decide(&handler, token, t0 + 30).await, (false, "revoked"));
    assert_eq!(records.calls(), 2);
    assert_eq!(decide(&handler, token, t0 + 31).await, (false, "revoked"));

    // A token issued after the cutoff (a new sign-in, in a later second) is not covered.
    while common::now() <= signed_out {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let user_name = user["user"].as_str().unwrap();
    let fresh = cognito(&endpoint, &["sign-in", pool, client, user_name]);
    let fresh_token = fresh["accessToken"].as_str().unwrap();
    assert_eq!(
        decide(&handler, fresh_token, common::now()).await,
        (true, "allowed")
    );
}
