//! What happens to a photo in a user's library, whichever store keeps it: accepted (its record
//! counted, its bytes stored, its analysis asked for, or nothing left at all), completed after
//! a presigned upload, deleted with everything of it. The runtime's handlers call these; they
//! never spell the steps.

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::model::{ImageId, ImageRecord, ImageStatus, UserName};
use crate::{Events, FaceCollections, ImageStore, NewImageEvent, PhotoStore, QuotaSettings};

/// What a photo's bytes say of it (read by the runtime from the bytes, never from the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoFacts {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    /// EXIF DateTimeOriginal as `YYYY-MM-DDTHH:MM:SS` (local time of the camera).
    pub taken_at: Option<String>,
}

/// The tier's bound on a photo's pixels, read from its header before anything decodes it:
/// `TooManyPixels` with both numbers above `max_pixels` (`photos.max_pixels`). The upload and
/// the analyzer both ask here.
pub fn check_pixels(width: u32, height: u32, max_pixels: u64) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(Error::TooManyPixels(format!(
            "the photo is {width} x {height} = {pixels} pixels; this tier accepts at most {max_pixels} per photo"
        )));
    }
    Ok(())
}

impl ImageRecord {
    /// A new photo of `user`'s, not analysed yet.
    pub fn new(user: &UserName, status: ImageStatus, content_type: &str) -> ImageRecord {
        ImageRecord {
            user_name: user.clone(),
            id: ImageId::new(),
            status,
            failure_reason: None,
            content_type: content_type.to_owned(),
            size: 0,
            width: None,
            height: None,
            taken_at: None,
            created_at: OffsetDateTime::now_utc(),
            labels: Vec::new(),
            faces: Vec::new(),
            text: Vec::new(),
            words: Vec::new(),
            color: None,
            object_etag: None,
            favourite: false,
            place: None,
            revision: 0,
        }
    }

    /// What the bytes said of the photo, and their size.
    pub fn with_facts(mut self, facts: &PhotoFacts, size: u64) -> ImageRecord {
        self.content_type = facts.content_type.to_owned();
        self.size = size;
        self.width = Some(facts.width);
        self.height = Some(facts.height);
        self.taken_at = facts.taken_at.clone();
        self
    }
}

/// The stores a photo's steps touch.
pub struct Library<'a> {
    pub images: &'a dyn ImageStore,
    pub photos: &'a dyn PhotoStore,
    pub events: &'a dyn Events,
    pub collections: &'a dyn FaceCollections,
}

impl Library<'_> {
    /// Accepts a photo sent whole: recorded and counted against `quotas`, stored, announced for
    /// analysis; on any failure after it was counted, nothing of it is left.
    pub async fn accept(&self, record: &ImageRecord, bytes: Vec<u8>, quotas: &QuotaSettings) -> Result<()> {
        self.images.create(record, quotas).await?;
        let stored = self.photos.put(&record.object_key(), bytes, &record.content_type).await;
        match stored.and(self.announce(record).await) {
            Ok(()) => Ok(()),
            Err(error) => Err(self.undo(record, error).await),
        }
    }

    /// Completes a presigned upload whose object the client has put: `record` says what its
    /// bytes are. Kept, counted and announced; over the quota nothing of it is left.
    ///
    /// A failure to announce it leaves it counted and `pending` rather than undone: the client's
    /// retry of `/complete` finds it so and calls [`Library::announce`] again, where an undo
    /// would answer that retry 404 for what was the service's fault.
    pub async fn complete(&self, record: &ImageRecord, quotas: &QuotaSettings) -> Result<()> {
        // Kept from now on: the bucket expires objects still tagged as pending uploads.
        self.photos.clear_upload_tag(&record.object_key()).await?;
        match self.images.complete_upload(record, quotas).await {
            Ok(()) => {}
            Err(error @ Error::QuotaExceeded(_)) => return Err(self.undo(record, error).await),
            Err(other) => return Err(other),
        }
        self.announce(record).await
    }

    /// Deletes a photo: its record, entries and counts, its object and face crops, and its
    /// faces where the engine keeps them. The deleted record; `None` when there was none.
    pub async fn delete(&self, user: &UserName, id: ImageId) -> Result<Option<ImageRecord>> {
        let Some(record) = self.images.delete(user, id).await? else { return Ok(None) };
        // The crops' keys are under the photo's.
        self.photos.delete_prefix(&record.object_key()).await?;
        let engine_ids: Vec<String> = record.faces.iter().filter_map(|face| face.engine_id.clone()).collect();
        if !engine_ids.is_empty() {
            self.collections.delete_faces(user, &engine_ids).await?;
        }
        Ok(Some(record))
    }

    /// Removes what an accepted-then-failed upload left, then returns the original error.
    pub async fn undo(&self, record: &ImageRecord, error: Error) -> Error {
        if let Err(cleanup) = self.images.delete(&record.user_name, record.id).await {
            tracing::error!(error = %cleanup, image = %record.id, "cleaning up a failed upload");
        }
        if let Err(cleanup) = self.photos.delete(&record.object_key()).await {
            tracing::error!(error = %cleanup, image = %record.id, "cleaning up a failed upload");
        }
        error
    }

    /// Queues a recorded photo for analysis. Announcing one twice is harmless: the analyzer
    /// writes an analysis only over the revision it read and skips photos already analysed.
    pub async fn announce(&self, record: &ImageRecord) -> Result<()> {
        self.events
            .new_image(&NewImageEvent {
                user_name: record.user_name.to_string(),
                image_id: record.id.to_string(),
                object_key: record.object_key(),
                content_type: record.content_type.clone(),
                size: record.size,
            })
            .await
    }
}
