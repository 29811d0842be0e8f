//! What AWS would allow, shown where the emulator cannot: every DynamoDB and S3 call a tenant's
//! clients make is read before it is sent (an SDK interceptor), turned into the IAM action,
//! resource and condition keys AWS authorises it by, and checked against that tenant's session
//! policy. A call the policy does not allow fails as AWS would fail it (AccessDenied), and every
//! call is logged with its tenant for the isolation test.
//!
//! The evaluation covers what the session policies use: Allow statements, exact actions, `*`
//! and `?` in resources, `ForAllValues:StringLike` on `dynamodb:LeadingKeys` and `StringLike`
//! on `s3:prefix`. Anything else in a policy denies, so the check cannot pass by not knowing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_adapters::tenancy::{Observer, TenantScope};
use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, SharedInterceptor};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::Input;
use contract::names::{
    IMAGES_ENTRIES_INDEX, IMAGES_ENTRIES_INDEX_KEY, PARTITION_KEY, USERS_NAME_PREFIX_INDEX, USERS_NAME_PREFIX_INDEX_KEY,
};
use serde_json::Value;

/// One authorisation AWS makes of a request: a batch or a transaction makes one per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorisation {
    pub action: &'static str,
    pub resource: String,
    /// `dynamodb:LeadingKeys`: the partition key values the request names.
    pub leading_keys: Vec<String>,
    /// `s3:prefix` of a listing.
    pub prefix: Option<String>,
}

/// A call of a tenant's clients and whether its session policy allows it.
#[derive(Debug, Clone)]
pub struct Checked {
    pub tenant: String,
    pub call: Authorisation,
    pub allowed: bool,
}

/// Every call the tenants' clients made, in order.
#[derive(Debug, Default)]
pub struct CallLog(Mutex<Vec<Checked>>);

impl CallLog {
    pub fn all(&self) -> Vec<Checked> {
        self.0.lock().unwrap().clone()
    }

    /// An observer for `TenantAccess`: each tenant's clients check their calls against the
    /// tenant's session policy in `scope`, and log them here.
    pub fn observer(self: &Arc<Self>, scope: TenantScope) -> Observer {
        let log = Arc::clone(self);
        Arc::new(move |user| {
            SharedInterceptor::new(CheckedAgainstPolicy {
                tenant: user.to_string(),
                policy: scope.session_policy(user),
                scope: scope.clone(),
                log: Arc::clone(&log),
            })
        })
    }
}

#[derive(Debug)]
struct CheckedAgainstPolicy {
    tenant: String,
    policy: Value,
    scope: TenantScope,
    log: Arc<CallLog>,
}

impl Intercept for CheckedAgainstPolicy {
    fn name(&self) -> &'static str {
        "CheckedAgainstPolicy"
    }

    fn read_before_execution(&self, context: &BeforeSerializationInterceptorContextRef<'_>, _: &mut ConfigBag) -> Result<(), BoxError> {
        let calls = authorisations(context.input(), &self.scope)?;
        for call in calls {
            let allowed = allows(&self.policy, &call);
            self.log.0.lock().unwrap().push(Checked { tenant: self.tenant.clone(), call: call.clone(), allowed });
            if !allowed {
                return Err(format!("AccessDenied: the session policy of {} does not allow {call:?}", self.tenant).into());
            }
        }
        Ok(())
    }
}

/// Whether an identity policy's Allow statements allow `call` (no Deny is used).
pub fn allows(policy: &Value, call: &Authorisation) -> bool {
    policy["Statement"].as_array().into_iter().flatten().any(|statement| {
        statement["Effect"] == "Allow"
            && strings(&statement["Action"]).iter().any(|action| action == call.action)
            && strings(&statement["Resource"]).iter().any(|pattern| glob(pattern, &call.resource))
            && conditions_hold(&statement["Condition"], call)
    })
}

