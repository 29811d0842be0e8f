//! The photo bucket: SSE-KMS with the tier key, no public access, TLS only, and abandoned
//! multipart uploads cleaned up; and the bucket its server access logs go to.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::iam::{Effect, PolicyDocument, Principal, Statement};
use super::{Expr, Resource, ResourceKind, conditions, ids};
use crate::config::StackId;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bucket {
    pub bucket_name: Expr,
    pub bucket_encryption: BucketEncryption,
    pub public_access_block_configuration: PublicAccessBlock,
    pub ownership_controls: OwnershipControls,
    /// An overwritten or deleted object stays [`OLD_VERSION_DAYS`] as an old version: a bug or a
    /// stolen credential that overwrites or deletes photos can be undone for that long.
    pub versioning_configuration: VersioningConfiguration,
    pub lifecycle_configuration: LifecycleConfiguration,
    /// Absent only in the template that takes a kept bucket back (it names the REST API, which
    /// that template does not have yet): the update after the import sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<CorsConfiguration>,
    /// Absent in the template that takes kept data back (the log bucket may not be among it):
    /// the update after the import sets it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<LoggingConfiguration>,
}

/// Where S3 writes a record of every request to the bucket (who, what, when, the answer).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfiguration {
    pub destination_bucket_name: Expr,
    pub log_file_prefix: &'static str,
}

/// The gallery uploads large photos straight to the bucket with presigned PUTs (API Gateway
/// and Lambda cap request bodies at 6 MB): only that, only from the gallery's origin.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsConfiguration {
    pub cors_rules: Vec<CorsRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    pub allowed_methods: Vec<&'static str>,
    pub allowed_origins: Vec<Expr>,
    pub allowed_headers: Vec<&'static str>,
    pub max_age: u32,
}

/// Where the gallery is served from: the stack's REST API, and, for a stack that `runtime
/// serve` serves (`deployer up --analyzer local`), the local machine.
pub fn gallery_origins() -> Vec<Expr> {
    let local = |origin: &str| {
        Expr::If(conditions::SERVED_LOCALLY.to_owned(), Box::new(Expr::str(origin)), Box::new(Expr::reference("AWS::NoValue")))
    };
    vec![
        Expr::sub(format!("https://${{{}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}", ids::REST_API)),
        local("http://127.0.0.1:*"),
        local("http://localhost:*"),
    ]
}

/// How long an old version of an object (overwritten, or deleted by the user) is kept. A photo
/// the user deletes is gone from the service at once, and from the bucket this many days later.
pub const OLD_VERSION_DAYS: u32 = 3;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersioningConfiguration {
    pub status: &'static str,
}

