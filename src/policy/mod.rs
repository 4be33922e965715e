//! What callers may do: IAM policy documents, validated once and evaluated many times.
//!
//! [`PolicyDocument::parse`] reads an identity policy as API Gateway/IAM would, rejects what
//! we cannot honour (every error located, e.g.
//! `Statement[1].Condition.IpAddress.aws:SourceIp[0]: invalid CIDR "300.1.2.3/8"`), warns
//! about what is probably a mistake, and compiles it. [`evaluate`] applies the documents of
//! a user's groups to one request with IAM's rules: default deny, any matching `Deny`
//! wins, otherwise any matching `Allow`.
//!
//! # Matching
//! Actions match case-insensitively, resources case-sensitively; `*` matches any run of
//! characters (including `/` and `:`), `?` exactly one. The request resource of API
//! Gateway is `arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}/{path}`
//! (the root path is a trailing `/`).
//!
//! # Condition keys
//! Key names are case-insensitive, except what follows `jwt:` (claim names are
//! case-sensitive, like JSON) and `request:query/` (query parameter names are
//! case-sensitive); header names are lowercase.
//!
//! | key | type | operators |
//! |-----|------|-----------|
//! | `aws:SourceIp` | IP | `IpAddress`, `NotIpAddress` |
//! | `aws:CurrentTime` | date | `Date*` |
//! | `aws:EpochTime` | epoch seconds | `Date*`, `Numeric*` |
//! | `aws:SecureTransport` | bool | `Bool` |
//! | `aws:UserAgent`, `aws:Referer`, `request:header/<name>`, `request:query/<name>` | text | `String*`, `BinaryEquals` |
//! | `jwt:<claim>`, `cognito:groups`, `cognito:username` | JSON claim (arrays are multi-valued; numbers and booleans compare as their JSON text in String operators) | all but `IpAddress` |
//!
//! `Null` works with every key. `cognito:groups` reads the claim `cognito:groups`;
//! `cognito:username` reads `cognito:username`, else `username`.
//!
//! # Policy variables
//! With `"Version": "2012-10-17"`, `${key}` / `${key, 'default'}` may appear in the resource
//! part of a Resource ARN and in String/Arn condition values; `${*}`, `${?}`, `${$}` are a
//! literal `*`, `?`, `$`. Substituted values are literal text, never wildcards. A key that is
//! absent (without default) or multi-valued cannot be substituted: the Resource or
//! condition value containing it matches nothing. Without a Version (or with
//! `2008-10-17`), `${...}` is literal text.
//!
//! # Choices where IAM is silent or we are stricter
//! - Operator names are case-sensitive (an unknown spelling is an error, never ignored).
//! - `ArnEquals` and `ArnLike` both take wildcards, per ARN segment (as IAM documents).
//! - A context value a typed operator cannot read (a claim `"abc"` under `NumericEquals`)
//!   matches no policy value: positive operators are false, negated ones true.
//! - An unresolvable variable in a condition value makes that value match nothing.
//! - An IPv4-mapped IPv6 client (`::ffff:192.0.2.1`) is the IPv4 client; IPv4 clients never
//!   match IPv6 ranges and vice versa.
//! - `Bool` and `Null` accept `true`/`false` in any ASCII case, as strings or JSON booleans.
//! - A repeated header is multi-valued; claims that are JSON arrays are multi-valued;
//!   operators without `ForAllValues`/`ForAnyValue` are true if any value matches (negated:
//!   if none does).
//!
//! # Cost
//! Evaluation never touches JSON and allocates nothing unless the answer is an implicit
//! deny with close statements. Each document indexes its statements by the rarest
//! byte-triple of each resource pattern and keeps the triples all its patterns share, so a
//! request only visits statements whose literal text it could contain.
//!
//! # Not supported (load-time errors)
//! `Principal`/`NotPrincipal` (`principal_not_allowed`), condition keys other than those
//! above (`unsupported_condition_key`), operators applied to a key of another type, e.g.
//! `StringEquals` on `aws:SourceIp` (`operator_key_mismatch`), `Null` with `IfExists` or a
//! set qualifier (`invalid_null`), `${cognito:groups}` (multi-valued) as a variable
//! (`unsupported_variable`).

