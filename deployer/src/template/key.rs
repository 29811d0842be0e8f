//! The tier's customer-managed KMS key (S3, DynamoDB, SNS, SQS, Lambda environment and logs
//! encryption) and its alias.

use serde::Serialize;
use serde_json::json;

use super::{Expr, Resource, ResourceKind, ids};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KmsKey {
    /// Names the stack, so `down --purge` finds the key after the stack (and alias) are gone.
    pub description: Expr,
    pub enable_key_rotation: bool,
    /// A `!Sub` of the policy as a JSON string: moto's DescribeKey breaks on a policy written
    /// as a YAML object, and CloudFormation accepts both forms.
    pub key_policy: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KmsAlias {
    pub alias_name: Expr,
    pub target_key_id: Expr,
}

/// The key policy. In a key policy `Resource: "*"` means this key only. The account root keeps
/// administration (otherwise the key becomes unmanageable and IAM policies cannot grant it);
/// the two service principals are limited to this account's queues and this stack's log groups.
pub fn key_policy() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "SnsDeliversToEncryptedQueue",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": "${AWS::AccountId}"}}
            },
            {
                "Sid": "LogsEncryptsThisStacksLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": "logs.${AWS::Region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": [
                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-*",
                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/apigateway/${AWS::StackName}/*"]}}
            }
        ]
    })
}

/// The key's description for `stack`.
pub fn key_description(stack: &str) -> String {
    format!("Smart Album key of stack {stack}: photos, tables, topics, queues, logs")
}

pub fn resources() -> Vec<(&'static str, Resource)> {
    vec![
        (
            ids::KEY,
            Resource::new(ResourceKind::KmsKey(KmsKey {
                description: Expr::sub(key_description("${AWS::StackName}")),
                enable_key_rotation: true,
                key_policy: Expr::sub(key_policy().to_string()),
            }))
            .retained(),
        ),
        (
            ids::KEY_ALIAS,
            Resource::new(ResourceKind::KmsAlias(KmsAlias {
                alias_name: Expr::sub("alias/${AWS::StackName}"),
                target_key_id: Expr::reference(ids::KEY),
            })),
        ),
    ]
}
