//! What the authorizer answers: an outcome, a reason code, the caller's identity.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::config::Response;
use crate::json::push_json_str;
use crate::policy::{Evaluation, PolicyDocument};
use crate::reason::Reason;
use crate::request_path::PathError;
use crate::token::claims::Identity;
use crate::token::error::TokenError;
use crate::token::Claims;

/// The outcome of a request, mapped by every adapter to its runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Let the request through.
    Allow,
    /// No credentials or a malformed `Authorization` header: 401.
    Unauthorized,
    /// An invalid token or a policy deny: 403.
    Forbidden,
    /// Keys or policies could not be loaded and nothing usable is cached: 503 (never allow).
    Unavailable,
    /// The request path or method is ambiguous and refused: 400 (`path_*` reasons).
    BadRequest,
}

impl Outcome {
    /// `allow`, `unauthorized`, `forbidden`, `unavailable` or `bad_request`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Unavailable => "unavailable",
            Self::BadRequest => "bad_request",
        }
    }
}

/// A value of the identity context: API Gateway allows only strings, numbers and booleans.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    /// A string.
    String(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

/// The headers of every denial: JSON, and never stored by a cache (a shared cache serving
/// one caller's denial, or worse a later allow, to another is what `no-store` prevents).
pub(crate) const DENIAL_HEADERS: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("cache-control", "no-store"),
];

/// A 401's headers: the denial's, and the scheme the client must use (RFC 6750 §3).
pub(crate) const UNAUTHORIZED_HEADERS: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("cache-control", "no-store"),
    ("www-authenticate", "Bearer"),
];

/// What an adapter sends for a decision: the one rendering every runtime maps to its own
/// response type ([`Authorizer::render`](crate::Authorizer::render)). An allow renders as
/// status 200 with no headers and no body: the request goes on to the origin, with
/// [`context`](Self::context) as the caller's identity.
#[derive(Debug, Clone, Copy)]
pub struct Rendered<'a> {
    /// What to do.
    pub outcome: Outcome,
    /// Why (for logs; never sent to the client).
    pub reason: Reason,
    /// The HTTP status: 200 for an allow, else the configured response's.
    pub status: u16,
    /// The denial's headers (`content-type`, `cache-control: no-store`, and
    /// `www-authenticate: Bearer` on a 401); none for an allow.
    pub headers: &'static [(&'static str, &'static str)],
    /// The denial's body (JSON text, from the configured `responses`); `None` for an allow.
    pub body: Option<&'a str>,
    /// The caller's identity (empty when the token was not verified).
    pub context: &'a [(Cow<'static, str>, ContextValue)],
}

impl<'a> Rendered<'a> {
    /// A response for `decision` with the configured response `response` (none: an allow).
    pub(crate) fn new(decision: &'a Decision, response: Option<&'a Response>) -> Self {
        Self::with(decision.reason, response, decision.context())
    }

    /// A response for `reason` with `response` and `context`.
    pub(crate) fn with(
        reason: Reason,
        response: Option<&'a Response>,
        context: &'a [(Cow<'static, str>, ContextValue)],
    ) -> Self {
        let outcome = reason.outcome();
        let (status, body) = match (outcome, response) {
            (Outcome::Allow, _) => (200, None),
            // Every denial has a configured response; were one missing, fail closed.
            (_, None) => (503, None),
            (_, Some(response)) => (response.status, Some(response.body.as_str())),
        };
        let headers = match (outcome, status) {
            (Outcome::Allow, _) => &[][..],
            (_, 401) => UNAUTHORIZED_HEADERS,
            _ => DENIAL_HEADERS,
        };
        Self {
            outcome,
            reason,
            status,
            headers,
            body,
            context,
        }
    }

    /// The context as a JSON object, as API Gateway and the JavaScript adapters pass it on
    /// (strings, numbers, booleans; a non-finite number, which JSON cannot carry, is left
    /// out).
    pub fn context_json(&self) -> Map<String, Value> {
        context_json(self.context)
    }
}