impl VersioningConfiguration {
    pub const ENABLED: VersioningConfiguration = VersioningConfiguration { status: "Enabled" };
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    pub noncurrent_days: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    pub server_side_encryption_configuration: Vec<EncryptionRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRule {
    pub server_side_encryption_by_default: EncryptionByDefault,
    /// S3 Bucket Keys cut KMS requests (and cost) by orders of magnitude.
    pub bucket_key_enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EncryptionByDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: &'static str,
    #[serde(rename = "KMSMasterKeyID", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<Expr>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Nothing public, whatever an ACL or a policy says.
    pub const ALL: PublicAccessBlock =
        PublicAccessBlock { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true };
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    pub rules: Vec<OwnershipRule>,
}

impl OwnershipControls {
    /// ACLs off: the bucket's owner owns every object, and only policies grant access.
    pub fn bucket_owner_enforced() -> Self {
        Self { rules: vec![OwnershipRule { object_ownership: "BucketOwnerEnforced" }] }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipRule {
    pub object_ownership: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleConfiguration {
    pub rules: Vec<LifecycleRule>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    pub id: &'static str,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_filters: Vec<TagFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<bool>,
}

impl LifecycleRule {
    fn new(id: &'static str) -> Self {
        Self {
            id,
            status: "Enabled",
            abort_incomplete_multipart_upload: None,
            expiration_in_days: None,
            tag_filters: Vec::new(),
            noncurrent_version_expiration: None,
            expired_object_delete_marker: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagFilter {
    pub key: &'static str,
    pub value: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    pub days_after_initiation: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicy {
    pub bucket: Expr,
    pub policy_document: PolicyDocument,
}

/// The photo bucket's name. Account and region make the globally unique name predictable for
/// ops. A dedicated stack's name is too long for `<stack>-photos-<account>-<region>` (a bucket
/// name has at most 63 characters, and `smart-album-full-platform-user-photos-<account>-<region>`
/// has 60 already), so it is `sa-<tenant>-<8 hex of the stack name's SHA-256>-<account>-<region>`:
/// 60 characters for the longest tenant name (20) and region (14), and distinct per stack.
pub fn bucket_name(stack: &StackId) -> Expr {
    name_of(stack, "photos", "sa")
}

/// The access log bucket's name: as the photo bucket's, `logs` for `photos` (`sl-` for `sa-`).
pub fn log_bucket_name(stack: &StackId) -> Expr {
    name_of(stack, "logs", "sl")
}

fn name_of(stack: &StackId, purpose: &str, dedicated_prefix: &str) -> Expr {
    match &stack.tenant {
        None => Expr::sub(format!("${{AWS::StackName}}-{purpose}-${{AWS::AccountId}}-${{AWS::Region}}")),
        Some(tenant) => {
            let digest = Sha256::digest(stack.stack_name().as_bytes());
            let short: String = digest.iter().take(4).map(|byte| format!("{byte:02x}")).collect();
            Expr::sub(format!("{dedicated_prefix}-{tenant}-{short}-${{AWS::AccountId}}-${{AWS::Region}}"))
        }
    }
}

/// How long S3's access records of the photo bucket are kept.
pub const ACCESS_LOG_DAYS: u32 = 365;

/// Why the log bucket does without what the photo bucket has.
const LOG_BUCKET_CHECKS: &[(&str, &str)] = &[
    ("CKV_AWS_18", "This is the access log bucket: logging its own log deliveries would record nothing but themselves"),
    ("CKV_AWS_145", "S3 delivers server access logs only to buckets encrypted with S3-managed keys (SSE-S3), not SSE-KMS"),
];

/// The bucket S3 writes the photo bucket's server access logs to: private, TLS only, kept a
/// year, and retained with the data when the stack is taken down.
fn log_bucket(stack: &StackId) -> Vec<(&'static str, Resource)> {
    let bucket = Bucket {
        bucket_name: log_bucket_name(stack),
        bucket_encryption: BucketEncryption {
            server_side_encryption_configuration: vec![EncryptionRule {
                server_side_encryption_by_default: EncryptionByDefault { sse_algorithm: "AES256", kms_master_key_id: None },
                bucket_key_enabled: false,
            }],
        },
        public_access_block_configuration: PublicAccessBlock::ALL,
        ownership_controls: OwnershipControls::bucket_owner_enforced(),
        versioning_configuration: VersioningConfiguration::ENABLED,
        lifecycle_configuration: LifecycleConfiguration {
            rules: vec![LifecycleRule {
                expiration_in_days: Some(ACCESS_LOG_DAYS),
                noncurrent_version_expiration: Some(NoncurrentVersionExpiration { noncurrent_days: OLD_VERSION_DAYS }),
                ..LifecycleRule::new("expire-access-logs")
            }],
        },
        cors_configuration: None,
        logging_configuration: None,
    };
    let delivery = Statement {
        sid: "S3DeliversThePhotoBucketsAccessLogs",
        effect: Effect::Allow,
        principal: Some(Principal::Service("logging.s3.amazonaws.com".into())),
        action: vec!["s3:PutObject"],
        resource: vec![Expr::sub(format!("${{{}.Arn}}/*", ids::LOG_BUCKET))],
        condition: Some(
            [
                ("ArnLike", [("aws:SourceArn", Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{}", photo_bucket_sub(stack))))].into()),
                ("StringEquals", [("aws:SourceAccount", Expr::sub("${AWS::AccountId}"))].into()),
            ]
            .into(),
        ),
    };
    let tls_only = deny_insecure_transport(ids::LOG_BUCKET);
    vec![
        (ids::LOG_BUCKET, Resource::new(ResourceKind::Bucket(bucket)).retained_apart().not_applicable(LOG_BUCKET_CHECKS)),
        (
            ids::LOG_BUCKET_POLICY,
            Resource::new(ResourceKind::BucketPolicy(BucketPolicy {
                bucket: Expr::reference(ids::LOG_BUCKET),
                policy_document: PolicyDocument::new(vec![delivery, tls_only]),
            })),
        ),
    ]
}

/// Refuses every request to the bucket `id` and its objects that does not come over TLS.
fn deny_insecure_transport(id: &str) -> Statement {
    Statement {
        sid: "DenyInsecureTransport",
        effect: Effect::Deny,
        principal: Some(Principal::Anyone),
        action: vec!["s3:*"],
        resource: vec![Expr::arn_of(id), Expr::sub(format!("${{{id}.Arn}}/*"))],
        condition: Some([("Bool", [("aws:SecureTransport", Expr::str("false"))].into())].into()),
    }
}

/// The photo bucket's name as a `!Sub` string (its ARN cannot be a reference: the photo bucket
/// names the log bucket, so the log bucket's policy naming the photo bucket would be a cycle).
fn photo_bucket_sub(stack: &StackId) -> String {
    match bucket_name(stack) {
        Expr::Sub(name) => name,
        other => unreachable!("bucket names are !Sub strings: {other:?}"),
    }
}

pub fn resources(stack: &StackId) -> Vec<(&'static str, Resource)> {
    let bucket = Bucket {
        bucket_name: bucket_name(stack),
        bucket_encryption: BucketEncryption {
            server_side_encryption_configuration: vec![EncryptionRule {
                server_side_encryption_by_default: EncryptionByDefault {
                    sse_algorithm: "aws:kms",
                    kms_master_key_id: Some(Expr::arn_of(ids::KEY)),
                },
                bucket_key_enabled: true,
            }],
        },
        public_access_block_configuration: PublicAccessBlock::ALL,
        ownership_controls: OwnershipControls::bucket_owner_enforced(),
        versioning_configuration: VersioningConfiguration::ENABLED,
        lifecycle_configuration: LifecycleConfiguration {
            rules: vec![
                LifecycleRule {
                    abort_incomplete_multipart_upload: Some(AbortIncompleteMultipartUpload { days_after_initiation: 1 }),
                    ..LifecycleRule::new("abort-abandoned-multipart-uploads")
                },
                // A presigned upload's object carries the pending tag until its completion
                // removes it: one never completed goes a day later, as its record does (TTL).
                LifecycleRule {
                    expiration_in_days: Some(1),
                    tag_filters: vec![TagFilter { key: contract::names::UPLOAD_TAG.0, value: contract::names::UPLOAD_TAG.1 }],
                    ..LifecycleRule::new("expire-abandoned-presigned-uploads")
                },
                LifecycleRule {
                    noncurrent_version_expiration: Some(NoncurrentVersionExpiration { noncurrent_days: OLD_VERSION_DAYS }),
                    expired_object_delete_marker: Some(true),
                    ..LifecycleRule::new("expire-old-versions")
                },
            ],
        },
        cors_configuration: Some(CorsConfiguration {
            cors_rules: vec![CorsRule {
                allowed_methods: vec!["PUT"],
                allowed_origins: gallery_origins(),
                allowed_headers: vec!["content-type", "x-amz-tagging"],
                max_age: 3600,
            }],
        }),
        logging_configuration: Some(LoggingConfiguration {
            destination_bucket_name: Expr::reference(ids::LOG_BUCKET),
            log_file_prefix: "photos/",
        }),
    };
    let tls_only = deny_insecure_transport(ids::BUCKET);
    let mut resources = log_bucket(stack);
    resources.extend([
        (ids::BUCKET, Resource::new(ResourceKind::Bucket(bucket)).retained()),
        (
            ids::BUCKET_POLICY,
            Resource::new(ResourceKind::BucketPolicy(BucketPolicy {
                bucket: Expr::reference(ids::BUCKET),
                policy_document: PolicyDocument::new(vec![tls_only]),
            })),
        ),
    ]);
    resources
}
