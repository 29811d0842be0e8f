//! Events to the stack's SNS topics.

use async_trait::async_trait;
use aws_sdk_sns::Client;

use crate::aws_error;
use domain::error::{Error, Result};
use domain::{Events, NewImageEvent, NewUserEvent};

pub struct SnsEvents {
    client: Client,
    new_user_topic: String,
    new_image_topic: String,
}

impl SnsEvents {
    pub fn new(client: Client, new_user_topic: impl Into<String>, new_image_topic: impl Into<String>) -> Self {
        Self { client, new_user_topic: new_user_topic.into(), new_image_topic: new_image_topic.into() }
    }

    async fn publish(&self, topic: &str, subject: &str, message: String) -> Result<()> {
        self.client
            .publish()
            .topic_arn(topic)
            .subject(subject)
            .message(message)
            .send()
            .await
            .map_err(aws_error(format!("SNS Publish {subject}")))?;
        Ok(())
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|err| Error::Internal(format!("event: {err}")))
}

#[async_trait]
impl Events for SnsEvents {
    async fn new_user(&self, event: &NewUserEvent<'_>) -> Result<()> {
        self.publish(&self.new_user_topic, "NewUser", to_json(event)?).await
    }

    async fn new_image(&self, event: &NewImageEvent) -> Result<()> {
        self.publish(&self.new_image_topic, "NewImage", to_json(event)?).await
    }
}
