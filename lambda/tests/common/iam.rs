//! API Gateway's side of an authorizer answer, as the tests model it: the IAM evaluation it
//! applies to a returned (and cached) policy, the method ARN it builds for a request, and
//! the authorizer cache keyed by identity sources.
//!
//! The evaluation follows the IAM rules API Gateway applies to authorizer policies
//! (../shared/notes/semantics.md): default deny, any applicable `Deny` wins, else any
//! applicable `Allow`; `Action` names case-insensitive; `Resource` ARNs case-sensitive with
//! `*` matching any run of characters (`/` and `:` included) and `?` one character, over the
//! whole ARN. Conditions are resolved against us: whether API Gateway re-evaluates the
//! conditions of a cached policy per request is not documented, so a conditional `Allow` is
//! taken to apply and a conditional `Deny` not to (the returned policies should hold no
//! condition at all: the core specialises them; [`conditions`] lets a test assert that).

use serde_json::Value;

/// `execute-api:Invoke`, the action API Gateway checks.
pub const INVOKE: &str = "execute-api:Invoke";

/// `*` / `?` wildcard matching over the whole text (`*` crosses `/` and `:`), in linear
/// space and O(pattern × text) time, with `case_sensitive` or ASCII-case-insensitive
/// comparison of the other characters.
pub fn glob(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| {
        if case_sensitive {
            a == b
        } else {
            a.eq_ignore_ascii_case(&b)
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && same(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn statements(policy: &Value) -> Vec<&Value> {
    match &policy["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&policy["Statement"]],
        _ => Vec::new(),
    }
}

/// Whether `statement` applies to `action` on `resource`, conditions aside.
fn applies(statement: &Value, action: &str, resource: &str) -> bool {
    let action_ok = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(actions), _) => strings(actions).iter().any(|a| glob(a, action, false)),
        (None, Some(not)) => !strings(not).iter().any(|a| glob(a, action, false)),
        (None, None) => false,
    };
    let resource_ok = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(resources), _) => strings(resources).iter().any(|r| glob(r, resource, true)),
        (None, Some(not)) => !strings(not).iter().any(|r| glob(r, resource, true)),
        (None, None) => false,
    };
    action_ok && resource_ok
}

fn conditional(statement: &Value) -> bool {
    statement
        .get("Condition")
        .is_some_and(|c| c.as_object().is_some_and(|m| !m.is_empty()))
}

/// Whether API Gateway lets `resource` through with `policy` (a `policyDocument`), for
/// `execute-api:Invoke`, conditions resolved against us (see the module).
pub fn allows(policy: &Value, resource: &str) -> bool {
    let applicable = |effect: &str| {
        statements(policy).into_iter().any(|s| {
            s["Effect"] == effect
                && applies(s, INVOKE, resource)
                // A conditional Deny might not apply; a conditional Allow might.
                && !(effect == "Deny" && conditional(s))
        })
    };
    !applicable("Deny") && applicable("Allow")
}

/// How many statements of `policy` carry a condition or an unresolved `${variable}`.
pub fn conditions(policy: &Value) -> usize {
    statements(policy)
        .into_iter()
        .filter(|s| conditional(s) || s.to_string().contains("${"))
        .count()
}

/// Decodes every `%XX` of `text`; `None` when the bytes are not UTF-8 or an escape is
/// malformed (such a path has no decoded form).
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A request target's path (before any `?`) and its query parameters (decoded, `+` kept).
pub fn split_target(target: &str) -> (&str, Vec<(String, String)>) {
    match target.split_once('?') {
        None => (target, Vec::new()),
        Some((path, query)) => {
            let params = query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    let dec = |s: &str| percent_decode(s).unwrap_or_else(|| s.to_owned());
                    (dec(k), dec(v))
                })
                .collect();
            (path, params)
        }
    }
}

/// The method ARN API Gateway builds for `method` and `path` under `stage_arn`
/// (`arn:aws:execute-api:{region}:{account}:{api}/{stage}`): the path without its leading
/// `/` (the root is `…/GET/`).
pub fn method_arn(stage_arn: &str, method: &str, path: &str) -> String {
    format!(
        "{stage_arn}/{}/{}",
        method.to_ascii_uppercase(),
        path.strip_prefix('/').unwrap_or(path)
    )
}

/// The ARNs API Gateway may build for a request: with the path as sent, and percent-decoded
/// (which one it uses for `methodArn` is not documented; HTTP APIs decode paths before
/// routing). Each is checked.
pub fn arn_forms(stage_arn: &str, method: &str, path: &str) -> Vec<String> {
    let mut forms = vec![method_arn(stage_arn, method, path)];
    if let Some(decoded) = percent_decode(path) {
        let arn = method_arn(stage_arn, method, &decoded);
        if !forms.contains(&arn) {
            forms.push(arn);
        }
    }
    forms
}
