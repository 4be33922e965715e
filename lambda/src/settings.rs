//! Configuration from environment variables, validated at init: every problem is reported
//! in one message. The variables build a core configuration (JSON), so the core's located
//! errors are reused; each location is annotated with the variable that set it.
//!
//! Revocation (`REVOCATION_TABLE`): the records come from that DynamoDB table (hash key
//! `key` S, attribute `record`, TTL attribute `expiresAt`). Setting the variable turns
//! revocation on: with no `revocation` section in `CONFIG`/`CONFIG_FILE` the core's
//! defaults apply (a record takes effect within 30 s, a table that cannot be read refuses
//! the caller); a section there tunes them (`freshnessSeconds`, `whenUnavailable`,
//! `maxStaleSeconds`, `cacheEntries`). A section whose records come from a store
//! (`store: "external"`, the default) without `REVOCATION_TABLE` fails the init rather
//! than refuse every caller; `store: "local"` is refused too, as nothing hands records to
//! a Lambda process. An `AUTHORIZER_CACHE_TTL` longer than the freshness is logged at init
//! (`config_warning`): API Gateway's cache would hold an allow that long.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use edge_authz::{Config, LoadedConfig};
use serde_json::{json, Map, Value};

use crate::metrics::{Metrics, DEFAULT_NAMESPACE};

/// Which API Gateway event (and response) shape the function handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventMode {
    /// Detected per event: `type: TOKEN`, `version: 2.0`, `version: 1.0`, else REST `REQUEST`.
    Auto,
    /// REST API `TOKEN` authorizer.
    Token,
    /// REST API `REQUEST` authorizer.
    Request,
    /// HTTP API, payload format 1.0 (IAM policy response).
    HttpV1,
    /// HTTP API, payload format 2.0 (response per [`HttpResponse`]).
    HttpV2,
}

/// The response format of HTTP API payload 2.0 authorizers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpResponse {
    /// `{isAuthorized, context}` (`enableSimpleResponses: true`).
    Simple,
    /// `{principalId, policyDocument, context}`.
    Iam,
}

/// API Gateway's authorizer cache as this function's template configures it
/// (`AUTHORIZER_CACHE_TTL`, `IDENTITY_SOURCES`), handed to the core as `apiGatewayCache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    /// The authorizer result TTL in seconds (0: API Gateway does not cache).
    pub ttl_seconds: u64,
    /// The identity sources, in API Gateway's syntax: the cache key.
    pub identity_sources: Vec<String>,
    /// Whether the core was told that HTTP API simple responses are cached (and so checked
    /// that the method and the path are in the key).
    pub simple_responses: bool,
    /// Where the TTL and the identity sources came from: the variable, `CONFIG` or the
    /// default (for messages).
    pub origins: [&'static str; 2],
}

impl CacheKey {
    /// Whether API Gateway caches this function's answers.
    pub fn caches(&self) -> bool {
        self.ttl_seconds > 0
    }
}

/// API Gateway's default authorizer result TTL.
pub const DEFAULT_CACHE_TTL: u64 = 300;

/// The identity source of the templates: the `Authorization` header, REST syntax.
pub const DEFAULT_REST_IDENTITY_SOURCE: &str = "method.request.header.Authorization";

/// The same for HTTP APIs (`EVENT_TYPE` `http-v1`/`http-v2`).
pub const DEFAULT_HTTP_IDENTITY_SOURCE: &str = "$request.header.Authorization";

/// Where group policies come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyBackend {
    /// Bundled in the configuration (`POLICIES_FILE` or `CONFIG`'s `policies.groups`).
    Bundled,
    /// The DynamoDB table `POLICY_TABLE` (hash key `group` S, attribute `policy`).
    DynamoDb {
        /// Table name.
        table: String,
    },
}

/// Everything the function needs, read from the environment.
#[derive(Debug)]
pub struct Settings {
    /// The core configuration.
    pub config: LoadedConfig,
    /// Event and response shapes.
    pub mode: EventMode,
    /// HTTP API 2.0 response format.
    pub http_response: HttpResponse,
    /// Policy source.
    pub policies: PolicyBackend,
    /// The DynamoDB table of revocation records (`REVOCATION_TABLE`; hash key `key` S,
    /// attribute `record`, TTL attribute `expiresAt`), when revocation is on.
    pub revocation_table: Option<String>,
    /// Bundled JWKS documents by issuer index (`JWKS_FILE`).
    pub bundled_jwks: Vec<(usize, Vec<u8>)>,
    /// Fetch every issuer's JWKS at init (`JWKS_PREFETCH`).
    pub jwks_prefetch: bool,
    /// Timeout of one JWKS fetch.
    pub jwks_timeout: Duration,
    /// Timeout of one DynamoDB call (each attempt), and the bound on all retries.
    pub dynamodb_timeout: Duration,
    /// Attempts for `UnprocessedKeys` (first call included).
    pub dynamodb_attempts: u32,
    /// API Gateway's cache of this function's answers.
    pub cache_key: CacheKey,
    /// CloudWatch EMF metrics (`METRICS`, `METRICS_NAMESPACE`); `None`: off.
    pub metrics: Option<Metrics>,
}

