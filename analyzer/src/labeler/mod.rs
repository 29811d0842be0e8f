//! Labelers: what is in a photo, as labels with confidence and their parents. One trait, one
//! file per engine; the tier chooses the engine (`labeler.engine` in stacks/*.yaml).

pub mod builtin;
pub mod kind;
pub mod rekognition;

use std::collections::BTreeMap;

use std::sync::Arc;

use async_trait::async_trait;
use image::RgbImage;

use domain::Label;
use domain::Result;

/// The most labels one image keeps (engines' labels plus parents). It bounds the DynamoDB
/// transactions that count albums (100 items at most) and the index entries per image.
pub const MAX_STORED_LABELS: usize = 40;

#[async_trait]
pub trait Labeler: Send + Sync {
    /// Labels of a decoded, oriented, downscaled photo, at most `max_labels` of them with at
    /// least `min_confidence` percent, most confident first.
    async fn labels(&self, photo: &Arc<RgbImage>, max_labels: usize, min_confidence: f32) -> Result<Vec<Label>>;
}

/// The labeler of tiers whose `features.labels` is off: no labels, no model loaded.
pub struct NoLabels;

#[async_trait]
impl Labeler for NoLabels {
    async fn labels(&self, _: &Arc<RgbImage>, _: usize, _: f32) -> Result<Vec<Label>> {
        Ok(Vec::new())
    }
}

/// Merges labels by name (highest confidence wins), keeps those of at least `min_confidence`,
/// most confident first (then by name), at most `max_labels`.
pub fn rank(labels: impl IntoIterator<Item = Label>, max_labels: usize, min_confidence: f32) -> Vec<Label> {
    let mut best: BTreeMap<String, f32> = BTreeMap::new();
    for label in labels {
        let entry = best.entry(label.name).or_insert(label.confidence);
        *entry = entry.max(label.confidence);
    }
    let mut ranked: Vec<Label> = best
        .into_iter()
        .filter(|(_, confidence)| *confidence >= min_confidence)
        .map(|(name, confidence)| Label { name, confidence })
        .collect();
    ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.name.cmp(&b.name)));
    ranked.truncate(max_labels.min(MAX_STORED_LABELS));
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, confidence: f32) -> Label {
        Label { name: name.into(), confidence }
    }

    #[test]
    fn ranking_merges_filters_orders_and_caps() {
        let ranked =
            rank([label("cat", 60.0), label("animal", 90.0), label("cat", 80.0), label("sofa", 10.0), label("pet", 80.0)], 2, 50.0);
        assert_eq!(ranked, [label("animal", 90.0), label("cat", 80.0)]);
    }
}
