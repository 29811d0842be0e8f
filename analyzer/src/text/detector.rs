//! PP-OCRv6's text detector (small), from PyPI's `rapidocr` wheel: where the lines of text of a
//! photo are. It gives a map of how likely each pixel is text; connected regions of it, widened
//! as the detector was trained (DB's "unclip"), are the lines. Pre- and post-processing follow
//! rapidocr's defaults (models/README.md). The text engine reads the lines it finds; the
//! built-in labeler measures how much of a picture is text.

use image::RgbImage;
use ndarray::Array4;

use crate::engine::Model;
use crate::pixels::resize;
use domain::{Error, Result};

const DETECTOR: &[u8] = include_bytes!("../../../models/text_detect_ppocrv6_small.onnx");

/// The detector sees the photo with its shorter side at least this (small text grows), and
/// both sides multiples of 32, as the network needs.
const DETECTOR_MIN_SIDE: f32 = 736.0;
/// A pixel is text above this probability; a region is a line when its box averages above
/// `BOX_THRESHOLD`.
const PIXEL_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
/// How much a region is widened: the detector is trained on shrunk lines (DB's unclip ratio).
const UNCLIP_RATIO: f32 = 1.6;
/// Regions thinner than this (detector pixels) are noise.
const MIN_REGION_SIDE: usize = 3;
const MAX_LINES: usize = 1000;

/// A line of text, in photo pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextRegion {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

/// The loaded detector; load it once per process.
pub struct TextDetector(Model);

impl TextDetector {
    pub fn load() -> Result<Self> {
        Ok(Self(Model::load("text detector", DETECTOR)?))
    }

    /// The line regions of a photo in reading order (by line, then left to right), in its
    /// pixels. The detector sees it with its shorter side at least 736 px (small text grows)
    /// and its longer side at most `max_side`.
    pub fn regions(&self, photo: &RgbImage, max_side: f32) -> Result<Vec<TextRegion>> {
        let (width, height) = (photo.width() as f32, photo.height() as f32);
        let mut scale = (DETECTOR_MIN_SIDE / width.min(height)).max(1.0);
        scale = scale.min(max_side / width.max(height));
        let side = |value: f32| (((value * scale) / 32.0).round() as u32).max(1) * 32;
        let (input_width, input_height) = (side(width), side(height));
        let input = bgr_tensor(&resize(photo, input_width, input_height)?);
        let outputs = self.0.run(input)?;
        let map = outputs.first().ok_or_else(|| Error::Internal("the text detector has no output".into()))?;
        let (map_height, map_width) = (map.shape()[2], map.shape()[3]);
        let probability: Vec<f32> = map.iter().copied().collect();
        let (x_scale, y_scale) = (width / map_width as f32, height / map_height as f32);
        let mut regions: Vec<TextRegion> = components(&probability, map_width, map_height)
            .into_iter()
            .filter_map(|([x0, y0, x1, y1], mean)| {
                let (w, h) = ((x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32);
                if w.min(h) < MIN_REGION_SIDE as f32 || mean < BOX_THRESHOLD {
                    return None;
                }
                let grow = w * h * UNCLIP_RATIO / (2.0 * (w + h));
                Some(TextRegion {
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
        let mut lines: Vec<Vec<TextRegion>> = Vec::new();
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
}

/// NCHW, BGR, scaled to -1..1, as PaddleOCR's models were trained.
pub(super) fn bgr_tensor(image: &RgbImage) -> Array4<f32> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
