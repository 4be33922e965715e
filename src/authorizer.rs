//! The pipeline: request + `now` → [`Need`] | [`Decision`].

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde_json::{json, Value};

use crate::api_gateway::{refused_forms, ApiGatewayAnswer, ApiGatewayCache, ApiGatewayFormat};
use crate::cache::{BoundedCache, KeyedHasher, TokenHash};
use crate::config::{Config, Response};
use crate::credentials::CredentialError;
use crate::decision::{Caller, ContextValue, Decision, Outcome, PolicyTrace, Rendered};
use crate::driver::{PolicyInput, RunError};
use crate::policies::{GroupPolicy, Lookup, PolicyStore};
use crate::policy::{
    evaluate, Dependencies, EvalContext, PolicyDecision, PolicyDocument, PolicyError,
    PolicyErrorKind, PolicyErrors, PolicyWarning,
};
use crate::reason::Reason;
use crate::request::{push_arn_tail, Request};
use crate::request_path::{
    canonicalize_into, check_method, split_method_arn, PathError, PathMatching, PathRules,
};
use crate::revocation::{
    Check, RecordError, Revocation, RevocationSource, Revocations, RevokeError,
};
use crate::token::crypto::SignatureVerifier;
use crate::token::jwks::{Jwks, JwksError};
use crate::token::keys::KeyCache;
use crate::token::object::Val;
use crate::token::verifier::{
    PendingToken, SignatureCheck, TokenVerifier, Verification, VerifiedToken,
};
use crate::token::Claims;

/// The action every request is evaluated for.
pub(crate) const ACTION: &str = "execute-api:Invoke";

/// What the authorizer answers: a decision, or what it needs first.
#[derive(Debug, Clone)]
pub enum Step {
    /// The answer.
    Decided(Decision),
    /// Fulfil this, then call [`Authorizer::authorize`] again with the same request.
    Need(Need),
}

/// Something the adapter must do before the authorizer can decide.
#[derive(Debug, Clone)]
pub enum Need {
    /// Fetch `url` (the JWKS of configured issuer `issuer`) and hand the body to
    /// [`Authorizer::jwks_fetched`], or report [`Authorizer::jwks_failed`].
    FetchJwks {
        /// Index of the issuer in the configuration.
        issuer: usize,
        /// The configured JWKS URL (never one taken from a token).
        url: String,
    },
    /// Another request is fetching this issuer's JWKS: wait for it, then retry.
    AwaitJwks {
        /// Index of the issuer in the configuration.
        issuer: usize,
    },
    /// Load the policies of these groups and hand each to [`Authorizer::policy_loaded`]
    /// (or report [`Authorizer::policies_failed`]).
    LoadPolicies {
        /// Group names.
        groups: Vec<String>,
    },
    /// Read these revocation records and hand each to [`Authorizer::revocation_loaded`]
    /// (absent ones too), or report [`Authorizer::revocations_failed`].
    LoadRevocations {
        /// Store keys (`user#{iss}#{sub}`, `session#{iss}#{origin_jti}`, `token#{iss}#{jti}`).
        keys: Vec<String>,
        /// The caller's groups whose policies the authorizer will ask for next (external
        /// policies not held): a host whose store reads both in one call (DynamoDB's
        /// `BatchGetItem` across two tables) may load them now with
        /// [`Authorizer::policy_loaded`]; others ignore it.
        groups: Vec<String>,
    },
    /// Verify this signature with the host's crypto and report
    /// [`Authorizer::signature_checked`].
    CheckSignature {
        /// Which token the check is for.
        token: TokenHash,
        /// What to verify.
        check: SignatureCheck,
    },
}

/// A verified token as the token cache keeps it.
#[derive(Debug)]
struct CachedToken {
    caller: Arc<Caller>,
    /// When the token is accepted, as its verification found it.
    validity: Validity,
}

/// The span of `now` in which a verified token is accepted without verifying it again:
/// from its `nbf`/`iat` (minus the grace) to its `exp` (plus the grace). Before `from` a
/// fresh verification would reject it, so a host clock that steps back misses the caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Validity {
    from: u64,
    until: u64,
}

impl Validity {
    fn contains(self, now: u64) -> bool {
        self.from <= now && now < self.until
    }
}

/// The policies that apply to a token's caller, resolved once per policy generation.
#[derive(Debug)]
struct Resolved {
    generation: u64,
    /// When the caller's revocation check holds (outside it, it is made again).
    revocation: Validity,
    policies: Arc<Vec<(String, Arc<PolicyDocument>)>>,
    dependencies: Dependencies,
    /// The token's validity, its end cut to the earliest of the loaded policies' TTLs.
    validity: Validity,
}

/// A token handed out in a [`Need::CheckSignature`]: the parsed token (so the next step
/// need not parse it again) and, once the host has answered, its verdict.
#[derive(Debug)]
struct AwaitingVerdict {
    token: PendingToken,
    verdict: Option<bool>,
}

#[derive(Debug)]
struct CachedDecision {
    decision: Decision,
    valid_until: u64,
}

