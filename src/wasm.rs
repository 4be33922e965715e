//! The WebAssembly surface (feature `wasm`): nothing but translation between JavaScript
//! values and the core's types. The sans-IO loop itself runs in JavaScript (`js/src/`),
//! where fetching, storage and the host's crypto live.
//!
//! `authorize` answers a plain object whose `kind` says what it is:
//! - `{kind: "decided", outcome, reason, status, body, context, explanation?}`
//! - `{kind: "fetchJwks", issuer, url}`, `{kind: "awaitJwks", issuer}`
//! - `{kind: "loadPolicies", groups}`
//! - `{kind: "checkSignature", token, algorithm, jwk, signingInput, signature}`
//!
//! Errors are thrown as JavaScript `Error`s with a stable `code` (`invalid_config`,
//! `invalid_request`, `invalid_policy`, `jwks_not_json`, ...).

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::IpAddr;

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::token::crypto::DeferToHost;
use crate::{Authorizer, ContextValue, Decision, Need, Step, TokenHash};

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

/// An HTTP request as the authorizer sees it, built once and reused by every
/// `authorize` call of the same request (the loop calls it again after each need).
#[wasm_bindgen(js_name = Request)]
pub struct WasmRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    source_ip: Option<IpAddr>,
    secure_transport: Option<bool>,
    method_arn: Option<String>,
    credential: Option<String>,
}

/// Pairs from a flat `[name, value, name, value, ...]` array.
fn pairs(flat: Vec<String>, what: &str) -> Result<Vec<(String, String)>, JsValue> {
    if flat.len() % 2 != 0 {
        return Err(error(
            "invalid_request",
            &alloc::format!("{what} must be [name, value, ...] pairs"),
        ));
    }
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(name), Some(value)) = (items.next(), items.next()) {
        out.push((name, value));
    }
    Ok(out)
}

#[wasm_bindgen(js_class = Request)]
impl WasmRequest {
    /// `headers` and `query` are flat `[name, value, ...]` arrays; `sourceIp` an IPv4 or
    /// IPv6 address (throws `invalid_request` when it is not one).
    #[wasm_bindgen(constructor)]
    pub fn new(
        method: String,
        path: String,
        headers: Vec<String>,
        query: Vec<String>,
        source_ip: Option<String>,
        secure_transport: Option<bool>,
    ) -> Result<WasmRequest, JsValue> {
        let source_ip = match source_ip.as_deref() {
            None | Some("") => None,
            Some(text) => Some(text.parse::<IpAddr>().map_err(|_| {
                error(
                    "invalid_request",
                    &alloc::format!("sourceIp `{text}` is not an IP address"),
                )
            })?),
        };
        Ok(WasmRequest {
            method,
            path,
            headers: pairs(headers, "headers")?,
            query: pairs(query, "query")?,
            source_ip,
            secure_transport,
            method_arn: None,
            credential: None,
        })
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
}

/// The authorizer: one per configuration, kept for the life of the isolate / process.
#[wasm_bindgen(js_name = Authorizer)]
pub struct WasmAuthorizer {
    inner: Authorizer,
    warnings: Vec<String>,
}

#[wasm_bindgen(js_class = Authorizer)]
impl WasmAuthorizer {
    /// Builds the authorizer from a JSON configuration and 8 random bytes that key its
    /// cache hashes. Every signature is handed to the host (`checkSignature`).
    /// Throws `invalid_config` (the message lists every problem) or `invalid_hash_key`.
    #[wasm_bindgen(constructor)]
    pub fn new(config_json: &str, hash_key: &[u8]) -> Result<WasmAuthorizer, JsValue> {
        let key: [u8; 8] = hash_key
            .try_into()
            .map_err(|_| error("invalid_hash_key", "the hash key must be 8 random bytes"))?;
        let (authorizer, warnings) =
            Authorizer::from_json(config_json).map_err(|e| error(e.code(), &e.to_string()))?;
        Ok(WasmAuthorizer {
            inner: authorizer
                .with_verifier(Arc::new(DeferToHost))
                .with_hash_key(key),
            warnings,
        })
    }

    /// The warnings about the bundled policies, for the adapter to log once.
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> Array {
        string_array(self.warnings.iter().map(String::as_str))
    }

    /// Whether policies are loaded by the adapter (`loadPolicies`) rather than bundled.
    #[wasm_bindgen(getter, js_name = loadsPolicies)]
    pub fn loads_policies(&self) -> bool {
        self.inner.loads_policies()
    }

