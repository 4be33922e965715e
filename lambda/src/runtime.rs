//! The Lambda entry point: logging, configuration, the runtime loop.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use tracing::{error, info};

use crate::handler::Handler;
use crate::settings::Settings;

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// JSON logs on stdout (CloudWatch), level from `LOG_LEVEL` (default `info`).
pub fn init_logging() {
    let level = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .init();
}

/// Reads the configuration, builds the handler and serves invocations until the runtime
/// stops. A configuration problem fails the init with every problem in one message.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    run_with(|handler| handler).await
}

/// [`run`] with the handler passed through `customize` once it is built: the entry of a
/// `bootstrap` of one's own, e.g. with [`Handler::with_claim_check`].
pub async fn run_with(
    customize: impl FnOnce(Handler) -> Handler,
) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(problems) => {
            error!(event = "init_failed", error = %problems);
            return Err(problems.into());
        }
    };
    let handler = match Handler::from_settings(settings, now()).await {
        Ok(handler) => Arc::new(customize(handler)),
        Err(e) => {
            error!(event = "init_failed", error = %e);
            return Err(e.into());
        }
    };
    info!(event = "init_done");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move { handler.handle(event.payload, now()).await.result }
    }))
    .await
}