/// Every configuration problem, one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError(pub Vec<String>);

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration ({} problem{}):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

/// The environment variables read (documented in lambda/README.md).
pub const VARIABLES: &[&str] = &[
    "CONFIG",
    "CONFIG_FILE",
    "USER_POOL_ID",
    "CLIENT_IDS",
    "TOKEN_USE",
    "ISSUER",
    "JWKS_URI",
    "REQUIRED_SCOPES",
    "REQUIRED_GROUPS",
    "POLICY_TABLE",
    "POLICIES_FILE",
    "POLICY_TTL_SECONDS",
    "REVOCATION_TABLE",
    "JWKS_FILE",
    "JWKS_PREFETCH",
    "JWKS_TIMEOUT_MS",
    "DYNAMODB_TIMEOUT_MS",
    "DYNAMODB_ATTEMPTS",
    "GRACE_SECONDS",
    "CONTEXT_CLAIMS",
    "EVENT_TYPE",
    "HTTP_RESPONSE",
    "AUTHORIZER_CACHE_TTL",
    "IDENTITY_SOURCES",
    "METRICS",
    "METRICS_NAMESPACE",
];

fn list(value: &str) -> Vec<Value> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Value::String(s.to_owned()))
        .collect()
}

/// Which variable set a core configuration location, for error messages.
fn origin(location: &str) -> Option<&'static str> {
    const ORIGINS: &[(&str, &str)] = &[
        ("issuers[0].userPoolId", "USER_POOL_ID"),
        ("issuers[0].clientId", "CLIENT_IDS"),
        ("issuers[0].tokenUse", "TOKEN_USE"),
        ("issuers[0].issuer", "ISSUER"),
        ("issuers[0].jwksUri", "JWKS_URI"),
        ("issuers[0].scopes", "REQUIRED_SCOPES"),
        ("issuers[0].groups", "REQUIRED_GROUPS"),
        ("policies.groups", "POLICIES_FILE"),
        ("policies.ttlSeconds", "POLICY_TTL_SECONDS"),
        ("graceSeconds", "GRACE_SECONDS"),
        ("context.claims", "CONTEXT_CLAIMS"),
        ("apiGatewayCache.ttlSeconds", "AUTHORIZER_CACHE_TTL"),
        ("apiGatewayCache.identitySources", "IDENTITY_SOURCES"),
        ("apiGatewayCache.simpleResponses", "HTTP_RESPONSE"),
        (
            "apiGatewayCache",
            "AUTHORIZER_CACHE_TTL and IDENTITY_SOURCES",
        ),
    ];
    ORIGINS
        .iter()
        .find(|(prefix, _)| location.starts_with(prefix))
        .map(|(_, var)| *var)
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let vars: BTreeMap<String, String> = VARIABLES
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| ((*name).to_owned(), v)))
            .collect();
        Self::from_vars(&vars)
    }

    /// Reads settings from `vars` (name → value); files named by them are read.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        let mut problems = Vec::new();
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        // The base: a full JSON configuration, inline or from a file.
        let mut base = Map::new();
        let base_text = match (get("CONFIG"), get("CONFIG_FILE")) {
            (Some(_), Some(_)) => {
                problems.push("CONFIG and CONFIG_FILE are both set: set one".to_owned());
                None
            }
            (Some(text), None) => Some(("CONFIG", text.to_owned())),
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(text) => Some(("CONFIG_FILE", text)),
                Err(e) => {
                    problems.push(format!("CONFIG_FILE: cannot read {path}: {e}"));
                    None
                }
            },
            (None, None) => None,
        };
        if let Some((name, text)) = base_text {
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => base = map,
                Ok(_) => {
                    problems.push(format!("{name}: must be a JSON object (the configuration)"))
                }
                Err(e) => problems.push(format!("{name}: not JSON: {e}")),
            }
        }

        // A Cognito user pool from the variables, as issuers[0].
        let issuer_vars = [
            "USER_POOL_ID",
            "CLIENT_IDS",
            "TOKEN_USE",
            "ISSUER",
            "JWKS_URI",
            "REQUIRED_SCOPES",
            "REQUIRED_GROUPS",
        ];
        if let Some(pool) = get("USER_POOL_ID") {
            if base.contains_key("issuers") {
                problems.push("USER_POOL_ID: the configuration (CONFIG/CONFIG_FILE) already lists issuers: set one or the other".to_owned());
            }
            let mut issuer = Map::new();
            issuer.insert("userPoolId".into(), json!(pool));
            issuer.insert(
                "tokenUse".into(),
                json!(get("TOKEN_USE").unwrap_or("access")),
            );
            match get("CLIENT_IDS") {
                Some("*") => {
                    issuer.insert("clientId".into(), Value::Null);
                }
                Some(ids) => {
                    issuer.insert("clientId".into(), Value::Array(list(ids)));
                }
                None => {}
            }
            if let Some(iss) = get("ISSUER") {
                issuer.insert("issuer".into(), json!(iss));
            }
            if let Some(uri) = get("JWKS_URI") {
                issuer.insert("jwksUri".into(), json!(uri));
            }
            if let Some(scopes) = get("REQUIRED_SCOPES") {
                issuer.insert("scopes".into(), Value::Array(list(scopes)));
            }
            if let Some(groups) = get("REQUIRED_GROUPS") {
                issuer.insert("groups".into(), Value::Array(list(groups)));
            }
            base.insert("issuers".into(), json!([issuer]));
        } else {
            for name in &issuer_vars[1..] {
                if get(name).is_some() {
                    problems.push(format!("{name}: only used with USER_POOL_ID"));
                }
            }
            if !base.contains_key("issuers") {
                problems.push(
                    "USER_POOL_ID: is required (or give the issuers in CONFIG/CONFIG_FILE)"
                        .to_owned(),
                );
            }
        }

        let mut number = |name: &str, max: u64| -> Option<u64> {
            let text = get(name)?;
            match text.parse::<u64>() {
                Ok(n) if n <= max => Some(n),
                _ => {
                    problems.push(format!(
                        "{name}: expected a whole number up to {max}, got {text:?}"
                    ));
                    None
                }
            }
        };
        let grace = number("GRACE_SECONDS", u64::MAX);
        let policy_ttl = number("POLICY_TTL_SECONDS", u64::MAX);
        let jwks_timeout = number("JWKS_TIMEOUT_MS", 60_000).unwrap_or(3_000);
        let dynamodb_timeout = number("DYNAMODB_TIMEOUT_MS", 60_000).unwrap_or(3_000);
        let dynamodb_attempts = number("DYNAMODB_ATTEMPTS", 10).unwrap_or(4);
        let cache_ttl = number("AUTHORIZER_CACHE_TTL", 3600);
        if let Some(grace) = grace {
            base.insert("graceSeconds".into(), json!(grace));
        }
        if let Some(claims) = get("CONTEXT_CLAIMS") {
            base.insert("context".into(), json!({ "claims": list(claims) }));
        }

        // Policies: DynamoDB or a bundled file.
        let policies_entry = base.entry("policies").or_insert_with(|| json!({}));
        let mut backend = PolicyBackend::Bundled;
        match policies_entry {
            Value::Object(policies) => {
                if let Some(ttl) = policy_ttl {
                    policies.insert("ttlSeconds".into(), json!(ttl));
                }
                match (get("POLICY_TABLE"), get("POLICIES_FILE")) {
                    (Some(_), Some(_)) => problems
                        .push("POLICY_TABLE and POLICIES_FILE are both set: set one".to_owned()),
                    (Some(table), None) => {
                        if policies.contains_key("groups") {
                            problems.push("POLICY_TABLE: the configuration already bundles policies.groups: set one or the other".to_owned());
                        }
                        if !valid_table_name(table) {
                            problems.push(format!(
                                "POLICY_TABLE: {table:?} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)"
                            ));
                        }
                        backend = PolicyBackend::DynamoDb {
                            table: table.to_owned(),
                        };
                    }
                    (None, Some(path)) => {
                        if policies.contains_key("groups") {
                            problems.push("POLICIES_FILE: the configuration already bundles policies.groups: set one or the other".to_owned());
                        }
                        match std::fs::read_to_string(path)
                            .map_err(|e| e.to_string())
                            .and_then(|t| {
                                serde_json::from_str::<Value>(&t)
                                    .map_err(|e| format!("not JSON: {e}"))
                            }) {
                            Ok(groups) => {
                                policies.insert("groups".into(), groups);
                            }
                            Err(e) => problems.push(format!("POLICIES_FILE: {path}: {e}")),
                        }
                    }
                    (None, None) => {
                        if !policies.contains_key("groups") {
                            problems.push(
                                "POLICY_TABLE: is required (or bundle the policies with POLICIES_FILE or CONFIG's policies.groups)"
                                    .to_owned(),
                            );
                        }
                    }
                }
            }
            _ => problems.push("CONFIG: policies must be an object".to_owned()),
        }

        let revocation_table = revocation(&mut base, get("REVOCATION_TABLE"), &mut problems);

        let mode = match get("EVENT_TYPE").map(str::to_ascii_lowercase).as_deref() {
            None | Some("auto") => EventMode::Auto,
            Some("token") => EventMode::Token,
            Some("request") => EventMode::Request,
            Some("http-v1") => EventMode::HttpV1,
            Some("http-v2") => EventMode::HttpV2,
            Some(other) => {
                problems.push(format!(
                    "EVENT_TYPE: {other:?} is not one of auto, token, request, http-v1, http-v2"
                ));
                EventMode::Auto
            }
        };
        let http_response = match get("HTTP_RESPONSE").map(str::to_ascii_lowercase).as_deref() {
            None | Some("simple") => HttpResponse::Simple,
            Some("iam") => HttpResponse::Iam,
            Some(other) => {
                problems.push(format!(
                    "HTTP_RESPONSE: {other:?} is not one of simple, iam"
                ));
                HttpResponse::Simple
            }
        };
        let jwks_prefetch = match get("JWKS_PREFETCH").map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                problems.push(format!("JWKS_PREFETCH: {other:?} is not true or false"));
                false
            }
        };

        // On by default: a decision's line costs no call, and the custom metrics are bounded
        // by the outcome and reason codes (lambda/README.md, "Metrics").
        let metrics = match get("METRICS").map(str::to_ascii_lowercase).as_deref() {
            None | Some("emf") | Some("on") | Some("true") => {
                match Metrics::new(get("METRICS_NAMESPACE").unwrap_or(DEFAULT_NAMESPACE)) {
                    Ok(metrics) => Some(metrics),
                    Err(e) => {
                        problems.push(format!("METRICS_NAMESPACE: {e}"));
                        None
                    }
                }
            }
            Some("off") | Some("false") => None,
            Some(other) => {
                problems.push(format!("METRICS: {other:?} is not one of emf, off"));
                None
            }
        };

        let cache_key = api_gateway_cache(
            &mut base,
            cache_ttl,
            get("IDENTITY_SOURCES"),
            mode,
            http_response,
            &mut problems,
        );

        // The core validates the whole configuration with located errors.
        let config_value = Value::Object(base);
        let loaded = match Config::from_value(&config_value) {
            Ok(mut loaded) => {
                // The API Gateway cache's warnings (a TTL longer than the revocation
                // freshness) name the variables that make it.
                for warning in &mut loaded.warnings {
                    if warning.starts_with("apiGatewayCache") {
                        warning.push_str(&cache_key_hint(&cache_key));
                    }
                }
                Some(loaded)
            }
            Err(errors) => {
                for error in errors.0 {
                    let mut hint = origin(&error.location)
                        .map(|v| format!(" (set by {v})"))
                        .unwrap_or_default();
                    if error.message.contains("simple responses") {
                        hint.push_str(
                            "; this function answers HTTP API 2.0 events with simple responses (HTTP_RESPONSE=simple, the default): add $context.httpMethod and $context.path to IDENTITY_SOURCES, or set HTTP_RESPONSE=iam, or AUTHORIZER_CACHE_TTL=0",
                        );
                    }
                    if error.location.starts_with("apiGatewayCache")
                        || error.message.contains("authorizer cache")
                    {
                        hint.push_str(&cache_key_hint(&cache_key));
                    }
                    problems.push(format!("{}: {}{hint}", error.location, error.message));
                }
                None
            }
        };

        let mut bundled_jwks = Vec::new();
        if let (Some(path), Some(loaded)) = (get("JWKS_FILE"), &loaded) {
            match std::fs::read(path) {
                Ok(bytes) => match bundled_jwks_documents(
                    &bytes,
                    loaded.config.issuers.iter().map(|i| i.issuer.as_str()),
                ) {
                    Ok(docs) => bundled_jwks = docs,
                    Err(e) => problems.push(format!("JWKS_FILE: {path}: {e}")),
                },
                Err(e) => problems.push(format!("JWKS_FILE: cannot read {path}: {e}")),
            }
        }

        match loaded {
            Some(config) if problems.is_empty() => Ok(Settings {
                config,
                mode,
                http_response,
                policies: backend,
                revocation_table,
                bundled_jwks,
                jwks_prefetch,
                jwks_timeout: Duration::from_millis(jwks_timeout),
                dynamodb_timeout: Duration::from_millis(dynamodb_timeout),
                dynamodb_attempts: dynamodb_attempts.max(1) as u32,
                cache_key,
                metrics,
            }),
            _ => Err(SettingsError(problems)),
        }
    }
}

