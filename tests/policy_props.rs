//! Properties of evaluation: it never panics, and more Allow never undoes an explicit deny.

use edge_authz::policy::{evaluate, EvalContext, PolicyDecision, PolicyDocument};
use edge_authz::token::Claims;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn action() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        Just(json!("execute-api:Invoke")),
        Just(json!("execute-api:*")),
        Just(json!(["execute-api:invoke", "s3:Get?bject"])),
    ]
}

fn resource() -> impl Strategy<Value = String> {
    let parts = proptest::sample::select(vec![
        "*",
        "prod",
        "GET",
        "POST",
        "pets",
        "?",
        "a:b",
        "${jwt:sub}",
        "${jwt:x, 'd'}",
        "${*}",
        "",
    ]);
    proptest::collection::vec(parts, 0..5)
        .prop_map(|p| format!("arn:aws:execute-api:*:*:api/{}", p.join("/")))
}

fn condition() -> impl Strategy<Value = Value> {
    proptest::sample::select(vec![
        json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}),
        json!({"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
        json!({"StringEquals": {"jwt:sub": ["alice", "${jwt:other}"]}}),
        json!({"StringNotLike": {"request:header/x": "a*"}}),
        json!({"ForAllValues:StringEquals": {"cognito:groups": ["a", "b"]}}),
        json!({"ForAnyValue:StringLike": {"cognito:groups": "?"}}),
        json!({"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}),
        json!({"NumericLessThanIfExists": {"jwt:n": 5}}),
        json!({"Bool": {"aws:SecureTransport": true}}),
        json!({"Null": {"jwt:sub": "false"}}),
        json!({"ArnLike": {"jwt:role": "arn:aws:iam::*:role/*"}}),
    ])
}

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        action(),
        any::<bool>(),
        proptest::collection::vec(resource(), 1..3),
        proptest::option::of(condition()),
    )
        .prop_map(|(allow, action, not_res, res, cond)| {
            let mut m = Map::new();
            m.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
            m.insert("Action".into(), action);
            m.insert(
                if not_res { "NotResource" } else { "Resource" }.into(),
                json!(res),
            );
            if let Some(c) = cond {
                m.insert("Condition".into(), c);
            }
            Value::Object(m)
        })
}

fn document() -> impl Strategy<Value = PolicyDocument> {
    proptest::collection::vec(statement(), 0..6).prop_map(|s| {
        PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": s}))
            .unwrap_or_else(|e| panic!("{e}"))
            .document
    })
}

fn request() -> impl Strategy<Value = String> {
    let parts = proptest::sample::select(vec![
        "prod", "GET", "POST", "pets", "alice", "a:b", "*", "d", "",
    ]);
    proptest::collection::vec(parts, 0..5)
        .prop_map(|p| format!("arn:aws:execute-api:us-east-1:1:api/{}", p.join("/")))
}

#[derive(Debug)]
struct Ctx {
    ip: Option<std::net::IpAddr>,
    claims: Claims,
    now: u64,
}

fn ctx() -> impl Strategy<Value = Ctx> {
    let ip = proptest::option::of(proptest::sample::select(vec![
        "10.1.2.3",
        "192.0.2.9",
        "2001:db8::5",
        "::ffff:10.0.0.1",
    ]));
    let groups = proptest::collection::vec(proptest::sample::select(vec!["a", "b", "c"]), 0..3);
    (
        ip,
        proptest::option::of(groups),
        any::<bool>(),
        1_600_000_000u64..1_800_000_000,
    )
        .prop_map(|(ip, groups, sub, now)| {
            let mut claims = Map::new();
            if let Some(g) = groups {
                claims.insert("cognito:groups".into(), json!(g));
            }
            if sub {
                claims.insert("sub".into(), json!("alice"));
                claims.insert("n".into(), json!(3));
            }
            Ctx {
                ip: ip.map(|i| i.parse().unwrap()),
                claims: Claims::from_map(claims),
                now,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn evaluation_never_panics(docs in proptest::collection::vec(document(), 0..4), req in request(), c in ctx(),
                               action in proptest::sample::select(vec!["execute-api:Invoke", "EXECUTE-API:INVOKE", "s3:GetObject", ""])) {
        let headers = [("x", "abc")];
        let ctx = EvalContext { source_ip: c.ip, now: c.now, claims: Some(&c.claims), headers: &headers, ..Default::default() };
        let policies: Vec<(&str, &PolicyDocument)> = docs.iter().map(|d| ("g", d)).collect();
        let e = evaluate(&policies, action, &req, &ctx);
        let _ = e.explain(&policies, action, &req).to_string();
        for d in &docs {
            let _ = d.specialize(&ctx);
        }
        if e.decision != PolicyDecision::ImplicitDeny {
            prop_assert!(e.decided_by.is_some());
        }
    }

    #[test]
    fn adding_an_allow_never_undoes_a_deny(docs in proptest::collection::vec(document(), 1..4), extra in statement(),
                                           req in request(), c in ctx()) {
        let ctx = EvalContext { source_ip: c.ip, now: c.now, claims: Some(&c.claims), ..Default::default() };
        let policies: Vec<(&str, &PolicyDocument)> = docs.iter().map(|d| ("g", d)).collect();
        let before = evaluate(&policies, "execute-api:Invoke", &req, &ctx).decision;
        let mut extra = extra;
        extra["Effect"] = json!("Allow");
        let allow = PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": [extra]})).unwrap().document;
        let mut more = policies.clone();
        more.push(("extra", &allow));
        let after = evaluate(&more, "execute-api:Invoke", &req, &ctx).decision;
        match before {
            PolicyDecision::ExplicitDeny => prop_assert_eq!(after, PolicyDecision::ExplicitDeny),
            PolicyDecision::Allow => prop_assert_eq!(after, PolicyDecision::Allow),
            PolicyDecision::ImplicitDeny => prop_assert_ne!(after, PolicyDecision::ExplicitDeny),
        }
    }

    #[test]
    fn parse_never_panics(s in ".{0,200}") {
        let _ = PolicyDocument::parse(&s);
    }

    #[test]
    fn parse_structured_noise_never_panics(
        keys in proptest::collection::vec(proptest::sample::select(vec!["Effect", "Action", "NotAction", "Resource", "NotResource",
            "Condition", "Sid", "Principal", "Foo"]), 0..6),
        vals in proptest::collection::vec(proptest::sample::select(vec![json!("Allow"), json!("*"), json!(["a:b", 1]), json!({}),
            json!(null), json!({"StringLike": {"jwt:a": "${"}}), json!({"IpAddress": {"aws:sourceip": "1.2.3.4/40"}}),
            json!("arn:aws:execute-api:*:*:${jwt:a}"), json!({"Null": {"jwt:a": ["true", "x"]}})]), 0..6)) {
        let st: Map<String, Value> = keys.iter().zip(vals).map(|(k, v)| (k.to_string(), v)).collect();
        let _ = PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": [st]}));
    }
}
