//! Images in DynamoDB, one partition per user (`pk` = user name):
//! - `sk` = `image#<id>`: the record; listed through index `entries` under `<user>#image`
//!   (uploading records have no `entry_pk`, so the sparse index leaves them out);
//! - `sk` = `image#<id>#label#<label>`: one entry per label, found through index `entries`
//!   under `<user>#label#<label>`, carrying the image's whole label set for AND searches;
//! - `sk` = `usage`: the user's photo and byte counters, changed in the same transaction as
//!   the records they count, with the quota as the transaction's condition.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, DeleteRequest, KeysAndAttributes, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use serde::{Deserialize, Serialize};

use super::{
    Album, ImageId, ImageRecord, ImageStatus, ImageStore, Label, LabelHit, Page, UserName, Usage, parse_rfc3339, rfc3339,
};
use crate::labeler::MAX_STORED_LABELS;
use crate::config::QuotaSettings;
use crate::error::{Error, Result};

const ENTRIES_INDEX: &str = "entries";
const USAGE: &str = "usage";
const ALBUM_PREFIX: &str = "album#";
/// BatchWriteItem's limit.
const BATCH: usize = 25;
/// Uploading records expire (DynamoDB TTL) when their upload was abandoned.
const UPLOAD_RECORD_LIFETIME: time::Duration = time::Duration::hours(24);

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn record_sk(id: ImageId) -> String {
    format!("image#{id}")
}

fn label_sk(id: ImageId, label: &str) -> String {
    format!("image#{id}#label#{label}")
}

fn album_sk(label: &str) -> String {
    format!("{ALBUM_PREFIX}{label}")
}

/// The condition that the record is still the version that was read.
const SAME_VERSION: &str =
    "attribute_exists(pk) AND (attribute_not_exists(analysis_version) OR analysis_version = :version)";

fn images_entry(user: &UserName) -> String {
    format!("{user}#image")
}

fn label_entry(user: &UserName, label: &str) -> String {
    format!("{user}#label#{label}")
}

#[derive(Debug, Serialize, Deserialize)]
struct ImageItem {
    pk: String,
    sk: String,
    image_id: String,
    status: ImageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    content_type: String,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    taken_at: Option<String>,
    created_at: String,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry_pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entry_sk: Option<String>,
    /// Epoch seconds; DynamoDB's TTL removes abandoned upload records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
    /// Bumped by every write of labels: the condition that keeps album counts exact when an
    /// analysis and a deletion (or two deliveries) race.
    #[serde(default)]
    analysis_version: u64,
}

impl ImageItem {
    fn of(record: &ImageRecord, analysis_version: u64) -> Self {
        let listed = record.status != ImageStatus::Uploading;
        Self {
            pk: record.user_name.to_string(),
            sk: record_sk(record.id),
            image_id: record.id.to_string(),
            status: record.status,
            failure_reason: record.failure_reason.clone(),
            content_type: record.content_type.clone(),
            size: record.size,
            width: record.width,
            height: record.height,
            taken_at: record.taken_at.clone(),
            created_at: rfc3339(record.created_at),
            labels: record.labels.clone(),
            entry_pk: listed.then(|| images_entry(&record.user_name)),
            entry_sk: listed.then(|| record.id.to_string()),
            expires_at: (!listed).then(|| (record.created_at + UPLOAD_RECORD_LIFETIME).unix_timestamp()),
            analysis_version,
        }
    }

