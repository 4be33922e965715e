//! Parse + validate + evaluate arbitrary policies: must never panic, and a document that
//! loads must evaluate and specialise for any request.
#![no_main]

use edge_authz::policy::{evaluate, EvalContext, PolicyDocument};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Input: policy JSON, then optionally `\0` and a request path.
    let (policy, path) = match data.iter().position(|&b| b == 0) {
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
    let path = String::from_utf8_lossy(path);
    let resource = format!("arn:aws:execute-api:us-east-1:123456789012:api/prod/{path}");
    let claims = serde_json::json!({
        "sub": "alice", "cognito:groups": ["a", "b"], "n": 5, "flag": true, "role": "arn:aws:iam::1:role/x"
    });
    let claims = claims.as_object().cloned().unwrap_or_default();
    let headers = [("x-tenant", "acme"), ("user-agent", "fuzz")];
    let query = [("page", "2")];
    let contexts = [
        EvalContext::default(),
        EvalContext {
            source_ip: Some("192.0.2.1".parse().unwrap()),
            now: 1_700_000_000,
            secure_transport: Some(true),
            user_agent: Some("fuzz"),
            referer: Some("https://example.com/"),
            claims: Some(&claims),
            headers: &headers,
            query: &query,
        },
        EvalContext {
            source_ip: Some("2001:db8::1".parse().unwrap()),
            now: u64::MAX,
            ..Default::default()
        },
    ];
    let policies = [("fuzz", &doc), ("again", &doc)];
    for ctx in &contexts {
        for action in ["execute-api:Invoke", "EXECUTE-API:invoke", "s3:GetObject"] {
            let e = evaluate(&policies, action, &resource, ctx);
            let _ = e.explain(&policies, action, &resource).to_string();
        }
        let _ = doc.specialize(ctx);
    }
    let _ = doc.dependencies();
});
