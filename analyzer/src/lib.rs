//! The analyzer: consumes QueueAnalysis (NewImage's SNS envelopes), labels each photo with the
//! tier's labeler and stores the labels where search and albums read them.
//!
//! The same [`Analyzer::handle_batch`] serves Lambda (an SQS event with partial batch failure
//! reporting) and `smart-album serve` ([`poller`], long polling the queue the way an event-source
//! mapping does). A message whose handling fails is left on the queue, so it comes back after
//! the visibility timeout and, after the tier's max receive count, lands in the dead-letter
//! queue. A photo that cannot be decoded is marked failed and its message acknowledged.

pub mod decode;
pub mod engine;
pub mod faces;
pub mod geometry;
pub mod labeler;
pub mod lambda;
pub mod pixels;
pub mod places;
pub mod poller;
pub mod renditions;
pub mod services;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;

use std::sync::Arc;

use futures::StreamExt;

use contract::TierSettings;
use domain::grouping::Grouped;
use domain::{
    Analysis, Error, FaceId, FoundFace, ImageId, ImageStatus, ImageStore, NewImageEvent, Result, Tenancy, TenantData, UserName,
    face_crop_key, persons, words_of,
};

use crate::engine::off_async;
use crate::faces::{FaceFinder, NoFaces, PhotoOf, crop};
use crate::labeler::Labeler;
use crate::text::{NoText, TextFinder};

/// What became of one message (all of them acknowledge it).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Labels and faces stored; the image is ready.
    Analysed { labels: usize, faces: usize },
    /// The photo cannot be decoded; the image is marked failed with this reason.
    Failed(String),
    /// Nothing to do: the image is gone, or was analysed before (a redelivery).
    Skipped(&'static str),
}

/// One queue message: its id (for batch failure reports and deletion) and body.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub body: String,
}

/// The NewImage event in a message body: SNS's envelope, or the event itself (raw delivery).
pub fn parse_event(body: &str) -> Result<NewImageEvent> {
    NewImageEvent::from_message_body(body).map_err(|err| Error::invalid("invalid_message", format!("not a NewImage event: {err}")))
}

/// What becomes of a message whose handling failed: the one place where domain errors turn
/// into queue behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Delete it: there is nothing left to do (the image or its photo is gone).
    Acknowledge,
    /// Leave it on the queue: it comes back after the visibility timeout and, after the tier's
    /// max receive count, lands in the dead-letter queue. A malformed message takes this path
    /// on purpose, so that it is kept there for inspection.
    Retry,
}

impl Disposition {
    pub fn of(error: &Error) -> Self {
        match error {
            Error::NotFound(_) => Disposition::Acknowledge,
            _ => Disposition::Retry,
        }
    }
}

/// The engines of a tier's features, loaded once per process.
pub struct Engines {
    pub labeler: Arc<dyn Labeler>,
    pub faces: Arc<dyn FaceFinder>,
    pub text: Arc<dyn TextFinder>,
}

impl Engines {
    /// Labels only, from `labeler`: no faces, no text.
    pub fn labels_only(labeler: Arc<dyn Labeler>) -> Self {
        Self { labeler, faces: Arc::new(NoFaces), text: Arc::new(NoText) }
    }

    /// The longest side of the photo the engines need, at least the labeler's.
    /// The gallery's preview needs [`renditions::PREVIEW_LONG_SIDE`] whatever the engines ask.
    fn photo_side(&self) -> u32 {
        [self.faces.photo_side(), self.text.photo_side()]
            .into_iter()
            .flatten()
            .fold(decode::LABELS_SIDE.max(renditions::PREVIEW_LONG_SIDE), u32::max)
    }
}

pub struct Analyzer {
    /// Each photo's tenant's stores, reached with that tenant's scoped access.
    tenants: Arc<dyn Tenancy>,
    engines: Engines,
    settings: TierSettings,
}

/// Faces found with less confidence are listed on their photo but not grouped (every real
/// face of the shared group photos scored 0.76 or more; the detector keeps 0.7 and up).
pub const MIN_GROUPED_SCORE: f32 = 0.75;

/// Whether a face of a photo `width` x `height` is grouped: large (`min_face_px`, in the photo's
/// own pixels) and sure enough.
pub fn passes_quality_gate(face: &FoundFace, width: u32, height: u32, min_face_px: u32) -> bool {
    let side = (face.bounds.width * width as f32).max(face.bounds.height * height as f32);
    face.score >= MIN_GROUPED_SCORE && side >= min_face_px as f32
}

impl Analyzer {
    pub fn new(tenants: Arc<dyn Tenancy>, engines: Engines, settings: TierSettings) -> Self {
        Self { tenants, engines, settings }
    }

    /// The quality gate: which faces are grouped, the others only listed.
    fn grouped(&self, faces: &[FoundFace], width: u32, height: u32) -> Vec<bool> {
        faces.iter().map(|face| passes_quality_gate(face, width, height, self.settings.faces.min_face_px)).collect()
    }

