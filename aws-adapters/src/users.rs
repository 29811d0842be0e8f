//! Users in DynamoDB: `pk` = user name, `sk` = `profile`; stack-wide values under
//! `pk` = `#system` (no user name starts with `#`). Index `by_name_prefix` serves the ops search.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use contract::names::{USERS_NAME_PREFIX_INDEX, USERS_NAME_PREFIX_INDEX_KEY};
use serde::{Deserialize, Serialize};

use crate::aws_error;
use crate::dynamo::{self, Item, condition_held, s};
use domain::error::{Error, Result};
use domain::model::{AccountStatus, Page, UserName, UserRecord, parse_rfc3339, rfc3339};
use domain::requests::{self, Allowance};
use domain::{RequestLimits, UserStore};
use time::OffsetDateTime;

const PROFILE: &str = "profile";
/// The user's request allowance ([`domain::requests`]), beside the profile.
const REQUESTS: &str = "requests";
/// Concurrent requests of one user race for its allowance item: each retries on a lost race.
const ALLOWANCE_ATTEMPTS: usize = 12;
const SYSTEM_PK: &str = "#system";

#[derive(Debug, Serialize, Deserialize)]
struct UserItem {
    pk: String,
    sk: String,
    user_name: String,
    /// First character of the name: the partition of the prefix index.
    name_initial: String,
    email: String,
    first_name: String,
    last_name: String,
    password_hash: String,
    registration_date: String,
    token_generation: u64,
    /// Absent on items written before ops could suspend or move accounts.
    #[serde(default)]
    status: AccountStatus,
    #[serde(default)]
    password_change_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_sign_in: Option<String>,
}

impl From<&UserRecord> for UserItem {
    fn from(user: &UserRecord) -> Self {
        let name = user.user_name.as_str();
        Self {
            pk: name.to_owned(),
            sk: PROFILE.to_owned(),
            user_name: name.to_owned(),
            name_initial: name[..1].to_owned(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            password_hash: user.password_hash.clone(),
            registration_date: rfc3339(user.registration_date),
            token_generation: user.token_generation,
            status: user.status,
            password_change_required: user.password_change_required,
            last_sign_in: user.last_sign_in.map(rfc3339),
        }
    }
}

impl TryFrom<UserItem> for UserRecord {
    type Error = Error;
    fn try_from(item: UserItem) -> Result<Self> {
        Ok(Self {
            user_name: UserName::parse(&item.user_name)?,
            email: item.email,
            first_name: item.first_name,
            last_name: item.last_name,
            password_hash: item.password_hash,
            registration_date: parse_rfc3339(&item.registration_date)?,
            token_generation: item.token_generation,
            status: item.status,
            password_change_required: item.password_change_required,
            last_sign_in: item.last_sign_in.as_deref().map(parse_rfc3339).transpose()?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct AllowanceItem {
    pk: String,
    sk: String,
    full_at_ms: i64,
    day: i64,
    requests: u64,
}

fn to_item(user: &UserRecord) -> Result<Item> {
    dynamo::to_item(UserItem::from(user))
}

fn from_item(item: Item) -> Result<UserRecord> {
    dynamo::from_item::<UserItem>(item)?.try_into()
}

pub struct DynamoUsers {
    client: Client,
    table: String,
}

impl DynamoUsers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

#[async_trait]
impl UserStore for DynamoUsers {
    async fn create(&self, user: &UserRecord) -> Result<()> {
        let answer = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(user)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if condition_held(answer, "PutItem user")? { Ok(()) } else { Err(Error::user_name_taken(&user.user_name)) }
    }

    async fn get(&self, user_name: &UserName) -> Result<Option<UserRecord>> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(dynamo::key(user_name.as_str(), PROFILE)))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_error("GetItem user"))?;
        answer.item.map(from_item).transpose()
    }

    async fn update(&self, user: &UserRecord, expected_generation: u64) -> Result<()> {
        let answer = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(user)?))
            .condition_expression("attribute_exists(pk) AND token_generation = :expected")
            .expression_attribute_values(":expected", AttributeValue::N(expected_generation.to_string()))
            .send()
            .await;
        if condition_held(answer, "PutItem user")? { Ok(()) } else { Err(Error::account_changed()) }
    }

