//! Who is calling: JWS parsing, JWKS, algorithms, claim rules and the key cache.

pub mod claims;
pub mod crypto;
pub mod error;
pub mod jwks;
mod jws;
pub mod keys;
pub(crate) mod object;
pub mod verifier;

pub use object::Claims;