// The phases, in order: `json` and `parse` (text to a located syntax tree), `validate`
// (every error and warning), `compile` (matchers and the statement index); evaluation is
// below, on the compiled document.
mod compile;
mod condition;
mod error;
mod glob;
mod index;
mod json;
mod keys;
mod parse;
mod resource;
mod scalar;
#[cfg(test)]
mod tests;
mod validate;

use alloc::{format, string::String, vec::Vec};
use core::{fmt, net::IpAddr};

pub use error::{PolicyError, PolicyErrorKind, PolicyErrors, PolicyWarning};
pub use json::{repeated_members, JsonStep};

use compile::{Effect, Hot, Statement};
use glob::{Filter, Glob, Sketch};
use index::Index;
use json::Json;
use validate::Diag;

/// A validated, compiled identity policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
    deps: Dependencies,
    /// The first 64 distinct Action/NotAction patterns.
    action_table: Vec<Glob>,
    /// Per statement, what the scan reads.
    hot: Vec<Hot>,
    /// Every resource pattern's sketch, statement after statement.
    filters: Vec<Sketch>,
    index: Index,
    /// The case-folded form (see [`case_folded`](Self::case_folded)), when it differs.
    folded: Option<alloc::sync::Arc<PolicyDocument>>,
}

/// A document and the warnings found while loading it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPolicy {
    /// The compiled document.
    pub document: PolicyDocument,
    /// Things that are valid but probably not what the author meant.
    pub warnings: Vec<PolicyWarning>,
}

/// Everything [`PolicyDocument::check`] found in a policy: the compiled document if it is
/// valid, and every error and every warning, located, whether or not it is valid.
///
/// [`parse`](PolicyDocument::parse) is the same check when only a valid policy matters: it
/// answers `Ok` with `document` and `warnings` exactly when `errors` is empty, `Err` with
/// `errors` otherwise. `check` is for tools that show authors everything at once (the
/// warnings of a policy with errors too, e.g. `edge-authz validate`).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyCheck {
    /// The compiled document: `Some` exactly when `errors` is empty.
    pub document: Option<PolicyDocument>,
    /// Every error (never empty when `document` is `None`).
    pub errors: Vec<PolicyError>,
    /// Things that are valid but probably not what the author meant, including those of
    /// the valid parts of a policy with errors (a statement with an error still has the
    /// warnings of its other members; `redundant_statement` compares valid statements
    /// only).
    pub warnings: Vec<PolicyWarning>,
}

impl PolicyCheck {
    /// What [`parse`](PolicyDocument::parse) answers.
    fn into_result(self) -> Result<ParsedPolicy, PolicyErrors> {
        match self.document {
            Some(document) if self.errors.is_empty() => Ok(ParsedPolicy {
                document,
                warnings: self.warnings,
            }),
            _ => Err(PolicyErrors(self.errors)),
        }
    }
}

/// Which parts of the request a document's conditions and variables read, so a caller can
/// tell whether a decision may be cached per token. Claims are not listed: they are fixed
/// for a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dependencies {
    /// `aws:SourceIp`.
    pub source_ip: bool,
    /// `aws:CurrentTime`, `aws:EpochTime`.
    pub time: bool,
    /// `aws:SecureTransport`.
    pub secure_transport: bool,
    /// `aws:UserAgent`.
    pub user_agent: bool,
    /// `aws:Referer`.
    pub referer: bool,
    /// `request:header/...`.
    pub headers: bool,
    /// `request:query/...`.
    pub query: bool,
}

impl Dependencies {
    /// Both sets together.
    pub fn union(self, o: Dependencies) -> Dependencies {
        Dependencies {
            source_ip: self.source_ip | o.source_ip,
            time: self.time | o.time,
            secure_transport: self.secure_transport | o.secure_transport,
            user_agent: self.user_agent | o.user_agent,
            referer: self.referer | o.referer,
            headers: self.headers | o.headers,
            query: self.query | o.query,
        }
    }
    /// Whether the decision depends on anything beyond the token, action and resource.
    pub fn any(&self) -> bool {
        *self != Dependencies::default()
    }
}

