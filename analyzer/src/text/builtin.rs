//! The built-in text engine: PP-OCRv6 (small) from PyPI's `rapidocr` wheel. The detector gives
//! a map of how likely each pixel is text; connected regions of it, widened as the detector
//! was trained (DB's "unclip"), are the lines; each line is cut out, turned upright when it is
//! much taller than wide, and read by the recogniser (CTC, greedy). Pre- and post-processing
//! follow rapidocr's defaults (models/README.md); both run on the analyzer's engine.

use std::sync::Arc;

use async_trait::async_trait;
use image::RgbImage;
use image::imageops;
use ndarray::Array4;

use super::{TextFinder, TextLine};
use crate::engine::{Model, off_async};
use crate::pixels::resize;
use domain::{Error, PhotoRegion, Result};

const DETECTOR: &[u8] = include_bytes!("../../../models/text_detect_ppocrv6_small.onnx");
const RECOGNISER: &[u8] = include_bytes!("../../../models/text_recognise_ppocrv6_small.onnx");

/// The detector sees the photo with its shorter side at least this (small text grows)...
const DETECTOR_MIN_SIDE: f32 = 736.0;
/// ...and its longer side at most this; both multiples of 32, as the network needs.
const DETECTOR_MAX_SIDE: f32 = 2000.0;
/// A pixel is text above this probability; a region is a line when its box averages above
/// `BOX_THRESHOLD`.
const PIXEL_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
/// How much a region is widened: the detector is trained on shrunk lines (DB's unclip ratio).
const UNCLIP_RATIO: f32 = 1.6;
/// Regions thinner than this (detector pixels) are noise.
const MIN_REGION_SIDE: usize = 3;
const MAX_LINES: usize = 1000;

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
    detector: Model,
    recogniser: Model,
    /// The recogniser's classes after the CTC blank: its dictionary, then a space.
    characters: Vec<String>,
}

/// A region of the detector's map, in photo pixels.
#[derive(Debug, Clone, Copy)]
struct Region {
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
}

