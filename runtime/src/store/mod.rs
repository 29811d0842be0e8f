//! Data access behind small traits: users and images in DynamoDB, photo objects in S3, and
//! events to SNS. The HTTP handlers and the analyzer see only these traits.
//!
//! The key design is described in the README ("Table keys") and in the deployer's
//! `template/tables.rs`.

pub mod events;
pub mod images;
pub mod photos;
pub mod users;

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::QuotaSettings;
use crate::error::{Error, Result};

pub use events::SnsEvents;
pub use images::DynamoImages;
pub use photos::S3Photos;
pub use users::DynamoUsers;

/// A user name: 3 to 32 characters, lower-case letters, digits, `-` and `_`, starting with a
/// letter. It is the user's key everywhere (partition, S3 prefix), so it never changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    pub fn parse(value: &str) -> Result<Self> {
        let valid = (3..=32).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(Error::bad_request(
                "invalid_user_name",
                "a user name has 3 to 32 characters: lower-case letters, digits, '-' and '_', starting with a letter",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UserName {
    type Error = String;
    fn try_from(value: String) -> std::result::Result<Self, String> {
        Self::parse(&value).map_err(|err| err.to_string())
    }
}

impl From<UserName> for String {
    fn from(value: UserName) -> String {
        value.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user as stored. `password_hash` is an Argon2id PHC string; `token_generation` changes
/// whenever earlier tokens must stop working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_name: UserName,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub registration_date: OffsetDateTime,
    pub token_generation: u64,
}

/// An image id: a ULID (26 characters of Crockford base32), so ids sort by upload time.
/// Parsing refuses anything else, which also keeps path tricks out of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageId(ulid::Ulid);

impl ImageId {
    pub fn new() -> Self {
        Self(ulid::Ulid::new())
    }

    pub fn parse(value: &str) -> Result<Self> {
        if value.len() != 26 {
            return Err(Self::invalid());
        }
        ulid::Ulid::from_string(value).map(Self).map_err(|_| Self::invalid())
    }

    fn invalid() -> Error {
        Error::bad_request("invalid_image_id", "an image id is 26 letters and digits, as returned at upload")
    }
}

impl Default for ImageId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where an image is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageStatus {
    /// A presigned upload was handed out; the photo is not confirmed yet.
    Uploading,
    /// Stored and waiting for analysis.
    Pending,
    /// Analysed; labels are searchable.
    Ready,
    /// Analysis failed for good; see the reason.
    Failed,
}

/// One label of an image, lower-case, with Rekognition-style confidence in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Label {
    pub name: String,
    pub confidence: f32,
}

/// Normalises a label as stored and searched: trimmed, lower-case, inner spaces kept single.
pub fn normalize_label(raw: &str) -> Result<String> {
    let label = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    let valid = !label.is_empty()
        && label.len() <= 64
        && label.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '\'');
    if valid {
        Ok(label)
    } else {
        Err(Error::bad_request(
            "invalid_label",
            "a label has 1 to 64 letters, digits, spaces, '-' or '\''",
        ))
    }
}

/// An image as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    pub user_name: UserName,
    pub id: ImageId,
    pub status: ImageStatus,
    pub failure_reason: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// EXIF DateTimeOriginal as written in the photo (no time zone).
    pub taken_at: Option<String>,
    pub created_at: OffsetDateTime,
    pub labels: Vec<Label>,
}

impl ImageRecord {
    /// The object's key: always under the owner's prefix, never from client input.
    pub fn object_key(&self) -> String {
        object_key(&self.user_name, self.id)
    }
}

pub fn object_key(user: &UserName, id: ImageId) -> String {
    format!("{user}/{id}")
}

/// One match of a label search.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelHit {
    pub id: ImageId,
    pub labels: Vec<String>,
    pub content_type: String,
    pub created_at: OffsetDateTime,
}

/// A page of results and where the next starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

/// A label of a user's photos: how many carry it, and the newest one analysed with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Album {
    pub label: String,
    pub photos: u64,
    pub cover: Option<ImageId>,
}

