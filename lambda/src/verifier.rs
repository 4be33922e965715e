//! The Lambda's signature backend: the core's native aws-lc-rs verifier (feature `aws-lc`
//! of `edge-authz`), tested there against the Wycheproof vectors like every backend.

pub use edge_authz::token::crypto::AwsLcVerifier;
