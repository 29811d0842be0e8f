//! The tier settings the runtime reads at run time, from [`crate::env::TIER_SETTINGS`]: the
//! same types the deployer parses from `stacks/<TIER>.yaml` (its `TierConfig` holds them), so
//! a setting is named and checked once. Values are checked while they are parsed, so that a
//! bad value in a tier file is reported with its line and field, like a syntax error.

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
    #[serde(default)]
    pub photos: PhotoSettings,
    #[serde(default)]
    pub per_source: SourceLimits,
    /// Each tenant's request limits; none: not limited (tests of other things).
    #[serde(default)]
    pub requests: Option<RequestLimits>,
}

/// What one tenant (signed-in user) may ask of the API: a steady rate with a burst above it
/// (a token bucket: `burst` requests at once, refilled at `per_second`), and a number per UTC
/// day. The same for every tenant of the tier, counted for each one apart. (Tier files name
/// them `rate_limit`, `burst_limit` and `daily_quota`, after API Gateway's throttling.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestLimits {
    #[serde(rename = "rate_limit", deserialize_with = "at_least_one")]
    pub per_second: u64,
    #[serde(rename = "burst_limit", deserialize_with = "at_least_one")]
    pub burst: u64,
    #[serde(rename = "daily_quota", deserialize_with = "at_least_one")]
    pub per_day: u64,
}

/// What one source address (API Gateway's `sourceIp`; the peer's address locally) may ask for
/// without an account's token, counted per hour: password guesses spread over many names, and
/// sign-ups in bulk. Many people behind one address (an office, a campus) share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceLimits {
    #[serde(deserialize_with = "at_least_one")]
    pub sign_ins_per_hour: u64,
    #[serde(deserialize_with = "at_least_one")]
    pub sign_ups_per_hour: u64,
}

impl Default for SourceLimits {
    /// A household or an office signs in a few dozen times an hour and signs up a few people;
    /// a script guessing passwords across names, or making accounts, needs thousands.
    fn default() -> Self {
        Self { sign_ins_per_hour: 200, sign_ups_per_hour: 20 }
    }
}

/// How text in photos is indexed (tiers with `features.text`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextSettings {
    /// The most distinct words a photo is found by (the most confident lines' first): a page
    /// of text must not write thousands of index entries. The record keeps every line. Each is
    /// an index entry written with the photo: at most 200.
    #[serde(deserialize_with = "within::<1, 200, _, _>")]
    pub max_words: u32,
}

impl Default for TextSettings {
    fn default() -> Self {
        Self { max_words: 50 }
    }
}

/// What a photo may be, besides its size in bytes (`quotas.max_photo_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoSettings {
    /// The most pixels (width x height, from the header) a photo may have: a few hundred
    /// bytes can declare 65,500 x 65,500, and decoders allocate by the header (a progressive
    /// JPEG keeps every coefficient: about 6 bytes a pixel). Refused at upload (413
    /// `too_many_pixels`) and again before the analyzer decodes. 1 to 1,000 megapixels.
    #[serde(deserialize_with = "within::<1_000_000, 1_000_000_000, _, _>")]
    pub max_pixels: u64,
}

impl PhotoSettings {
    /// The largest `max_pixels` a tier file may give: what decoding is bounded by where no
    /// tier is at hand (the bench, `smart-album label`).
    pub const MAX_PIXELS_CEILING: u64 = 1_000_000_000;
}

impl Default for PhotoSettings {
    /// 100 MP: above the largest camera sensors sold (about 100 MP in medium format), and a
    /// progressive JPEG of it decodes within about 600 MB.
    fn default() -> Self {
        Self { max_pixels: 100_000_000 }
    }
}

