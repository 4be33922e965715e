//! Table-driven specification tests of the policy engine: IAM's matching, condition and
//! variable rules, through the public API only.

use edge_authz::policy::{evaluate, EvalContext, PolicyDecision, PolicyDocument};
use edge_authz::token::Claims;
use serde_json::{json, Value};

const API: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234";

fn arn(stage: &str, method: &str, path: &str) -> String {
    format!("{API}/{stage}/{method}/{path}")
}

fn doc(text: &str) -> PolicyDocument {
    match PolicyDocument::parse(text) {
        Ok(p) => p.document,
        Err(e) => panic!("{text}\n{e}"),
    }
}

fn stmt_doc(stmt: Value) -> PolicyDocument {
    doc(&json!({"Version": "2012-10-17", "Statement": [stmt]}).to_string())
}

fn decide(
    docs: &[&PolicyDocument],
    action: &str,
    resource: &str,
    ctx: &EvalContext<'_>,
) -> PolicyDecision {
    let policies: Vec<(&str, &PolicyDocument)> = docs.iter().map(|d| ("g", *d)).collect();
    evaluate(&policies, action, resource, ctx).decision
}

fn claims(v: Value) -> Claims {
    match v {
        Value::Object(m) => Claims::from_map(m),
        _ => panic!("claims must be an object"),
    }
}

#[test]
fn resource_wildcards() {
    // (pattern, request resource, allowed)
    let cases: Vec<(String, String, bool)> = vec![
        // `*` crosses `/`.
        (
            "arn:aws:execute-api:*:*:*/prod/GET/*".into(),
            arn("prod", "GET", "petstore/v1/pets/1"),
            true,
        ),
        (
            "arn:aws:execute-api:*:*:*/*/*/petstore/v1/*".into(),
            arn("prod", "GET", "petstore/v1/pets"),
            true,
        ),
        (
            "arn:aws:execute-api:*:*:*/*/*/petstore/v1/*".into(),
            arn("prod", "GET", "petstore/v2/pets"),
            false,
        ),
        // The greedy `*/*/*` case: the stage `*` swallows `prod/POST`, as in AWS.
        (
            "arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status".into(),
            arn("prod", "POST/GET", "petstore/v2/status"),
            true,
        ),
        (
            "arn:aws:execute-api:*:*:*/*/*/petstore/v1/*".into(),
            arn("prod", "GET", "admin/petstore/v1/x"),
            true,
        ),
        (
            "arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status".into(),
            arn("prod", "POST", "petstore/v2/status"),
            false,
        ),
        // Root resources end with `/`.
        (
            "arn:aws:execute-api:*:*:*/prod/GET/".into(),
            arn("prod", "GET", ""),
            true,
        ),
        (
            "arn:aws:execute-api:*:*:*/prod/GET/".into(),
            arn("prod", "GET", "pets"),
            false,
        ),
        (
            "arn:aws:execute-api:*:*:*/prod/GET".into(),
            arn("prod", "GET", ""),
            false,
        ),
        // `?` is exactly one character.
        (
            "arn:aws:execute-api:*:*:*/prod/GET/pets/?".into(),
            arn("prod", "GET", "pets/1"),
            true,
        ),
        (
            "arn:aws:execute-api:*:*:*/prod/GET/pets/?".into(),
            arn("prod", "GET", "pets/12"),
            false,
        ),
        (
            "arn:aws:execute-api:*:*:*/prod/GET/pets/?".into(),
            arn("prod", "GET", "pets/"),
            false,
        ),
        (
            "arn:aws:execute-api:*:*:*/prod/GET/pets/?".into(),
            arn("prod", "GET", "pets/é"),
            true,
        ),
        // Resources are case-sensitive: verbs too.
        (
            "arn:aws:execute-api:*:*:*/prod/get/pets".into(),
            arn("prod", "GET", "pets"),
            false,
        ),
        (
            "arn:aws:execute-api:*:*:*/prod/GET/Pets".into(),
            arn("prod", "GET", "pets"),
            false,
        ),
        // Paths may contain `:`; `*` crosses it.
        (
            "arn:aws:execute-api:*:*:*/prod/GET/a:*".into(),
            arn("prod", "GET", "a:b:c"),
            true,
        ),
        (
            "arn:aws:execute-api:*:*:*".into(),
            arn("prod", "GET", "x"),
            true,
        ),
        ("*".into(), arn("prod", "GET", "x"), true),
        (
            format!("{API}/prod/GET/pets"),
            arn("prod", "GET", "pets"),
            true,
        ),
        (
            "arn:aws:execute-api:us-west-2:*:*/prod/GET/pets".into(),
            arn("prod", "GET", "pets"),
            false,
        ),
    ];
    let ctx = EvalContext::default();
    for (pattern, resource, want) in cases {
        let d = stmt_doc(
            json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": pattern}),
        );
        let got = decide(&[&d], "execute-api:Invoke", &resource, &ctx) == PolicyDecision::Allow;
        assert_eq!(got, want, "{pattern} vs {resource}");
    }
}