/// A request value that a policy reads (see [`PolicyDocument::request_reads`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestRead {
    /// Where: `Statement[0].Condition.StringEquals`.
    pub(crate) location: String,
    /// The key as written: `request:header/x-env`.
    pub(crate) key: String,
    /// What it reads.
    pub(crate) value: RequestValue,
}

/// The request values a policy can read besides the token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RequestValue {
    /// `aws:SourceIp`.
    SourceIp,
    /// `aws:CurrentTime`, `aws:EpochTime`.
    Time,
    /// `aws:SecureTransport`.
    SecureTransport,
    /// A header, lower-case (`aws:UserAgent` and `aws:Referer` read theirs).
    Header(String),
    /// A query parameter.
    Query(String),
}

/// The request as conditions and policy variables see it.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalContext<'a> {
    /// `aws:SourceIp`.
    pub source_ip: Option<IpAddr>,
    /// Epoch seconds: `aws:CurrentTime`, `aws:EpochTime`.
    pub now: u64,
    /// `aws:SecureTransport`.
    pub secure_transport: Option<bool>,
    /// `aws:UserAgent`.
    pub user_agent: Option<&'a str>,
    /// `aws:Referer`.
    pub referer: Option<&'a str>,
    /// The verified token's claims: `jwt:<claim>`, `cognito:groups`, `cognito:username`.
    pub claims: Option<&'a crate::token::Claims>,
    /// Request headers, names lowercase: `request:header/<name>`. A repeated header is
    /// multi-valued.
    pub headers: &'a [(&'a str, &'a str)],
    /// Query parameters: `request:query/<name>`.
    pub query: &'a [(&'a str, &'a str)],
}

impl PolicyDocument {
    /// Parses, validates and compiles a policy from JSON text. Duplicate keys are errors.
    pub fn parse(json: &str) -> Result<ParsedPolicy, PolicyErrors> {
        Self::check(json).into_result()
    }

    /// The same from an already-parsed value (a policy embedded in a config file or a
    /// DynamoDB map; its duplicate keys, if any, were lost by whoever parsed it).
    pub fn from_value(value: &serde_json::Value) -> Result<ParsedPolicy, PolicyErrors> {
        Self::check_value(value).into_result()
    }

    /// Checks a policy in JSON text as [`parse`](Self::parse) does, but keeps everything it
    /// found: the document if valid, every error and every warning (those of a policy with
    /// errors too).
    ///
    /// ```
    /// use edge_authz::policy::PolicyDocument;
    ///
    /// let check = PolicyDocument::check(
    ///     r#"{"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*",
    ///         "Condition": {"IpAddress": {"aws:SourceIp": ["300.1.2.3/8", "10.0.0.1/8"]}}}]}"#,
    /// );
    /// assert!(check.document.is_none());
    /// let errors: Vec<String> = check.errors.iter().map(|e| e.to_string()).collect();
    /// assert_eq!(errors, [r#"Statement[0].Condition.IpAddress.aws:SourceIp[0]: invalid CIDR "300.1.2.3/8""#]);
    /// let warnings: Vec<(&str, &str)> = check.warnings.iter().map(|w| (w.location(), w.code())).collect();
    /// assert_eq!(warnings, [
    ///     ("Version", "missing_version"),
    ///     ("Statement[0].Condition.IpAddress.aws:SourceIp[1]", "cidr_host_bits"),
    /// ]);
    /// ```
    pub fn check(json: &str) -> PolicyCheck {
        match serde_json::from_slice::<Json>(json.as_bytes()) {
            Ok(root) => Self::check_json(&root),
            Err(e) => PolicyCheck {
                document: None,
                errors: alloc::vec![PolicyError::new(
                    String::new(),
                    PolicyErrorKind::InvalidJson(format!("{e}")),
                )],
                warnings: Vec::new(),
            },
        }
    }

    /// [`check`](Self::check) for an already-parsed value, as [`from_value`](Self::from_value)
    /// reads it.
    pub fn check_value(value: &serde_json::Value) -> PolicyCheck {
        Self::check_json(&Json::from_value(value))
    }