/// Turns revocation on for `REVOCATION_TABLE` (the configuration's `revocation` section, or
/// the defaults), or reports a section that needs the table; the table's name.
fn revocation(
    base: &mut Map<String, Value>,
    table: Option<&str>,
    problems: &mut Vec<String>,
) -> Option<String> {
    let store = match base.get("revocation") {
        None | Some(Value::Null) => None,
        // The core reports a section that is not an object, or an unknown store.
        Some(section) => Some(
            section
                .get("store")
                .and_then(Value::as_str)
                .unwrap_or("external"),
        ),
    };
    match (table, store) {
        (Some(_), Some("local")) => problems.push(
            "REVOCATION_TABLE: CONFIG's revocation.store is \"local\" (records handed to the process, which nothing does in a Lambda): remove it to read the table".to_owned(),
        ),
        (None, Some("local")) => problems.push(
            "CONFIG: revocation.store \"local\" takes records handed to the process, which nothing does in a Lambda: set REVOCATION_TABLE to read them from DynamoDB, or remove the revocation section".to_owned(),
        ),
        (None, Some(_)) => problems.push(
            "REVOCATION_TABLE: is required by CONFIG's revocation section (records from a store): set it to the revocation table's name (hash key `key` S), or remove the section".to_owned(),
        ),
        (Some(table), store) => {
            if !valid_table_name(table) {
                problems.push(format!(
                    "REVOCATION_TABLE: {table:?} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)"
                ));
            }
            if store.is_none() {
                // The core's defaults: freshness 30 s, a table that cannot be read refuses.
                base.insert("revocation".into(), json!({}));
            }
            return Some(table.to_owned());
        }
        (None, None) => {}
    }
    None
}

