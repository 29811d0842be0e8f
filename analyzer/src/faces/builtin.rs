//! The built-in face engine: MediaPipe's BlazeFace (full range) finds faces and their
//! keypoints, each face is mapped by a similarity transform of its keypoints onto the chip the
//! descriptor was trained on (dlib's `get_face_chip`: 150 px, padding 0.25), and dlib's ResNet
//! gives its 128-d descriptor.
//! Both run on the analyzer's [`engine`](crate::engine); weights in `models/` (see
//! models/README.md), compiled into the binary and loaded once per process.
//!
//! BlazeFace sees 192x192 pixels: a whole group photo squeezed to that leaves faces of a few
//! pixels, so the photo is also searched in overlapping tiles of a half and a quarter of its
//! shorter side (at least 192 pixels), and the detections of every pass are merged by
//! non-maximum suppression.

use std::sync::Arc;

use async_trait::async_trait;
use image::RgbImage;
use ndarray::Array4;

use super::{FaceFinder, FoundFace, PhotoOf, PhotoRegion};
use crate::engine::{Model, off_async};
use crate::geometry::{Bounds, suppress};
use crate::pixels::resize;
use domain::{Error, Result};

const DETECTOR: &[u8] = include_bytes!("../../../models/face_detect_blazeface_full.onnx");
const DESCRIBER: &[u8] = include_bytes!("../../../models/face_embed_dlib_resnet.onnx");

const DETECTOR_SIDE: u32 = 192;
/// BlazeFace full range: one anchor per cell of a 48x48 grid (stride 4).
const GRID: usize = 48;
/// Box (centre x, centre y, width, height) then six keypoints (x, y), in input pixels.
const REGRESSION: usize = 16;
/// Below this the detector's faces include folds of clothing (seen at 0.64-0.67 in tiles of
/// the shared group photos; every real face there scores 0.71 or more).
const MIN_SCORE: f32 = 0.7;
const NMS_IOU: f32 = 0.3;
/// Tiles, as fractions of the photo's shorter side, each pass overlapping by half a tile.
/// Measured on a 29-face composite at 1,666 px (faces of 45-60 px): the whole photo alone
/// finds none, halves 8-17, halves and quarters 25-29. A tile is never smaller than the
/// detector's input: on the 500 x 375 group photos of tests/fixtures/people/groups (faces of
/// 37 px) skipping such tiles found 35 of 43 faces, 192 px tiles all 43 and no false face.
const TILE_FRACTIONS: [f32; 2] = [0.5, 0.25];

const DESCRIBER_SIDE: usize = 150;
/// The most samples a chip pixel averages along each side (a face of 8 x 150 px and more is
/// sampled more sparsely: none is that large at the engine's 1,920 px).
const MAX_STEPS: usize = 8;
/// Where BlazeFace's subject's right eye, left eye, nose tip and mouth centre lie in dlib's
/// 150 px face chip (padding 0.25): the medians over the 59 faces of the group photos and
/// bald_guys.jpg (tests/fixtures/people) of the detector's keypoints carried into the chip by
/// dlib's own 5-point alignment of the same face (spread 4-7 px). Mapped onto these, our
/// distances of the same-person and different-person pairs of the folder's other photos lie
/// within 0.02 of face_recognition's on average (measured in Python on the same models; the
/// bench's `people.pairs` shows it).
const CHIP_KEYPOINTS: [[f32; 2]; 4] = [[47.97, 46.77], [102.31, 46.81], [74.44, 79.02], [74.59, 106.61]];

/// One face found by the detector, in the photo's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub score: f32,
    pub bounds: Bounds,
    /// The subject's right eye, left eye (so usually left then right in the photo), nose tip
    /// and mouth centre.
    pub keypoints: [[f32; 2]; 4],
}

/// The engine; clones share the loaded models.
#[derive(Clone)]
pub struct BuiltinFaces(Arc<Models>);

struct Models {
    detector: Model,
    describer: Model,
}

impl BuiltinFaces {
    /// Loads both models; do it once per process.
    pub fn load() -> Result<Self> {
        Ok(Self(Arc::new(Models {
            detector: Model::load("face detector", DETECTOR)?,
            describer: Model::load("face descriptor", DESCRIBER)?,
        })))
    }

