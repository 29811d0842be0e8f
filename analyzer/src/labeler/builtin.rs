//! The built-in engine: EfficientNet-Lite0 (ImageNet-1k classes: objects and scenes), NanoDet
//! (COCO-80 objects, with counts) and the text detector (what [kind](super::kind) of picture it
//! is: a page, a diagram), run on the analyzer's [`engine`](crate::engine). The
//! weights are in the repository's `models/` (see models/README.md for provenance and
//! licences) and compiled into the binary, so a Lambda artifact carries them; they are loaded
//! once per process.
//!
//! Confidence, in percent: for the classifier, a label's probability is the sum over the
//! classes that are kinds of it (40% tabby, 30% tiger cat and 10% Egyptian cat make 80% cat);
//! detections, and the two models, are combined as independent evidence (noisy-OR), so two
//! persons found at 70% make 91% "person". Both are then weighed by how likely the picture is a
//! photo of things at all.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use image::RgbImage;
use image::imageops;
use ndarray::Array4;

use super::kind::{self, Composition, Kind};
use super::{Labeler, rank};
use crate::engine::{Model, off_async};
use crate::geometry::suppress;
use crate::pixels::resize;
use crate::text::detector::TextDetector;
use domain::Label;
use domain::labels::Hierarchy;
use domain::{Error, Result};

const CLASSIFIER: &[u8] = include_bytes!("../../../models/imagenet_efficientnet_lite0.onnx");
const DETECTOR: &[u8] = include_bytes!("../../../models/coco_nanodet.onnx");

const CLASSIFIER_SIDE: u32 = 224;
const CLASSIFIER_RESIZE: u32 = 256;
const DETECTOR_SIDE: u32 = 416;
const DETECTOR_STRIDES: [usize; 3] = [8, 16, 32];
const DETECTOR_BINS: usize = 11;
/// NanoDet's normalisation, per BGR channel.
const DETECTOR_MEAN: [f32; 3] = [103.53, 116.28, 123.675];
const DETECTOR_STD: [f32; 3] = [57.375, 57.12, 58.395];

/// Classes below this probability are noise, whatever the tier's threshold.
const MIN_CLASS_PROBABILITY: f32 = 0.03;
/// Detections below this score are dropped before NMS.
const MIN_DETECTION_SCORE: f32 = 0.35;
const NMS_IOU: f32 = 0.5;

/// The COCO class that counts people.
const PERSON: &str = "person";

/// One detected object.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub class: usize,
    pub score: f32,
    /// x0, y0, x1, y1 in detector input pixels.
    pub bounds: [f32; 4],
}

/// The engine; clones share the loaded models.
#[derive(Clone)]
pub struct BuiltinLabeler(Arc<Models>);

struct Models {
    classifier: Model,
    detector: Model,
    hierarchy: &'static Hierarchy,
    /// Where the text is: pages, charts and diagrams are told from photos of things by it.
    text: TextDetector,
}

impl BuiltinLabeler {
    /// Loads the models (about 150 ms); do it once per process.
    pub fn load() -> Result<Self> {
        Ok(Self(Arc::new(Models {
            classifier: Model::load("classifier", CLASSIFIER)?,
            detector: Model::load("detector", DETECTOR)?,
            hierarchy: domain::labels::hierarchy()?,
            text: TextDetector::load()?,
        })))
    }

    /// Labels from both models, with parents and counts, before the tier's thresholds.
    pub fn all_labels(&self, photo: &RgbImage) -> Result<Vec<Label>> {
        self.0.all_labels(photo)
    }

    /// ImageNet class probabilities, by class index.
    pub fn classify(&self, photo: &RgbImage) -> Result<Vec<f32>> {
        self.0.classify(photo)
    }

    /// COCO detections.
    pub fn detect(&self, photo: &RgbImage) -> Result<Vec<Detection>> {
        self.0.detect(photo)
    }

    /// What kind of picture it is, from its text and its pixels.
    pub fn kind(&self, photo: &RgbImage) -> Result<Kind> {
        self.0.kind(photo)
    }
}

impl Models {
    /// Class probabilities (ImageNet-1k, softmax).
    pub fn classify(&self, photo: &RgbImage) -> Result<Vec<f32>> {
        let (width, height) = photo.dimensions();
        let scale = CLASSIFIER_RESIZE as f32 / width.min(height).max(1) as f32;
        let resized = resize(
            photo,
            ((width as f32 * scale).round() as u32).max(CLASSIFIER_SIDE),
            ((height as f32 * scale).round() as u32).max(CLASSIFIER_SIDE),
        )?;
        let left = (resized.width() - CLASSIFIER_SIDE) / 2;
        let top = (resized.height() - CLASSIFIER_SIDE) / 2;
        let crop = imageops::crop_imm(&resized, left, top, CLASSIFIER_SIDE, CLASSIFIER_SIDE).to_image();
        let side = CLASSIFIER_SIDE as usize;
        let input =
            Array4::from_shape_fn((1, 3, side, side), |(_, c, y, x)| (f32::from(crop.get_pixel(x as u32, y as u32)[c]) - 127.0) / 128.0);
        let outputs = self.classifier.run(input)?;
        let logits = outputs.first().ok_or_else(|| Error::Internal("the classifier has no output".into()))?;
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exps: Vec<f32> = logits.iter().map(|v| (v - max).exp()).collect();
        let sum: f32 = exps.iter().sum();
        Ok(exps.into_iter().map(|e| e / sum).collect())
    }

