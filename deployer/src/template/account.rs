//! The account stack: one per account and region, shared by every tier stack there. API Gateway
//! writes a stage's access logs only once the account's API Gateway settings name a role it may
//! assume to write to CloudWatch Logs (`AWS::ApiGateway::Account`, a setting of the whole
//! account and region). One stack holds it, so that no tier stack overwrites another's or takes
//! the role away when it is taken down. `deployer up` creates it when it is missing and leaves
//! it in place on `down`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::iam::Role;
use super::{Expr, Resource, ResourceKind, Template, ids};

/// The account stack's name in every region.
pub const ACCOUNT_STACK: &str = "smart-album-account";

/// The AWS-managed policy that lets API Gateway create log streams and put events in the log
/// groups stages name.
const PUSH_TO_CLOUDWATCH_LOGS: &str = "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiGatewayAccount {
    pub cloud_watch_role_arn: Expr,
}

pub fn render() -> Template {
    let description = "API Gateway writes the access logs of Smart Album's stages (and any other API's in this region)";
    let role = Role {
        managed_policy_arns: vec![Expr::sub(PUSH_TO_CLOUDWATCH_LOGS)],
        ..Role::for_service("apigateway", "ApiGatewayAssumesRole", description)
    };
    let account = ApiGatewayAccount { cloud_watch_role_arn: Expr::arn_of(ids::API_GATEWAY_LOGS_ROLE) };
    let mut template = Template {
        format_version: "2010-09-09",
        description:
            "Smart Album, the account's API Gateway logging role (shared by every tier stack in the region; rendered by the deployer)"
                .into(),
        parameters: BTreeMap::new(),
        conditions: BTreeMap::new(),
        resources: BTreeMap::new(),
        outputs: BTreeMap::new(),
    };
    template.add(ids::API_GATEWAY_LOGS_ROLE, Resource::new(ResourceKind::Role(role)));
    template.add(ids::API_GATEWAY_ACCOUNT, Resource::new(ResourceKind::ApiGatewayAccount(account)));
    template
}