    /// Faces of the whole photo and of its tiles, merged. Each finer pass of tiles runs only
    /// where the faces found so far say it may find more ([`finer_pass_needed`]): a portrait's
    /// one large face needs none, a group of small faces needs every pass.
    pub fn detect(&self, photo: &RgbImage) -> Result<Vec<Detection>> {
        let (width, height) = photo.dimensions();
        let suppressed = |candidates| suppress(candidates, |d: &Detection| d.score, |d| d.bounds, |_, _| true, NMS_IOU);
        let mut found = suppressed(self.detect_square(photo, 0, 0, width.max(height))?);
        let shorter = width.min(height);
        let mut tiles: Vec<u32> = TILE_FRACTIONS
            .iter()
            // Smaller tiles would enlarge the photo's pixels, which finds faces in fabric.
            .map(|fraction| ((shorter as f32 * fraction) as u32).max(DETECTOR_SIDE))
            .filter(|&tile| tile < shorter)
            .collect();
        tiles.dedup();
        let mut coarser = None;
        for tile in tiles {
            if !finer_pass_needed(&found, shorter, coarser) {
                break;
            }
            let mut candidates = std::mem::take(&mut found);
            for top in tile_starts(height, tile) {
                for left in tile_starts(width, tile) {
                    candidates.extend(self.detect_square(photo, left, top, tile)?);
                }
            }
            found = suppressed(candidates);
            coarser = Some(tile);
        }
        Ok(found)
    }

    /// Faces in the square of `side` pixels at `left`, `top` (the part outside the photo is
    /// black), in the photo's pixels.
    fn detect_square(&self, photo: &RgbImage, left: u32, top: u32, side: u32) -> Result<Vec<Detection>> {
        let input_side = DETECTOR_SIDE as usize;
        let scale = DETECTOR_SIDE as f32 / side as f32;
        let region_width = side.min(photo.width() - left);
        let region_height = side.min(photo.height() - top);
        let region = image::imageops::crop_imm(photo, left, top, region_width, region_height).to_image();
        let scaled = resize(
            &region,
            ((region_width as f32 * scale).round() as u32).clamp(1, DETECTOR_SIDE),
            ((region_height as f32 * scale).round() as u32).clamp(1, DETECTOR_SIDE),
        )?;
        let input = Array4::from_shape_fn((1, input_side, input_side, 3), |(_, y, x, c)| {
            if (x as u32) < scaled.width() && (y as u32) < scaled.height() {
                f32::from(scaled.get_pixel(x as u32, y as u32)[c]) / 127.5 - 1.0
            } else {
                -1.0
            }
        });
        let outputs = self.0.detector.run(input)?;
        let regression = self.0.detector.output(&outputs, GRID * GRID, REGRESSION)?;
        let logits = self.0.detector.output(&outputs, GRID * GRID, 1)?;
        let to_photo = |value: f32, offset: u32| offset as f32 + value / scale;
        let mut found = Vec::new();
        for anchor in 0..GRID * GRID {
            let score = 1.0 / (1.0 + (-logits[[0, anchor, 0]].clamp(-80.0, 80.0)).exp());
            if score < MIN_SCORE {
                continue;
            }
            let centre_x = ((anchor % GRID) as f32 + 0.5) * (DETECTOR_SIDE as f32 / GRID as f32);
            let centre_y = ((anchor / GRID) as f32 + 0.5) * (DETECTOR_SIDE as f32 / GRID as f32);
            let value = |index: usize| regression[[0, anchor, index]];
            let (x, y) = (centre_x + value(0), centre_y + value(1));
            let (half_width, half_height) = (value(2) / 2.0, value(3) / 2.0);
            let keypoint = |k: usize| [to_photo(centre_x + value(4 + 2 * k), left), to_photo(centre_y + value(5 + 2 * k), top)];
            found.push(Detection {
                score,
                bounds: [
                    to_photo(x - half_width, left),
                    to_photo(y - half_height, top),
                    to_photo(x + half_width, left),
                    to_photo(y + half_height, top),
                ],
                keypoints: [keypoint(0), keypoint(1), keypoint(2), keypoint(3)],
            });
        }
        Ok(found)
    }

    /// The descriptor of a detected face: its chip, the face mapped onto [`CHIP_KEYPOINTS`]
    /// at the describer's 150x150 (RGB 0-255; its mean is subtracted inside the model).
    pub fn describe(&self, photo: &RgbImage, face: &Detection) -> Result<Vec<f32>> {
        let to_photo = Similarity::fit(&CHIP_KEYPOINTS, &face.keypoints);
        // A large face shrinks into the chip: each chip pixel averages `steps` x `steps` samples
        // across the photo pixels it covers, as dlib's pyramid does, rather than one that aliases.
        let steps = (to_photo.scale().ceil() as usize).clamp(1, MAX_STEPS);
        let offsets: Vec<f32> = (0..steps).map(|step| (step as f32 + 0.5) / steps as f32 - 0.5).collect();
        let input = Array4::from_shape_fn((1, 3, DESCRIBER_SIDE, DESCRIBER_SIDE), |(_, c, v, u)| {
            let mut sum = 0.0;
            for dv in &offsets {
                for du in &offsets {
                    let [x, y] = to_photo.apply([u as f32 + du, v as f32 + dv]);
                    // Chip and keypoints count pixel centres at whole numbers (as dlib does);
                    // `sample` at half numbers.
                    sum += sample(photo, x + 0.5, y + 0.5, c);
                }
            }
            sum / (steps * steps) as f32
        });
        let outputs = self.0.describer.run(input)?;
        let descriptor = outputs.first().ok_or_else(|| Error::Internal("the face descriptor has no output".into()))?;
        Ok(descriptor.iter().copied().collect())
    }

