//! A typed model of the CloudFormation template of one tier stack.
//!
//! Every resource is a Rust type serialised to YAML; intrinsic functions are [`Expr`], which
//! serialises to YAML short-form tags (`!Ref`, `!GetAtt`, `!Sub`, `!Join`). Maps are
//! `BTreeMap`s so that the same tier file always renders to byte-identical YAML.
//!
//! One file per resource family: [`storage`] (bucket), [`tables`], [`key`], [`messaging`]
//! (topics and queues), [`iam`], [`functions`] (Lambda and logs), [`api`] (REST API and its
//! access logs), [`outputs`]; [`account`] is the one stack per account and region that lets API
//! Gateway write those logs.

pub mod account;
pub mod api;
pub mod functions;
pub mod iam;
pub mod key;
pub mod messaging;
pub mod outputs;
pub mod storage;
pub mod tables;

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::config::{StackId, TenantName, TierConfig};
use crate::error::{Error, Result};

pub use outputs::{OUTPUTS, StackOutput};

/// Logical ids, named once: the template, the outputs and the deployer's reads share them.
pub mod ids {
    pub const KEY: &str = "Key";
    pub const KEY_ALIAS: &str = "KeyAlias";
    pub const BUCKET: &str = "PhotoBucket";
    pub const BUCKET_POLICY: &str = "PhotoBucketPolicy";
    // Sorts before the photo bucket, which names it (moto creates in template order).
    pub const LOG_BUCKET: &str = "PhotoAccessLogBucket";
    pub const LOG_BUCKET_POLICY: &str = "PhotoAccessLogBucketPolicy";
    pub const USERS_TABLE: &str = "UsersTable";
    pub const IMAGES_TABLE: &str = "ImagesTable";
    pub const NEW_USER_TOPIC: &str = "NewUserTopic";
    pub const NEW_IMAGE_TOPIC: &str = "NewImageTopic";
    pub const ANALYSIS_QUEUE: &str = "QueueAnalysis";
    pub const ANALYSIS_DLQ: &str = "QueueAnalysisDeadLetter";
    pub const ANALYSIS_QUEUE_POLICY: &str = "QueueAnalysisPolicy";
    pub const API_ROLE: &str = "ApiFunctionRole";
    pub const ANALYZER_ROLE: &str = "AnalyzerFunctionRole";
    pub const TENANT_ACCESS_ROLE: &str = "TenantAccessRole";
    pub const API_FUNCTION: &str = "ApiFunction";
    pub const ANALYZER_FUNCTION: &str = "AnalyzerFunction";
    pub const API_LOGS: &str = "ApiFunctionLogs";
    pub const ANALYZER_LOGS: &str = "AnalyzerFunctionLogs";
    pub const ANALYSIS_EVENTS: &str = "AnalyzerQueueEvents";
    pub const REST_API: &str = "RestApi";
    pub const PROXY_RESOURCE: &str = "RestApiProxyResource";
    // The methods' ids sort before the deployment's: moto's ExecuteChangeSet creates resources
    // in template order and ignores DependsOn, and a deployment needs its methods.
    pub const ROOT_METHOD: &str = "RestApiAnyMethodRoot";
    pub const PROXY_METHOD: &str = "RestApiAnyMethodProxy";
    pub const DEPLOYMENT: &str = "RestApiDeployment";
    pub const STAGE: &str = "RestApiStage";
    pub const ACCESS_LOGS: &str = "RestApiAccessLogs";
    /// The account stack's ([`super::account`]).
    pub const API_GATEWAY_LOGS_ROLE: &str = "ApiGatewayLogsRole";
    pub const API_GATEWAY_ACCOUNT: &str = "ApiGatewayAccount";
    pub const API_INVOKE_PERMISSION: &str = "ApiFunctionInvokePermission";
}

/// Template parameters: where `deployer up` uploaded each function's artifact. Parameters keep
/// the rendered template independent of the build, so `render` needs no artifact.
pub mod params {
    use contract::names::Function;

