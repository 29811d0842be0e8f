//! The runtime's configuration: which stack resources to use and the tier's settings.
//!
//! One type, filled from the environment the template gives the Lambda functions, or (for
//! `runtime serve`) from the same environment read off the deployed API function. The names
//! here are the contract with the deployer, which sets them.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// Environment variables the template sets on both functions.
pub mod env {
    pub const TIER: &str = "SMART_ALBUM_TIER";
    pub const USERS_TABLE: &str = "SMART_ALBUM_USERS_TABLE";
    pub const IMAGES_TABLE: &str = "SMART_ALBUM_IMAGES_TABLE";
    pub const PHOTO_BUCKET: &str = "SMART_ALBUM_PHOTO_BUCKET";
    pub const NEW_USER_TOPIC_ARN: &str = "SMART_ALBUM_NEW_USER_TOPIC_ARN";
    pub const NEW_IMAGE_TOPIC_ARN: &str = "SMART_ALBUM_NEW_IMAGE_TOPIC_ARN";
    pub const ANALYSIS_QUEUE_URL: &str = "SMART_ALBUM_ANALYSIS_QUEUE_URL";
    pub const KEY_ARN: &str = "SMART_ALBUM_KEY_ARN";
    /// [`super::TierSettings`] as JSON.
    pub const TIER_SETTINGS: &str = "SMART_ALBUM_TIER_SETTINGS";
}

/// The functions of a stack are `<stack>-<suffix>`; their `Handler` names the entry point.
pub const API_FUNCTION_SUFFIX: &str = "api";
pub const ANALYZER_FUNCTION_SUFFIX: &str = "analyzer";
pub const API_HANDLER: &str = "api";
pub const ANALYZER_HANDLER: &str = "analyzer";

/// What the tier decides at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSettings {
    pub features: Features,
    pub labeler: LabelerSettings,
    pub quotas: QuotaSettings,
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
                    Err(E::custom(
                        "a quota of 0 would refuse every upload; use a positive integer or `unlimited`",
                    ))
                } else {
                    Ok(Limit::AtMost(v))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Limit, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("a quota cannot be negative, got {v}")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Limit, E> {
                if v == "unlimited" {
                    Ok(Limit::Unlimited)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(LimitVisitor)
    }
}

/// The stack's resources and the tier's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackConfig {
    pub tier: String,
    pub users_table: String,
    pub images_table: String,
    pub photo_bucket: String,
    pub new_user_topic_arn: String,
    pub new_image_topic_arn: String,
    pub analysis_queue_url: String,
    pub key_arn: String,
    pub settings: TierSettings,
}

impl StackConfig {
    /// From variables looked up by name (the process environment, or a function's).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |name: &str| {
            lookup(name)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| Error::Config(format!("{name} is not set")))
        };
        let settings = var(env::TIER_SETTINGS)?;
        let settings = serde_json::from_str(&settings)
            .map_err(|err| Error::Config(format!("{} is not valid: {err}", env::TIER_SETTINGS)))?;
        Ok(Self {
            tier: var(env::TIER)?,
            users_table: var(env::USERS_TABLE)?,
            images_table: var(env::IMAGES_TABLE)?,
            photo_bucket: var(env::PHOTO_BUCKET)?,
            new_user_topic_arn: var(env::NEW_USER_TOPIC_ARN)?,
            new_image_topic_arn: var(env::NEW_IMAGE_TOPIC_ARN)?,
            analysis_queue_url: var(env::ANALYSIS_QUEUE_URL)?,
            key_arn: var(env::KEY_ARN)?,
            settings,
        })
    }

    /// From this process's environment (how the Lambda functions are configured).
    pub fn from_env() -> Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// From the environment of the deployed stack's API function: exactly what Lambda would give.
    pub async fn from_deployed(lambda: &aws_sdk_lambda::Client, stack: &str) -> Result<Self> {
        let function = format!("{stack}-{API_FUNCTION_SUFFIX}");
        let configuration = lambda
            .get_function_configuration()
            .function_name(&function)
            .send()
            .await
            .map_err(|err| {
                Error::Config(format!(
                    "cannot read the configuration of {function} (is stack {stack} deployed? \
                     `deployer status` lists the stacks): {}",
                    aws_sdk_lambda::error::DisplayErrorContext(&err)
                ))
            })?;
        let variables: HashMap<String, String> = configuration
            .environment
            .and_then(|environment| environment.variables)
            .unwrap_or_default();
        Self::from_vars(|name| variables.get(name).cloned())
    }
}

/// The stack of a tier, as the deployer names it (`CORE_USER` -> `smart-album-core-user`).
pub fn stack_name_of_tier(tier: &str) -> String {
    format!("smart-album-{}", tier.to_ascii_lowercase().replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> HashMap<&'static str, String> {
        HashMap::from([
            (env::TIER, "CORE_USER".to_owned()),
            (env::USERS_TABLE, "u".to_owned()),
            (env::IMAGES_TABLE, "i".to_owned()),
            (env::PHOTO_BUCKET, "b".to_owned()),
            (env::NEW_USER_TOPIC_ARN, "t1".to_owned()),
            (env::NEW_IMAGE_TOPIC_ARN, "t2".to_owned()),
            (env::ANALYSIS_QUEUE_URL, "q".to_owned()),
            (env::KEY_ARN, "k".to_owned()),
            (
                env::TIER_SETTINGS,
                r#"{"features":{"labels":true,"faces":false,"text":false},
                    "labeler":{"engine":"builtin","max_labels":10,"min_confidence":70},
                    "quotas":{"photos_per_user":1000,"bytes_per_user":"unlimited","max_photo_bytes":2048}}"#
                    .to_owned(),
            ),
        ])
    }

    #[test]
    fn reads_every_variable_and_the_settings() {
        let vars = vars();
        let config = StackConfig::from_vars(|name| vars.get(name).cloned()).unwrap();
        assert_eq!(config.photo_bucket, "b");
        assert_eq!(config.settings.quotas.photos_per_user, Limit::AtMost(1000));
        assert_eq!(config.settings.quotas.bytes_per_user, Limit::Unlimited);
    }

    #[test]
    fn a_missing_variable_is_named() {
        let mut vars = vars();
        vars.remove(env::PHOTO_BUCKET);
        let err = StackConfig::from_vars(|name| vars.get(name).cloned()).unwrap_err();
        assert!(err.to_string().contains("SMART_ALBUM_PHOTO_BUCKET is not set"), "{err}");
    }

    #[test]
    fn tier_names_map_to_the_deployers_stack_names() {
        assert_eq!(stack_name_of_tier("FULL_PLATFORM_USER"), "smart-album-full-platform-user");
    }
}
