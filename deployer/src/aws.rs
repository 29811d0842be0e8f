//! AWS clients, built once per process from the standard credential chain.

use aws_config::{BehaviorVersion, Region};

use crate::error::{Error, Result};

/// Where and as whom to talk to AWS; `None` fields fall back to the standard chain
/// (environment, shared config files, instance or container credentials).
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Overrides every service's endpoint (AWS_ENDPOINT_URL is honoured without it).
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Clients {
    pub region: String,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub sts: aws_sdk_sts::Client,
    pub sns: aws_sdk_sns::Client,
    pub rekognition: aws_sdk_rekognition::Client,
}

impl Clients {
    pub async fn load(target: &Target) -> Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &target.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &target.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &target.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let config = loader.load().await;
        let region = config.region().map(ToString::to_string).ok_or_else(|| Error::Aws {
            action: "choosing a region".into(),
            message: "no region configured: pass --region, set AWS_REGION, or set one in the profile".into(),
        })?;
        // Custom endpoints (S3-compatible stores, emulators) rarely serve virtual-hosted
        // bucket names; path-style works on every endpoint.
        let s3_config = aws_sdk_s3::config::Builder::from(&config).force_path_style(config.endpoint_url().is_some()).build();
        Ok(Self {
            region,
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            kms: aws_sdk_kms::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            rekognition: aws_sdk_rekognition::Client::new(&config),
        })
    }

    async fn identity(&self) -> Result<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput> {
        self.sts.get_caller_identity().send().await.map_err(Error::aws("GetCallerIdentity"))
    }

    /// Who the credentials are (an ARN), for audit lines.
    pub async fn caller_arn(&self) -> Result<String> {
        Ok(self.identity().await?.arn.unwrap_or_else(|| "(unknown)".into()))
    }

    /// The account the credentials belong to.
    pub async fn account_id(&self) -> Result<String> {
        self.identity()
            .await?
            .account
            .ok_or_else(|| Error::Aws { action: "GetCallerIdentity".into(), message: "the answer named no account".into() })
    }
}
