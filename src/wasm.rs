//! The WebAssembly surface (feature `wasm`): nothing but translation between JavaScript
//! values and the step boundary the JavaScript backends share ([`crate::binding`]). The
//! sans-IO loop itself runs in JavaScript (`js/src/authorizer.js`), where fetching, storage
//! and the host's crypto live.
//!
//! With a synchronous verifier (node:crypto) the signature is checked inline, in the same
//! `authorize` call; without one (WebCrypto) the step is `checkSignature`.
//!
//! Errors are thrown as JavaScript `Error`s with a stable `code` (`invalid_config`,
//! `invalid_request`, `invalid_policy`, `jwks_not_json`, ...).

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::binding::{self, epoch_seconds, key_id, BindingError, FlatRequest, Stepper};
use crate::token::crypto::DeferToHost;
use crate::{
    Algorithm, Authorizer, Need, PublicKey, SignatureVerdict, SignatureVerifier, TokenHash,
};

/// A JavaScript `Error` carrying a stable `code`.
fn error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    set(&error, "code", &JsValue::from_str(code));
    error.into()
}

impl From<BindingError> for JsValue {
    fn from(e: BindingError) -> JsValue {
        error(e.code, &e.message)
    }
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> Array {
    items.into_iter().map(JsValue::from_str).collect()
}

fn now_of(now: f64) -> Result<u64, JsValue> {
    Ok(epoch_seconds(now)?)
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

/// An HTTP request as the authorizer sees it ([`FlatRequest`]). One object serves many
/// requests: `set` overwrites it, and the loop calls `authorize` with it again after each
/// need of the same request.
#[wasm_bindgen(js_name = Request)]
pub struct WasmRequest {
    inner: FlatRequest,
}

#[wasm_bindgen(js_class = Request)]
impl WasmRequest {
    /// An empty request (`GET /`, no headers); fill it with `set`.
    #[wasm_bindgen(constructor)]
    pub fn new() -> WasmRequest {
        WasmRequest {
            inner: FlatRequest::new(),
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
        Ok(self.inner.set(
            method,
            path,
            pairs,
            header_count,
            query_count,
            source_ip,
            secure_transport,
        )?)
    }

    /// The full execute-api ARN when the runtime supplies one (API Gateway).
    #[wasm_bindgen(setter, js_name = methodArn)]
    pub fn set_method_arn(&mut self, arn: Option<String>) {
        self.inner.set_method_arn(arn);
    }

    /// The bare credential when the runtime hands it over on its own (`TOKEN` events).
    #[wasm_bindgen(setter)]
    pub fn set_credential(&mut self, credential: Option<String>) {
        self.inner.set_credential(credential);
    }

    /// How the router in front of which the adapter stands matches paths, as bit flags:
    /// 1 case-insensitive, 2 strip the trailing slash, 4 merge duplicate slashes;
    /// `undefined`: the configuration's `request` rules. `set` resets it.
    #[wasm_bindgen(setter)]
    pub fn set_matching(&mut self, flags: Option<u8>) {
        self.inner.set_matching(flags);
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

/// The authorizer: one per configuration, kept for the life of the isolate / process.
#[wasm_bindgen(js_name = Authorizer)]
pub struct WasmAuthorizer {
    inner: Authorizer,
    warnings: Vec<String>,
    seed: u64,
    /// Runs the steps, packs their answers and remembers the last one.
    steps: Stepper,
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
            steps: Stepper::new(),
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
        Ok(binding::response_json(&self.inner, reason)?)
    }

    /// Whether policies are loaded by the adapter (`loadPolicies`) rather than bundled.
    #[wasm_bindgen(getter, js_name = loadsPolicies)]
    pub fn loads_policies(&self) -> bool {
        self.inner.loads_policies()
    }

    /// Decides `request` at `now` (seconds since the epoch) or says what it needs first,
    /// as one number: see [`Stepper::authorize`]. `verdict()`, `context()`,
    /// `explanation()` and `need()` describe the last step.
    pub fn authorize(&mut self, request: &mut WasmRequest, now: f64) -> Result<f64, JsValue> {
        let now = now_of(now)?;
        Ok(self
            .steps
            .authorize(&mut self.inner, &mut request.inner, now)?)
    }

    /// The last decision's verdict: `{"outcome", "reason", "status", "body"}` as JSON text
    /// (`body` is the denial's JSON text, `null` on allow). Throws `no_decision` when the
    /// last step was not a decision.
    pub fn verdict(&self) -> Result<String, JsValue> {
        Ok(self.steps.verdict(&self.inner)?)
    }

    /// The last decision's context (the caller's identity) as a JSON object text, in the
    /// core's order.
    pub fn context(&self) -> Result<String, JsValue> {
        Ok(self.steps.context()?)
    }

    /// The canonical path the last decision was made for, to forward instead of the
    /// request's own when `authorize` answered kind 5 (rewritten); otherwise `undefined`.
    pub fn path(&self) -> Result<Option<String>, JsValue> {
        Ok(self.steps.path()?.map(String::from))
    }

    /// A one-line explanation of the last decision, for logs.
    pub fn explanation(&self) -> Result<String, JsValue> {
        Ok(self.steps.explanation()?)
    }

    /// The last need as a plain object: `{kind: "fetchJwks", issuer, url}`,
    /// `{kind: "awaitJwks", issuer}`, `{kind: "loadPolicies", groups}`,
    /// `{kind: "loadRevocations", keys, groups}` (`groups`: the policies asked for next) or
    /// `{kind: "checkSignature", token, algorithm, keyId, jwk, signingInput, signature}`
    /// (`token`, `signingInput` and `signature` are byte arrays).
    /// Throws `no_need` when the last step was a decision.
    pub fn need(&self) -> Result<Object, JsValue> {
        let need = self.steps.need()?;
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
        let now = now_of(now)?;
        let jwks = self
            .inner
            .jwks_fetched(issuer, body, now)
            .map_err(|e| error(e.code(), &e.to_string()))?;
        Ok(jwks.len())
    }

    /// Reports that fetching the JWKS of `issuer` failed.
    #[wasm_bindgen(js_name = jwksFailed)]
    pub fn jwks_failed(&mut self, issuer: usize, now: f64) -> Result<(), JsValue> {
        self.inner.jwks_failed(issuer, now_of(now)?);
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
        let now = now_of(now)?;
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
        let now = now_of(now)?;
        let stored = stored_value(&record);
        self.inner
            .revocation_loaded(key, stored.as_input(), now)
            .map_err(|e| error("invalid_revocation", e.message))
    }

    /// Reports that reading the revocation records `keys` failed.
    #[wasm_bindgen(js_name = revocationsFailed)]
    pub fn revocations_failed(&mut self, keys: Vec<String>, now: f64) -> Result<(), JsValue> {
        self.inner.revocations_failed(&keys, now_of(now)?);
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
        let now = now_of(now)?;
        let revocation = binding::revocation_of(kind, issuer, value, before, now)?;
        Ok(binding::revoke(
            &mut self.inner,
            &revocation,
            expires_at,
            now,
        )?)
    }

    /// Whether revocation records are read from the adapter's store (`loadRevocations`).
    #[wasm_bindgen(getter, js_name = loadsRevocations)]
    pub fn loads_revocations(&self) -> bool {
        self.inner.loads_revocations()
    }

    /// Reports that loading the policies of `groups` failed.
    #[wasm_bindgen(js_name = policiesFailed)]
    pub fn policies_failed(&mut self, groups: Vec<String>, now: f64) -> Result<(), JsValue> {
        self.inner.policies_failed(&groups, now_of(now)?);
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