/// The context pairs as a JSON object (non-finite numbers left out).
pub(crate) fn context_json(context: &[(Cow<'static, str>, ContextValue)]) -> Map<String, Value> {
    context
        .iter()
        .filter_map(|(name, value)| {
            let value = match value {
                ContextValue::String(s) => Value::String(s.clone()),
                ContextValue::Number(n) => serde_json::Number::from_f64(*n).map(Value::Number)?,
                ContextValue::Bool(b) => Value::Bool(*b),
            };
            Some((String::from(&**name), value))
        })
        .collect()
}

/// Appends the context pairs as a JSON object text, in the core's order, like
/// [`context_json`] (the JavaScript boundary's allocation-light path).
pub(crate) fn write_context_json(context: &[(Cow<'static, str>, ContextValue)], out: &mut String) {
    use core::fmt::Write as _;
    out.push('{');
    let mut first = true;
    for (name, value) in context {
        if let ContextValue::Number(n) = value {
            if !n.is_finite() {
                continue;
            }
        }
        if !first {
            out.push(',');
        }
        first = false;
        push_json_str(out, name);
        out.push(':');
        match value {
            ContextValue::String(s) => push_json_str(out, s),
            // serde_json's number text (what serializing `Value::from(n)` writes), without
            // a String: writing to one cannot fail.
            ContextValue::Number(n) => {
                if let Some(n) = serde_json::Number::from_f64(*n) {
                    let _ = write!(out, "{n}");
                }
            }
            ContextValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }
    out.push('}');
}

/// A verified caller, shared by every decision made for the same token.
#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) identity: Identity,
    /// Keys are mostly the fixed names (`sub`, `groups`, ...): borrowed, not allocated.
    pub(crate) context: Vec<(Cow<'static, str>, ContextValue)>,
    pub(crate) claims: Claims,
    /// `iat`, for revocation cutoffs.
    pub(crate) issued_at: Option<u64>,
    /// The caller's revocation store keys (none when revocation is off).
    pub(crate) revocation_keys: Vec<String>,
}

/// How the policies decided, kept for explanations and API Gateway policies.
#[derive(Debug)]
pub(crate) struct PolicyTrace {
    /// Whether the policies were matched in their case-folded form.
    pub(crate) folded: bool,
    pub(crate) evaluation: Evaluation,
    pub(crate) policies: Arc<Vec<(String, Arc<PolicyDocument>)>>,
    pub(crate) resource: String,
}

/// The authorizer's answer for one request. Cloning it is cheap (two reference counts).
#[derive(Debug, Clone)]
pub struct Decision {
    /// What to do.
    pub outcome: Outcome,
    /// Why, with a stable [`code`](Reason::code) for logs (`allowed`, `expired`,
    /// `explicit_deny`, ...). Never sent to the client.
    pub reason: Reason,
    /// Why the token was rejected, when it was.
    pub token_error: Option<TokenError>,
    pub(crate) caller: Option<Arc<Caller>>,
    pub(crate) trace: Option<Arc<PolicyTrace>>,
    /// The canonical path to forward, when it is not the request's path as given.
    pub(crate) forward_path: Option<String>,
    /// Why the request was refused, for a `bad_request`.
    pub(crate) path_error: Option<PathError>,
}

impl Decision {
    /// A decision for `reason`, with the outcome that reason belongs to.
    pub(crate) fn new(reason: Reason) -> Self {
        Self {
            outcome: reason.outcome(),
            reason,
            token_error: None,
            caller: None,
            trace: None,
            forward_path: None,
            path_error: None,
        }
    }

    pub(crate) fn bad_request(error: PathError) -> Self {
        Self {
            path_error: Some(error),
            ..Self::new(Reason::from(error))
        }
    }

    /// The path an adapter that forwards must send to the origin instead of the request's
    /// own (its query appended as received), when the two differ: the canonical path the
    /// decision was made for, encoded for the wire. `None`: forward the path as given.
    pub fn forward_path(&self) -> Option<&str> {
        self.forward_path.as_deref()
    }

    /// Whether the request may go through.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The verified caller, when the token was valid (also on a policy deny).
    /// API Gateway's `principalId` is `identity.subject`.
    pub fn identity(&self) -> Option<&Identity> {
        self.caller.as_ref().map(|c| &c.identity)
    }

    /// The identity as flat pairs for the runtime's context: `sub`, `username`, `groups`
    /// (comma-joined), `scope`, `clientId`, `tokenUse`, `issuer`, then configured claims.
    pub fn context(&self) -> &[(Cow<'static, str>, ContextValue)] {
        self.caller.as_ref().map_or(&[], |c| c.context.as_slice())
    }

    /// The verified claims.
    pub fn claims(&self) -> Option<&Claims> {
        self.caller.as_ref().map(|c| &c.claims)
    }

    /// How the policies decided, when they were evaluated.
    pub fn evaluation(&self) -> Option<&Evaluation> {
        self.trace.as_ref().map(|t| &t.evaluation)
    }

    /// The execute-api ARN the policies were evaluated for.
    pub fn resource(&self) -> Option<&str> {
        self.trace.as_ref().map(|t| t.resource.as_str())
    }

    /// The labels (group names, `everyone`, `no-group`) of the policies that were evaluated.
    pub fn policy_labels(&self) -> impl Iterator<Item = &str> {
        self.trace
            .iter()
            .flat_map(|t| t.policies.iter().map(|(label, _)| label.as_str()))
    }

    /// A one-line explanation: the reason and, when policies were evaluated, which
    /// statement decided and which came close.
    pub fn explain(&self) -> String {
        if let Some(trace) = &self.trace {
            let docs: Vec<(&str, &PolicyDocument)> = trace
                .policies
                .iter()
                .map(|(l, d)| {
                    let doc = if trace.folded { d.case_folded() } else { &**d };
                    (l.as_str(), doc)
                })
                .collect();
            let explanation =
                trace
                    .evaluation
                    .explain(&docs, crate::authorizer::ACTION, &trace.resource);
            return alloc::format!("{}: {explanation}", self.reason);
        }
        if let Some(error) = &self.path_error {
            return alloc::format!("{}: {error}", self.reason);
        }
        let detail = match (&self.token_error, self.reason) {
            (Some(error), _) => return alloc::format!("{}: {error}", self.reason),
            (None, Reason::NoCredentials) => "the request carries no bearer token",
            (None, Reason::MalformedAuthorization) => {
                "the credential is not `Bearer <token>` (or is given twice)"
            }
            (None, Reason::InvalidPolicy) => {
                "a policy of the caller's groups failed validation; denied until it is fixed"
            }
            (None, Reason::PoliciesUnavailable) => {
                "the caller's group policies could not be loaded"
            }
            (None, reason) => return String::from(reason.code()),
        };
        alloc::format!("{}: {detail}", self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One pair's text by `write_context_json`, and by serde_json from `context_json`.
    fn both(value: ContextValue) -> (String, String) {
        let context = [(Cow::Borrowed("n"), value)];
        let mut written = String::new();
        write_context_json(&context, &mut written);
        let serialized = serde_json::to_string(&context_json(&context)).unwrap();
        (written, serialized)
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        for n in [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e21,
            1e-7,
            123_456_789.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            9_007_199_254_740_993.0,
        ] {
            let (written, serialized) = both(ContextValue::Number(n));
            assert_eq!(written, serialized, "{n}");
        }
        // Not finite: left out by both.
        assert_eq!(both(ContextValue::Number(f64::NAN)).0, "{}");
    }

    proptest! {
        #[test]
        fn any_finite_number_is_written_as_serde_json_writes_it(n in any::<f64>().prop_filter("finite", |n| n.is_finite())) {
            let (written, serialized) = both(ContextValue::Number(n));
            prop_assert_eq!(written, serialized);
        }
    }
}
