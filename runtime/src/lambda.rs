//! The API function's Lambda entry point (the analyzer's is in the `analyzer` crate), and the
//! logging both set up.

use crate::config::StackConfig;
use crate::{api, services};

/// The HTTP API in Lambda. The function's environment sets lambda_http's
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` (the contract's `env::IGNORE_STAGE_IN_PATH`), so that
/// the router sees `/health`, not `/prod/health`.
pub async fn run_api() -> std::result::Result<(), lambda_http::Error> {
    let aws = services::aws_config().await;
    let config = StackConfig::from_env()?;
    let router = api::router(services::connect(config, &aws).await?);
    lambda_http::run(router).await
}

/// Logs to stderr (CloudWatch in Lambda), at `info` unless `RUST_LOG` says otherwise.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // memory-serve lists every gallery file it serves at start.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,memory_serve=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

