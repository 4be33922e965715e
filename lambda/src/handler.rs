//! The handler: an event and `now` in, an authorizer response (or `Unauthorized`) out.
//!
//! A thin driver of the core's sans-IO loop: JWKS fetches, DynamoDB loads and the native
//! signature check are the only I/O; every decision is the core's. The clock is a
//! parameter, so the conformance suite drives it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use edge_authz::policy::PolicyErrorKind;
use edge_authz::{
    drive, fetch_jwks, ApiGatewayAnswer, ApiGatewayFormat, Authorizer, Decision, Event, Host,
    Outcome, Reason, Request, RevocationsLoaded, RunError, SignatureCheck, SignatureVerdict,
    SignatureVerifier, StoredPolicy,
};
use serde_json::Value;
use tracing::{error, info, warn};

use crate::dynamo::{load_together, PolicyTable, Stored};
use crate::event::{self, EventKind};
use crate::fetch::JwksClient;
use crate::metrics::Metrics;
use crate::settings::{cache_key_hint, CacheKey, EventMode, HttpResponse, PolicyBackend, Settings};
use edge_authz::token::crypto::AwsLcVerifier;

/// How long a request waits, each time, for another invocation's JWKS fetch (only with
/// concurrent invocations); each wait is one step of the core's bounded run.
const AWAIT_JWKS_SLICE: Duration = Duration::from_millis(10);

/// A policy item for the core; one that is no policy document is logged, and the core keeps
/// its group invalid (denied).
fn policy_item((group, item): (String, Stored)) -> (String, StoredPolicy) {
    if let Stored::Unusable(why) = &item {
        error!(event = "policy_invalid", group = %group, error = %why, "the group's callers are denied until its item is fixed");
    }
    (group, stored_policy(item))
}

/// One invocation's host for the core's driver: the handler's I/O at the invocation's `now`.
struct Invocation<'h> {
    handler: &'h Handler,
    now: u64,
    /// How long the last JWKS fetch took (for its log line).
    fetch_ms: AtomicU64,
}

impl<'h> Invocation<'h> {
    fn new(handler: &'h Handler, now: u64) -> Self {
        Self {
            handler,
            now,
            fetch_ms: AtomicU64::new(0),
        }
    }
}

impl Invocation<'_> {
    /// The configured `iss` of issuer `index`, for logs (an index means nothing to a reader).
    fn issuer_name(&self, index: usize) -> String {
        self.handler
            .lock()
            .config()
            .issuers
            .get(index)
            .map(|issuer| issuer.issuer.clone())
            .unwrap_or_default()
    }
}