#[test]
fn actions_are_case_insensitive() {
    let cases = [
        ("execute-api:Invoke", "execute-api:Invoke", true),
        ("EXECUTE-API:invoke", "execute-api:Invoke", true),
        ("execute-api:*", "Execute-Api:INVOKE", true),
        ("execute-api:Inv?ke", "execute-api:invoke", true),
        ("*", "execute-api:Invoke", true),
        ("execute-api:ManageConnections", "execute-api:Invoke", false),
        ("s3:*", "execute-api:Invoke", false),
    ];
    let ctx = EvalContext::default();
    for (pattern, action, want) in cases {
        let d = stmt_doc(json!({"Effect": "Allow", "Action": pattern, "Resource": "*"}));
        assert_eq!(
            decide(&[&d], action, &arn("p", "GET", ""), &ctx) == PolicyDecision::Allow,
            want,
            "{pattern} vs {action}"
        );
    }
}

#[test]
fn not_action_and_not_resource() {
    let ctx = EvalContext::default();
    let d = stmt_doc(
        json!({"Effect": "Allow", "NotAction": "execute-api:ManageConnections", "Resource": "*"}),
    );
    assert_eq!(
        decide(&[&d], "execute-api:Invoke", &arn("p", "GET", ""), &ctx),
        PolicyDecision::Allow
    );
    assert_eq!(
        decide(
            &[&d],
            "execute-api:managecONNECTIONS",
            &arn("p", "GET", ""),
            &ctx
        ),
        PolicyDecision::ImplicitDeny
    );

    let allow =
        stmt_doc(json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}));
    let deny = stmt_doc(json!({"Effect": "Deny", "Action": "*",
        "NotResource": ["arn:aws:execute-api:*:*:*/prod/GET/public/*", "arn:aws:execute-api:*:*:*/prod/GET/"]}));
    let pol = [&allow, &deny];
    assert_eq!(
        decide(
            &pol,
            "execute-api:Invoke",
            &arn("prod", "GET", "public/a"),
            &ctx
        ),
        PolicyDecision::Allow
    );
    assert_eq!(
        decide(&pol, "execute-api:Invoke", &arn("prod", "GET", ""), &ctx),
        PolicyDecision::Allow
    );
    assert_eq!(
        decide(
            &pol,
            "execute-api:Invoke",
            &arn("prod", "GET", "private"),
            &ctx
        ),
        PolicyDecision::ExplicitDeny
    );
}

#[test]
fn statement_as_object_and_single_strings() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/prod/GET/pets"}}"#,
    );
    assert_eq!(d.statement_count(), 1);
    assert_eq!(
        decide(
            &[&d],
            "execute-api:Invoke",
            &arn("prod", "GET", "pets"),
            &EvalContext::default()
        ),
        PolicyDecision::Allow
    );
}

