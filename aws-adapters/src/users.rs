//! Users in DynamoDB: `pk` = user name, `sk` = `profile`, beside it the request allowance
//! (`requests#<day>`) and one item per open session (`session#<id>`, expiring with its token);
//! stack-wide values under `pk` = `#system` (no user name starts with `#`), and sign-in
//! throttling's counts under `#signin#...` and `#source#...` (`sign_ins.rs`). Index
//! `by_name_prefix` serves the ops search.

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use contract::names::{USERS_EXPIRES_AT, USERS_NAME_PREFIX_INDEX, USERS_NAME_PREFIX_INDEX_KEY};
use serde::{Deserialize, Serialize};

use crate::aws_error;
use crate::dynamo::{self, Item, condition_held, failed_condition_item, s};
use domain::accounts::{AccountChange, Precondition};
use domain::error::{Error, Result};
use domain::model::{AccountId, AccountStatus, Page, PasswordOrigin, SessionId, UserName, UserRecord, parse_rfc3339, rfc3339};
use domain::requests::{self, Allowance};
use domain::{RequestLimits, UserStore};
use time::OffsetDateTime;

const PROFILE: &str = "profile";
/// The user's request allowance of one UTC day (`requests#<day>`, [`domain::requests`]), beside
/// the profile, expiring by TTL the day after.
const REQUESTS: &str = "requests";
const SYSTEM_PK: &str = "#system";
const SESSION_PREFIX: &str = "session#";

fn session_key(user_name: &UserName, session: SessionId) -> Item {
    dynamo::key(user_name.as_str(), format!("{SESSION_PREFIX}{session}"))
}

#[derive(Debug, Serialize, Deserialize)]
struct UserItem {
    pk: String,
    sk: String,
    user_name: String,
    /// Absent on accounts made before accounts had ids: [`DynamoUsers::get`] gives them one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
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
    /// A one-time password (ops gave it): the first sign-in must choose one. Then
    /// `one_time_password_expires_at` says until when it works; absent on items written before
    /// one-time passwords expired, whose password works a day from registration.
    #[serde(default)]
    password_change_required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    one_time_password_expires_at: Option<String>,
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
            account_id: Some(user.account_id.to_string()),
            name_initial: name[..1].to_owned(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            password_hash: user.password_hash.clone(),
            registration_date: rfc3339(user.registration_date),
            token_generation: user.token_generation,
            status: user.status,
            password_change_required: user.password.is_one_time(),
            one_time_password_expires_at: user.password.one_time_until().map(rfc3339),
            last_sign_in: user.last_sign_in.map(rfc3339),
        }
    }
}

impl TryFrom<UserItem> for UserRecord {
    type Error = Error;
    fn try_from(item: UserItem) -> Result<Self> {
        let account_id = item.account_id.as_deref().ok_or_else(|| Error::Internal("the account has no id".into()))?;
        let registration_date = parse_rfc3339(&item.registration_date)?;
        let password = match (item.password_change_required, item.one_time_password_expires_at.as_deref()) {
            (false, _) => PasswordOrigin::Chosen,
            (true, Some(expires_at)) => PasswordOrigin::OneTime { expires_at: parse_rfc3339(expires_at)? },
            (true, None) => PasswordOrigin::OneTime { expires_at: registration_date + PasswordOrigin::ONE_TIME_LIFETIME },
        };
        Ok(Self {
            user_name: UserName::parse(&item.user_name)?,
            account_id: AccountId::parse(account_id)?,
            email: item.email,
            first_name: item.first_name,
            last_name: item.last_name,
            password_hash: item.password_hash,
            registration_date,
            token_generation: item.token_generation,
            status: item.status,
            password,
            last_sign_in: item.last_sign_in.as_deref().map(parse_rfc3339).transpose()?,
        })
    }
}

fn to_item(user: &UserRecord) -> Result<Item> {
    dynamo::to_item(UserItem::from(user))
}

fn from_item(item: Item) -> Result<UserRecord> {
    dynamo::from_item::<UserItem>(item)?.try_into()
}

pub struct DynamoUsers {
    pub(crate) client: Client,
    pub(crate) table: String,
}

