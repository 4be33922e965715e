//! The authorizer's configuration, parsed from JSON with every error located.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use serde_json::{Map, Value};

use crate::api_gateway::{ApiGatewayCache, IdentitySource};
use crate::credentials::CredentialSource;
use crate::json::parse_strict;
use crate::policy::PolicyDocument;
use crate::request::ApiIdentity;
use crate::request_path::{DotSegments, EscapedSlashes, PathMatching, PathRules};
use crate::revocation::{RevocationConfig, RevocationSource, WhenUnavailable};
use crate::token::claims::{Issuer, IssuerKind, TokenUse};
use crate::token::crypto::{Algorithm, AlgorithmSet};
use crate::token::keys::KeyCachePolicy;
use crate::token::verifier::{DEFAULT_MAX_TOKEN_BYTES, MAX_GRACE_SECONDS};

/// Everything an [`Authorizer`](crate::Authorizer) is built from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Trusted issuers; a token is matched to one by its `iss`.
    pub issuers: Vec<Issuer>,
    /// Clock grace for `exp`, `nbf`, `iat`, in seconds (default 0, at most 300).
    pub grace_seconds: u64,
    /// Longest accepted token in bytes (default 8 KiB).
    pub max_token_bytes: usize,
    /// JWKS cache timings.
    pub jwks_cache: KeyCachePolicy,
    /// Where the token is read from.
    pub credentials: CredentialSource,
    /// The API that request ARNs are built for when the runtime gives none.
    pub api: ApiIdentity,
    /// Group policies and how they are loaded.
    pub policies: PolicyConfig,
    /// Cache sizes.
    pub cache: CacheConfig,
    /// Status and body of each denial.
    pub responses: Responses,
    /// Extra claims copied into the identity context (string/number/boolean claims only).
    pub context_claims: Vec<String>,
    /// How request paths are made canonical and matched (`request`).
    pub request: PathRules,
    /// API Gateway's authorizer cache, when the authorizer answers API Gateway
    /// (`apiGatewayCache`): policies must then hold for every request sharing its key.
    pub api_gateway_cache: Option<ApiGatewayCache>,
    /// Revocation records and how fresh they are kept (`revocation`); `None`: off.
    pub revocation: Option<RevocationConfig>,
}

/// Where group policies come from.
#[derive(Debug, Clone)]
pub enum PolicySource {
    /// All policies are in the configuration; a group without one contributes nothing.
    Bundled(Vec<(String, Arc<PolicyDocument>)>),
    /// The adapter loads them on demand (DynamoDB, Workers KV, a URL) when the
    /// authorizer asks with [`Need::LoadPolicies`](crate::Need::LoadPolicies).
    External,
}

/// Group policies.
#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// Bundled or external.
    pub source: PolicySource,
    /// A policy applied to every authenticated caller, in addition to their groups'.
    pub everyone: Option<Arc<PolicyDocument>>,
    /// A policy applied to callers who belong to no group.
    pub no_group: Option<Arc<PolicyDocument>>,
    /// How long an externally loaded policy is kept, in seconds (default 300).
    pub ttl_seconds: u64,
    /// How long past its TTL a policy is still used while reloading fails (default 3600).
    pub max_stale_seconds: u64,
}

/// Cache sizes (entries). Zero disables a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Verified tokens (default 10 000).
    pub tokens: usize,
    /// Decisions (default 10 000).
    pub decisions: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            tokens: 10_000,
            decisions: 10_000,
        }
    }
}

/// A status and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Body (JSON text).
    pub body: String,
}

/// What edge adapters send on each kind of denial. Defaults are API Gateway's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Responses {
    /// No or malformed credentials.
    pub unauthorized: Response,
    /// Invalid token, or no policy allows the request.
    pub forbidden: Response,
    /// A policy explicitly denies the request.
    pub explicit_deny: Response,
    /// Keys or policies unavailable.
    pub unavailable: Response,
    /// A request path (or method) that is refused as ambiguous.
    pub bad_request: Response,
}