    /// Every face with its descriptor, most confident first.
    pub fn find(&self, photo: &RgbImage) -> Result<Vec<FoundFace>> {
        let (width, height) = (photo.width().max(1) as f32, photo.height().max(1) as f32);
        self.detect(photo)?
            .into_iter()
            .map(|face| {
                let [x0, y0, x1, y1] = face.bounds;
                let (x0, y0) = (x0.clamp(0.0, width), y0.clamp(0.0, height));
                let (x1, y1) = (x1.clamp(0.0, width), y1.clamp(0.0, height));
                let bounds = PhotoRegion { left: x0 / width, top: y0 / height, width: (x1 - x0) / width, height: (y1 - y0) / height };
                Ok(FoundFace::described(bounds, face.score, self.describe(photo, &face)?))
            })
            .collect()
    }
}

/// A rotation, uniform scale and shift of the plane: x' = a x - b y + tx, y' = b x + a y + ty.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Similarity {
    a: f32,
    b: f32,
    shift: [f32; 2],
}

impl Similarity {
    /// The similarity taking `from` closest to `to` (least squares; no reflection).
    fn fit<const N: usize>(from: &[[f32; 2]; N], to: &[[f32; 2]; N]) -> Self {
        let mean = |points: &[[f32; 2]; N]| {
            let sum = points.iter().fold([0.0, 0.0], |sum, p| [sum[0] + p[0], sum[1] + p[1]]);
            [sum[0] / N as f32, sum[1] / N as f32]
        };
        let (from_mean, to_mean) = (mean(from), mean(to));
        let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
        for (p, q) in from.iter().zip(to) {
            let (x, y) = (p[0] - from_mean[0], p[1] - from_mean[1]);
            let (u, v) = (q[0] - to_mean[0], q[1] - to_mean[1]);
            dot += x * u + y * v;
            cross += x * v - y * u;
            norm += x * x + y * y;
        }
        let (a, b) = if norm > 0.0 { (dot / norm, cross / norm) } else { (1.0, 0.0) };
        let shift = [to_mean[0] - (a * from_mean[0] - b * from_mean[1]), to_mean[1] - (b * from_mean[0] + a * from_mean[1])];
        Self { a, b, shift }
    }

    /// How much it enlarges.
    fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    fn apply(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        [self.a * x - self.b * y + self.shift[0], self.b * x + self.a * y + self.shift[1]]
    }
}

/// Where tiles of `tile` pixels start along a side of `length`, each overlapping the last by
/// half, the last one flush with the end.
/// A face alone in the whole photo and at least this share of its shorter side makes a
/// portrait: tiles look for faces too small to be seen whole, and a portrait's are strangers
/// far behind. Measured (the detector's boxes are tight: brow to chin): the single portraits of
/// tests/fixtures/people 0.21 (astronaut.png) to 0.9; where a photo holds several, they are
/// seen together in the whole photo or are smaller.
const PORTRAIT_FACE: f32 = 0.2;
/// The next, finer pass of tiles runs only when a face found is smaller than this share of the
/// last pass's tiles, so that others may be smaller still. Faces of one group vary about twice
/// in size. Measured in half-photo tiles: the five group photos sample1-6.jpg at 1,920 px 0.22
/// and more (their quarters find nothing more); bald_guys.jpg from 0.14, the 29-face composite
/// of analyzer/tests/faces.rs 0.08-0.09 and the VOC groups (192 px tiles after 219 px ones)
/// from 0.16, which need the finer tiles.
const SMALL_IN_TILE: f32 = 0.2;

/// Whether a finer pass of tiles may find faces the passes so far (the whole photo, then tiles
/// of side `coarser`) missed: not in a portrait ([`PORTRAIT_FACE`]); after the whole photo, yes
/// (faces too small for it); after tiles, only when a face found is small in them
/// ([`SMALL_IN_TILE`]).
fn finer_pass_needed(found: &[Detection], shorter: u32, coarser: Option<u32>) -> bool {
    let side = |face: &Detection| (face.bounds[2] - face.bounds[0]).max(face.bounds[3] - face.bounds[1]);
    match (coarser, found) {
        (None, [one]) => side(one) < shorter as f32 * PORTRAIT_FACE,
        (None, _) => true,
        (Some(tile), faces) => faces.iter().any(|face| side(face) < tile as f32 * SMALL_IN_TILE),
    }
}