impl Host for Invocation<'_> {
    type Error = String;

    fn with_authorizer<R>(&self, f: impl FnOnce(&mut Authorizer) -> R) -> R {
        f(&mut self.handler.lock())
    }

    fn now(&self) -> u64 {
        self.now
    }

    async fn fetch_jwks(&self, _issuer: usize, url: &str) -> Result<Vec<u8>, String> {
        let started = Instant::now();
        let fetched = self.handler.jwks.get(url).await;
        let ms = started.elapsed().as_millis() as u64;
        self.fetch_ms.store(ms, Ordering::Relaxed);
        fetched.map(|body| body.to_vec()).map_err(|e| e.to_string())
    }

    async fn await_jwks(&self, _issuer: usize) {
        tokio::time::sleep(AWAIT_JWKS_SLICE).await;
    }

    async fn load_policies(
        &self,
        groups: &[String],
    ) -> Result<Vec<(String, StoredPolicy)>, String> {
        let Some(table) = &self.handler.table else {
            // Bundled policies never ask; if they did, deny rather than guess.
            error!(event = "policies_not_loadable", groups = groups.len());
            return Err("policies are bundled: nothing to load".into());
        };
        let started = Instant::now();
        let loaded = table.load(groups, self.now).await;
        let ms = started.elapsed().as_millis() as u64;
        let items = match loaded {
            Ok(items) => items,
            Err(e) => {
                // Logged here, with its duration (`observe` has none).
                error!(event = "policies_unavailable", groups = groups.len(), error = %e.0, ms);
                return Err(e.0);
            }
        };
        info!(event = "policies_loaded", groups = groups.len(), ms);
        Ok(items.into_iter().map(policy_item).collect())
    }

    async fn load_revocations(
        &self,
        keys: &[String],
        groups: &[String],
    ) -> Result<RevocationsLoaded, String> {
        let Some(revocations) = &self.handler.revocations else {
            // The settings require the table whenever the core reads a store: not reached.
            error!(event = "revocations_not_loadable", keys = keys.len());
            return Err(
                "revocation records are read from REVOCATION_TABLE, which is not set".into(),
            );
        };
        // The policies the core asks for next, in the same BatchGetItem when it has any.
        let policies = self.handler.table.as_ref().filter(|_| !groups.is_empty());
        let mut reads = vec![(revocations, keys)];
        if let Some(policies) = policies {
            reads.push((policies, groups));
        }
        let started = Instant::now();
        let mut loaded = load_together(&reads, self.now).await;
        if let (Err(e), true) = (&loaded, reads.len() > 1) {
            // The failure may be the policy table's: the records alone decide whether the
            // caller is revoked (the policies are asked for, and fail or not, next).
            warn!(event = "revocations_with_policies_failed", error = %e.0);
            loaded = load_together(&reads[..1], self.now).await;
        }
        let ms = started.elapsed().as_millis() as u64;
        let mut loaded = match loaded {
            Ok(loaded) => loaded.into_iter(),
            Err(e) => {
                error!(event = "revocations_unavailable", keys = keys.len(), error = %e.0, ms);
                return Err(e.0);
            }
        };
        let records = loaded.next().unwrap_or_default();
        let found = records
            .iter()
            .filter(|(_, item)| *item != Stored::Absent)
            .count();
        info!(event = "revocations_loaded", keys = keys.len(), found, ms);
        let policies = loaded.next().unwrap_or_default();
        if !policies.is_empty() {
            info!(
                event = "policies_loaded",
                groups = policies.len(),
                ms,
                with = "revocations"
            );
        }
        // An item that is no record is taken as revoking by the core (its key says someone
        // meant to), which reports it (`revocation_invalid`).
        Ok(RevocationsLoaded {
            records: records
                .into_iter()
                .map(|(key, item)| (key, stored_policy(item)))
                .collect(),
            policies: policies.into_iter().map(policy_item).collect(),
        })
    }

    async fn check_signature(&self, check: &SignatureCheck) -> SignatureVerdict {
        self.handler.verifier.verify(
            check.algorithm,
            &check.key,
            check.signing_input.as_bytes(),
            &check.signature,
        )
    }

    fn observe(&self, event: Event<'_>) {
        let ms = self.fetch_ms.load(Ordering::Relaxed);
        match event {
            Event::JwksFetched { issuer, url, jwks } => info!(
                event = "jwks_fetched",
                issuer = %self.issuer_name(issuer),
                issuer_index = issuer,
                url,
                keys = jwks.len(),
                skipped = jwks.skipped().len(),
                ms
            ),
            Event::JwksInvalid { issuer, url, error } => {
                error!(event = "jwks_invalid", issuer = %self.issuer_name(issuer), issuer_index = issuer, url, error = %error, ms)
            }
            Event::JwksFetchFailed { issuer, url, error } => {
                error!(event = "jwks_fetch_failed", issuer = %self.issuer_name(issuer), issuer_index = issuer, url, error = %error, ms)
            }
            Event::PolicyLoaded { group, warnings } => {
                for warning in warnings {
                    warn!(event = "policy_warning", group = %group, warning = %warning);
                }
            }
            Event::PolicyInvalid { group, errors } => {
                // A condition on a request value outside API Gateway's cache key: say which
                // variables make that key.
                let uncached = errors
                    .0
                    .iter()
                    .any(|e| matches!(e.kind(), PolicyErrorKind::UncachedRequestValue { .. }));
                let errors = errors.to_string();
                let hint = if uncached {
                    cache_key_hint(&self.handler.cache_key)
                } else {
                    String::new()
                };
                error!(
                    event = "policy_invalid",
                    group = %group,
                    errors = %format_args!("{errors}{hint}"),
                    "the group's policy fails validation: its callers are denied until it is fixed"
                )
            }
            // Logged where the load failed, with its duration.
            Event::PoliciesUnavailable { .. } | Event::RevocationsUnavailable { .. } => {}
            Event::RevocationInvalid { error } => error!(
                event = "revocation_invalid",
                key = %error.key,
                error = %error,
                "the key's tokens are refused until the item is fixed or deleted"
            ),
            Event::RunFailed {
                error: RunError::RefetchRefused { issuer },
            } => {
                warn!(event = "jwks_refetch_refused", issuer = %self.issuer_name(issuer), issuer_index = issuer)
            }
            Event::RunFailed { error } => warn!(event = error.code(), error = %error),
            _ => {}
        }
    }
}

