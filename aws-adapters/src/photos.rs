//! Photo objects in the tier's S3 bucket, under `<user>/<image id>`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::aws_error;
use domain::error::{Error, Result};
use domain::{ObjectVersion, PhotoStore};

pub struct S3Photos {
    client: Client,
    bucket: String,
}

impl S3Photos {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

/// Copying objects between stacks' buckets (a tenant move): objects with their
/// content type, written with a SHA-256 that S3 checks on receipt.
impl S3Photos {
    /// The object's bytes and content type, `None` when there is none; with `etag`, only that
    /// version (`PhotoChanged` when the object is another).
    pub async fn read_with_type(&self, key: &str, etag: Option<&str>) -> Result<Option<(Vec<u8>, String)>> {
        let request = self.client.get_object().bucket(&self.bucket).key(key).set_if_match(etag.map(str::to_owned));
        let object = match request.send().await {
            Ok(object) => object,
            Err(err) if err.code() == Some("NoSuchKey") => return Ok(None),
            Err(err) if precondition_failed(&err) => return Err(Error::photo_changed(key)),
            Err(err) => return Err(aws_error("S3 GetObject")(err)),
        };
        let content_type = object.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
        Ok(Some((body_bytes(object).await?, content_type)))
    }

    /// Writes the object with its SHA-256 (base64), which S3 verifies before storing it.
    pub async fn put_with_checksum(&self, key: &str, bytes: Vec<u8>, content_type: &str, sha256: &str) -> Result<()> {
        self.put_object(key, bytes, content_type, Some(sha256)).await
    }

    async fn put_object(&self, key: &str, bytes: Vec<u8>, content_type: &str, sha256: Option<&str>) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .set_checksum_sha256(sha256.map(str::to_owned))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(aws_error("S3 PutObject"))?;
        Ok(())
    }
}

/// S3's answer to a read whose `If-Match` names another version than the object's.
fn precondition_failed<E>(err: &SdkError<E, HttpResponse>) -> bool {
    err.raw_response().is_some_and(|response| response.status().as_u16() == 412)
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig> {
    PresigningConfig::expires_in(expires_in).map_err(|err| Error::Internal(format!("presigning: {err}")))
}

async fn body_bytes(object: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Result<Vec<u8>> {
    let bytes = object.body.collect().await.map_err(|err| Error::Internal(format!("reading an S3 object: {err}")))?;
    Ok(bytes.into_bytes().to_vec())
}

#[async_trait]
impl PhotoStore for S3Photos {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        self.put_object(key, bytes, content_type, None).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectVersion>> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(head) => Ok(Some(ObjectVersion {
                size: head.content_length.unwrap_or(0).max(0) as u64,
                etag: head.e_tag.ok_or_else(|| Error::Internal(format!("S3 HeadObject of {key} named no ETag")))?,
            })),
            Err(err) if err.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(err) if err.code() == Some("NotFound") || err.code() == Some("NoSuchKey") => Ok(None),
            Err(err) => Err(aws_error("S3 HeadObject")(err)),
        }
    }

    async fn read(&self, key: &str, etag: Option<&str>) -> Result<Option<Vec<u8>>> {
        Ok(self.read_with_type(key, etag).await?.map(|(bytes, _)| bytes))
    }

    async fn read_start(&self, key: &str, max_bytes: u64, etag: &str) -> Result<Vec<u8>> {
        let request = self.client.get_object().bucket(&self.bucket).key(key).if_match(etag);
        let object = request
            .range(format!("bytes=0-{}", max_bytes.saturating_sub(1)))
            .send()
            .await
            .map_err(|err| if precondition_failed(&err) { Error::photo_changed(key) } else { aws_error("S3 GetObject")(err) })?;
        body_bytes(object).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(aws_error("S3 DeleteObject"))?;
        Ok(())
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut pages = self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws_error("S3 ListObjectsV2"))?;
            keys.extend(page.contents.unwrap_or_default().into_iter().filter_map(|object| object.key));
        }
        Ok(keys)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<usize> {
        let keys = self.keys(prefix).await?;
        // DeleteObjects takes at most 1,000 keys per request.
        for batch in keys.chunks(1000) {
            let objects = batch
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|err| Error::Internal(err.to_string()))?;
            let delete =
                Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|err| Error::Internal(err.to_string()))?;
            let answer =
                self.client.delete_objects().bucket(&self.bucket).delete(delete).send().await.map_err(aws_error("S3 DeleteObjects"))?;
            if let Some(failed) = answer.errors.unwrap_or_default().first() {
                return Err(Error::Internal(format!(
                    "S3 did not delete {}: {}",
                    failed.key.as_deref().unwrap_or("?"),
                    failed.message.as_deref().unwrap_or("?")
                )));
            }
        }
        Ok(keys.len())
    }

    async fn presign_put(&self, key: &str, content_type: &str, size: u64, expires_in: Duration) -> Result<String> {
        let length = i64::try_from(size).map_err(|_| Error::invalid("payload_too_large", format!("{size} bytes")))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            // Signed: S3 refuses a PUT through this URL of any other length.
            .content_length(length)
            .tagging(contract::names::upload_tagging())
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|err| Error::Internal(format!("presigning a PUT: {err}")))?;
        Ok(request.uri().to_owned())
    }

    async fn clear_upload_tag(&self, key: &str) -> Result<()> {
        self.client.delete_object_tagging().bucket(&self.bucket).key(key).send().await.map_err(aws_error("S3 DeleteObjectTagging"))?;
        Ok(())
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|err| Error::Internal(format!("presigning a GET: {err}")))?;
        Ok(request.uri().to_owned())
    }
}