/// A user's current usage, which the quotas limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub photos: u64,
    pub bytes: u64,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates the user; `Conflict` if the name is taken.
    async fn create(&self, user: &UserRecord) -> Result<()>;
    async fn get(&self, user_name: &UserName) -> Result<Option<UserRecord>>;
    /// Replaces the user's record if its token generation is still `expected_generation`.
    async fn update(&self, user: &UserRecord, expected_generation: u64) -> Result<()>;
    async fn delete(&self, user_name: &UserName) -> Result<()>;
    /// Users whose name starts with `prefix`, in name order, after `after`.
    async fn search_prefix(&self, prefix: &str, limit: usize, after: Option<&UserName>) -> Result<Page<UserRecord, UserName>>;
    /// A stack-wide value (token key, ops credential digest).
    async fn system_value(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Stores a stack-wide value unless one exists; whether it was stored.
    async fn put_system_value_if_absent(&self, name: &str, value: &[u8]) -> Result<bool>;
    /// Stores a stack-wide value, replacing any.
    async fn put_system_value(&self, name: &str, value: &[u8]) -> Result<()>;
}

#[async_trait]
pub trait ImageStore: Send + Sync {
    /// Records a stored photo (status pending) and counts it, refusing with `QuotaExceeded`
    /// when the user's counters would pass the quotas. Exact under concurrency.
    async fn create(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()>;
    /// Records a presigned upload not yet confirmed (status uploading, not counted, not listed).
    async fn create_upload(&self, record: &ImageRecord) -> Result<()>;
    /// Turns an uploading record into a pending, counted one (quota checked as in `create`).
    async fn complete_upload(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()>;
    async fn get(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>>;
    /// The user's images, newest first, after `after`.
    async fn list(&self, user: &UserName, limit: usize, after: Option<ImageId>) -> Result<Page<ImageRecord, ImageId>>;
    /// Images carrying every one of `labels` (normalised), newest first; reads the label index only.
    async fn search(&self, user: &UserName, labels: &[String], limit: usize, after: Option<ImageId>) -> Result<Page<LabelHit, ImageId>>;
    /// Stores the analysis: labels (replacing earlier ones, without duplicates), status ready.
    /// Does nothing and returns false when the image is gone.
    async fn put_labels(&self, user: &UserName, id: ImageId, labels: &[Label]) -> Result<bool>;
    /// Marks a pending image failed with a reason; false when it is not pending (or gone).
    async fn mark_failed(&self, user: &UserName, id: ImageId, reason: &str) -> Result<bool>;
    /// The user's albums (labels with a photo count and a cover), most photos first.
    async fn albums(&self, user: &UserName) -> Result<Vec<Album>>;
    /// Deletes the record, its index entries and its share of the counters; the deleted record.
    async fn delete(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>>;
    /// Deletes every item of the user.
    async fn delete_all(&self, user: &UserName) -> Result<()>;
    async fn usage(&self, user: &UserName) -> Result<Usage>;
}

#[async_trait]
pub trait PhotoStore: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<()>;
    /// The object's size, or `None` when there is no object.
    async fn size(&self, key: &str) -> Result<Option<u64>>;
    /// The whole object, or `None` when there is none.
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Up to `max_bytes` from the start of the object.
    async fn read_start(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>>;
    async fn delete(&self, key: &str) -> Result<()>;
    /// Deletes every object under `prefix`; how many.
    async fn delete_prefix(&self, prefix: &str) -> Result<usize>;
    async fn presign_put(&self, key: &str, content_type: &str, expires_in: std::time::Duration) -> Result<String>;
    async fn presign_get(&self, key: &str, expires_in: std::time::Duration) -> Result<String>;
}

/// A new user, as published to NewUser (no secrets).
#[derive(Debug, Clone, Serialize)]
pub struct NewUserEvent<'a> {
    pub user_name: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub tier: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    pub registration_date: OffsetDateTime,
}

/// A new photo, as published to NewImage (what the analyzer needs to find it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewImageEvent {
    pub user_name: String,
    pub image_id: String,
    pub object_key: String,
    pub content_type: String,
    pub size: u64,
}

#[async_trait]
pub trait Events: Send + Sync {
    async fn new_user(&self, event: &NewUserEvent<'_>) -> Result<()>;
    async fn new_image(&self, event: &NewImageEvent) -> Result<()>;
}

/// RFC 3339, as every timestamp of the API is written.
pub fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.unix_timestamp().to_string())
}

pub fn parse_rfc3339(value: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|err| Error::Internal(format!("stored time {value:?} is not RFC 3339: {err}")))
}
