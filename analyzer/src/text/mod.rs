//! Text in photos: its lines, where they are and how sure the engine is. One trait, one file
//! per engine, as for labels and faces; the tier's `features.text` turns it on.

pub mod builtin;
pub mod detector;
pub mod rekognition;

use std::sync::Arc;

use async_trait::async_trait;
use image::RgbImage;

use domain::Result;
pub use domain::TextLine;

#[async_trait]
pub trait TextFinder: Send + Sync {
    /// The lines of text of a decoded, oriented photo, in reading order.
    async fn lines(&self, photo: &Arc<RgbImage>) -> Result<Vec<TextLine>>;

    /// The longest side of the photo it needs to see (None: it looks at no pixels).
    fn photo_side(&self) -> Option<u32>;
}

/// The finder of tiers whose `features.text` is off: no text, no model loaded.
pub struct NoText;

#[async_trait]
impl TextFinder for NoText {
    async fn lines(&self, _: &Arc<RgbImage>) -> Result<Vec<TextLine>> {
        Ok(Vec::new())
    }

    fn photo_side(&self) -> Option<u32> {
        None
    }
}