    fn into_record(self) -> Result<ImageRecord> {
        Ok(ImageRecord {
            user_name: UserName::parse(&self.pk)?,
            id: ImageId::parse(&self.image_id)?,
            status: self.status,
            failure_reason: self.failure_reason,
            content_type: self.content_type,
            size: self.size,
            width: self.width,
            height: self.height,
            taken_at: self.taken_at,
            created_at: parse_rfc3339(&self.created_at)?,
            labels: self.labels,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LabelEntryItem {
    pk: String,
    sk: String,
    entry_pk: String,
    entry_sk: String,
    image_id: String,
    label: String,
    confidence: f32,
    /// Every label of the image, so that an AND search filters within one label's entries.
    labels: Vec<String>,
    content_type: String,
    created_at: String,
}

/// An album's counter item: written by `count_in_album`'s update expression, read back here,
/// and written whole by `album_items` for bulk loads.
#[derive(Debug, Serialize, Deserialize)]
struct AlbumItem {
    pk: String,
    sk: String,
    label: String,
    #[serde(default)]
    photos: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cover: Option<String>,
}

fn to_item<T: Serialize>(value: T) -> Result<HashMap<String, AttributeValue>> {
    serde_dynamo::to_item(value).map_err(|err| Error::Internal(format!("image item: {err}")))
}

fn from_item<T: for<'de> Deserialize<'de>>(item: HashMap<String, AttributeValue>) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|err| Error::Internal(format!("stored image item: {err}")))
}

/// What a quota-checked transaction was refused for.
enum Refusal {
    RecordCondition,
    Quota,
}

pub struct DynamoImages {
    client: Client,
    table: String,
}

impl DynamoImages {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn key(&self, user: &UserName, sk: String) -> HashMap<String, AttributeValue> {
        HashMap::from([("pk".to_owned(), s(user.as_str())), ("sk".to_owned(), s(sk))])
    }

    /// Adds one photo of `size` bytes to the user's counters, on condition that the quotas hold.
    fn count_photo(&self, user: &UserName, size: u64, quotas: &QuotaSettings) -> Result<TransactWriteItem> {
        let mut conditions = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(user, USAGE.to_owned())))
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

    /// A newest-first Query of one partition of the `entries` index, resuming after image
    /// `after`, whose item there has sort key `sk_of(after)`. The start key is rebuilt here,
    /// inside the caller's partition, so a cursor can never lead into another user's data.
    fn entries_query(
        &self,
        user: &UserName,
        entry_pk: String,
        limit: usize,
        after: Option<ImageId>,
        sk_of: impl Fn(ImageId) -> String,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(ENTRIES_INDEX)
            .key_condition_expression("entry_pk = :entry")
            .expression_attribute_values(":entry", s(entry_pk.clone()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(after) = after {
            query = query.set_exclusive_start_key(Some(HashMap::from([
                ("entry_pk".to_owned(), s(entry_pk)),
                ("entry_sk".to_owned(), s(after.to_string())),
                ("pk".to_owned(), s(user.as_str())),
                ("sk".to_owned(), s(sk_of(after))),
            ])));
        }
        query
    }

    /// Counts the image in (`delta` 1, and it becomes the cover) or out of (`delta` -1) an album.
    fn count_in_album(&self, user: &UserName, label: &str, id: ImageId, delta: i64) -> Result<TransactWriteItem> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(user, album_sk(label))))
            .expression_attribute_values(":delta", n(delta))
            .expression_attribute_values(":label", s(label));
        update = if delta > 0 {
            update
                .update_expression("ADD photos :delta SET label = :label, cover = :id")
                .expression_attribute_values(":id", s(id.to_string()))
        } else {
            update.update_expression("ADD photos :delta SET label = :label")
        };
        let update = update.build().map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The photo counts of these labels' albums (absent: no photo has the label).
    async fn album_counts(&self, user: &UserName, labels: &[String]) -> Result<HashMap<String, i64>> {
        let keys = labels.iter().map(|label| self.key(user, album_sk(label))).collect();
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|err| Error::Internal(err.to_string()))?;
        let mut pending = HashMap::from([(self.table.clone(), request)]);
        let mut counts = HashMap::new();
        let mut attempt = 0u32;
        while !pending.is_empty() {
            if attempt > 0 {
                back_off(attempt).await;
            }
            let answer = self
                .client
                .batch_get_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .map_err(Error::aws("BatchGetItem albums"))?;
            for item in answer.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                let album: AlbumItem = from_item(item)?;
                counts.insert(album.label, album.photos);
            }
            pending = answer.unprocessed_keys.unwrap_or_default();
            attempt += 1;
        }
        Ok(counts)
    }

    /// The record item with its version, read consistently.
    async fn get_item(&self, user: &UserName, id: ImageId) -> Result<Option<ImageItem>> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, record_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::aws("GetItem image"))?;
        answer.item.map(from_item::<ImageItem>).transpose()
    }

    /// After an image left albums: drops empty albums and gives others a cover still there.
    async fn tidy_albums(&self, user: &UserName, id: ImageId, labels: &[Label]) -> Result<()> {
        for label in labels {
            let answer = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(self.key(user, album_sk(&label.name))))
                .consistent_read(true)
                .send()
                .await
                .map_err(Error::aws("GetItem album"))?;
            let Some(album) = answer.item else { continue };
            let photos = album.get("photos").and_then(|v| v.as_n().ok()).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            if photos <= 0 {
                let deleted = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(self.key(user, album_sk(&label.name))))
                    .condition_expression("photos <= :zero")
                    .expression_attribute_values(":zero", n(0))
                    .send()
                    .await;
                match deleted {
                    Err(err) if err.code() != Some("ConditionalCheckFailedException") => {
                        return Err(Error::aws("DeleteItem album")(err));
                    }
                    _ => continue,
                }
            }
            let cover = album.get("cover").and_then(|v| v.as_s().ok());
            if cover == Some(&id.to_string()) {
                let newest = self.search(user, std::slice::from_ref(&label.name), 1, None).await?;
                if let Some(hit) = newest.items.first() {
                    self.client
                        .update_item()
                        .table_name(&self.table)
                        .set_key(Some(self.key(user, album_sk(&label.name))))
                        .update_expression("SET cover = :cover")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":cover", s(hit.id.to_string()))
                        .send()
                        .await
                        .ok();
                }
            }
        }
        Ok(())
    }

    /// Writes a record and counts its photo in one transaction, refused with `QuotaExceeded`
    /// when the quotas would be passed, or with `conflict` when the record's condition fails.
    async fn put_counted(&self, put: TransactWriteItem, record: &ImageRecord, quotas: &QuotaSettings, conflict: Error) -> Result<()> {
        let items = vec![put, self.count_photo(&record.user_name, record.size, quotas)?];
        match self.transact(items, "TransactWriteItems counted image").await? {
            Ok(()) => Ok(()),
            Err(Refusal::Quota) => Err(Error::QuotaExceeded(quota_message(quotas))),
            Err(Refusal::RecordCondition) => Err(conflict),
        }
    }

    fn uncount_photo(&self, user: &UserName, size: u64) -> Result<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(user, USAGE.to_owned())))
            .update_expression("ADD photos :minus_one, #bytes :minus_size")
            .expression_attribute_names("#bytes", "bytes")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":minus_size", AttributeValue::N(format!("-{size}")))
            .build()
            .map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs a transaction; maps a cancelled one to which of its conditions failed.
    async fn transact(&self, items: Vec<TransactWriteItem>, action: &str) -> Result<std::result::Result<(), Refusal>> {
        let answer = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(service)) => match service.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    let failed = |index: usize| {
                        cancelled
                            .cancellation_reasons()
                            .get(index)
                            .and_then(|reason| reason.code())
                            == Some("ConditionalCheckFailed")
                    };
                    if failed(0) {
                        Ok(Err(Refusal::RecordCondition))
                    } else if failed(1) {
                        Ok(Err(Refusal::Quota))
                    } else {
                        Err(Error::Aws {
                            action: action.to_owned(),
                            message: format!("transaction cancelled: {:?}", cancelled.cancellation_reasons()),
                        })
                    }
                }
                other => Err(Error::Aws {
                    action: action.to_owned(),
                    message: format!("{}: {}", other.code().unwrap_or("?"), other.message().unwrap_or("")),
                }),
            },
            Err(err) => Err(Error::aws(action.to_owned())(err)),
        }
    }

    fn put(&self, item: HashMap<String, AttributeValue>, condition: &str) -> Result<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .build()
            .map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Writes and deletes items in batches, retrying what DynamoDB leaves unprocessed.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(BATCH) {
            let mut pending = HashMap::from([(self.table.clone(), chunk.to_vec())]);
            let mut attempt = 0u32;
            while !pending.is_empty() {
                let answer = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(Error::aws("BatchWriteItem images"))?;
                pending = answer.unprocessed_items.unwrap_or_default();
                pending.retain(|_, requests| !requests.is_empty());
                attempt += 1;
                if !pending.is_empty() {
                    back_off(attempt).await;
                }
            }
        }
        Ok(())
    }

    /// Writes items as they are (those of `analysed_items` and `album_items`), in batches: a
    /// bulk load, without the quota and album bookkeeping of uploads and analyses.
    pub async fn bulk_put(&self, items: Vec<HashMap<String, AttributeValue>>) -> Result<()> {
        self.batch_write(items.into_iter().map(put_request).collect::<Result<_>>()?).await
    }

    fn delete_request(key: HashMap<String, AttributeValue>) -> Result<WriteRequest> {
        let delete = DeleteRequest::builder()
            .set_key(Some(key))
            .build()
            .map_err(|err| Error::Internal(err.to_string()))?;
        Ok(WriteRequest::builder().delete_request(delete).build())
    }

    /// Every item of the user's partition, or those whose sort key starts with `prefix`.
    async fn items_with_prefix(&self, user: &UserName, prefix: Option<&str>) -> Result<Vec<HashMap<String, AttributeValue>>> {
        let mut items = Vec::new();
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(user.as_str()))
            .consistent_read(true);
        if let Some(prefix) = prefix {
            query = query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix));
        }
        let mut pages = query.into_paginator().items().send();
        while let Some(item) = pages.next().await {
            items.push(item.map_err(Error::aws("Query image items"))?);
        }
        Ok(items)
    }

    fn key_of(item: &HashMap<String, AttributeValue>) -> HashMap<String, AttributeValue> {
        item.iter()
            .filter(|(name, _)| *name == "pk" || *name == "sk")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }
}

