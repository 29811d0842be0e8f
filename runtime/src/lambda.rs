//! The API function's Lambda entry point (the analyzer's is in the `analyzer` crate).

use crate::config::StackConfig;
use crate::{api, services};

/// The HTTP API in Lambda. The function's environment sets lambda_http's
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` (the contract's `env::IGNORE_STAGE_IN_PATH`), so that
/// the router sees `/health`, not `/prod/health`.
pub async fn run_api() -> std::result::Result<(), lambda_http::Error> {
    let aws = aws_adapters::sdk::config().await;
    let config = StackConfig::from_env()?;
    let router = api::router(services::connect(config, &aws).await?);
    lambda_http::run(router).await
}
