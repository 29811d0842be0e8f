//! Tenant-scoped credentials (the SaaS Lens' "token vending machine"): a tenant's data is
//! reached with credentials of the stack's tenant-access role, assumed with a session policy
//! that allows DynamoDB only on items whose partition key is the tenant's (`dynamodb:LeadingKeys`)
//! and S3 only under the tenant's prefix. The functions' own roles cannot read a photo, an image
//! record or an account at all; a bug naming another user's key is refused by AWS.
//!
//! Credentials are assumed once per tenant and process and refreshed by the SDK's identity
//! cache before they expire; the clients of the last [`CACHED_TENANTS`] tenants are kept.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_config::identity::IdentityCache;
use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_dynamodb::config::SharedInterceptor;
use contract::StackConfig;
use domain::error::{Error, Result};
use domain::model::UserName;
use domain::{Tenancy, TenantData};
use lru::LruCache;
use serde_json::{Value, json};

use crate::{DynamoImages, DynamoUsers, S3Photos};

/// How many tenants' clients a process keeps (each holds its credentials); an evicted tenant's
/// next request assumes the role again.
pub const CACHED_TENANTS: usize = 1024;

/// How long assumed credentials last: the longest a chained role session may.
const SESSION: Duration = Duration::from_secs(60 * 60);

/// Credentials are renewed when less than this is left of them, so that a presigned URL
/// (at most 15 minutes, docs/api.md) never outlives the credentials that signed it.
const RENEW_BEFORE: Duration = Duration::from_secs(20 * 60);

/// DynamoDB actions a tenant's session may take; never Scan, whose empty set of leading keys
/// `ForAllValues` would let through.
pub const ITEM_ACTIONS: [&str; 8] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
];

/// S3 actions on a tenant's objects (tagging: a presigned upload is tagged pending until
/// completed).
pub const OBJECT_ACTIONS: [&str; 5] = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging", "s3:DeleteObjectTagging"];

/// What a tenant's session reaches: the stack's tables, its photo bucket and the key the bucket
/// is encrypted with, in one partition and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantScope {
    pub users_table_arn: String,
    pub images_table_arn: String,
    pub photo_bucket_arn: String,
    pub key_arn: String,
}

impl TenantScope {
    /// The scope of a stack, whose tenant-access role ARN names the partition and account.
    pub fn of_stack(config: &StackConfig, region: &str) -> Result<Self> {
        let tables = [config.users_table.as_str(), config.images_table.as_str()];
        Self::new(&config.tenant_access_role_arn, region, tables, &config.photo_bucket, &config.key_arn)
    }

    fn new(role: &str, region: &str, [users_table, images_table]: [&str; 2], photo_bucket: &str, key_arn: &str) -> Result<Self> {
        let mut parts = role.split(':');
        let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Internal(format!("not an IAM role ARN: {role}")));
        };
        Ok(Self {
            users_table_arn: format!("arn:{partition}:dynamodb:{region}:{account}:table/{users_table}"),
            images_table_arn: format!("arn:{partition}:dynamodb:{region}:{account}:table/{images_table}"),
            photo_bucket_arn: format!("arn:{partition}:s3:::{photo_bucket}"),
            key_arn: key_arn.to_owned(),
        })
    }

    /// The session policy of `user`'s credentials: its account's partition of the users table,
    /// its partitions of the images table (`<user>`, and `<user>#...` of the index), its objects
    /// `<user>/...`.
    /// User names hold no `#`, `/`, `*` or `?`, so no pattern reaches another user's keys.
    pub fn session_policy(&self, user: &UserName) -> Value {
        let table = &self.images_table_arn;
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OwnItems",
                    "Effect": "Allow",
                    "Action": ITEM_ACTIONS,
                    "Resource": [self.users_table_arn, table, format!("{table}/index/*")],
                    "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [user.as_str(), format!("{user}#*")]}}
                },
                {
                    "Sid": "OwnObjects",
                    "Effect": "Allow",
                    "Action": OBJECT_ACTIONS,
                    "Resource": format!("{}/{user}/*", self.photo_bucket_arn)
                },
                {
                    "Sid": "ListOwnObjects",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": self.photo_bucket_arn,
                    "Condition": {"StringLike": {"s3:prefix": format!("{user}/*")}}
                },
                {
                    "Sid": "OwnObjectsEncrypted",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": self.key_arn
                }
            ]
        })
    }
}

/// Makes the interceptor a tenant's clients report their calls to (tests record them).
pub type Observer = Arc<dyn Fn(&UserName) -> SharedInterceptor + Send + Sync>;

/// Tenants' stores on the stack's tables and bucket, each with its tenant's credentials.
pub struct TenantAccess {
    aws: SdkConfig,
    role_arn: String,
    scope: TenantScope,
    users_table: String,
    images_table: String,
    photo_bucket: String,
    cached: Mutex<LruCache<UserName, TenantData>>,
    observer: Option<Observer>,
    assumed: Arc<AtomicU64>,
}

