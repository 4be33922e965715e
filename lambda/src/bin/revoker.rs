//! `revoker`: writes user cutoffs to the revocation table when Cognito signs a user out,
//! disables, deletes or removes them from a group (CloudTrail events through EventBridge).
//! Shipped as the `bootstrap` of its own zip (`make lambda-zip`), on provided.al2023.

use std::time::Duration;

use edge_authz_lambda::revoker::{Handled, Revoker, RevokerSettings};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};
use tracing::{error, info, warn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    edge_authz_lambda::runtime::init_logging();
    let settings = RevokerSettings::from_env().inspect_err(|e| {
        error!(event = "init_failed", error = %e);
    })?;
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(3))
                .operation_timeout(Duration::from_secs(8))
                .build(),
        )
        .load()
        .await;
    let revoker = Revoker::new(settings, aws_sdk_dynamodb::Client::new(&conf));
    info!(event = "init_done");
    let revoker = &revoker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(revoker, &event.payload).await
    }))
    .await
}

async fn handle(revoker: &Revoker, event: &Value) -> Result<Value, lambda_runtime::Error> {
    match revoker.handle(event).await {
        Ok(Handled::Written(cutoff)) => {
            info!(
                event = "revoked",
                call = %cutoff.call,
                cloudtrail_event = %cutoff.event_id,
                key = %cutoff.key(),
                record = %cutoff.record()
            );
            Ok(json!({ "written": cutoff.key() }))
        }
        Ok(Handled::Covered(cutoff)) => {
            info!(
                event = "already_revoked",
                call = %cutoff.call,
                cloudtrail_event = %cutoff.event_id,
                key = %cutoff.key()
            );
            Ok(json!({ "covered": cutoff.key() }))
        }
        Ok(Handled::Skipped(skip)) if skip.missed() => {
            error!(event = "revocation_missed", reason = %skip);
            Ok(json!({ "missed": skip.to_string() }))
        }
        Ok(Handled::Skipped(skip)) => {
            info!(event = "skipped", reason = %skip);
            Ok(json!({ "skipped": skip.to_string() }))
        }
        Err(e) => {
            // Lambda retries the asynchronous invocation (twice by default).
            warn!(event = "revocation_write_failed", error = %e);
            Err(e.into())
        }
    }
}
