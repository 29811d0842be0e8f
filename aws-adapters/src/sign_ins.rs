//! Sign-in throttling in the users table ([`domain::sign_ins`]): a name's (or a link's)
//! failures under `pk` = `#signin#<name>` (`#signin#link#<id>`), a source address's hourly
//! counts under `pk` = `#source#<address>` (no user name starts with `#`), each expiring by the
//! table's TTL. Every count is one
//! conditional UpdateItem: concurrent attempts add up in DynamoDB, none reads and writes back.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use contract::names::USERS_EXPIRES_AT;

use crate::aws_error;
use crate::dynamo::{self, Item, condition_held};
use crate::users::DynamoUsers;
use domain::SignInThrottle;
use domain::error::Result;
use domain::sign_ins::{self, Failures, Guessed, SourceAction};

const FAILURES_SK: &str = "failures";

fn failures_key(guessed: Guessed<'_>) -> Item {
    dynamo::key(&format!("#signin#{}", guessed.key()), FAILURES_SK)
}

fn failures_of(item: &Item) -> Failures {
    Failures {
        count: u32::try_from(dynamo::number(item, "failures")).unwrap_or(u32::MAX),
        last_ms: dynamo::number(item, "last_ms"),
        locked_until_ms: item.contains_key("locked_until_ms").then(|| dynamo::number(item, "locked_until_ms")),
    }
}

#[async_trait]
impl SignInThrottle for DynamoUsers {
    async fn failures(&self, guessed: Guessed<'_>) -> Result<Option<Failures>> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(failures_key(guessed)))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_error("GetItem sign-in failures"))?;
        Ok(answer.item.as_ref().map(failures_of))
    }

    async fn add_failure(&self, guessed: Guessed<'_>, now_ms: i64) -> Result<Failures> {
        let forget_before = now_ms - sign_ins::FORGET_AFTER.as_millis() as i64;
        // Remembered failures get one more; else (none, or forgotten) the count starts at one.
        // The two conditions exclude each other, so of concurrent failures each is counted once.
        let unlocked = Failures { count: 1, last_ms: now_ms, locked_until_ms: None };
        let mut counted = None;
        for _ in 0..2 {
            let added = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(failures_key(guessed)))
                .update_expression("ADD failures :one SET last_ms = :now, #expires = :expires")
                .condition_expression(
                    "attribute_exists(pk) AND (last_ms > :forget_before OR (attribute_exists(locked_until_ms) AND locked_until_ms > :forget_before))",
                )
                .expression_attribute_values(":one", dynamo::n(1))
                .expression_attribute_values(":now", dynamo::n(now_ms))
                .expression_attribute_values(":forget_before", dynamo::n(forget_before))
                .expression_attribute_names("#expires", USERS_EXPIRES_AT)
                .expression_attribute_values(":expires", dynamo::n(unlocked.forgotten_at_secs()))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match added {
                Ok(output) => {
                    counted = output.attributes.as_ref().map(failures_of);
                    break;
                }
                // A failed condition (nothing remembered) starts the count below; anything else fails.
                Err(err) => {
                    condition_held(Err::<(), _>(err), "UpdateItem sign-in failures")?;
                }
            }
            let mut first = failures_key(guessed);
            first.insert("failures".into(), dynamo::n(1));
            first.insert("last_ms".into(), dynamo::n(now_ms));
            first.insert(USERS_EXPIRES_AT.into(), dynamo::n(unlocked.forgotten_at_secs()));
            let started = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(first))
                .condition_expression(
                    "attribute_not_exists(pk) OR (last_ms <= :forget_before AND (attribute_not_exists(locked_until_ms) OR locked_until_ms <= :forget_before))",
                )
                .expression_attribute_values(":forget_before", dynamo::n(forget_before))
                .send()
                .await;
            if condition_held(started, "PutItem sign-in failures")? {
                counted = Some(unlocked);
                break;
            }
        }
        let mut failures = counted.unwrap_or(unlocked);
        // The failure that earns a wait sets it; a concurrent one that earned a longer wait keeps it.
        if let Some(wait) = sign_ins::lock_after(failures.count) {
            let until = now_ms + wait.as_millis() as i64;
            failures.locked_until_ms = Some(until);
            let locked = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(failures_key(guessed)))
                .update_expression("SET locked_until_ms = :until, #expires = :expires")
                .condition_expression("attribute_not_exists(locked_until_ms) OR locked_until_ms < :until")
                .expression_attribute_names("#expires", USERS_EXPIRES_AT)
                .expression_attribute_values(":until", dynamo::n(until))
                .expression_attribute_values(":expires", dynamo::n(failures.forgotten_at_secs()))
                .send()
                .await;
            condition_held(locked, "UpdateItem sign-in lock")?;
        }
        Ok(failures)
    }

    async fn clear_failures(&self, guessed: Guessed<'_>) -> Result<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(failures_key(guessed)))
            .send()
            .await
            .map_err(aws_error("DeleteItem sign-in failures"))?;
        Ok(())
    }

    async fn count_from_source(&self, source: &str, action: SourceAction, now_ms: i64, limit: u64) -> Result<bool> {
        let hour = sign_ins::hour_of(now_ms);
        // Kept an hour past its own, then left to the TTL.
        let expires = (hour + 2) * 3600;
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(dynamo::key(&format!("#source#{source}"), format!("{}#{hour}", action.as_str()))))
            .update_expression("ADD #count :one SET #expires = :expires")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#expires", USERS_EXPIRES_AT)
            .expression_attribute_values(":one", dynamo::n(1))
            .expression_attribute_values(":limit", dynamo::n(limit))
            .expression_attribute_values(":expires", dynamo::n(expires))
            .send()
            .await;
        condition_held(counted, "UpdateItem source count")
    }
}
