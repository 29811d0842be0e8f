//! Images in DynamoDB, one partition per user. Each concern has its file: the key schema and
//! item types (`keys`), usage and quotas (`quotas`), albums (`albums`), listing and search
//! planning (`search`), and bulk loading for the benchmark (`bulk`, feature `bulk`). This file
//! holds what they share and the [`ImageStore`] implementation that ties them together.

mod albums;
#[cfg(feature = "bulk")]
pub mod bulk;
pub mod check;
mod collections;
mod keys;
pub mod moving;
mod persons;
mod places;
mod quotas;
mod search;

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use self::keys::{
    ImageItem, ListedImage, SAME_VERSION, entries_of, face_items, face_items_prefix, favourite_sk, items_prefix, label_entries_prefix,
    person_entries_prefix, place_entries_prefix, record_sk, taken_entry, taken_sk, word_entries_prefix,
};
use crate::aws_error;
use crate::dynamo::{self, Item, condition_held, delete_request, from_item, key_of, n, put_request, to_item, value_of};
use contract::QuotaSettings;
use contract::names::SORT_KEY;
use domain::ImageStore;
use domain::error::{Error, Result};
use domain::model::{Analysis, ImageId, ImageRecord, ImageStatus, UserName};
use domain::places::Place;

/// The names of a record's labels.
fn label_names(record: &ImageRecord) -> BTreeSet<&str> {
    record.labels.iter().map(|label| label.name.as_str()).collect()
}

/// Which condition of a transaction failed (its index in the transaction).
struct Refusal {
    index: usize,
}

pub struct DynamoImages {
    client: Client,
    table: String,
}

impl DynamoImages {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn key(&self, user: &UserName, sk: impl Into<String>) -> Item {
        dynamo::key(user.as_str(), sk)
    }

    /// A conditional put within a transaction; `names` and `values` are the condition's.
    fn put(&self, item: Item, condition: &str, names: &[(&str, &str)], values: Item) -> Result<TransactWriteItem> {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item)).condition_expression(condition);
        if !values.is_empty() {
            put = put.set_expression_attribute_values(Some(values));
        }
        for (alias, name) in names {
            put = put.expression_attribute_names(*alias, *name);
        }
        let put = put.build().map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// One item of the user's partition, read consistently.
    async fn get_sk<T: serde::de::DeserializeOwned>(&self, user: &UserName, sk: String, what: &'static str) -> Result<Option<T>> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_error(what))?;
        answer.item.map(from_item::<T>).transpose()
    }

    /// Runs a transaction; a cancelled one says which of its conditions failed.
    async fn transact(&self, items: Vec<TransactWriteItem>, action: &str) -> Result<std::result::Result<(), Refusal>> {
        let answer = self.client.transact_write_items().set_transact_items(Some(items)).send().await;
        match answer {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(service)) => match service.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    let failed = cancelled.cancellation_reasons().iter().position(|reason| reason.code() == Some("ConditionalCheckFailed"));
                    match failed {
                        Some(index) => Ok(Err(Refusal { index })),
                        None => Err(Error::Aws {
                            action: action.to_owned(),
                            message: format!("transaction cancelled: {:?}", cancelled.cancellation_reasons()),
                        }),
                    }
                }
                other => Err(Error::Aws {
                    action: action.to_owned(),
                    message: format!("{}: {}", other.code().unwrap_or("?"), other.message().unwrap_or("")),
                }),
            },
            Err(err) => Err(aws_error(action.to_owned())(err)),
        }
    }

    /// Writes the items that follow from an analysed record: its label, person and word
    /// entries and its face items (with `descriptors`). One Query reads what the photo has;
    /// what an earlier write had and this one has not goes, and what is already there as it
    /// should be is not written again (a redelivery writes nothing).
    async fn write_entries(&self, user: &UserName, record: &ImageRecord, descriptors: &[Vec<f32>]) -> Result<()> {
        let id = record.id;
        let wanted: Vec<Item> = entries_of(record)?.into_iter().chain(face_items(record, descriptors)?).collect();
        let existing = dynamo::partition(&self.client, &self.table, user.as_str(), Some(&items_prefix(id))).await?;
        let derived = [
            label_entries_prefix(id),
            face_items_prefix(id),
            person_entries_prefix(id),
            word_entries_prefix(id),
            place_entries_prefix(id),
            taken_sk(id),
        ];
        let sort_key = |item: &Item| item.get(SORT_KEY).and_then(|sk| sk.as_s().ok()).cloned().unwrap_or_default();
        let mut writes = Vec::new();
        for item in &existing {
            let sk = sort_key(item);
            let stale = derived.iter().any(|prefix| sk.starts_with(prefix)) && !wanted.iter().any(|entry| sort_key(entry) == sk);
            if stale {
                writes.push(delete_request(key_of(item))?);
            }
        }
        for entry in wanted {
            if !existing.contains(&entry) {
                writes.push(put_request(entry)?);
            }
        }
        dynamo::batch_write(&self.client, &self.table, writes).await
    }

    /// The Put of `record` at its new revision, within a transaction, on condition that the
    /// stored record is still at the revision before it.
    fn put_revision(&self, record: &ImageRecord) -> Result<TransactWriteItem> {
        let previous = HashMap::from([(":version".to_owned(), n(record.revision.saturating_sub(1)))]);
        self.put(to_item(ImageItem::of(record))?, SAME_VERSION, &[], previous)
    }

    /// Reads the record and writes it as `change` leaves it, at its next revision, reading
    /// again while other writes come between. The record as stored (unwritten when `change`
    /// says nothing changed), or `None` when the photo is gone.
    async fn revise(
        &self,
        user: &UserName,
        id: ImageId,
        action: &str,
        change: impl Fn(&mut ImageRecord) -> bool,
    ) -> Result<Option<ImageRecord>> {
        loop {
            let Some(mut record) = self.get(user, id).await? else { return Ok(None) };
            if !change(&mut record) {
                return Ok(Some(record));
            }
            record.revision += 1;
            if self.transact(vec![self.put_revision(&record)?], action).await?.is_ok() {
                return Ok(Some(record));
            }
        }
    }

    /// Writes the time entry of an analysed photo that has none (one analysed before the time
    /// partition existed: `smart-album backfill`); false when it has one, is not analysed, or
    /// is gone.
    pub async fn backfill_taken(&self, record: &ImageRecord) -> Result<bool> {
        let Some(entry) = taken_entry(record)?.pop() else { return Ok(false) };
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entry))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if !dynamo::condition_held(put, "PutItem time entry")? {
            return Ok(false);
        }
        // Deleted meanwhile: the entry just written goes too.
        if self.get(&record.user_name, record.id).await?.is_none() {
            domain::ImageStore::delete(self, &record.user_name, record.id).await?;
            return Ok(false);
        }
        Ok(true)
    }

    async fn delete_items(&self, items: &[Item]) -> Result<()> {
        let requests = items.iter().map(|item| delete_request(key_of(item))).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, requests).await
    }
}