    /// The phases: parse, validate, compile; validated and compiled again, folded, when
    /// lower-casing the paths changes anything.
    fn check_json(root: &Json) -> PolicyCheck {
        let syntax = parse::parse(root);
        let mut d = Diag::default();
        let document = validate::validate(&syntax, false, &mut d).map(compile::compile);
        let Diag {
            mut errors,
            mut warnings,
        } = d;
        let document = match document {
            Some(mut document) if document.case_matters() => {
                // For requests matched case-insensitively. Fail closed: a policy whose
                // folded form does not validate is refused.
                let mut scratch = Diag::default();
                match validate::validate(&syntax, true, &mut scratch) {
                    Some(folded) => {
                        document.folded = Some(alloc::sync::Arc::new(compile::compile(folded)));
                        Some(document)
                    }
                    None => {
                        errors = scratch.errors;
                        None
                    }
                }
            }
            other => other,
        };
        if errors.iter().any(|e| e.location() == "Version") {
            // A Version that is there but wrong is an error: "no Version" would only mislead.
            warnings.retain(|w| w.code() != "missing_version");
        }
        PolicyCheck {
            document,
            errors,
            warnings,
        }
    }

    /// Whether lower-casing resource paths changes anything: an upper-case letter or a
    /// variable in the path of a resource pattern.
    fn case_matters(&self) -> bool {
        self.statements
            .iter()
            .flat_map(|st| &st.resource_text)
            .any(|text| {
                resource::path_start(text)
                    .and_then(|at| text.get(at..))
                    .is_some_and(|path| path.contains("${") || path.to_lowercase() != path)
            })
    }

    /// The document as it matches requests whose paths are matched case-insensitively
    /// (lower-cased): its resource paths and substituted values lower-cased, so that
    /// `Deny …/api/Admin` denies `/api/admin`, `/API/ADMIN` and `/api/Admin` alike.
    pub fn case_folded(&self) -> &PolicyDocument {
        self.folded.as_deref().unwrap_or(self)
    }

    /// Bit `i` set when `action_table[i]` matches `action` (`lowered`: the same, ASCII
    /// lowercase, when it fitted the caller's buffer).
    fn action_hits(&self, action: &str, lowered: Option<&str>) -> u64 {
        let mut hits = 0u64;
        for (i, g) in self.action_table.iter().enumerate() {
            let hit = match lowered {
                Some(l) => g.matches_lowercase(l),
                None => g.matches(action, None),
            };
            if hit {
                hits |= 1u64 << i;
            }
        }
        hits
    }

    /// The request values (not token claims) that the statements' conditions and resource
    /// variables read, each with where (`Statement[0].Condition.StringEquals`,
    /// `Statement[1].Resource`).
    pub(crate) fn request_reads(&self) -> Vec<RequestRead> {
        use keys::Key;
        let mut out = Vec::new();
        let mut read = |location: String, key: &Key| {
            let value = match key {
                Key::SourceIp => RequestValue::SourceIp,
                Key::CurrentTime | Key::EpochTime => RequestValue::Time,
                Key::SecureTransport => RequestValue::SecureTransport,
                Key::UserAgent => RequestValue::Header(String::from("user-agent")),
                Key::Referer => RequestValue::Header(String::from("referer")),
                Key::Header(h) => RequestValue::Header(h.clone()),
                Key::Query(q) => RequestValue::Query(q.clone()),
                Key::Claim(_) | Key::CognitoGroups | Key::CognitoUsername => return,
            };
            out.push(RequestRead {
                location,
                key: key.name(),
                value,
            });
        };
        for (i, st) in self.statements.iter().enumerate() {
            for g in &st.resources {
                for v in g.vars() {
                    read(format!("Statement[{i}].Resource"), &v.key);
                }
            }
            for c in &st.conditions {
                let operator = c.label.split(' ').next().unwrap_or("");
                for k in c.keys() {
                    read(format!("Statement[{i}].Condition.{operator}"), k);
                }
            }
        }
        out
    }

