//! Rekognition face collections (tiers whose engine is Rekognition): one per user, named by
//! [`contract::names::faces_collection`] and created on first use. A photo's faces are indexed
//! with the photo's id as their ExternalImageId, matched against the user's earlier faces, and
//! removed with the photo; the collection goes with the account. The stores keep which person
//! each face is (the photo's grouping), so Rekognition only answers "which faces look alike".

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::{BoundingBox, Image, QualityFilter};
use contract::{TierSettings, VisionEngine};

use domain::Result;
use domain::face_collections::{FaceCollections, NoCollections};
use domain::model::{FaceMatch, ImageId, PhotoRegion, UserName};

use crate::aws_error;

/// A face Rekognition found in a photo: indexed (with its id) or left out by its quality filter.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedFace {
    pub engine_id: Option<String>,
    pub bounds: PhotoRegion,
    /// 0 to 1.
    pub score: f32,
}

/// The most faces one SearchFaces returns: the best match decides, a few more let a person
/// already taken by another face of the photo give way to the next.
const MAX_MATCHES: i32 = 10;

#[derive(Clone)]
pub struct RekognitionCollections {
    client: Client,
    stack: String,
}

fn bounds(bounding: Option<&BoundingBox>) -> PhotoRegion {
    let side = |value: Option<f32>| value.unwrap_or(0.0).clamp(0.0, 1.0);
    let bounding = bounding.cloned().unwrap_or_else(|| BoundingBox::builder().build());
    PhotoRegion { left: side(bounding.left), top: side(bounding.top), width: side(bounding.width), height: side(bounding.height) }
}

/// The face collections of stack `stack`: Rekognition's where its tier's engine keeps faces
/// there, else none.
pub fn of_stack(settings: &TierSettings, client: Client, stack: impl Into<String>) -> Arc<dyn FaceCollections> {
    if settings.features.faces && settings.labeler.engine == VisionEngine::Rekognition {
        Arc::new(RekognitionCollections::new(client, stack))
    } else {
        Arc::new(NoCollections)
    }
}

impl RekognitionCollections {
    /// The collections of stack `stack` (named after it, so that its roles reach only these).
    pub fn new(client: Client, stack: impl Into<String>) -> Self {
        Self { client, stack: stack.into() }
    }

    pub fn collection(&self, user: &UserName) -> String {
        contract::names::faces_collection(&self.stack, user.as_str())
    }

