//! Faces: where they are in a photo and a descriptor of each, for grouping into persons. One
//! trait, one file per engine, as for labels; the tier's `features.faces` turns it on.

pub mod builtin;
pub mod crop;
pub mod rekognition;

use std::sync::Arc;

use async_trait::async_trait;
use image::RgbImage;

pub use domain::grouping::distance;
pub use domain::{FoundFace, PhotoRegion};
use domain::{ImageId, Result, UserName};

/// Which photo of whose the faces are: an engine that keeps faces (Rekognition) files them
/// under it and matches them against the user's earlier ones.
#[derive(Debug, Clone, Copy)]
pub struct PhotoOf<'a> {
    pub user: &'a UserName,
    pub image: ImageId,
}

#[async_trait]
pub trait FaceFinder: Send + Sync {
    /// The faces of a decoded, oriented photo, most confident first.
    async fn faces(&self, photo: &Arc<RgbImage>, of: PhotoOf<'_>) -> Result<Vec<FoundFace>>;

    /// The longest side of the photo it needs to see (None: it looks at no pixels).
    fn photo_side(&self) -> Option<u32>;
}

/// The finder of tiers whose `features.faces` is off: no faces, no model loaded.
pub struct NoFaces;

#[async_trait]
impl FaceFinder for NoFaces {
    async fn faces(&self, _: &Arc<RgbImage>, _: PhotoOf<'_>) -> Result<Vec<FoundFace>> {
        Ok(Vec::new())
    }

    fn photo_side(&self) -> Option<u32> {
        None
    }
}
