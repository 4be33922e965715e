//! The Node.js native backend of the `edge-authz` npm package: the core, with signatures
//! verified by aws-lc-rs (the Lambda's verifier), exposed through N-API with napi-rs.
//!
//! It answers to the same contract as the wasm backend (`src/wasm.rs`): the same `Authorizer`
//! and `Request` classes, methods and packed step codes ([`edge_authz::binding`]), so that
//! `js/src/authorizer.js` and every adapter above it run on either. The one difference: the
//! signature is always checked here, inside `authorize`, so the step is never
//! `checkSignature` and the host's `verifier` argument is not used.
//!
//! Loaded by `js/src/backend.js` from the platform package (`@edge-authz/linux-x64-gnu`,
//! ...), which falls back to the wasm when no native binary loads.
#![deny(unsafe_code)]

use std::sync::Arc;

use edge_authz::binding::{self, epoch_seconds, key_id, BindingError, FlatRequest, Stepper};
use edge_authz::token::crypto::AwsLcVerifier;
use edge_authz::{Authorizer, Need, StoredPolicy, TokenHash};
use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;

/// The addon's version, which the loader (`js/src/backend.js`) requires to be the package's:
/// a platform package of another release, or a stale binary inside one, is not loaded.
#[napi]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A JavaScript `Error` whose `code` is the boundary's stable code.
fn thrown(e: BindingError) -> napi::Error<String> {
    napi::Error::new(e.code.to_string(), e.message.into_owned())
}

fn thrown_with(code: &str, message: String) -> napi::Error<String> {
    napi::Error::new(code.to_string(), message)
}

type Result<T> = std::result::Result<T, napi::Error<String>>;

fn now_of(now: f64) -> Result<u64> {
    epoch_seconds(now).map_err(thrown)
}

/// A stored policy or record as the JavaScript layer hands it over (`js/src/backend.js`
/// turns a JSON value into its text first): text, none, or `unreadable` (the reason a value
/// had no JSON text), which keeps the group invalid and is never "none".
fn stored_value(text: Option<String>, unreadable: Option<String>) -> StoredPolicy {
    match (unreadable, text) {
        (Some(reason), _) => StoredPolicy::Invalid(reason),
        (None, Some(text)) => StoredPolicy::Text(text),
        (None, None) => StoredPolicy::Absent,
    }
}

/// An HTTP request as the authorizer sees it; one object serves many requests (`set`
/// overwrites it).
#[napi(js_name = "Request")]
pub struct NativeRequest {
    inner: FlatRequest,
}

impl Default for NativeRequest {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl NativeRequest {
    /// An empty request (`GET /`, no headers); fill it with `set`.
    #[napi(constructor)]
    pub fn new() -> Self {
        NativeRequest {
            inner: FlatRequest::new(),
        }
    }

    /// Overwrites the request: `pairs` is the UTF-8 text `name\0value\0...` of
    /// `headerCount` header pairs then `queryCount` query pairs; `sourceIp` an address or
    /// `""`. Throws `invalid_request` when the counts do not match the text, the text is not
    /// UTF-8, or the address is not one.
    #[napi]
    #[allow(clippy::too_many_arguments)]
    pub fn set(
        &mut self,
        method: String,
        path: String,
        pairs: &[u8],
        header_count: u32,
        query_count: u32,
        source_ip: String,
        secure_transport: Option<bool>,
    ) -> Result<()> {
        self.inner
            .set(
                &method,
                &path,
                pairs,
                header_count,
                query_count,
                &source_ip,
                secure_transport,
            )
            .map_err(thrown)
    }

    /// The full execute-api ARN when the runtime supplies one (API Gateway).
    #[napi(setter, js_name = "methodArn")]
    pub fn set_method_arn(&mut self, arn: Option<String>) {
        self.inner.set_method_arn(arn);
    }

