//! The step boundary shared by the JavaScript backends: the wasm build (`src/wasm.rs`) and
//! the Node native addon (`node/`). Both expose the same objects to `js/src/authorizer.js`
//! and differ only in how values cross into JavaScript; what they do with them is here, once.
//!
//! The boundary is built to be crossed cheaply, once or twice per request:
//! - a [`FlatRequest`] is reused (`set` copies the strings into buffers it keeps); headers
//!   and query pairs come as one `\0`-joined text, with their pair counts;
//! - [`Stepper::authorize`] answers one number: the step's kind and, for a decision, an
//!   interned *verdict* id (outcome, reason, status, body) and an interned *caller* id (the
//!   context), which the JavaScript layer decodes once (`verdict()` / `context()`) and keeps;
//!   the explanation and a need's details are read on demand.
//!
//! Errors carry a stable `code` (`invalid_request`, `invalid_time`, `no_decision`, ...),
//! which the backends throw as a JavaScript `Error`'s `code`.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::IpAddr;

use xxhash_rust::xxh3::xxh3_128_with_seed;

use crate::boundary::{
    matching_of, KIND_AWAIT_JWKS, KIND_CHECK_SIGNATURE, KIND_DECIDED, KIND_DECIDED_REWRITTEN,
    KIND_FETCH_JWKS, KIND_LOAD_POLICIES, KIND_LOAD_REVOCATIONS, VERDICT_UNCACHED,
};
use crate::decision::Caller;
use crate::{Authorizer, Decision, Need, PublicKey, Revocation, RevokeError, Step};

/// A refusal at the boundary: a stable `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingError {
    /// Stable, snake_case: what JavaScript's `error.code` carries.
    pub code: &'static str,
    /// What went wrong, for logs.
    pub message: Cow<'static, str>,
}

impl BindingError {
    /// An error with a fixed message.
    pub const fn fixed(code: &'static str, message: &'static str) -> Self {
        BindingError {
            code,
            message: Cow::Borrowed(message),
        }
    }

    /// An error with a message made for this occurrence.
    pub fn new(code: &'static str, message: String) -> Self {
        BindingError {
            code,
            message: Cow::Owned(message),
        }
    }
}

/// Seconds since the epoch from a JavaScript number (whole, non-negative, below 2^53).
pub fn epoch_seconds(now: f64) -> Result<u64, BindingError> {
    // In range first, so that the cast is exact when `now` is whole (no `f64::fract` in core).
    if now.is_finite()
        && (0.0..=9_007_199_254_740_991.0).contains(&now)
        && (now as u64) as f64 == now
    {
        Ok(now as u64)
    } else {
        Err(BindingError::fixed(
            "invalid_time",
            "`now` must be whole seconds since the epoch",
        ))
    }
}

/// The stable id of a public key for the host's cache of imported keys: 53 bits of the
/// keyed hash of its public JWK (equal JWKs, e.g. after a JWKS refresh, share the id).
pub fn key_id(seed: u64, key: &PublicKey) -> f64 {
    let hash = xxh3_128_with_seed(key.jwk_json().as_bytes(), seed);
    ((hash >> 75) as u64) as f64
}

