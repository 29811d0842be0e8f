//! The analyzer function's Lambda entry point: SQS batches, with partial batch failures.

use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use contract::StackConfig;
use lambda_runtime::{LambdaEvent, service_fn};

use crate::{Message, services};

/// The analyzer in Lambda: every message of a batch is handled; only those to retry are
/// reported in `batchItemFailures`, so SQS deletes the others.
pub async fn run_analyzer() -> std::result::Result<(), lambda_runtime::Error> {
    let aws = aws_adapters::sdk::config().await;
    let config = StackConfig::from_env()?;
    let engines = services::engines(&config, config.settings.labeler.engine, &aws)?;
    let analyzer = Arc::new(services::analyzer(&config, &aws, engines)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let analyzer = Arc::clone(&analyzer);
        async move {
            let messages = event
                .payload
                .records
                .into_iter()
                .filter_map(|record| Some(Message { id: record.message_id?, body: record.body.unwrap_or_default() }))
                .collect();
            let failed = analyzer.handle_batch(messages, crate::poller::DEFAULT_CONCURRENCY).await;
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
