//! The Rekognition engine's faces: the photo is indexed in the user's face collection
//! (IndexFaces), and each indexed face is searched for among the user's earlier faces
//! (SearchFaces, at the tier's `faces.min_similarity`). Rekognition keeps the faces; grouping
//! then places each face with the person of its most similar match (domain::grouping).

use std::sync::Arc;

use async_trait::async_trait;
use image::RgbImage;

use super::{FaceFinder, FoundFace, PhotoOf};
use crate::labeler::rekognition::JPEG_QUALITY;
use crate::pixels::jpeg;
use aws_adapters::RekognitionCollections;
use domain::Result;
use domain::grouping::MAX_GROUPED_FACES;

/// The photo's longest side as sent: a JPEG of it stays under IndexFaces' 5 MB, and faces
/// down to Rekognition's 40 px minimum in a group photo are still there.
pub const PHOTO_SIDE: u32 = 1920;

pub struct RekognitionFaces {
    collections: RekognitionCollections,
    min_similarity: f32,
}

impl RekognitionFaces {
    pub fn new(collections: RekognitionCollections, min_similarity: f32) -> Self {
        Self { collections, min_similarity }
    }
}

#[async_trait]
impl FaceFinder for RekognitionFaces {
    async fn faces(&self, photo: &Arc<RgbImage>, of: PhotoOf<'_>) -> Result<Vec<FoundFace>> {
        let bytes = jpeg(photo, JPEG_QUALITY)?;
        let indexed = self.collections.index(of.user, of.image, bytes, MAX_GROUPED_FACES as i32).await?;
        let mut faces = Vec::with_capacity(indexed.len());
        for face in indexed {
            let matches = match &face.engine_id {
                Some(engine_id) => self.collections.search(of.user, of.image, engine_id, self.min_similarity).await?,
                None => Vec::new(),
            };
            faces.push(FoundFace { bounds: face.bounds, score: face.score, descriptor: Vec::new(), engine_id: face.engine_id, matches });
        }
        Ok(faces)
    }

    fn photo_side(&self) -> Option<u32> {
        Some(PHOTO_SIDE)
    }
}