/// `{"outcome", "reason", "status", "body"}` as JSON text (`body`: the denial's JSON text as
/// a string, `null` on allow): what `verdict()` and `responseFor()` answer.
pub fn verdict_json(rendered: &crate::Rendered<'_>) -> String {
    let mut out = String::with_capacity(96);
    out.push_str("{\"outcome\":\"");
    out.push_str(rendered.outcome.as_str());
    out.push_str("\",\"reason\":\"");
    out.push_str(rendered.reason.code());
    out.push_str("\",\"status\":");
    push_u16(&mut out, rendered.status);
    out.push_str(",\"body\":");
    match rendered.body {
        Some(body) => crate::json::push_json_str(&mut out, body),
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

/// `n` in decimal (no `core::fmt`: it costs the wasm more than this).
fn push_u16(out: &mut String, n: u16) {
    let mut digits = [0u8; 5];
    let (mut n, mut at) = (n, digits.len());
    loop {
        at -= 1;
        if let Some(d) = digits.get_mut(at) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || at == 0 {
            break;
        }
    }
    if let Some(digits) = digits.get(at..) {
        out.extend(digits.iter().map(|&b| char::from(b)));
    }
}

/// What the adapter answers for the reason at `index` in [`crate::Reason::ALL`]
/// (`REASON_CODES` in js/src/core-codes.js) when it decides in the core's place, as
/// [`verdict_json`]; `unknown_reason` past them.
pub fn response_json(authorizer: &Authorizer, index: usize) -> Result<String, BindingError> {
    let reason = crate::Reason::ALL
        .get(index)
        .copied()
        .ok_or(BindingError::fixed("unknown_reason", "not a reason index"))?;
    Ok(verdict_json(&authorizer.render_reason(reason)))
}

/// The revocation `revoke(kind, issuer, value, before)` names: `kind` `user` (tokens of
/// `value`, a `sub`, issued at or before `before`, default `now`), `session` (`value` an
/// `origin_jti`) or `token` (`value` a `jti`).
pub fn revocation_of(
    kind: &str,
    issuer: String,
    value: String,
    before: Option<f64>,
    now: u64,
) -> Result<Revocation, BindingError> {
    if issuer.is_empty() || value.is_empty() {
        return Err(BindingError::fixed(
            "invalid_revocation",
            "issuer and value must not be empty",
        ));
    }
    Ok(match kind {
        "user" => Revocation::User {
            issuer,
            subject: value,
            before: before.map(epoch_seconds).transpose()?.unwrap_or(now),
        },
        "session" => Revocation::Session {
            issuer,
            origin_jti: value,
        },
        "token" => Revocation::Token { issuer, jti: value },
        _ => {
            return Err(BindingError::fixed(
                "invalid_revocation",
                "the kind must be user, session or token",
            ))
        }
    })
}

/// `revoke(kind, ...)` on `authorizer` until `expires_at` (seconds; `None`: for its life):
/// the record's key.
pub fn revoke(
    authorizer: &mut Authorizer,
    revocation: &Revocation,
    expires_at: Option<f64>,
    now: u64,
) -> Result<String, BindingError> {
    let expires_at = expires_at.map(epoch_seconds).transpose()?;
    authorizer
        .revoke(revocation, expires_at, now)
        .map_err(|e| match e {
            RevokeError::Off => BindingError::fixed("revocation_off", "no `revocation` section"),
            RevokeError::Full => BindingError::fixed("revocations_full", "too many records held"),
            _ => BindingError::fixed("invalid_revocation", "the issuer is not configured"),
        })?;
    Ok(revocation.key())
}

/// An HTTP request as the boundary hands it over. One object serves many requests: `set`
/// overwrites it (reusing its buffers), and the loop calls `authorize` with it again after
/// each need of the same request.
pub struct FlatRequest {
    method: String,
    path: String,
    /// `name\0value\0name\0value...`: the header pairs, then the query pairs.
    pairs: String,
    /// Start and end of every name and value in `pairs`.
    spans: Vec<(usize, usize)>,
    header_count: usize,
    source_ip: Option<IpAddr>,
    secure_transport: Option<bool>,
    method_arn: Option<String>,
    credential: Option<String>,
    matching: Option<crate::PathMatching>,
    /// A header or query name or value held a NUL (see `set`).
    nul_in_pairs: bool,
    /// The request's run through the core: its steps and fetches, checked by the core's
    /// rules (`set` starts a new one).
    run: crate::Run,
}

/// The start and end of every `\0`-separated item of `flat` (none when it is empty).
fn item_spans(flat: &str, spans: &mut Vec<(usize, usize)>) {
    spans.clear();
    if flat.is_empty() {
        return;
    }
    // `split` finds a one-byte pattern with memchr: a token's kilobyte is not walked byte by byte.
    let mut start = 0;
    for item in flat.split('\0') {
        spans.push((start, start + item.len()));
        start += item.len() + 1;
    }
}

fn replace(buffer: &mut String, text: &str) {
    buffer.clear();
    buffer.push_str(text);
}

/// Name/value pairs borrowed from a [`FlatRequest`].
type Pairs<'a> = Vec<(&'a str, &'a str)>;

impl FlatRequest {
    /// An empty request (`GET /`, no headers); fill it with `set`.
    pub fn new() -> FlatRequest {
        FlatRequest {
            method: String::from("GET"),
            path: String::from("/"),
            pairs: String::new(),
            spans: Vec::new(),
            header_count: 0,
            source_ip: None,
            secure_transport: None,
            method_arn: None,
            credential: None,
            matching: None,
            nul_in_pairs: false,
            run: crate::Run::new(),
        }
    }

    /// Overwrites the request. `pairs` is the UTF-8 text `name\0value\0name\0value...` of
    /// `header_count` header pairs followed by `query_count` query pairs (empty for none);
    /// `source_ip` an IPv4 or IPv6 address or `""`. Clears the method ARN, the credential
    /// and the matching, and starts a new run. `invalid_request` when the counts do not
    /// match the text, the text is not UTF-8, or the address is not one; a name or value
    /// holding a NUL is not an error here: the request is decided `bad_request`.
    #[allow(clippy::too_many_arguments)]
    pub fn set(
        &mut self,
        method: &str,
        path: &str,
        pairs: &[u8],
        header_count: u32,
        query_count: u32,
        source_ip: &str,
        secure_transport: Option<bool>,
    ) -> Result<(), BindingError> {
        let text = core::str::from_utf8(pairs).map_err(|_| {
            BindingError::fixed("invalid_request", "headers and query must be UTF-8")
        })?;
        let source_ip = match source_ip {
            "" => None,
            text => Some(text.parse::<IpAddr>().map_err(|_| {
                BindingError::new(
                    "invalid_request",
                    alloc::format!("sourceIp `{text}` is not an IP address"),
                )
            })?),
        };
        item_spans(text, &mut self.spans);
        let expected = 2 * (header_count as usize + query_count as usize);
        // More items than pairs: a name or value holds a NUL (`?x=%00`), which no header
        // may and no query needs. The request is decided `bad_request`, not thrown.
        self.nul_in_pairs = self.spans.len() > expected;
        if self.spans.len() < expected {
            self.spans.clear();
            self.header_count = 0;
            return Err(BindingError::new(
                "invalid_request",
                alloc::format!(
                    "expected {header_count} header and {query_count} query name/value pairs joined by NUL"
                ),
            ));
        }
        if self.nul_in_pairs {
            self.spans.clear();
        }
        replace(&mut self.pairs, text);
        replace(&mut self.method, method);
        replace(&mut self.path, path);
        self.header_count = if self.nul_in_pairs {
            0
        } else {
            header_count as usize
        };
        self.source_ip = source_ip;
        self.secure_transport = secure_transport;
        self.method_arn = None;
        self.credential = None;
        self.matching = None;
        self.run = crate::Run::new();
        Ok(())
    }

    /// The full execute-api ARN when the runtime supplies one (API Gateway).
    pub fn set_method_arn(&mut self, arn: Option<String>) {
        self.method_arn = arn;
    }

    /// The bare credential when the runtime hands it over on its own (`TOKEN` events).
    pub fn set_credential(&mut self, credential: Option<String>) {
        self.credential = credential;
    }

    /// How the router in front of which the adapter stands matches paths, as bit flags:
    /// 1 case-insensitive, 2 strip the trailing slash, 4 merge duplicate slashes; `None`:
    /// the configuration's `request` rules. `set` resets it.
    pub fn set_matching(&mut self, flags: Option<u8>) {
        self.matching = flags.map(matching_of);
    }

    /// The header pairs and the query pairs.
    fn pairs(&self) -> (Pairs<'_>, Pairs<'_>) {
        let mut pairs = self.spans.chunks_exact(2).map(|pair| match pair {
            [(ns, ne), (vs, ve)] => (
                self.pairs.get(*ns..*ne).unwrap_or_default(),
                self.pairs.get(*vs..*ve).unwrap_or_default(),
            ),
            _ => ("", ""),
        });
        let headers = pairs.by_ref().take(self.header_count).collect();
        (headers, pairs.collect())
    }
}

impl Default for FlatRequest {
    fn default() -> Self {
        Self::new()
    }
}

/// Verdict ids are below this; `VERDICT_UNCACHED` means "read `verdict()`, do not keep it".
const VERDICTS: usize = VERDICT_UNCACHED as usize;
/// Caller ids stay below 2^44 so that the whole code is an exact JavaScript number.
const MAX_CALLER_ID: u64 = 1 << 44;
/// Callers remembered (by `Arc` identity) so that a cached decision answers its caller id.
const CALLER_SLOTS: usize = 256;

/// A decision's outcome, reason and response, as `verdict()` describes it.
struct Verdict {
    outcome: &'static str,
    reason: &'static str,
    status: u16,
    /// The denial body (JSON text); `None` on allow.
    body: Option<String>,
}

/// Runs requests' steps for one authorizer and packs each step into one number; remembers
/// the last step, which `verdict`, `context`, `path`, `explanation` and `need` describe.
pub struct Stepper {
    /// Interned verdicts: their index is the verdict id.
    verdicts: Vec<Verdict>,
    /// Recent callers by `Arc` identity (direct-mapped), with their ids; holding the `Arc`
    /// keeps an id from ever naming another caller.
    callers: Vec<Option<(Arc<Caller>, u64)>>,
    next_caller: u64,
    /// The last decision or need.
    last: Option<Step>,
}

impl Default for Stepper {
    fn default() -> Self {
        Self::new()
    }
}

impl Stepper {
    /// A stepper that has run no step yet.
    pub fn new() -> Self {
        Stepper {
            verdicts: Vec::new(),
            callers: (0..CALLER_SLOTS).map(|_| None).collect(),
            next_caller: 1,
            last: None,
        }
    }

    /// Decides `request` at `now` or says what it needs first, as one number `code`:
    /// - `code % 8` is the kind: 0 decided, 1 `fetchJwks`, 2 `awaitJwks`, 3 `loadPolicies`,
    ///   4 `checkSignature`, 6 `loadRevocations` (details: [`Stepper::need`]), 5 decided for
    ///   a rewritten path ([`Stepper::path`]: the canonical path to forward);
    /// - for a decision, `floor(code / 8) % 256` is the verdict id (the same for every
    ///   decision with that verdict; 255: read it and do not keep it) and
    ///   `floor(code / 2048)` the caller id (the same for every decision with that caller's
    ///   context; 0: no context).
    ///
    /// Every call for one request (between two `set`s) is a step of its run, checked by the
    /// core's rules ([`crate::Run`]): more than 16 steps are `too_many_steps`, a second JWKS
    /// fetch for one issuer `jwks_refetch_refused`.
    pub fn authorize(
        &mut self,
        authorizer: &mut Authorizer,
        request: &mut FlatRequest,
        now: u64,
    ) -> Result<f64, BindingError> {
        let mut run = core::mem::take(&mut request.run);
        let (headers, query) = request.pairs();
        let core_request = crate::Request {
            method: &request.method,
            path: &request.path,
            method_arn: request.method_arn.as_deref(),
            headers: &headers,
            query: &query,
            source_ip: request.source_ip,
            secure_transport: request.secure_transport,
            credential: request.credential.as_deref(),
            matching: request.matching,
        };
        let step = if request.nul_in_pairs {
            Step::Decided(Decision::bad_request(crate::PathError::NulInRequest))
        } else {
            let step = run.step(authorizer, &core_request, now);
            request.run = run;
            step.map_err(|e| BindingError::new(e.code(), alloc::string::ToString::to_string(&e)))?
        };
        let code = match &step {
            Step::Decided(decision) => {
                let verdict = self.verdict_id(authorizer, decision);
                let caller = self.caller_id(decision);
                let kind = if decision.forward_path().is_some() {
                    KIND_DECIDED_REWRITTEN
                } else {
                    KIND_DECIDED
                };
                f64::from(kind) + 8.0 * (verdict as f64) + 2048.0 * (caller as f64)
            }
            Step::Need(Need::FetchJwks { .. }) => f64::from(KIND_FETCH_JWKS),
            Step::Need(Need::AwaitJwks { .. }) => f64::from(KIND_AWAIT_JWKS),
            Step::Need(Need::LoadPolicies { .. }) => f64::from(KIND_LOAD_POLICIES),
            Step::Need(Need::LoadRevocations { .. }) => f64::from(KIND_LOAD_REVOCATIONS),
            Step::Need(Need::CheckSignature { .. }) => f64::from(KIND_CHECK_SIGNATURE),
        };
        self.last = Some(step);
        Ok(code)
    }

    /// The last decision; `no_decision` when the last step was not one.
    pub fn decision(&self) -> Result<&Decision, BindingError> {
        match &self.last {
            Some(Step::Decided(decision)) => Ok(decision),
            _ => Err(BindingError::fixed(
                "no_decision",
                "the last step was not a decision",
            )),
        }
    }

    /// The last need; `no_need` when the last step was a decision.
    pub fn need(&self) -> Result<&Need, BindingError> {
        match &self.last {
            Some(Step::Need(need)) => Ok(need),
            _ => Err(BindingError::fixed(
                "no_need",
                "the last step was not a need",
            )),
        }
    }

    /// The last decision's verdict as [`verdict_json`].
    pub fn verdict(&self, authorizer: &Authorizer) -> Result<String, BindingError> {
        Ok(verdict_json(&authorizer.render(self.decision()?)))
    }

    /// The last decision's context (the caller's identity) as a JSON object text, in the
    /// core's order.
    pub fn context(&self) -> Result<String, BindingError> {
        let mut out = String::with_capacity(256);
        crate::decision::write_context_json(self.decision()?.context(), &mut out);
        Ok(out)
    }

    /// The canonical path the last decision was made for, to forward instead of the
    /// request's own when the kind was 5 (rewritten).
    pub fn path(&self) -> Result<Option<&str>, BindingError> {
        Ok(self.decision()?.forward_path())
    }

    /// A one-line explanation of the last decision, for logs.
    pub fn explanation(&self) -> Result<String, BindingError> {
        Ok(self.decision()?.explain())
    }

    /// The interned id of the decision's verdict (`VERDICT_UNCACHED` once the table is full).
    fn verdict_id(&mut self, authorizer: &Authorizer, decision: &Decision) -> u64 {
        let rendered = authorizer.render(decision);
        let (outcome, reason) = (rendered.outcome.as_str(), rendered.reason.code());
        let found = self.verdicts.iter().position(|v| {
            v.outcome == outcome
                && v.reason == reason
                && v.status == rendered.status
                && v.body.as_deref() == rendered.body
        });
        match found {
            Some(id) => id as u64,
            None if self.verdicts.len() < VERDICTS => {
                self.verdicts.push(Verdict {
                    outcome,
                    reason,
                    status: rendered.status,
                    body: rendered.body.map(String::from),
                });
                (self.verdicts.len() - 1) as u64
            }
            None => u64::from(VERDICT_UNCACHED),
        }
    }

    /// The id of the decision's caller: the same `Arc` (a cached token) keeps its id while
    /// it stays in its slot; another caller gets a fresh id.
    fn caller_id(&mut self, decision: &Decision) -> u64 {
        let Some(caller) = &decision.caller else {
            return 0;
        };
        let slot = (Arc::as_ptr(caller) as usize >> 4) % CALLER_SLOTS;
        let Some(entry) = self.callers.get_mut(slot) else {
            return 0;
        };
        if let Some((known, id)) = entry {
            if Arc::ptr_eq(known, caller) {
                return *id;
            }
        }
        let id = self.next_caller;
        // Wrapping after 2^44 ids is harmless: the glue keeps only its last 1024 contexts.
        self.next_caller = if id + 1 >= MAX_CALLER_ID { 1 } else { id + 1 };
        *entry = Some((Arc::clone(caller), id));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn item_spans_split_on_every_nul() {
        let mut spans = Vec::new();
        item_spans("", &mut spans);
        assert!(spans.is_empty());
        item_spans("a\0bc\0\0d", &mut spans);
        assert_eq!(spans, [(0, 1), (2, 4), (5, 5), (6, 7)]);
        item_spans("\0", &mut spans);
        assert_eq!(spans, [(0, 0), (1, 1)]);
    }

    #[test]
    fn set_reads_pairs_and_refuses_what_it_cannot() {
        let mut request = FlatRequest::new();
        request
            .set("GET", "/a", b"h\0v\0q\0w", 1, 1, "192.0.2.1", Some(true))
            .unwrap();
        let (headers, query) = request.pairs();
        assert_eq!((headers, query), (vec![("h", "v")], vec![("q", "w")]));
        // A NUL inside a value: more items than pairs, decided `bad_request` (not thrown).
        request
            .set("GET", "/a", b"h\0v\0x", 1, 0, "", None)
            .unwrap();
        assert!(request.nul_in_pairs);
        let code = |e: BindingError| e.code;
        assert_eq!(
            request
                .set("GET", "/", b"h\0v", 2, 0, "", None)
                .map_err(code),
            Err("invalid_request")
        );
        assert_eq!(
            request
                .set("GET", "/", b"h\0\xff", 1, 0, "", None)
                .map_err(code),
            Err("invalid_request")
        );
        assert_eq!(
            request
                .set("GET", "/", b"", 0, 0, "not-an-ip", None)
                .map_err(code),
            Err("invalid_request")
        );
    }

    #[test]
    fn epoch_seconds_are_whole_non_negative_and_exact() {
        assert_eq!(epoch_seconds(0.0), Ok(0));
        assert_eq!(epoch_seconds(1_767_225_600.0), Ok(1_767_225_600));
        assert_eq!(
            epoch_seconds(9_007_199_254_740_991.0),
            Ok(9_007_199_254_740_991)
        );
        for bad in [
            -1.0,
            0.5,
            f64::NAN,
            f64::INFINITY,
            9_007_199_254_740_992.0,
            -0.5,
        ] {
            assert_eq!(
                epoch_seconds(bad).map_err(|e| e.code),
                Err("invalid_time"),
                "{bad}"
            );
        }
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0u16, 7, 10, 200, 401, 503, 65535] {
            let mut out = String::new();
            push_u16(&mut out, n);
            assert_eq!(out, alloc::format!("{n}"));
        }
    }

    #[test]
    fn revocations_are_named_by_kind() {
        let user = revocation_of("user", "i".into(), "s".into(), None, 42).unwrap();
        assert!(matches!(user, Revocation::User { before: 42, .. }));
        let user = revocation_of("user", "i".into(), "s".into(), Some(7.0), 42).unwrap();
        assert!(matches!(user, Revocation::User { before: 7, .. }));
        assert!(matches!(
            revocation_of("session", "i".into(), "o".into(), None, 0),
            Ok(Revocation::Session { .. })
        ));
        assert!(matches!(
            revocation_of("token", "i".into(), "j".into(), None, 0),
            Ok(Revocation::Token { .. })
        ));
        for (kind, issuer, value) in [("group", "i", "v"), ("user", "", "v"), ("user", "i", "")] {
            assert_eq!(
                revocation_of(kind, issuer.into(), value.into(), None, 0).map_err(|e| e.code),
                Err("invalid_revocation")
            );
        }
        assert_eq!(
            revocation_of("user", "i".into(), "s".into(), Some(0.5), 0).map_err(|e| e.code),
            Err("invalid_time")
        );
    }
}
