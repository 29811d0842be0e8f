//! The Rekognition engine: DetectLabels with the tier's max labels and min confidence,
//! keeping Rekognition's parents as labels too ("Cat" with parents "Pet", "Animal", "Mammal").
//! The photo is sent as a downscaled JPEG, which stays under DetectLabels' 5 MB image limit.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::Image;
use image::RgbImage;

use super::{Labeler, rank};
use crate::pixels::jpeg;
use domain::Label;
use domain::Result;

pub const JPEG_QUALITY: u8 = 90;

#[derive(Clone)]
pub struct RekognitionLabeler {
    client: Client,
}

impl RekognitionLabeler {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Labeler for RekognitionLabeler {
    async fn labels(&self, photo: &Arc<RgbImage>, max_labels: usize, min_confidence: f32) -> Result<Vec<Label>> {
        let answer = self
            .client
            .detect_labels()
            .image(Image::builder().bytes(Blob::new(jpeg(photo, JPEG_QUALITY)?)).build())
            .max_labels(i32::try_from(max_labels).unwrap_or(i32::MAX))
            .min_confidence(min_confidence)
            .send()
            .await
            .map_err(aws_adapters::aws_error("Rekognition DetectLabels"))?;
        let mut labels = Vec::new();
        for label in answer.labels.unwrap_or_default() {
            let (Some(name), Some(confidence)) = (label.name, label.confidence) else { continue };
            for parent in label.parents.unwrap_or_default().into_iter().filter_map(|p| p.name) {
                labels.push(Label { name: parent.to_lowercase(), confidence });
            }
            labels.push(Label { name: name.to_lowercase(), confidence });
        }
        Ok(rank(labels, max_labels, min_confidence))
    }
}