    /// Warnings for resources that the request matching makes unreachable: an Allow
    /// ending in `/` when the trailing slash is stripped.
    pub fn matching_warnings(&self, matching: crate::PathMatching) -> Vec<PolicyWarning> {
        let mut out = Vec::new();
        for (i, st) in self.statements.iter().enumerate() {
            for (j, text) in st.resource_text.iter().enumerate() {
                let Some(path) = resource::path_start(text).and_then(|at| text.get(at..)) else {
                    continue;
                };
                let location = format!("Statement[{i}].Resource[{j}]");
                if matching.strip_trailing_slash
                    && st.effect == Effect::Allow
                    && path.len() > 1
                    && path.ends_with('/')
                {
                    out.push(PolicyWarning::new(
                        location,
                        "unreachable_trailing_slash",
                        format!("`{text}` ends in `/`, but trailing slashes are stripped before matching (request.trailingSlash is strip): it only matches through its wildcards"),
                    ));
                }
            }
        }
        out
    }

    /// Number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The Sid of statement `index`, if it has one.
    pub fn sid(&self, index: usize) -> Option<&str> {
        self.statements.get(index)?.sid.as_deref()
    }

    /// Whether statement `index` is an `Allow` (`None` if there is no such statement).
    pub fn is_allow(&self, index: usize) -> Option<bool> {
        Some(self.statements.get(index)?.effect == Effect::Allow)
    }

    /// What the document's conditions and variables read from the request.
    pub fn dependencies(&self) -> Dependencies {
        self.deps
    }

    /// The statements specialised to one request, as IAM JSON for API Gateway: conditions
    /// evaluated and removed (statements whose conditions fail are dropped), variables
    /// substituted (a statement whose Resource entries all fail to resolve is dropped).
    ///
    /// When a resolved entry cannot be written exactly (a literal `*`, `?` or `$` from an
    /// escape or a substituted value), the output errs towards denying: such an entry is
    /// dropped from an Allow's `Resource` and a Deny's `NotResource`, and written as a
    /// wildcard (`$` as `?`) in a Deny's `Resource` and an Allow's `NotResource`.
    pub fn specialize(&self, ctx: &EvalContext<'_>) -> Vec<serde_json::Value> {
        use serde_json::Value;
        let mut out = Vec::new();
        for st in &self.statements {
            if !st.conditions.iter().all(|c| c.holds(ctx)) {
                continue;
            }
            let allow = st.effect == Effect::Allow;
            // Widen (keep as a wildcard) when widening the entry narrows what is allowed.
            let widen = allow == st.not_resource;
            let mut res = Vec::new();
            for g in &st.resources {
                let Some((text, exact)) = g.render(ctx) else {
                    continue;
                };
                if exact {
                    res.push(Value::String(text));
                } else if widen {
                    res.push(Value::String(text.replace('$', "?")));
                }
            }
            let mut m = serde_json::Map::new();
            if let Some(sid) = &st.sid {
                m.insert(String::from("Sid"), Value::String(sid.clone()));
            }
            m.insert(
                String::from("Effect"),
                Value::String(String::from(if allow { "Allow" } else { "Deny" })),
            );
            let actions = Value::Array(st.action_text.iter().cloned().map(Value::String).collect());
            m.insert(
                String::from(if st.not_action { "NotAction" } else { "Action" }),
                actions,
            );
            if st.not_resource {
                if res.is_empty() {
                    m.insert(String::from("Resource"), Value::String(String::from("*")));
                } else {
                    m.insert(String::from("NotResource"), Value::Array(res));
                }
            } else if res.is_empty() {
                continue;
            } else {
                m.insert(String::from("Resource"), Value::Array(res));
            }
            out.push(Value::Object(m));
        }
        out
    }
}

/// One request, as the statement scan sees it.
#[derive(Clone, Copy)]
struct Request<'r> {
    action: &'r str,
    resource: &'r str,
    /// The triples of `resource`.
    rf: &'r Filter,
    ctx: &'r EvalContext<'r>,
}