impl Default for Responses {
    fn default() -> Self {
        let response = |status, body: &str| Response {
            status,
            body: body.to_owned(),
        };
        Self {
            unauthorized: response(401, r#"{"message":"Unauthorized"}"#),
            forbidden: response(
                403,
                r#"{"Message":"User is not authorized to access this resource"}"#,
            ),
            explicit_deny: response(
                403,
                r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
            ),
            unavailable: response(503, r#"{"message":"Service Unavailable"}"#),
            bad_request: response(400, r#"{"message":"Bad Request"}"#),
        }
    }
}

/// One configuration problem and where it is (`issuers[0].userPoolId`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Path of the offending member.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

/// All the problems of a configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The stable code of this error kind.
    pub fn code(&self) -> &'static str {
        "invalid_config"
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl core::error::Error for ConfigErrors {}

/// A parsed configuration and the warnings of its bundled policies.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The configuration.
    pub config: Config,
    /// Policy warnings, each prefixed with its location in the configuration.
    pub warnings: Vec<String>,
}

impl Config {
    /// Parses a JSON configuration. Every problem is reported, each with its location.
    pub fn from_json(json: &str) -> Result<LoadedConfig, ConfigErrors> {
        let value = parse_strict(json.as_bytes()).map_err(|e| {
            ConfigErrors(alloc::vec![ConfigError {
                location: String::new(),
                message: format!("not valid JSON: {e}"),
            }])
        })?;
        Self::from_value(&value)
    }

    /// Like [`from_json`](Self::from_json), from a parsed value.
    pub fn from_value(value: &Value) -> Result<LoadedConfig, ConfigErrors> {
        let mut cx = Cx::default();
        let config = parse_config(&mut cx, value);
        match config {
            Some(config) if cx.errors.is_empty() => Ok(LoadedConfig {
                config,
                warnings: cx.warnings,
            }),
            _ => Err(ConfigErrors(cx.errors)),
        }
    }
}

#[derive(Default)]
struct Cx {
    errors: Vec<ConfigError>,
    warnings: Vec<String>,
}

impl Cx {
    fn error(&mut self, location: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            location: location.to_owned(),
            message: message.into(),
        });
    }
}

/// Reads the members of one JSON object, remembering which were read so that unknown
/// members (usually typos) are reported instead of ignored.
struct Obj<'v> {
    path: String,
    map: &'v Map<String, Value>,
    read: Vec<&'static str>,
}

impl<'v> Obj<'v> {
    fn new(cx: &mut Cx, path: &str, value: &'v Value) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self {
                path: path.to_owned(),
                map,
                read: Vec::new(),
            }),
            _ => {
                cx.error(path, "must be an object");
                None
            }
        }
    }

    fn at(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    fn get(&mut self, name: &'static str) -> Option<&'v Value> {
        self.read.push(name);
        self.map.get(name)
    }

    fn u64(&mut self, cx: &mut Cx, name: &'static str, default: u64, max: u64) -> u64 {
        match self.get(name) {
            None => default,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if v <= max => v,
                _ => {
                    cx.error(
                        &self.at(name),
                        format!("must be an integer from 0 to {max}"),
                    );
                    default
                }
            },
            Some(_) => {
                cx.error(&self.at(name), "must be a number");
                default
            }
        }
    }

    /// One of `options` (its index), or an error listing them.
    fn choice(
        &mut self,
        cx: &mut Cx,
        name: &'static str,
        options: &[&'static str],
    ) -> Option<usize> {
        match self.get(name) {
            None => None,
            Some(Value::String(s)) if options.contains(&s.as_str()) => {
                options.iter().position(|option| option == s)
            }
            Some(_) => {
                let list: Vec<String> = options.iter().map(|x| format!("`{x}`")).collect();
                cx.error(
                    &self.at(name),
                    format!("must be one of {}", list.join(", ")),
                );
                None
            }
        }
    }

    fn bool(&mut self, cx: &mut Cx, name: &'static str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                cx.error(&self.at(name), "must be true or false");
                default
            }
        }
    }

    fn string(&mut self, cx: &mut Cx, name: &'static str) -> Option<String> {
        match self.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => {
                cx.error(&self.at(name), "must be a non-empty string");
                None
            }
        }
    }

    /// A string or a list of strings.
    fn strings(&mut self, cx: &mut Cx, name: &'static str) -> Option<Vec<String>> {
        match self.get(name)? {
            Value::String(s) => Some(alloc::vec![s.clone()]),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) if !s.is_empty() => out.push(s.clone()),
                        _ => cx.error(
                            &format!("{}[{i}]", self.at(name)),
                            "must be a non-empty string",
                        ),
                    }
                }
                Some(out)
            }
            Value::Null => None,
            _ => {
                cx.error(&self.at(name), "must be a string or a list of strings");
                None
            }
        }
    }

    fn finish(self, cx: &mut Cx) {
        for key in self.map.keys() {
            if !self.read.contains(&key.as_str()) {
                cx.error(&self.at(key), "unknown field");
            }
        }
    }
}