/// Sets the configuration's `apiGatewayCache` from `AUTHORIZER_CACHE_TTL` and
/// `IDENTITY_SOURCES` (over `CONFIG`'s own, if any), with API Gateway's defaults: an unset
/// TTL is 300 s, so a function deployed without the variables is checked as if API Gateway
/// cached its answers for the `Authorization` header, which is its default.
fn api_gateway_cache(
    base: &mut Map<String, Value>,
    ttl: Option<u64>,
    sources: Option<&str>,
    mode: EventMode,
    http_response: HttpResponse,
    problems: &mut Vec<String>,
) -> CacheKey {
    let mut section = match base.remove("apiGatewayCache") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            problems.push("CONFIG: apiGatewayCache must be an object".to_owned());
            Map::new()
        }
    };
    let from_config = |key: &str, section: &Map<String, Value>| {
        if section.contains_key(key) {
            "from CONFIG"
        } else {
            "the default"
        }
    };
    let origins = [
        if ttl.is_some() {
            "set"
        } else {
            from_config("ttlSeconds", &section)
        },
        if sources.is_some() {
            "set"
        } else {
            from_config("identitySources", &section)
        },
    ];
    let ttl_seconds = ttl
        .or_else(|| section.get("ttlSeconds").and_then(Value::as_u64))
        .unwrap_or(DEFAULT_CACHE_TTL);
    let http_api = matches!(mode, EventMode::HttpV1 | EventMode::HttpV2);
    let identity_sources: Vec<String> = match sources {
        Some(text) => {
            let listed: Vec<String> = text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if listed.is_empty() {
                problems.push(format!(
                    "IDENTITY_SOURCES: {text:?} lists no identity source (e.g. {DEFAULT_REST_IDENTITY_SOURCE})"
                ));
            }
            listed
        }
        None => match section.get("identitySources").and_then(Value::as_array) {
            Some(listed) => listed
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect(),
            None if http_api => vec![DEFAULT_HTTP_IDENTITY_SOURCE.to_owned()],
            None => vec![DEFAULT_REST_IDENTITY_SOURCE.to_owned()],
        },
    };
    // REST APIs name identity sources `method.request.header.X`, HTTP APIs `$request.header.X`:
    // the syntax says which API the function stands behind.
    let http_syntax = identity_sources
        .iter()
        .filter(|s| s.starts_with('$'))
        .count();
    if http_syntax > 0 && http_syntax < identity_sources.len() {
        problems.push(format!(
            "IDENTITY_SOURCES: {:?} mixes REST (`method.request.header.X`) and HTTP API (`$request.header.X`) syntax: use the syntax of the API the authorizer is attached to",
            identity_sources.join(",")
        ));
    } else if http_syntax > 0 && matches!(mode, EventMode::Token | EventMode::Request) {
        problems.push(format!(
            "IDENTITY_SOURCES: {:?} is HTTP API syntax, but EVENT_TYPE makes this a REST API authorizer: use `method.request.header.X`, `method.request.querystring.X`, `context.identity.sourceIp`",
            identity_sources.join(",")
        ));
    } else if http_syntax == 0 && !identity_sources.is_empty() && http_api {
        problems.push(format!(
            "IDENTITY_SOURCES: {:?} is REST API syntax, but EVENT_TYPE makes this an HTTP API authorizer: use `$request.header.X`, `$request.querystring.X`, `$context.identity.sourceIp`, `$context.httpMethod`, `$context.path`",
            identity_sources.join(",")
        ));
    }
    // Simple responses are what API Gateway caches for an HTTP API 2.0 authorizer with
    // `enableSimpleResponses`: the core checks that the method and the path are in the key.
    // With EVENT_TYPE `auto`, the identity sources' syntax tells the API: REST syntax (the
    // default) means no simple response is ever cached, and the handler denies an HTTP API
    // 2.0 event it would have to answer with one (see `Handler::handle`).
    let simple_responses = http_response == HttpResponse::Simple
        && (mode == EventMode::HttpV2 || (mode == EventMode::Auto && http_syntax > 0));
    section.insert("ttlSeconds".into(), json!(ttl_seconds));
    section.insert("identitySources".into(), json!(identity_sources));
    section.insert("simpleResponses".into(), json!(simple_responses));
    base.insert("apiGatewayCache".into(), Value::Object(section));
    CacheKey {
        ttl_seconds,
        identity_sources,
        simple_responses,
        origins,
    }
}

