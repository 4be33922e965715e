//! The WebAssembly surface (feature `wasm`): nothing but translation between JavaScript
//! values and the core's types. The sans-IO loop itself runs in JavaScript (`js/src/`),
//! where fetching, storage and the host's crypto live.
//!
//! The boundary is built to be crossed cheaply, once or twice per request:
//! - a [`WasmRequest`] is reused (`set` copies the strings into buffers it keeps); headers
//!   and query pairs come as one `\0`-joined string each, with their pair count;
//! - `authorize` answers one number (see [`WasmAuthorizer::authorize`]): the step's kind
//!   and, for a decision, an interned *verdict* id (outcome, reason, status, body) and an
//!   interned *caller* id (the context). The glue decodes a verdict or a caller once, with
//!   `verdict()` / `context()` (JSON text), and keeps it; the explanation and a need's
//!   details are read on demand (`explanation()`, `need()`);
//! - with a synchronous verifier (node:crypto) the signature is checked inline, in the same
//!   `authorize` call; without one (WebCrypto) the step is `checkSignature`.
//!
//! Errors are thrown as JavaScript `Error`s with a stable `code` (`invalid_config`,
//! `invalid_request`, `invalid_policy`, `jwks_not_json`, ...).

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::IpAddr;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use xxhash_rust::xxh3::xxh3_128_with_seed;

use crate::boundary::{
    matching_of, KIND_AWAIT_JWKS, KIND_CHECK_SIGNATURE, KIND_DECIDED, KIND_DECIDED_REWRITTEN,
    KIND_FETCH_JWKS, KIND_LOAD_POLICIES, KIND_LOAD_REVOCATIONS, VERDICT_UNCACHED,
};
use crate::decision::Caller;
use crate::token::crypto::DeferToHost;
use crate::{
    Algorithm, Authorizer, Decision, Need, PublicKey, SignatureVerdict, SignatureVerifier, Step,
    TokenHash,
};

/// A JavaScript `Error` carrying a stable `code`.
fn error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    set(&error, "code", &JsValue::from_str(code));
    error.into()
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items.into_iter().map(JsValue::from_str).collect()
}

/// Seconds since the epoch from a JavaScript number (whole, non-negative, finite).
fn epoch_seconds(now: f64) -> Result<u64, JsValue> {
    if now.is_finite() && now >= 0.0 && now.fract() == 0.0 && now <= 9_007_199_254_740_991.0 {
        // Whole, non-negative and below 2^53: the conversion is exact.
        Ok(now as u64)
    } else {
        Err(error(
            "invalid_time",
            "`now` must be whole seconds since the epoch",
        ))
    }
}

/// A policy or record as a JavaScript store gave it: a string is JSON text, `null` or
/// `undefined` is none, anything else is read as the JSON text JavaScript writes for it (one
/// parser, with the core's strictness, for text and values alike). A value that has no JSON
/// text (a function, a symbol, a BigInt, a cycle) is invalid, never "none".
fn stored_value(value: &JsValue) -> crate::StoredPolicy {
    if value.is_null_or_undefined() {
        return crate::StoredPolicy::Absent;
    }
    if let Some(text) = value.as_string() {
        return crate::StoredPolicy::Text(text);
    }
    match js_sys::JSON::stringify(value)
        .ok()
        .and_then(|t| t.as_string())
    {
        Some(text) => crate::StoredPolicy::Text(text),
        None => crate::StoredPolicy::Invalid(String::from(
            "a JavaScript value with no JSON text (a function, a symbol, a BigInt, a cycle)",
        )),
    }
}

/// `{"outcome", "reason", "status", "body"}` as JSON text (`body`: the denial's JSON text as
/// a string, `null` on allow): what `verdict()` and `responseFor()` answer.
fn verdict_json(rendered: &crate::Rendered<'_>) -> String {
    let mut out = String::with_capacity(96);
    out.push_str("{\"outcome\":\"");
    out.push_str(rendered.outcome.as_str());
    out.push_str("\",\"reason\":\"");
    out.push_str(rendered.reason.code());
    out.push_str("\",\"status\":");
    out.push_str(&itoa_u16(rendered.status));
    out.push_str(",\"body\":");
    match rendered.body {
        Some(body) => crate::json::push_json_str(&mut out, body),
        None => out.push_str("null"),
    }
    out.push('}');
    out
}

/// `n` in decimal (no `core::fmt`: it costs the wasm more than this).
fn itoa_u16(n: u16) -> String {
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
    digits
        .get(at..)
        .map_or_else(String::new, |d| d.iter().map(|&b| char::from(b)).collect())
}

