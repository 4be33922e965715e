//! Parse + validate + evaluate arbitrary policies: must never panic, and a document that
//! loads must evaluate and specialise for any request, consistently.
//!
//! Input: policy JSON, then optionally `\0` and a request, one item a line: the first line
//! is the resource tail (`GET/pets/1`), then any of `ip ADDR`, `ua TEXT`, `ref TEXT`,
//! `tls`, `now SECONDS`, `h NAME=VALUE`, `q NAME=VALUE`, `claims {JSON object}`.
//!
//! Invariants: the decision does not depend on the action's case or on a policy being
//! repeated; the deciding statement has the decision's effect; the specialised policy
//! (what API Gateway caches) never allows the request when the policy does not.
#![no_main]

use edge_authz::policy::{evaluate, EvalContext, PolicyDecision, PolicyDocument};
use edge_authz::token::Claims;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ACTIONS: [&str; 3] = ["execute-api:Invoke", "EXECUTE-API:invoke", "s3:GetObject"];

fn check(doc: &PolicyDocument, resource: &str, ctx: &EvalContext<'_>) {
    let once = [("fuzz", doc)];
    let twice = [("fuzz", doc), ("again", doc)];
    let mut decisions = Vec::new();
    for action in ACTIONS {
        let e = evaluate(&twice, action, resource, ctx);
        let _ = e.explain(&twice, action, resource).to_string();
        let single = evaluate(&once, action, resource, ctx);
        assert_eq!(
            e.decision, single.decision,
            "repeating the policy changed {action}"
        );
        match (&e.decision, &e.decided_by) {
            (PolicyDecision::Allow, Some(by)) => assert_eq!(doc.is_allow(by.statement), Some(true)),
            (PolicyDecision::ExplicitDeny, Some(by)) => {
                assert_eq!(doc.is_allow(by.statement), Some(false))
            }
            (PolicyDecision::ImplicitDeny, None) => {
                for close in &e.close {
                    assert_eq!(doc.is_allow(close.statement), Some(true));
                    assert!(close.failed_condition.is_some());
                }
            }
            (d, by) => panic!("{d:?} decided by {by:?}"),
        }
        decisions.push(e.decision);
    }
    assert_eq!(
        decisions[0], decisions[1],
        "action case changed the decision"
    );

    // API Gateway caches the specialised policy: it must not allow more than the policy.
    let statements = doc.specialize(ctx);
    let special = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    if let Ok(parsed) = PolicyDocument::from_value(&special) {
        let bare = EvalContext::default();
        let special = [("specialised", &parsed.document)];
        for (action, decision) in ACTIONS.iter().zip(&decisions) {
            let e = evaluate(&special, action, resource, &bare);
            if e.decision == PolicyDecision::Allow {
                assert_eq!(
                    *decision,
                    PolicyDecision::Allow,
                    "the specialised policy allows {action} on {resource}: {special:?}"
                );
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (policy, request) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"GET/pets/1"[..]),
    };
    let Ok(text) = core::str::from_utf8(policy) else {
        return;
    };
    let Ok(parsed) = PolicyDocument::parse(text) else {
        return;
    };
    for w in &parsed.warnings {
        let _ = w.to_string();
    }
    let doc = parsed.document;
    let request = String::from_utf8_lossy(request);
    let mut lines = request.split('\n');
    let path = lines.next().unwrap_or("");
    let resource = format!("arn:aws:execute-api:us-east-1:123456789012:api/prod/{path}");

    let mut fuzzed = EvalContext::default();
    let mut headers: Vec<(&str, &str)> = Vec::new();
    let mut query: Vec<(&str, &str)> = Vec::new();
    let mut fuzzed_claims: Option<Claims> = None;
    for line in lines.take(32) {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "ip" => fuzzed.source_ip = value.parse().ok(),
            "ua" => fuzzed.user_agent = Some(value),
            "ref" => fuzzed.referer = Some(value),
            "tls" => fuzzed.secure_transport = Some(value != "0"),
            "now" => fuzzed.now = value.parse().unwrap_or(0),
            "h" => headers.push(value.split_once('=').unwrap_or((value, ""))),
            "q" => query.push(value.split_once('=').unwrap_or((value, ""))),
            "claims" => {
                fuzzed_claims = serde_json::from_str::<Value>(value)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .map(Claims::from_map)
            }
            _ => {}
        }
    }
    fuzzed.headers = &headers;
    fuzzed.query = &query;
    fuzzed.claims = fuzzed_claims.as_ref();

    let claims = serde_json::json!({
        "sub": "alice", "cognito:groups": ["a", "b"], "n": 5, "flag": true, "role": "arn:aws:iam::1:role/x"
    });
    let claims = Claims::from_map(claims.as_object().cloned().unwrap_or_default());
    let fixed_headers = [("x-tenant", "acme"), ("user-agent", "fuzz")];
    let fixed_query = [("page", "2")];
    let contexts = [
        EvalContext::default(),
        EvalContext {
            source_ip: Some("192.0.2.1".parse().unwrap()),
            now: 1_700_000_000,
            secure_transport: Some(true),
            user_agent: Some("fuzz"),
            referer: Some("https://example.com/"),
            claims: Some(&claims),
            headers: &fixed_headers,
            query: &fixed_query,
        },
        EvalContext {
            source_ip: Some("2001:db8::1".parse().unwrap()),
            now: u64::MAX,
            ..Default::default()
        },
        fuzzed,
    ];
    for ctx in &contexts {
        check(&doc, &resource, ctx);
    }
    let _ = doc.dependencies();
    let _ = doc.statement_count();
});