#[test]
fn deny_wins_in_any_order_and_across_groups() {
    let allow = stmt_doc(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
    let deny = stmt_doc(
        json!({"Sid": "DenyAdmin", "Effect": "Deny", "Action": "execute-api:Invoke",
        "Resource": "arn:aws:execute-api:*:*:*/*/*/admin/*"}),
    );
    let ctx = EvalContext::default();
    let r = arn("prod", "GET", "admin/users");
    assert_eq!(
        decide(&[&allow, &deny], "execute-api:Invoke", &r, &ctx),
        PolicyDecision::ExplicitDeny
    );
    assert_eq!(
        decide(&[&deny, &allow], "execute-api:Invoke", &r, &ctx),
        PolicyDecision::ExplicitDeny
    );
    assert_eq!(
        decide(
            &[&deny],
            "execute-api:Invoke",
            &arn("prod", "GET", "x"),
            &ctx
        ),
        PolicyDecision::ImplicitDeny
    );
    assert_eq!(
        decide(&[], "execute-api:Invoke", &r, &ctx),
        PolicyDecision::ImplicitDeny
    );
    // Explanation names the group, the statement and its Sid.
    let policies = [("everyone", &allow), ("pet-veterinarian", &deny)];
    let e = evaluate(&policies, "execute-api:Invoke", &r, &ctx);
    assert_eq!(
        e.explain(&policies, "execute-api:Invoke", &r).to_string(),
        "ExplicitDeny by pet-veterinarian Statement[0] (Sid \"DenyAdmin\")"
    );
    let e = evaluate(
        &policies,
        "execute-api:Invoke",
        &arn("prod", "GET", "x"),
        &ctx,
    );
    assert_eq!(e.decision, PolicyDecision::Allow);
    assert_eq!(
        e.explain(&policies, "", "").to_string(),
        "Allow by everyone Statement[0]"
    );
}

#[test]
fn implicit_deny_lists_close_statements() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"PetStore-API","Effect":"Allow","Action":"execute-api:Invoke","Resource":["arn:aws:execute-api:*:*:*/*/*/petstore/v1/*","arn:aws:execute-api:*:*:*/*/GET/petstore/v2/status"],"Condition":{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","198.51.100.0/24"]}}}]}"#,
    );
    let policies = [("pet-veterinarian", &d)];
    let r = arn("prod", "GET", "petstore/v1/pets");
    let mut ctx = EvalContext {
        source_ip: Some("203.0.113.9".parse().unwrap()),
        ..Default::default()
    };
    let e = evaluate(&policies, "execute-api:Invoke", &r, &ctx);
    assert_eq!(e.decision, PolicyDecision::ImplicitDeny);
    assert_eq!(e.close.len(), 1);
    assert_eq!(
        e.close[0].failed_condition.as_deref(),
        Some("IpAddress aws:SourceIp")
    );
    assert_eq!(
        e.explain(&policies, "execute-api:Invoke", &r).to_string(),
        format!("ImplicitDeny: no statement allows execute-api:Invoke on {r}; close: pet-veterinarian Statement[0] (Sid \"PetStore-API\"): condition IpAddress aws:SourceIp not met")
    );
    ctx.source_ip = Some("198.51.100.7".parse().unwrap());
    assert_eq!(
        evaluate(&policies, "execute-api:Invoke", &r, &ctx).decision,
        PolicyDecision::Allow
    );
    // v2 is not covered except status.
    assert_eq!(
        evaluate(
            &policies,
            "execute-api:Invoke",
            &arn("prod", "GET", "petstore/v2/pets"),
            &ctx
        )
        .decision,
        PolicyDecision::ImplicitDeny
    );
    assert_eq!(
        evaluate(
            &policies,
            "execute-api:Invoke",
            &arn("prod", "GET", "petstore/v2/status"),
            &ctx
        )
        .decision,
        PolicyDecision::Allow
    );
}

/// Whether `condition` holds in `ctx` (the statement allows iff it does).
fn holds(condition: Value, ctx: &EvalContext<'_>) -> bool {
    let d = stmt_doc(
        json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}),
    );
    decide(&[&d], "execute-api:Invoke", &arn("p", "GET", ""), ctx) == PolicyDecision::Allow
}

