//! The built-in text engine: PP-OCRv6 (small) from PyPI's `rapidocr` wheel. The
//! [detector](super::detector) finds the lines; each is cut out, turned upright when it is much
//! taller than wide, and read by the recogniser (CTC, greedy), with rapidocr's pre- and
//! post-processing (models/README.md); both run on the analyzer's engine.

use std::sync::Arc;

use super::detector::{TextDetector, TextRegion, bgr_tensor};
use super::{TextFinder, TextLine};
use crate::engine::{Model, off_async};
use crate::pixels::resize;
use async_trait::async_trait;
use domain::{Error, PhotoRegion, Result};
use image::RgbImage;
use image::imageops;

const RECOGNISER: &[u8] = include_bytes!("../../../models/text_recognise_ppocrv6_small.onnx");

/// The longest side the detector sees a photo at: a page's small print stays legible.
const DETECTOR_MAX_SIDE: f32 = 2000.0;

const LINE_HEIGHT: u32 = 48;
/// The widest line read at once, as a multiple of its height.
const MAX_LINE_RATIO: u32 = 40;
/// Lines read with less confidence are left out (rapidocr's `text_score`)...
const MIN_CONFIDENCE: f32 = 0.5;
/// ...and a lone character with less than this: in photos without text, round shapes read as
/// "O" or "p" at 0.57-0.62 (the cat's eyes in chelsea.png).
const MIN_LONE_CHARACTER_CONFIDENCE: f32 = 0.9;

/// The engine; clones share the loaded models.
#[derive(Clone)]
pub struct BuiltinText(Arc<Models>);

struct Models {
    detector: TextDetector,
    recogniser: Model,
    /// The recogniser's classes after the CTC blank: its dictionary, then a space.
    characters: Vec<String>,
}

impl BuiltinText {
    /// Loads both models; do it once per process.
    pub fn load() -> Result<Self> {
        let detector = TextDetector::load()?;
        let recogniser = Model::load("text recogniser", RECOGNISER)?;
        let dictionary =
            recogniser.metadata("character")?.ok_or_else(|| Error::Config("the text recogniser has no character dictionary".into()))?;
        let mut characters: Vec<String> = dictionary.split('\n').map(str::to_owned).collect();
        characters.push(" ".into());
        Ok(Self(Arc::new(Models { detector, recogniser, characters })))
    }

    /// The lines of text of a decoded, oriented photo, top to bottom, then left to right.
    pub fn find(&self, photo: &RgbImage) -> Result<Vec<TextLine>> {
        let (width, height) = (photo.width().max(1) as f32, photo.height().max(1) as f32);
        let mut lines = Vec::new();
        for region in self.0.detector.regions(photo, DETECTOR_MAX_SIDE)? {
            let Some((text, confidence)) = self.read(photo, region)? else { continue };
            let bounds = PhotoRegion {
                left: region.left / width,
                top: region.top / height,
                width: (region.right - region.left) / width,
                height: (region.bottom - region.top) / height,
            };
            lines.push(TextLine { text, bounds, confidence });
        }
        Ok(lines)
    }

    /// The text of one region and the mean confidence of its characters; `None` when the
    /// recogniser is not sure enough or reads nothing.
    fn read(&self, photo: &RgbImage, region: TextRegion) -> Result<Option<(String, f32)>> {
        let (left, top) = (region.left as u32, region.top as u32);
        let width = ((region.right - region.left) as u32).max(1);
        let height = ((region.bottom - region.top) as u32).max(1);
        let mut line = imageops::crop_imm(photo, left, top, width, height).to_image();
        // A line much taller than wide is vertical: turn it to read it.
        if height as f32 >= 1.5 * width as f32 {
            line = imageops::rotate270(&line);
        }
        let ratio = line.width() as f32 / line.height().max(1) as f32;
        let input_width = ((LINE_HEIGHT as f32 * ratio).ceil() as u32).clamp(LINE_HEIGHT / 3, LINE_HEIGHT * MAX_LINE_RATIO);
        let input = bgr_tensor(&resize(&line, input_width, LINE_HEIGHT)?);
        let outputs = self.0.recogniser.run(input)?;
        let scores = outputs.first().ok_or_else(|| Error::Internal("the text recogniser has no output".into()))?;
        let classes = scores.shape()[2];
        let scores: Vec<f32> = scores.iter().copied().collect();
        let (text, confidence) = greedy_ctc(&scores, classes, &self.0.characters);
        let text = text.trim().to_owned();
        let least = if text.chars().count() == 1 { MIN_LONE_CHARACTER_CONFIDENCE } else { MIN_CONFIDENCE };
        Ok((!text.is_empty() && confidence >= least).then_some((text, confidence)))
    }
}

#[async_trait]
impl TextFinder for BuiltinText {
    async fn lines(&self, photo: &Arc<RgbImage>) -> Result<Vec<TextLine>> {
        let (text, photo) = (self.clone(), Arc::clone(photo));
        off_async("text", move || text.find(&photo)).await
    }

    fn photo_side(&self) -> Option<u32> {
        Some(DETECTOR_MAX_SIDE as u32)
    }
}

/// CTC greedy decoding of `[steps, classes]` scores (class 0 the blank): the most likely class
/// at each step, repeats and blanks dropped; the text and the mean score of its characters.
fn greedy_ctc(scores: &[f32], classes: usize, characters: &[String]) -> (String, f32) {
    let mut text = String::new();
    let mut kept = Vec::new();
    let mut previous = 0;
    for step in scores.chunks(classes) {
        let (class, score) =
            step.iter().enumerate().fold((0, f32::MIN), |best, (class, score)| if *score > best.1 { (class, *score) } else { best });
        if class != 0
            && class != previous
            && let Some(character) = characters.get(class - 1)
        {
            text.push_str(character);
            kept.push(score);
        }
        previous = class;
    }
    let confidence = if kept.is_empty() { 0.0 } else { kept.iter().sum::<f32>() / kept.len() as f32 };
    (text, confidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctc_drops_blanks_and_repeats_but_keeps_doubled_letters_split_by_a_blank() {
        let characters: Vec<String> = ["a", "b", "l"].iter().map(|c| c.to_string()).collect();
        // Steps: a a _ l _ l b  (class 0 is the blank).
        let steps = [1, 1, 0, 3, 0, 3, 2];
        let scores: Vec<f32> = steps.iter().flat_map(|class| (0..4).map(move |c| if c == *class { 0.9 } else { 0.01 })).collect();
        let (text, confidence) = greedy_ctc(&scores, 4, &characters);
        assert_eq!(text, "allb");
        assert!((confidence - 0.9).abs() < 1e-6);
    }
}