    pub const ARTIFACT_BUCKET: &str = "ArtifactBucket";
    pub const API_ARTIFACT_KEY: &str = "ApiArtifactKey";
    pub const ANALYZER_ARTIFACT_KEY: &str = "AnalyzerArtifactKey";
    /// Every parameter that says where the artifacts are.
    pub const ARTIFACTS: [&str; 3] = [ARTIFACT_BUCKET, API_ARTIFACT_KEY, ANALYZER_ARTIFACT_KEY];

    pub fn artifact_key(function: Function) -> &'static str {
        match function {
            Function::Api => API_ARTIFACT_KEY,
            Function::Analyzer => ANALYZER_ARTIFACT_KEY,
        }
    }
    /// `Enabled` (the analyzer function consumes QueueAnalysis) or `Disabled` (something else
    /// does, such as `smart-album serve` on one machine).
    pub const ANALYZER_QUEUE_MAPPING: &str = "AnalyzerQueueMapping";
    pub const MAPPING_ENABLED: &str = "Enabled";
    pub const MAPPING_DISABLED: &str = "Disabled";
}

/// Template conditions.
pub mod conditions {
    pub const ANALYZER_MAPPING_ENABLED: &str = "AnalyzerMappingEnabled";
    /// `smart-album serve` serves the stack on one machine (the analyzer mapping is disabled).
    pub const SERVED_LOCALLY: &str = "ServedLocally";
}

/// The stage every REST API deploys to.
pub const STAGE_NAME: &str = "prod";

/// A CloudFormation value: a literal string or an intrinsic function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expr {
    Str(String),
    /// `!Ref Name`: a resource's primary id, a parameter, or a pseudo-parameter.
    Ref(String),
    /// `!GetAtt Resource.Attribute`.
    GetAtt(String, String),
    /// `!Sub template` with `${Name}` / `${Name.Attribute}` references.
    Sub(String),
    /// `!Join [delimiter, [parts]]`.
    Join(String, Vec<Expr>),
    /// A literal boolean.
    Bool(bool),
    /// `!Equals [a, b]`, in Conditions.
    Equals(Box<Expr>, Box<Expr>),
    /// `!If [condition, then, else]`.
    If(String, Box<Expr>, Box<Expr>),
}

impl Expr {
    pub fn str(value: impl Into<String>) -> Self {
        Expr::Str(value.into())
    }
    pub fn reference(name: &str) -> Self {
        Expr::Ref(name.to_owned())
    }
    pub fn arn_of(resource: &str) -> Self {
        Expr::GetAtt(resource.to_owned(), "Arn".to_owned())
    }
    pub fn get_att(resource: &str, attribute: &str) -> Self {
        Expr::GetAtt(resource.to_owned(), attribute.to_owned())
    }
    pub fn sub(template: impl Into<String>) -> Self {
        Expr::Sub(template.into())
    }

    /// The logical ids (resources or parameters) this value refers to; pseudo-parameters
    /// such as `AWS::Region` are left out.
    pub fn references(&self) -> Vec<String> {
        match self {
            Expr::Str(_) => Vec::new(),
            Expr::Ref(name) if name.starts_with("AWS::") => Vec::new(),
            Expr::Ref(name) => vec![name.clone()],
            Expr::GetAtt(resource, _) => vec![resource.clone()],
            Expr::Sub(template) => sub_references(template),
            Expr::Join(_, parts) => parts.iter().flat_map(Expr::references).collect(),
            Expr::Bool(_) => Vec::new(),
            Expr::Equals(a, b) => a.references().into_iter().chain(b.references()).collect(),
            Expr::If(_, then, otherwise) => then.references().into_iter().chain(otherwise.references()).collect(),
        }
    }
}

/// The pseudo-parameters a resource name may use, with their values in one stack.
pub struct Pseudo<'a> {
    pub stack_name: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
}

impl Pseudo<'_> {
    /// The partition of the region, as `AWS::Partition` gives it.
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }
}

