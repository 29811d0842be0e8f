//! The two Lambda functions (each from its own artifact, with its own handler), their log
//! groups, the analysis queue's event-source mapping, and API Gateway's permission to invoke.
//! Names, handlers and environment variables are the contract's.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Expr, Resource, ResourceKind, conditions, ids, params};
use crate::config::TierConfig;

pub use contract::env;
use contract::names::Function as FunctionRole;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    pub function_name: Expr,
    pub description: &'static str,
    pub runtime: &'static str,
    pub handler: &'static str,
    pub architectures: Vec<&'static str>,
    pub memory_size: u32,
    pub timeout: u32,
    pub role: Expr,
    pub code: Code,
    pub environment: Environment,
    /// Environment variables encrypted with the tier key rather than an AWS-managed key.
    pub kms_key_arn: Expr,
    pub logging_config: LoggingConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Code {
    #[serde(rename = "S3Bucket")]
    pub s3_bucket: Expr,
    #[serde(rename = "S3Key")]
    pub s3_key: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: BTreeMap<&'static str, Expr>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_group: Expr,
    pub log_format: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    pub log_group_name: Expr,
    pub retention_in_days: u32,
    pub kms_key_id: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSourceMapping {
    pub event_source_arn: Expr,
    pub function_name: Expr,
    pub batch_size: u32,
    pub enabled: Expr,
    /// Failed messages of a batch are retried alone; the others are deleted.
    pub function_response_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_config: Option<ScalingConfig>,
}

/// How many analyzer invocations the queue's pollers start at once. Set to the analyzer's
/// reserved concurrency: above it, invocations are throttled and their messages come back,
/// each return counting towards the dead-letter queue's `max_receive_count`, so that a burst
/// could send photos there that were never analysed. (SQS accepts 2 to 1,000; a reserved
/// concurrency of 1 leaves it unset.)
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalingConfig {
    pub maximum_concurrency: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub action: &'static str,
    pub function_name: Expr,
    pub principal: &'static str,
    pub source_arn: Expr,
}

/// The variables of `StackConfig` (both functions), plus lambda_http's stage switch for the
/// API function behind the REST API.
fn environment(config: &TierConfig, role: FunctionRole) -> Environment {
    let mut variables = BTreeMap::from([
        (env::TIER, Expr::str(config.tier.as_str())),
        (env::STACK_NAME, Expr::sub("${AWS::StackName}")),
        (env::USERS_TABLE, Expr::reference(ids::USERS_TABLE)),
        (env::IMAGES_TABLE, Expr::reference(ids::IMAGES_TABLE)),
        (env::PHOTO_BUCKET, Expr::reference(ids::BUCKET)),
        (env::NEW_USER_TOPIC_ARN, Expr::reference(ids::NEW_USER_TOPIC)),
        (env::NEW_IMAGE_TOPIC_ARN, Expr::reference(ids::NEW_IMAGE_TOPIC)),
        (env::ANALYSIS_QUEUE_URL, Expr::reference(ids::ANALYSIS_QUEUE)),
        (env::KEY_ARN, Expr::arn_of(ids::KEY)),
        (env::TENANT_ACCESS_ROLE_ARN, Expr::arn_of(ids::TENANT_ACCESS_ROLE)),
        (env::TIER_SETTINGS, Expr::str(serde_json::to_string(&config.settings()).unwrap_or_default())),
    ]);
    // lambda_http checks that the variable is present, whatever its value.
    if role == FunctionRole::Api {
        variables.insert(env::IGNORE_STAGE_IN_PATH, Expr::str("true"));
    }
    Environment { variables }
}

/// `/aws/lambda/<stack>-<suffix>`: the name Lambda would choose, fixed so the key policy and
/// the roles can name it before it exists.
fn log_group_name(suffix: &str) -> Expr {
    Expr::sub(format!("/aws/lambda/${{AWS::StackName}}-{suffix}"))
}

fn function(config: &TierConfig, which: FunctionRole, description: &'static str, role: &str, log_group: &str) -> Function {
    Function {
        function_name: Expr::sub(format!("${{AWS::StackName}}-{}", which.suffix())),
        description,
        runtime: "provided.al2023",
        handler: which.handler(),
        architectures: vec![config.lambda.architecture.as_aws()],
        memory_size: config.lambda.memory_mb.0,
        timeout: config.lambda.timeout_seconds.0,
        role: Expr::arn_of(role),
        code: Code { s3_bucket: Expr::reference(params::ARTIFACT_BUCKET), s3_key: Expr::reference(params::artifact_key(which)) },
        environment: environment(config, which),
        kms_key_arn: Expr::arn_of(ids::KEY),
        logging_config: LoggingConfig { log_group: Expr::reference(log_group), log_format: "JSON" },
        reserved_concurrent_executions: config.lambda.reserved_concurrency.map(|reserved| match which {
            FunctionRole::Api => reserved.api.0,
            FunctionRole::Analyzer => reserved.analyzer.0,
        }),
    }
}

/// A log group of the stack named `name`: the tier's retention, encrypted with the tier key.
pub fn log_group(config: &TierConfig, name: Expr) -> Resource {
    Resource::new(ResourceKind::LogGroup(LogGroup {
        log_group_name: name,
        retention_in_days: config.log_retention_days.0,
        kms_key_id: Expr::arn_of(ids::KEY),
    }))
}

/// Checkov's Lambda checks that do not apply to either function.
const FUNCTION_CHECKS: &[(&str, &str)] = &[
    (
        "CKV_AWS_116",
        "Never invoked asynchronously: the API synchronously by API Gateway, the analyzer by an SQS event source whose queue has the dead-letter queue",
    ),
    (
        "CKV_AWS_117",
        "Reaches only AWS APIs (DynamoDB, S3, SNS, SQS, KMS, Rekognition), never a private network: a VPC would add NAT or endpoints and nothing to guard",
    ),
];

pub fn resources(config: &TierConfig) -> Vec<(&'static str, Resource)> {
    vec![
        (ids::API_LOGS, log_group(config, log_group_name(FunctionRole::Api.suffix()))),
        (ids::ANALYZER_LOGS, log_group(config, log_group_name(FunctionRole::Analyzer.suffix()))),
        (
            ids::API_FUNCTION,
            Resource::new(ResourceKind::Function(Box::new(function(
                config,
                FunctionRole::Api,
                "Smart Album HTTP API (REST API proxy)",
                ids::API_ROLE,
                ids::API_LOGS,
            ))))
            .not_applicable(FUNCTION_CHECKS),
        ),
        (
            ids::ANALYZER_FUNCTION,
            Resource::new(ResourceKind::Function(Box::new(function(
                config,
                FunctionRole::Analyzer,
                "Smart Album photo analyzer (QueueAnalysis consumer)",
                ids::ANALYZER_ROLE,
                ids::ANALYZER_LOGS,
            ))))
            .not_applicable(FUNCTION_CHECKS),
        ),
        (
            ids::ANALYSIS_EVENTS,
            Resource::new(ResourceKind::EventSourceMapping(EventSourceMapping {
                event_source_arn: Expr::arn_of(ids::ANALYSIS_QUEUE),
                function_name: Expr::reference(ids::ANALYZER_FUNCTION),
                batch_size: config.analysis.batch_size.0,
                enabled: Expr::If(conditions::ANALYZER_MAPPING_ENABLED.to_owned(), Box::new(Expr::Bool(true)), Box::new(Expr::Bool(false))),
                function_response_types: vec!["ReportBatchItemFailures"],
                scaling_config: config
                    .lambda
                    .reserved_concurrency
                    .map(|reserved| reserved.analyzer.0)
                    .filter(|analyzer| *analyzer >= 2)
                    .map(|maximum_concurrency| ScalingConfig { maximum_concurrency }),
            })),
        ),
        (
            ids::API_INVOKE_PERMISSION,
            Resource::new(ResourceKind::Permission(Permission {
                action: "lambda:InvokeFunction",
                function_name: Expr::arn_of(ids::API_FUNCTION),
                principal: "apigateway.amazonaws.com",
                source_arn: Expr::sub(format!(
                    "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{}}}/*",
                    ids::REST_API
                )),
            })),
        ),
    ]
}
