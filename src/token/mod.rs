//! Who is calling: JWS parsing, JWKS, algorithms, claim rules and the key cache.

pub mod claims;
pub mod crypto;
pub mod error;
#[allow(dead_code)] // used by the verifier, next
mod jws;
pub mod jwks;