impl BuiltinText {
    /// Loads both models; do it once per process.
    pub fn load() -> Result<Self> {
        let detector = Model::load("text detector", DETECTOR)?;
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
        for region in self.detect(photo)? {
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

    /// The line regions of the photo.
    fn detect(&self, photo: &RgbImage) -> Result<Vec<Region>> {
        let (width, height) = (photo.width() as f32, photo.height() as f32);
        let mut scale = (DETECTOR_MIN_SIDE / width.min(height)).max(1.0);
        scale = scale.min(DETECTOR_MAX_SIDE / width.max(height));
        let side = |value: f32| (((value * scale) / 32.0).round() as u32).max(1) * 32;
        let (input_width, input_height) = (side(width), side(height));
        let input = bgr_tensor(&resize(photo, input_width, input_height)?);
        let outputs = self.0.detector.run(input)?;
        let map = outputs.first().ok_or_else(|| Error::Internal("the text detector has no output".into()))?;
        let (map_height, map_width) = (map.shape()[2], map.shape()[3]);
        let probability: Vec<f32> = map.iter().copied().collect();
        let (x_scale, y_scale) = (width / map_width as f32, height / map_height as f32);
        let mut regions: Vec<Region> = components(&probability, map_width, map_height)
            .into_iter()
            .filter_map(|([x0, y0, x1, y1], mean)| {
                let (w, h) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
                if w.min(h) < MIN_REGION_SIDE as f32 || mean < BOX_THRESHOLD {
                    return None;
                }
                let grow = w * h * UNCLIP_RATIO / (2.0 * (w + h));
                Some(Region {
                    left: ((x0 as f32 - grow) * x_scale).max(0.0),
                    top: ((y0 as f32 - grow) * y_scale).max(0.0),
                    right: ((x1 as f32 + 1.0 + grow) * x_scale).min(width),
                    bottom: ((y1 as f32 + 1.0 + grow) * y_scale).min(height),
                })
            })
            .take(MAX_LINES)
            .collect();
        // Reading order: by line (regions whose tops are within half a line), then left to right.
        regions.sort_by(|a, b| a.top.total_cmp(&b.top));
        let mut lines: Vec<Vec<Region>> = Vec::new();
        for region in regions {
            match lines.last_mut() {
                Some(line) if region.top - line[0].top < (line[0].bottom - line[0].top) / 2.0 => line.push(region),
                _ => lines.push(vec![region]),
            }
        }
        Ok(lines
            .into_iter()
            .flat_map(|mut line| {
                line.sort_by(|a, b| a.left.total_cmp(&b.left));
                line
            })
            .collect())
    }

    /// The text of one region and the mean confidence of its characters; `None` when the
    /// recogniser is not sure enough or reads nothing.
    fn read(&self, photo: &RgbImage, region: Region) -> Result<Option<(String, f32)>> {
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

/// NCHW, BGR, scaled to -1..1, as PaddleOCR's models were trained.
fn bgr_tensor(image: &RgbImage) -> Array4<f32> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let mut tensor = Array4::<f32>::zeros((1, 3, height, width));
    for (x, y, pixel) in image.enumerate_pixels() {
        for channel in 0..3 {
            tensor[[0, 2 - channel, y as usize, x as usize]] = f32::from(pixel[channel]) / 127.5 - 1.0;
        }
    }
    tensor
}

/// The connected regions (8-neighbours) of the pixels above [`PIXEL_THRESHOLD`], the mask
/// first dilated by one pixel right and down (as rapidocr does): each region's bounding box
/// `[x0, y0, x1, y1]`, inclusive, and the mean probability of its pixels (of the region, not
/// of its box: a slanted line's box is mostly background).
fn components(probability: &[f32], width: usize, height: usize) -> Vec<([usize; 4], f32)> {
    let above: Vec<bool> = probability.iter().map(|p| *p > PIXEL_THRESHOLD).collect();
    let at = |x: usize, y: usize| above[y * width + x];
    let mask: Vec<bool> = (0..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .map(|(x, y)| at(x, y) || (x > 0 && at(x - 1, y)) || (y > 0 && at(x, y - 1)) || (x > 0 && y > 0 && at(x - 1, y - 1)))
        .collect();
    let mut seen = vec![false; mask.len()];
    let mut boxes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut bounds = [usize::MAX, usize::MAX, 0, 0];
        let (mut sum, mut pixels) = (0.0, 0);
        while let Some(index) = stack.pop() {
            let (x, y) = (index % width, index / width);
            sum += probability[index];
            pixels += 1;
            bounds = [bounds[0].min(x), bounds[1].min(y), bounds[2].max(x), bounds[3].max(y)];
            for (dx, dy) in [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)] {
                let (nx, ny) = (x as isize + dx, y as isize + dy);
                if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
                    continue;
                }
                let next = ny as usize * width + nx as usize;
                if mask[next] && !seen[next] {
                    seen[next] = true;
                    stack.push(next);
                }
            }
        }
        boxes.push((bounds, sum / pixels as f32));
    }
    boxes
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

    #[test]
    fn regions_are_connected_pixels_above_the_threshold() {
        #[rustfmt::skip]
        let map = [
            0.9, 0.9, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.8, 0.8,
        ];
        let mut boxes: Vec<[usize; 4]> = components(&map, 6, 3).into_iter().map(|(bounds, _)| bounds).collect();
        boxes.sort();
        // Dilated by one pixel right and down: [0,0]-[2,1] and [4,2]-[5,2].
        assert_eq!(boxes, [[0, 0, 2, 1], [4, 2, 5, 2]]);
        // The mean is of the region's pixels, the dilated ones included.
        let means: Vec<f32> = components(&map, 6, 3).into_iter().map(|(_, mean)| mean).collect();
        assert!(means.iter().all(|mean| *mean > 0.2 && *mean < 0.9), "{means:?}");
    }
}