fn parse_config(cx: &mut Cx, value: &Value) -> Option<Config> {
    let mut root = Obj::new(cx, "", value)?;
    let issuers = match root.get("issuers") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| parse_issuer(cx, &format!("issuers[{i}]"), item))
            .collect(),
        Some(_) => {
            cx.error("issuers", "must be a non-empty list");
            Vec::new()
        }
        None => {
            cx.error("issuers", "is required");
            Vec::new()
        }
    };
    for (i, issuer) in issuers.iter().enumerate() {
        let first = issuers
            .iter()
            .position(|other: &Issuer| other.issuer == issuer.issuer);
        if first != Some(i) {
            cx.error(
                &format!("issuers[{i}]"),
                format!("issuer `{}` is configured twice", issuer.issuer),
            );
        }
    }
    let grace_seconds = root.u64(cx, "graceSeconds", 0, MAX_GRACE_SECONDS);
    let max_token_bytes = root.u64(
        cx,
        "maxTokenBytes",
        DEFAULT_MAX_TOKEN_BYTES as u64,
        64 * 1024,
    );
    let jwks_cache = match root.get("jwksCache") {
        None => KeyCachePolicy::default(),
        Some(v) => parse_jwks_cache(cx, v),
    };
    let credentials = match root.get("credentials") {
        None => CredentialSource::default(),
        Some(v) => parse_credentials(cx, v),
    };
    let api = match root.get("api") {
        None => ApiIdentity::default(),
        Some(v) => parse_api(cx, v),
    };
    let request = match root.get("request") {
        None => PathRules::default(),
        Some(v) => parse_request(cx, v),
    };
    let api_gateway_cache = root
        .get("apiGatewayCache")
        .filter(|v| !v.is_null())
        .and_then(|v| parse_api_gateway_cache(cx, v));
    let policies = match root.get("policies") {
        // Without `policies.groups`, the adapter's store (KV, DynamoDB, a URL) has them.
        None => PolicyConfig {
            source: PolicySource::External,
            everyone: None,
            no_group: None,
            ttl_seconds: 300,
            max_stale_seconds: 3600,
        },
        Some(v) => parse_policies(cx, v)?,
    };
    let cache = match root.get("cache") {
        None => CacheConfig::default(),
        Some(v) => {
            let mut o = Obj::new(cx, "cache", v)?;
            let c = CacheConfig {
                tokens: usize_of(o.u64(cx, "tokens", 10_000, 10_000_000)),
                decisions: usize_of(o.u64(cx, "decisions", 10_000, 10_000_000)),
            };
            o.finish(cx);
            c
        }
    };
    let responses = match root.get("responses") {
        None => Responses::default(),
        Some(v) => parse_responses(cx, v),
    };
    let context_claims = match root.get("context") {
        None => Vec::new(),
        Some(v) => {
            let mut o = Obj::new(cx, "context", v)?;
            let claims = o.strings(cx, "claims").unwrap_or_default();
            o.finish(cx);
            claims
        }
    };
    let revocation = root
        .get("revocation")
        .filter(|v| !v.is_null())
        .and_then(|v| parse_revocation(cx, v));
    root.finish(cx);
    check_policies_against_request(cx, &policies, &request, api_gateway_cache.as_ref());
    if let (Some(revocation), Some(cache)) = (&revocation, &api_gateway_cache) {
        // API Gateway answers from its own cache without asking the authorizer: a
        // revocation could not take effect before that cache's entry expires.
        if cache.ttl_seconds > revocation.freshness_seconds {
            cx.warnings.push(String::from(
                "apiGatewayCache.ttlSeconds is longer than revocation.freshnessSeconds: API \
                 Gateway serves its cached answers without asking the authorizer, so a \
                 revocation takes effect only within the two added; set the authorizer's TTL \
                 to at most the freshness",
            ));
        }
    }
    if let Some(cache) = &api_gateway_cache {
        let header = credentials
            .cookie
            .as_ref()
            .map_or(credentials.header.as_str(), |_| "cookie");
        for (location, message) in cache.configuration_problems(header) {
            cx.error(&location, message);
        }
    }
    Some(Config {
        issuers,
        grace_seconds,
        max_token_bytes: usize_of(max_token_bytes),
        jwks_cache,
        credentials,
        api,
        policies,
        cache,
        responses,
        context_claims,
        request,
        api_gateway_cache,
        revocation,
    })
}

