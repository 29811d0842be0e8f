//! SNS topics NewUser and NewImage, and QueueAnalysis with its dead-letter queue. NewImage
//! delivers to QueueAnalysis (SNS envelope), which the analyzer function consumes.

use serde::Serialize;

use super::iam::{Effect, PolicyDocument, Principal, Statement};
use super::{Expr, Resource, ResourceKind, ids};
use crate::config::TierConfig;

/// Dead letters wait the longest SQS allows, so ops have time to look at them.
const DEAD_LETTER_RETENTION_SECONDS: u32 = 14 * 24 * 3600;
const QUEUE_RETENTION_SECONDS: u32 = 4 * 24 * 3600;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Topic {
    pub topic_name: Expr,
    pub kms_master_key_id: Expr,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription: Vec<Subscription>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    pub protocol: &'static str,
    pub endpoint: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    pub queue_name: Expr,
    pub kms_master_key_id: Expr,
    pub visibility_timeout: u32,
    pub message_retention_period: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redrive_policy: Option<RedrivePolicy>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: Expr,
    pub max_receive_count: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueuePolicy {
    pub queues: Vec<Expr>,
    pub policy_document: PolicyDocument,
}

fn named(suffix: &str) -> Expr {
    Expr::sub(format!("${{AWS::StackName}}-{suffix}"))
}

pub fn resources(config: &TierConfig) -> Vec<(&'static str, Resource)> {
    let ops_email = config.ops_email.iter().map(|email| Subscription { protocol: "email", endpoint: Expr::str(email.as_str()) }).collect();
    let new_user = Topic { topic_name: named("NewUser"), kms_master_key_id: Expr::arn_of(ids::KEY), subscription: ops_email };
    let new_image = Topic {
        topic_name: named("NewImage"),
        kms_master_key_id: Expr::arn_of(ids::KEY),
        subscription: vec![Subscription { protocol: "sqs", endpoint: Expr::arn_of(ids::ANALYSIS_QUEUE) }],
    };
    let analysis = Queue {
        queue_name: named("QueueAnalysis"),
        kms_master_key_id: Expr::arn_of(ids::KEY),
        visibility_timeout: config.analysis.visibility_timeout_seconds.0,
        message_retention_period: QUEUE_RETENTION_SECONDS,
        redrive_policy: Some(RedrivePolicy {
            dead_letter_target_arn: Expr::arn_of(ids::ANALYSIS_DLQ),
            max_receive_count: config.analysis.max_receive_count.0,
        }),
    };
    let dead_letter = Queue {
        queue_name: named("QueueAnalysis-dead-letter"),
        kms_master_key_id: Expr::arn_of(ids::KEY),
        visibility_timeout: config.analysis.visibility_timeout_seconds.0,
        message_retention_period: DEAD_LETTER_RETENTION_SECONDS,
        redrive_policy: None,
    };
    let sns_may_send = Statement {
        sid: "NewImageTopicSends",
        effect: Effect::Allow,
        principal: Some(Principal::Service("sns.amazonaws.com".into())),
        action: vec!["sqs:SendMessage"],
        resource: vec![Expr::arn_of(ids::ANALYSIS_QUEUE)],
        condition: Some([("ArnEquals", [("aws:SourceArn", Expr::reference(ids::NEW_IMAGE_TOPIC))].into())].into()),
    };
    vec![
        (ids::NEW_USER_TOPIC, Resource::new(ResourceKind::Topic(new_user))),
        (ids::NEW_IMAGE_TOPIC, Resource::new(ResourceKind::Topic(new_image))),
        (ids::ANALYSIS_QUEUE, Resource::new(ResourceKind::Queue(analysis))),
        (ids::ANALYSIS_DLQ, Resource::new(ResourceKind::Queue(dead_letter))),
        (
            ids::ANALYSIS_QUEUE_POLICY,
            Resource::new(ResourceKind::QueuePolicy(QueuePolicy {
                queues: vec![Expr::reference(ids::ANALYSIS_QUEUE)],
                policy_document: PolicyDocument::new(vec![sns_may_send]),
            })),
        ),
    ]
}
