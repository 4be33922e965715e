//! Configuration from environment variables, validated at init: every problem is reported
//! in one message. The variables build a core configuration (JSON), so the core's located
//! errors are reused; each location is annotated with the variable that set it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use edge_authz::{Config, LoadedConfig};
use serde_json::{json, Map, Value};

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
    "JWKS_FILE",
    "JWKS_PREFETCH",
    "JWKS_TIMEOUT_MS",
    "DYNAMODB_TIMEOUT_MS",
    "DYNAMODB_ATTEMPTS",
    "GRACE_SECONDS",
    "CONTEXT_CLAIMS",
    "EVENT_TYPE",
    "HTTP_RESPONSE",
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

        // The core validates the whole configuration with located errors.
        let config_value = Value::Object(base);
        let loaded = match Config::from_value(&config_value) {
            Ok(loaded) => Some(loaded),
            Err(errors) => {
                for error in errors.0 {
                    let hint = origin(&error.location)
                        .map(|v| format!(" (set by {v})"))
                        .unwrap_or_default();
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
                bundled_jwks,
                jwks_prefetch,
                jwks_timeout: Duration::from_millis(jwks_timeout),
                dynamodb_timeout: Duration::from_millis(dynamodb_timeout),
                dynamodb_attempts: dynamodb_attempts.max(1) as u32,
            }),
            _ => Err(SettingsError(problems)),
        }
    }
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

    #[test]
    fn nothing_set_names_the_required_variables() {
        let err = Settings::from_vars(&BTreeMap::new()).expect_err("invalid");
        let text = err.to_string();
        assert!(text.contains("USER_POOL_ID: is required"), "{text}");
        assert!(text.contains("POLICY_TABLE: is required"), "{text}");
    }
}
