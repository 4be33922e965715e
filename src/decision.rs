//! What the authorizer answers: an outcome, a reason code, the caller's identity.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::policy::{Evaluation, PolicyDocument};
use crate::request_path::PathError;
use crate::token::claims::Identity;
use crate::token::error::TokenError;

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

/// A verified caller, shared by every decision made for the same token.
#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) identity: Identity,
    /// Keys are mostly the fixed names (`sub`, `groups`, ...): borrowed, not allocated.
    pub(crate) context: Vec<(Cow<'static, str>, ContextValue)>,
    pub(crate) claims: Map<String, Value>,
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
    /// Why, as a stable code for logs (`allowed`, `expired`, `explicit_deny`, ...).
    /// Never sent to the client.
    pub reason: &'static str,
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
    pub(crate) fn new(outcome: Outcome, reason: &'static str) -> Self {
        Self {
            outcome,
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
            ..Self::new(Outcome::BadRequest, error.code())
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
    pub fn claims(&self) -> Option<&Map<String, Value>> {
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
        match (&self.token_error, self.reason) {
            (Some(error), reason) => alloc::format!("{reason}: {error}"),
            (None, "no_credentials") => String::from("no_credentials: the request carries no bearer token"),
            (None, "malformed_authorization") => String::from(
                "malformed_authorization: the credential is not `Bearer <token>` (or is given twice)",
            ),
            (None, "invalid_policy") => String::from(
                "invalid_policy: a policy of the caller's groups failed validation; denied until it is fixed",
            ),
            (None, "policies_unavailable") => {
                String::from("policies_unavailable: the caller's group policies could not be loaded")
            }
            (None, reason) => String::from(reason),
        }
    }
}