fn conditions_hold(condition: &Value, call: &Authorisation) -> bool {
    let Some(operators) = condition.as_object() else { return condition.is_null() };
    operators.iter().all(|(operator, keys)| {
        keys.as_object().into_iter().flatten().all(|(key, patterns)| {
            let patterns = strings(patterns);
            let like = |value: &str| patterns.iter().any(|pattern| glob(pattern, value));
            match (operator.as_str(), key.as_str()) {
                ("ForAllValues:StringLike", "dynamodb:LeadingKeys") => call.leading_keys.iter().all(|key| like(key)),
                ("StringLike", "s3:prefix") => call.prefix.as_deref().is_some_and(like),
                _ => false,
            }
        })
    })
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().filter_map(|one| one.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// IAM's `StringLike`: `*` any run of characters, `?` any one.
pub fn glob(pattern: &str, value: &str) -> bool {
    let (pattern, value): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    fn matches(pattern: &[char], value: &[char]) -> bool {
        match pattern.split_first() {
            None => value.is_empty(),
            Some(('*', rest)) => (0..=value.len()).any(|skip| matches(rest, &value[skip..])),
            Some(('?', rest)) => !value.is_empty() && matches(rest, &value[1..]),
            Some((c, rest)) => value.first() == Some(c) && matches(rest, &value[1..]),
        }
    }
    matches(&pattern, &value)
}

/// The authorisations AWS makes of a request, from the operation's input.
fn authorisations(input: &Input, scope: &TenantScope) -> Result<Vec<Authorisation>, BoxError> {
    use aws_sdk_dynamodb::operation as ddb;
    use aws_sdk_s3::operation as s3;
    let table_arn = |table: &str| {
        let base = scope.images_table_arn.rsplit_once("table/").map_or("", |(base, _)| base);
        format!("{base}table/{table}")
    };
    let bucket_arn = |bucket: &str| {
        let base = scope.photo_bucket_arn.rsplit_once(":::").map_or("", |(base, _)| base);
        format!("{base}:::{bucket}")
    };
    let item = |action, table: &str, key: Option<&HashMap<String, AttributeValue>>| Authorisation {
        action,
        resource: table_arn(table),
        leading_keys: key.and_then(|key| key.get(PARTITION_KEY)).and_then(|pk| pk.as_s().ok()).cloned().into_iter().collect(),
        prefix: None,
    };
    let object = |action, bucket: &str, key: &str| Authorisation {
        action,
        resource: format!("{}/{key}", bucket_arn(bucket)),
        leading_keys: Vec::new(),
        prefix: None,
    };
    let none = String::new();
    if let Some(get) = input.downcast_ref::<ddb::get_item::GetItemInput>() {
        return Ok(vec![item("dynamodb:GetItem", get.table_name().unwrap_or(&none), get.key.as_ref())]);
    }
    if let Some(put) = input.downcast_ref::<ddb::put_item::PutItemInput>() {
        return Ok(vec![item("dynamodb:PutItem", put.table_name().unwrap_or(&none), put.item.as_ref())]);
    }
    if let Some(update) = input.downcast_ref::<ddb::update_item::UpdateItemInput>() {
        return Ok(vec![item("dynamodb:UpdateItem", update.table_name().unwrap_or(&none), update.key.as_ref())]);
    }
    if let Some(delete) = input.downcast_ref::<ddb::delete_item::DeleteItemInput>() {
        return Ok(vec![item("dynamodb:DeleteItem", delete.table_name().unwrap_or(&none), delete.key.as_ref())]);
    }
    if let Some(query) = input.downcast_ref::<ddb::query::QueryInput>() {
        let table = query.table_name().unwrap_or(&none);
        let (resource, hash_key) = match query.index_name() {
            None => (table_arn(table), PARTITION_KEY),
            Some(index) => {
                let hash_key = match index {
                    IMAGES_ENTRIES_INDEX => IMAGES_ENTRIES_INDEX_KEY.0,
                    USERS_NAME_PREFIX_INDEX => USERS_NAME_PREFIX_INDEX_KEY.0,
                    other => return Err(format!("a query of an index this check does not know: {other}").into()),
                };
                (format!("{}/index/{index}", table_arn(table)), hash_key)
            }
        };
        let leading = query_partition(query, hash_key).ok_or("a query whose partition key this check cannot read")?;
        return Ok(vec![Authorisation { action: "dynamodb:Query", resource, leading_keys: vec![leading], prefix: None }]);
    }
    if let Some(batch) = input.downcast_ref::<ddb::batch_write_item::BatchWriteItemInput>() {
        let mut calls = Vec::new();
        for (table, requests) in batch.request_items.iter().flatten() {
            for request in requests {
                let key = request.put_request().map(|put| &put.item).or(request.delete_request().map(|delete| &delete.key));
                calls.push(item("dynamodb:BatchWriteItem", table, key));
            }
        }
        return Ok(calls);
    }
    if let Some(batch) = input.downcast_ref::<ddb::batch_get_item::BatchGetItemInput>() {
        let mut calls = Vec::new();
        for (table, keys) in batch.request_items.iter().flatten() {
            for key in keys.keys() {
                calls.push(item("dynamodb:BatchGetItem", table, Some(key)));
            }
        }
        return Ok(calls);
    }
    if let Some(transaction) = input.downcast_ref::<ddb::transact_write_items::TransactWriteItemsInput>() {
        let mut calls = Vec::new();
        for write in transaction.transact_items() {
            if let Some(put) = write.put() {
                calls.push(item("dynamodb:PutItem", put.table_name(), Some(put.item())));
            } else if let Some(update) = write.update() {
                calls.push(item("dynamodb:UpdateItem", update.table_name(), Some(update.key())));
            } else if let Some(delete) = write.delete() {
                calls.push(item("dynamodb:DeleteItem", delete.table_name(), Some(delete.key())));
            } else if let Some(check) = write.condition_check() {
                calls.push(item("dynamodb:ConditionCheckItem", check.table_name(), Some(check.key())));
            }
        }
        return Ok(calls);
    }
    if let Some(get) = input.downcast_ref::<s3::get_object::GetObjectInput>() {
        return Ok(vec![object("s3:GetObject", get.bucket().unwrap_or(&none), get.key().unwrap_or(&none))]);
    }
    if let Some(head) = input.downcast_ref::<s3::head_object::HeadObjectInput>() {
        return Ok(vec![object("s3:GetObject", head.bucket().unwrap_or(&none), head.key().unwrap_or(&none))]);
    }
    if let Some(put) = input.downcast_ref::<s3::put_object::PutObjectInput>() {
        let (bucket, key) = (put.bucket().unwrap_or(&none), put.key().unwrap_or(&none));
        let mut calls = vec![object("s3:PutObject", bucket, key)];
        if put.tagging().is_some() {
            calls.push(object("s3:PutObjectTagging", bucket, key));
        }
        return Ok(calls);
    }
    if let Some(delete) = input.downcast_ref::<s3::delete_object::DeleteObjectInput>() {
        return Ok(vec![object("s3:DeleteObject", delete.bucket().unwrap_or(&none), delete.key().unwrap_or(&none))]);
    }
    if let Some(delete) = input.downcast_ref::<s3::delete_objects::DeleteObjectsInput>() {
        let bucket = delete.bucket().unwrap_or(&none);
        let keys = delete.delete().map(|delete| delete.objects()).unwrap_or_default();
        return Ok(keys.iter().map(|one| object("s3:DeleteObject", bucket, one.key())).collect());
    }
    if let Some(untag) = input.downcast_ref::<s3::delete_object_tagging::DeleteObjectTaggingInput>() {
        return Ok(vec![object("s3:DeleteObjectTagging", untag.bucket().unwrap_or(&none), untag.key().unwrap_or(&none))]);
    }
    if let Some(list) = input.downcast_ref::<s3::list_objects_v2::ListObjectsV2Input>() {
        return Ok(vec![Authorisation {
            action: "s3:ListBucket",
            resource: bucket_arn(list.bucket().unwrap_or(&none)),
            leading_keys: Vec::new(),
            prefix: list.prefix().map(str::to_owned),
        }]);
    }
    Err("an operation this check does not know: add it, with the authorisations AWS makes of it".into())
}

/// The value a Query's key condition gives the partition key `hash_key` (`#name = :value`).
fn query_partition(query: &aws_sdk_dynamodb::operation::query::QueryInput, hash_key: &str) -> Option<String> {
    let names = query.expression_attribute_names();
    let values = query.expression_attribute_values()?;
    query.key_condition_expression()?.split(" AND ").find_map(|clause| {
        let (name, value) = clause.split_once('=')?;
        let name = name.trim();
        let name = names.and_then(|names| names.get(name)).map_or(name, String::as_str);
        (name == hash_key).then(|| values.get(value.trim())?.as_s().ok().cloned())?
    })
}
