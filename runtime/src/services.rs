//! Builds the AWS clients and the stores once per process and hands them to the router.

use std::sync::Arc;

use aws_adapters::sdk::{face_collections, s3_client};
use aws_config::SdkConfig;

use crate::api::Services;
use crate::auth::token::TokenSigner;
use crate::config::StackConfig;
use crate::error::Result;
use aws_adapters::{DynamoImages, DynamoUsers, S3Photos, SnsEvents};

/// Everything the API handlers use, connected to the stack's resources.
pub async fn connect(config: StackConfig, aws: &SdkConfig) -> Result<Services> {
    let users = Arc::new(DynamoUsers::new(aws_sdk_dynamodb::Client::new(aws), &config.users_table));
    let images = Arc::new(DynamoImages::new(aws_sdk_dynamodb::Client::new(aws), &config.images_table));
    let photos = Arc::new(S3Photos::new(s3_client(aws), &config.photo_bucket));
    let events = Arc::new(SnsEvents::new(aws_sdk_sns::Client::new(aws), &config.new_user_topic_arn, &config.new_image_topic_arn));
    let tokens = TokenSigner::load(users.as_ref(), &aws_sdk_kms::Client::new(aws), &config.key_arn).await?;
    let collections = face_collections(&config, aws);
    let photo_origin = crate::api::gallery::photo_origin(photos.as_ref()).await?;
    Ok(Services { photo_origin, config, users, images, photos, events, collections, tokens })
}
