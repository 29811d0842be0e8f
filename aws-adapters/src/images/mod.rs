//! Images in DynamoDB, one partition per user. Each concern has its file: the key schema and
//! item types (`keys`), usage and quotas (`quotas`), albums (`albums`), listing and search
//! planning (`search`), and bulk loading for the benchmark (`bulk`, feature `bulk`). This file
//! holds what they share and the [`ImageStore`] implementation that ties them together.

mod albums;
#[cfg(feature = "bulk")]
pub mod bulk;
pub mod check;
mod keys;
pub mod moving;
mod persons;
mod quotas;
mod search;

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use self::keys::{
    ImageItem, SAME_VERSION, entries_of, face_items, face_items_prefix, label_entries_prefix, person_entries_prefix, persons_of, record_sk,
    word_entries_prefix,
};
use crate::aws_error;
use crate::dynamo::{self, Item, condition_held, delete_request, from_item, key_of, n, put_request, to_item, value_of};
use contract::QuotaSettings;
use domain::ImageStore;
use domain::error::{Error, Result};
use domain::model::{
    Album, Analysis, Face, FaceId, FoundFace, ImageId, ImageRecord, ImageStatus, LabelHit, Page, Person, PersonChange, PersonId, Search,
    Usage, UserName,
};

/// Which condition of a transaction failed (its index in the transaction).
struct Refusal {
    index: usize,
}

/// What a status change expects the record still to be; otherwise it changes nothing.
enum Seen {
    /// The analysis version the caller wrote.
    Version(u64),
    /// Not analysed yet.
    Pending,
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

    /// The record item with its version, read consistently.
    async fn get_item(&self, user: &UserName, id: ImageId) -> Result<Option<ImageItem>> {
        self.get_sk(user, record_sk(id), "GetItem image").await
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

    /// Writes the items that follow from an analysed record: its label and person entries and
    /// its face items (with `descriptors`). A redelivery writes the same again; what an earlier
    /// write had and this one has not goes.
    async fn write_entries(&self, user: &UserName, record: &ImageRecord, descriptors: &[Vec<f32>]) -> Result<()> {
        let id = record.id;
        let labels: Vec<String> = record.labels.iter().map(|label| label.name.clone()).collect();
        let face_indexes: Vec<String> = (0..record.faces.len()).map(|index| index.to_string()).collect();
        let mut writes = Vec::new();
        for (prefix, attribute, kept) in [
            (label_entries_prefix(id), "label", labels),
            (face_items_prefix(id), "index", face_indexes),
            (person_entries_prefix(id), "person_id", persons_of(record)),
            (word_entries_prefix(id), "word", record.words.clone()),
        ] {
            for item in dynamo::partition(&self.client, &self.table, user.as_str(), Some(&prefix)).await? {
                let value = item.get(attribute).and_then(|v| v.as_s().or_else(|_| v.as_n()).ok());
                if !value.is_some_and(|value| kept.contains(value)) {
                    writes.push(delete_request(key_of(&item))?);
                }
            }
        }
        let entries = entries_of(record)?.into_iter().chain(face_items(record, descriptors)?);
        for entry in entries {
            writes.push(put_request(entry)?);
        }
        dynamo::batch_write(&self.client, &self.table, writes).await
    }

    async fn delete_items(&self, items: &[Item]) -> Result<()> {
        let requests = items.iter().map(|item| delete_request(key_of(item))).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, requests).await
    }

    /// One conditional update of a record's status (and failure reason); false when the record
    /// is gone or no longer what the caller saw.
    async fn set_status(&self, user: &UserName, id: ImageId, status: ImageStatus, reason: Option<&str>, seen: Seen) -> Result<bool> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(self.key(user, record_sk(id))))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", value_of(status)?);
        request = match reason {
            Some(reason) => request
                .update_expression("SET #status = :status, failure_reason = :reason")
                .expression_attribute_values(":reason", dynamo::s(reason)),
            None => request.update_expression("SET #status = :status"),
        };
        request = match seen {
            Seen::Version(version) => request
                .condition_expression("attribute_exists(pk) AND analysis_version = :version")
                .expression_attribute_values(":version", n(version)),
            Seen::Pending => request
                .condition_expression("attribute_exists(pk) AND #status = :pending")
                .expression_attribute_values(":pending", value_of(ImageStatus::Pending)?),
        };
        condition_held(request.send().await, "UpdateItem image status")
    }
}

#[async_trait]
impl ImageStore for DynamoImages {
    async fn create(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let put = self.put(to_item(ImageItem::of(record, 0))?, "attribute_not_exists(pk)", &[], Item::new())?;
        let conflict = Error::Conflict { code: "image_exists", message: format!("image {} exists already", record.id) };
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
            .map_err(aws_error("PutItem upload record"))?;
        Ok(())
    }

    async fn complete_upload(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        let uploading = HashMap::from([(":uploading".to_owned(), value_of(ImageStatus::Uploading)?)]);
        let put = self.put(to_item(ImageItem::of(record, 0))?, "#status = :uploading", &[("#status", "status")], uploading)?;
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
        self.list_images(user, limit, after).await
    }