    async fn delete(&self, user_name: &UserName) -> Result<()> {
        for sort_key in [PROFILE, REQUESTS] {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(dynamo::key(user_name.as_str(), sort_key)))
                .send()
                .await
                .map_err(aws_error("DeleteItem user"))?;
        }
        Ok(())
    }

    async fn admit_request(&self, user_name: &UserName, limits: &RequestLimits, now: OffsetDateTime) -> Result<()> {
        let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        for attempt in 0..ALLOWANCE_ATTEMPTS {
            if attempt > 0 {
                // Lost a race with the same user's other requests: spread the retries apart.
                let mut jitter = [0u8; 1];
                getrandom::fill(&mut jitter).ok();
                let spread_ms = 4 * attempt as u64;
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(jitter[0]) % spread_ms)).await;
            }
            let stored = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(dynamo::key(user_name.as_str(), REQUESTS)))
                .consistent_read(true)
                .send()
                .await
                .map_err(aws_error("GetItem request allowance"))?
                .item
                .map(dynamo::from_item::<AllowanceItem>)
                .transpose()?
                .map(|item| Allowance { full_at_ms: item.full_at_ms, day: item.day, requests: item.requests });
            let next = requests::admit(stored, limits, now_ms)?;
            let item = AllowanceItem {
                pk: user_name.as_str().to_owned(),
                sk: REQUESTS.to_owned(),
                full_at_ms: next.full_at_ms,
                day: next.day,
                requests: next.requests,
            };
            let put = self.client.put_item().table_name(&self.table).set_item(Some(dynamo::to_item(item)?));
            // Written only over what was read: a concurrent request of the same user makes
            // this one read again.
            let put = match stored {
                None => put.condition_expression("attribute_not_exists(pk)"),
                Some(read) => put
                    .condition_expression("#full_at = :full_at AND #day = :day AND #requests = :requests")
                    .expression_attribute_names("#full_at", "full_at_ms")
                    .expression_attribute_names("#day", "day")
                    .expression_attribute_names("#requests", "requests")
                    .expression_attribute_values(":full_at", dynamo::n(read.full_at_ms))
                    .expression_attribute_values(":day", dynamo::n(read.day))
                    .expression_attribute_values(":requests", dynamo::n(read.requests)),
            };
            if condition_held(put.send().await, "PutItem request allowance")? {
                return Ok(());
            }
        }
        Err(Error::Throttled {
            code: "rate_limited",
            message: "too many requests at once; slow down".into(),
            retry_after: std::time::Duration::from_secs(1),
        })
    }

    async fn search_prefix(&self, prefix: &str, limit: usize, after: Option<&UserName>) -> Result<Page<UserRecord, UserName>> {
        let initial = prefix.get(..1).ok_or_else(|| Error::invalid("invalid_prefix", "the prefix is empty"))?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(USERS_NAME_PREFIX_INDEX)
            .key_condition_expression("#initial = :initial AND begins_with(#name, :prefix)")
            .expression_attribute_names("#initial", USERS_NAME_PREFIX_INDEX_KEY.0)
            .expression_attribute_names("#name", USERS_NAME_PREFIX_INDEX_KEY.1)
            .expression_attribute_values(":initial", s(initial))
            .expression_attribute_values(":prefix", s(prefix))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        if let Some(after) = after {
            let name = after.as_str();
            let index_values = (name[..1].to_owned(), name.to_owned());
            query = query.set_exclusive_start_key(Some(dynamo::index_start_key(name, PROFILE, USERS_NAME_PREFIX_INDEX_KEY, index_values)));
        }
        let answer = query.send().await.map_err(aws_error("Query users by prefix"))?;
        let items = answer.items.unwrap_or_default().into_iter().map(from_item).collect::<Result<Vec<_>>>()?;
        let next = match answer.last_evaluated_key {
            Some(_) => items.last().map(|user| user.user_name.clone()),
            None => None,
        };
        Ok(Page { items, next })
    }

    async fn system_value(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(dynamo::key(SYSTEM_PK, name)))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_error("GetItem system value"))?;
        Ok(answer.item.and_then(|mut item| item.remove("value")).and_then(|value| value.as_b().ok().map(|blob| blob.as_ref().to_vec())))
    }

    async fn put_system_value_if_absent(&self, name: &str, value: &[u8]) -> Result<bool> {
        let answer = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(dynamo::key(SYSTEM_PK, name)))
            .item("value", AttributeValue::B(Blob::new(value)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        condition_held(answer, "PutItem system value")
    }

    async fn put_system_value(&self, name: &str, value: &[u8]) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(dynamo::key(SYSTEM_PK, name)))
            .item("value", AttributeValue::B(Blob::new(value)))
            .send()
            .await
            .map_err(aws_error("PutItem system value"))?;
        Ok(())
    }
}