    /// The bare credential when the runtime hands it over on its own.
    #[napi(setter, js_name = "credential")]
    pub fn set_credential(&mut self, credential: Option<String>) {
        self.inner.set_credential(credential);
    }

    /// The router's path matching as bit flags (see `src/wasm.rs`); `set` resets it.
    #[napi(setter, js_name = "matching")]
    pub fn set_matching(&mut self, flags: Option<u32>) {
        // Flags past the three known bits are not a matching this core knows: ignoring them
        // would widen nothing (each bit only relaxes matching), but they are refused by the
        // JS layer before they get here.
        self.inner.set_matching(flags.map(|f| (f & 0xff) as u8));
    }

    /// Nothing to free early: the object is reclaimed by the garbage collector (the wasm
    /// backend's `free`, kept so that either backend runs the same JavaScript).
    #[napi]
    pub fn free(&self) {}
}

/// A need of the last step, as a plain object (the wasm backend's `need()` shape).
#[napi(object)]
pub struct NeedObject {
    /// `fetchJwks`, `awaitJwks`, `loadPolicies` or `loadRevocations`.
    pub kind: String,
    /// The issuer's index (`fetchJwks`, `awaitJwks`).
    pub issuer: Option<u32>,
    /// The JWKS URL (`fetchJwks`).
    pub url: Option<String>,
    /// The groups whose policies are asked for (`loadPolicies`, `loadRevocations`).
    pub groups: Option<Vec<String>>,
    /// The revocation record keys (`loadRevocations`).
    pub keys: Option<Vec<String>>,
    /// `checkSignature` only (never asked by this backend): the token handle.
    pub token: Option<Uint8Array>,
    /// `checkSignature` only: the JWS algorithm.
    pub algorithm: Option<String>,
    /// `checkSignature` only: the key's stable id.
    pub key_id: Option<f64>,
    /// `checkSignature` only: the public JWK, JSON text.
    pub jwk: Option<String>,
    /// `checkSignature` only: the signing input.
    pub signing_input: Option<Uint8Array>,
    /// `checkSignature` only: the signature.
    pub signature: Option<Uint8Array>,
}

impl NeedObject {
    fn of(kind: &str) -> Self {
        NeedObject {
            kind: kind.to_string(),
            issuer: None,
            url: None,
            groups: None,
            keys: None,
            token: None,
            algorithm: None,
            key_id: None,
            jwk: None,
            signing_input: None,
            signature: None,
        }
    }
}

/// The authorizer: one per configuration, kept for the life of the process.
#[napi(js_name = "Authorizer")]
pub struct NativeAuthorizer {
    inner: Authorizer,
    warnings: Vec<String>,
    seed: u64,
    steps: Stepper,
}

#[napi]
impl NativeAuthorizer {
    /// Builds the authorizer from a JSON configuration and 8 random bytes that key its
    /// cache hashes. Signatures are verified here (aws-lc-rs): there is no host verifier
    /// to pass. Throws `invalid_config` (every problem in the message) or
    /// `invalid_hash_key`.
    #[napi(constructor)]
    pub fn new(config_json: String, hash_key: Uint8Array) -> Result<Self> {
        let key: [u8; 8] = hash_key.as_ref().try_into().map_err(|_| {
            thrown_with(
                "invalid_hash_key",
                "the hash key must be 8 random bytes".into(),
            )
        })?;
        let (authorizer, warnings) = Authorizer::from_json(&config_json)
            .map_err(|e| thrown_with(e.code(), e.to_string()))?;
        let authorizer = authorizer
            .with_verifier(Arc::new(AwsLcVerifier::new()))
            .with_hash_key(key);
        Ok(NativeAuthorizer {
            inner: authorizer,
            warnings,
            seed: u64::from_le_bytes(key),
            steps: Stepper::new(),
        })
    }

    /// The warnings about the bundled policies, for the adapter to log once.
    #[napi(getter)]
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    /// Each configured issuer's JWKS URL, by issuer index.
    #[napi(getter, js_name = "jwksUris")]
    pub fn jwks_uris(&self) -> Vec<String> {
        self.inner
            .config()
            .issuers
            .iter()
            .map(|i| i.jwks_uri.clone())
            .collect()
    }