#[async_trait]
impl ImageStore for DynamoImages {
    async fn create(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let put = self.put(to_item(ImageItem::of(record))?, "attribute_not_exists(pk)", &[], Item::new())?;
        let conflict = Error::image_exists(&record.id);
        self.put_counted(put, record, quotas, conflict).await
    }

    async fn create_upload(&self, record: &ImageRecord) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(ImageItem::of(record))?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(aws_error("PutItem upload record"))?;
        Ok(())
    }

    async fn complete_upload(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let uploading = HashMap::from([(":uploading".to_owned(), value_of(ImageStatus::Uploading)?)]);
        let put = self.put(to_item(ImageItem::of(record))?, "#status = :uploading", &[("#status", "status")], uploading)?;
        let conflict = Error::upload_not_pending(&record.id);
        self.put_counted(put, record, quotas, conflict).await
    }

    async fn get(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>> {
        self.get_sk::<ImageItem>(user, record_sk(id), "GetItem image").await?.map(ImageItem::into_record).transpose()
    }

    async fn put_analysis(&self, pending: &ImageRecord, analysis: &Analysis) -> Result<bool> {
        let (user, id) = (&pending.user_name, pending.id);
        let descriptors: Vec<Vec<f32>> = analysis.faces.iter().map(|face| face.descriptor.clone()).collect();
        let mut seen = pending.clone();
        loop {
            let record = seen.analysed(analysis);
            // The entries first, so that the photo is ready only once it can be found: were
            // this write to fail, the redelivery would find it still pending and write them again.
            self.write_entries(user, &record, &descriptors).await?;
            // Then the record, once, with the album counts, in one transaction on condition that
            // the record is still the revision read: a redelivery or a racing deletion can
            // neither count an image twice nor lose a count.
            let (before, after) = (label_names(&seen), label_names(&record));
            let mut transaction = vec![self.put_revision(&record)?];
            for added in after.difference(&before) {
                transaction.push(self.count_in_album(user, added, id, 1)?);
            }
            for removed in before.difference(&after) {
                transaction.push(self.count_in_album(user, removed, id, -1)?);
            }
            if seen.place != record.place {
                if let Some(place) = &seen.place {
                    transaction.push(self.count_in_place(user, place, id, -1)?);
                }
                if let Some(place) = &record.place {
                    transaction.push(self.count_in_place(user, place, id, 1)?);
                }
            }
            if self.transact(transaction, "TransactWriteItems analysed image").await?.is_ok() {
                return Ok(true);
            }
            match self.get(user, id).await? {
                // Written meanwhile (another delivery, a colour): the analysis again, on that.
                Some(current) => seen = current,
                // Deleted meanwhile: what was just written goes too.
                None => {
                    self.delete(user, id).await?;
                    return Ok(false);
                }
            }
        }
    }

    async fn set_place(&self, user: &UserName, id: ImageId, place: &Place) -> Result<bool> {
        loop {
            let Some(seen) = self.get(user, id).await? else { return Ok(false) };
            if seen.status != ImageStatus::Ready || seen.place.is_some() {
                return Ok(false);
            }
            let record = ImageRecord { place: Some(place.clone()), revision: seen.revision + 1, ..seen };
            // The record and its place's count at once, on condition that it is still the one
            // read; then its entries, which now carry the place (and its own entries).
            let transaction = vec![self.put_revision(&record)?, self.count_in_place(user, place, id, 1)?];
            if self.transact(transaction, "TransactWriteItems image place").await?.is_ok() {
                let writes = entries_of(&record)?.into_iter().map(put_request).collect::<Result<Vec<_>>>()?;
                dynamo::batch_write(&self.client, &self.table, writes).await?;
                // Deleted meanwhile: the entries just written go too.
                if self.get(user, id).await?.is_none() {
                    self.delete(user, id).await?;
                }
                return Ok(true);
            }
        }
    }

    async fn set_color(&self, user: &UserName, id: ImageId, color: &str) -> Result<bool> {
        let colored = |record: &mut ImageRecord| {
            record.color = Some(color.to_owned());
            true
        };
        let Some(record) = self.revise(user, id, "TransactWriteItems image colour", colored).await? else { return Ok(false) };
        let writes = entries_of(&record)?.into_iter().map(put_request).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, writes).await?;
        Ok(true)
    }

    /// The record and the favourite's entry change in one transaction, on condition that the
    /// record is still the revision read (an analysis rewrites the whole record).
    async fn set_favourite(&self, user: &UserName, id: ImageId, favourite: bool) -> Result<Option<ImageRecord>> {
        loop {
            let Some(mut record) = self.get(user, id).await? else { return Ok(None) };
            if record.status == ImageStatus::Uploading {
                return Ok(None);
            }
            record.favourite = favourite;
            record.revision += 1;
            let entry = if favourite {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_item(ListedImage::favourite(user, id))?))
                    .build()
                    .map_err(|err| Error::Internal(err.to_string()))?;
                TransactWriteItem::builder().put(put).build()
            } else {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(self.key(user, favourite_sk(id))))
                    .build()
                    .map_err(|err| Error::Internal(err.to_string()))?;
                TransactWriteItem::builder().delete(delete).build()
            };
            let transaction = vec![self.put_revision(&record)?, entry];
            if self.transact(transaction, "TransactWriteItems favourite").await?.is_ok() {
                return Ok(Some(record));
            }
        }
    }

    async fn mark_failed(&self, user: &UserName, id: ImageId, reason: &str) -> Result<bool> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, record_sk(id))))
            .update_expression("SET #status = :failed, failure_reason = :reason")
            .condition_expression("attribute_exists(pk) AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":failed", value_of(ImageStatus::Failed)?)
            .expression_attribute_values(":reason", dynamo::s(reason))
            .expression_attribute_values(":pending", value_of(ImageStatus::Pending)?);
        condition_held(request.send().await, "UpdateItem image failed")
    }

    async fn delete(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>> {
        let record_key = record_sk(id);
        let deleted = loop {
            let Some(record) = self.get(user, id).await? else { break None };
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(self.key(user, record_key.clone())))
                .condition_expression(SAME_VERSION)
                .expression_attribute_values(":version", n(record.revision))
                .build()
                .map_err(|err| Error::Internal(err.to_string()))?;
            let mut transaction = vec![TransactWriteItem::builder().delete(delete).build()];
            if record.status != ImageStatus::Uploading {
                transaction.push(self.uncount_photo(user, record.size)?);
            }
            for label in &record.labels {
                transaction.push(self.count_in_album(user, &label.name, id, -1)?);
            }
            if let Some(place) = &record.place {
                transaction.push(self.count_in_place(user, place, id, -1)?);
            }
            match self.transact(transaction, "TransactWriteItems delete image").await? {
                Ok(()) => break Some(record),
                // Changed or deleted meanwhile: read again.
                Err(_) => continue,
            }
        };
        // Its faces leave their persons before its items go.
        self.ungroup(user, id).await?;
        let entries = dynamo::partition(&self.client, &self.table, user.as_str(), Some(&record_key)).await?;
        self.delete_items(&entries).await?;
        if let Some(record) = &deleted {
            self.tidy_albums(user, id, &record.labels).await?;
            if let Some(place) = &record.place {
                self.tidy_place(user, id, place).await?;
            }
        }
        Ok(deleted)
    }

    async fn delete_all(&self, user: &UserName) -> Result<usize> {
        let items = dynamo::partition(&self.client, &self.table, user.as_str(), None).await?;
        self.delete_items(&items).await?;
        Ok(items.len())
    }
}
