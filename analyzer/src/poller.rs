//! `smart-album serve`'s stand-in for Lambda's SQS event-source mapping: long-polls QueueAnalysis,
//! hands each batch to [`Analyzer::handle_batch`], and deletes the messages that succeeded.
//! Failed ones stay, so they come back after the queue's visibility timeout and reach the
//! dead-letter queue after the tier's max receive count, as with the mapping.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;

use super::{Analyzer, Message};
use domain::Result;

/// SQS's longest wait: fewest empty receives.
const LONG_POLL_SECONDS: i32 = 20;
const MAX_BATCH: i32 = 10;
/// Photos analysed at once by `smart-album serve` unless told otherwise: one per core of a small
/// machine, as the models are single-threaded.
pub const DEFAULT_CONCURRENCY: usize = 2;

pub struct Poller {
    pub analyzer: Arc<Analyzer>,
    pub sqs: Client,
    pub queue_url: String,
    /// Messages handled at once (and received per batch, up to 10).
    pub concurrency: usize,
    pub wait_seconds: i32,
}

impl Poller {
    pub fn new(analyzer: Arc<Analyzer>, sqs: Client, queue_url: impl Into<String>, concurrency: usize) -> Self {
        Self { analyzer, sqs, queue_url: queue_url.into(), concurrency: concurrency.max(1), wait_seconds: LONG_POLL_SECONDS }
    }

    /// Receives and handles one batch; how many messages it received.
    pub async fn poll_once(&self) -> Result<usize> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(self.concurrency).unwrap_or(MAX_BATCH).min(MAX_BATCH))
            .wait_time_seconds(self.wait_seconds)
            .send()
            .await
            .map_err(aws_adapters::aws_error("SQS ReceiveMessage"))?;
        let mut messages = Vec::new();
        let mut receipts = HashMap::new();
        for message in received.messages.unwrap_or_default() {
            let (Some(id), Some(receipt)) = (message.message_id, message.receipt_handle) else { continue };
            receipts.insert(id.clone(), receipt);
            messages.push(Message { id, body: message.body.unwrap_or_default() });
        }
        let count = messages.len();
        let failed = self.analyzer.handle_batch(messages, self.concurrency).await;
        let done: Vec<DeleteMessageBatchRequestEntry> = receipts
            .into_iter()
            .filter(|(id, _)| !failed.contains(id))
            .enumerate()
            .filter_map(|(index, (_, receipt))| {
                DeleteMessageBatchRequestEntry::builder().id(index.to_string()).receipt_handle(receipt).build().ok()
            })
            .collect();
        if !done.is_empty() {
            self.sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(done))
                .send()
                .await
                .map_err(aws_adapters::aws_error("SQS DeleteMessageBatch"))?;
        }
        Ok(count)
    }

    /// Polls until `shutdown` completes; errors are logged and retried after a pause.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                polled = self.poll_once() => {
                    if let Err(error) = polled {
                        tracing::error!(%error, "polling the analysis queue");
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                }
            }
        }
    }
}