impl Expr {
    /// The value of a name-like expression (a literal or a `!Sub` of pseudo-parameters only),
    /// as CloudFormation will resolve it; `None` for anything that needs other resources.
    pub fn resolve_name(&self, pseudo: &Pseudo<'_>) -> Option<String> {
        match self {
            Expr::Str(value) => Some(value.clone()),
            Expr::Sub(template) if sub_references(template).is_empty() => Some(
                template
                    .replace("${AWS::StackName}", pseudo.stack_name)
                    .replace("${AWS::AccountId}", pseudo.account_id)
                    .replace("${AWS::Region}", pseudo.region)
                    .replace("${AWS::Partition}", pseudo.partition()),
            ),
            _ => None,
        }
    }
}

/// `${Name}` and `${Name.Attr}` in a `!Sub` template, without `${AWS::...}` and `${!literal}`.
fn sub_references(template: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find('}') else { break };
        let name = &rest[..end];
        if !name.starts_with("AWS::") && !name.starts_with('!') {
            found.push(name.split('.').next().unwrap_or(name).to_owned());
        }
        rest = &rest[end + 1..];
    }
    found
}

impl From<&str> for Expr {
    fn from(value: &str) -> Self {
        Expr::Str(value.to_owned())
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // Newtype variants become YAML tags in serde_norway: `!Ref X`, `!Sub ...`.
        match self {
            Expr::Str(value) => s.serialize_str(value),
            Expr::Ref(name) => s.serialize_newtype_variant("Fn", 0, "Ref", name),
            Expr::GetAtt(resource, attribute) => s.serialize_newtype_variant("Fn", 1, "GetAtt", &format!("{resource}.{attribute}")),
            Expr::Sub(template) => s.serialize_newtype_variant("Fn", 2, "Sub", template),
            Expr::Join(delimiter, parts) => s.serialize_newtype_variant("Fn", 3, "Join", &(delimiter, parts)),
            Expr::Bool(value) => s.serialize_bool(*value),
            Expr::Equals(a, b) => s.serialize_newtype_variant("Fn", 4, "Equals", &(a, b)),
            Expr::If(condition, then, otherwise) => s.serialize_newtype_variant("Fn", 5, "If", &(condition, then, otherwise)),
        }
    }
}

/// What happens to a resource's data when the stack deletes or replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RetentionPolicy {
    Retain,
    Delete,
}

/// One resource: its typed properties plus the resource-level attributes.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    #[serde(flatten)]
    pub kind: ResourceKind,
    #[serde(rename = "DependsOn", skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(rename = "DeletionPolicy", skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<RetentionPolicy>,
    #[serde(rename = "UpdateReplacePolicy", skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<RetentionPolicy>,
    #[serde(rename = "Metadata", skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Retained, but the rest of the kept data is taken back without it (it names none of it,
    /// and stacks taken down before it existed have none): `up` then makes a new one.
    #[serde(skip)]
    pub kept_apart: bool,
}

