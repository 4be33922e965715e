//! Running the sans-IO core to a decision: the one loop every adapter uses.
//!
//! [`Authorizer::authorize`] answers a [`Step`]: a decision, or a [`Need`] the host must
//! fulfil first. The rules of running those steps (how many, one JWKS fetch per issuer per
//! request, where each answer goes) live here once, like rustls's `complete_io`:
//!
//! - [`Run`] checks each step of one request against the rules. Hosts that must own their
//!   loop (the wasm boundary, where JavaScript awaits) run every step through it.
//! - [`drive`] is the whole loop over a [`Host`]: its I/O (JWKS, policies, signatures, the
//!   clock) and nothing else. Async, without a runtime: a host with blocking or in-memory
//!   I/O runs it with [`drive_blocking`].

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use serde_json::Value;

use crate::authorizer::{Authorizer, Need, Step};
use crate::decision::Decision;
use crate::policy::{PolicyErrors, PolicyWarning};
use crate::reason::Reason;
use crate::request::Request;
use crate::revocation::RecordError;
use crate::token::crypto::SignatureVerdict;
use crate::token::jwks::{Jwks, JwksError};
use crate::token::verifier::SignatureCheck;

/// The most steps one request may take. A request needs at most: one JWKS fetch per issuer
/// (or a wait for another request's), one policy load, one signature check, and the
/// decision; anything beyond is a core or host bug, and is refused rather than looped on.
pub const MAX_STEPS: u8 = 16;

/// Why a run ended without a decision. Every adapter answers it as a failure (503, or its
/// runtime's error), never as an allow; its [`reason`](Self::reason) is `internal_error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunError {
    /// More than [`MAX_STEPS`] steps: the authorizer kept asking.
    TooManySteps,
    /// The core asked to fetch an issuer's JWKS a second time within one request (a zero
    /// refetch penalty): refused, so that no request can cause a fetch storm.
    RefetchRefused {
        /// Index of the issuer in the configuration.
        issuer: usize,
    },
    /// A [`drive_blocking`] host's future was not ready: it is not a blocking host.
    HostPending,
}

impl RunError {
    /// The stable code for logs: `too_many_steps`, `jwks_refetch_refused`, `host_pending`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::TooManySteps => "too_many_steps",
            Self::RefetchRefused { .. } => "jwks_refetch_refused",
            Self::HostPending => "host_pending",
        }
    }

    /// The reason of the decision adapters answer in its place: `internal_error` (503).
    pub const fn reason(self) -> Reason {
        Reason::InternalError
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManySteps => {
                write!(f, "the authorizer kept asking for more ({MAX_STEPS} steps)")
            }
            Self::RefetchRefused { issuer } => write!(
                f,
                "the JWKS of issuer {issuer} was asked for twice in one request: refused"
            ),
            Self::HostPending => f.write_str("a blocking host returned a pending future"),
        }
    }
}

/// One request's run through the core: counts its steps and the issuers it fetched.
#[derive(Debug, Default, Clone)]
pub struct Run {
    steps: u8,
    /// Issuers whose JWKS this request fetched (rarely more than one).
    fetched: Vec<usize>,
}

impl Run {
    /// A run for a new request.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next step for `request` at `now`, checked against the rules: at most
    /// [`MAX_STEPS`], one JWKS fetch per issuer (a second is reported failed to the core and
    /// ends the run).
    pub fn step(
        &mut self,
        authorizer: &mut Authorizer,
        request: &Request<'_>,
        now: u64,
    ) -> Result<Step, RunError> {
        if self.steps >= MAX_STEPS {
            return Err(RunError::TooManySteps);
        }
        self.steps += 1;
        let step = authorizer.authorize(request, now);
        if let Step::Need(Need::FetchJwks { issuer, .. }) = &step {
            if self.fetched.contains(issuer) {
                authorizer.jwks_failed(*issuer, now);
                return Err(RunError::RefetchRefused { issuer: *issuer });
            }
            self.fetched.push(*issuer);
        }
        Ok(step)
    }
}