    /// Handles one message body; an error means "retry later".
    pub async fn handle(&self, body: &str) -> Result<Outcome> {
        let event = parse_event(body)?;
        let user = UserName::parse(&event.user_name)?;
        let id = ImageId::parse(&event.image_id)?;
        let TenantData { images, photos, .. } = self.tenants.data_of(&user).await?;
        let Some(record) = images.get(&user, id).await? else {
            return Ok(Outcome::Skipped("the image was deleted"));
        };
        match record.status {
            ImageStatus::Ready | ImageStatus::Failed => return Ok(Outcome::Skipped("analysed already")),
            ImageStatus::Uploading => return Ok(Outcome::Skipped("the upload was not completed")),
            ImageStatus::Pending => {}
        }
        // The key comes from the record, never from the message; the version too, where the
        // client put the bytes itself: those checked at `/complete`, not any put after.
        let bytes = match photos.read(&record.object_key(), record.object_etag.as_deref()).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(Outcome::Skipped("the photo object is gone")),
            Err(Error::PhotoChanged(reason)) => return fail(images.as_ref(), &user, id, reason).await,
            Err(other) => return Err(other),
        };
        // Where it was taken, from its EXIF GPS.
        let place = places::place_of(&bytes).await?;
        // Decoded once, as large as the engine that needs the most pixels asks.
        let (side, max_pixels) = (self.engines.photo_side(), self.settings.photos.max_pixels);
        let decoded = off_async("decoding", move || Ok(decode::decode_within(&bytes, side, max_pixels))).await?;
        // Shared by the engines, each on a blocking thread of its own.
        let photo = match decoded {
            Ok(photo) => Arc::new(photo),
            Err(decode::Undecodable(reason)) => return fail(images.as_ref(), &user, id, reason).await,
        };
        let labeler = &self.settings.labeler;
        let labels = self.engines.labeler.labels(&photo, labeler.max_labels as usize, labeler.min_confidence as f32).await?;
        let faces = self.engines.faces.faces(&photo, PhotoOf { user: &user, image: id }).await?;
        let text = self.engines.text.lines(&photo).await?;
        let words = words_of(&text, self.settings.text.max_words as usize);
        let (width, height) = (record.width.unwrap_or(photo.width()), record.height.unwrap_or(photo.height()));
        let grouped = self.grouped(&faces, width, height);
        let grouping = if faces.is_empty() {
            Grouped::default()
        } else {
            images.group_faces(&user, id, &faces, &grouped, self.settings.faces.max_distance).await?
        };
        for (face, index) in faces.iter().zip(0u32..) {
            let crop = crop::face_crop(&photo, &face.bounds)?;
            photos.put(&face_crop_key(&user, FaceId { image: id, index }), crop, "image/jpeg").await?;
        }
        let color = renditions::store(photos.as_ref(), &user, id, Arc::clone(&photo)).await?;
        let analysis = Analysis { labels, faces, persons: grouping.persons, text, words, color: Some(color), place };
        if images.put_analysis(&record, &analysis).await? {
            // The persons that took faces in moved: strays near them now join them (after the
            // analysis is stored, so that the merge finds this photo in the index).
            persons::absorb_strays(images.as_ref(), &user, &grouping.strays).await?;
            Ok(Outcome::Analysed { labels: analysis.labels.len(), faces: analysis.faces.len() })
        } else {
            // The photo's deletion did not see the crops written meanwhile.
            photos.delete_prefix(&format!("{}/", record.object_key())).await?;
            Ok(Outcome::Skipped("the image was deleted during analysis"))
        }
    }

    /// Handles messages, up to `concurrency` at once; the ids of those to retry.
    pub async fn handle_batch(&self, messages: Vec<Message>, concurrency: usize) -> Vec<String> {
        futures::stream::iter(messages)
            .map(|message| async move {
                match self.handle(&message.body).await {
                    Ok(outcome) => {
                        tracing::info!(message = %message.id, ?outcome, "analysed");
                        None
                    }
                    Err(error) => match Disposition::of(&error) {
                        Disposition::Acknowledge => {
                            tracing::info!(message = %message.id, %error, "nothing left to analyse");
                            None
                        }
                        Disposition::Retry if matches!(error, Error::Invalid { .. }) => {
                            tracing::warn!(message = %message.id, %error, "malformed message; left for the dead-letter queue");
                            Some(message.id)
                        }
                        Disposition::Retry => {
                            tracing::warn!(message = %message.id, %error, "analysis failed; the message will be retried");
                            Some(message.id)
                        }
                    },
                }
            })
            .buffer_unordered(concurrency.max(1))
            .filter_map(|failed| async move { failed })
            .collect()
            .await
    }
}

/// Ends the photo `failed` for good with `reason`.
async fn fail(images: &dyn ImageStore, user: &UserName, id: ImageId, reason: String) -> Result<Outcome> {
    images.mark_failed(user, id, &reason).await?;
    Ok(Outcome::Failed(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_messages_are_errors_left_for_the_dead_letter_queue() {
        let error = parse_event("poison").unwrap_err();
        assert!(matches!(error, Error::Invalid { .. }));
        assert_eq!(Disposition::of(&error), Disposition::Retry);
        assert_eq!(Disposition::of(&Error::NotFound("gone".into())), Disposition::Acknowledge);
        assert_eq!(Disposition::of(&Error::Aws { action: "GetObject".into(), message: "throttled".into() }), Disposition::Retry);
    }
}