impl DynamoUsers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// An account made before accounts had ids gets one, once: the first reader's id stays.
    /// (Its earlier tokens had none, and were of the old format: none of them works any more.)
    async fn give_account_id(&self, user_name: &UserName) -> Result<Option<UserRecord>> {
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(dynamo::key(user_name.as_str(), PROFILE)))
            .update_expression("SET account_id = if_not_exists(account_id, :id)")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":id", s(AccountId::new().to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match answer {
            Ok(updated) => updated.attributes.map(from_item).transpose(),
            // Deleted since it was read: no account.
            Err(err) => condition_held(Err::<(), _>(err), "UpdateItem account id").map(|_| None),
        }
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
        match answer.item {
            Some(item) if !item.contains_key("account_id") => self.give_account_id(user_name).await,
            item => item.map(from_item).transpose(),
        }
    }

    async fn change(&self, user_name: &UserName, change: &AccountChange, only_if: Precondition) -> Result<()> {
        let mut sets = Vec::new();
        let mut update = self.client.update_item().table_name(&self.table).set_key(Some(dynamo::key(user_name.as_str(), PROFILE)));
        match change {
            AccountChange::SignedIn { at } => {
                sets.push("last_sign_in = :at");
                update = update.expression_attribute_values(":at", s(rfc3339(*at)));
            }
            AccountChange::Profile { email, first_name, last_name } => {
                sets.push("email = :email, first_name = :first_name, last_name = :last_name");
                update = update
                    .expression_attribute_values(":email", s(email))
                    .expression_attribute_values(":first_name", s(first_name))
                    .expression_attribute_values(":last_name", s(last_name));
            }
            AccountChange::Password { hash } => {
                sets.push("password_hash = :hash, password_change_required = :false");
                update =
                    update.expression_attribute_values(":hash", s(hash)).expression_attribute_values(":false", AttributeValue::Bool(false));
            }
            AccountChange::OneTimePassword { hash, expires_at } => {
                sets.push("password_hash = :hash, password_change_required = :true, one_time_password_expires_at = :expires_at");
                update = update
                    .expression_attribute_values(":hash", s(hash))
                    .expression_attribute_values(":true", AttributeValue::Bool(true))
                    .expression_attribute_values(":expires_at", s(rfc3339(*expires_at)));
            }
            AccountChange::Status { to } => {
                sets.push("#status = :to");
                update = update.expression_attribute_values(":to", s(to.as_str()));
            }
            AccountChange::EndSessions => {}
        }
        if change.ends_sessions() {
            sets.push("token_generation = token_generation + :one");
            update = update.expression_attribute_values(":one", dynamo::n(1));
        }
        // Items written before accounts had a status are active.
        let active = "(#status = :active OR attribute_not_exists(#status))";
        let condition = match only_if {
            Precondition::ActiveAt { generation } => {
                update = update.expression_attribute_values(":generation", dynamo::n(generation));
                format!("attribute_exists(pk) AND token_generation = :generation AND {active}")
            }
            Precondition::At { generation } => {
                update = update.expression_attribute_values(":generation", dynamo::n(generation));
                "attribute_exists(pk) AND token_generation = :generation".to_owned()
            }
            Precondition::Status(AccountStatus::Active) => format!("attribute_exists(pk) AND {active}"),
            Precondition::Status(status) => {
                update = update.expression_attribute_values(":expected_status", s(status.as_str()));
                "attribute_exists(pk) AND #status = :expected_status".to_owned()
            }
            Precondition::Exists => "attribute_exists(pk)".to_owned(),
        };
        if condition.contains(":active") {
            update = update.expression_attribute_values(":active", s(AccountStatus::Active.as_str()));
        }
        if condition.contains("#status") || sets.iter().any(|set| set.contains("#status")) {
            update = update.expression_attribute_names("#status", "status");
        }
        // Every change sets something (ending sessions, the generation).
        let answer = update.update_expression(format!("SET {}", sets.join(", "))).condition_expression(condition).send().await;
        if condition_held(answer, "UpdateItem user")? { Ok(()) } else { Err(Error::account_changed()) }
    }

    async fn delete(&self, user_name: &UserName) -> Result<()> {
        let items = dynamo::partition(&self.client, &self.table, user_name.as_str(), None).await?;
        let deletes = items.iter().map(|item| dynamo::delete_request(dynamo::key_of(item))).collect::<Result<Vec<_>>>()?;
        dynamo::batch_write(&self.client, &self.table, deletes).await
    }

    async fn start_session(&self, user_name: &UserName, session: SessionId, expires_at: OffsetDateTime) -> Result<()> {
        let mut item = session_key(user_name, session);
        item.insert(USERS_EXPIRES_AT.to_owned(), dynamo::n(expires_at.unix_timestamp()));
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(aws_error("PutItem session"))?;
        Ok(())
    }

    async fn session_is_open(&self, user_name: &UserName, session: SessionId, now: OffsetDateTime) -> Result<bool> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(session_key(user_name, session)))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_error("GetItem session"))?;
        // DynamoDB deletes expired items within days, not at once: the expiry is checked here.
        Ok(answer.item.is_some_and(|item| dynamo::number(&item, USERS_EXPIRES_AT) > now.unix_timestamp()))
    }

    async fn end_session(&self, user_name: &UserName, session: SessionId) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(user_name, session)))
            .send()
            .await
            .map_err(aws_error("DeleteItem session"))?;
        Ok(())
    }

    /// One conditional UpdateItem, no read: where the bucket is full (or the day new), the
    /// request starts it afresh; else a second adds its share if it still fits. The condition
    /// that fails returns the stored allowance, which says why the request is refused.
    async fn admit_request(&self, user_name: &UserName, limits: &RequestLimits, now: OffsetDateTime) -> Result<()> {
        let now_ms = domain::model::epoch_ms(now);
        let day = requests::day_of(now_ms);
        let (interval_ms, capacity_ms) = requests::bucket_ms(limits);
        let update = || {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(dynamo::key(user_name.as_str(), format!("{REQUESTS}#{day}"))))
                .expression_attribute_names("#full_at", "full_at_ms")
                .expression_attribute_names("#requests", "requests")
                .expression_attribute_values(":one", dynamo::n(1))
                .expression_attribute_values(":now", dynamo::n(now_ms))
                .expression_attribute_values(":per_day", dynamo::n(limits.per_day))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        };
        let stored = |item: Option<Item>| {
            item.map(|item| Allowance {
                full_at_ms: dynamo::number(&item, "full_at_ms"),
                day,
                requests: u64::try_from(dynamo::number(&item, "requests")).unwrap_or(0),
            })
        };
        let refused = |item: Option<Item>| {
            requests::refusal(stored(item), limits, now_ms).unwrap_or_else(|| Error::Throttled {
                code: "rate_limited",
                message: "too many requests at once; slow down".into(),
                retry_after: std::time::Duration::from_millis(interval_ms as u64),
            })
        };
        let from_full = update()
            .update_expression("SET #full_at = :next, #expires = :expires ADD #requests :one")
            .condition_expression(
                "(attribute_not_exists(#full_at) OR #full_at <= :now) AND (attribute_not_exists(#requests) OR #requests < :per_day)",
            )
            .expression_attribute_names("#expires", USERS_EXPIRES_AT)
            .expression_attribute_values(":next", dynamo::n(now_ms + interval_ms))
            .expression_attribute_values(":expires", dynamo::n((day + 2) * 86_400))
            .send()
            .await;
        let old = match from_full {
            Ok(_) => return Ok(()),
            Err(err) => failed_condition_item(err, "UpdateItem request allowance")?,
        };
        if let Some(refusal) = requests::refusal(stored(old), limits, now_ms) {
            return Err(refusal);
        }
        let within = update()
            .update_expression("SET #full_at = #full_at + :interval ADD #requests :one")
            .condition_expression("#full_at > :now AND #full_at <= :latest AND #requests < :per_day")
            .expression_attribute_values(":interval", dynamo::n(interval_ms))
            .expression_attribute_values(":latest", dynamo::n(now_ms + capacity_ms - interval_ms))
            .send()
            .await;
        match within {
            Ok(_) => Ok(()),
            Err(err) => Err(refused(failed_condition_item(err, "UpdateItem request allowance")?)),
        }
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
