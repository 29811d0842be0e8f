//! The Rekognition engine's text: DetectText on the photo (a JPEG under its 5 MB limit); its
//! LINE detections are the lines (its WORD detections repeat them word by word).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_rekognition::Client;
use aws_sdk_rekognition::primitives::Blob;
use aws_sdk_rekognition::types::{Image, TextTypes};
use image::RgbImage;

use super::{TextFinder, TextLine};
use crate::labeler::rekognition::JPEG_QUALITY;
use crate::pixels::jpeg;
use domain::{PhotoRegion, Result};

/// The photo's longest side as sent: its JPEG stays under DetectText's 5 MB.
pub const PHOTO_SIDE: u32 = 1920;

pub struct RekognitionText {
    client: Client,
}

impl RekognitionText {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl TextFinder for RekognitionText {
    async fn lines(&self, photo: &Arc<RgbImage>) -> Result<Vec<TextLine>> {
        let answer = self
            .client
            .detect_text()
            .image(Image::builder().bytes(Blob::new(jpeg(photo, JPEG_QUALITY)?)).build())
            .send()
            .await
            .map_err(aws_adapters::aws_error("Rekognition DetectText"))?;
        let side = |value: Option<f32>| value.unwrap_or(0.0).clamp(0.0, 1.0);
        Ok(answer
            .text_detections()
            .iter()
            .filter(|detection| detection.r#type() == Some(&TextTypes::Line))
            .filter_map(|detection| {
                let text = detection.detected_text()?.trim().to_owned();
                let bounds = detection.geometry().and_then(|geometry| geometry.bounding_box());
                let bounds = PhotoRegion {
                    left: side(bounds.and_then(|b| b.left)),
                    top: side(bounds.and_then(|b| b.top)),
                    width: side(bounds.and_then(|b| b.width)),
                    height: side(bounds.and_then(|b| b.height)),
                };
                (!text.is_empty()).then(|| TextLine { text, bounds, confidence: detection.confidence().unwrap_or(0.0) / 100.0 })
            })
            .collect())
    }

    fn photo_side(&self) -> Option<u32> {
        Some(PHOTO_SIDE)
    }
}
