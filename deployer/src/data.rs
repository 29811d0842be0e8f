//! The data that outlives a stack (DeletionPolicy Retain): the photo bucket, the tables and the
//! key. `down` lists it; `down --purge` deletes it.

use std::fmt;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use indicatif::ProgressBar;

use crate::aws::Clients;
use crate::error::{Error, Result};
use crate::template::{Pseudo, ResourceKind, Template, key::key_description};

/// KMS never deletes a key at once; 7 days is the shortest waiting period it allows.
const KEY_DELETION_WINDOW_DAYS: i32 = 7;

/// The retained resources of one stack that exist now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetainedData {
    pub buckets: Vec<String>,
    pub tables: Vec<String>,
    pub keys: Vec<String>,
}

impl RetainedData {
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty() && self.tables.is_empty() && self.keys.is_empty()
    }
}

impl fmt::Display for RetainedData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for bucket in &self.buckets {
            writeln!(f, "  bucket  {bucket}")?;
        }
        for table in &self.tables {
            writeln!(f, "  table   {table}")?;
        }
        for key in &self.keys {
            writeln!(f, "  key     {key}")?;
        }
        Ok(())
    }
}

/// A retained resource that exists now, under the logical id the template gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub logical_id: String,
    pub kind: KeptKind,
    pub physical_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeptKind {
    Bucket,
    Table,
    Key,
}

impl KeptKind {
    pub fn resource_type(self) -> &'static str {
        match self {
            KeptKind::Bucket => "AWS::S3::Bucket",
            KeptKind::Table => "AWS::DynamoDB::Table",
            KeptKind::Key => "AWS::KMS::Key",
        }
    }

    /// The property CloudFormation's resource import identifies this type by.
    pub fn identifier(self) -> &'static str {
        match self {
            KeptKind::Bucket => "BucketName",
            KeptKind::Table => "TableName",
            KeptKind::Key => "KeyId",
        }
    }
}

/// Finds the retained resources of `stack` by the names the template gives them (and the key
/// by its description), so they are found whether or not the stack still exists.
pub async fn kept(clients: &Clients, template: &Template, stack: &str) -> Result<Vec<Kept>> {
    let account = clients.account_id().await?;
    let pseudo = Pseudo { stack_name: stack, account_id: &account, region: &clients.region };
    let mut found = Vec::new();
    for id in template.retained_ids() {
        let kept = |kind, physical_id| Kept { logical_id: id.to_owned(), kind, physical_id };
        match &template.resources[id].kind {
            ResourceKind::Bucket(bucket) => {
                let name = bucket.bucket_name.resolve_name(&pseudo).ok_or_else(|| unnamed(id))?;
                if clients.s3.head_bucket().bucket(&name).send().await.is_ok() {
                    found.push(kept(KeptKind::Bucket, name));
                }
            }
            ResourceKind::Table(table) => {
                let name = table.table_name.resolve_name(&pseudo).ok_or_else(|| unnamed(id))?;
                if clients.dynamodb.describe_table().table_name(&name).send().await.is_ok() {
                    found.push(kept(KeptKind::Table, name));
                }
            }
            ResourceKind::KmsKey(_) => found.extend(keys_of(clients, stack).await?.into_iter().map(|key| kept(KeptKind::Key, key))),
            _ => {}
        }
    }
    Ok(found)
}

/// The retained resources of `stack` that exist now, by kind.
pub async fn locate(clients: &Clients, template: &Template, stack: &str) -> Result<RetainedData> {
    let mut data = RetainedData::default();
    for kept in kept(clients, template, stack).await? {
        match kept.kind {
            KeptKind::Bucket => data.buckets.push(kept.physical_id),
            KeptKind::Table => data.tables.push(kept.physical_id),
            KeptKind::Key => data.keys.push(kept.physical_id),
        }
    }
    Ok(data)
}

fn unnamed(id: &str) -> Error {
    Error::Render(format!("retained resource {id} has no fixed name, so it cannot be found after the stack"))
}