/// The fewest revocation cache entries accepted (`revocation.cacheEntries`).
const MIN_REVOCATION_ENTRIES: usize = 64;

fn parse_revocation(cx: &mut Cx, value: &Value) -> Option<RevocationConfig> {
    let d = RevocationConfig::default();
    let mut o = Obj::new(cx, "revocation", value)?;
    let freshness_seconds = o.u64(cx, "freshnessSeconds", d.freshness_seconds, 3600);
    if freshness_seconds == 0 {
        // Zero would read the store on every request: say so rather than allow it silently.
        cx.error(&o.at("freshnessSeconds"), "must be at least 1");
    }
    let when_unavailable = match o.choice(cx, "whenUnavailable", &["deny", "stale"]) {
        Some(1) => WhenUnavailable::Stale,
        _ => WhenUnavailable::Deny,
    };
    let source = match o.choice(cx, "store", &["external", "local"]) {
        Some(1) => RevocationSource::Local,
        _ => RevocationSource::External,
    };
    let config = RevocationConfig {
        freshness_seconds,
        when_unavailable,
        max_stale_seconds: o.u64(cx, "maxStaleSeconds", d.max_stale_seconds, 24 * 3600),
        source,
        cache_entries: usize_of(o.u64(cx, "cacheEntries", 100_000, 10_000_000)),
    };
    if config.cache_entries < MIN_REVOCATION_ENTRIES {
        // A caller's up to three records must stay while its request runs: a cache that
        // drops them at once would ask the store for ever (and refuse, 503).
        cx.error(
            &o.at("cacheEntries"),
            format!("must be at least {MIN_REVOCATION_ENTRIES}"),
        );
    }
    o.finish(cx);
    Some(config)
}

/// Every configured policy with its location.
fn configured_policies(policies: &PolicyConfig) -> Vec<(String, &PolicyDocument)> {
    let mut out: Vec<(String, &PolicyDocument)> = Vec::new();
    if let PolicySource::Bundled(groups) = &policies.source {
        out.extend(
            groups
                .iter()
                .map(|(name, doc)| (format!("policies.groups.{name}"), &**doc)),
        );
    }
    out.extend(
        policies
            .everyone
            .iter()
            .map(|d| (String::from("policies.everyone"), &**d)),
    );
    out.extend(
        policies
            .no_group
            .iter()
            .map(|d| (String::from("policies.noGroup"), &**d)),
    );
    out
}

/// Warnings for resources the request matching makes unreachable, and errors for policies
/// that API Gateway's cache could not apply safely.
fn check_policies_against_request(
    cx: &mut Cx,
    policies: &PolicyConfig,
    request: &PathRules,
    cache: Option<&ApiGatewayCache>,
) {
    for (path, doc) in configured_policies(policies) {
        for w in doc.matching_warnings(request.matching) {
            cx.warnings
                .push(format!("{}: {}", located(&path, w.location()), w.message()));
        }
        for e in cache.map(|c| c.policy_errors(doc)).unwrap_or_default() {
            cx.error(&located(&path, e.location()), e.kind().to_string());
        }
    }
}

