//! The AWS SDK's configuration and the clients that need more than it.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use contract::StackConfig;
use domain::FaceCollections;

use crate::rekognition::{self, RekognitionCollections};

/// The AWS configuration from the standard chain (environment, profile, instance role).
pub async fn config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An S3 client; custom endpoints (S3-compatible stores, emulators) get path-style addressing,
/// which every endpoint serves.
pub fn s3_client(aws: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(aws).force_path_style(aws.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The stack's face collections where its tier's engine keeps faces (Rekognition), else none.
pub fn face_collections(config: &StackConfig, aws: &SdkConfig) -> Arc<dyn FaceCollections> {
    rekognition::of_stack(&config.settings, aws_sdk_rekognition::Client::new(aws), &config.stack_name)
}

/// The stack's Rekognition face collections (named after the stack, as its roles allow).
pub fn rekognition_collections(config: &StackConfig, aws: &SdkConfig) -> RekognitionCollections {
    RekognitionCollections::new(aws_sdk_rekognition::Client::new(aws), &config.stack_name)
}
