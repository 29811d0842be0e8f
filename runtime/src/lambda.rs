//! The two Lambda entry points, as the functions' `bootstrap`s run them: the API behind the
//! REST API proxy, and the analyzer on SQS batches with partial batch failures.

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

/// The analyzer in Lambda: every message of a batch is handled; only those to retry are
/// reported in `batchItemFailures`, so SQS deletes the others.
#[cfg(feature = "analyzer")]
pub async fn run_analyzer() -> std::result::Result<(), lambda_runtime::Error> {
    use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
    use lambda_runtime::{LambdaEvent, service_fn};

    use std::sync::Arc;

    use crate::analyzer::Message;

    let aws = services::aws_config().await;
    let config = StackConfig::from_env()?;
    let labeler = services::labeler(config.settings.labeler.engine, &aws)?;
    let analyzer = Arc::new(services::analyzer(&config, &aws, labeler));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let analyzer = Arc::clone(&analyzer);
        async move {
            let messages = event
                .payload
                .records
                .into_iter()
                .filter_map(|record| Some(Message { id: record.message_id?, body: record.body.unwrap_or_default() }))
                .collect();
            let failed = analyzer.handle_batch(messages, crate::analyzer::poller::DEFAULT_CONCURRENCY).await;
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = failed
                .into_iter()
                .map(|id| {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = id;
                    failure
                })
                .collect();
            Ok::<_, lambda_runtime::Error>(response)
        }
    }))
    .await
}

/// Logs to stderr (CloudWatch in Lambda), at `info` unless `RUST_LOG` says otherwise.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

