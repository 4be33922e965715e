//! # edge-authz-lambda
//!
//! The edge-authz core as a native AWS Lambda authorizer for API Gateway: REST `TOKEN` and
//! `REQUEST` authorizers and HTTP API authorizers (payload 1.0, and 2.0 with the simple or
//! the IAM-policy response). Policies come from the seed's DynamoDB table or a bundled
//! file; JWKS are fetched over HTTPS (rustls) or bundled; signatures are verified with
//! aws-lc-rs. Configuration is read from environment variables (see `lambda/README.md`).
//!
//! The binary (`bootstrap`) is [`runtime::run`]; the logic lives in the core, driven by
//! [`handler::Handler::handle`], which takes the clock as a parameter. The second binary,
//! `revoker`, writes revocation records for Cognito's sign-out, disable, delete and group
//! removal calls ([`revoker`]).
//!
//! Each decision is also a line of CloudWatch Embedded Metric Format on stdout ([`metrics`]).
//! A `bootstrap` of one's own adds a claim check with [`runtime::run_with`] and
//! [`Handler::with_claim_check`].

pub mod dynamo;
pub mod event;
pub mod fetch;
pub mod handler;
pub mod metrics;
pub mod revoker;
pub mod runtime;
pub mod settings;

pub use handler::{ClaimCheck, Handled, Handler, Rejection, Tables};
pub use metrics::Metrics;
pub use settings::{Settings, SettingsError};