/// What tools read beside a resource: checkov's checks that do not apply to it, each with why.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata {
    pub checkov: CheckovSkips,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckovSkips {
    pub skip: Vec<CheckovSkip>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckovSkip {
    pub id: &'static str,
    pub comment: &'static str,
}

impl Resource {
    pub fn new(kind: impl Into<ResourceKind>) -> Self {
        Self {
            kind: kind.into(),
            depends_on: Vec::new(),
            deletion_policy: None,
            update_replace_policy: None,
            metadata: None,
            kept_apart: false,
        }
    }

    /// Checkov checks that do not apply to this resource: `(id, why)`.
    pub fn not_applicable(mut self, checks: &[(&'static str, &'static str)]) -> Self {
        let skip = checks.iter().map(|&(id, comment)| CheckovSkip { id, comment }).collect();
        self.metadata = Some(Metadata { checkov: CheckovSkips { skip } });
        self
    }

    /// For data that must outlive the stack: bucket, tables, key.
    pub fn retained(mut self) -> Self {
        self.deletion_policy = Some(RetentionPolicy::Retain);
        self.update_replace_policy = Some(RetentionPolicy::Retain);
        self
    }

    /// Retained like the data, but not needed to take the data back ([`Resource::kept_apart`]).
    pub fn retained_apart(mut self) -> Self {
        self.kept_apart = true;
        self.retained()
    }

    pub fn depends_on(mut self, ids: &[&str]) -> Self {
        self.depends_on = ids.iter().map(|id| (*id).to_owned()).collect();
        self
    }

    pub fn is_retained(&self) -> bool {
        self.deletion_policy == Some(RetentionPolicy::Retain)
    }
}

/// Every resource type the stacks use, tagged with its CloudFormation type name.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "Type", content = "Properties")]
pub enum ResourceKind {
    #[serde(rename = "AWS::KMS::Key")]
    KmsKey(key::KmsKey),
    #[serde(rename = "AWS::KMS::Alias")]
    KmsAlias(key::KmsAlias),
    #[serde(rename = "AWS::S3::Bucket")]
    Bucket(storage::Bucket),
    #[serde(rename = "AWS::S3::BucketPolicy")]
    BucketPolicy(storage::BucketPolicy),
    #[serde(rename = "AWS::DynamoDB::Table")]
    Table(tables::Table),
    #[serde(rename = "AWS::SNS::Topic")]
    Topic(messaging::Topic),
    #[serde(rename = "AWS::SQS::Queue")]
    Queue(messaging::Queue),
    #[serde(rename = "AWS::SQS::QueuePolicy")]
    QueuePolicy(messaging::QueuePolicy),
    #[serde(rename = "AWS::IAM::Role")]
    Role(iam::Role),
    #[serde(rename = "AWS::Lambda::Function")]
    Function(Box<functions::Function>),
    #[serde(rename = "AWS::Lambda::EventSourceMapping")]
    EventSourceMapping(functions::EventSourceMapping),
    #[serde(rename = "AWS::Lambda::Permission")]
    Permission(functions::Permission),
    #[serde(rename = "AWS::Logs::LogGroup")]
    LogGroup(functions::LogGroup),
    #[serde(rename = "AWS::ApiGateway::RestApi")]
    RestApi(api::RestApi),
    #[serde(rename = "AWS::ApiGateway::Resource")]
    ApiResource(api::ApiResource),
    #[serde(rename = "AWS::ApiGateway::Method")]
    Method(api::Method),
    #[serde(rename = "AWS::ApiGateway::Deployment")]
    Deployment(api::Deployment),
    #[serde(rename = "AWS::ApiGateway::Stage")]
    Stage(api::Stage),
    #[serde(rename = "AWS::ApiGateway::Account")]
    ApiGatewayAccount(account::ApiGatewayAccount),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub description: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_values: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub description: &'static str,
    pub value: Expr,
}

/// A whole stack template.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "Parameters", skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<&'static str, Parameter>,
    #[serde(rename = "Conditions", skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<&'static str, Expr>,
    #[serde(rename = "Resources")]
    pub resources: BTreeMap<String, Resource>,
    #[serde(rename = "Outputs", skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<&'static str, Output>,
}

impl Template {
    fn add(&mut self, id: &str, resource: Resource) {
        let previous = self.resources.insert(id.to_owned(), resource);
        debug_assert!(previous.is_none(), "resource {id} added twice");
    }

    pub fn to_yaml(&self) -> Result<String> {
        serde_norway::to_string(self).map_err(|err| Error::Render(err.to_string()))
    }

    /// The template that takes kept data back into a new stack (a CloudFormation IMPORT change
    /// set): only the retained resources in `kept`, as this template declares them, less what
    /// names resources the import does not have (the bucket's CORS rule names the REST API);
    /// the update that follows the import adds the rest.
    pub fn for_import(&self, kept: &[&str]) -> Template {
        let resources = self
            .resources
            .iter()
            .filter(|(id, resource)| resource.is_retained() && kept.contains(&id.as_str()))
            .map(|(id, resource)| {
                let mut resource = resource.clone();
                if let ResourceKind::Bucket(bucket) = &mut resource.kind {
                    bucket.cors_configuration = None;
                    bucket.logging_configuration = None;
                }
                (id.clone(), resource)
            })
            .collect();
        Template {
            format_version: self.format_version,
            description: self.description.clone(),
            parameters: BTreeMap::new(),
            conditions: BTreeMap::new(),
            resources,
            outputs: BTreeMap::new(),
        }
    }

