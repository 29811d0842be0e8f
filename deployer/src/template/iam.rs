//! IAM: the policy document type shared by every policy in the stack, and the two function
//! roles with least-privilege inline policies naming only this stack's resources.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::{Expr, Resource, ResourceKind, ids};
use crate::config::{TierConfig, VisionEngine};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> Self {
        Self { version: "2012-10-17", statement }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `*`: only ever used with Deny or with a condition naming this stack's source.
    Anyone,
    Service(String),
    /// IAM principals of this account (roles) by ARN.
    Aws(Vec<Expr>),
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Principal::Anyone => s.serialize_str("*"),
            Principal::Service(service) => BTreeMap::from([("Service", service)]).serialize(s),
            Principal::Aws(arns) => BTreeMap::from([("AWS", arns)]).serialize(s),
        }
    }
}

/// Condition operator -> key -> value, e.g. `Bool: {aws:SecureTransport: "false"}`.
pub type Condition = BTreeMap<&'static str, BTreeMap<&'static str, Expr>>;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: &'static str,
    pub effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    pub action: Vec<&'static str>,
    /// Empty only in trust policies, which name no resource.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

impl Statement {
    /// An identity-policy Allow of `action` on `resource`.
    pub fn allow(sid: &'static str, action: &[&'static str], resource: Vec<Expr>) -> Self {
        Self { sid, effect: Effect::Allow, principal: None, action: action.to_vec(), resource, condition: None }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: &'static str,
    pub policy_document: PolicyDocument,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    /// Set only where a policy must name the role before it exists (the tenant-access role,
    /// which the function roles may assume and which trusts them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<Expr>,
    pub description: String,
    pub assume_role_policy_document: PolicyDocument,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub managed_policy_arns: Vec<Expr>,
}

/// Actions whose IAM authorisation has no resource type, so `Resource: "*"` is the only form.
pub const ACTIONS_WITHOUT_RESOURCES: &[&str] = &["rekognition:DetectLabels", "rekognition:DetectText"];

impl Role {
    /// A role that only the AWS service `service` (`lambda`, `apigateway`) may assume.
    pub fn for_service(service: &str, sid: &'static str, description: impl Into<String>) -> Self {
        let trust = Statement {
            sid,
            effect: Effect::Allow,
            principal: Some(Principal::Service(format!("{service}.amazonaws.com"))),
            action: vec!["sts:AssumeRole"],
            resource: Vec::new(),
            condition: None,
        };
        Role {
            role_name: None,
            description: description.into(),
            assume_role_policy_document: PolicyDocument { version: "2012-10-17", statement: vec![trust] },
            policies: Vec::new(),
            managed_policy_arns: Vec::new(),
        }
    }
}

fn lambda_role(description: &str, statements: Vec<Statement>) -> Resource {
    Resource::new(ResourceKind::Role(Role {
        policies: vec![InlinePolicy { policy_name: "least-privilege", policy_document: PolicyDocument::new(statements) }],
        ..Role::for_service("lambda", "LambdaAssumesRole", description)
    }))
}

fn write_own_logs(log_group: &str) -> Statement {
    Statement::allow("WriteOwnLogs", &["logs:CreateLogStream", "logs:PutLogEvents"], vec![Expr::arn_of(log_group)])
}

fn tables_and_indexes(tables: &[&str]) -> Vec<Expr> {
    tables.iter().flat_map(|table| [Expr::arn_of(table), Expr::sub(format!("${{{table}.Arn}}/index/*"))]).collect()
}

/// The ARN pattern of the stack's per-user face collections (`contract::names`).
pub fn own_face_collections() -> Expr {
    let prefix = contract::names::faces_collection_prefix("${AWS::StackName}");
    Expr::sub(format!("arn:${{AWS::Partition}}:rekognition:${{AWS::Region}}:${{AWS::AccountId}}:collection/{prefix}*"))
}