    /// `{"outcome", "reason", "status", "body"}` (JSON text) for the reason at `reason` in
    /// `REASON_CODES`; throws `unknown_reason` past them.
    #[napi(js_name = "responseFor")]
    pub fn response_for(&self, reason: u32) -> Result<String> {
        binding::response_json(&self.inner, reason as usize).map_err(thrown)
    }

    /// Whether policies are loaded by the adapter (`loadPolicies`) rather than bundled.
    #[napi(getter, js_name = "loadsPolicies")]
    pub fn loads_policies(&self) -> bool {
        self.inner.loads_policies()
    }

    /// Whether revocation records are read from the adapter's store (`loadRevocations`).
    #[napi(getter, js_name = "loadsRevocations")]
    pub fn loads_revocations(&self) -> bool {
        self.inner.loads_revocations()
    }

    /// Decides `request` at `now` or says what it needs first, as one packed number (see
    /// `edge_authz::binding::Stepper::authorize`).
    #[napi]
    pub fn authorize(&mut self, request: &mut NativeRequest, now: f64) -> Result<f64> {
        let now = now_of(now)?;
        self.steps
            .authorize(&mut self.inner, &mut request.inner, now)
            .map_err(thrown)
    }

    /// The last decision's verdict, `{"outcome", "reason", "status", "body"}` as JSON text.
    #[napi]
    pub fn verdict(&self) -> Result<String> {
        self.steps.verdict(&self.inner).map_err(thrown)
    }

    /// The last decision's context as a JSON object text.
    #[napi]
    pub fn context(&self) -> Result<String> {
        self.steps.context().map_err(thrown)
    }

    /// The canonical path of the last decision when it was rewritten.
    #[napi]
    pub fn path(&self) -> Result<Option<String>> {
        Ok(self.steps.path().map_err(thrown)?.map(String::from))
    }

    /// A one-line explanation of the last decision, for logs.
    #[napi]
    pub fn explanation(&self) -> Result<String> {
        self.steps.explanation().map_err(thrown)
    }

    /// The last need as a plain object (the wasm backend's shapes).
    #[napi]
    pub fn need(&self) -> Result<NeedObject> {
        Ok(match self.steps.need().map_err(thrown)? {
            Need::FetchJwks { issuer, url } => NeedObject {
                issuer: Some(*issuer as u32),
                url: Some(url.clone()),
                ..NeedObject::of("fetchJwks")
            },
            Need::AwaitJwks { issuer } => NeedObject {
                issuer: Some(*issuer as u32),
                ..NeedObject::of("awaitJwks")
            },
            Need::LoadPolicies { groups } => NeedObject {
                groups: Some(groups.clone()),
                ..NeedObject::of("loadPolicies")
            },
            Need::LoadRevocations { keys, groups } => NeedObject {
                keys: Some(keys.clone()),
                groups: Some(groups.clone()),
                ..NeedObject::of("loadRevocations")
            },
            // Not asked with the aws-lc verifier; described all the same.
            Need::CheckSignature { token, check } => NeedObject {
                token: Some(Uint8Array::from(token.to_bytes().to_vec())),
                algorithm: Some(check.algorithm.name().to_string()),
                key_id: Some(key_id(self.seed, &check.key)),
                jwk: Some(check.key.jwk_json().to_string()),
                signing_input: Some(Uint8Array::from(check.signing_input.as_bytes().to_vec())),
                signature: Some(Uint8Array::from(check.signature.to_vec())),
                ..NeedObject::of("checkSignature")
            },
        })
    }

