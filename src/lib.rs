//! # edge-authz
//!
//! The core of an authorizer for APIs at the edge (being assembled: token layer and policy engine).
#![no_std]
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

mod json;
pub mod policy;
pub mod token;