    /// Deletes every face collection of the stack, whoever's (`deployer down --purge`: the
    /// faces must not outlive the photos); how many there were.
    pub async fn delete_all(&self) -> Result<usize> {
        let prefix = contract::names::faces_collection_prefix(&self.stack);
        let mut pages = self.client.list_collections().into_paginator().send();
        let mut ours = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws_error("Rekognition ListCollections"))?;
            ours.extend(page.collection_ids().iter().filter(|id| id.starts_with(&prefix)).cloned());
        }
        for collection in &ours {
            match self.client.delete_collection().collection_id(collection).send().await.map_err(aws_sdk_rekognition::Error::from) {
                Ok(_) | Err(aws_sdk_rekognition::Error::ResourceNotFoundException(_)) => {}
                Err(err) => return Err(aws_error("Rekognition DeleteCollection")(err)),
            }
        }
        Ok(ours.len())
    }

    /// Indexes the faces of photo `image` (JPEG bytes, at most 5 MB) in the user's collection,
    /// creating it on first use; the indexed faces first, most confident first, then those
    /// Rekognition found but would not index (too small, blurred: listed, never grouped).
    pub async fn index(&self, user: &UserName, image: ImageId, jpeg: Vec<u8>, max_faces: i32) -> Result<Vec<IndexedFace>> {
        let collection = self.collection(user);
        let request = || {
            self.client
                .index_faces()
                .collection_id(&collection)
                .external_image_id(image.to_string())
                .image(Image::builder().bytes(Blob::new(jpeg.clone())).build())
                .max_faces(max_faces)
                .quality_filter(QualityFilter::Auto)
        };
        let answer = match request().send().await.map_err(aws_sdk_rekognition::Error::from) {
            Err(aws_sdk_rekognition::Error::ResourceNotFoundException(_)) => {
                self.create(&collection).await?;
                request().send().await.map_err(aws_error("Rekognition IndexFaces"))?
            }
            other => other.map_err(aws_error("Rekognition IndexFaces"))?,
        };
        let mut indexed: Vec<IndexedFace> = answer
            .face_records()
            .iter()
            .filter_map(|record| record.face())
            .map(|face| IndexedFace {
                engine_id: face.face_id().map(str::to_owned),
                bounds: bounds(face.bounding_box()),
                score: face.confidence().unwrap_or(0.0) / 100.0,
            })
            .collect();
        indexed.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut left_out: Vec<IndexedFace> = answer
            .unindexed_faces()
            .iter()
            .filter_map(|unindexed| unindexed.face_detail())
            .map(|detail| IndexedFace {
                engine_id: None,
                bounds: bounds(detail.bounding_box()),
                score: detail.confidence().unwrap_or(0.0) / 100.0,
            })
            .collect();
        left_out.sort_by(|a, b| b.score.total_cmp(&a.score));
        indexed.extend(left_out);
        Ok(indexed)
    }

    async fn create(&self, collection: &str) -> Result<()> {
        match self.client.create_collection().collection_id(collection).send().await.map_err(aws_sdk_rekognition::Error::from) {
            // Another photo of the user created it a moment before.
            Ok(_) | Err(aws_sdk_rekognition::Error::ResourceAlreadyExistsException(_)) => Ok(()),
            Err(err) => Err(aws_error("Rekognition CreateCollection")(err)),
        }
    }

    /// The user's faces on other photos like face `engine_id` of photo `image`, at
    /// `min_similarity` percent or more, most similar first.
    pub async fn search(&self, user: &UserName, image: ImageId, engine_id: &str, min_similarity: f32) -> Result<Vec<FaceMatch>> {
        let answer = self
            .client
            .search_faces()
            .collection_id(self.collection(user))
            .face_id(engine_id)
            .face_match_threshold(min_similarity)
            .max_faces(MAX_MATCHES)
            .send()
            .await
            .map_err(aws_error("Rekognition SearchFaces"))?;
        let mut matches: Vec<FaceMatch> = answer
            .face_matches()
            .iter()
            .filter_map(|found| {
                let face = found.face()?;
                // Faces indexed from this photo before (an earlier, interrupted attempt) are
                // not other photos.
                let photo = ImageId::parse(face.external_image_id()?).ok().filter(|photo| *photo != image)?;
                Some(FaceMatch { image: photo, engine_id: face.face_id()?.to_owned(), similarity: found.similarity()? })
            })
            .collect();
        matches.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
        Ok(matches)
    }
}

#[async_trait]
impl FaceCollections for RekognitionCollections {
    async fn delete_faces(&self, user: &UserName, engine_ids: &[String]) -> Result<()> {
        // DeleteFaces takes up to 4096 ids.
        for chunk in engine_ids.chunks(4096) {
            let answer = self.client.delete_faces().collection_id(self.collection(user)).set_face_ids(Some(chunk.to_vec())).send().await;
            match answer.map_err(aws_sdk_rekognition::Error::from) {
                Ok(_) | Err(aws_sdk_rekognition::Error::ResourceNotFoundException(_)) => {}
                Err(err) => return Err(aws_error("Rekognition DeleteFaces")(err)),
            }
        }
        Ok(())
    }

    async fn delete_user(&self, user: &UserName) -> Result<()> {
        match self.client.delete_collection().collection_id(self.collection(user)).send().await.map_err(aws_sdk_rekognition::Error::from) {
            // A user who never had a face has no collection.
            Ok(_) | Err(aws_sdk_rekognition::Error::ResourceNotFoundException(_)) => Ok(()),
            Err(err) => Err(aws_error("Rekognition DeleteCollection")(err)),
        }
    }
}