impl PolicyDocument {
    /// Whether statement `si` (whose hot data is `hot`) covers the action and resource.
    #[inline]
    fn targets(&self, si: usize, hot: &Hot, hits: u64, req: &Request<'_>) -> bool {
        let Request {
            action,
            resource,
            rf,
            ctx,
        } = *req;
        let action_hit = if hot.masked {
            hot.action_mask & hits != 0
        } else {
            self.statements
                .get(si)
                .is_some_and(|st| st.actions.iter().any(|g| g.matches(action, None)))
        };
        if action_hit == hot.not_action {
            return false;
        }
        let filters = self
            .filters
            .get(hot.res_start as usize..hot.res_end as usize)
            .unwrap_or(&[]);
        let mut res_hit = false;
        for (k, f) in filters.iter().enumerate() {
            if f.within(rf)
                && self
                    .statements
                    .get(si)
                    .and_then(|st| st.resources.get(k))
                    .is_some_and(|g| g.matches(resource, Some(ctx)))
            {
                res_hit = true;
                break;
            }
        }
        res_hit != hot.not_resource
    }

    /// Calls `f` with every statement index `rf` may target, in order, until it returns false.
    #[inline]
    fn scan(&self, rf: &Filter, mut f: impl FnMut(usize, &Hot) -> bool) {
        match self.index.candidates(self.hot.len(), rf) {
            Some(set) => {
                for (w, word) in set.iter().enumerate() {
                    let mut bits = *word;
                    while bits != 0 {
                        let si = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        if let Some(hot) = self.hot.get(si) {
                            if !f(si, hot) {
                                return;
                            }
                        }
                    }
                }
            }
            None => {
                for (si, hot) in self.hot.iter().enumerate() {
                    if !f(si, hot) {
                        return;
                    }
                }
            }
        }
    }

    /// Whether every condition of statement `si` holds.
    #[inline]
    fn conditions_hold(&self, si: usize, hot: &Hot, ctx: &EvalContext<'_>) -> bool {
        !hot.conditional
            || self
                .statements
                .get(si)
                .is_some_and(|st| st.conditions.iter().all(|c| c.holds(ctx)))
    }
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyDecision {
    /// A statement allows the request and none denies it.
    Allow,
    /// A `Deny` statement matches.
    ExplicitDeny,
    /// No statement allows the request.
    ImplicitDeny,
}

impl PolicyDecision {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub fn as_str(&self) -> &'static str {
        match self {
            PolicyDecision::Allow => "Allow",
            PolicyDecision::ExplicitDeny => "ExplicitDeny",
            PolicyDecision::ImplicitDeny => "ImplicitDeny",
        }
    }
}

impl fmt::Display for PolicyDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A statement of one of the evaluated policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    /// Index into the `policies` given to [`evaluate`].
    pub policy: usize,
    /// Index of the statement in that document.
    pub statement: usize,
    /// For a close statement: the first condition that failed, e.g. `IpAddress aws:SourceIp`.
    pub failed_condition: Option<String>,
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The decision.
    pub decision: PolicyDecision,
    /// The statement that decided (`None` for an implicit deny). The first one in order,
    /// if several match.
    pub decided_by: Option<StatementRef>,
    /// For an implicit deny: the `Allow` statements that matched action and resource but
    /// failed a condition.
    pub close: Vec<StatementRef>,
}

