//! Builds the AWS clients and the stores once per process and hands them to the router.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};

use crate::api::Services;
use crate::auth::token::TokenSigner;
use crate::config::StackConfig;
use crate::error::Result;
use crate::store::{DynamoImages, DynamoUsers, FaceCollections, RekognitionCollections, S3Photos, SnsEvents, collections};

/// The AWS configuration from the standard chain (environment, profile, instance role).
pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An S3 client; custom endpoints (S3-compatible stores, emulators) get path-style addressing,
/// which every endpoint serves.
pub fn s3_client(aws: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(aws)
        .force_path_style(aws.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Everything the API handlers use, connected to the stack's resources.
pub async fn connect(config: StackConfig, aws: &SdkConfig) -> Result<Services> {
    let users = Arc::new(DynamoUsers::new(aws_sdk_dynamodb::Client::new(aws), &config.users_table));
    let images = Arc::new(DynamoImages::new(aws_sdk_dynamodb::Client::new(aws), &config.images_table));
    let photos = Arc::new(S3Photos::new(s3_client(aws), &config.photo_bucket));
    let events = Arc::new(SnsEvents::new(
        aws_sdk_sns::Client::new(aws),
        &config.new_user_topic_arn,
        &config.new_image_topic_arn,
    ));
    let tokens = TokenSigner::load(users.as_ref(), &aws_sdk_kms::Client::new(aws), &config.key_arn).await?;
    let collections = face_collections(&config, aws);
    let photo_origin = crate::api::gallery::photo_origin(photos.as_ref()).await?;
    Ok(Services {
        photo_origin,
        config,
        users,
        images,
        photos,
        events,
        collections,
        tokens,
    })
}

/// The stack's face collections where its tier's engine keeps faces (Rekognition), else none.
pub fn face_collections(config: &StackConfig, aws: &SdkConfig) -> Arc<dyn FaceCollections> {
    collections::of_stack(&config.settings, aws_sdk_rekognition::Client::new(aws), &config.stack_name)
}

/// The stack's Rekognition face collections (named after the stack, as its roles allow).
pub fn rekognition_collections(config: &StackConfig, aws: &SdkConfig) -> RekognitionCollections {
    RekognitionCollections::new(aws_sdk_rekognition::Client::new(aws), &config.stack_name)
}
