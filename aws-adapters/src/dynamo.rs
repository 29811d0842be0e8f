//! DynamoDB plumbing shared by the users and images stores: attribute values, item
//! (de)serialisation, conditional-failure detection, batched writes and reads with back-off.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};
use contract::names::{PARTITION_KEY, SORT_KEY};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws_error;
use domain::error::{Error, Result};

pub type Item = HashMap<String, AttributeValue>;

/// BatchWriteItem's limit.
const BATCH_WRITE: usize = 25;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A value as serde writes it into items, so that conditions compare with what is stored
/// (an enum's variant name, for instance) rather than with a spelling of their own.
pub fn value_of<T: Serialize>(value: T) -> Result<AttributeValue> {
    serde_dynamo::to_attribute_value(value).map_err(|err| Error::Internal(format!("attribute value: {err}")))
}

pub fn to_item<T: Serialize>(value: T) -> Result<Item> {
    serde_dynamo::to_item(value).map_err(|err| Error::Internal(format!("item: {err}")))
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    serde_dynamo::from_item(item).map_err(|err| Error::Internal(format!("stored item: {err}")))
}

/// The primary key of an item.
pub fn key(pk: &str, sk: impl Into<String>) -> Item {
    HashMap::from([(PARTITION_KEY.to_owned(), s(pk)), (SORT_KEY.to_owned(), s(sk))])
}

/// The start key of a Query of a global secondary index, resuming after the item with primary
/// key (`pk`, `sk`) whose index key is `index_values` under the attribute names `index_key`.
pub fn index_start_key(pk: &str, sk: impl Into<String>, index_key: (&str, &str), index_values: (String, String)) -> Item {
    let mut start = key(pk, sk);
    start.insert(index_key.0.to_owned(), s(index_values.0));
    start.insert(index_key.1.to_owned(), s(index_values.1));
    start
}

/// The primary key of an item read back.
pub fn key_of(item: &Item) -> Item {
    item.iter().filter(|(name, _)| *name == PARTITION_KEY || *name == SORT_KEY).map(|(name, value)| (name.clone(), value.clone())).collect()
}

/// Whether a conditional write's condition held: a failed condition is an answer (false),
/// any other failure an error naming `action`.
pub fn condition_held<T, E>(answer: std::result::Result<T, E>, action: &str) -> Result<bool>
where
    E: std::error::Error + ProvideErrorMetadata,
{
    match answer {
        Ok(_) => Ok(true),
        Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(err) => Err(aws_error(action)(err)),
    }
}

/// The item as it was when an UpdateItem's condition failed (asked for with
/// `ReturnValuesOnConditionCheckFailure`; `None` where there was none); any other failure is
/// an error naming `action`.
pub fn failed_condition_item(
    err: aws_sdk_dynamodb::error::SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError>,
    action: &str,
) -> Result<Option<Item>> {
    match err.into_service_error() {
        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(failed) => Ok(failed.item),
        other => Err(aws_error(action)(other)),
    }
}

/// A number attribute of an item, 0 when absent.
pub fn number(item: &Item, name: &str) -> i64 {
    item.get(name).and_then(|value| value.as_n().ok()).and_then(|value| value.parse().ok()).unwrap_or(0)
}

pub fn put_request(item: Item) -> Result<WriteRequest> {
    let put = PutRequest::builder().set_item(Some(item)).build().map_err(|err| Error::Internal(err.to_string()))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

pub fn delete_request(key: Item) -> Result<WriteRequest> {
    let delete = DeleteRequest::builder().set_key(Some(key)).build().map_err(|err| Error::Internal(err.to_string()))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

/// Writes and deletes items in batches, retrying what DynamoDB leaves unprocessed.
pub async fn batch_write(client: &Client, table: &str, requests: Vec<WriteRequest>) -> Result<()> {
    for chunk in requests.chunks(BATCH_WRITE) {
        let mut pending = HashMap::from([(table.to_owned(), chunk.to_vec())]);
        let mut attempt = 0u32;
        while !pending.is_empty() {
            if attempt > 0 {
                back_off(attempt).await;
            }
            let answer = client
                .batch_write_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .map_err(aws_error(format!("BatchWriteItem {table}")))?;
            pending = answer.unprocessed_items.unwrap_or_default();
            pending.retain(|_, requests| !requests.is_empty());
            attempt += 1;
        }
    }
    Ok(())
}

/// Reads items by key (at most 100, BatchGetItem's limit), consistently, retrying what
/// DynamoDB leaves unprocessed.
pub async fn batch_get(client: &Client, table: &str, keys: Vec<Item>) -> Result<Vec<Item>> {
    let request =
        KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true).build().map_err(|err| Error::Internal(err.to_string()))?;
    let mut pending = HashMap::from([(table.to_owned(), request)]);
    let mut items = Vec::new();
    let mut attempt = 0u32;
    while !pending.is_empty() {
        if attempt > 0 {
            back_off(attempt).await;
        }
        let answer =
            client.batch_get_item().set_request_items(Some(pending)).send().await.map_err(aws_error(format!("BatchGetItem {table}")))?;
        items.extend(answer.responses.unwrap_or_default().remove(table).unwrap_or_default());
        pending = answer.unprocessed_keys.unwrap_or_default();
        attempt += 1;
    }
    Ok(items)
}

/// Every item of a partition, or those whose sort key starts with `prefix`, read consistently.
pub async fn partition(client: &Client, table: &str, pk: &str, prefix: Option<&str>) -> Result<Vec<Item>> {
    let mut query = client
        .query()
        .table_name(table)
        .expression_attribute_names("#pk", PARTITION_KEY)
        .expression_attribute_values(":pk", s(pk))
        .consistent_read(true);
    query = match prefix {
        Some(prefix) => query
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#sk", SORT_KEY)
            .expression_attribute_values(":prefix", s(prefix)),
        None => query.key_condition_expression("#pk = :pk"),
    };
    let mut items = Vec::new();
    let mut pages = query.into_paginator().items().send();
    while let Some(item) = pages.next().await {
        items.push(item.map_err(aws_error(format!("Query {table}")))?);
    }
    Ok(items)
}

/// The pause before retrying what a batch left unprocessed: doubling from 100 ms, at most 3.2 s.
async fn back_off(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(6))).await;
}