#[test]
fn missing_keys_per_operator_family() {
    let ctx = EvalContext::default(); // no ip, no claims, no headers
    let cases = [
        (json!({"StringEquals": {"jwt:sub": "a"}}), false),
        (json!({"StringNotEquals": {"jwt:sub": "a"}}), true),
        (json!({"StringEqualsIgnoreCase": {"jwt:sub": "a"}}), false),
        (json!({"StringNotEqualsIgnoreCase": {"jwt:sub": "a"}}), true),
        (json!({"StringLike": {"aws:UserAgent": "*"}}), false),
        (json!({"StringNotLike": {"aws:UserAgent": "*"}}), true),
        (json!({"NumericLessThan": {"jwt:n": 5}}), false),
        (json!({"NumericNotEquals": {"jwt:n": "5"}}), true),
        (json!({"DateLessThan": {"jwt:d": "2030-01-01"}}), false),
        (json!({"DateNotEquals": {"jwt:d": "2030-01-01"}}), true),
        (json!({"Bool": {"aws:SecureTransport": "true"}}), false),
        (json!({"Bool": {"jwt:email_verified": true}}), false),
        (json!({"BinaryEquals": {"request:header/x": "YQ=="}}), false),
        (json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), false),
        (json!({"NotIpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), true),
        (
            json!({"ArnLike": {"jwt:role": "arn:aws:iam::*:role/*"}}),
            false,
        ),
        (
            json!({"ArnNotLike": {"jwt:role": "arn:aws:iam::*:role/*"}}),
            true,
        ),
        (
            json!({"ArnEquals": {"jwt:role": "arn:aws:iam::1:role/x"}}),
            false,
        ),
        (
            json!({"ArnNotEquals": {"jwt:role": "arn:aws:iam::1:role/x"}}),
            true,
        ),
        (json!({"Null": {"aws:SourceIp": "true"}}), true),
        (json!({"Null": {"aws:SourceIp": "false"}}), false),
        (json!({"Null": {"aws:CurrentTime": "true"}}), false),
        (json!({"StringEqualsIfExists": {"jwt:sub": "a"}}), true),
        (
            json!({"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}),
            true,
        ),
        (json!({"NumericGreaterThanIfExists": {"jwt:n": 5}}), true),
        (
            json!({"ForAllValues:StringEquals": {"cognito:groups": "a"}}),
            true,
        ),
        (
            json!({"ForAnyValue:StringEquals": {"cognito:groups": "a"}}),
            false,
        ),
        (
            json!({"ForAnyValue:StringNotEquals": {"cognito:groups": "a"}}),
            false,
        ),
        (
            json!({"ForAnyValue:StringEqualsIfExists": {"cognito:groups": "a"}}),
            true,
        ),
    ];
    for (cond, want) in cases {
        assert_eq!(holds(cond.clone(), &ctx), want, "{cond}");
    }
}

#[test]
fn present_keys_per_operator_family() {
    let c = claims(
        json!({"sub": "alice", "n": 7, "ns": "7.5", "d": "2024-01-01T00:00:00Z", "e": 1704067200,
        "email_verified": true, "role": "arn:aws:iam::123:role/admin:x", "cognito:groups": ["a", "b"], "username": "al"}),
    );
    let headers = [("x-tenant", "acme"), ("x-dup", "1"), ("x-dup", "2")];
    let query = [("Page", "2")];
    let ctx = EvalContext {
        source_ip: Some("192.0.2.10".parse().unwrap()),
        now: 1_704_067_201,
        secure_transport: Some(true),
        user_agent: Some("curl/8.0"),
        referer: Some("https://example.com/x"),
        claims: Some(&c),
        headers: &headers,
        query: &query,
    };
    let cases = [
        (json!({"StringEquals": {"jwt:sub": "alice"}}), true),
        (json!({"StringEquals": {"JWT:sub": "alice"}}), true),
        (json!({"StringEquals": {"jwt:SUB": "alice"}}), false), // claim names are case-sensitive
        (json!({"StringEquals": {"jwt:sub": "Alice"}}), false),
        (
            json!({"StringEqualsIgnoreCase": {"jwt:sub": "ALICE"}}),
            true,
        ),
        (json!({"StringLike": {"aws:useragent": "curl/*"}}), true),
        (
            json!({"StringLike": {"aws:Referer": "https://example.com/*"}}),
            true,
        ),
        (json!({"StringEquals": {"jwt:n": "7"}}), true),
        (
            json!({"StringEquals": {"jwt:email_verified": "true"}}),
            true,
        ),
        (json!({"NumericEquals": {"jwt:n": 7}}), true),
        (json!({"NumericGreaterThan": {"jwt:ns": "7.25"}}), true),
        (json!({"NumericLessThanEquals": {"jwt:n": "6"}}), false),
        (json!({"NumericNotEquals": {"jwt:sub": "1"}}), true), // not a number: not equal
        (json!({"Bool": {"jwt:email_verified": "true"}}), true),
        (json!({"Bool": {"aws:SecureTransport": false}}), false),
        (
            json!({"ArnLike": {"jwt:role": "arn:aws:iam::*:role/*"}}),
            true,
        ),
        (
            json!({"ArnLike": {"jwt:role": "arn:aws:iam:*:role/admin:x"}}),
            false,
        ),
        // ArnLike wildcards do not cross `:`, StringLike ones do.
        (
            json!({"ArnLike": {"jwt:role": "arn:aws:iam:*:role/admin:x"}}),
            false,
        ),
        (
            json!({"StringLike": {"jwt:role": "arn:aws:iam:*:role/admin:x"}}),
            true,
        ),
        (
            json!({"ArnEquals": {"jwt:role": "arn:aws:iam::123:role/admin:x"}}),
            true,
        ),
        (
            json!({"StringEquals": {"request:header/X-Tenant": "acme"}}),
            true,
        ),
        (json!({"StringEquals": {"request:header/x-dup": "2"}}), true),
        (
            json!({"StringNotEquals": {"request:header/x-dup": "2"}}),
            false,
        ),
        (json!({"StringEquals": {"request:query/Page": "2"}}), true),
        (json!({"StringEquals": {"request:query/page": "2"}}), false),
        (
            json!({"BinaryEquals": {"request:header/x-tenant": "YWNtZQ=="}}),
            true,
        ),
        (json!({"StringEquals": {"cognito:username": "al"}}), true),
        (json!({"StringEquals": {"cognito:groups": "b"}}), true),
        (json!({"Null": {"jwt:sub": "false"}}), true),
        (json!({"Null": {"jwt:missing": ["true"]}}), true),
        // Dates: ISO and epoch, against CurrentTime and EpochTime.
        (
            json!({"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}),
            true,
        ),
        (
            json!({"DateGreaterThan": {"aws:CurrentTime": "1704067200"}}),
            true,
        ),
        (
            json!({"DateGreaterThan": {"aws:CurrentTime": 1704067201}}),
            false,
        ),
        (
            json!({"DateLessThan": {"aws:CurrentTime": "2024-01-01"}}),
            false,
        ),
        (
            json!({"DateGreaterThan": {"aws:EpochTime": "2024-01-01T00:59:59+01:00"}}),
            true,
        ),
        (
            json!({"NumericGreaterThanEquals": {"aws:EpochTime": 1704067201}}),
            true,
        ),
        (json!({"DateEquals": {"jwt:d": "1704067200"}}), true),
        (
            json!({"DateEquals": {"jwt:e": "2024-01-01T00:00:00Z"}}),
            true,
        ),
        // Several operators AND, several keys AND, values OR.
        (json!({"StringEquals": {"jwt:sub": ["bob", "alice"]}}), true),
        (
            json!({"StringEquals": {"jwt:sub": "alice", "jwt:n": "8"}}),
            false,
        ),
        (
            json!({"StringEquals": {"jwt:sub": "alice"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            false,
        ),
        (
            json!({"StringEquals": {"jwt:sub": "alice"}, "IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
            true,
        ),
    ];
    for (cond, want) in cases {
        assert_eq!(holds(cond.clone(), &ctx), want, "{cond}");
    }
}

#[test]
fn negated_operators_are_nor() {
    let c = claims(json!({"sub": "c"}));
    let mut ctx = EvalContext {
        claims: Some(&c),
        source_ip: Some("10.1.1.1".parse().unwrap()),
        ..Default::default()
    };
    assert!(holds(
        json!({"StringNotEquals": {"jwt:sub": ["a", "b"]}}),
        &ctx
    ));
    assert!(!holds(
        json!({"StringNotEquals": {"jwt:sub": ["a", "c"]}}),
        &ctx
    ));
    assert!(!holds(
        json!({"StringNotLike": {"jwt:sub": ["x*", "?"]}}),
        &ctx
    ));
    assert!(!holds(
        json!({"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "10.0.0.0/8"]}}),
        &ctx
    ));
    assert!(holds(
        json!({"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "172.16.0.0/12"]}}),
        &ctx
    ));
    ctx.source_ip = Some("172.16.0.1".parse().unwrap());
    assert!(!holds(
        json!({"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "172.16.0.0/12"]}}),
        &ctx
    ));
}

#[test]
fn set_operators() {
    let cases = [
        (
            json!(["a", "b"]),
            json!({"ForAllValues:StringEquals": {"cognito:groups": ["a", "b", "c"]}}),
            true,
        ),
        (
            json!(["a", "x"]),
            json!({"ForAllValues:StringEquals": {"cognito:groups": ["a", "b", "c"]}}),
            false,
        ),
        (
            json!(["x", "a"]),
            json!({"ForAnyValue:StringEquals": {"cognito:groups": ["a", "b"]}}),
            true,
        ),
        (
            json!(["x", "y"]),
            json!({"ForAnyValue:StringEquals": {"cognito:groups": ["a", "b"]}}),
            false,
        ),
        (
            json!([]),
            json!({"ForAllValues:StringEquals": {"cognito:groups": "a"}}),
            true,
        ),
        (
            json!([]),
            json!({"ForAnyValue:StringEquals": {"cognito:groups": "a"}}),
            false,
        ),
        (
            json!(["x", "y"]),
            json!({"ForAllValues:StringNotEquals": {"cognito:groups": ["a", "b"]}}),
            true,
        ),
        (
            json!(["x", "a"]),
            json!({"ForAllValues:StringNotEquals": {"cognito:groups": ["a", "b"]}}),
            false,
        ),
        (
            json!(["x", "a"]),
            json!({"ForAnyValue:StringNotEquals": {"cognito:groups": ["a", "b"]}}),
            true,
        ),
        (
            json!(["a", "b"]),
            json!({"ForAnyValue:StringLike": {"cognito:groups": "b*"}}),
            true,
        ),
        // Without a qualifier: any value (positive), no value (negated).
        (
            json!(["x", "a"]),
            json!({"StringEquals": {"cognito:groups": "a"}}),
            true,
        ),
        (
            json!(["x", "a"]),
            json!({"StringNotEquals": {"cognito:groups": "a"}}),
            false,
        ),
        (
            json!([]),
            json!({"StringEquals": {"cognito:groups": "a"}}),
            false,
        ),
        (
            json!([]),
            json!({"StringNotEquals": {"cognito:groups": "a"}}),
            true,
        ),
        (
            json!([]),
            json!({"Null": {"cognito:groups": "false"}}),
            true,
        ),
    ];
    for (groups, cond, want) in cases {
        let c = claims(json!({"cognito:groups": groups}));
        let ctx = EvalContext {
            claims: Some(&c),
            ..Default::default()
        };
        assert_eq!(holds(cond.clone(), &ctx), want, "{groups} {cond}");
    }
}

#[test]
fn ip_addresses() {
    let cases = [
        ("192.0.2.1", "192.0.2.0/24", true),
        ("192.0.2.1", "192.0.2.1", true), // bare address = /32
        ("192.0.2.2", "192.0.2.1", false),
        ("192.0.2.1", "2001:db8::/32", false), // IPv6 range, IPv4 client
        ("2001:db8::1", "2001:db8::/32", true),
        ("2001:db8::1", "2001:db8::1", true), // /128
        ("2001:db9::1", "2001:db8::/32", false),
        ("2001:db8::1", "0.0.0.0/0", false), // IPv4 range, IPv6 client
        ("::ffff:192.0.2.1", "192.0.2.0/24", true), // IPv4-mapped client
        ("10.200.0.1", "10.1.2.3/8", true),  // host bits ignored
    ];
    for (client, cidr, want) in cases {
        let ctx = EvalContext {
            source_ip: Some(client.parse().unwrap()),
            ..Default::default()
        };
        assert_eq!(
            holds(json!({"IpAddress": {"aws:SourceIp": cidr}}), &ctx),
            want,
            "{client} in {cidr}"
        );
        assert_eq!(
            holds(json!({"NotIpAddress": {"aws:SourceIp": cidr}}), &ctx),
            !want,
            "{client} not in {cidr}"
        );
    }
}

#[test]
fn policy_variables() {
    let c = claims(json!({"sub": "alice", "cognito:username": "al*ce", "groups": ["x"]}));
    let ctx = EvalContext {
        claims: Some(&c),
        ..Default::default()
    };
    let res = |p: &str| {
        stmt_doc(
            json!({"Effect": "Allow", "Action": "*", "Resource": format!("arn:aws:execute-api:*:*:*/prod/GET/{p}")}),
        )
    };
    let cases = [
        ("users/${jwt:sub}/*", "users/alice/x", true),
        ("users/${jwt:sub}/*", "users/bob/x", false),
        ("users/${ jwt:sub }", "users/alice", true),
        ("t/${jwt:tenant, 'public'}/*", "t/public/x", true),
        ("t/${jwt:tenant, 'public'}/*", "t/acme/x", false),
        ("t/${jwt:sub, 'public'}", "t/alice", true),
        // Unresolved (no default): matches nothing, not even a literal.
        ("t/${jwt:tenant}", "t/", false),
        ("t/${jwt:tenant}", "t/${jwt:tenant}", false),
        // Multi-valued claims are not substituted.
        ("t/${jwt:groups}", "t/x", false),
        // Escapes are literal.
        ("f/${*}", "f/*", true),
        ("f/${*}", "f/a", false),
        ("f/${?}", "f/?", true),
        ("f/${?}", "f/a", false),
        ("f/${$}{x}", "f/${x}", true),
        // Substituted values are literal text, never wildcards.
        ("u/${cognito:username}", "u/al*ce", true),
        ("u/${cognito:username}", "u/alice", false),
    ];
    for (p, path, want) in cases {
        let d = res(p);
        assert_eq!(
            decide(&[&d], "x:y", &arn("prod", "GET", path), &ctx) == PolicyDecision::Allow,
            want,
            "{p} vs {path}"
        );
    }
    // Without a Version, `${...}` is literal text.
    let d = doc(
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:execute-api:*:*:*/prod/GET/users/${jwt:sub}"}}"#,
    );
    assert_eq!(
        decide(&[&d], "x:y", &arn("prod", "GET", "users/alice"), &ctx),
        PolicyDecision::ImplicitDeny
    );
    assert_eq!(
        decide(&[&d], "x:y", &arn("prod", "GET", "users/${jwt:sub}"), &ctx),
        PolicyDecision::Allow
    );
    let d = doc(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"jwt:sub":"${jwt:sub}"}}}}"#,
    );
    assert_eq!(
        decide(&[&d], "x:y", "*", &ctx),
        PolicyDecision::ImplicitDeny
    );
    // In condition values.
    let headers = [("x-user", "alice")];
    let ctx2 = EvalContext {
        headers: &headers,
        ..ctx
    };
    assert!(holds(
        json!({"StringEquals": {"request:header/x-user": "${jwt:sub}"}}),
        &ctx2
    ));
    assert!(holds(
        json!({"StringLike": {"request:header/x-user": "${jwt:sub}*"}}),
        &ctx2
    ));
    assert!(holds(
        json!({"StringEqualsIgnoreCase": {"request:header/x-user": "${jwt:sub}"}}),
        &ctx2
    ));
    assert!(!holds(
        json!({"StringEquals": {"request:header/x-user": "${jwt:nope}"}}),
        &ctx2
    ));
    assert!(holds(
        json!({"StringEquals": {"request:header/x-user": "${jwt:nope, 'alice'}"}}),
        &ctx2
    ));
    assert!(holds(
        json!({"ArnLike": {"jwt:role": "arn:aws:iam::${jwt:acct}:role/*"}}),
        &EvalContext {
            claims: Some(&claims(
                json!({"role": "arn:aws:iam::42:role/r", "acct": 42})
            )),
            ..Default::default()
        }
    ));
}

#[test]
fn group_merging() {
    // All groups' statements count; a group with no statements contributes nothing.
    let readers = stmt_doc(
        json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/*/GET/*"}),
    );
    let writers = stmt_doc(
        json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/*/POST/*"}),
    );
    let empty = doc(r#"{"Version":"2012-10-17","Statement":[]}"#);
    let ctx = EvalContext::default();
    let pol = [&readers, &empty, &writers];
    assert_eq!(
        decide(&pol, "execute-api:Invoke", &arn("p", "GET", "a"), &ctx),
        PolicyDecision::Allow
    );
    assert_eq!(
        decide(&pol, "execute-api:Invoke", &arn("p", "POST", "a"), &ctx),
        PolicyDecision::Allow
    );
    assert_eq!(
        decide(&pol, "execute-api:Invoke", &arn("p", "DELETE", "a"), &ctx),
        PolicyDecision::ImplicitDeny
    );
}

#[test]
fn dependencies_and_accessors() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"A","Effect":"Allow","Action":"*","Resource":"arn:aws:execute-api:*:*:*/p/GET/${request:query/x}","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"StringEquals":{"jwt:sub":"${aws:UserAgent}"}}},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01"}}}]}"#);
    let deps = d.dependencies();
    assert!(deps.source_ip && deps.time && deps.user_agent && deps.query);
    assert!(!deps.headers && !deps.referer && !deps.secure_transport);
    assert_eq!(d.sid(0), Some("A"));
    assert_eq!(d.sid(1), None);
    assert_eq!(d.is_allow(1), Some(false));
    let plain = stmt_doc(
        json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"jwt:sub": "a"}}}),
    );
    assert!(!plain.dependencies().any());
}

#[test]
fn from_value_matches_parse() {
    let v = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*",
        "Condition": {"NumericLessThan": {"jwt:n": 10}}}]});
    let a = PolicyDocument::from_value(&v).unwrap().document;
    let b = PolicyDocument::parse(&v.to_string()).unwrap().document;
    assert_eq!(a, b);
}

#[test]
fn specialize_for_api_gateway() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Mine","Effect":"Allow","Action":"execute-api:Invoke","Resource":["arn:aws:execute-api:*:*:*/p/GET/users/${jwt:sub}/*","arn:aws:execute-api:*:*:*/p/GET/t/${jwt:tenant}"]},
        {"Effect":"Allow","Action":["execute-api:Invoke"],"Resource":"arn:aws:execute-api:*:*:*/p/GET/office","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
        {"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/p/GET/only/${jwt:tenant}"},
        {"Effect":"Deny","NotAction":"execute-api:Invoke","Resource":"*"},
        {"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/p/GET/u/${cognito:username}"},
        {"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/p/GET/u/${cognito:username}"}
    ]}"#);
    let c = claims(json!({"sub": "alice", "username": "a*"}));
    let ctx = EvalContext {
        claims: Some(&c),
        source_ip: Some("192.0.2.1".parse().unwrap()),
        ..Default::default()
    };
    let out = d.specialize(&ctx);
    assert_eq!(
        out,
        vec![
            json!({"Sid": "Mine", "Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": ["arn:aws:execute-api:*:*:*/p/GET/users/alice/*"]}),
            json!({"Effect": "Deny", "NotAction": ["execute-api:Invoke"], "Resource": ["*"]}),
            // `a*` cannot be written literally: dropped from the Allow, widened in the Deny.
            // A Deny also covers the trailing-slash twin and HEAD for GET (routers serve
            // them alike), so they travel to API Gateway too.
            json!({"Effect": "Deny", "Action": ["execute-api:Invoke"], "Resource": [
                "arn:aws:execute-api:*:*:*/p/GET/u/a*",
                "arn:aws:execute-api:*:*:*/p/GET/u/a*/",
                "arn:aws:execute-api:*:*:*/p/HEAD/u/a*",
                "arn:aws:execute-api:*:*:*/p/HEAD/u/a*/"
            ]}),
        ]
    );
    let ctx = EvalContext {
        source_ip: Some("10.0.0.1".parse().unwrap()),
        ..ctx
    };
    assert_eq!(d.specialize(&ctx).len(), 4);
}

#[test]
fn many_close_statements_are_all_listed() {
    let statements: Vec<Value> = (0..12)
        .map(|i| {
            json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
        })
        .collect();
    let d = doc(&json!({"Version": "2012-10-17", "Statement": statements}).to_string());
    let ctx = EvalContext {
        source_ip: Some("192.0.2.1".parse().unwrap()),
        ..Default::default()
    };
    // More than the evaluator keeps on its stack: it rescans.
    let e = evaluate(
        &[("g", &d)],
        "execute-api:Invoke",
        &arn("p", "GET", ""),
        &ctx,
    );
    assert_eq!(e.close.len(), 12);
    assert!(e
        .close
        .iter()
        .all(|c| c.failed_condition.as_deref() == Some("IpAddress aws:SourceIp")));
    let few = doc(&json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
    ]}).to_string());
    let e = evaluate(
        &[("g", &few)],
        "execute-api:Invoke",
        &arn("p", "GET", ""),
        &ctx,
    );
    let labels: Vec<_> = e
        .close
        .iter()
        .map(|c| c.failed_condition.clone().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["IpAddress aws:SourceIp", "Bool aws:SecureTransport"]
    );
}