impl TenantAccess {
    pub fn of_stack(config: &StackConfig, aws: &SdkConfig) -> Result<Self> {
        let region = aws.region().map(|region| region.to_string()).ok_or_else(|| Error::Internal("no AWS region is configured".into()))?;
        Ok(Self {
            aws: aws.clone(),
            role_arn: config.tenant_access_role_arn.clone(),
            scope: TenantScope::of_stack(config, &region)?,
            users_table: config.users_table.clone(),
            images_table: config.images_table.clone(),
            photo_bucket: config.photo_bucket.clone(),
            cached: Mutex::new(LruCache::new(NonZeroUsize::new(CACHED_TENANTS).unwrap_or(NonZeroUsize::MIN))),
            observer: None,
            assumed: Arc::default(),
        })
    }

    /// Every tenant's clients get the interceptor `observer` makes for the tenant.
    pub fn observed_by(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// How many times this process assumed the tenant-access role (STS calls).
    pub fn roles_assumed(&self) -> u64 {
        self.assumed.load(Ordering::Relaxed)
    }

    async fn connect(&self, user: &UserName) -> Result<TenantData> {
        let policy = self.scope.session_policy(user).to_string();
        let provider = AssumeRoleProvider::builder(&self.role_arn)
            .session_name(format!("tenant-{user}"))
            .session_length(SESSION)
            .policy(policy)
            .configure(&self.aws)
            .build()
            .await;
        let credentials = CountedCredentials { provider, assumed: Arc::clone(&self.assumed) };
        let config = self
            .aws
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .identity_cache(IdentityCache::lazy().buffer_time(RENEW_BEFORE).build())
            .build();
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&config);
        let mut s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(config.endpoint_url().is_some());
        if let Some(observer) = &self.observer {
            let interceptor = observer(user);
            dynamodb.push_interceptor(interceptor.clone());
            s3.push_interceptor(interceptor);
        }
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(dynamodb.build());
        Ok(TenantData {
            account: Arc::new(DynamoUsers::new(dynamodb.clone(), &self.users_table)),
            images: Arc::new(DynamoImages::new(dynamodb, &self.images_table)),
            photos: Arc::new(S3Photos::new(aws_sdk_s3::Client::from_conf(s3.build()), &self.photo_bucket)),
        })
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, LruCache<UserName, TenantData>> {
        self.cached.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl Tenancy for TenantAccess {
    async fn data_of(&self, user: &UserName) -> Result<TenantData> {
        if let Some(data) = self.cache().get(user) {
            return Ok(data.clone());
        }
        // Two first requests of a tenant at once may both connect; one is kept.
        let data = self.connect(user).await?;
        self.cache().put(user.clone(), data.clone());
        Ok(data)
    }
}

/// The role's credentials, counting how often STS is asked for them.
#[derive(Debug)]
struct CountedCredentials {
    provider: AssumeRoleProvider,
    assumed: Arc<AtomicU64>,
}

impl ProvideCredentials for CountedCredentials {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.assumed.fetch_add(1, Ordering::Relaxed);
        self.provider.provide_credentials()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> TenantScope {
        TenantScope {
            users_table_arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/s-users".into(),
            images_table_arn: "arn:aws:dynamodb:eu-west-1:123456789012:table/s-images".into(),
            photo_bucket_arn: "arn:aws:s3:::s-photos".into(),
            key_arn: "arn:aws:kms:eu-west-1:123456789012:key/k".into(),
        }
    }

    #[test]
    fn a_session_policy_names_only_its_tenants_partitions_and_prefix() {
        let user = UserName::parse("alice").unwrap();
        let policy = scope().session_policy(&user);
        let statements = policy["Statement"].as_array().unwrap();
        let items = &statements[0];
        assert_eq!(items["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"], json!(["alice", "alice#*"]));
        assert!(!items["Action"].as_array().unwrap().contains(&json!("dynamodb:Scan")), "Scan has no leading keys");
        assert_eq!(statements[1]["Resource"], "arn:aws:s3:::s-photos/alice/*");
        assert_eq!(statements[2]["Condition"]["StringLike"]["s3:prefix"], "alice/*");
        // An inline session policy is limited to 2,048 characters packed.
        let longest = UserName::parse(&"a".repeat(32)).unwrap();
        assert!(scope().session_policy(&longest).to_string().len() < 2048);
    }

    #[test]
    fn a_stack_scope_takes_partition_and_account_from_the_role() {
        let role = "arn:aws-cn:iam::210987654321:role/s-tenant-access";
        let scope = TenantScope::new(role, "cn-north-1", ["s-users", "s-images"], "s-photos", "k").unwrap();
        assert_eq!(scope.users_table_arn, "arn:aws-cn:dynamodb:cn-north-1:210987654321:table/s-users");
        assert_eq!(scope.images_table_arn, "arn:aws-cn:dynamodb:cn-north-1:210987654321:table/s-images");
        assert_eq!(scope.photo_bucket_arn, "arn:aws-cn:s3:::s-photos");
        assert!(TenantScope::new("not-an-arn", "eu-west-1", ["s-users", "s-images"], "s-photos", "k").is_err());
    }
}