/// A table's item as the core takes it.
fn stored_policy(item: Stored) -> StoredPolicy {
    match item {
        Stored::Absent => StoredPolicy::Absent,
        Stored::Text(text) => StoredPolicy::Text(text),
        Stored::Value(value) => StoredPolicy::Json(value),
        Stored::Unusable(why) => StoredPolicy::Invalid(why.to_owned()),
    }
}

/// Why no response is returned: API Gateway maps the error `Unauthorized` to a 401; any
/// other error to a 500 (never an allow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Missing or malformed credentials.
    Unauthorized,
    /// The event is not an authorizer event this function understands.
    BadEvent(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unauthorized => f.write_str("Unauthorized"),
            Self::BadEvent(why) => write!(f, "invalid authorizer event: {why}"),
        }
    }
}

impl std::error::Error for Rejection {}

impl From<Rejection> for lambda_runtime::Diagnostic {
    fn from(rejection: Rejection) -> Self {
        let error_type = match rejection {
            Rejection::Unauthorized => "Unauthorized",
            Rejection::BadEvent(_) => "InvalidEvent",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: rejection.to_string(),
        }
    }
}

/// What one invocation produced.
#[derive(Debug)]
pub struct Handled {
    /// The function's result.
    pub result: Result<Value, Rejection>,
    /// The core's decision (absent when the event was unreadable or the loop gave up).
    pub decision: Option<Decision>,
    /// The event kind.
    pub kind: Option<EventKind>,
}

impl Handled {
    /// The reason code (`allowed`, `expired`, ..., `invalid_event`, `internal_error` when the run did not settle).
    pub fn reason(&self) -> &'static str {
        match (&self.decision, &self.result) {
            (Some(d), _) => d.reason.code(),
            (None, Err(Rejection::BadEvent(_))) => "invalid_event",
            (None, _) => edge_authz::Reason::InternalError.code(),
        }
    }
}

/// A check of one's own on a caller the core allowed ([`Handler::with_claim_check`]).
pub type ClaimCheck = dyn Fn(&Decision) -> bool + Send + Sync;

/// The authorizer function's state, kept across invocations.
pub struct Handler {
    authorizer: Mutex<Authorizer>,
    verifier: Arc<AwsLcVerifier>,
    jwks: JwksClient,
    table: Option<PolicyTable>,
    revocations: Option<PolicyTable>,
    mode: EventMode,
    http_response: HttpResponse,
    cache_key: CacheKey,
    metrics: Option<Metrics>,
    claim_check: Option<Box<ClaimCheck>>,
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("mode", &self.mode)
            .field("metrics", &self.metrics)
            .field("claim_check", &self.claim_check.is_some())
            .finish_non_exhaustive()
    }
}

/// Random bytes for the core's cache hash key, from the kernel (`/dev/urandom`).
///
/// Not from `aws_lc_rs::rand`: its first call seeds AWS-LC's DRBG with CPU-jitter entropy,
/// ~90 % of a cold start (37–50 ms, seen with `perf record`), for 8 bytes that need no
/// DRBG. AWS-LC seeds it later, when the first TLS handshake (a JWKS or DynamoDB call)
/// needs it, if one ever does.
fn random_key() -> [u8; 8] {
    use std::io::Read;
    let mut key = [0u8; 8];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key));
    if let Err(e) = read {
        // Still correct without it (the key only hardens the caches against collisions).
        warn!(event = "no_random_hash_key", error = %e);
    }
    key
}

