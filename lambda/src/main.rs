//! `bootstrap`: the native Lambda authorizer (provided.al2023 runtime).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge_authz_lambda::runtime::run().await
}
