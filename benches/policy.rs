//! Policy evaluation cost: 50 groups × 20 statements with conditions, one request.
//! Budget: ≤ 5 µs per request on a native build.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edge_authz::policy::{evaluate, EvalContext, PolicyDecision, PolicyDocument};
use edge_authz::token::Claims;
use serde_json::{json, Map, Value};

/// Group `g`: 20 statements over its own service, every one with conditions, one in five a
/// Deny; resources use the wildcards real policies use (`*` for region/account/api).
fn group(g: usize) -> PolicyDocument {
    let statements: Vec<Value> = (0..20)
        .map(|s| {
            if s % 5 == 4 {
                json!({
                    "Sid": format!("Deny{s}"),
                    "Effect": "Deny",
                    "Action": "execute-api:Invoke",
                    "Resource": format!("arn:aws:execute-api:*:*:*/*/DELETE/service{g}/res{s}/*"),
                    "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}
                })
            } else {
                json!({
                    "Sid": format!("Allow{s}"),
                    "Effect": "Allow",
                    "Action": ["execute-api:Invoke"],
                    "Resource": [
                        format!("arn:aws:execute-api:*:*:*/prod/GET/service{g}/res{s}/*"),
                        format!("arn:aws:execute-api:*:*:*/prod/POST/service{g}/res{s}"),
                    ],
                    "Condition": {
                        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]},
                        "StringEquals": {"jwt:tenant": ["acme", "${jwt:home_tenant}"]},
                        "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
                    }
                })
            }
        })
        .collect();
    PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": statements}))
        .unwrap()
        .document
}

/// Group `g` in a harder layout: every group uses the same API paths (`/api/res{n}`), so
/// no group can be skipped as a whole and each request meets partial matches everywhere.
fn overlapping_group(g: usize) -> PolicyDocument {
    let statements: Vec<Value> = (0..20)
        .map(|s| {
            let n = (g * 7 + s) % 40;
            json!({
                "Effect": if s % 5 == 4 { "Deny" } else { "Allow" },
                "Action": "execute-api:Invoke",
                "Resource": [format!("arn:aws:execute-api:*:*:*/*/GET/api/res{n}/*"), format!("arn:aws:execute-api:*:*:*/*/PUT/api/res{n}")],
                "Condition": {
                    "IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]},
                    "StringEquals": {"jwt:tenant": format!("t{g}")}
                }
            })
        })
        .collect();
    PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": statements}))
        .unwrap()
        .document
}

fn bench(c: &mut Criterion) {
    let docs: Vec<PolicyDocument> = (0..50).map(group).collect();
    let names: Vec<String> = (0..50).map(|g| format!("group-{g}")).collect();
    let policies: Vec<(&str, &PolicyDocument)> =
        names.iter().map(String::as_str).zip(docs.iter()).collect();
    let mut claims = Map::new();
    claims.insert("tenant".into(), json!("acme"));
    claims.insert("cognito:groups".into(), json!(names));
    let claims = Claims::from_map(claims);
    let headers = [("user-agent", "bench"), ("x-request-id", "abc")];
    let ctx = EvalContext {
        source_ip: Some("10.1.2.3".parse().unwrap()),
        now: 1_750_000_000,
        secure_transport: Some(true),
        user_agent: Some("bench"),
        referer: None,
        claims: Some(&claims),
        headers: &headers,
        query: &[],
    };
    let api = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234";
    let last = format!("{api}/prod/GET/service49/res18/items/42");
    let none = format!("{api}/prod/GET/service77/res3/items/42");
    let deny = format!("{api}/prod/DELETE/service49/res19/x");
    assert_eq!(
        evaluate(&policies, "execute-api:Invoke", &last, &ctx).decision,
        PolicyDecision::Allow
    );
    assert_eq!(
        evaluate(&policies, "execute-api:Invoke", &none, &ctx).decision,
        PolicyDecision::ImplicitDeny
    );
    let far = EvalContext {
        source_ip: Some("203.0.113.1".parse().unwrap()),
        ..ctx
    };
    assert_eq!(
        evaluate(&policies, "execute-api:Invoke", &deny, &far).decision,
        PolicyDecision::ExplicitDeny
    );

    let mut g = c.benchmark_group("policy_50x20");
    g.bench_function("allow_last_statement", |b| {
        b.iter(|| {
            evaluate(
                black_box(&policies),
                "execute-api:Invoke",
                black_box(&last),
                black_box(&ctx),
            )
        })
    });
    g.bench_function("implicit_deny", |b| {
        b.iter(|| {
            evaluate(
                black_box(&policies),
                "execute-api:Invoke",
                black_box(&none),
                black_box(&ctx),
            )
        })
    });
    g.bench_function("explicit_deny_last_group", |b| {
        b.iter(|| {
            evaluate(
                black_box(&policies),
                "execute-api:Invoke",
                black_box(&deny),
                black_box(&far),
            )
        })
    });
    g.finish();

    // Every group's statements touch the same paths; only the tenant condition differs.
    let odocs: Vec<PolicyDocument> = (0..50).map(overlapping_group).collect();
    let opolicies: Vec<(&str, &PolicyDocument)> =
        names.iter().map(String::as_str).zip(odocs.iter()).collect();
    let mut oclaims = Map::new();
    oclaims.insert("tenant".into(), json!("t49"));
    let oclaims = Claims::from_map(oclaims);
    let octx = EvalContext {
        claims: Some(&oclaims),
        ..ctx
    };
    let hit = format!("{api}/prod/GET/api/res{}/x", (49 * 7 + 3) % 40);
    let miss = format!("{api}/prod/GET/api/res{}/x", 41);
    assert_eq!(
        evaluate(&opolicies, "execute-api:Invoke", &hit, &octx).decision,
        PolicyDecision::Allow
    );
    assert_eq!(
        evaluate(&opolicies, "execute-api:Invoke", &miss, &octx).decision,
        PolicyDecision::ImplicitDeny
    );
    let mut g = c.benchmark_group("policy_50x20_overlapping");
    g.bench_function("allow", |b| {
        b.iter(|| {
            evaluate(
                black_box(&opolicies),
                "execute-api:Invoke",
                black_box(&hit),
                black_box(&octx),
            )
        })
    });
    g.bench_function("implicit_deny_nothing_close", |b| {
        b.iter(|| {
            evaluate(
                black_box(&opolicies),
                "execute-api:Invoke",
                black_box(&miss),
                black_box(&octx),
            )
        })
    });
    g.finish();

    c.bench_function("policy_parse_20_statements", |b| {
        let text = serde_json::to_string(
            &json!({"Version": "2012-10-17", "Statement": (0..20).map(|s| json!({
            "Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": format!("arn:aws:execute-api:*:*:*/prod/GET/service/res{s}/*"),
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})).collect::<Vec<_>>()}),
        )
        .unwrap();
        b.iter(|| PolicyDocument::parse(black_box(&text)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
