//! API Gateway's authorizer cache, and what it asks of policies.
//!
//! API Gateway keeps an authorizer's answer for `ttlSeconds`, keyed by the identity sources
//! only, and applies the cached IAM policy to every later request with the same identity
//! source values — whatever their path, headers, query, address or time. So a policy handed
//! to it must hold for all of them: the rules here refuse configurations and policies for
//! which it could not, and [`refused_forms`] denies, inside the returned policy, the ARN
//! forms that the core would refuse or read differently than API Gateway matches them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{json, Value};

use crate::policy::{PolicyDocument, PolicyError, PolicyErrorKind, RequestValue};
use crate::request_path::PathRules;

/// The shape of a Lambda authorizer's answer to API Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiGatewayFormat {
    /// `{principalId, policyDocument, context}`: REST APIs, and HTTP APIs (payload 1.0, or
    /// 2.0 without simple responses).
    Iam,
    /// `{isAuthorized, context}`: HTTP APIs with simple responses.
    Simple,
}

/// What a Lambda authorizer answers API Gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiGatewayAnswer {
    /// The response document.
    Response(Value),
    /// The error `Unauthorized`, which API Gateway turns into a 401 (it has no response
    /// document for it).
    Unauthorized,
}

/// One identity source of an API Gateway authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// `method.request.header.X` / `$request.header.X` (lower-case).
    Header(String),
    /// `method.request.querystring.X` / `$request.querystring.X`.
    Query(String),
    /// `context.identity.sourceIp` / `$context.identity.sourceIp`.
    SourceIp,
    /// `$context.routeKey` (HTTP APIs: the method and the route template).
    RouteKey,
    /// `context.httpMethod` / `$context.httpMethod`.
    HttpMethod,
    /// `context.path` / `$context.path` (the request path).
    Path,
    /// Any other context variable.
    Context(String),
    /// `stageVariables.X` / `$stageVariables.X` (fixed per stage).
    StageVariable(String),
}

impl IdentitySource {
    /// Parses an identity source in API Gateway's REST (`method.request.header.Authorization`)
    /// or HTTP API (`$request.header.Authorization`) syntax.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('$').unwrap_or(text);
        let rest = rest.strip_prefix("method.").unwrap_or(rest);
        let named = |prefix: &str| {
            rest.strip_prefix(prefix)
                .filter(|name| !name.is_empty())
                .map(String::from)
        };
        if let Some(name) = named("request.header.") {
            return Some(Self::Header(name.to_ascii_lowercase()));
        }
        if let Some(name) = named("request.querystring.") {
            return Some(Self::Query(name));
        }
        if let Some(name) = named("stageVariables.") {
            return Some(Self::StageVariable(name));
        }
        match named("context.")?.as_str() {
            "identity.sourceIp" => Some(Self::SourceIp),
            "routeKey" => Some(Self::RouteKey),
            "httpMethod" => Some(Self::HttpMethod),
            "path" => Some(Self::Path),
            other => Some(Self::Context(String::from(other))),
        }
    }
}

/// How API Gateway caches this authorizer's answers (`apiGatewayCache` in the
/// configuration; the Lambda sets it from the same values its template gives API Gateway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiGatewayCache {
    /// The authorizer result TTL (0: no caching).
    pub ttl_seconds: u64,
    /// The identity sources: the cache key.
    pub identity_sources: Vec<IdentitySource>,
    /// HTTP API simple responses (`isAuthorized`): the answer, not a policy, is cached.
    pub simple_responses: bool,
}

impl ApiGatewayCache {
    /// Whether answers are cached at all.
    pub fn caches(&self) -> bool {
        self.ttl_seconds > 0
    }

    fn keys_header(&self, name: &str) -> bool {
        self.identity_sources
            .iter()
            .any(|s| matches!(s, IdentitySource::Header(h) if h.eq_ignore_ascii_case(name)))
    }