fn parse_request(cx: &mut Cx, value: &Value) -> PathRules {
    let d = PathRules::default();
    let Some(mut o) = Obj::new(cx, "request", value) else {
        return d;
    };
    let strip_trailing_slash = o
        .choice(cx, "trailingSlash", &["keep", "strip"])
        .map_or(d.matching.strip_trailing_slash, |i| i == 1);
    let dot_segments = match o.choice(cx, "dotSegments", &["reject", "resolve"]) {
        Some(1) => DotSegments::Resolve,
        Some(_) => DotSegments::Reject,
        None => d.dot_segments,
    };
    let escaped_slashes = match o.choice(cx, "escapedSlashes", &["reject", "keep"]) {
        Some(1) => EscapedSlashes::Keep,
        Some(_) => EscapedSlashes::Reject,
        None => d.escaped_slashes,
    };
    let keep_semicolons = o
        .choice(cx, "semicolons", &["reject", "keep"])
        .map_or(d.keep_semicolons, |i| i == 1);
    let rules = PathRules {
        matching: PathMatching {
            case_sensitive: o.bool(cx, "caseSensitive", d.matching.case_sensitive),
            strip_trailing_slash,
            merge_slashes: o.bool(cx, "mergeSlashes", d.matching.merge_slashes),
        },
        dot_segments,
        escaped_slashes,
        keep_semicolons,
        max_path_bytes: usize_of(o.u64(cx, "maxPathBytes", d.max_path_bytes as u64, 65_536)),
    };
    if rules.max_path_bytes == 0 {
        cx.error(&o.at("maxPathBytes"), "must be at least 1");
    }
    o.finish(cx);
    rules
}

fn parse_api_gateway_cache(cx: &mut Cx, value: &Value) -> Option<ApiGatewayCache> {
    let mut o = Obj::new(cx, "apiGatewayCache", value)?;
    let ttl_seconds = o.u64(cx, "ttlSeconds", 300, 3600);
    let mut identity_sources = Vec::new();
    for (i, text) in o
        .strings(cx, "identitySources")
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        match IdentitySource::parse(text) {
            Some(source) => identity_sources.push(source),
            None => cx.error(
                &format!("{}[{i}]", o.at("identitySources")),
                format!("`{text}` is not an identity source (`method.request.header.NAME`, `$request.header.NAME`, `method.request.querystring.NAME`, `context.identity.sourceIp`, `$context.routeKey`, `$context.path`, `stageVariables.NAME`, ...)"),
            ),
        }
    }
    let simple_responses = o.bool(cx, "simpleResponses", false);
    o.finish(cx);
    Some(ApiGatewayCache {
        ttl_seconds,
        identity_sources,
        simple_responses,
    })
}