/// `; this function's cache key: AUTHORIZER_CACHE_TTL=300 (the default),
/// IDENTITY_SOURCES=...`, for errors about what the cache key holds.
pub fn cache_key_hint(key: &CacheKey) -> String {
    let origin = |o: &str| {
        if o == "set" {
            String::new()
        } else {
            format!(" ({o})")
        }
    };
    format!(
        "; this function's cache key: AUTHORIZER_CACHE_TTL={}{}, IDENTITY_SOURCES={}{}",
        key.ttl_seconds,
        origin(key.origins[0]),
        key.identity_sources.join(","),
        origin(key.origins[1])
    )
}

fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `JWKS_FILE` is a JWK Set (for a single issuer) or an object `{ "<iss>": JWK Set, ... }`.
fn bundled_jwks_documents<'a>(
    bytes: &[u8],
    issuers: impl Iterator<Item = &'a str>,
) -> Result<Vec<(usize, Vec<u8>)>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let issuers: Vec<&str> = issuers.collect();
    let Value::Object(map) = &doc else {
        return Err("must be a JWK Set or an object of JWK Sets by issuer".into());
    };
    if map.contains_key("keys") {
        if issuers.len() != 1 {
            return Err(format!(
                "a single JWK Set needs exactly one issuer ({} configured): key it by issuer",
                issuers.len()
            ));
        }
        edge_authz::Jwks::parse(bytes).map_err(|e| format!("not a usable JWK Set: {e}"))?;
        return Ok(vec![(0, bytes.to_vec())]);
    }
    let mut out = Vec::new();
    for (iss, set) in map {
        let index = issuers
            .iter()
            .position(|i| i == iss)
            .ok_or_else(|| format!("{iss:?} is not a configured issuer"))?;
        let set = serde_json::to_vec(set).map_err(|e| e.to_string())?;
        edge_authz::Jwks::parse(&set).map_err(|e| format!("{iss}: not a usable JWK Set: {e}"))?;
        out.push((index, set));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn minimal_cognito_setup() {
        let s = Settings::from_vars(&vars(&[
            ("USER_POOL_ID", "us-east-1_AbC123xyz"),
            ("CLIENT_IDS", "abc, def"),
            ("POLICY_TABLE", "auth-policy-store"),
        ]))
        .expect("valid");
        assert_eq!(
            s.policies,
            PolicyBackend::DynamoDb {
                table: "auth-policy-store".into()
            }
        );
        assert_eq!(s.mode, EventMode::Auto);
        let issuer = &s.config.config.issuers[0];
        assert_eq!(
            issuer.issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz"
        );
    }

    #[test]
    fn every_problem_in_one_message() {
        let err = Settings::from_vars(&vars(&[
            ("USER_POOL_ID", "us-east-1_AbC123xyz"),
            ("TOKEN_USE", "refresh"),
            ("EVENT_TYPE", "websocket"),
            ("GRACE_SECONDS", "-1"),
            ("POLICY_TABLE", "x"),
            ("POLICIES_FILE", "/nonexistent"),
        ]))
        .expect_err("invalid");
        let text = err.to_string();
        for needle in [
            "EVENT_TYPE",
            "GRACE_SECONDS",
            "POLICY_TABLE and POLICIES_FILE",
            "issuers[0].clientId",
            "(set by CLIENT_IDS)",
            "(set by TOKEN_USE)",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        assert!(err.0.len() >= 5, "{text}");
    }

    fn pool() -> Vec<(&'static str, &'static str)> {
        vec![
            ("USER_POOL_ID", "us-east-1_AbC123xyz"),
            ("CLIENT_IDS", "abc"),
            ("POLICY_TABLE", "auth-policy-store"),
        ]
    }

    fn with(extra: &[(&'static str, &'static str)]) -> BTreeMap<String, String> {
        let mut pairs = pool();
        pairs.extend_from_slice(extra);
        vars(&pairs)
    }

    #[test]
    fn the_cache_key_defaults_to_api_gateways() {
        let s = Settings::from_vars(&with(&[])).expect("valid");
        assert_eq!(
            s.cache_key.ttl_seconds, 300,
            "checked as if API Gateway caches"
        );
        assert_eq!(
            s.cache_key.identity_sources,
            vec!["method.request.header.Authorization".to_owned()]
        );
        assert!(
            !s.cache_key.simple_responses,
            "auto + REST sources: no simple response is cached"
        );
        let cache = s
            .config
            .config
            .api_gateway_cache
            .as_ref()
            .expect("handed to the core");
        assert_eq!(cache.ttl_seconds, 300);
        let http = Settings::from_vars(&with(&[
            ("EVENT_TYPE", "http-v1"),
            ("AUTHORIZER_CACHE_TTL", "0"),
        ]))
        .expect("valid");
        assert_eq!(
            http.cache_key.identity_sources,
            vec!["$request.header.Authorization".to_owned()]
        );
        assert!(!http.cache_key.caches());
    }

    #[test]
    fn the_cache_key_from_the_variables_over_config() {
        let s = Settings::from_vars(&with(&[
            ("CONFIG", r#"{"apiGatewayCache": {"ttlSeconds": 60, "identitySources": ["method.request.header.Authorization"]}}"#),
            ("IDENTITY_SOURCES", " method.request.header.Authorization , context.identity.sourceIp,"),
        ]))
        .expect("valid");
        assert_eq!(
            s.cache_key.ttl_seconds, 60,
            "CONFIG's, the variable being unset"
        );
        assert_eq!(
            s.cache_key.identity_sources,
            vec![
                "method.request.header.Authorization".to_owned(),
                "context.identity.sourceIp".to_owned()
            ]
        );
        let simple = Settings::from_vars(&with(&[
            ("EVENT_TYPE", "http-v2"),
            (
                "IDENTITY_SOURCES",
                "$request.header.Authorization,$context.httpMethod,$context.path",
            ),
        ]))
        .expect("valid");
        assert!(simple.cache_key.simple_responses);
    }

    #[test]
    fn cache_key_problems_name_their_variables() {
        for (extra, needles) in [
            (
                &[("AUTHORIZER_CACHE_TTL", "3601")][..],
                &["AUTHORIZER_CACHE_TTL: expected a whole number up to 3600"][..],
            ),
            (
                &[("IDENTITY_SOURCES", "method.request.header.X-Env")],
                &[
                    "apiGatewayCache.identitySources",
                    "the credential header `authorization`",
                    "(set by IDENTITY_SOURCES)",
                ],
            ),
            (
                &[(
                    "IDENTITY_SOURCES",
                    "method.request.header.Authorization,header.x",
                )],
                &[
                    "apiGatewayCache.identitySources[1]",
                    "`header.x` is not an identity source",
                ],
            ),
            (
                &[
                    ("EVENT_TYPE", "token"),
                    ("IDENTITY_SOURCES", "$request.header.Authorization"),
                ],
                &["IDENTITY_SOURCES", "HTTP API syntax", "REST API authorizer"],
            ),
            (
                &[("EVENT_TYPE", "http-v2")],
                &[
                    "simple responses",
                    "$context.path",
                    "HTTP_RESPONSE=iam",
                    "AUTHORIZER_CACHE_TTL=300 (the default)",
                ],
            ),
        ] {
            let err = Settings::from_vars(&with(extra)).expect_err("invalid");
            let text = err.to_string();
            for needle in needles {
                assert!(
                    text.contains(needle),
                    "{extra:?}: {needle} missing from:\n{text}"
                );
            }
        }
        // A bundled policy reading a header outside the key: located, with the key's variables.
        let policies =
            std::env::temp_dir().join(format!("edge-authz-settings-{}.json", std::process::id()));
        std::fs::write(
            &policies,
            r#"{"g": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:us-east-1:1:api/prod/GET/*",
                "Condition": {"StringEquals": {"request:header/x-env": "prod"}}}]}}"#,
        )
        .unwrap();
        let path = policies.display().to_string();
        let mut pairs = vec![
            ("USER_POOL_ID", "us-east-1_AbC123xyz"),
            ("CLIENT_IDS", "abc"),
        ];
        pairs.push(("POLICIES_FILE", path.as_str()));
        let text = Settings::from_vars(&vars(&pairs))
            .expect_err("refused")
            .to_string();
        for needle in [
            "policies.groups.g.Statement[0].Condition",
            "request:header/x-env",
            "(set by POLICIES_FILE)",
            "AUTHORIZER_CACHE_TTL=300 (the default), IDENTITY_SOURCES=method.request.header.Authorization (the default)",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        pairs.push(("AUTHORIZER_CACHE_TTL", "0"));
        assert!(
            Settings::from_vars(&vars(&pairs)).is_ok(),
            "TTL 0: nothing is cached"
        );
        pairs.pop();
        pairs.push((
            "IDENTITY_SOURCES",
            "method.request.header.Authorization,method.request.header.X-Env",
        ));
        assert!(
            Settings::from_vars(&vars(&pairs)).is_ok(),
            "x-env in the key"
        );
        let _ = std::fs::remove_file(&policies);
    }

    #[test]
    fn revocation_table_turns_revocation_on() {
        use edge_authz::{RevocationSource, WhenUnavailable};
        let s = Settings::from_vars(&with(&[
            ("REVOCATION_TABLE", "auth-revocations"),
            ("AUTHORIZER_CACHE_TTL", "30"),
        ]))
        .expect("valid");
        assert_eq!(s.revocation_table.as_deref(), Some("auth-revocations"));
        let r = s.config.config.revocation.expect("on, with the defaults");
        assert_eq!(r.freshness_seconds, 30);
        assert_eq!(r.when_unavailable, WhenUnavailable::Deny);
        assert_eq!(r.source, RevocationSource::External);
        assert!(s.config.warnings.is_empty(), "{:?}", s.config.warnings);
        // CONFIG's section tunes it.
        let s = Settings::from_vars(&with(&[
            ("REVOCATION_TABLE", "auth-revocations"),
            ("AUTHORIZER_CACHE_TTL", "10"),
            (
                "CONFIG",
                r#"{"revocation": {"freshnessSeconds": 10, "whenUnavailable": "stale"}}"#,
            ),
        ]))
        .expect("valid");
        let r = s.config.config.revocation.expect("on");
        assert_eq!(
            (r.freshness_seconds, r.when_unavailable),
            (10, WhenUnavailable::Stale)
        );
        // Off without the variable or a section.
        let s = Settings::from_vars(&with(&[])).expect("valid");
        assert!(s.config.config.revocation.is_none() && s.revocation_table.is_none());
    }

    #[test]
    fn a_cache_ttl_past_the_freshness_warns_with_the_variables() {
        let s = Settings::from_vars(&with(&[("REVOCATION_TABLE", "auth-revocations")]))
            .expect("valid: a warning, not an error");
        let warning = s
            .config
            .warnings
            .iter()
            .find(|w| w.contains("revocation.freshnessSeconds"))
            .unwrap_or_else(|| panic!("no warning in {:?}", s.config.warnings));
        assert!(
            warning.contains("AUTHORIZER_CACHE_TTL=300 (the default)"),
            "{warning}"
        );
    }

    #[test]
    fn revocation_without_its_table_fails_the_init() {
        for (extra, needles) in [
            (
                &[("CONFIG", r#"{"revocation": {"freshnessSeconds": 10}}"#)][..],
                &["REVOCATION_TABLE: is required by CONFIG's revocation section"][..],
            ),
            (
                &[("CONFIG", r#"{"revocation": {"store": "local"}}"#)],
                &["revocation.store \"local\"", "REVOCATION_TABLE"],
            ),
            (
                &[
                    ("CONFIG", r#"{"revocation": {"store": "local"}}"#),
                    ("REVOCATION_TABLE", "auth-revocations"),
                ],
                &["REVOCATION_TABLE: CONFIG's revocation.store is \"local\""],
            ),
            (
                &[("REVOCATION_TABLE", "a b")],
                &["REVOCATION_TABLE: \"a b\" is not a DynamoDB table name"],
            ),
            (
                &[
                    ("REVOCATION_TABLE", "auth-revocations"),
                    ("CONFIG", r#"{"revocation": {"freshnessSeconds": 0}}"#),
                ],
                &["revocation.freshnessSeconds"],
            ),
        ] {
            let text = Settings::from_vars(&with(extra))
                .expect_err("invalid")
                .to_string();
            for needle in needles {
                assert!(
                    text.contains(needle),
                    "{extra:?}: {needle} missing from:\n{text}"
                );
            }
        }
    }

    #[test]
    fn nothing_set_names_the_required_variables() {
        let err = Settings::from_vars(&BTreeMap::new()).expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("USER_POOL_ID: is required"), "{text}");
        assert!(text.contains("POLICY_TABLE: is required"), "{text}");
    }
}
