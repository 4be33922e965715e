//! The Lambda entry point: logging, configuration, the runtime loop.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use tracing::{error, info};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .finish()
        .with(log_filter(level))
        .init();
}

/// `level` for every target but `lambda_runtime`'s, at most `debug`: at `trace` it logs
/// each raw event, the `Authorization` header (the token) included.
fn log_filter(level: tracing::Level) -> Targets {
    let level = LevelFilter::from_level(level);
    Targets::new()
        .with_default(level)
        .with_target("lambda_runtime", level.min(LevelFilter::DEBUG))
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

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn the_runtime_is_never_traced() {
        let trace = log_filter(Level::TRACE);
        // Where lambda_runtime logs each raw event (the token with it) at `trace`.
        let raw_event = "lambda_runtime::layers::api_response";
        assert!(!trace.would_enable(raw_event, &Level::TRACE));
        assert!(trace.would_enable(raw_event, &Level::DEBUG));
        assert!(trace.would_enable("edge_authz_lambda::handler", &Level::TRACE));
        let info = log_filter(Level::INFO);
        assert!(!info.would_enable(raw_event, &Level::DEBUG));
        assert!(info.would_enable(raw_event, &Level::INFO));
        assert!(!info.would_enable("hyper_util::client", &Level::DEBUG));
    }
}
