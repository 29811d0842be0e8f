//! [`StackConfig`]: the stack's resources and the tier's settings, read from the environment
//! the template gives the functions (or, for `smart-album serve`, the same variables read off the
//! deployed API function).

use crate::env;
use crate::tier::TierSettings;

/// A variable is missing or does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The stack's resources and the tier's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StackConfig {
    pub tier: String,
    /// Names what the stack's roles may reach by name (its face collections).
    pub stack_name: String,
    pub users_table: String,
    pub images_table: String,
    pub photo_bucket: String,
    pub new_user_topic_arn: String,
    pub new_image_topic_arn: String,
    pub analysis_queue_url: String,
    pub key_arn: String,
    /// Assumed with a session policy per tenant for every call on the tenant's data.
    pub tenant_access_role_arn: String,
    pub settings: TierSettings,
}

impl StackConfig {
    /// From variables looked up by name (the process environment, or a function's).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|value| !value.is_empty()).ok_or_else(|| ConfigError(format!("{name} is not set")));
        let settings = var(env::TIER_SETTINGS)?;
        let settings = serde_json::from_str(&settings).map_err(|err| ConfigError(format!("{} is not valid: {err}", env::TIER_SETTINGS)))?;
        Ok(Self {
            tier: var(env::TIER)?,
            stack_name: var(env::STACK_NAME)?,
            users_table: var(env::USERS_TABLE)?,
            images_table: var(env::IMAGES_TABLE)?,
            photo_bucket: var(env::PHOTO_BUCKET)?,
            new_user_topic_arn: var(env::NEW_USER_TOPIC_ARN)?,
            new_image_topic_arn: var(env::NEW_IMAGE_TOPIC_ARN)?,
            analysis_queue_url: var(env::ANALYSIS_QUEUE_URL)?,
            key_arn: var(env::KEY_ARN)?,
            tenant_access_role_arn: var(env::TENANT_ACCESS_ROLE_ARN)?,
            settings,
        })
    }

    /// From this process's environment (how the Lambda functions are configured).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::tier::Limit;

    fn vars() -> HashMap<&'static str, String> {
        HashMap::from([
            (env::TIER, "CORE_USER".to_owned()),
            (env::STACK_NAME, "smart-album-core-user".to_owned()),
            (env::USERS_TABLE, "u".to_owned()),
            (env::IMAGES_TABLE, "i".to_owned()),
            (env::PHOTO_BUCKET, "b".to_owned()),
            (env::NEW_USER_TOPIC_ARN, "t1".to_owned()),
            (env::NEW_IMAGE_TOPIC_ARN, "t2".to_owned()),
            (env::ANALYSIS_QUEUE_URL, "q".to_owned()),
            (env::KEY_ARN, "k".to_owned()),
            (env::TENANT_ACCESS_ROLE_ARN, "r".to_owned()),
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
        for missing in env::STACK_CONFIG {
            let mut vars = vars();
            vars.remove(missing);
            let err = StackConfig::from_vars(|name| vars.get(name).cloned()).unwrap_err();
            assert!(err.to_string().contains(&format!("{missing} is not set")), "{err}");
        }
    }
}