/// How faces are grouped into persons (tiers with `features.faces`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceSettings {
    /// Faces whose descriptors are closer than this (Euclidean) are one person: between 0.2
    /// (nothing would match) and 0.8 (everyone would).
    #[serde(deserialize_with = "face_distance")]
    pub max_distance: f32,
    /// Persons whose centres are closer than this, and farther than `max_distance`, are offered
    /// to the user as probably the same someone (`GET /persons/{id}/suggestions`): above
    /// `max_distance`, at most 1.0.
    #[serde(default = "FaceSettings::default_suggest_distance", deserialize_with = "suggest_distance")]
    pub suggest_distance: f32,
    /// Faces whose box is smaller than this, in the photo's own pixels, are listed on their
    /// photo but grouped only by the user (too small to tell people apart); 8 to 1000 (the
    /// descriptor model sees 150x150).
    #[serde(deserialize_with = "within::<8, 1000, _, _>")]
    pub min_face_px: u32,
    /// Where the engine is Rekognition: faces matching at this similarity (percent, 50 to 100:
    /// below 50 strangers match) or more are one person (SearchFaces' FaceMatchThreshold).
    #[serde(default = "FaceSettings::default_min_similarity", deserialize_with = "within::<50, 100, _, _>")]
    pub min_similarity: u32,
}

impl FaceSettings {
    fn default_min_similarity() -> u32 {
        Self::default().min_similarity
    }

    fn default_suggest_distance() -> f32 {
        Self::default().suggest_distance
    }
}

impl Default for FaceSettings {
    /// The values of stacks/*.yaml, measured on the shared photos (see there).
    fn default() -> Self {
        Self { max_distance: 0.53, suggest_distance: SUGGEST_DISTANCE, min_face_px: 40, min_similarity: 90 }
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

/// What finds labels, faces and text in a tier's photos (the tier file's `labeler.engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VisionEngine {
    /// The vision models shipped in `models/`, run in-process.
    Builtin,
    /// Amazon Rekognition DetectLabels.
    Rekognition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelerSettings {
    pub engine: VisionEngine,
    /// DetectLabels accepts up to 1000; more than 100 is never useful to people.
    #[serde(deserialize_with = "within::<1, 100, _, _>")]
    pub max_labels: u32,
    /// Percent, as Rekognition reports confidence.
    #[serde(deserialize_with = "within::<0, 100, _, _>")]
    pub min_confidence: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    pub photos_per_user: Limit,
    pub bytes_per_user: Limit,
    /// Largest single photo accepted: at least 1 KiB, at most 5 GiB (one S3 PUT).
    #[serde(deserialize_with = "within::<1024, { 5 * 1024 * 1024 * 1024 }, _, _>")]
    pub max_photo_bytes: u64,
}

/// Reads an integer in `min..=max`. Checking inside the visitor (rather than after it, as
/// `serde(try_from)` does) makes the error carry the value's own line and field path.
pub struct BoundedVisitor {
    pub min: u64,
    pub max: u64,
}

impl serde::de::Visitor<'_> for BoundedVisitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an integer between {} and {}", self.min, self.max)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<u64, E> {
        if (self.min..=self.max).contains(&v) {
            Ok(v)
        } else {
            Err(E::custom(format!("must be between {} and {}, got {v}", self.min, self.max)))
        }
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<u64, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("must be between {} and {}, got {v}", self.min, self.max))),
        }
    }
}

/// An integer setting in `MIN..=MAX` (`deserialize_with`).
pub fn within<'de, const MIN: u64, const MAX: u64, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let value = d.deserialize_u64(BoundedVisitor { min: MIN, max: MAX })?;
    T::try_from(value).map_err(|_| serde::de::Error::custom(format!("{value} is too large")))
}

/// A count or rate that must be at least one.
fn at_least_one<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    within::<1, { u64::MAX }, D, u64>(d)
}

/// A distance between face descriptors, between 0.2 (nothing would match) and 0.8 (everyone).
fn face_distance<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f32, D::Error> {
    distance_within(d, "faces.max_distance", 0.8)
}

/// A distance setting from 0.2 to `max`, named in the refusal.
fn distance_within<'de, D: Deserializer<'de>>(d: D, name: &str, max: f64) -> std::result::Result<f32, D::Error> {
    let value = f64::deserialize(d)?;
    if (0.2..=max).contains(&value) {
        Ok(value as f32)
    } else {
        Err(serde::de::Error::custom(format!("{name} must be between 0.2 and {max:.1}, got {value}")))
    }
}

/// Persons' centres suggested as one: see stacks/*.yaml for the measured reason.
const SUGGEST_DISTANCE: f32 = 0.62;

fn suggest_distance<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f32, D::Error> {
    distance_within(d, "faces.suggest_distance", 1.0)
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