    async fn search(&self, user: &UserName, search: &Search, limit: usize, after: Option<ImageId>) -> Result<Page<LabelHit, ImageId>> {
        self.search_entries(user, search, limit, after).await
    }

    async fn put_analysis(&self, user: &UserName, id: ImageId, analysis: &Analysis) -> Result<bool> {
        let names: BTreeSet<String> = analysis.labels.iter().map(|label| label.name.clone()).collect();

        // The record, its version and the album counts change in one transaction, so a
        // redelivery or a racing deletion can neither count an image twice nor lose a count.
        let record = loop {
            let Some(item) = self.get_item(user, id).await? else { return Ok(false) };
            let version = item.analysis_version;
            let mut record = item.into_record()?;
            let previous: BTreeSet<String> = record.labels.iter().map(|label| label.name.clone()).collect();
            record.labels = analysis.labels.clone();
            record.faces = analysis.face_records();
            record.text.clone_from(&analysis.text);
            record.words.clone_from(&analysis.words);
            record.color.clone_from(&analysis.color);
            // Still pending until its entries are written (below): were that write to fail, the
            // redelivery would find the photo analysed and skip it, its entries missing for good.
            record.status = ImageStatus::Pending;
            record.failure_reason = None;
            let same_version = HashMap::from([(":version".to_owned(), n(version))]);
            let put = self.put(to_item(ImageItem::of(&record, version + 1))?, SAME_VERSION, &[], same_version)?;
            let mut transaction = vec![put];
            for added in names.difference(&previous) {
                transaction.push(self.count_in_album(user, added, id, 1)?);
            }
            for removed in previous.difference(&names) {
                transaction.push(self.count_in_album(user, removed, id, -1)?);
            }
            match self.transact(transaction, "TransactWriteItems analysed image").await? {
                Ok(()) => break (record, version + 1),
                Err(_) => continue,
            }
        };
        let (record, version) = record;

        let descriptors: Vec<Vec<f32>> = analysis.faces.iter().map(|face| face.descriptor.clone()).collect();
        self.write_entries(user, &record, &descriptors).await?;

        // Ready, unless the image changed meanwhile: deleted (leave nothing behind), or written
        // by another delivery of the same message, which makes it ready itself.
        if !self.set_status(user, id, ImageStatus::Ready, None, Seen::Version(version)).await? && self.get_item(user, id).await?.is_none() {
            self.delete(user, id).await?;
            return Ok(false);
        }
        Ok(true)
    }

    async fn set_color(&self, user: &UserName, id: ImageId, color: &str) -> Result<bool> {
        let record = loop {
            let Some(item) = self.get_item(user, id).await? else { return Ok(false) };
            let version = item.analysis_version;
            let mut record = item.into_record()?;
            record.color = Some(color.to_owned());
            let same_version = HashMap::from([(":version".to_owned(), n(version))]);
            let put = self.put(to_item(ImageItem::of(&record, version + 1))?, SAME_VERSION, &[], same_version)?;
            match self.transact(vec![put], "TransactWriteItems image colour").await? {
                Ok(()) => break record,
                Err(_) => continue,
            }
        };
        let writes = entries_of(&record)?.into_iter().map(put_request).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, writes).await?;
        Ok(true)
    }

    async fn mark_failed(&self, user: &UserName, id: ImageId, reason: &str) -> Result<bool> {
        self.set_status(user, id, ImageStatus::Failed, Some(reason), Seen::Pending).await
    }

    async fn albums(&self, user: &UserName) -> Result<Vec<Album>> {
        self.read_albums(user).await
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
        // Its faces leave their persons before its items go.
        self.ungroup(user, id).await?;
        let entries = dynamo::partition(&self.client, &self.table, user.as_str(), Some(&record_key)).await?;
        self.delete_items(&entries).await?;
        if let Some(record) = &deleted {
            self.tidy_albums(user, id, &record.labels).await?;
        }
        Ok(deleted)
    }

    async fn group_faces(
        &self,
        user: &UserName,
        id: ImageId,
        faces: &[FoundFace],
        grouped: &[bool],
        max_distance: f32,
    ) -> Result<Vec<Option<PersonId>>> {
        self.group(user, id, faces, grouped, max_distance).await
    }

    async fn persons(&self, user: &UserName) -> Result<Vec<Person>> {
        self.read_persons(user).await
    }

    async fn merge_persons(&self, user: &UserName, into: PersonId, from: &[PersonId]) -> Result<Person> {
        self.merge(user, into, from).await
    }

    async fn move_face(&self, user: &UserName, face: FaceId, to: Option<PersonId>) -> Result<Face> {
        self.reassign_face(user, face, to).await
    }

    async fn update_person(&self, user: &UserName, id: PersonId, change: &PersonChange) -> Result<Person> {
        self.change_person(user, id, change).await
    }

    async fn delete_all(&self, user: &UserName) -> Result<usize> {
        let items = dynamo::partition(&self.client, &self.table, user.as_str(), None).await?;
        self.delete_items(&items).await?;
        Ok(items.len())
    }

    async fn usage(&self, user: &UserName) -> Result<Usage> {
        self.read_usage(user).await
    }
}