/// Verdict ids are below this; `VERDICT_UNCACHED` means "read `verdict()`, do not keep it".
const VERDICTS: usize = VERDICT_UNCACHED as usize;
/// Caller ids stay below 2^44 so that the whole code is an exact JavaScript number.
const MAX_CALLER_ID: u64 = 1 << 44;
/// Callers remembered (by `Arc` identity) so that a cached decision answers its caller id.
const CALLER_SLOTS: usize = 256;

/// The stable id of a public key for the host's cache of imported keys: 53 bits of the
/// keyed hash of its public JWK (equal JWKs, e.g. after a JWKS refresh, share the id).
fn key_id(seed: u64, key: &PublicKey) -> f64 {
    let hash = xxh3_128_with_seed(key.jwk_json().as_bytes(), seed);
    ((hash >> 75) as u64) as f64
}

/// An HTTP request as the authorizer sees it. One object serves many requests: `set`
/// overwrites it (reusing its buffers), and the loop calls `authorize` with it again after
/// each need of the same request.
#[wasm_bindgen(js_name = Request)]
pub struct WasmRequest {
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
    let mut start = 0;
    for (at, byte) in flat.bytes().enumerate() {
        if byte == 0 {
            spans.push((start, at));
            start = at + 1;
        }
    }
    spans.push((start, flat.len()));
}

fn replace(buffer: &mut String, text: &str) {
    buffer.clear();
    buffer.push_str(text);
}