/// A group's policy as a store holds it: JSON text, a JSON value, or nothing (the group has
/// no policy). Everything [`Authorizer::policy_loaded`] accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PolicyInput<'a> {
    /// The group has no policy.
    Absent,
    /// The policy document as JSON text.
    Text(&'a str),
    /// The policy document as a parsed JSON value (e.g. a DynamoDB map).
    Json(&'a Value),
    /// The store holds something for the group that is no document at all (a DynamoDB
    /// item without its attribute, a JavaScript function): kept as invalid, so its callers
    /// are denied, never taken as "no policy". The text says what was found.
    Invalid(&'a str),
}

impl<'a> PolicyInput<'a> {
    /// A policy as document stores keep it (a KV value, a member of a `{group: policy}`
    /// document, a DynamoDB attribute): a string is JSON text, `null` or no value is no
    /// policy, anything else is the document itself.
    pub fn stored(value: Option<&'a Value>) -> Self {
        match value {
            None | Some(Value::Null) => Self::Absent,
            Some(Value::String(text)) => Self::Text(text),
            Some(document) => Self::Json(document),
        }
    }
}

impl<'a> From<&'a str> for PolicyInput<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a String> for PolicyInput<'a> {
    fn from(text: &'a String) -> Self {
        Self::Text(text)
    }
}

impl<'a> From<&'a Value> for PolicyInput<'a> {
    fn from(document: &'a Value) -> Self {
        Self::Json(document)
    }
}

impl<'a> From<Option<&'a str>> for PolicyInput<'a> {
    fn from(text: Option<&'a str>) -> Self {
        text.map_or(Self::Absent, Self::Text)
    }
}

/// An owned [`PolicyInput`], as a host's store answers it.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredPolicy {
    /// The group has no policy.
    Absent,
    /// JSON text.
    Text(String),
    /// A parsed JSON value.
    Json(Value),
    /// Not a document (see [`PolicyInput::Invalid`]); the text says what was found.
    Invalid(String),
}

impl From<PolicyInput<'_>> for StoredPolicy {
    fn from(policy: PolicyInput<'_>) -> Self {
        match policy {
            PolicyInput::Absent => Self::Absent,
            PolicyInput::Text(text) => Self::Text(String::from(text)),
            PolicyInput::Json(value) => Self::Json(value.clone()),
            PolicyInput::Invalid(why) => Self::Invalid(String::from(why)),
        }
    }
}

impl StoredPolicy {
    /// The policy to hand to [`Authorizer::policy_loaded`].
    pub fn as_input(&self) -> PolicyInput<'_> {
        match self {
            Self::Absent => PolicyInput::Absent,
            Self::Text(text) => PolicyInput::Text(text),
            Self::Json(value) => PolicyInput::Json(value),
            Self::Invalid(why) => PolicyInput::Invalid(why),
        }
    }
}

/// What a host read for a [`Need::LoadRevocations`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RevocationsLoaded {
    /// One answer per key asked for.
    pub records: Vec<(String, StoredPolicy)>,
    /// Policies of the groups asked for alongside, read in the same call (may be empty).
    pub policies: Vec<(String, StoredPolicy)>,
}

impl RevocationsLoaded {
    /// Only records (a store that reads no policies with them).
    pub fn records(records: Vec<(String, StoredPolicy)>) -> Self {
        Self {
            records,
            policies: Vec::new(),
        }
    }
}