/// Enabled keys whose description names `stack` (keys pending deletion are already purged).
async fn keys_of(clients: &Clients, stack: &str) -> Result<Vec<String>> {
    let description = key_description(stack);
    let mut keys = Vec::new();
    let mut pages = clients.kms.list_keys().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(Error::aws("ListKeys"))?;
        for entry in page.keys.unwrap_or_default() {
            let Some(key_id) = entry.key_id else { continue };
            let described = clients.kms.describe_key().key_id(&key_id).send().await.map_err(Error::aws(format!("DescribeKey {key_id}")))?;
            let Some(metadata) = described.key_metadata else { continue };
            let enabled = metadata.key_state.as_ref().is_some_and(|s| s.as_str() == "Enabled");
            if enabled && metadata.description.as_deref() == Some(description.as_str()) {
                keys.push(key_id);
            }
        }
    }
    Ok(keys)
}

/// Deletes every object version and upload in the buckets, then the buckets, the tables, and
/// schedules the keys' deletion.
pub async fn purge(clients: &Clients, data: &RetainedData) -> Result<()> {
    for bucket in &data.buckets {
        empty_bucket(clients, bucket).await?;
        clients.s3.delete_bucket().bucket(bucket).send().await.map_err(Error::aws(format!("DeleteBucket {bucket}")))?;
        eprintln!("Deleted bucket {bucket}");
    }
    for table in &data.tables {
        clients.dynamodb.delete_table().table_name(table).send().await.map_err(Error::aws(format!("DeleteTable {table}")))?;
        eprintln!("Deleted table {table}");
    }
    for key in &data.keys {
        clients
            .kms
            .schedule_key_deletion()
            .key_id(key)
            .pending_window_in_days(KEY_DELETION_WINDOW_DAYS)
            .send()
            .await
            .map_err(Error::aws(format!("ScheduleKeyDeletion {key}")))?;
        eprintln!("Scheduled key {key} for deletion in {KEY_DELETION_WINDOW_DAYS} days (KMS's shortest wait)");
    }
    Ok(())
}

async fn empty_bucket(clients: &Clients, bucket: &str) -> Result<()> {
    let progress = ProgressBar::new_spinner();
    progress.set_message(format!("emptying {bucket}"));
    let mut deleted = 0usize;
    // ListObjectVersions has no paginator in the SDK: follow its markers.
    let mut markers: (Option<String>, Option<String>) = (None, None);
    loop {
        let page = clients
            .s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(markers.0.take())
            .set_version_id_marker(markers.1.take())
            .send()
            .await
            .map_err(Error::aws(format!("ListObjectVersions {bucket}")))?;
        let truncated = page.is_truncated == Some(true);
        markers = (page.next_key_marker, page.next_version_id_marker);
        let versions = page.versions.unwrap_or_default().into_iter().filter_map(|v| Some((v.key?, v.version_id)));
        let markers = page.delete_markers.unwrap_or_default().into_iter().filter_map(|m| Some((m.key?, m.version_id)));
        let objects = versions
            .chain(markers)
            .map(|(key, version)| ObjectIdentifier::builder().key(key).set_version_id(version).build())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|err| Error::Aws { action: "listing objects".into(), message: err.to_string() })?;
        if objects.is_empty() {
            if truncated {
                continue;
            }
            break;
        }
        let count = objects.len();
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|err| Error::Aws { action: "DeleteObjects".into(), message: err.to_string() })?;
        let answer = clients
            .s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(Error::aws(format!("DeleteObjects in {bucket}")))?;
        if let Some(error) = answer.errors.unwrap_or_default().first() {
            return Err(Error::Aws {
                action: format!("DeleteObjects in {bucket}"),
                message: format!("{}: {}", error.key.as_deref().unwrap_or("?"), error.message.as_deref().unwrap_or("not deleted")),
            });
        }
        deleted += count;
        progress.set_message(format!("emptying {bucket}: {deleted} objects deleted"));
        if !truncated {
            break;
        }
    }
    let uploads =
        clients.s3.list_multipart_uploads().bucket(bucket).send().await.map_err(Error::aws(format!("ListMultipartUploads {bucket}")))?;
    for upload in uploads.uploads.unwrap_or_default() {
        clients
            .s3
            .abort_multipart_upload()
            .bucket(bucket)
            .set_key(upload.key)
            .set_upload_id(upload.upload_id)
            .send()
            .await
            .map_err(Error::aws(format!("AbortMultipartUpload in {bucket}")))?;
    }
    progress.finish_and_clear();
    eprintln!("Emptied bucket {bucket} ({deleted} objects)");
    Ok(())
}