fn usize_of(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// `{region}_{id}`, as Cognito issues them (`us-east-1_AbCdEf123`).
fn pool_region(pool_id: &str) -> Option<&str> {
    let (region, id) = pool_id.split_once('_')?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    (region_ok && id_ok).then_some(region)
}

fn parse_issuer(cx: &mut Cx, path: &str, value: &Value) -> Option<Issuer> {
    let mut o = Obj::new(cx, path, value)?;
    let pool = o.string(cx, "userPoolId");
    let explicit_issuer = o.string(cx, "issuer");
    if explicit_issuer
        .as_deref()
        .is_some_and(|iss| iss.contains('#'))
    {
        // An issuer identifier has no fragment (OpenID Connect Discovery §3), and `#`
        // separates the parts of revocation store keys (`user#{iss}#{sub}`).
        cx.error(
            &o.at("issuer"),
            "must not contain `#` (an issuer has no fragment)",
        );
    }
    let jwks_uri = o.string(cx, "jwksUri");
    let token_use = o.string(cx, "tokenUse");
    let client_key = if pool.is_some() {
        "clientId"
    } else {
        "audience"
    };
    let clients_given = o.map.contains_key(client_key);
    let client_ids = o.strings(
        cx,
        if pool.is_some() {
            "clientId"
        } else {
            "audience"
        },
    );
    let required_scopes = o.strings(cx, "scopes").unwrap_or_default();
    let required_groups = o.strings(cx, "groups").unwrap_or_default();
    let groups_claim = o.string(cx, "groupsClaim");
    let algorithms = match o.strings(cx, "algorithms") {
        None => None,
        Some(names) => {
            let mut set = AlgorithmSet::EMPTY;
            for (i, name) in names.iter().enumerate() {
                match Algorithm::from_name(name) {
                    Some(alg) => set = set.with(alg),
                    None => cx.error(
                        &format!("{}[{i}]", o.at("algorithms")),
                        format!("unsupported algorithm `{name}` (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)"),
                    ),
                }
            }
            Some(set)
        }
    };
    if !clients_given {
        cx.error(
            &o.at(client_key),
            "is required: list the accepted client ids, or set it to null to accept any client",
        );
    }
    let issuer = match (&pool, explicit_issuer) {
        (Some(pool), explicit) => {
            let Some(region) = pool_region(pool) else {
                cx.error(
                    &o.at("userPoolId"),
                    format!("`{pool}` is not a user pool id like `us-east-1_AbC123`"),
                );
                o.finish(cx);
                return None;
            };
            let kind = IssuerKind::Cognito {
                token_use: match token_use.as_deref() {
                    Some("access") => TokenUse::Access,
                    Some("id") => TokenUse::Id,
                    Some("any") => TokenUse::Any,
                    other => {
                        cx.error(
                            &o.at("tokenUse"),
                            match other {
                                None => "is required for a user pool: `access`, `id` or `any`"
                                    .to_string(),
                                Some(v) => format!("`{v}` is not `access`, `id` or `any`"),
                            },
                        );
                        TokenUse::Access
                    }
                },
            };
            // `issuer` may override the URL for local Cognito emulators; the default is AWS's.
            let iss = explicit
                .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com/{pool}"));
            let jwks_uri = jwks_uri.unwrap_or_else(|| format!("{iss}/.well-known/jwks.json"));
            Issuer {
                issuer: iss,
                jwks_uri,
                kind,
                client_ids,
                required_scopes,
                required_groups,
                algorithms: algorithms.unwrap_or(AlgorithmSet::EMPTY.with(Algorithm::Rs256)),
                require_exp: true,
                groups_claim: groups_claim.unwrap_or_else(|| "cognito:groups".to_string()),
            }
        }
        (None, Some(iss)) => {
            if token_use.is_some() {
                cx.error(&o.at("tokenUse"), "applies to Cognito user pools only");
            }
            let Some(jwks_uri) = jwks_uri else {
                cx.error(&o.at("jwksUri"), "is required for an OIDC issuer");
                o.finish(cx);
                return None;
            };
            let require_exp = o.bool(cx, "requireExp", true);
            Issuer {
                issuer: iss,
                jwks_uri,
                kind: IssuerKind::Oidc,
                client_ids,
                required_scopes,
                required_groups,
                algorithms: algorithms.unwrap_or(AlgorithmSet::ALL),
                require_exp,
                groups_claim: groups_claim.unwrap_or_else(|| "groups".to_string()),
            }
        }
        (None, None) => {
            cx.error(path, "needs `userPoolId` (Cognito) or `issuer` (OIDC)");
            o.finish(cx);
            return None;
        }
    };
    if pool.is_some() {
        o.get("requireExp");
        if o.map.contains_key("requireExp") {
            cx.error(&o.at("requireExp"), "Cognito tokens always require `exp`");
        }
    }
    if algorithms.is_some_and(|a| a.is_empty()) {
        cx.error(&o.at("algorithms"), "must name at least one algorithm");
    }
    if !issuer.jwks_uri.starts_with("https://") && !is_loopback_http(&issuer.jwks_uri) {
        cx.error(
            &o.at("jwksUri"),
            "must be an https:// URL (http:// only for localhost)",
        );
    } else if authority(&issuer.jwks_uri).contains('@') {
        // Logged with every fetch (and Node's fetch refuses such a URL outright).
        cx.error(
            &o.at("jwksUri"),
            "must not carry credentials (`user:password@`): the URL is logged",
        );
    }
    o.finish(cx);
    Some(issuer)
}

/// The authority of `url` (`user@host:port`): after `scheme://`, up to the path, query or
/// fragment.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// Plain HTTP is allowed for loopback only (local development and tests): `localhost`,
/// `[::1]` or an IPv4 address in 127.0.0.0/8, with an optional port, and nothing else (no
/// `user@`, no name that merely starts with `127.`).
fn is_loopback_http(url: &str) -> bool {
    if !url.starts_with("http://") {
        return false;
    }
    let host = authority(url);
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "localhost" | "[::1]")
        || host
            .parse::<core::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn parse_jwks_cache(cx: &mut Cx, value: &Value) -> KeyCachePolicy {
    let d = KeyCachePolicy::default();
    let Some(mut o) = Obj::new(cx, "jwksCache", value) else {
        return d;
    };
    let policy = KeyCachePolicy {
        ttl: o.u64(cx, "ttlSeconds", d.ttl, 7 * 24 * 3600),
        penalty: o.u64(cx, "penaltySeconds", d.penalty, 3600),
        max_stale: o.u64(cx, "maxStaleSeconds", d.max_stale, 7 * 24 * 3600),
        fetch_timeout: o.u64(cx, "fetchTimeoutSeconds", d.fetch_timeout, 300),
    };
    // Keys must outlive the request that fetched them, or every request would fetch again;
    // a zero penalty would let a failed fetch be retried at once, within the same request.
    for (name, value) in [
        ("ttlSeconds", policy.ttl),
        ("penaltySeconds", policy.penalty),
        ("fetchTimeoutSeconds", policy.fetch_timeout),
    ] {
        if value == 0 {
            cx.error(&o.at(name), "must be at least 1");
        }
    }
    o.finish(cx);
    policy
}

fn parse_credentials(cx: &mut Cx, value: &Value) -> CredentialSource {
    let d = CredentialSource::default();
    let Some(mut o) = Obj::new(cx, "credentials", value) else {
        return d;
    };
    let source = CredentialSource {
        header: o
            .string(cx, "header")
            .map_or(d.header, |h| h.to_ascii_lowercase()),
        cookie: o.string(cx, "cookie"),
        require_bearer: o.bool(cx, "requireBearer", true),
    };
    o.finish(cx);
    source
}

fn parse_api(cx: &mut Cx, value: &Value) -> ApiIdentity {
    let d = ApiIdentity::default();
    let Some(mut o) = Obj::new(cx, "api", value) else {
        return d;
    };
    let api = ApiIdentity {
        region: o.string(cx, "region").unwrap_or(d.region),
        account_id: o.string(cx, "accountId").unwrap_or(d.account_id),
        api_id: o.string(cx, "apiId").unwrap_or(d.api_id),
        stage: o.string(cx, "stage").unwrap_or(d.stage),
    };
    for (name, v) in [
        ("region", &api.region),
        ("accountId", &api.account_id),
        ("apiId", &api.api_id),
        ("stage", &api.stage),
    ] {
        if v.contains([':', '/', '*', '?']) {
            cx.error(
                &o.at(name),
                format!("`{v}` must not contain `:`, `/`, `*` or `?`"),
            );
        }
    }
    o.finish(cx);
    api
}

fn parse_policy(cx: &mut Cx, path: &str, value: &Value) -> Option<Arc<PolicyDocument>> {
    match PolicyDocument::from_value(value) {
        Ok(parsed) => {
            for w in &parsed.warnings {
                cx.warnings
                    .push(format!("{}: {}", located(path, w.location()), w.message()));
            }
            Some(Arc::new(parsed.document))
        }
        Err(errors) => {
            for e in errors.0 {
                cx.error(&located(path, e.location()), e.kind().to_string());
            }
            None
        }
    }
}

/// `policies.groups.admins` + `Statement[0].Effect` → `policies.groups.admins.Statement[0].Effect`.
fn located(path: &str, inner: &str) -> String {
    if inner.is_empty() {
        path.to_owned()
    } else {
        format!("{path}.{inner}")
    }
}

fn parse_policies(cx: &mut Cx, value: &Value) -> Option<PolicyConfig> {
    let mut o = Obj::new(cx, "policies", value)?;
    let source = match o.get("groups") {
        None => PolicySource::External,
        Some(Value::Object(groups)) => PolicySource::Bundled(
            groups
                .iter()
                .filter_map(|(name, doc)| {
                    let policy = parse_policy(cx, &format!("policies.groups.{name}"), doc)?;
                    Some((name.clone(), policy))
                })
                .collect(),
        ),
        Some(_) => {
            cx.error(
                "policies.groups",
                "must be an object mapping group name to policy document",
            );
            PolicySource::External
        }
    };
    let everyone = o
        .get("everyone")
        .filter(|v| !v.is_null())
        .and_then(|v| parse_policy(cx, "policies.everyone", v));
    let no_group = o
        .get("noGroup")
        .filter(|v| !v.is_null())
        .and_then(|v| parse_policy(cx, "policies.noGroup", v));
    let ttl_seconds = o.u64(cx, "ttlSeconds", 300, 7 * 24 * 3600);
    if ttl_seconds == 0 {
        // A policy must outlive the request that loaded it, or the authorizer would ask
        // for it again forever.
        cx.error(&o.at("ttlSeconds"), "must be at least 1");
    }
    let max_stale_seconds = o.u64(cx, "maxStaleSeconds", 3600, 7 * 24 * 3600);
    o.finish(cx);
    Some(PolicyConfig {
        source,
        everyone,
        no_group,
        ttl_seconds,
        max_stale_seconds,
    })
}

fn parse_responses(cx: &mut Cx, value: &Value) -> Responses {
    let mut r = Responses::default();
    let Some(mut o) = Obj::new(cx, "responses", value) else {
        return r;
    };
    for (name, slot) in [
        ("unauthorized", &mut r.unauthorized),
        ("forbidden", &mut r.forbidden),
        ("explicitDeny", &mut r.explicit_deny),
        ("unavailable", &mut r.unavailable),
        ("badRequest", &mut r.bad_request),
    ] {
        let Some(v) = o.get(name) else { continue };
        let path = o.at(name);
        let Some(mut ro) = Obj::new(cx, &path, v) else {
            continue;
        };
        let status = ro.u64(cx, "status", u64::from(slot.status), 599);
        if !(400..=599).contains(&status) {
            cx.error(&ro.at("status"), "must be an HTTP error status (400-599)");
        }
        slot.status = u16::try_from(status).unwrap_or(slot.status);
        match ro.get("body") {
            None => {}
            Some(Value::String(s)) => slot.body = s.clone(),
            Some(json @ (Value::Object(_) | Value::Array(_))) => {
                slot.body = crate::json::to_text(json)
            }
            Some(_) => cx.error(&ro.at("body"), "must be a string or a JSON object"),
        }
        ro.finish(cx);
    }
    o.finish(cx);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_a_loopback_host() {
        for url in [
            "http://localhost/jwks",
            "http://localhost:8788/jwks",
            "http://127.0.0.1:8788/.well-known/jwks.json",
            "http://127.1.2.3/jwks",
            "http://[::1]:9000/jwks",
            "http://127.0.0.1?x",
        ] {
            assert!(is_loopback_http(url), "{url}");
        }
        for url in [
            "http://127.attacker.example/jwks",
            "http://127.0.0.1.attacker.example/jwks",
            "http://127.0.0.1@attacker.example/jwks",
            "http://127.0.0.1:x@attacker.example:8080/jwks",
            "http://localhost@attacker.example/jwks",
            "http://example.com/jwks",
            "https://localhost/jwks",
            "http://128.0.0.1/jwks",
        ] {
            assert!(!is_loopback_http(url), "{url}");
        }
    }

    #[test]
    fn jwks_uris_with_credentials_are_refused() {
        let config = |uri: &str| {
            alloc::format!(
                r#"{{"issuers": [{{"issuer": "https://issuer.test/", "jwksUri": "{uri}", "audience": null}}]}}"#
            )
        };
        for uri in [
            "https://user:secret@issuer.test/jwks",
            "http://user:secret@localhost/jwks",
            "http://127.0.0.1@attacker.example/jwks",
        ] {
            let errors = Config::from_json(&config(uri)).expect_err(uri).to_string();
            assert!(errors.contains("issuers[0].jwksUri"), "{uri}: {errors}");
        }
        for uri in [
            "https://issuer.test/jwks",
            "https://issuer.test/a@b/jwks",
            "http://127.0.0.1:8788/jwks",
        ] {
            assert!(Config::from_json(&config(uri)).is_ok(), "{uri}");
        }
    }
}
