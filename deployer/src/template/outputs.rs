//! The stack's outputs. The deployer prints them from DescribeStackResources (logical id ->
//! physical id), which every stack has, rather than from DescribeStacks' Outputs, which a stack
//! created through a change set on the emulator lacks; the template's Outputs carry the same.

use std::collections::BTreeMap;

use super::{Expr, Output, STAGE_NAME, ids};

/// How an output's value follows from its resource's physical id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputValue {
    /// `!Ref` of the resource is its physical id (bucket name, table name, topic ARN, queue URL).
    PhysicalId,
    /// The invoke URL of the `prod` stage of a REST API.
    StageUrl,
}

#[derive(Debug, Clone, Copy)]
pub struct StackOutput {
    pub name: &'static str,
    pub description: &'static str,
    pub logical_id: &'static str,
    pub value: OutputValue,
}

const fn output(name: &'static str, description: &'static str, logical_id: &'static str) -> StackOutput {
    StackOutput { name, description, logical_id, value: OutputValue::PhysicalId }
}

pub const OUTPUTS: &[StackOutput] = &[
    StackOutput { name: "ApiUrl", description: "Base URL of the HTTP API", logical_id: ids::REST_API, value: OutputValue::StageUrl },
    output("PhotoBucket", "Bucket holding the photos, under <user>/", ids::BUCKET),
    output("UsersTable", "DynamoDB table of users", ids::USERS_TABLE),
    output("ImagesTable", "DynamoDB table of images and their index entries", ids::IMAGES_TABLE),
    output("NewUserTopic", "SNS topic told of every new user", ids::NEW_USER_TOPIC),
    output("NewImageTopic", "SNS topic told of every new photo", ids::NEW_IMAGE_TOPIC),
    output("AnalysisQueueUrl", "SQS queue the analyzer consumes", ids::ANALYSIS_QUEUE),
    output("DeadLetterQueueUrl", "Messages that failed analysis too often", ids::ANALYSIS_DLQ),
    output("KeyId", "The tier's KMS key", ids::KEY),
];

impl StackOutput {
    /// The output's value from its resource's physical id.
    pub fn resolve(&self, physical_id: &str, region: &str) -> String {
        match self.value {
            OutputValue::PhysicalId => physical_id.to_owned(),
            OutputValue::StageUrl => {
                format!("https://{physical_id}.execute-api.{region}.amazonaws.com/{STAGE_NAME}/")
            }
        }
    }

    fn expr(&self) -> Expr {
        match self.value {
            OutputValue::PhysicalId => Expr::reference(self.logical_id),
            OutputValue::StageUrl => {
                Expr::sub(format!("https://${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{STAGE_NAME}/", self.logical_id))
            }
        }
    }
}

pub fn outputs() -> BTreeMap<&'static str, Output> {
    OUTPUTS.iter().map(|output| (output.name, Output { description: output.description, value: output.expr() })).collect()
}