    /// Decides `request` at `now` (seconds since the epoch) or says what it needs first;
    /// with `explain`, a decision carries a one-line `explanation` for logs.
    pub fn authorize(
        &mut self,
        request: &WasmRequest,
        now: f64,
        explain: bool,
    ) -> Result<Object, JsValue> {
        let now = epoch_seconds(now)?;
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let query: Vec<(&str, &str)> = request
            .query
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let core_request = crate::Request {
            method: &request.method,
            path: &request.path,
            method_arn: request.method_arn.as_deref(),
            headers: &headers,
            query: &query,
            source_ip: request.source_ip,
            secure_transport: request.secure_transport,
            credential: request.credential.as_deref(),
        };
        let step = self.inner.authorize(&core_request, now);
        let out = Object::new();
        match step {
            Step::Decided(decision) => self.write_decision(&out, &decision, explain),
            Step::Need(Need::FetchJwks { issuer, url }) => {
                set(&out, "kind", &"fetchJwks".into());
                set(&out, "issuer", &JsValue::from(issuer));
                set(&out, "url", &JsValue::from(url));
            }
            Step::Need(Need::AwaitJwks { issuer }) => {
                set(&out, "kind", &"awaitJwks".into());
                set(&out, "issuer", &JsValue::from(issuer));
            }
            Step::Need(Need::LoadPolicies { groups }) => {
                set(&out, "kind", &"loadPolicies".into());
                set(
                    &out,
                    "groups",
                    &string_array(groups.iter().map(String::as_str)),
                );
            }
            Step::Need(Need::CheckSignature { token, check }) => {
                set(&out, "kind", &"checkSignature".into());
                set(&out, "token", &Uint8Array::from(&token.to_bytes()[..]));
                set(&out, "algorithm", &check.algorithm.name().into());
                set(&out, "jwk", &check.key.jwk_json().into());
                set(&out, "signingInput", &JsValue::from(check.signing_input));
                set(&out, "signature", &Uint8Array::from(&check.signature[..]));
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

    /// Hands over the policy of `group` as JSON text (`null`/`undefined`: no policy) and
    /// returns its warnings. An invalid policy is kept (its group's callers are denied)
    /// and thrown as `invalid_policy` with every error in the message.
    #[wasm_bindgen(js_name = policyLoaded)]
    pub fn policy_loaded(
        &mut self,
        group: &str,
        policy: Option<String>,
        now: f64,
    ) -> Result<Array, JsValue> {
        let now = epoch_seconds(now)?;
        match self.inner.policy_loaded(group, policy.as_deref(), now) {
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
    fn write_decision(&self, out: &Object, decision: &Decision, explain: bool) {
        set(out, "kind", &"decided".into());
        set(out, "outcome", &decision.outcome.as_str().into());
        set(out, "reason", &decision.reason.into());
        match self.inner.response(decision) {
            Some(response) => {
                set(out, "status", &JsValue::from(response.status));
                set(out, "body", &JsValue::from_str(&response.body));
            }
            None => {
                set(out, "status", &JsValue::from(200u16));
                set(out, "body", &JsValue::NULL);
            }
        }
        let context = Object::new();
        for (name, value) in decision.context() {
            let value = match value {
                ContextValue::String(s) => JsValue::from_str(s),
                ContextValue::Number(n) => JsValue::from_f64(*n),
                ContextValue::Bool(b) => JsValue::from_bool(*b),
            };
            set(&context, name, &value);
        }
        set(out, "context", &context);
        if explain {
            set(out, "explanation", &JsValue::from(decision.explain()));
        }
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use alloc::vec;
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

    fn request(headers: &[&str]) -> WasmRequest {
        let headers = headers.iter().map(|s| String::from(*s)).collect();
        WasmRequest::new(
            "GET".into(),
            "/pets".into(),
            headers,
            Vec::new(),
            Some("192.0.2.1".into()),
            Some(true),
        )
        .unwrap()
    }

    #[wasm_bindgen_test]
    fn invalid_configuration_throws_with_code_and_every_problem() {
        let error = WasmAuthorizer::new(r#"{"issuers":[{"issuer":"x"}], "bogus": 1}"#, &[0; 8])
            .err()
            .unwrap();
        assert!(error.is_instance_of::<js_sys::Error>());
        assert_eq!(code_of(&error), "invalid_config");
        let message = js_sys::Error::from(error).message().as_string().unwrap();
        assert!(message.contains("bogus"), "{message}");
    }

    #[wasm_bindgen_test]
    fn hash_key_must_be_eight_bytes() {
        let error = WasmAuthorizer::new(CONFIG, &[0; 7]).err().unwrap();
        assert_eq!(code_of(&error), "invalid_hash_key");
    }

    #[wasm_bindgen_test]
    fn no_token_is_decided_401_with_api_gateway_body() {
        let mut authorizer = WasmAuthorizer::new(CONFIG, &[1; 8]).unwrap();
        let step = authorizer
            .authorize(&request(&[]), 1_767_225_600.0, true)
            .unwrap();
        assert_eq!(get(&step, "kind"), "decided");
        assert_eq!(get(&step, "outcome"), "unauthorized");
        assert_eq!(get(&step, "reason"), "no_credentials");
        assert_eq!(get(&step, "status").as_f64(), Some(401.0));
        assert_eq!(get(&step, "body"), r#"{"message":"Unauthorized"}"#);
        assert!(get(&step, "explanation")
            .as_string()
            .unwrap()
            .starts_with("no_credentials"));
    }

    #[wasm_bindgen_test]
    fn a_well_formed_token_asks_for_the_issuers_jwks_then_fails_closed() {
        let mut authorizer = WasmAuthorizer::new(CONFIG, &[2; 8]).unwrap();
        // {"alg":"RS256","kid":"k1"}.{"iss":"https://issuer.test/","sub":"s","exp":4102444800}.sig
        let token = "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN0LyIsInN1YiI6InMiLCJleHAiOjQxMDI0NDQ4MDB9.c2ln";
        let req = request(&["Authorization", token]);
        let now = 1_767_225_600.0;
        let step = authorizer.authorize(&req, now, false).unwrap();
        assert_eq!(get(&step, "kind"), "fetchJwks");
        assert_eq!(get(&step, "issuer").as_f64(), Some(0.0));
        assert_eq!(get(&step, "url"), "https://issuer.test/jwks.json");
        let not_json = authorizer.jwks_fetched(0, b"<html>", now).err().unwrap();
        assert_eq!(code_of(&not_json), "jwks_not_json");
        authorizer.jwks_failed(0, now).unwrap();
        let step = authorizer.authorize(&req, now, false).unwrap();
        assert_eq!(get(&step, "status").as_f64(), Some(503.0));
        assert_eq!(get(&step, "reason"), "jwks_unavailable");
    }

    #[wasm_bindgen_test]
    fn requests_reject_odd_pairs_and_bad_addresses() {
        let odd = WasmRequest::new(
            "GET".into(),
            "/".into(),
            vec!["a".into()],
            Vec::new(),
            None,
            None,
        )
        .err()
        .unwrap();
        assert_eq!(code_of(&odd), "invalid_request");
        let bad_ip = WasmRequest::new(
            "GET".into(),
            "/".into(),
            Vec::new(),
            Vec::new(),
            Some("999.1.1.1".into()),
            None,
        )
        .err()
        .unwrap();
        assert_eq!(code_of(&bad_ip), "invalid_request");
    }

    #[wasm_bindgen_test]
    fn time_must_be_whole_non_negative_seconds() {
        let mut authorizer = WasmAuthorizer::new(CONFIG, &[3; 8]).unwrap();
        for bad in [-1.0, 1.5, f64::NAN, f64::INFINITY] {
            let error = authorizer
                .authorize(&request(&[]), bad, false)
                .err()
                .unwrap();
            assert_eq!(code_of(&error), "invalid_time");
        }
    }

    #[wasm_bindgen_test]
    fn invalid_policies_throw_and_are_kept_as_invalid() {
        let config = r#"{"issuers":[{"issuer":"https://issuer.test/","jwksUri":"https://issuer.test/jwks.json","audience":null}]}"#;
        let mut authorizer = WasmAuthorizer::new(config, &[4; 8]).unwrap();
        assert!(authorizer.loads_policies());
        let error = authorizer
            .policy_loaded(
                "g",
                Some(r#"{"Statement":[{"Effect":"Maybe"}]}"#.into()),
                0.0,
            )
            .err()
            .unwrap();
        assert_eq!(code_of(&error), "invalid_policy");
        assert!(authorizer.policy_loaded("h", None, 0.0).unwrap().length() == 0);
        authorizer.policies_failed(vec!["x".into()], 0.0).unwrap();
        let handle = authorizer.signature_checked(&[0; 3], true).err().unwrap();
        assert_eq!(code_of(&handle), "invalid_token_handle");
    }
}