/// What happened during a run, for the host's logs and metrics. Never holds a token.
#[non_exhaustive]
pub enum Event<'a> {
    /// An issuer's JWKS was fetched and accepted.
    JwksFetched {
        /// Index of the issuer in the configuration.
        issuer: usize,
        /// The configured JWKS URL.
        url: &'a str,
        /// The key set as the core took it (`len()`, `skipped()`).
        jwks: &'a Jwks,
    },
    /// An issuer's JWKS was fetched but is not a usable JWK Set (counted as a failed fetch).
    JwksInvalid {
        /// Index of the issuer in the configuration.
        issuer: usize,
        /// The configured JWKS URL.
        url: &'a str,
        /// Why it was refused.
        error: &'a JwksError,
    },
    /// Fetching an issuer's JWKS failed.
    JwksFetchFailed {
        /// Index of the issuer in the configuration.
        issuer: usize,
        /// The configured JWKS URL.
        url: &'a str,
        /// The host's error.
        error: &'a dyn fmt::Display,
    },
    /// A group's policy was loaded; it is valid, with these warnings (often none).
    PolicyLoaded {
        /// The group.
        group: &'a str,
        /// What validation warned about.
        warnings: &'a [PolicyWarning],
    },
    /// A group's stored policy fails validation: the group's callers are denied until it
    /// is fixed.
    PolicyInvalid {
        /// The group.
        group: &'a str,
        /// The located errors.
        errors: &'a PolicyErrors,
    },
    /// Loading the policies of these groups failed.
    PoliciesUnavailable {
        /// The groups.
        groups: &'a [String],
        /// The host's error.
        error: &'a dyn fmt::Display,
    },
    /// A revocation record could not be read: it is taken as revoking.
    RevocationInvalid {
        /// Why.
        error: &'a RecordError,
    },
    /// Reading revocation records failed.
    RevocationsUnavailable {
        /// The keys.
        keys: &'a [String],
        /// The host's error.
        error: &'a dyn fmt::Display,
    },
    /// The run ended without a decision.
    RunFailed {
        /// Why.
        error: RunError,
    },
}

/// What a runtime provides to run the core: its I/O, its clock, and access to the shared
/// [`Authorizer`]. Every method but [`with_authorizer`](Self::with_authorizer) and
/// [`now`](Self::now) may await; none is called with the authorizer borrowed, so a host
/// that serves concurrent requests keeps one authorizer behind a lock.
pub trait Host {
    /// The host's I/O error (shown in logs).
    type Error: fmt::Display;

    /// Runs `f` on the authorizer (under the host's lock, if it has one).
    fn with_authorizer<R>(&self, f: impl FnOnce(&mut Authorizer) -> R) -> R;

    /// Seconds since the epoch, read once per request.
    fn now(&self) -> u64;

    /// Fetches the JWKS document at `url` (the configured URL of issuer `issuer`).
    fn fetch_jwks(
        &self,
        issuer: usize,
        url: &str,
    ) -> impl Future<Output = Result<Vec<u8>, Self::Error>>;

    /// Waits for another request's fetch of `issuer`'s JWKS to settle (or a short while);
    /// the run then asks the core again. Each wait is one step of the run.
    fn await_jwks(&self, issuer: usize) -> impl Future<Output = ()>;

    /// Loads the policies of `groups`: one answer per group, in any order. A group left
    /// out stays missing and the core asks again (one step each time).
    fn load_policies(
        &self,
        groups: &[String],
    ) -> impl Future<Output = Result<Vec<(String, StoredPolicy)>, Self::Error>>;

    /// Reads the revocation records under `keys`: one answer per key, absent ones as
    /// [`StoredPolicy::Absent`] (an absence is an answer, and is cached too). Asked only
    /// when the configuration's `revocation` section reads an external store. `groups` are
    /// the policies the authorizer will ask for next: a store that reads both in one call
    /// returns them too ([`RevocationsLoaded::policies`]), others leave them.
    fn load_revocations(
        &self,
        keys: &[String],
        groups: &[String],
    ) -> impl Future<Output = Result<RevocationsLoaded, Self::Error>>;

    /// Verifies a signature with the host's crypto.
    fn check_signature(&self, check: &SignatureCheck) -> impl Future<Output = SignatureVerdict>;

    /// Observes what happened (logs, metrics). The default ignores it.
    fn observe(&self, event: Event<'_>) {
        let _ = event;
    }
}