    /// The problems of the configuration itself, as `(location, message)`: the credential
    /// must be in the key, and simple responses need the method and the path in it.
    pub(crate) fn configuration_problems(&self, credential_header: &str) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if !self.caches() {
            return problems;
        }
        if !self.keys_header(credential_header) {
            problems.push((
                String::from("apiGatewayCache.identitySources"),
                format!(
                    "must include the credential header `{credential_header}` \
                     (`method.request.header.{credential_header}` or `$request.header.{credential_header}`): \
                     otherwise API Gateway serves one caller's cached answer to another; or set ttlSeconds to 0"
                ),
            ));
        }
        // Not `$context.routeKey`: `ANY /{proxy+}` or `$default` is one route key for every
        // method, so a cached `POST` answer would serve a `DELETE`.
        let has = |wanted: &IdentitySource| self.identity_sources.contains(wanted);
        if self.simple_responses
            && !(has(&IdentitySource::HttpMethod) && has(&IdentitySource::Path))
        {
            problems.push((
                String::from("apiGatewayCache.identitySources"),
                String::from(
                    "simple responses (`isAuthorized`) are cached for every route: add `$context.httpMethod` \
                     and `$context.path` to the identity sources (a route key such as `ANY /{proxy+}` \
                     holds no method), use IAM policy responses, or set ttlSeconds to 0",
                ),
            ));
        }
        problems
    }

    /// The errors of `document` under this cache: every request value it reads that the
    /// cache key does not hold, located and with the fix.
    pub(crate) fn policy_errors(&self, document: &PolicyDocument) -> Vec<PolicyError> {
        if !self.caches() {
            return Vec::new();
        }
        let ttl = self.ttl_seconds;
        let mut errors = Vec::new();
        for read in document.request_reads() {
            let (keyed, source) = match &read.value {
                // execute-api endpoints are HTTPS only: the same for every request.
                RequestValue::SecureTransport => continue,
                RequestValue::Time => (false, None),
                RequestValue::SourceIp => (
                    self.identity_sources.contains(&IdentitySource::SourceIp),
                    Some(String::from(
                        "`context.identity.sourceIp` (HTTP APIs: `$context.identity.sourceIp`)",
                    )),
                ),
                RequestValue::Header(name) => (
                    self.keys_header(name),
                    Some(format!(
                        "`method.request.header.{name}` (HTTP APIs: `$request.header.{name}`)"
                    )),
                ),
                RequestValue::Query(name) => (
                    self.identity_sources
                        .iter()
                        .any(|s| matches!(s, IdentitySource::Query(q) if q == name)),
                    Some(format!(
                        "`method.request.querystring.{name}` (HTTP APIs: `$request.querystring.{name}`)"
                    )),
                ),
            };
            if keyed {
                continue;
            }
            let fix = match source {
                Some(source) => format!(
                    "add {source} to the authorizer's identity sources, or set its cache TTL (now {ttl} s) to 0"
                ),
                None => format!(
                    "time conditions cannot be cached: set the authorizer's cache TTL (now {ttl} s) to 0"
                ),
            };
            errors.push(PolicyError::new(
                read.location,
                PolicyErrorKind::UncachedRequestValue { key: read.key, fix },
            ));
        }
        errors
    }
}

/// The Deny statement added to every allow policy handed to a caching API Gateway: the
/// ARN forms the core refuses (`%`-escapes, `//`, dot segments, `;`, `\`, trailing dots) or
/// would match in another form (upper case when matching ignores case, a trailing slash
/// when it is stripped). API Gateway matches the cached policy against later requests' raw
/// method ARNs; without this, `…/%61dmin` would slip past a Deny of `…/admin`. It errs
/// towards denying: a later request in such a form is refused from the cache even where
/// the core, asked, would allow it.
pub(crate) fn refused_forms(rules: &PathRules) -> Value {
    // The resource part is `{api}/{stage}/{METHOD}/{path}`: `*/*/*` reaches the method,
    // and every form below needs the path after it (or a `/` that starts it).
    // Any partition (`aws`, `aws-cn`, `aws-us-gov`).
    const METHOD: &str = "arn:*:execute-api:*:*:*/*/*";
    let mut resources: Vec<String> = [
        "*%*", "*//*", "*/./*", "*/.", "*/../*", "*/..", "*;*", "*\\*", "*#*", "*./*", "*.",
        "* /*", "* ",
    ]
    .iter()
    .map(|form| format!("{METHOD}{form}"))
    .collect();
    if !rules.matching.case_sensitive {
        resources.extend(('A'..='Z').map(|upper| format!("{METHOD}/*{upper}*")));
    }
    if rules.matching.strip_trailing_slash {
        // A path of at least one segment that ends in `/` (not the root `…/GET/`).
        resources.push(format!("{METHOD}/?*/"));
    }
    json!({
        "Sid": "EdgeAuthzRefusedForms",
        "Effect": "Deny",
        "Action": crate::authorizer::ACTION,
        "Resource": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_sources_in_both_syntaxes() {
        let parse = IdentitySource::parse;
        assert_eq!(
            parse("method.request.header.Authorization"),
            Some(IdentitySource::Header("authorization".into()))
        );
        assert_eq!(
            parse("$request.header.X-Env"),
            Some(IdentitySource::Header("x-env".into()))
        );
        assert_eq!(
            parse("method.request.querystring.tenant"),
            Some(IdentitySource::Query("tenant".into()))
        );
        assert_eq!(
            parse("context.identity.sourceIp"),
            Some(IdentitySource::SourceIp)
        );
        assert_eq!(
            parse("$context.identity.sourceIp"),
            Some(IdentitySource::SourceIp)
        );
        assert_eq!(parse("$context.routeKey"), Some(IdentitySource::RouteKey));
        assert_eq!(parse("$context.path"), Some(IdentitySource::Path));
        assert_eq!(
            parse("$stageVariables.tier"),
            Some(IdentitySource::StageVariable("tier".into()))
        );
        assert_eq!(parse("header.Authorization"), None);
        assert_eq!(parse("method.request.header."), None);
    }
}
