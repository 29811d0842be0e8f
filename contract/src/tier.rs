//! The tier settings the runtime reads at run time, from [`crate::env::TIER_SETTINGS`]. The
//! deployer parses them (with their limits checked) from `stacks/<TIER>.yaml`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// What the tier decides at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSettings {
    pub features: Features,
    pub labeler: LabelerSettings,
    pub quotas: QuotaSettings,
    #[serde(default)]
    pub faces: FaceSettings,
    #[serde(default)]
    pub text: TextSettings,
    /// Each tenant's request limits; none: not limited (tests of other things).
    #[serde(default)]
    pub requests: Option<RequestLimits>,
}

/// What one tenant (signed-in user) may ask of the API: a steady rate with a burst above it
/// (a token bucket: `burst` requests at once, refilled at `per_second`), and a number per UTC
/// day. The same for every tenant of the tier, counted for each one apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestLimits {
    pub per_second: u64,
    pub burst: u64,
    pub per_day: u64,
}

/// How text in photos is indexed (tiers with `features.text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSettings {
    /// The most distinct words a photo is found by (the most confident lines' first): a page
    /// of text must not write thousands of index entries. The record keeps every line.
    pub max_words: u32,
}

impl Default for TextSettings {
    fn default() -> Self {
        Self { max_words: 50 }
    }
}

/// How faces are grouped into persons (tiers with `features.faces`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceSettings {
    /// Faces whose descriptors are closer than this (Euclidean) are one person.
    pub max_distance: f32,
    /// Faces whose box is smaller than this, in the photo's own pixels, are listed on their
    /// photo but grouped only by the user (too small to tell people apart).
    pub min_face_px: u32,
    /// Where the engine is Rekognition: faces matching at this similarity (percent) or more are
    /// one person (SearchFaces' FaceMatchThreshold).
    #[serde(default = "FaceSettings::default_min_similarity")]
    pub min_similarity: f32,
}

impl FaceSettings {
    fn default_min_similarity() -> f32 {
        Self::default().min_similarity
    }
}

impl Default for FaceSettings {
    /// The values of stacks/*.yaml, measured on the shared photos (see there).
    fn default() -> Self {
        Self { max_distance: 0.4, min_face_px: 40, min_similarity: 90.0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    /// Objects and scenes.
    pub labels: bool,
    /// Faces grouped into persons.
    pub faces: bool,
    /// Text found in photos, searchable.
    pub text: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelerEngine {
    /// The vision models shipped in `models/`, run in-process.
    Builtin,
    /// Amazon Rekognition DetectLabels.
    Rekognition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelerSettings {
    pub engine: LabelerEngine,
    pub max_labels: u32,
    pub min_confidence: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    pub photos_per_user: Limit,
    pub bytes_per_user: Limit,
    /// Largest single photo accepted.
    pub max_photo_bytes: u64,
}

/// A per-user quota: a number, or `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    AtMost(u64),
    Unlimited,
}

impl Limit {
    pub fn as_option(self) -> Option<u64> {
        match self {
            Limit::AtMost(n) => Some(n),
            Limit::Unlimited => None,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::AtMost(n) => n.fmt(f),
            Limit::Unlimited => f.write_str("unlimited"),
        }
    }
}

impl Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Limit::AtMost(n) => s.serialize_u64(*n),
            Limit::Unlimited => s.serialize_str("unlimited"),
        }
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct LimitVisitor;
        impl serde::de::Visitor<'_> for LimitVisitor {
            type Value = Limit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a positive integer or `unlimited`")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Limit, E> {
                if v == 0 {
                    Err(E::custom("a quota of 0 would refuse every upload; use a positive integer or `unlimited`"))
                } else {
                    Ok(Limit::AtMost(v))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Limit, E> {
                u64::try_from(v).map_err(|_| E::custom(format!("a quota cannot be negative, got {v}"))).and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Limit, E> {
                if v == "unlimited" { Ok(Limit::Unlimited) } else { Err(E::invalid_value(serde::de::Unexpected::Str(v), &self)) }
            }
        }
        d.deserialize_any(LimitVisitor)
    }
}
