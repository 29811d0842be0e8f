//! The DynamoDB tables. Key design (what the runtime reads, each a GetItem or a Query):
//!
//! users table, `pk` = user name, `sk` = `profile`; index `by_name_prefix` with
//! `name_initial` (first character) and `user_name`, so the ops prefix search is a Query.
//!
//! images table, one partition per user (`pk` = user name), items told apart by `sk`:
//! - `image#<id>`: the image record (ids sort by upload time);
//! - `image#<id>#label#<label>`: one index entry per label (later `#person#`, `#word#`), so
//!   deleting an image is one Query on `begins_with(sk, "image#<id>")`;
//! - `usage`: the per-user counters (photos, bytes), updated in the same transaction as records.
//!
//! Index `entries` (`entry_pk`, `entry_sk`) makes every read a Query proportional to its result:
//! `<user>#image` lists a user's images newest first, `<user>#label#<label>` finds the images
//! with a label; persons and words of text will be `<user>#person#<id>` and `<user>#word#<word>`.

use contract::names::{
    IMAGES_ENTRIES_INDEX, IMAGES_ENTRIES_INDEX_KEY, IMAGES_EXPIRES_AT, IMAGES_TABLE_SUFFIX, PARTITION_KEY, SORT_KEY, USERS_EXPIRES_AT,
    USERS_NAME_PREFIX_INDEX, USERS_NAME_PREFIX_INDEX_KEY, USERS_TABLE_SUFFIX,
};
use serde::Serialize;

use super::{Expr, Resource, ResourceKind, ids};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    pub table_name: Expr,
    pub billing_mode: &'static str,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeyElement>,
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: SseSpecification,
    pub point_in_time_recovery_specification: PointInTimeRecovery,
    pub deletion_protection_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_live_specification: Option<TimeToLive>,
}

/// DynamoDB deletes items whose attribute holds an epoch second in the past (within a day or
/// two on AWS): abandoned presigned-upload records.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: &'static str,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: &'static str,
    pub attribute_type: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyElement {
    pub attribute_name: &'static str,
    pub key_type: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    pub index_name: &'static str,
    pub key_schema: Vec<KeyElement>,
    pub projection: Projection,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    pub projection_type: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct SseSpecification {
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
    #[serde(rename = "SSEType")]
    pub sse_type: &'static str,
    #[serde(rename = "KMSMasterKeyId")]
    pub kms_master_key_id: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecovery {
    pub point_in_time_recovery_enabled: bool,
}

fn key(hash: &'static str, range: &'static str) -> Vec<KeyElement> {
    vec![KeyElement { attribute_name: hash, key_type: "HASH" }, KeyElement { attribute_name: range, key_type: "RANGE" }]
}

fn table(
    suffix: &str,
    index_name: &'static str,
    (index_hash, index_range): (&'static str, &'static str),
    expires_at: Option<&'static str>,
) -> Table {
    let primary = (PARTITION_KEY, SORT_KEY);
    Table {
        table_name: Expr::sub(format!("${{AWS::StackName}}-{suffix}")),
        billing_mode: "PAY_PER_REQUEST",
        attribute_definitions: [primary.0, primary.1, index_hash, index_range]
            .into_iter()
            .map(|attribute_name| AttributeDefinition { attribute_name, attribute_type: "S" })
            .collect(),
        key_schema: key(primary.0, primary.1),
        global_secondary_indexes: vec![GlobalSecondaryIndex {
            index_name,
            key_schema: key(index_hash, index_range),
            projection: Projection { projection_type: "ALL" },
        }],
        sse_specification: SseSpecification { sse_enabled: true, sse_type: "KMS", kms_master_key_id: Expr::arn_of(ids::KEY) },
        point_in_time_recovery_specification: PointInTimeRecovery { point_in_time_recovery_enabled: true },
        // `deployer down --purge` is the one way to delete user data, and it deletes tables itself.
        deletion_protection_enabled: false,
        time_to_live_specification: expires_at.map(|attribute_name| TimeToLive { attribute_name, enabled: true }),
    }
}

pub fn resources() -> Vec<(&'static str, Resource)> {
    vec![
        (
            ids::USERS_TABLE,
            Resource::new(ResourceKind::Table(table(
                USERS_TABLE_SUFFIX,
                USERS_NAME_PREFIX_INDEX,
                USERS_NAME_PREFIX_INDEX_KEY,
                Some(USERS_EXPIRES_AT),
            )))
            .retained(),
        ),
        (
            ids::IMAGES_TABLE,
            Resource::new(ResourceKind::Table(table(
                IMAGES_TABLE_SUFFIX,
                IMAGES_ENTRIES_INDEX,
                IMAGES_ENTRIES_INDEX_KEY,
                Some(IMAGES_EXPIRES_AT),
            )))
            .retained(),
        ),
    ]
}