/// The pause before retrying what a batch left unprocessed: doubling from 100 ms, at most 3.2 s.
async fn back_off(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(6))).await;
}

fn quota_message(quotas: &QuotaSettings) -> String {
    format!(
        "this upload would pass your quota ({} photos, {} bytes); delete photos to make room",
        quotas.photos_per_user, quotas.bytes_per_user
    )
}

/// The labels an image keeps: without duplicates (the highest confidence wins), the
/// `MAX_STORED_LABELS` most confident, in name order.
fn stored_labels(labels: &[Label]) -> Vec<Label> {
    let mut by_name: BTreeMap<String, f32> = BTreeMap::new();
    for label in labels {
        let best = by_name.entry(label.name.clone()).or_insert(label.confidence);
        if label.confidence > *best {
            *best = label.confidence;
        }
    }
    let mut labels: Vec<Label> = by_name.into_iter().map(|(name, confidence)| Label { name, confidence }).collect();
    labels.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    labels.truncate(MAX_STORED_LABELS);
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    labels
}

/// The index entries of an analysed record, one per label, each carrying the whole label set.
fn label_entries(record: &ImageRecord) -> Result<Vec<HashMap<String, AttributeValue>>> {
    let created_at = rfc3339(record.created_at);
    let all: Vec<String> = record.labels.iter().map(|label| label.name.clone()).collect();
    record
        .labels
        .iter()
        .map(|label| {
            to_item(LabelEntryItem {
                pk: record.user_name.to_string(),
                sk: label_sk(record.id, &label.name),
                entry_pk: label_entry(&record.user_name, &label.name),
                entry_sk: record.id.to_string(),
                image_id: record.id.to_string(),
                label: label.name.clone(),
                confidence: label.confidence,
                labels: all.clone(),
                content_type: record.content_type.clone(),
                created_at: created_at.clone(),
            })
        })
        .collect()
}