/// The authorizer: one per configuration, reused for every request.
///
/// It is a state machine with caches; it performs no I/O. See the crate docs for the loop
/// an adapter runs around [`authorize`](Self::authorize).
pub struct Authorizer {
    config: Config,
    verifier: TokenVerifier,
    keys: KeyCache,
    crypto: Arc<dyn SignatureVerifier + Send + Sync>,
    hasher: KeyedHasher,
    tokens: BoundedCache<TokenHash, CachedToken>,
    resolved: BoundedCache<TokenHash, Arc<Resolved>>,
    awaiting: BoundedCache<TokenHash, AwaitingVerdict>,
    decisions: BoundedCache<u128, CachedDecision>,
    policies: PolicyStore,
    /// Revocation records, when revocation is configured.
    revocations: Option<Revocations>,
    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/`, built once.
    arn_prefix: String,
    /// Scratch space for the request's canonical path, its ARN and the decision-cache key.
    path: String,
    arn: String,
    key_buf: Vec<u8>,
}

impl core::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Authorizer")
            .field("issuers", &self.verifier.issuers().len())
            .field("cached_tokens", &self.tokens.len())
            .field("cached_decisions", &self.decisions.len())
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// Builds the authorizer. Signatures are verified with the pure-Rust backend when the
    /// `rust-crypto` feature is on; otherwise every check is handed to the host
    /// ([`Need::CheckSignature`]) until [`with_verifier`](Self::with_verifier) says otherwise.
    pub fn new(config: Config) -> Self {
        #[cfg(feature = "rust-crypto")]
        let crypto: Arc<dyn SignatureVerifier + Send + Sync> =
            Arc::new(crate::token::crypto::RustCryptoVerifier);
        #[cfg(not(feature = "rust-crypto"))]
        let crypto: Arc<dyn SignatureVerifier + Send + Sync> =
            Arc::new(crate::token::crypto::DeferToHost);
        let verifier = TokenVerifier::new(
            config.issuers.clone(),
            config.grace_seconds,
            config.max_token_bytes,
        );
        let mut arn_prefix = String::new();
        config.api.write_arn("", "", &mut arn_prefix);
        arn_prefix.pop(); // write_arn ends with `{METHOD}/`; keep `.../{stage}/`
        Self {
            keys: KeyCache::new(config.issuers.len(), config.jwks_cache),
            verifier,
            crypto,
            // A fixed default seed keeps the core free of randomness; adapters pass random
            // bytes with `with_hash_key` so hash values cannot be predicted.
            hasher: KeyedHasher::new(0x6564_6765_2d61_757a),
            tokens: BoundedCache::new(config.cache.tokens),
            resolved: BoundedCache::new(config.cache.tokens),
            awaiting: BoundedCache::new(1024),
            decisions: BoundedCache::new(config.cache.decisions),
            policies: PolicyStore::new(&config.policies),
            revocations: config.revocation.map(Revocations::new),
            arn_prefix,
            path: String::with_capacity(64),
            arn: String::with_capacity(128),
            key_buf: Vec::with_capacity(256),
            config,
        }
    }

    /// Parses a JSON configuration and builds the authorizer; policy warnings are returned.
    pub fn from_json(json: &str) -> Result<(Self, Vec<String>), crate::config::ConfigErrors> {
        let loaded = Config::from_json(json)?;
        Ok((Self::new(loaded.config), loaded.warnings))
    }

    /// Uses `verifier` for signatures (host crypto: node:crypto, WebCrypto, ring).
    pub fn with_verifier(mut self, verifier: Arc<dyn SignatureVerifier + Send + Sync>) -> Self {
        self.crypto = verifier;
        self
    }

    /// Seeds the cache hashes with a secret (8 random bytes from the adapter's RNG).
    pub fn with_hash_key(mut self, key: [u8; 8]) -> Self {
        self.hasher = KeyedHasher::new(u64::from_le_bytes(key));
        self
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Decides `request` at `now` (seconds since the epoch), or says what it needs first.
    ///
    /// The path (or API Gateway's method ARN) is made canonical first: an ambiguous one is
    /// decided [`Outcome::BadRequest`] before the credential is even read, and a decision
    /// made for a rewritten path carries it ([`Decision::forward_path`]).
    pub fn authorize(&mut self, request: &Request<'_>, now: u64) -> Step {
        let mut arn = core::mem::take(&mut self.arn);
        let step = match self.write_arn(request, &mut arn) {
            Ok(forward) => match self.authorize_resource(request, &arn, now) {
                Step::Decided(mut decision) => {
                    decision.forward_path = forward;
                    Step::Decided(decision)
                }
                need => need,
            },
            Err(error) => Step::Decided(Decision::bad_request(error)),
        };
        self.arn = arn;
        step
    }

    /// Writes the request's execute-api ARN, from its canonical path (or API Gateway's
    /// ARN, its path made canonical), and returns the path to forward when it changed.
    fn write_arn(
        &mut self,
        request: &Request<'_>,
        arn: &mut String,
    ) -> Result<Option<String>, PathError> {
        let rules = &self.config.request;
        let matching = self.matching(request);
        arn.clear();
        let mut path = core::mem::take(&mut self.path);
        let written = match request.method_arn {
            Some(given) => {
                let (prefix, method, tail) =
                    split_method_arn(given).ok_or(PathError::InvalidMethodArn)?;
                check_method(method)?;
                canonicalize_into(tail, rules, matching, &mut path).map(|_| {
                    arn.push_str(prefix);
                    push_arn_tail(method, &path, arn);
                    // API Gateway forwards what it routed; nothing here forwards.
                    None
                })
            }
            None => {
                check_method(request.method)?;
                canonicalize_into(request.path, rules, matching, &mut path).inspect(|_| {
                    arn.push_str(&self.arn_prefix);
                    push_arn_tail(request.method, &path, arn);
                })
            }
        };
        self.path = path;
        written
    }

    /// How `request`'s path is matched: as its adapter says, or as configured.
    fn matching(&self, request: &Request<'_>) -> PathMatching {
        request.matching.unwrap_or(self.config.request.matching)
    }

    /// Decides the request for its ARN `arn`.
    fn authorize_resource(&mut self, request: &Request<'_>, arn: &str, now: u64) -> Step {
        let token = match self.config.credentials.locate(request) {
            Ok(token) => token,
            Err(e) => return Step::Decided(Decision::new(Reason::from(e))),
        };
        let hash = self.hasher.token(token);
        if let Some(decision) = self.cached_decision(hash, arn, request, now) {
            return Step::Decided(decision);
        }
        let (caller, token_validity) = match self.tokens.get(&hash) {
            Some(entry) if entry.validity.contains(now) => (entry.caller.clone(), entry.validity),
            cached => {
                if cached.is_some() {
                    self.tokens.remove(&hash);
                    self.resolved.remove(&hash);
                }
                if !crate::credentials::is_b64token(token) {
                    let malformed = Reason::from(CredentialError::Malformed);
                    return Step::Decided(Decision::new(malformed));
                }
                match self.verify_token(token, hash, now) {
                    Ok(verified) => verified,
                    Err(step) => return step,
                }
            }
        };
        let revocation = match self.check_revocation(&caller, now) {
            Ok(until) => Validity { from: now, until },
            Err(step) => return step,
        };
        let resolved = match self.resolve(&caller, hash, token_validity, revocation, now) {
            Ok(resolved) => resolved,
            Err(step) => return step,
        };
        self.decide(caller, &resolved, hash, arn, request, now)
    }

    /// The hot path: a token seen before, its policies resolved, this request decided
    /// before. No crypto, no JSON, one hash of the token.
    fn cached_decision(
        &mut self,
        hash: TokenHash,
        arn: &str,
        request: &Request<'_>,
        now: u64,
    ) -> Option<Decision> {
        let resolved = self.resolved.get(&hash)?;
        let fresh = resolved.generation == self.policies.generation()
            && resolved.validity.contains(now)
            && resolved.revocation.contains(now);
        let (generation, deps) = (resolved.generation, resolved.dependencies);
        if !fresh || deps.time {
            return None;
        }
        let key = self.decision_cache_key(hash, generation, arn, &deps, request);
        let hit = self.decisions.get(&key)?;
        (now < hit.valid_until).then(|| hit.decision.clone())
    }

    /// Verifies a token that is not cached; caches it when valid.
    fn verify_token(
        &mut self,
        token: &str,
        hash: TokenHash,
        now: u64,
    ) -> Result<(Arc<Caller>, Validity), Step> {
        // A host verdict counts only for a check this authorizer handed out and still holds;
        // otherwise (evicted, or never asked for) the token is verified again from scratch.
        let verification = match self.awaiting.take(&hash) {
            Some(AwaitingVerdict {
                token: pending,
                verdict: Some(valid),
            }) => self.verifier.verify_pending(pending, valid, now),
            _ => self
                .verifier
                .verify(token, &mut self.keys, &*self.crypto, now),
        };
        match verification {
            Verification::Verified(verified) => {
                let grace = self.verifier.grace();
                // Without `exp` a token is re-verified once the keys it was checked with expire.
                let valid_until = verified.identity.expires_at.map_or_else(
                    || now.saturating_add(self.config.jwks_cache.ttl),
                    |exp| exp.saturating_add(grace),
                );
                let validity = Validity {
                    from: verified.not_before().saturating_sub(grace),
                    until: valid_until,
                };
                let context = identity_context(&verified, &self.config.context_claims);
                let issued_at = crate::token::claims::numeric_date(&verified.claims, "iat")
                    .ok()
                    .flatten();
                let revocation_keys = match &self.revocations {
                    Some(_) => Revocations::keys_of(
                        &verified.identity.issuer,
                        &verified.identity.subject,
                        &verified.claims,
                    ),
                    None => Vec::new(),
                };
                let caller = Arc::new(Caller {
                    identity: verified.identity,
                    context,
                    claims: verified.claims,
                    issued_at,
                    revocation_keys,
                });
                self.tokens.insert(
                    hash,
                    CachedToken {
                        caller: caller.clone(),
                        validity,
                    },
                );
                Ok((caller, validity))
            }
            Verification::Rejected(error) => {
                let reason = Reason::from(&error);
                Err(Step::Decided(Decision {
                    token_error: Some(error),
                    ..Decision::new(reason)
                }))
            }
            Verification::FetchJwks(issuer) => Err(Step::Need(Need::FetchJwks {
                issuer,
                url: self
                    .verifier
                    .issuers()
                    .get(issuer)
                    .map(|i| i.jwks_uri.clone())
                    .unwrap_or_default(),
            })),
            Verification::AwaitJwks(issuer) => Err(Step::Need(Need::AwaitJwks { issuer })),
            Verification::CheckSignature(check, pending) => {
                let awaiting = AwaitingVerdict {
                    token: pending,
                    verdict: None,
                };
                self.awaiting.insert(hash, awaiting);
                Err(Step::Need(Need::CheckSignature { token: hash, check }))
            }
        }
    }

    /// Whether the caller's token is revoked, from the records held (or what to read
    /// first): until when the answer holds (`u64::MAX` with revocation off).
    fn check_revocation(&mut self, caller: &Arc<Caller>, now: u64) -> Result<u64, Step> {
        let Some(revocations) = &mut self.revocations else {
            return Ok(u64::MAX);
        };
        let refuse = |reason| {
            Err(Step::Decided(Decision {
                caller: Some(caller.clone()),
                ..Decision::new(reason)
            }))
        };
        match revocations.check(&self.hasher, &caller.revocation_keys, caller.issued_at, now) {
            Check::Clear(until) => Ok(until),
            Check::Revoked => refuse(Reason::Revoked),
            Check::Unavailable => refuse(Reason::RevocationsUnavailable),
            Check::Missing(keys) => {
                let groups = self.missing_policies(&caller.identity.groups, now);
                Err(Step::Need(Need::LoadRevocations { keys, groups }))
            }
        }
    }

    /// The groups among `groups` whose external policies are not held (once each).
    fn missing_policies(&self, groups: &[String], now: u64) -> Vec<String> {
        if !self.policies.is_external() {
            return Vec::new();
        }
        let mut missing: Vec<String> = Vec::new();
        for group in groups {
            if !missing.contains(group) && matches!(self.policies.get(group, now), Lookup::Missing)
            {
                missing.push(group.clone());
            }
        }
        missing
    }

    /// The policies that apply to `caller`: from the per-token cache while no policy changed,
    /// else looked up group by group (asking the adapter for the missing ones).
    fn resolve(
        &mut self,
        caller: &Arc<Caller>,
        hash: TokenHash,
        token_validity: Validity,
        revocation: Validity,
        now: u64,
    ) -> Result<Arc<Resolved>, Step> {
        let generation = self.policies.generation();
        if let Some(resolved) = self.resolved.get(&hash) {
            if resolved.generation == generation && resolved.validity.contains(now) {
                if resolved.revocation.until == revocation.until
                    && resolved.revocation.contains(now)
                {
                    return Ok(resolved.clone());
                }
                // Checked again just now: the hot path may serve it until the new time.
                let renewed = Arc::new(Resolved {
                    generation: resolved.generation,
                    revocation,
                    policies: resolved.policies.clone(),
                    dependencies: resolved.dependencies,
                    validity: resolved.validity,
                });
                self.resolved.insert(hash, renewed.clone());
                return Ok(renewed);
            }
        }
        let identity = &caller.identity;
        let mut policies: Vec<(String, Arc<PolicyDocument>)> =
            Vec::with_capacity(identity.groups.len() + 1);
        let mut missing: Vec<String> = Vec::new();
        let mut valid_until = token_validity.until;
        let mut failure = None;
        for (i, group) in identity.groups.iter().enumerate() {
            if identity
                .groups
                .get(..i)
                .is_some_and(|seen| seen.contains(group))
            {
                continue;
            }
            match self.policies.get(group, now) {
                Lookup::Found(policy, until) => {
                    valid_until = valid_until.min(until);
                    match policy {
                        GroupPolicy::Present(doc) => policies.push((group.clone(), doc)),
                        GroupPolicy::Absent => {}
                        // A group's stored policy is broken: its denies cannot be known, so deny.
                        GroupPolicy::Invalid => failure = Some(Reason::InvalidPolicy),
                    }
                }
                Lookup::Missing => missing.push(group.clone()),
                Lookup::Unavailable => {
                    failure = failure.or(Some(Reason::PoliciesUnavailable));
                }
            }
        }
        if !missing.is_empty() {
            return Err(Step::Need(Need::LoadPolicies { groups: missing }));
        }
        if let Some(reason) = failure {
            return Err(Step::Decided(Decision {
                caller: Some(caller.clone()),
                ..Decision::new(reason)
            }));
        }
        if let Some(everyone) = &self.config.policies.everyone {
            policies.push((String::from("everyone"), everyone.clone()));
        }
        if identity.groups.is_empty() {
            if let Some(no_group) = &self.config.policies.no_group {
                policies.push((String::from("no-group"), no_group.clone()));
            }
        }
        let dependencies = policies
            .iter()
            .fold(Dependencies::default(), |acc, (_, d)| {
                acc.union(d.dependencies())
            });
        let resolved = Arc::new(Resolved {
            generation,
            revocation,
            policies: Arc::new(policies),
            dependencies,
            validity: Validity {
                until: valid_until,
                ..token_validity
            },
        });
        self.resolved.insert(hash, resolved.clone());
        Ok(resolved)
    }

    /// Evaluates the policies for the request, or reuses a cached decision.
    fn decide(
        &mut self,
        caller: Arc<Caller>,
        resolved: &Resolved,
        hash: TokenHash,
        arn: &str,
        request: &Request<'_>,
        now: u64,
    ) -> Step {
        let deps = resolved.dependencies;
        let cache_key = (!deps.time)
            .then(|| self.decision_cache_key(hash, resolved.generation, arn, &deps, request));
        if let Some(key) = cache_key {
            if let Some(hit) = self.decisions.get(&key) {
                if now < hit.valid_until {
                    return Step::Decided(hit.decision.clone());
                }
            }
        }

        let lowered: Vec<(String, &str)>;
        let header_pairs: Vec<(&str, &str)>;
        let headers: &[(&str, &str)] = if deps.headers {
            lowered = lowercase_names(request.headers);
            header_pairs = lowered.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            &header_pairs
        } else {
            &[]
        };
        let ctx = EvalContext {
            source_ip: request.source_ip,
            now,
            secure_transport: request.secure_transport,
            user_agent: request.header("user-agent"),
            referer: request.header("referer"),
            claims: Some(&caller.claims),
            headers,
            query: request.query,
        };
        // Paths matched case-insensitively are matched against the case-folded policies.
        let folded = !self.matching(request).case_sensitive;
        let refs: Vec<(&str, &PolicyDocument)> = resolved
            .policies
            .iter()
            .map(|(l, d)| (l.as_str(), if folded { d.case_folded() } else { &**d }))
            .collect();
        let evaluation = evaluate(&refs, ACTION, arn, &ctx);
        let reason = match evaluation.decision {
            PolicyDecision::Allow => Reason::Allowed,
            PolicyDecision::ExplicitDeny => Reason::ExplicitDeny,
            PolicyDecision::ImplicitDeny => Reason::ImplicitDeny,
        };
        let valid_until = resolved.validity.until.min(resolved.revocation.until);
        let decision = Decision {
            caller: Some(caller),
            trace: Some(Arc::new(PolicyTrace {
                folded,
                evaluation,
                policies: resolved.policies.clone(),
                resource: String::from(arn),
            })),
            ..Decision::new(reason)
        };
        if let Some(key) = cache_key {
            self.decisions.insert(
                key,
                CachedDecision {
                    decision: decision.clone(),
                    valid_until,
                },
            );
        }
        Step::Decided(decision)
    }

    /// A decision is reusable for the same token, policies, ARN and the request values its
    /// policies read (time-dependent policies are never cached).
    fn decision_cache_key(
        &mut self,
        hash: TokenHash,
        generation: u64,
        arn: &str,
        deps: &Dependencies,
        request: &Request<'_>,
    ) -> u128 {
        let case_sensitive = self.matching(request).case_sensitive;
        let buf = &mut self.key_buf;
        buf.clear();
        buf.extend_from_slice(&hash.to_bytes());
        buf.extend_from_slice(&generation.to_le_bytes());
        let text = |buf: &mut Vec<u8>, s: Option<&str>| match s {
            // Length-prefixed, so that no two different value lists encode alike.
            Some(s) => {
                buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
                buf.extend_from_slice(s.as_bytes());
            }
            None => buf.extend_from_slice(&u64::MAX.to_le_bytes()),
        };
        text(buf, Some(arn));
        // The same ARN is matched against other policies when case is ignored (folded).
        buf.push(u8::from(case_sensitive));
        if deps.source_ip {
            match request.source_ip {
                Some(core::net::IpAddr::V4(ip)) => {
                    buf.push(4);
                    buf.extend_from_slice(&ip.octets());
                }
                Some(core::net::IpAddr::V6(ip)) => {
                    buf.push(6);
                    buf.extend_from_slice(&ip.octets());
                }
                None => buf.push(0),
            }
        }
        if deps.secure_transport {
            text(
                buf,
                request
                    .secure_transport
                    .map(|tls| if tls { "1" } else { "0" }),
            );
        }
        if deps.user_agent {
            text(buf, request.header("user-agent"));
        }
        if deps.referer {
            text(buf, request.header("referer"));
        }
        if deps.headers {
            text(buf, Some("headers"));
            for (name, value) in request.headers {
                text(buf, Some(name));
                text(buf, Some(value));
            }
        }
        if deps.query {
            text(buf, Some("query"));
            for (name, value) in request.query {
                text(buf, Some(name));
                text(buf, Some(value));
            }
        }
        self.hasher.bytes(buf)
    }
    /// Hands over the fetched JWKS of `issuer` (from [`Need::FetchJwks`]). A document that
    /// is not a JWK Set counts as a failed fetch.
    pub fn jwks_fetched(
        &mut self,
        issuer: usize,
        document: &[u8],
        now: u64,
    ) -> Result<Arc<Jwks>, JwksError> {
        let previous = self.keys.jwks(issuer).cloned();
        let fetched = self.keys.insert(issuer, document, now)?;
        if previous.is_some_and(|old| has_retired_keys(&old, &fetched)) {
            // A key left the issuer's JWKS: tokens verified with it before must not outlive
            // it in the caches. Verified again, they now fail (`unknown_kid`). Rotations
            // are rare, so forgetting every cached token costs one verification each.
            self.tokens.clear();
            self.resolved.clear();
            self.decisions.clear();
        }
        Ok(fetched)
    }

    /// Reports that fetching the JWKS of `issuer` failed.
    pub fn jwks_failed(&mut self, issuer: usize, now: u64) {
        self.keys.fetch_failed(issuer, now);
    }

    /// Hands over the policy of `group` (from [`Need::LoadPolicies`]): JSON text, a JSON
    /// value (e.g. a DynamoDB map), or [`PolicyInput::Absent`] when the group has no policy
    /// ([`PolicyInput::stored`] reads a store's value). A policy that fails validation is
    /// kept as invalid, so that the group's callers are denied, and its errors are returned
    /// for the adapter to log loudly.
    pub fn policy_loaded<'p>(
        &mut self,
        group: &str,
        policy: impl Into<PolicyInput<'p>>,
        now: u64,
    ) -> Result<Vec<PolicyWarning>, PolicyErrors> {
        let parsed = match policy.into() {
            PolicyInput::Absent => Ok(None),
            PolicyInput::Text(text) => PolicyDocument::parse(text).map(Some),
            PolicyInput::Json(value) => PolicyDocument::from_value(value).map(Some),
            PolicyInput::Invalid(why) => Err(PolicyErrors(alloc::vec![PolicyError::new(
                String::new(),
                PolicyErrorKind::InvalidJson(String::from(why)),
            )])),
        };
        self.store_policy(group, parsed, now)
    }

    fn store_policy(
        &mut self,
        group: &str,
        parsed: Result<Option<crate::policy::ParsedPolicy>, PolicyErrors>,
        now: u64,
    ) -> Result<Vec<PolicyWarning>, PolicyErrors> {
        // API Gateway's cache reuses a policy for every request with the same identity
        // sources: a policy that reads anything else cannot be cached safely.
        let parsed = parsed.and_then(|parsed| match parsed {
            Some(parsed) => {
                let errors = self
                    .config
                    .api_gateway_cache
                    .as_ref()
                    .map(|cache| cache.policy_errors(&parsed.document))
                    .unwrap_or_default();
                if errors.is_empty() {
                    Ok(Some(parsed))
                } else {
                    Err(PolicyErrors(errors))
                }
            }
            None => Ok(None),
        });
        match parsed {
            Ok(Some(mut parsed)) => {
                let matching = self.config.request.matching;
                parsed
                    .warnings
                    .extend(parsed.document.matching_warnings(matching));
                self.policies
                    .insert(group, GroupPolicy::Present(Arc::new(parsed.document)), now);
                Ok(parsed.warnings)
            }
            Ok(None) => {
                self.policies.insert(group, GroupPolicy::Absent, now);
                Ok(Vec::new())
            }
            Err(errors) => {
                self.policies.insert(group, GroupPolicy::Invalid, now);
                Err(errors)
            }
        }
    }

    /// Reports that loading the policies of `groups` failed.
    pub fn policies_failed(&mut self, groups: &[String], now: u64) {
        self.policies.failed(groups, now);
    }

    /// Hands over the revocation record stored under `key` (from
    /// [`Need::LoadRevocations`]): JSON text, a JSON value, or [`PolicyInput::Absent`]
    /// when there is none. A record that cannot be read is kept as revoking, and its error
    /// returned for the adapter to log.
    pub fn revocation_loaded<'r>(
        &mut self,
        key: &str,
        record: impl Into<PolicyInput<'r>>,
        now: u64,
    ) -> Result<(), RecordError> {
        match &mut self.revocations {
            Some(revocations) => revocations.loaded(&self.hasher, key, record.into(), now),
            None => Ok(()),
        }
    }

    /// Reports that reading the revocation records `keys` failed.
    pub fn revocations_failed(&mut self, keys: &[String], now: u64) {
        if let Some(revocations) = &mut self.revocations {
            revocations.failed(&self.hasher, keys, now);
        }
    }

    /// Revokes in this process, at once, until `expires_at` (if given): for a single
    /// process without a store, or to act on a revocation before the store is read again.
    /// Every cached decision is dropped, so none made before is served after.
    pub fn revoke(
        &mut self,
        revocation: &Revocation,
        expires_at: Option<u64>,
        now: u64,
    ) -> Result<(), RevokeError> {
        let revocations = self.revocations.as_mut().ok_or(RevokeError::Off)?;
        if !self
            .config
            .issuers
            .iter()
            .any(|issuer| issuer.issuer == revocation.issuer())
        {
            return Err(RevokeError::UnknownIssuer);
        }
        revocations.revoke(&self.hasher, revocation, expires_at, now)?;
        self.resolved.clear();
        self.decisions.clear();
        Ok(())
    }

    /// Whether revocation records come from the adapter ([`Need::LoadRevocations`]).
    pub fn loads_revocations(&self) -> bool {
        self.config
            .revocation
            .is_some_and(|r| r.source == RevocationSource::External)
    }

    /// Reports the host's verdict for a [`Need::CheckSignature`].
    pub fn signature_checked(&mut self, token: TokenHash, valid: bool) {
        // Only for a check handed out in a `Need::CheckSignature` (and still held): a verdict
        // nobody asked for is ignored, so no adapter bug can vouch for a token unverified.
        if let Some(mut awaiting) = self.awaiting.take(&token) {
            awaiting.verdict = Some(valid);
            self.awaiting.insert(token, awaiting);
        }
    }

    /// Whether policies are loaded by the adapter ([`Need::LoadPolicies`]).
    pub fn loads_policies(&self) -> bool {
        self.policies.is_external()
    }

    /// The configured response (status, body) for a denial with `reason`.
    fn response_for(&self, reason: Reason) -> Option<&Response> {
        let r = &self.config.responses;
        match reason.outcome() {
            Outcome::Allow => None,
            Outcome::Unauthorized => Some(&r.unauthorized),
            Outcome::Forbidden if reason == Reason::ExplicitDeny => Some(&r.explicit_deny),
            Outcome::Forbidden => Some(&r.forbidden),
            Outcome::Unavailable => Some(&r.unavailable),
            Outcome::BadRequest => Some(&r.bad_request),
        }
    }

    /// What an adapter sends for `decision`: status, headers and body of a denial (from the
    /// configured `responses`), or the allow and the caller's context. The one rendering
    /// every runtime maps to its response type.
    pub fn render<'a>(&'a self, decision: &'a Decision) -> Rendered<'a> {
        Rendered::new(decision, self.response_for(decision.reason))
    }

    /// What an adapter sends for a request it could not decide (a [`RunError`](crate::RunError),
    /// a host failure): the configured `unavailable` response, reason `internal_error`.
    pub fn render_failure(&self) -> Rendered<'_> {
        self.render_reason(Reason::InternalError)
    }

    /// What an adapter sends for `reason` with no caller (a host's own refusal, a failure):
    /// the configured response of the reason's outcome.
    pub fn render_reason(&self, reason: Reason) -> Rendered<'_> {
        Rendered::with(reason, self.response_for(reason), &[])
    }

    /// What an adapter sends for a decision its host made with `reason` in the core's
    /// place (a claim check, a router refusal), with `decision`'s context.
    pub fn render_as<'a>(&'a self, reason: Reason, decision: &'a Decision) -> Rendered<'a> {
        Rendered::with(reason, self.response_for(reason), decision.context())
    }

    /// The IAM policy document to hand to API Gateway for `decision`.
    ///
    /// On allow it holds the statements of all the caller's policies, specialised to this
    /// request (conditions evaluated, variables resolved), so that API Gateway's authorizer
    /// cache — keyed by the identity sources, reused for every route — allows exactly the
    /// routes the caller may call. With caching on (`apiGatewayCache`), the policies read
    /// nothing outside the cache key (checked at load), and a last Deny statement refuses
    /// the ARN forms the core would refuse or read otherwise, so that no later request
    /// sharing the cache entry is allowed where the core would deny it. On deny it denies
    /// the request's ARN.
    pub fn api_gateway_policy(
        &self,
        decision: &Decision,
        request: &Request<'_>,
        now: u64,
    ) -> Value {
        let mut statements: Vec<Value> = Vec::new();
        if decision.is_allowed() {
            let lowered = lowercase_names(request.headers);
            let headers: Vec<(&str, &str)> =
                lowered.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            let ctx = EvalContext {
                source_ip: request.source_ip,
                now,
                secure_transport: request.secure_transport,
                user_agent: request.header("user-agent"),
                referer: request.header("referer"),
                claims: decision.claims(),
                headers: &headers,
                query: request.query,
            };
            if let Some(trace) = &decision.trace {
                for (_, doc) in trace.policies.iter() {
                    let doc = if trace.folded { doc.case_folded() } else { doc };
                    statements.extend(doc.specialize(&ctx));
                }
            }
            let caching = self.config.api_gateway_cache.as_ref();
            if caching.is_some_and(ApiGatewayCache::caches) {
                let rules = PathRules {
                    matching: self.matching(request),
                    ..self.config.request
                };
                statements.push(refused_forms(&rules));
            }
        } else {
            let mut arn = String::new();
            match request.method_arn {
                Some(given) => arn.push_str(given),
                None => self
                    .config
                    .api
                    .write_arn(request.method, request.path, &mut arn),
            }
            statements.push(json!({"Effect": "Deny", "Action": ACTION, "Resource": arn}));
        }
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    /// Whether an HTTP API simple response (`isAuthorized`) may carry an allow: API Gateway
    /// does not cache it, or its cache key holds the method and the path (the configuration
    /// said `apiGatewayCache.simpleResponses`, and was checked for it). Otherwise
    /// [`api_gateway_answer`](Self::api_gateway_answer) answers a simple response with a
    /// deny, which the host should log.
    pub fn simple_responses_are_safe(&self) -> bool {
        self.config
            .api_gateway_cache
            .as_ref()
            .is_none_or(|cache| !cache.caches() || cache.simple_responses)
    }

    /// The Lambda authorizer's answer for a run's result: an allow's policy
    /// ([`api_gateway_policy`](Self::api_gateway_policy)) with the caller's context, a deny,
    /// or `Unauthorized` (401). A run that did not settle is answered with a deny of the
    /// request's ARN, never an allow.
    pub fn api_gateway_answer(
        &self,
        decided: Result<&Decision, RunError>,
        request: &Request<'_>,
        now: u64,
        format: ApiGatewayFormat,
    ) -> ApiGatewayAnswer {
        let decision = match decided {
            Ok(decision) if decision.outcome == Outcome::Unauthorized => {
                return ApiGatewayAnswer::Unauthorized
            }
            Ok(decision) => decision,
            Err(_) => {
                let arn = request.method_arn.unwrap_or("*");
                return ApiGatewayAnswer::Response(match format {
                    ApiGatewayFormat::Simple => json!({ "isAuthorized": false, "context": {} }),
                    ApiGatewayFormat::Iam => json!({
                        "principalId": "unauthorized",
                        "policyDocument": { "Version": "2012-10-17", "Statement": [
                            { "Effect": "Deny", "Action": ACTION, "Resource": arn }
                        ]}
                    }),
                });
            }
        };
        // A simple response is cached for every request with the same identity sources: an
        // allow for one route would be served for all unless the method and path are in the
        // key (which the configuration checks when told `simpleResponses`).
        let allowed = decision.is_allowed()
            && (format == ApiGatewayFormat::Iam || self.simple_responses_are_safe());
        let context = if allowed {
            self.render(decision).context_json()
        } else {
            serde_json::Map::new()
        };
        if format == ApiGatewayFormat::Simple {
            return ApiGatewayAnswer::Response(
                json!({ "isAuthorized": allowed, "context": context }),
            );
        }
        let principal = decision
            .identity()
            .map_or("unauthorized", |identity| identity.subject.as_str());
        let policy = self.api_gateway_policy(decision, request, now);
        let mut out = serde_json::Map::new();
        out.insert("principalId".into(), Value::from(principal));
        out.insert("policyDocument".into(), policy);
        if !context.is_empty() {
            out.insert("context".into(), Value::Object(context));
        }
        ApiGatewayAnswer::Response(Value::Object(out))
    }
}

/// Header pairs with lower-case names, as conditions read them.
fn lowercase_names<'h>(headers: &[(&str, &'h str)]) -> Vec<(String, &'h str)> {
    headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), *v))
        .collect()
}

/// Whether a key of `old` is missing from `new`.
fn has_retired_keys(old: &Jwks, new: &Jwks) -> bool {
    old.keys()
        .iter()
        .any(|key| !new.keys().iter().any(|k| k.jwk_json() == key.jwk_json()))
}

/// A context claim read from the claims' index, as [`identity_context`] reads it from the
/// serde_json view (`Ok(None)`: absent or null); `Err(())`: ask the serde_json view.
fn context_claim(claims: &Claims, name: &str) -> Result<Option<ContextValue>, ()> {
    let text = |value| claims.text_of(value).map(String::from).ok_or(());
    Ok(Some(match claims.find(name) {
        None | Some(Val::Null) => return Ok(None),
        Some(value @ Val::Str(_)) => ContextValue::String(text(value)?),
        Some(Val::Bool(b)) => ContextValue::Bool(b),
        Some(value @ Val::Num(_)) => {
            // A non-negative integer of up to 18 digits; others are serde_json's to read.
            let digits = claims.text_of(value).ok_or(())?;
            let n = crate::token::object::small_integer(digits).ok_or(())?;
            #[expect(
                clippy::cast_precision_loss,
                reason = "serde_json's as_f64 does the same"
            )]
            ContextValue::Number(n as f64)
        }
        Some(Val::List { first, len }) => {
            let items = claims.items(first, len);
            let mut joined = String::new();
            for (i, item) in items.iter().enumerate() {
                if !matches!(item, Val::Str(_)) {
                    return Err(());
                }
                if i > 0 {
                    joined.push(',');
                }
                joined.push_str(claims.text_of(*item).ok_or(())?);
            }
            ContextValue::String(joined)
        }
        Some(Val::Nested) => return Err(()),
    }))
}

/// The identity as flat context values (API Gateway accepts only string/number/boolean).
fn identity_context(
    verified: &VerifiedToken,
    extra: &[String],
) -> Vec<(Cow<'static, str>, ContextValue)> {
    let identity = &verified.identity;
    let mut ctx = Vec::with_capacity(7 + extra.len());
    let mut put = |k: &'static str, v: ContextValue| ctx.push((Cow::Borrowed(k), v));
    put("sub", ContextValue::String(identity.subject.clone()));
    if let Some(username) = &identity.username {
        put("username", ContextValue::String(username.clone()));
    }
    put("groups", ContextValue::String(identity.groups.join(",")));
    put("scope", ContextValue::String(identity.scopes.join(" ")));
    if let Some(client) = &identity.client_id {
        put("clientId", ContextValue::String(client.clone()));
    }
    if let Some(token_use) = &identity.token_use {
        put("tokenUse", ContextValue::String(token_use.clone()));
    }
    put("issuer", ContextValue::String(identity.issuer.clone()));
    for claim in extra {
        let value = match context_claim(&verified.claims, claim) {
            Ok(Some(fast)) => fast,
            Ok(None) => continue,
            Err(()) => match verified.claims.get(claim.as_str()) {
                Some(Value::String(s)) => ContextValue::String(s.clone()),
                Some(Value::Bool(b)) => ContextValue::Bool(*b),
                Some(Value::Number(n)) => n
                    .as_f64()
                    .map_or(ContextValue::String(n.to_string()), ContextValue::Number),
                Some(Value::Array(items)) => ContextValue::String(
                    items
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map_or_else(|| crate::json::to_text(v), String::from)
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                Some(other @ Value::Object(_)) => ContextValue::String(crate::json::to_text(other)),
                Some(Value::Null) | None => continue,
            },
        };
        ctx.push((Cow::Owned(claim.clone()), value));
    }
    ctx
}