    /// Objects found (COCO-80), after non-maximum suppression.
    pub fn detect(&self, photo: &RgbImage) -> Result<Vec<Detection>> {
        let side = DETECTOR_SIDE as usize;
        let stretched = resize(photo, DETECTOR_SIDE, DETECTOR_SIDE)?;
        let input = Array4::from_shape_fn((1, 3, side, side), |(_, c, y, x)| {
            // BGR order.
            let value = f32::from(stretched.get_pixel(x as u32, y as u32)[2 - c]);
            (value - DETECTOR_MEAN[c]) / DETECTOR_STD[c]
        });
        let outputs = self.detector.run(input)?;
        let mut candidates = Vec::new();
        for stride in DETECTOR_STRIDES {
            let cells = (side / stride) * (side / stride);
            let scores = self.detector.output(&outputs, cells, self.hierarchy.coco.len())?;
            let boxes = self.detector.output(&outputs, cells, 4 * DETECTOR_BINS)?;
            let grid = side / stride;
            for cell in 0..cells {
                let (class, score) = (0..self.hierarchy.coco.len())
                    .map(|class| (class, scores[[0, cell, class]]))
                    .fold((0, f32::MIN), |best, next| if next.1 > best.1 { next } else { best });
                if score < MIN_DETECTION_SCORE {
                    continue;
                }
                let centre_x = ((cell % grid) as f32 + 0.5) * stride as f32;
                let centre_y = ((cell / grid) as f32 + 0.5) * stride as f32;
                let distance = |side_index: usize| {
                    let bins: Vec<f32> = (0..DETECTOR_BINS).map(|bin| boxes[[0, cell, side_index * DETECTOR_BINS + bin]]).collect();
                    let max = bins.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let exps: Vec<f32> = bins.iter().map(|v| (v - max).exp()).collect();
                    let sum: f32 = exps.iter().sum();
                    exps.iter().enumerate().map(|(bin, e)| bin as f32 * e / sum).sum::<f32>() * stride as f32
                };
                candidates.push(Detection {
                    class,
                    score,
                    bounds: [centre_x - distance(0), centre_y - distance(1), centre_x + distance(2), centre_y + distance(3)],
                });
            }
        }
        Ok(non_maximum_suppression(candidates))
    }

    fn kind(&self, photo: &RgbImage) -> Result<Kind> {
        let regions = self.text.regions(photo, kind::TEXT_SIDE)?;
        Ok(Kind::of(&Composition::measure(photo, &regions)))
    }

    /// Labels from both models, with parents and counts, and the picture's kind, before the
    /// tier's thresholds.
    fn all_labels(&self, photo: &RgbImage) -> Result<Vec<Label>> {
        // The classifier's classes exclude each other: a label's probability is the sum over
        // the classes that are kinds of it.
        let mut classified: BTreeMap<&str, f32> = BTreeMap::new();
        for (class, probability) in self.classify(photo)?.into_iter().enumerate() {
            if probability >= MIN_CLASS_PROBABILITY {
                let class = &self.hierarchy.imagenet[class];
                for name in std::iter::once(&class.label).chain(&class.parents) {
                    let sum = classified.entry(name).or_insert(0.0);
                    *sum = (*sum + probability).min(1.0);
                }
            }
        }
        // Detections are separate pieces of evidence: a label is missed only if every
        // detection of it is wrong (noisy-OR).
        let detections = self.detect(photo)?;
        let mut detected: BTreeMap<&str, f32> = BTreeMap::new();
        let mut persons = 0;
        for detection in &detections {
            let class = &self.hierarchy.coco[detection.class];
            persons += usize::from(class.label == PERSON);
            for name in std::iter::once(&class.label).chain(&class.parents) {
                let miss = detected.entry(name).or_insert(1.0);
                *miss *= 1.0 - detection.score;
            }
        }
        let mut combined: BTreeMap<&str, f32> = classified.clone();
        for (name, miss) in &detected {
            let found = combined.entry(name).or_insert(0.0);
            // The two models are independent witnesses too.
            *found = 1.0 - (1.0 - *found) * miss;
        }
        // Several persons are also "people", three or more a "group" (as Rekognition labels
        // them), as sure as the persons themselves.
        let person = combined.get(PERSON).copied().unwrap_or(0.0);
        if persons >= 2 {
            combined.insert("people", person);
        }
        if persons >= 3 {
            combined.insert("group", person);
        }
        // Things are in photos of things: on a page or a chart, whatever the models were sure
        // of is weighed by how likely the picture is a photo at all.
        let kind = self.kind(photo)?;
        let things =
            combined.into_iter().map(|(name, confidence)| Label { name: name.to_owned(), confidence: confidence * kind.photo() * 100.0 });
        Ok(things.chain(kind.labels()).collect())
    }
}

/// Keeps the best detection of each overlapping group of the same class.
fn non_maximum_suppression(candidates: Vec<Detection>) -> Vec<Detection> {
    suppress(candidates, |d| d.score, |d| d.bounds, |a, b| a.class == b.class, NMS_IOU)
}

#[async_trait]
impl Labeler for BuiltinLabeler {
    async fn labels(&self, photo: &Arc<RgbImage>, max_labels: usize, min_confidence: f32) -> Result<Vec<Label>> {
        let (labeler, photo) = (self.clone(), Arc::clone(photo));
        let labels = off_async("labelling", move || labeler.all_labels(&photo)).await?;
        Ok(rank(labels, max_labels, min_confidence))
    }
}
