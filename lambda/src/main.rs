//! `bootstrap`: the native Lambda authorizer (provided.al2023 runtime).

// The driver's nested futures (tokio main → runtime → handler → `edge_authz::drive` → the
// host's I/O) are deeper than rustc's default layout query depth.
#![recursion_limit = "256"]

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge_authz_lambda::runtime::run().await
}
