//! Text in photos: its lines, where they are and how sure the engine is. One file per engine,
//! as for labels and faces; the tier's `features.text` turns it on.

pub mod builtin;

use store::FaceBox;

/// A line of text found in a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    pub text: String,
    /// As fractions of the photo's width and height, like a face's box.
    pub bounds: FaceBox,
    /// 0 to 1: the mean of the recogniser's confidence in each character.
    pub confidence: f32,
}