/// The DynamoDB tables a handler reads: policies (`POLICY_TABLE`) and revocation records
/// (`REVOCATION_TABLE`, [`PolicyTable::revocations`]).
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// The policy table, when policies come from DynamoDB.
    pub policies: Option<PolicyTable>,
    /// The revocation table, when revocation is on.
    pub revocations: Option<PolicyTable>,
}

impl Handler {
    /// Builds the handler: the core authorizer with native crypto, the bundled JWKS, the
    /// HTTP client; `table` when policies come from DynamoDB. Without revocation; with it,
    /// [`with_tables`](Self::with_tables).
    pub fn new(settings: Settings, table: Option<PolicyTable>, now: u64) -> Result<Self, String> {
        let tables = Tables {
            policies: table,
            revocations: None,
        };
        Self::with_tables(settings, tables, now)
    }

    /// [`new`](Self::new) with every table the settings name.
    pub fn with_tables(settings: Settings, tables: Tables, now: u64) -> Result<Self, String> {
        for warning in &settings.config.warnings {
            warn!(event = "config_warning", warning = %warning);
        }
        if matches!(settings.policies, PolicyBackend::DynamoDb { .. }) && tables.policies.is_none()
        {
            return Err("POLICY_TABLE is set but no DynamoDB client was given".into());
        }
        // Fail closed at init: without the table every caller would be refused.
        let reads_revocations = settings
            .config
            .config
            .revocation
            .is_some_and(|r| r.source == edge_authz::RevocationSource::External);
        if reads_revocations && tables.revocations.is_none() {
            return Err(match &settings.revocation_table {
                Some(_) => "REVOCATION_TABLE is set but no DynamoDB client was given".into(),
                None => {
                    "the configuration's revocation section reads a store: set REVOCATION_TABLE"
                        .into()
                }
            });
        }
        let verifier = Arc::new(AwsLcVerifier::new());
        let mut authorizer = Authorizer::new(settings.config.config)
            .with_verifier(verifier.clone())
            .with_hash_key(random_key());
        for (issuer, document) in &settings.bundled_jwks {
            match authorizer.jwks_fetched(*issuer, document, now) {
                Ok(jwks) => info!(
                    event = "jwks_bundled",
                    issuer = *issuer,
                    keys = jwks.len(),
                    skipped = jwks.skipped().len()
                ),
                Err(e) => return Err(format!("JWKS_FILE: issuer {issuer}: {e}")),
            }
        }
        Ok(Self {
            authorizer: Mutex::new(authorizer),
            verifier,
            jwks: JwksClient::new(settings.jwks_timeout)?,
            table: tables.policies,
            revocations: tables.revocations,
            mode: settings.mode,
            http_response: settings.http_response,
            cache_key: settings.cache_key,
            metrics: settings.metrics,
            claim_check: None,
        })
    }