    /// Logical ids of the resources that outlive the stack (DeletionPolicy Retain).
    pub fn retained_ids(&self) -> Vec<&str> {
        self.resources.iter().filter(|(_, resource)| resource.is_retained()).map(|(id, _)| id.as_str()).collect()
    }

    /// The retained resources that name each other and so are taken back all or none.
    pub fn retained_together_ids(&self) -> Vec<&str> {
        self.resources.iter().filter(|(_, resource)| resource.is_retained() && !resource.kept_apart).map(|(id, _)| id.as_str()).collect()
    }
}

/// Renders the template of one tier's pooled stack, or of its dedicated stack for `tenant`
/// (the same resources; only names differ).
pub fn render(config: &TierConfig, tenant: Option<&TenantName>) -> Template {
    let dedicated = tenant.map_or_else(String::new, |tenant| format!(", dedicated to tenant {tenant}"));
    let mut template = Template {
        format_version: "2010-09-09",
        description: format!("Smart Album, tier {}{dedicated} (rendered by the deployer; do not edit)", config.tier),
        parameters: BTreeMap::from([
            (
                params::ARTIFACT_BUCKET,
                Parameter {
                    kind: "String",
                    description: "S3 bucket holding the functions' artifacts (set by deployer up)",
                    default: None,
                    allowed_values: Vec::new(),
                },
            ),
            (
                params::API_ARTIFACT_KEY,
                Parameter {
                    kind: "String",
                    description: "S3 key of the API function's zip (content-addressed; no vision models)",
                    default: None,
                    allowed_values: Vec::new(),
                },
            ),
            (
                params::ANALYZER_ARTIFACT_KEY,
                Parameter {
                    kind: "String",
                    description: "S3 key of the analyzer function's zip (content-addressed)",
                    default: None,
                    allowed_values: Vec::new(),
                },
            ),
            (
                params::ANALYZER_QUEUE_MAPPING,
                Parameter {
                    kind: "String",
                    description: "Whether the analyzer function consumes QueueAnalysis (Disabled when smart-album serve does)",
                    default: Some(params::MAPPING_ENABLED),
                    allowed_values: vec![params::MAPPING_ENABLED, params::MAPPING_DISABLED],
                },
            ),
        ]),
        conditions: BTreeMap::from([
            (
                conditions::ANALYZER_MAPPING_ENABLED,
                Expr::Equals(Box::new(Expr::reference(params::ANALYZER_QUEUE_MAPPING)), Box::new(Expr::str(params::MAPPING_ENABLED))),
            ),
            (
                conditions::SERVED_LOCALLY,
                Expr::Equals(Box::new(Expr::reference(params::ANALYZER_QUEUE_MAPPING)), Box::new(Expr::str(params::MAPPING_DISABLED))),
            ),
        ]),
        resources: BTreeMap::new(),
        outputs: BTreeMap::new(),
    };
    for (id, resource) in key::resources()
        .into_iter()
        .chain(storage::resources(&StackId { tier: config.tier.clone(), tenant: tenant.cloned() }))
        .chain(tables::resources())
        .chain(messaging::resources(config))
        .chain(iam::resources(config))
        .chain(functions::resources(config))
        .chain(api::resources(config))
    {
        template.add(id, resource);
    }
    template.outputs = outputs::outputs();
    template
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_references_skip_pseudo_parameters_and_escapes() {
        let refs = sub_references("arn:${AWS::Partition}:s3:::${PhotoBucket}/${!Literal}/${Key.Arn}");
        assert_eq!(refs, ["PhotoBucket", "Key"]);
    }

    #[test]
    fn intrinsics_serialise_as_short_form_tags() {
        let values = vec![
            Expr::reference("A"),
            Expr::arn_of("B"),
            Expr::sub("${AWS::StackName}-x"),
            Expr::Join(",".into(), vec![Expr::str("a"), Expr::reference("C")]),
        ];
        let yaml = serde_norway::to_string(&values).unwrap();
        assert_eq!(yaml, "- !Ref A\n- !GetAtt B.Arn\n- !Sub ${AWS::StackName}-x\n- !Join\n  - ','\n  - - a\n    - !Ref C\n");
    }
}