fn put_request(item: HashMap<String, AttributeValue>) -> Result<WriteRequest> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(|err| Error::Internal(err.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

/// The items an analysed photo is stored as (its record and one index entry per label),
/// exactly as an upload followed by its analysis leaves them, for bulk loads: the benchmark
/// seeds large tenants with them through BatchWriteItem. The user's usage and album counters
/// are not among them.
pub fn analysed_items(record: &ImageRecord) -> Result<Vec<HashMap<String, AttributeValue>>> {
    let mut record = record.clone();
    record.labels = stored_labels(&record.labels);
    record.status = ImageStatus::Ready;
    record.failure_reason = None;
    let mut items = vec![to_item(ImageItem::of(&record, 1))?];
    items.extend(label_entries(&record)?);
    Ok(items)
}

/// The album items of a user whose photos were bulk-loaded with `analysed_items`, as the
/// analyses of those photos would have left them.
pub fn album_items(user: &UserName, albums: &[Album]) -> Result<Vec<HashMap<String, AttributeValue>>> {
    albums
        .iter()
        .map(|album| {
            to_item(AlbumItem {
                pk: user.to_string(),
                sk: album_sk(&album.label),
                label: album.label.clone(),
                photos: i64::try_from(album.photos).map_err(|_| Error::Internal("album count out of range".into()))?,
                cover: album.cover.map(|cover| cover.to_string()),
            })
        })
        .collect()
}

#[async_trait]
impl ImageStore for DynamoImages {
    async fn create(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let put = self.put(to_item(ImageItem::of(record, 0))?, "attribute_not_exists(pk)")?;
        let conflict = Error::Conflict {
            code: "image_exists",
            message: format!("image {} exists already", record.id),
        };
        self.put_counted(put, record, quotas, conflict).await
    }

    async fn create_upload(&self, record: &ImageRecord) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(ImageItem::of(record, 0))?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(Error::aws("PutItem upload record"))?;
        Ok(())
    }

    async fn complete_upload(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let mut put = self.put(to_item(ImageItem::of(record, 0))?, "#status = :uploading")?;
        if let Some(put) = put.put.as_mut() {
            put.expression_attribute_names = Some(HashMap::from([("#status".to_owned(), "status".to_owned())]));
            put.expression_attribute_values = Some(HashMap::from([(":uploading".to_owned(), s("uploading"))]));
        }
        let conflict = Error::Conflict {
            code: "upload_not_pending",
            message: format!("image {} is not waiting for its upload (completed or deleted already)", record.id),
        };
        self.put_counted(put, record, quotas, conflict).await
    }

    async fn get(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>> {
        self.get_item(user, id).await?.map(ImageItem::into_record).transpose()
    }

    async fn list(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>> {
        let answer = self
            .entries_query(user, images_entry(user), limit, after, record_sk)
            .send()
            .await
            .map_err(Error::aws("Query images"))?;
        let items = answer
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<ImageItem>(item)?.into_record())
            .collect::<Result<Vec<_>>>()?;
        let next = answer.last_evaluated_key.and(items.last().map(|record| record.id));
        Ok(Page { items, next })
    }

    async fn search(&self, user: &UserName, labels: &[String], limit: usize, after: Option<ImageId>) -> Result<Page<LabelHit, ImageId>> {
        let nothing = Page { items: Vec::new(), next: None };
        let mut labels = labels.to_vec();
        if labels.len() > 1 {
            // Read the entries of the label with the fewest photos and filter by the others, so
            // the cost follows the rarest label, not the broadest. A label without photos
            // matches nothing.
            let counts = self.album_counts(user, &labels).await?;
            let count = |label: &String| counts.get(label).copied().unwrap_or(0);
            if labels.iter().any(|label| count(label) <= 0) {
                return Ok(nothing);
            }
            labels.sort_by_key(|label| (count(label), label.clone()));
        }
        let Some((first, others)) = labels.split_first() else {
            return Ok(nothing);
        };
        let mut hits = Vec::new();
        let mut start = after;
        loop {
            let remaining = limit - hits.len();
            // Limit counts items read before the filter, so one page never holds more
            // matches than are still wanted and the cursor never skips one.
            let mut query =
                self.entries_query(user, label_entry(user, first), remaining, start, |id| label_sk(id, first));
            if !others.is_empty() {
                let filter = (0..others.len())
                    .map(|i| format!("contains(labels, :label{i})"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                query = query.filter_expression(filter);
                for (i, label) in others.iter().enumerate() {
                    query = query.expression_attribute_values(format!(":label{i}"), s(label.as_str()));
                }
            }
            let answer = query.send().await.map_err(Error::aws("Query label index"))?;
            for item in answer.items.unwrap_or_default() {
                let entry: LabelEntryItem = from_item(item)?;
                hits.push(LabelHit {
                    id: ImageId::parse(&entry.image_id)?,
                    labels: entry.labels,
                    content_type: entry.content_type,
                    created_at: parse_rfc3339(&entry.created_at)?,
                });
            }
            let more = answer
                .last_evaluated_key
                .as_ref()
                .and_then(|key| key.get("entry_sk"))
                .and_then(|value| value.as_s().ok())
                .map(|id| ImageId::parse(id))
                .transpose()?;
            match more {
                Some(last_read) if hits.len() < limit => start = Some(last_read),
                Some(_) => {
                    let next = hits.last().map(|hit| hit.id);
                    return Ok(Page { items: hits, next });
                }
                None => return Ok(Page { items: hits, next: None }),
            }
        }
    }

    async fn put_labels(&self, user: &UserName, id: ImageId, labels: &[Label]) -> Result<bool> {
        let labels = stored_labels(labels);
        let names: BTreeSet<String> = labels.iter().map(|label| label.name.clone()).collect();

        // The record, its version and the album counts change in one transaction, so a
        // redelivery or a racing deletion can neither count an image twice nor lose a count.
        let record = loop {
            let Some(item) = self.get_item(user, id).await? else { return Ok(false) };
            let version = item.analysis_version;
            let mut record = item.into_record()?;
            let previous: BTreeSet<String> = record.labels.iter().map(|label| label.name.clone()).collect();
            record.labels = labels.clone();
            record.status = ImageStatus::Ready;
            record.failure_reason = None;
            let mut put = self.put(to_item(ImageItem::of(&record, version + 1))?, SAME_VERSION)?;
            if let Some(put) = put.put.as_mut() {
                put.expression_attribute_values = Some(HashMap::from([(":version".to_owned(), n(version))]));
            }
            let mut transaction = vec![put];
            for added in names.difference(&previous) {
                transaction.push(self.count_in_album(user, added, id, 1)?);
            }
            for removed in previous.difference(&names) {
                transaction.push(self.count_in_album(user, removed, id, -1)?);
            }
            match self.transact(transaction, "TransactWriteItems analysed image").await? {
                Ok(()) => break record,
                Err(_) => continue,
            }
        };

        let stale = self
            .items_with_prefix(user, Some(&format!("{}#label#", record_sk(id))))
            .await?
            .into_iter()
            .filter(|item| {
                let label = item.get("label").and_then(|v| v.as_s().ok());
                !label.is_some_and(|label| names.contains(label))
            })
            .map(|item| Self::delete_request(Self::key_of(&item)))
            .collect::<Result<Vec<_>>>()?;
        let mut writes = stale;
        for entry in label_entries(&record)? {
            writes.push(put_request(entry)?);
        }
        self.batch_write(writes).await?;

        // The image may have been deleted while its entries were written: leave nothing behind.
        if self.get_item(user, id).await?.is_none() {
            self.delete(user, id).await?;
            return Ok(false);
        }
        Ok(true)
    }

    async fn mark_failed(&self, user: &UserName, id: ImageId, reason: &str) -> Result<bool> {
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, record_sk(id))))
            .update_expression("SET #status = :failed, failure_reason = :reason")
            .condition_expression("attribute_exists(pk) AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":reason", s(reason))
            .send()
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(err) => Err(Error::aws("UpdateItem failed image")(err)),
        }
    }

    async fn albums(&self, user: &UserName) -> Result<Vec<Album>> {
        let mut albums = Vec::new();
        for item in self.items_with_prefix(user, Some(ALBUM_PREFIX)).await? {
            let album: AlbumItem = from_item(item)?;
            if album.photos > 0 {
                albums.push(Album {
                    label: album.label,
                    photos: album.photos as u64,
                    cover: album.cover.as_deref().map(ImageId::parse).transpose()?,
                });
            }
        }
        albums.sort_by(|a, b| b.photos.cmp(&a.photos).then_with(|| a.label.cmp(&b.label)));
        Ok(albums)
    }

    async fn delete(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>> {
        let record_key = record_sk(id);
        let deleted = loop {
            let Some(item) = self.get_item(user, id).await? else { break None };
            let version = item.analysis_version;
            let record = item.into_record()?;
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(self.key(user, record_key.clone())))
                .condition_expression(SAME_VERSION)
                .expression_attribute_values(":version", n(version))
                .build()
                .map_err(|err| Error::Internal(err.to_string()))?;
            let mut transaction = vec![TransactWriteItem::builder().delete(delete).build()];
            if record.status != ImageStatus::Uploading {
                transaction.push(self.uncount_photo(user, record.size)?);
            }
            for label in &record.labels {
                transaction.push(self.count_in_album(user, &label.name, id, -1)?);
            }
            match self.transact(transaction, "TransactWriteItems delete image").await? {
                Ok(()) => break Some(record),
                // Changed or deleted meanwhile: read again.
                Err(_) => continue,
            }
        };
        let entries = self
            .items_with_prefix(user, Some(&record_key))
            .await?
            .iter()
            .map(|item| Self::delete_request(Self::key_of(item)))
            .collect::<Result<Vec<_>>>()?;
        self.batch_write(entries).await?;
        if let Some(record) = &deleted {
            self.tidy_albums(user, id, &record.labels).await?;
        }
        Ok(deleted)
    }

    async fn delete_all(&self, user: &UserName) -> Result<()> {
        let requests = self
            .items_with_prefix(user, None)
            .await?
            .iter()
            .map(|item| Self::delete_request(Self::key_of(item)))
            .collect::<Result<Vec<_>>>()?;
        self.batch_write(requests).await
    }

    async fn usage(&self, user: &UserName) -> Result<Usage> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, USAGE.to_owned())))
            .consistent_read(true)
            .send()
            .await
            .map_err(Error::aws("GetItem usage"))?;
        let number = |item: &HashMap<String, AttributeValue>, name: &str| {
            item.get(name)
                .and_then(|value| value.as_n().ok())
                .and_then(|value| value.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(answer
            .item
            .map(|item| Usage {
                photos: number(&item, "photos"),
                bytes: number(&item, "bytes"),
            })
            .unwrap_or_default())
    }
}
