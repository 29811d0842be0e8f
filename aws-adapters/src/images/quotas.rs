//! The user's usage counters (`sk` = `usage`) and the quotas that limit them: a photo is
//! counted in the same transaction that records it, with the quotas as that transaction's
//! condition, so they stay exact under concurrent uploads and deletes.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::keys::USAGE_SK;
use async_trait::async_trait;
use domain::UsageStore;

use super::{DynamoImages, Refusal};
use crate::aws_error;
use crate::dynamo::{Item, n, number};
use contract::QuotaSettings;
use domain::error::{Error, Result};
use domain::model::{ImageRecord, Usage, UserName};

impl DynamoImages {
    /// Adds one photo of `size` bytes to the user's counters, on condition that the quotas hold.
    pub(super) fn count_photo(&self, user: &UserName, size: u64, quotas: &QuotaSettings) -> Result<TransactWriteItem> {
        let mut conditions = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(user, USAGE_SK)))
            .update_expression("ADD photos :one, #bytes :size")
            .expression_attribute_names("#bytes", "bytes")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":size", n(size));
        if let Some(max_photos) = quotas.photos_per_user.as_option() {
            conditions.push("(attribute_not_exists(photos) OR photos < :max_photos)");
            update = update.expression_attribute_values(":max_photos", n(max_photos));
        }
        if let Some(max_bytes) = quotas.bytes_per_user.as_option() {
            let room = max_bytes.checked_sub(size).ok_or_else(|| {
                Error::QuotaExceeded(format!("this photo ({size} bytes) is larger than the storage quota ({max_bytes} bytes)"))
            })?;
            conditions.push("(attribute_not_exists(#bytes) OR #bytes <= :room)");
            update = update.expression_attribute_values(":room", n(room));
        }
        if !conditions.is_empty() {
            update = update.condition_expression(conditions.join(" AND "));
        }
        let update = update.build().map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    pub(super) fn uncount_photo(&self, user: &UserName, size: u64) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(user, USAGE_SK)))
            .update_expression("ADD photos :minus_one, #bytes :minus_size")
            .expression_attribute_names("#bytes", "bytes")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":minus_size", aws_sdk_dynamodb::types::AttributeValue::N(format!("-{size}")))
            .build()
            .map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Writes a record and counts its photo in one transaction, refused with `QuotaExceeded`
    /// when the quotas would be passed, or with `conflict` when the record's condition fails.
    pub(super) async fn put_counted(
        &self,
        put: TransactWriteItem,
        record: &ImageRecord,
        quotas: &QuotaSettings,
        conflict: Error,
    ) -> Result<()> {
        let items = vec![put, self.count_photo(&record.user_name, record.size, quotas)?];
        match self.transact(items, "TransactWriteItems counted image").await? {
            Ok(()) => Ok(()),
            Err(Refusal { index: 0 }) => Err(conflict),
            Err(Refusal { .. }) => Err(Error::quota_exceeded(quotas)),
        }
    }
}

#[async_trait]
impl UsageStore for DynamoImages {
    async fn usage(&self, user: &UserName) -> Result<Usage> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, USAGE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_error("GetItem usage"))?;
        let count = |item: &Item, name: &str| u64::try_from(number(item, name)).unwrap_or(0);
        Ok(answer.item.map(|item| Usage { photos: count(&item, "photos"), bytes: count(&item, "bytes") }).unwrap_or_default())
    }
}