    /// Hands over the body fetched for `fetchJwks`; the number of keys. Throws
    /// `jwks_not_json`, `jwks_not_a_jwk_set`, `jwks_too_large` (the fetch then counts as
    /// failed).
    #[napi(js_name = "jwksFetched")]
    pub fn jwks_fetched(&mut self, issuer: u32, body: &[u8], now: f64) -> Result<u32> {
        let now = now_of(now)?;
        let jwks = self
            .inner
            .jwks_fetched(issuer as usize, body, now)
            .map_err(|e| thrown_with(e.code(), e.to_string()))?;
        Ok(jwks.len() as u32)
    }

    /// Reports that fetching the JWKS of `issuer` failed.
    #[napi(js_name = "jwksFailed")]
    pub fn jwks_failed(&mut self, issuer: u32, now: f64) -> Result<()> {
        self.inner.jwks_failed(issuer as usize, now_of(now)?);
        Ok(())
    }

    /// Hands over the policy of `group` as JSON text (`null`: none; `unreadable`: why the
    /// store's value had no JSON text) and returns its warnings. An invalid policy is kept
    /// (its group's callers are denied) and thrown as `invalid_policy`.
    #[napi(js_name = "policyLoaded")]
    pub fn policy_loaded(
        &mut self,
        group: String,
        policy: Option<String>,
        now: f64,
        unreadable: Option<String>,
    ) -> Result<Vec<String>> {
        let now = now_of(now)?;
        let stored = stored_value(policy, unreadable);
        match self.inner.policy_loaded(&group, stored.as_input(), now) {
            Ok(warnings) => Ok(warnings.iter().map(ToString::to_string).collect()),
            Err(errors) => Err(thrown_with(
                "invalid_policy",
                format!("policy of group `{group}`: {errors}"),
            )),
        }
    }

    /// Hands over the revocation record under `key` as JSON text (`null`: none). A record
    /// that cannot be read is kept as revoking and thrown as `invalid_revocation`.
    #[napi(js_name = "revocationLoaded")]
    pub fn revocation_loaded(
        &mut self,
        key: String,
        record: Option<String>,
        now: f64,
        unreadable: Option<String>,
    ) -> Result<()> {
        let now = now_of(now)?;
        let stored = stored_value(record, unreadable);
        self.inner
            .revocation_loaded(&key, stored.as_input(), now)
            .map_err(|e| thrown_with("invalid_revocation", e.message.to_string()))
    }

    /// Reports that reading the revocation records `keys` failed.
    #[napi(js_name = "revocationsFailed")]
    pub fn revocations_failed(&mut self, keys: Vec<String>, now: f64) -> Result<()> {
        self.inner.revocations_failed(&keys, now_of(now)?);
        Ok(())
    }

    /// Revokes in this process at once (see the wasm backend's `revoke`); the record's key.
    #[napi]
    pub fn revoke(
        &mut self,
        kind: String,
        issuer: String,
        value: String,
        before: Option<f64>,
        expires_at: Option<f64>,
        now: f64,
    ) -> Result<String> {
        let now = now_of(now)?;
        let revocation =
            binding::revocation_of(&kind, issuer, value, before, now).map_err(thrown)?;
        binding::revoke(&mut self.inner, &revocation, expires_at, now).map_err(thrown)
    }

    /// Reports that loading the policies of `groups` failed.
    #[napi(js_name = "policiesFailed")]
    pub fn policies_failed(&mut self, groups: Vec<String>, now: f64) -> Result<()> {
        self.inner.policies_failed(&groups, now_of(now)?);
        Ok(())
    }

    /// Reports a host's verdict on a `checkSignature` (never asked by this backend).
    #[napi(js_name = "signatureChecked")]
    pub fn signature_checked(&mut self, token: Uint8Array, valid: bool) -> Result<()> {
        let bytes: [u8; 16] = token.as_ref().try_into().map_err(|_| {
            thrown_with(
                "invalid_token_handle",
                "token must be the 16 bytes from checkSignature".into(),
            )
        })?;
        self.inner
            .signature_checked(TokenHash::from_bytes(bytes), valid);
        Ok(())
    }
}