fn use_key(actions: &[&'static str]) -> Statement {
    Statement::allow("UseTierKey", actions, vec![Expr::arn_of(ids::KEY)])
}

pub fn resources(config: &TierConfig) -> Vec<(&'static str, Resource)> {
    let mut api = vec![
        write_own_logs(ids::API_LOGS),
        // The users table's stack-wide items only (partition keys `#...`: the token key, the
        // ops credential, sign-in throttles); every account's own items are the tenant's.
        Statement {
            condition: Some(leading_keys("#*")),
            ..Statement::allow("StackWideUserItems", &aws_adapters::tenancy::ITEM_ACTIONS, vec![Expr::arn_of(ids::USERS_TABLE)])
        },
        // The ops search by name prefix, across accounts (the index's partition: a name's initial).
        Statement {
            condition: Some(leading_keys("?")),
            ..Statement::allow(
                "SearchAccountsByName",
                &["dynamodb:Query"],
                vec![Expr::sub(format!("${{{}.Arn}}/index/{}", ids::USERS_TABLE, contract::names::USERS_NAME_PREFIX_INDEX))],
            )
        },
        assume_tenant_access(),
        Statement::allow(
            "PublishEvents",
            &["sns:Publish"],
            vec![Expr::reference(ids::NEW_USER_TOPIC), Expr::reference(ids::NEW_IMAGE_TOPIC)],
        ),
        use_key(&["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]),
    ];

    let mut analyzer = vec![
        write_own_logs(ids::ANALYZER_LOGS),
        Statement::allow(
            "ConsumeAnalysisQueue",
            &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
            vec![Expr::arn_of(ids::ANALYSIS_QUEUE)],
        ),
        assume_tenant_access(),
        use_key(&["kms:Decrypt", "kms:GenerateDataKey"]),
    ];
    if config.labeler.engine == VisionEngine::Rekognition {
        let detections: Vec<&'static str> =
            [(config.features.labels, "rekognition:DetectLabels"), (config.features.text, "rekognition:DetectText")]
                .into_iter()
                .filter_map(|(used, action)| used.then_some(action))
                .collect();
        if !detections.is_empty() {
            analyzer.push(Statement::allow("DetectOnPhotos", &detections, vec![Expr::str("*")]));
        }
        if config.features.faces {
            // One collection per user, made at run time: only the stack's own, by name prefix.
            analyzer.push(Statement::allow(
                "IndexAndSearchOwnFaceCollections",
                &["rekognition:CreateCollection", "rekognition:IndexFaces", "rekognition:SearchFaces"],
                vec![own_face_collections()],
            ));
            api.push(Statement::allow(
                "DeleteFromOwnFaceCollections",
                &["rekognition:DeleteFaces", "rekognition:DeleteCollection"],
                vec![own_face_collections()],
            ));
        }
    }

    vec![
        (ids::API_ROLE, lambda_role("Smart Album API function", api)),
        (ids::ANALYZER_ROLE, lambda_role("Smart Album analyzer function", analyzer)),
        (ids::TENANT_ACCESS_ROLE, tenant_access_role()),
    ]
}

/// The tenant-access role's name, which the function roles' policies spell before it exists.
fn tenant_access_role_name() -> Expr {
    Expr::sub("${AWS::StackName}-tenant-access")
}

/// The tenant-access role's ARN, spelled from its name: a reference would make a cycle, as
/// the role's trust names the function roles.
pub fn tenant_access_role_arn() -> Expr {
    Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-tenant-access")
}

/// Every partition key a request names must be like `pattern`.
fn leading_keys(pattern: &str) -> Condition {
    BTreeMap::from([("ForAllValues:StringLike", BTreeMap::from([("dynamodb:LeadingKeys", Expr::str(pattern))]))])
}

fn assume_tenant_access() -> Statement {
    Statement::allow("AssumeTenantAccess", &["sts:AssumeRole"], vec![tenant_access_role_arn()])
}

/// What any tenant's data may be: the tables and the photo objects. The functions
/// assume it with a session policy narrowing it to one tenant's keys (`aws_adapters::tenancy`,
/// which holds the same actions); nothing else may assume it.
fn tenant_access_role() -> Resource {
    let trust = Statement {
        sid: "StackFunctionsAssumeRole",
        effect: Effect::Allow,
        principal: Some(Principal::Aws(vec![Expr::arn_of(ids::API_ROLE), Expr::arn_of(ids::ANALYZER_ROLE)])),
        action: vec!["sts:AssumeRole"],
        resource: Vec::new(),
        condition: None,
    };
    let statements = vec![
        Statement::allow("TenantItems", &aws_adapters::tenancy::ITEM_ACTIONS, tables_and_indexes(&[ids::USERS_TABLE, ids::IMAGES_TABLE])),
        Statement::allow("TenantObjects", &aws_adapters::tenancy::OBJECT_ACTIONS, vec![Expr::sub(format!("${{{}.Arn}}/*", ids::BUCKET))]),
        Statement::allow("ListTenantObjects", &["s3:ListBucket"], vec![Expr::arn_of(ids::BUCKET)]),
        use_key(&["kms:Decrypt", "kms:GenerateDataKey"]),
    ];
    Resource::new(ResourceKind::Role(Role {
        role_name: Some(tenant_access_role_name()),
        description: "Smart Album tenant data, assumed per tenant with a session policy".into(),
        assume_role_policy_document: PolicyDocument::new(vec![trust]),
        policies: vec![InlinePolicy { policy_name: "tenant-data", policy_document: PolicyDocument::new(statements) }],
        managed_policy_arns: Vec::new(),
    }))
}