#[test]
fn a_deny_covers_the_trailing_slash_twin_and_head() {
    // (Deny resource, request ARN, denied). Everything is allowed besides.
    let cases: Vec<(String, String, bool)> = vec![
        (arn("p", "GET", "admin"), arn("p", "GET", "admin"), true),
        (arn("p", "GET", "admin"), arn("p", "GET", "admin/"), true),
        (arn("p", "GET", "admin"), arn("p", "HEAD", "admin"), true),
        (arn("p", "GET", "admin"), arn("p", "HEAD", "admin/"), true),
        (arn("p", "GET", "admin"), arn("p", "GET", "admin/x"), false),
        (
            arn("p", "GET", "admin"),
            arn("p", "GET", "administrator"),
            false,
        ),
        (arn("p", "GET", "admin"), arn("p", "POST", "admin"), false),
        (arn("p", "GET", "admin/"), arn("p", "GET", "admin"), true),
        (arn("p", "GET", "admin/*"), arn("p", "GET", "admin"), true),
        (
            arn("p", "GET", "admin/*"),
            arn("p", "GET", "admin/x/"),
            true,
        ),
        (arn("p", "GET", "admin/*"), arn("p", "GET", "adminx"), false),
        (arn("p", "GET", "adm?n"), arn("p", "GET", "admin/"), true),
        (arn("p", "GET", "admin?"), arn("p", "GET", "admin"), true),
        (arn("p", "*", "admin"), arn("p", "HEAD", "admin/"), true),
        (arn("p", "HEAD", "admin"), arn("p", "GET", "admin"), false),
        (arn("p", "GET", ""), arn("p", "HEAD", ""), true),
    ];
    for (deny, request, denied) in cases {
        let d = doc(&json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": deny}]})
        .to_string());
        let got = decide(
            &[&d],
            "execute-api:Invoke",
            &request,
            &EvalContext::default(),
        );
        let want = if denied {
            PolicyDecision::ExplicitDeny
        } else {
            PolicyDecision::Allow
        };
        assert_eq!(got, want, "Deny {deny} on {request}");
    }
    // A NotResource Deny is not widened: more exceptions would allow more.
    let d = stmt_doc(
        json!({"Effect": "Deny", "Action": "execute-api:Invoke", "NotResource": arn("p", "GET", "public")}),
    );
    let got = decide(
        &[&d],
        "execute-api:Invoke",
        &arn("p", "GET", "public/"),
        &EvalContext::default(),
    );
    assert_eq!(got, PolicyDecision::ExplicitDeny);
}
