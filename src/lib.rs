//! # edge-authz
//!
//! The core of an authorizer for APIs at the edge: it verifies OpenID Connect / Amazon
//! Cognito JWTs against their issuer's JWKS, evaluates the IAM-style policies of the
//! caller's groups with IAM semantics, and decides.
//!
//! The core is `no_std` + `alloc` and sans-IO: it never reads a clock, a socket or a
//! random source. Keys, policies, the request and `now` are handed in; when something is
//! missing the pipeline answers with a [`Need`] that the adapter (Lambda, Worker, Node,
//! Lambda@Edge) fulfils before calling again:
//!
//! ```text
//! loop {
//!     match authorizer.authorize(&request, now) {
//!         Step::Decided(decision) => break decision,
//!         Step::Need(Need::FetchJwks { issuer, url }) => { /* GET url */ authorizer.jwks_fetched(issuer, &body, now)?; }
//!         Step::Need(Need::AwaitJwks { .. }) => { /* wait for the fetch in flight */ }
//!         Step::Need(Need::LoadPolicies { groups }) => { /* read the store */ authorizer.policy_loaded(&group, doc, now)?; }
//!         Step::Need(Need::LoadRevocations { keys, .. }) => { /* read the records */ authorizer.revocation_loaded(&key, record, now)?; }
//!         Step::Need(Need::CheckSignature { token, check }) => { /* host crypto */ authorizer.signature_checked(token, ok); }
//!     }
//! }
//! ```
//!
//! That loop, with its limits ([`Run`]: 16 steps, one JWKS fetch per issuer per request),
//! is written once: [`drive`] runs it over a [`Host`] (the runtime's I/O, clock and lock),
//! and [`Authorizer::render`] turns the [`Decision`] into what every adapter sends.
//!
//! The public surface:
//! - [`Config`] (from JSON with located errors) → [`Authorizer`]; [`Request`] in,
//!   [`Step`] out: a [`Decision`] ([`Outcome`], [`Reason`], [`Identity`], context) or a [`Need`].
//! - [`drive`] / [`Host`] / [`Run`]: the loop; [`Rendered`]: the response; [`Revocation`]:
//!   records that refuse signed-out users' tokens.
//! - [`token`]: [`TokenVerifier`], [`Jwks`], [`SignatureVerifier`] (pluggable crypto),
//!   [`TokenError`] with stable codes.
//! - [`policy`]: [`PolicyDocument`] (parse → validate → compile), [`evaluate`](policy::evaluate).
#![no_std]
#![warn(missing_docs, unreachable_pub)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod api_gateway;
mod authorizer;
mod base64url;
pub mod binding;
mod boundary;
mod cache;
mod config;
mod credentials;
mod decision;
mod driver;
mod json;
mod policies;
pub mod policy;
mod reason;
mod request;
mod request_path;
mod revocation;
mod sort;
pub mod token;
#[cfg(feature = "wasm")]
mod wasm;

/// How the core's own hash maps and sets hash: hashbrown's default (foldhash with a global
/// seed drawn from addresses) natively. On wasm32-unknown-unknown those addresses are the
/// same in every instance, so that seed is a constant anyway: a fixed one there hashes as
/// well and leaves out the ~1 KB of wasm that computes and stores it.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
type HashState = hashbrown::DefaultHashBuilder;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
type HashState = foldhash::fast::FixedState;
type HashMap<K, V> = hashbrown::HashMap<K, V, HashState>;
type HashSet<T> = hashbrown::HashSet<T, HashState>;

pub use api_gateway::{ApiGatewayAnswer, ApiGatewayCache, ApiGatewayFormat, IdentitySource};
pub use authorizer::{Authorizer, Need, Step};
pub use cache::TokenHash;
pub use config::{
    CacheConfig, Config, ConfigError, ConfigErrors, LoadedConfig, PolicyConfig, PolicySource,
    Response, Responses,
};
pub use credentials::{CredentialError, CredentialSource};
pub use decision::{ContextValue, Decision, Outcome, Rendered};
pub use driver::{
    drive, drive_blocking, fetch_jwks, Event, Host, PolicyInput, RevocationsLoaded, Run, RunError,
    StoredPolicy, MAX_STEPS,
};
pub use policy::{PolicyDocument, PolicyErrors};
pub use reason::Reason;
pub use request::{ApiIdentity, Request};
pub use request_path::{
    canonical_path, check_method, split_method_arn, CanonicalPath, DotSegments, EscapedSlashes,
    PathError, PathMatching, PathRules,
};
pub use revocation::{
    RecordError, Revocation, RevocationConfig, RevocationSource, RevokeError, WhenUnavailable,
    RECORD_LIFETIME,
};
pub use token::claims::{Identity, Issuer, IssuerKind, TokenUse};
pub use token::crypto::{Algorithm, AlgorithmSet, PublicKey, SignatureVerdict, SignatureVerifier};
pub use token::error::TokenError;
pub use token::jwks::Jwks;
pub use token::verifier::{SignatureCheck, TokenVerifier, VerifiedToken};

/// The README's Rust snippets, compiled (and run unless `no_run`) as doctests: they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeSnippets;
