//! Items DynamoDB reads for the store: Count + ScannedCount of every Query, the items of every
//! BatchGetItem and GetItem, as the responses report them. What a request costs as a tenant
//! grows, whatever the emulator's speed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_adapters::DynamoImages;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_smithy_runtime_api::box_error::BoxError;

#[derive(Debug, Default)]
pub struct ItemReads {
    items: AtomicU64,
    requests: AtomicU64,
}

impl ItemReads {
    /// Items read and read requests since the last take.
    pub fn take(&self) -> (u64, u64) {
        (self.items.swap(0, Ordering::SeqCst), self.requests.swap(0, Ordering::SeqCst))
    }
}

#[derive(Debug)]
struct CountReads(Arc<ItemReads>);

impl Intercept for CountReads {
    fn name(&self) -> &'static str {
        "CountReads"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let read = if let Some(query) = output.downcast_ref::<QueryOutput>() {
            u64::try_from(query.count).unwrap_or(0) + u64::try_from(query.scanned_count).unwrap_or(0)
        } else if let Some(batch) = output.downcast_ref::<BatchGetItemOutput>() {
            batch.responses.iter().flat_map(|tables| tables.values()).map(|items| items.len() as u64).sum()
        } else if let Some(get) = output.downcast_ref::<GetItemOutput>() {
            u64::from(get.item.is_some())
        } else {
            return Ok(());
        };
        self.0.items.fetch_add(read, Ordering::SeqCst);
        self.0.requests.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// The images store of `table` on a client that counts what it reads.
pub fn counted_images(aws: &aws_config::SdkConfig, table: &str) -> (DynamoImages, Arc<ItemReads>) {
    let reads = Arc::new(ItemReads::default());
    let counted = aws_sdk_dynamodb::config::Builder::from(aws).interceptor(CountReads(reads.clone())).build();
    (DynamoImages::new(Client::from_conf(counted), table), reads)
}