/// Runs `request` through the core to a decision, the host doing the I/O the core asks for.
/// A run that breaks the rules ([`Run`]) ends in a [`RunError`], which adapters answer as a
/// failure (`internal_error`, 503), never an allow.
pub async fn drive<H: Host>(host: &H, request: &Request<'_>) -> Result<Decision, RunError> {
    let now = host.now();
    let mut run = Run::new();
    loop {
        let step = host.with_authorizer(|authorizer| run.step(authorizer, request, now));
        let need = match step {
            Ok(Step::Decided(decision)) => return Ok(decision),
            Ok(Step::Need(need)) => need,
            Err(error) => {
                host.observe(Event::RunFailed { error });
                return Err(error);
            }
        };
        match need {
            Need::FetchJwks { issuer, url } => fetch_jwks(host, issuer, &url, now).await,
            Need::AwaitJwks { issuer } => host.await_jwks(issuer).await,
            Need::LoadPolicies { groups } => match host.load_policies(&groups).await {
                Ok(policies) => policies_loaded(host, &policies, now),
                Err(error) => {
                    host.with_authorizer(|a| a.policies_failed(&groups, now));
                    host.observe(Event::PoliciesUnavailable {
                        groups: &groups,
                        error: &error,
                    });
                }
            },
            Need::LoadRevocations { keys, groups } => {
                match host.load_revocations(&keys, &groups).await {
                    Ok(loaded) => {
                        let errors: Vec<RecordError> = host.with_authorizer(|a| {
                            loaded
                                .records
                                .iter()
                                .filter_map(|(key, record)| {
                                    a.revocation_loaded(key, record.as_input(), now).err()
                                })
                                .collect()
                        });
                        for error in &errors {
                            host.observe(Event::RevocationInvalid { error });
                        }
                        policies_loaded(host, &loaded.policies, now);
                    }
                    Err(error) => {
                        host.with_authorizer(|a| a.revocations_failed(&keys, now));
                        host.observe(Event::RevocationsUnavailable {
                            keys: &keys,
                            error: &error,
                        });
                    }
                }
            }
            Need::CheckSignature { token, check } => {
                let verdict = host.check_signature(&check).await;
                host.with_authorizer(|authorizer| {
                    authorizer.signature_checked(token, verdict == SignatureVerdict::Valid)
                });
            }
        }
    }
}

/// Hands loaded policies to the core, reporting each to [`Host::observe`].
fn policies_loaded<H: Host>(host: &H, policies: &[(String, StoredPolicy)], now: u64) {
    if policies.is_empty() {
        return;
    }
    let results: Vec<_> = host.with_authorizer(|a| {
        policies
            .iter()
            .map(|(group, policy)| a.policy_loaded(group, policy.as_input(), now))
            .collect()
    });
    for ((group, _), result) in policies.iter().zip(&results) {
        match result {
            Ok(warnings) => host.observe(Event::PolicyLoaded { group, warnings }),
            Err(errors) => host.observe(Event::PolicyInvalid { group, errors }),
        }
    }
}

/// Fetches the JWKS of `issuer` from `url` through the host and hands it to the core (a
/// failed fetch or a document that is not a JWK Set counts as failed), reporting what
/// happened to [`Host::observe`]. What [`drive`] does on [`Need::FetchJwks`]; hosts call it
/// to fetch ahead of any request (a prefetch at start-up).
pub async fn fetch_jwks<H: Host>(host: &H, issuer: usize, url: &str, now: u64) {
    match host.fetch_jwks(issuer, url).await {
        // The host observes after the authorizer is released: it may log at leisure.
        Ok(body) => match host.with_authorizer(|a| a.jwks_fetched(issuer, &body, now)) {
            Ok(jwks) => host.observe(Event::JwksFetched {
                issuer,
                url,
                jwks: &jwks,
            }),
            Err(error) => host.observe(Event::JwksInvalid {
                issuer,
                url,
                error: &error,
            }),
        },
        Err(error) => {
            host.with_authorizer(|a| a.jwks_failed(issuer, now));
            host.observe(Event::JwksFetchFailed {
                issuer,
                url,
                error: &error,
            });
        }
    }
}

/// [`drive`] for a host whose I/O never waits (in memory, or blocking): the CLI, tests,
/// benchmarks. A host future that is not ready ends the run ([`RunError::HostPending`]).
pub fn drive_blocking<H: Host>(host: &H, request: &Request<'_>) -> Result<Decision, RunError> {
    let mut future = pin!(drive(host, request));
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => {
            let error = RunError::HostPending;
            host.observe(Event::RunFailed { error });
            Err(error)
        }
    }
}