#[wasm_bindgen(js_class = Request)]
impl WasmRequest {
    /// An empty request (`GET /`, no headers); fill it with `set`.
    #[wasm_bindgen(constructor)]
    pub fn new() -> WasmRequest {
        WasmRequest {
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
    /// `headerCount` header pairs followed by `queryCount` query pairs (empty for none);
    /// `sourceIp` an IPv4 or IPv6 address or `""`. Clears `methodArn` and `credential`.
    /// Throws `invalid_request` when the counts do not match the text (a name or value
    /// holding a NUL), the text is not UTF-8, or the address is not one.
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
    ) -> Result<(), JsValue> {
        let text = core::str::from_utf8(pairs)
            .map_err(|_| error("invalid_request", "headers and query must be UTF-8"))?;
        let source_ip = match source_ip {
            "" => None,
            text => Some(text.parse::<IpAddr>().map_err(|_| {
                error(
                    "invalid_request",
                    &alloc::format!("sourceIp `{text}` is not an IP address"),
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
            return Err(error(
                "invalid_request",
                &alloc::format!(
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
    #[wasm_bindgen(setter, js_name = methodArn)]
    pub fn set_method_arn(&mut self, arn: Option<String>) {
        self.method_arn = arn;
    }

    /// The bare credential when the runtime hands it over on its own (`TOKEN` events).
    #[wasm_bindgen(setter)]
    pub fn set_credential(&mut self, credential: Option<String>) {
        self.credential = credential;
    }

    /// How the router in front of which the adapter stands matches paths, as bit flags:
    /// 1 case-insensitive, 2 strip the trailing slash, 4 merge duplicate slashes;
    /// `undefined`: the configuration's `request` rules. `set` resets it.
    #[wasm_bindgen(setter)]
    pub fn set_matching(&mut self, flags: Option<u8>) {
        self.matching = flags.map(matching_of);
    }
}

/// Name/value pairs borrowed from a [`WasmRequest`].
type Pairs<'a> = Vec<(&'a str, &'a str)>;

impl WasmRequest {
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

impl Default for WasmRequest {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
extern "C" {
    /// The host's synchronous signature check (see [`WasmAuthorizer::new`]).
    #[wasm_bindgen(
        typescript_type = "(algorithm: string, keyId: number, signingInput: Uint8Array, signature: Uint8Array, jwk?: string) => boolean | undefined"
    )]
    pub type SyncVerifier;

    #[wasm_bindgen(method, js_name = call, catch)]
    fn call_verifier(
        this: &SyncVerifier,
        this_arg: &JsValue,
        algorithm: &JsValue,
        key_id: f64,
        signing_input: &[u8],
        signature: &[u8],
        jwk: Option<&str>,
    ) -> Result<JsValue, JsValue>;
}

/// The core's [`SignatureVerifier`] backed by the host's synchronous crypto (node:crypto):
/// the signature is checked inside `authorize`, without a `checkSignature` round trip.
struct HostVerifier {
    callback: SyncVerifier,
    /// The JWS names as JavaScript strings, in [`Algorithm::ALL`] order.
    names: Vec<JsValue>,
    seed: u64,
}

impl SignatureVerifier for HostVerifier {
    fn verify(
        &self,
        algorithm: Algorithm,
        key: &PublicKey,
        signing_input: &[u8],
        signature: &[u8],
    ) -> SignatureVerdict {
        if !key.allows(algorithm) {
            return SignatureVerdict::Invalid;
        }
        let Some(name) = Algorithm::ALL
            .iter()
            .position(|a| *a == algorithm)
            .and_then(|i| self.names.get(i))
        else {
            return SignatureVerdict::Invalid;
        };
        let id = key_id(self.seed, key);
        let call = |jwk| {
            self.callback.call_verifier(
                &JsValue::UNDEFINED,
                name,
                id,
                signing_input,
                signature,
                jwk,
            )
        };
        // `undefined`: the host does not know the key id yet and asks for the JWK.
        let verdict = match call(None) {
            Ok(answer) if answer.is_undefined() => call(Some(key.jwk_json())),
            other => other,
        };
        match verdict {
            Ok(answer) if answer.as_bool() == Some(true) => SignatureVerdict::Valid,
            // `false`, anything else, or a throw: invalid (the glue logs throws).
            _ => SignatureVerdict::Invalid,
        }
    }
}

/// A decision's outcome, reason and response, as `verdict()` describes it.
#[derive(PartialEq)]
struct Verdict {
    outcome: &'static str,
    reason: &'static str,
    status: u16,
    /// The denial body (JSON text); `None` on allow.
    body: Option<String>,
}

/// The authorizer: one per configuration, kept for the life of the isolate / process.
#[wasm_bindgen(js_name = Authorizer)]
pub struct WasmAuthorizer {
    inner: Authorizer,
    warnings: Vec<String>,
    seed: u64,
    /// Interned verdicts: their index is the verdict id.
    verdicts: Vec<Verdict>,
    /// Recent callers by `Arc` identity (direct-mapped), with their ids; holding the `Arc`
    /// keeps an id from ever naming another caller.
    callers: Vec<Option<(Arc<Caller>, u64)>>,
    next_caller: u64,
    /// The last decision (for `verdict`, `context`, `explanation`) or need (for `need`).
    last: Option<Step>,
    /// Property names and kinds of `need()` objects, decoded once.
    names: NeedNames,
}

/// The JavaScript strings `need()` writes, made once per authorizer (each string crossing
/// the boundary costs a decode).
struct NeedNames {
    kind: JsValue,
    issuer: JsValue,
    url: JsValue,
    groups: JsValue,
    keys: JsValue,
    token: JsValue,
    algorithm: JsValue,
    key_id: JsValue,
    jwk: JsValue,
    signing_input: JsValue,
    signature: JsValue,
    fetch_jwks: JsValue,
    await_jwks: JsValue,
    load_policies: JsValue,
    load_revocations: JsValue,
    check_signature: JsValue,
}

impl NeedNames {
    fn new() -> Self {
        let s = JsValue::from_str;
        NeedNames {
            kind: s("kind"),
            issuer: s("issuer"),
            url: s("url"),
            groups: s("groups"),
            keys: s("keys"),
            token: s("token"),
            algorithm: s("algorithm"),
            key_id: s("keyId"),
            jwk: s("jwk"),
            signing_input: s("signingInput"),
            signature: s("signature"),
            fetch_jwks: s("fetchJwks"),
            await_jwks: s("awaitJwks"),
            load_policies: s("loadPolicies"),
            load_revocations: s("loadRevocations"),
            check_signature: s("checkSignature"),
        }
    }
}

fn put(target: &Object, key: &JsValue, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, key, value);
}

#[wasm_bindgen(js_class = Authorizer)]
impl WasmAuthorizer {
    /// Builds the authorizer from a JSON configuration and 8 random bytes that key its
    /// cache hashes (and the key ids).
    ///
    /// `verifier`, when given, checks signatures synchronously inside `authorize`:
    /// `(algorithm, keyId, signingInput, signature, jwk?) => boolean | undefined`, where
    /// `keyId` is stable for a key (cache the imported key under it) and `jwk` (the public
    /// JWK, JSON text) is passed only when the verifier answered `undefined` ("unknown key
    /// id") to the call without it. Only `true` counts as valid; a throw is invalid. The
    /// byte arrays are views into the wasm memory, valid during the call only. Without a
    /// verifier every signature is handed to the host as a `checkSignature` step.
    ///
    /// Throws `invalid_config` (the message lists every problem) or `invalid_hash_key`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config_json: &str,
        hash_key: &[u8],
        verifier: Option<SyncVerifier>,
    ) -> Result<WasmAuthorizer, JsValue> {
        let key: [u8; 8] = hash_key
            .try_into()
            .map_err(|_| error("invalid_hash_key", "the hash key must be 8 random bytes"))?;
        let (authorizer, warnings) =
            Authorizer::from_json(config_json).map_err(|e| error(e.code(), &e.to_string()))?;
        let seed = u64::from_le_bytes(key);
        let authorizer = match verifier {
            Some(callback) => authorizer.with_verifier(Arc::new(HostVerifier {
                callback,
                names: Algorithm::ALL
                    .iter()
                    .map(|a| JsValue::from_str(a.name()))
                    .collect(),
                seed,
            })),
            None => authorizer.with_verifier(Arc::new(DeferToHost)),
        };
        Ok(WasmAuthorizer {
            inner: authorizer.with_hash_key(key),
            warnings,
            seed,
            verdicts: Vec::new(),
            callers: (0..CALLER_SLOTS).map(|_| None).collect(),
            next_caller: 1,
            last: None,
            names: NeedNames::new(),
        })
    }

    /// The warnings about the bundled policies, for the adapter to log once.
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Array {
        string_array(self.warnings.iter().map(String::as_str))
    }

    /// Each configured issuer's JWKS URL, by issuer index (as `fetchJwks` needs name them).
    #[wasm_bindgen(getter, js_name = jwksUris)]
    pub fn jwks_uris(&self) -> Array {
        string_array(
            self.inner
                .config()
                .issuers
                .iter()
                .map(|i| i.jwks_uri.as_str()),
        )
    }

    /// What an adapter answers for `reason` when it decides in the core's place (a claim
    /// check, a router refusal, a failure): `{"outcome", "reason", "status", "body"}` as
    /// JSON text, from the configured responses. `reason` is the index of its code in
    /// `REASON_CODES` (js/src/core-codes.js); throws `unknown_reason` past them.
    #[wasm_bindgen(js_name = responseFor)]
    pub fn response_for(&self, reason: usize) -> Result<String, JsValue> {
        // By its index in `Reason::ALL` (`REASON_CODES` in core-codes.js): no string match.
        let reason = crate::Reason::ALL
            .get(reason)
            .copied()
            .ok_or_else(|| error("unknown_reason", "not a reason index"))?;
        Ok(verdict_json(&self.inner.render_reason(reason)))
    }

    /// Whether policies are loaded by the adapter (`loadPolicies`) rather than bundled.
    #[wasm_bindgen(getter, js_name = loadsPolicies)]
    pub fn loads_policies(&self) -> bool {
        self.inner.loads_policies()
    }

    /// Decides `request` at `now` (seconds since the epoch) or says what it needs first,
    /// as one number `code`:
    /// - `code % 8` is the kind: 0 decided, 1 `fetchJwks`, 2 `awaitJwks`,
    ///   3 `loadPolicies`, 4 `checkSignature`, 6 `loadRevocations` (details of a need:
    ///   `need()`), 5 decided for
    ///   a rewritten path (`path()`: the canonical path to forward);
    /// - for a decision, `floor(code / 8) % 256` is the verdict id (outcome, reason, status,
    ///   body: `verdict()`, the same for every decision with that id; 255: read `verdict()`
    ///   and do not keep it) and `floor(code / 2048)` the caller id (the context:
    ///   `context()`, the same for every decision with that id; 0: no context).
    ///
    /// `verdict()`, `context()`, `explanation()` and `need()` describe the last step.
    ///
    /// Every call for one request (between two `set`s) is a step of its run, checked by the
    /// core's rules ([`crate::Run`]): more than 16 steps throw `too_many_steps`, a second
    /// JWKS fetch for one issuer throws `jwks_refetch_refused`.
    pub fn authorize(&mut self, request: &mut WasmRequest, now: f64) -> Result<f64, JsValue> {
        let now = epoch_seconds(now)?;
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
            let step = run.step(&mut self.inner, &core_request, now);
            request.run = run;
            step.map_err(|e| error(e.code(), &e.to_string()))?
        };
        let code = match &step {
            Step::Decided(decision) => {
                let verdict = self.verdict_id(decision);
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

    /// The last decision's verdict: `{"outcome", "reason", "status", "body"}` as JSON text
    /// (`body` is the denial's JSON text, `null` on allow). Throws `no_decision` when the
    /// last step was not a decision.
    pub fn verdict(&self) -> Result<String, JsValue> {
        Ok(verdict_json(&self.inner.render(self.last_decision()?)))
    }

    /// The last decision's context (the caller's identity) as a JSON object text, in the
    /// core's order.
    pub fn context(&self) -> Result<String, JsValue> {
        let mut out = String::with_capacity(256);
        crate::decision::write_context_json(self.last_decision()?.context(), &mut out);
        Ok(out)
    }

    /// The canonical path the last decision was made for, to forward instead of the
    /// request's own when `authorize` answered kind 5 (rewritten); otherwise `undefined`.
    pub fn path(&self) -> Result<Option<String>, JsValue> {
        Ok(self.last_decision()?.forward_path().map(String::from))
    }

    /// A one-line explanation of the last decision, for logs.
    pub fn explanation(&self) -> Result<String, JsValue> {
        Ok(self.last_decision()?.explain())
    }

    /// The last need as a plain object: `{kind: "fetchJwks", issuer, url}`,
    /// `{kind: "awaitJwks", issuer}`, `{kind: "loadPolicies", groups}`,
    /// `{kind: "loadRevocations", keys, groups}` (`groups`: the policies asked for next) or
    /// `{kind: "checkSignature", token, algorithm, keyId, jwk, signingInput, signature}`
    /// (`token`, `signingInput` and `signature` are byte arrays).
    /// Throws `no_need` when the last step was a decision.
    pub fn need(&self) -> Result<Object, JsValue> {
        let Some(Step::Need(need)) = &self.last else {
            return Err(error("no_need", "the last step was not a need"));
        };
        let n = &self.names;
        let out = Object::new();
        match need {
            Need::FetchJwks { issuer, url } => {
                put(&out, &n.kind, &n.fetch_jwks);
                put(&out, &n.issuer, &JsValue::from(*issuer));
                put(&out, &n.url, &JsValue::from_str(url));
            }
            Need::AwaitJwks { issuer } => {
                put(&out, &n.kind, &n.await_jwks);
                put(&out, &n.issuer, &JsValue::from(*issuer));
            }
            Need::LoadPolicies { groups } => {
                put(&out, &n.kind, &n.load_policies);
                let groups = string_array(groups.iter().map(String::as_str));
                put(&out, &n.groups, &groups);
            }
            Need::LoadRevocations { keys, groups } => {
                put(&out, &n.kind, &n.load_revocations);
                let keys = string_array(keys.iter().map(String::as_str));
                put(&out, &n.keys, &keys);
                let groups = string_array(groups.iter().map(String::as_str));
                put(&out, &n.groups, &groups);
            }
            Need::CheckSignature { token, check } => {
                put(&out, &n.kind, &n.check_signature);
                put(&out, &n.token, &Uint8Array::from(&token.to_bytes()[..]));
                put(&out, &n.algorithm, &check.algorithm.name().into());
                put(&out, &n.key_id, &key_id(self.seed, &check.key).into());
                put(&out, &n.jwk, &check.key.jwk_json().into());
                let input = Uint8Array::from(check.signing_input.as_bytes());
                put(&out, &n.signing_input, &input);
                put(&out, &n.signature, &Uint8Array::from(&check.signature[..]));
            }
        }
        Ok(out)
    }

    /// Hands over the body fetched for `fetchJwks`. Throws (`jwks_not_json`,
    /// `jwks_not_a_jwk_set`, `jwks_too_large`) when it is not a JWK Set; the core then
    /// treats the fetch as failed.
    #[wasm_bindgen(js_name = jwksFetched)]
    pub fn jwks_fetched(&mut self, issuer: usize, body: &[u8], now: f64) -> Result<usize, JsValue> {
        let now = epoch_seconds(now)?;
        let jwks = self
            .inner
            .jwks_fetched(issuer, body, now)
            .map_err(|e| error(e.code(), &e.to_string()))?;
        Ok(jwks.len())
    }

    /// Reports that fetching the JWKS of `issuer` failed.
    #[wasm_bindgen(js_name = jwksFailed)]
    pub fn jwks_failed(&mut self, issuer: usize, now: f64) -> Result<(), JsValue> {
        self.inner.jwks_failed(issuer, epoch_seconds(now)?);
        Ok(())
    }

    /// Hands over the policy of `group` as a store holds it — JSON text, a JSON value (a
    /// plain object), or `null`/`undefined` (no policy) — and returns its warnings. An
    /// invalid policy is kept (its group's callers are denied) and thrown as
    /// `invalid_policy` with every error in the message.
    #[wasm_bindgen(js_name = policyLoaded)]
    pub fn policy_loaded(
        &mut self,
        group: &str,
        #[wasm_bindgen(unchecked_param_type = "string | object | null | undefined")]
        policy: JsValue,
        now: f64,
    ) -> Result<Array, JsValue> {
        let now = epoch_seconds(now)?;
        let stored = stored_value(&policy);
        match self.inner.policy_loaded(group, stored.as_input(), now) {
            Ok(warnings) => Ok(warnings
                .iter()
                .map(|w| JsValue::from(w.to_string()))
                .collect()),
            Err(errors) => Err(error(
                "invalid_policy",
                &alloc::format!("policy of group `{group}`: {errors}"),
            )),
        }
    }

    /// Hands over the revocation record stored under `key` (from `loadRevocations`), as the
    /// store holds it: JSON text, a JSON value, or `null`/`undefined` (none). A record that
    /// cannot be read is kept as revoking and thrown as `invalid_revocation`.
    #[wasm_bindgen(js_name = revocationLoaded)]
    pub fn revocation_loaded(
        &mut self,
        key: &str,
        #[wasm_bindgen(unchecked_param_type = "string | object | null | undefined")]
        record: JsValue,
        now: f64,
    ) -> Result<(), JsValue> {
        let now = epoch_seconds(now)?;
        let stored = stored_value(&record);
        self.inner
            .revocation_loaded(key, stored.as_input(), now)
            .map_err(|e| error("invalid_revocation", e.message))
    }

    /// Reports that reading the revocation records `keys` failed.
    #[wasm_bindgen(js_name = revocationsFailed)]
    pub fn revocations_failed(&mut self, keys: Vec<String>, now: f64) -> Result<(), JsValue> {
        self.inner.revocations_failed(&keys, epoch_seconds(now)?);
        Ok(())
    }

    /// Revokes in this process at once: `kind` `user` (tokens of `value`, a `sub`, issued at
    /// or before `before`), `session` (`value` an `origin_jti`) or `token` (`value` a `jti`),
    /// of issuer `issuer`, until `expiresAt` (seconds; `undefined`: until the process ends).
    /// Throws `revocation_off` without a `revocation` section, `invalid_revocation` for a
    /// bad kind or an empty value.
    pub fn revoke(
        &mut self,
        kind: &str,
        issuer: String,
        value: String,
        before: Option<f64>,
        expires_at: Option<f64>,
        now: f64,
    ) -> Result<String, JsValue> {
        let now = epoch_seconds(now)?;
        if issuer.is_empty() || value.is_empty() {
            return Err(error(
                "invalid_revocation",
                "issuer and value must not be empty",
            ));
        }
        let revocation = match kind {
            "user" => crate::Revocation::User {
                issuer,
                subject: value,
                before: before.map(epoch_seconds).transpose()?.unwrap_or(now),
            },
            "session" => crate::Revocation::Session {
                issuer,
                origin_jti: value,
            },
            "token" => crate::Revocation::Token { issuer, jti: value },
            _ => {
                return Err(error(
                    "invalid_revocation",
                    "the kind must be user, session or token",
                ))
            }
        };
        let expires_at = expires_at.map(epoch_seconds).transpose()?;
        self.inner
            .revoke(&revocation, expires_at, now)
            .map_err(|e| match e {
                crate::RevokeError::Off => error("revocation_off", "no `revocation` section"),
                crate::RevokeError::Full => error("revocations_full", "too many records held"),
                _ => error("invalid_revocation", "the issuer is not configured"),
            })?;
        Ok(revocation.key())
    }

    /// Whether revocation records are read from the adapter's store (`loadRevocations`).
    #[wasm_bindgen(getter, js_name = loadsRevocations)]
    pub fn loads_revocations(&self) -> bool {
        self.inner.loads_revocations()
    }

    /// Reports that loading the policies of `groups` failed.
    #[wasm_bindgen(js_name = policiesFailed)]
    pub fn policies_failed(&mut self, groups: Vec<String>, now: f64) -> Result<(), JsValue> {
        self.inner.policies_failed(&groups, epoch_seconds(now)?);
        Ok(())
    }

    /// Reports the host's verdict on a `checkSignature` (`token` as given there).
    #[wasm_bindgen(js_name = signatureChecked)]
    pub fn signature_checked(&mut self, token: &[u8], valid: bool) -> Result<(), JsValue> {
        let bytes: [u8; 16] = token.try_into().map_err(|_| {
            error(
                "invalid_token_handle",
                "token must be the 16 bytes from checkSignature",
            )
        })?;
        self.inner
            .signature_checked(TokenHash::from_bytes(bytes), valid);
        Ok(())
    }
}

impl WasmAuthorizer {
    fn last_decision(&self) -> Result<&Decision, JsValue> {
        match &self.last {
            Some(Step::Decided(decision)) => Ok(decision),
            _ => Err(error("no_decision", "the last step was not a decision")),
        }
    }

    fn verdict_of(&self, decision: &Decision) -> Verdict {
        let rendered = self.inner.render(decision);
        Verdict {
            outcome: rendered.outcome.as_str(),
            reason: rendered.reason.code(),
            status: rendered.status,
            body: rendered.body.map(String::from),
        }
    }

    /// The interned id of the decision's verdict (`VERDICT_UNCACHED` once the table is full).
    fn verdict_id(&mut self, decision: &Decision) -> u64 {
        let rendered = self.inner.render(decision);
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
                let verdict = self.verdict_of(decision);
                self.verdicts.push(verdict);
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

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use crate::json::push_json_str;
    use serde_json::Value;
    use wasm_bindgen_test::wasm_bindgen_test;

    const CONFIG: &str = r#"{"issuers":[{"issuer":"https://issuer.test/","jwksUri":"https://issuer.test/jwks.json","audience":null}],
        "policies":{"groups":{}}}"#;

    fn get(object: &Object, key: &str) -> JsValue {
        Reflect::get(object, &JsValue::from_str(key)).unwrap()
    }

    fn code_of(error: &JsValue) -> String {
        Reflect::get(error, &JsValue::from_str("code"))
            .unwrap()
            .as_string()
            .unwrap()
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn request(headers: &[&str]) -> WasmRequest {
        let mut request = WasmRequest::new();
        request
            .set(
                "GET",
                "/pets",
                headers.join("\0").as_bytes(),
                (headers.len() / 2) as u32,
                0,
                "192.0.2.1",
                Some(true),
            )
            .unwrap();
        request
    }

    #[wasm_bindgen_test]
    fn invalid_configuration_throws_with_code_and_every_problem() {
        let error =
            WasmAuthorizer::new(r#"{"issuers":[{"issuer":"x"}], "bogus": 1}"#, &[0; 8], None)
                .err()
                .unwrap();
        assert!(error.is_instance_of::<js_sys::Error>());
        assert_eq!(code_of(&error), "invalid_config");
        let message = js_sys::Error::from(error).message().as_string().unwrap();
        assert!(message.contains("bogus"), "{message}");
    }

    #[wasm_bindgen_test]
    fn hash_key_must_be_eight_bytes() {
        let error = WasmAuthorizer::new(CONFIG, &[0; 7], None).err().unwrap();
        assert_eq!(code_of(&error), "invalid_hash_key");
    }

    #[wasm_bindgen_test]
    fn no_token_is_decided_401_with_api_gateway_body() {
        let mut authorizer = WasmAuthorizer::new(CONFIG, &[1; 8], None).unwrap();
        let code = authorizer
            .authorize(&mut request(&[]), 1_767_225_600.0)
            .unwrap();
        assert_eq!(
            code,
            f64::from(KIND_DECIDED),
            "decided, first verdict id, no caller"
        );
        let verdict = json(&authorizer.verdict().unwrap());
        assert_eq!(verdict["outcome"], "unauthorized");
        assert_eq!(verdict["reason"], "no_credentials");
        assert_eq!(verdict["status"], 401);
        assert_eq!(verdict["body"], r#"{"message":"Unauthorized"}"#);
        assert_eq!(authorizer.context().unwrap(), "{}");
        assert!(authorizer
            .explanation()
            .unwrap()
            .starts_with("no_credentials"));
        assert_eq!(code_of(&authorizer.need().err().unwrap()), "no_need");
        // The same verdict keeps its id.
        let again = authorizer
            .authorize(&mut request(&[]), 1_767_225_600.0)
            .unwrap();
        assert_eq!(again, code);
    }

    #[wasm_bindgen_test]
    fn a_well_formed_token_asks_for_the_issuers_jwks_then_fails_closed() {
        let mut authorizer = WasmAuthorizer::new(CONFIG, &[2; 8], None).unwrap();
        // {"alg":"RS256","kid":"k1"}.{"iss":"https://issuer.test/","sub":"s","exp":4102444800}.sig
        let token = "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN0LyIsInN1YiI6InMiLCJleHAiOjQxMDI0NDQ4MDB9.c2ln";
        let mut req = request(&["Authorization", token]);
        let now = 1_767_225_600.0;
        let code = authorizer.authorize(&mut req, now).unwrap();
        assert_eq!(code, f64::from(KIND_FETCH_JWKS));
        let need = authorizer.need().unwrap();
        assert_eq!(get(&need, "kind"), "fetchJwks");
        assert_eq!(get(&need, "issuer").as_f64(), Some(0.0));
        assert_eq!(get(&need, "url"), "https://issuer.test/jwks.json");
        assert_eq!(code_of(&authorizer.verdict().err().unwrap()), "no_decision");
        let not_json = authorizer.jwks_fetched(0, b"<html>", now).err().unwrap();
        assert_eq!(code_of(&not_json), "jwks_not_json");
        authorizer.jwks_failed(0, now).unwrap();
        let code = authorizer.authorize(&mut req, now).unwrap();
        assert_eq!(code % 8.0, f64::from(KIND_DECIDED));
        let verdict = json(&authorizer.verdict().unwrap());
        assert_eq!(verdict["status"], 503);
        assert_eq!(verdict["reason"], "jwks_unavailable");
    }

    #[wasm_bindgen_test]
    fn requests_reject_miscounted_pairs_nul_and_bad_addresses() {
        fn set(request: &mut WasmRequest, pairs: &[u8], headers: u32, ip: &str) -> Option<String> {
            request
                .set("GET", "/", pairs, headers, 1, ip, None)
                .err()
                .map(|e| code_of(&e))
        }
        let mut request = WasmRequest::new();
        let invalid = Some(String::from("invalid_request"));
        let two = b"x-a\0v\0authorization\0Bearer t\0q\0";
        assert_eq!(set(&mut request, two, 2, "::1"), None);
        let (headers, query) = request.pairs();
        assert_eq!(headers, [("x-a", "v"), ("authorization", "Bearer t")]);
        assert_eq!(query, [("q", "")]);
        // A NUL inside a value shifts the pairs: the counts catch it, and the request is
        // decided `bad_request` (`request_nul`) rather than thrown.
        assert_eq!(set(&mut request, two, 1, ""), None);
        assert!(request.nul_in_pairs);
        let mut authorizer = WasmAuthorizer::new(CONFIG, &[7; 8], None).expect("config");
        let code = authorizer.authorize(&mut request, 1.0).expect("authorize");
        assert_eq!(code % 8.0, f64::from(KIND_DECIDED));
        let verdict = json(&authorizer.verdict().expect("verdict"));
        assert_eq!(verdict["reason"], "request_nul");
        assert_eq!(verdict["status"], 400);
        assert_eq!(set(&mut request, two, 2, ""), None);
        assert!(!request.nul_in_pairs);
        assert_eq!(set(&mut request, b"a", 0, ""), invalid);
        assert_eq!(set(&mut request, b"", 0, ""), invalid);
        assert_eq!(set(&mut request, b"q\0\xff", 0, ""), invalid);
        assert_eq!(set(&mut request, b"q\0v", 0, "999.1.1.1"), invalid);
        assert_eq!(set(&mut request, b"q\0v", 0, ""), None);
    }

    #[wasm_bindgen_test]
    fn context_strings_are_valid_json() {
        for text in ["plain", "q\"uote\\back", "ctl\u{0}\u{1f}\n\t", "üñí €", ""] {
            let mut out = String::new();
            push_json_str(&mut out, text);
            assert_eq!(json(&out), Value::from(text), "{out}");
        }
    }

    #[wasm_bindgen_test]
    fn time_must_be_whole_non_negative_seconds() {
        let mut authorizer = WasmAuthorizer::new(CONFIG, &[3; 8], None).unwrap();
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY] {
            let error = authorizer.authorize(&mut request(&[]), bad).err().unwrap();
            assert_eq!(code_of(&error), "invalid_time");
        }
    }

    #[wasm_bindgen_test]
    fn invalid_policies_throw_and_are_kept_as_invalid() {
        let config = r#"{"issuers":[{"issuer":"https://issuer.test/","jwksUri":"https://issuer.test/jwks.json","audience":null}]}"#;
        let mut authorizer = WasmAuthorizer::new(config, &[4; 8], None).unwrap();
        assert!(authorizer.loads_policies());
        let invalid = r#"{"Statement":[{"Effect":"Maybe"}]}"#;
        let error = authorizer
            .policy_loaded("g", JsValue::from_str(invalid), 0.0)
            .err()
            .unwrap();
        assert_eq!(code_of(&error), "invalid_policy");
        // The same document as a JavaScript object: the same answer.
        let object = js_sys::JSON::parse(invalid).unwrap();
        let error = authorizer.policy_loaded("g", object, 0.0).err().unwrap();
        assert_eq!(code_of(&error), "invalid_policy");
        assert!(
            authorizer
                .policy_loaded("h", JsValue::NULL, 0.0)
                .unwrap()
                .length()
                == 0
        );
        let valid = js_sys::JSON::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#,
        )
        .unwrap();
        assert!(authorizer.policy_loaded("i", valid, 0.0).is_ok());
        authorizer
            .policies_failed(alloc::vec!["x".into()], 0.0)
            .unwrap();
        let handle = authorizer.signature_checked(&[0; 3], true).err().unwrap();
        assert_eq!(code_of(&handle), "invalid_token_handle");
    }
}