fn tile_starts(length: u32, tile: u32) -> Vec<u32> {
    if tile >= length {
        return vec![0];
    }
    let step = (tile / 2).max(1);
    let mut starts: Vec<u32> = (0..length - tile).step_by(step as usize).collect();
    starts.push(length - tile);
    starts
}

/// Channel `c` of the photo at a fractional position, bilinear; black outside.
fn sample(photo: &RgbImage, x: f32, y: f32, c: usize) -> f32 {
    let (x, y) = (x - 0.5, y - 0.5);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |px: f32, py: f32| {
        if px < 0.0 || py < 0.0 || px >= photo.width() as f32 || py >= photo.height() as f32 {
            0.0
        } else {
            f32::from(photo.get_pixel(px as u32, py as u32)[c])
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[async_trait]
impl FaceFinder for BuiltinFaces {
    async fn faces(&self, photo: &Arc<RgbImage>, _: PhotoOf<'_>) -> Result<Vec<FoundFace>> {
        let (faces, photo) = (self.clone(), Arc::clone(photo));
        off_async("face", move || faces.find(&photo)).await
    }

    fn photo_side(&self) -> Option<u32> {
        Some(crate::decode::FACES_SIDE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face_of(side: f32) -> Detection {
        Detection { score: 0.9, bounds: [10.0, 10.0, 10.0 + side, 10.0 + side], keypoints: [[0.0; 2]; 4] }
    }

    #[test]
    fn finer_tiles_run_where_smaller_faces_may_be() {
        // After the whole photo (1,000 px shorter side): a portrait stops, anything else goes on.
        assert!(!finer_pass_needed(&[face_of(300.0)], 1000, None));
        assert!(finer_pass_needed(&[face_of(150.0)], 1000, None));
        assert!(finer_pass_needed(&[], 1000, None));
        assert!(finer_pass_needed(&[face_of(300.0), face_of(280.0)], 1000, None));
        // After 500 px tiles: a group of large faces stops, one small face among them goes on.
        assert!(!finer_pass_needed(&[face_of(120.0), face_of(110.0)], 1000, Some(500)));
        assert!(finer_pass_needed(&[face_of(120.0), face_of(60.0)], 1000, Some(500)));
        assert!(!finer_pass_needed(&[], 1000, Some(500)));
    }

    #[test]
    fn tiles_cover_the_side_overlapping_by_half() {
        assert_eq!(tile_starts(1000, 400), [0, 200, 400, 600]);
        assert_eq!(tile_starts(1000, 300), [0, 150, 300, 450, 600, 700]);
        assert_eq!(tile_starts(300, 400), [0]);
    }

    #[test]
    fn a_similarity_is_recovered_from_its_points() {
        // Turned 30 degrees, scaled 2.5 times, shifted: the fit finds it back exactly.
        let (a, b) = (2.5 * 30f32.to_radians().cos(), 2.5 * 30f32.to_radians().sin());
        let truth = Similarity { a, b, shift: [40.0, -7.0] };
        let moved = CHIP_KEYPOINTS.map(|point| truth.apply(point));
        let fitted = Similarity::fit(&CHIP_KEYPOINTS, &moved);
        for (found, expected) in [fitted.a, fitted.b, fitted.shift[0], fitted.shift[1]].into_iter().zip([a, b, 40.0, -7.0]) {
            assert!((found - expected).abs() < 1e-3, "{fitted:?}");
        }
        // Points that disagree: the fit lies between them, with no reflection.
        let noisy = [[0.0, 0.0], [10.0, 0.0], [5.0, 9.0], [5.0, 11.0]];
        let fitted = Similarity::fit(&[[0.0, 0.0], [10.0, 0.0], [5.0, 10.0], [5.0, 10.0]], &noisy);
        assert!((fitted.a - 1.0).abs() < 0.02 && fitted.b.abs() < 0.02, "{fitted:?}");
    }

    #[test]
    fn sampling_interpolates_and_is_black_outside() {
        let photo = RgbImage::from_fn(2, 1, |x, _| image::Rgb([if x == 0 { 0 } else { 200 }, 0, 0]));
        assert_eq!(sample(&photo, 1.0, 0.5, 0), 100.0);
        assert_eq!(sample(&photo, 0.5, 0.5, 0), 0.0);
        assert_eq!(sample(&photo, 50.0, 50.0, 0), 0.0);
    }
}
