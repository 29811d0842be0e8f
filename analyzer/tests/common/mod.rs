//! What the analyzer's tests share: a tier of the defaults and a photo stored as an upload
//! leaves it, over the in-memory stores.

use contract::{
    FaceSettings, Features, LabelerSettings, Limit, NewImageEvent, PhotoSettings, QuotaSettings, SourceLimits, TextSettings, TierSettings,
};
use domain::memory::{MemoryImages, MemoryPhotos};
use domain::{ImageRecord, ImageStatus, ImageStore, PhotoStore, UserName};

/// A tier with these labeler settings and the defaults otherwise.
pub fn tier(labeler: LabelerSettings) -> TierSettings {
    TierSettings {
        features: Features { labels: true, faces: true, text: false },
        labeler,
        quotas: QuotaSettings { photos_per_user: Limit::Unlimited, bytes_per_user: Limit::Unlimited, max_photo_bytes: 1 << 30 },
        faces: FaceSettings::default(),
        text: TextSettings::default(),
        photos: PhotoSettings::default(),
        per_source: SourceLimits::default(),
        requests: None,
    }
}

pub async fn stored_photo(images: &MemoryImages, photos: &MemoryPhotos, user: &UserName, bytes: &[u8]) -> NewImageEvent {
    let record = ImageRecord { size: bytes.len() as u64, ..ImageRecord::new(user, ImageStatus::Pending, "image/png") };
    let quotas = QuotaSettings { photos_per_user: Limit::Unlimited, bytes_per_user: Limit::Unlimited, max_photo_bytes: 1 << 30 };
    photos.put(&record.object_key(), bytes.to_vec(), "image/png").await.unwrap();
    images.create(&record, &quotas).await.unwrap();
    NewImageEvent {
        user_name: user.to_string(),
        image_id: record.id.to_string(),
        object_key: record.object_key(),
        content_type: record.content_type,
        size: record.size,
    }
}