    /// Adds a check of one's own, run after the core's rules on every caller the core
    /// allowed (never on a denial: it can refuse, never allow). `check` gets the allow —
    /// [`Decision::claims`] (every verified claim), [`Decision::identity`],
    /// [`Decision::context`] — and answers `true` to keep it; `false` (or a panic, which is
    /// logged as `claim_check_error`) turns it into a 403: reason `claim_check_failed`, a
    /// `Deny` of the request's ARN (`isAuthorized: false` for a simple response), as the
    /// core answers any refusal.
    ///
    /// The check sees the caller, not the route: API Gateway caches an allow by the identity
    /// sources and applies its policy to every route the caller's policies allow
    /// ([`Authorizer::api_gateway_policy`]), so a check on the method or path would not be
    /// asked again for those. Put route rules in the policies.
    ///
    /// A `bootstrap` of one's own (the crate as a library; its `main.rs` with a tenant check):
    ///
    /// ```no_run
    /// // The driver's nested futures are deeper than rustc's default layout query depth.
    /// #![recursion_limit = "256"]
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() -> Result<(), lambda_runtime::Error> {
    ///     edge_authz_lambda::runtime::run_with(|handler| {
    ///         handler.with_claim_check(|decision| {
    ///             decision
    ///                 .claims()
    ///                 .and_then(|claims| claims.get("custom:tenant"))
    ///                 .is_some_and(|tenant| tenant == "acme")
    ///         })
    ///     })
    ///     .await
    /// }
    /// ```
    pub fn with_claim_check(
        mut self,
        check: impl Fn(&Decision) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.claim_check = Some(Box::new(check));
        self
    }

    /// `decision` after the claim check: an allow the check refuses becomes
    /// `claim_check_failed` (forbidden), with the caller kept for `principalId`.
    fn checked(&self, decision: Decision) -> Decision {
        let Some(check) = &self.claim_check else {
            return decision;
        };
        if !decision.is_allowed() {
            return decision;
        }
        let passed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&decision)))
            .unwrap_or_else(|_| {
                error!(
                    event = "claim_check_error",
                    "the claim check panicked: the caller is refused"
                );
                false
            });
        if passed {
            return decision;
        }
        let mut refused = decision;
        refused.outcome = Outcome::Forbidden;
        refused.reason = Reason::ClaimCheckFailed;
        debug_assert_eq!(Reason::ClaimCheckFailed.outcome(), Outcome::Forbidden);
        refused
    }

    /// Builds the handler from `settings`, with a DynamoDB client from the environment
    /// (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`) when policies or revocation
    /// records live there (one client for both tables).
    pub async fn from_settings(settings: Settings, now: u64) -> Result<Self, String> {
        let policy_table = match &settings.policies {
            PolicyBackend::Bundled => None,
            PolicyBackend::DynamoDb { table } => Some(table.clone()),
        };
        let attempt = settings.dynamodb_timeout;
        let client = if policy_table.is_some() || settings.revocation_table.is_some() {
            use aws_config::retry::RetryConfig;
            use aws_config::timeout::TimeoutConfig;
            let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(attempt)
                        .operation_attempt_timeout(attempt)
                        .operation_timeout(attempt * 2)
                        .build(),
                )
                // The SDK retries throttling and 5xx once more; UnprocessedKeys are ours.
                .retry_config(RetryConfig::standard().with_max_attempts(2))
                .load()
                .await;
            Some(aws_sdk_dynamodb::Client::new(&conf))
        } else {
            None
        };
        let attempts = settings.dynamodb_attempts;
        let tables = Tables {
            policies: client
                .clone()
                .zip(policy_table)
                .map(|(c, table)| PolicyTable::new(c, table, attempts, attempt * 2)),
            revocations: client
                .zip(settings.revocation_table.clone())
                .map(|(c, table)| PolicyTable::revocations(c, table, attempts, attempt * 2)),
        };
        let prefetch = settings.jwks_prefetch;
        let handler = Self::with_tables(settings, tables, now)?;
        if prefetch {
            handler.prefetch_jwks(now).await;
        }
        Ok(handler)
    }

    fn lock(&self) -> MutexGuard<'_, Authorizer> {
        // A panic while holding the lock cannot leave the core half-updated in a way that
        // allows: its state changes are single assignments. Keep serving.
        self.authorizer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fetches every issuer's JWKS now (`JWKS_PREFETCH`); failures are logged, not fatal.
    pub async fn prefetch_jwks(&self, now: u64) {
        let issuers: Vec<(usize, String)> = self
            .lock()
            .config()
            .issuers
            .iter()
            .enumerate()
            .map(|(i, issuer)| (i, issuer.jwks_uri.clone()))
            .collect();
        let host = Invocation::new(self, now);
        for (issuer, url) in issuers {
            fetch_jwks(&host, issuer, &url, now).await;
        }
    }

    /// Runs the core's driver for `request` at `now`.
    pub async fn decide(&self, request: &Request<'_>, now: u64) -> Result<Decision, RunError> {
        drive(&Invocation::new(self, now), request).await
    }

    /// Handles one authorizer event at `now` (seconds since the epoch).
    pub async fn handle(&self, event: Value, now: u64) -> Handled {
        let started = Instant::now();
        let kind = match event::detect(&event, self.mode) {
            Ok(kind) => kind,
            Err(e) => return self.finish(started, None, Err(Rejection::BadEvent(e.0)), None),
        };
        let incoming = match event::parse(event, kind) {
            Ok(incoming) => incoming,
            Err(e) => return self.finish(started, Some(kind), Err(Rejection::BadEvent(e.0)), None),
        };
        let pairs = incoming.pairs();
        let request = incoming.request(&pairs);
        let decided = self.decide(&request, now).await.map(|d| self.checked(d));
        let format = match (kind, self.http_response) {
            (EventKind::HttpV2, HttpResponse::Simple) => ApiGatewayFormat::Simple,
            _ => ApiGatewayFormat::Iam,
        };
        let authorizer = self.lock();
        if format == ApiGatewayFormat::Simple
            && decided.as_ref().is_ok_and(Decision::is_allowed)
            && !authorizer.simple_responses_are_safe()
        {
            error!(
                event = "simple_response_refused",
                "an HTTP API 2.0 event asks for a simple response, which API Gateway caches for every route, \
                 but IDENTITY_SOURCES (REST syntax) do not hold the method and the path: denied; for an HTTP API \
                 set EVENT_TYPE=http-v2 and IDENTITY_SOURCES with $context.httpMethod and $context.path, \
                 or HTTP_RESPONSE=iam, or AUTHORIZER_CACHE_TTL=0"
            );
        }
        let answer =
            authorizer.api_gateway_answer(decided.as_ref().map_err(|e| *e), &request, now, format);
        drop(authorizer);
        let result = match answer {
            ApiGatewayAnswer::Response(response) => Ok(response),
            ApiGatewayAnswer::Unauthorized => Err(Rejection::Unauthorized),
        };
        self.finish(started, Some(kind), result, decided.ok())
    }

    fn finish(
        &self,
        started: Instant,
        kind: Option<EventKind>,
        result: Result<Value, Rejection>,
        decision: Option<Decision>,
    ) -> Handled {
        let handled = Handled {
            result,
            decision,
            kind,
        };
        let elapsed = started.elapsed();
        let us = elapsed.as_micros() as u64;
        let kind_name = kind.map_or("unknown", EventKind::as_str);
        if let Some(metrics) = &self.metrics {
            let outcome = match (&handled.decision, &handled.result) {
                (Some(decision), _) => decision.outcome.as_str(),
                (None, Err(Rejection::BadEvent(_))) => Outcome::BadRequest.as_str(),
                (None, _) => Reason::InternalError.outcome().as_str(),
            };
            metrics.emit(
                outcome,
                handled.reason(),
                kind_name,
                elapsed.as_secs_f64() * 1000.0,
            );
        }
        match &handled.decision {
            Some(decision) => {
                let principal = decision
                    .identity()
                    .map(|i| i.subject.as_str())
                    .unwrap_or("");
                let explain = if decision.is_allowed() {
                    String::new()
                } else if decision.reason == Reason::ClaimCheckFailed {
                    "claim_check_failed: the claim check refused the caller the core allowed"
                        .to_owned()
                } else {
                    decision.explain()
                };
                info!(
                    event = "decision",
                    kind = kind_name,
                    outcome = decision.outcome.as_str(),
                    reason = decision.reason.code(),
                    principal,
                    resource = decision.resource().unwrap_or(""),
                    explain = %explain,
                    us,
                );
            }
            None => {
                let detail = match &handled.result {
                    Err(e) => e.to_string(),
                    Ok(_) => "the authorizer did not settle in time: denied".to_owned(),
                };
                error!(event = "decision", kind = kind_name, outcome = "forbidden", reason = handled.reason(), detail = %detail, us);
            }
        }
        handled
    }
}