/// Evaluates `policies` (a label, such as the group name, and a document) for one request
/// with IAM's rules. Allocates nothing unless the decision is an implicit deny with close
/// statements.
pub fn evaluate(
    policies: &[(&str, &PolicyDocument)],
    action: &str,
    resource: &str,
    ctx: &EvalContext<'_>,
) -> Evaluation {
    let rf = Filter::of(resource);
    let req = Request {
        action,
        resource,
        rf: &rf,
        ctx,
    };
    // Actions compare case-insensitively: lowercase the request's once, not per pattern.
    let mut buf = [0u8; 128];
    let lowered = lowercase(action, &mut buf);
    let mut allow: Option<StatementRef> = None;
    let mut deny: Option<StatementRef> = None;
    // Allow statements that matched but failed a condition, kept without allocating in
    // case the answer is an implicit deny; `close_n` past the buffer means "rescan".
    let mut close_buf = [(0usize, 0usize); 8];
    let mut close_n = 0usize;
    for (pi, (_, doc)) in policies.iter().enumerate() {
        let hits = doc.action_hits(action, lowered);
        doc.scan(&rf, |si, hot| {
            if hot.allow && allow.is_some() {
                return true; // only a Deny can change the outcome now
            }
            if !doc.targets(si, hot, hits, &req) {
                return true;
            }
            if !doc.conditions_hold(si, hot, ctx) {
                if hot.allow {
                    if let Some(slot) = close_buf.get_mut(close_n) {
                        *slot = (pi, si);
                    }
                    close_n += 1;
                }
                return true;
            }
            let r = StatementRef {
                policy: pi,
                statement: si,
                failed_condition: None,
            };
            if hot.allow {
                allow = Some(r);
                true
            } else {
                deny = Some(r);
                false
            }
        });
        if deny.is_some() {
            return Evaluation {
                decision: PolicyDecision::ExplicitDeny,
                decided_by: deny,
                close: Vec::new(),
            };
        }
    }
    if allow.is_some() {
        return Evaluation {
            decision: PolicyDecision::Allow,
            decided_by: allow,
            close: Vec::new(),
        };
    }
    let failed = |pi: usize, si: usize| {
        let (_, doc) = policies.get(pi)?;
        let c = doc
            .statements
            .get(si)?
            .conditions
            .iter()
            .find(|c| !c.holds(ctx))?;
        Some(StatementRef {
            policy: pi,
            statement: si,
            failed_condition: Some(c.label.clone()),
        })
    };
    let mut close = Vec::new();
    if close_n <= close_buf.len() {
        close.extend(
            close_buf
                .iter()
                .take(close_n)
                .filter_map(|&(pi, si)| failed(pi, si)),
        );
    } else {
        for (pi, (_, doc)) in policies.iter().enumerate() {
            let hits = doc.action_hits(action, lowered);
            doc.scan(&rf, |si, hot| {
                if hot.allow && doc.targets(si, hot, hits, &req) {
                    close.extend(failed(pi, si));
                }
                true
            });
        }
    }
    Evaluation {
        decision: PolicyDecision::ImplicitDeny,
        decided_by: None,
        close,
    }
}

/// `s` in ASCII lowercase, if it fits `buf`.
fn lowercase<'b>(s: &str, buf: &'b mut [u8; 128]) -> Option<&'b str> {
    let dst = buf.get_mut(..s.len())?;
    for (d, b) in dst.iter_mut().zip(s.bytes()) {
        *d = b.to_ascii_lowercase();
    }
    // ASCII lowercasing keeps UTF-8 valid.
    core::str::from_utf8(dst).ok()
}

impl Evaluation {
    /// A human-readable account of this evaluation, naming policies by their labels.
    pub fn explain<'a>(
        &'a self,
        policies: &'a [(&'a str, &'a PolicyDocument)],
        action: &'a str,
        resource: &'a str,
    ) -> Explanation<'a> {
        Explanation {
            evaluation: self,
            policies,
            action,
            resource,
        }
    }
}

/// Renders an [`Evaluation`], e.g. `ExplicitDeny by admins Statement[1] (Sid "DenyAdmin")`.
#[derive(Debug, Clone, Copy)]
pub struct Explanation<'a> {
    evaluation: &'a Evaluation,
    policies: &'a [(&'a str, &'a PolicyDocument)],
    action: &'a str,
    resource: &'a str,
}

impl Explanation<'_> {
    fn statement(&self, f: &mut fmt::Formatter<'_>, r: &StatementRef) -> fmt::Result {
        let (label, doc) = self
            .policies
            .get(r.policy)
            .map_or(("?", None), |(l, d)| (*l, Some(*d)));
        write!(f, "{label} Statement[{}]", r.statement)?;
        if let Some(sid) = doc.and_then(|d| d.sid(r.statement)) {
            write!(f, " (Sid {sid:?})")?;
        }
        Ok(())
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.evaluation;
        match &e.decided_by {
            Some(r) => {
                write!(f, "{} by ", e.decision)?;
                self.statement(f, r)
            }
            None => {
                write!(
                    f,
                    "{}: no statement allows {} on {}",
                    e.decision, self.action, self.resource
                )?;
                for (i, r) in e.close.iter().enumerate() {
                    f.write_str(if i == 0 { "; close: " } else { ", " })?;
                    self.statement(f, r)?;
                    if let Some(c) = &r.failed_condition {
                        write!(f, ": condition {c} not met")?;
                    }
                }
                Ok(())
            }
        }
    }
}
