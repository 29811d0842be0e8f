//! Builds the AWS clients and the stores once per process and hands them to the router.

use std::sync::Arc;

use aws_adapters::sdk::{face_collections, s3_client};
use aws_config::SdkConfig;

use crate::api::Services;
use crate::auth::token::TokenSigner;
use crate::config::StackConfig;
use crate::error::Result;
use aws_adapters::{DynamoUsers, S3Photos, SnsEvents, TenantAccess};

/// Everything the API handlers use, connected to the stack's resources.
pub async fn connect(config: StackConfig, aws: &SdkConfig) -> Result<Services> {
    let tenants = TenantAccess::of_stack(&config, aws)?;
    connect_with(config, aws, tenants).await
}

/// [`connect`], with tenants' data reached through `tenants` (tests observe their calls).
pub async fn connect_with(config: StackConfig, aws: &SdkConfig, tenants: TenantAccess) -> Result<Services> {
    let users = Arc::new(DynamoUsers::new(aws_sdk_dynamodb::Client::new(aws), &config.users_table));
    // Only signs a URL locally to learn the bucket's origin; it reads no object.
    let photos = S3Photos::new(s3_client(aws), &config.photo_bucket);
    let events = Arc::new(SnsEvents::new(aws_sdk_sns::Client::new(aws), &config.new_user_topic_arn, &config.new_image_topic_arn));
    let tokens = TokenSigner::load(users.as_ref(), &aws_sdk_kms::Client::new(aws), &config.key_arn).await?;
    let collections = face_collections(&config, aws);
    let photo_origin = crate::api::gallery::photo_origin(&photos).await?;
    Ok(Services { photo_origin, config, users, tenants: Arc::new(tenants), events, collections, tokens })
}
