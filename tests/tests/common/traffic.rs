//! What the store asks of DynamoDB, recorded under the AWS SDK: an HTTP client that notes every
//! DynamoDB request (its operation and JSON body) before sending it on. The cost of a code path
//! in calls, items and bytes, whatever the emulator's speed.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use serde_json::Value;

/// One DynamoDB request: its operation (`PutItem`, `Query`, ...) and its body.
#[derive(Debug, Clone)]
pub struct Call {
    pub operation: String,
    pub body: Value,
    pub bytes: usize,
}

impl Call {
    /// Items this request writes (puts, updates and deletes alike).
    pub fn items_written(&self) -> usize {
        match self.operation.as_str() {
            "PutItem" | "UpdateItem" | "DeleteItem" => 1,
            "BatchWriteItem" => self.body["RequestItems"]
                .as_object()
                .map_or(0, |tables| tables.values().map(|requests| requests.as_array().map_or(0, Vec::len)).sum()),
            "TransactWriteItems" => self.body["TransactItems"]
                .as_array()
                .map_or(0, |items| items.iter().filter(|item| item.get("ConditionCheck").is_none()).count()),
            _ => 0,
        }
    }

    pub fn is_write(&self) -> bool {
        self.items_written() > 0
    }

    /// The sort keys of the items this request puts, updates or deletes (condition checks are
    /// not writes).
    pub fn written_sort_keys(&self) -> Vec<&str> {
        let body = &self.body;
        let items: Vec<&Value> = match self.operation.as_str() {
            "PutItem" => vec![&body["Item"]],
            "UpdateItem" | "DeleteItem" => vec![&body["Key"]],
            "BatchWriteItem" => body["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|tables| tables.values())
                .filter_map(Value::as_array)
                .flatten()
                .flat_map(|request| [&request["PutRequest"]["Item"], &request["DeleteRequest"]["Key"]])
                .collect(),
            "TransactWriteItems" => body["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|item| [&item["Put"]["Item"], &item["Update"]["Key"], &item["Delete"]["Key"]])
                .collect(),
            _ => Vec::new(),
        };
        items.into_iter().filter_map(|item| item["sk"]["S"].as_str()).collect()
    }

    /// Whether this request reads the item with sort key `sk`: by its key, or by a Query whose
    /// sort key condition (`begins_with` or equality) covers it.
    pub fn reads(&self, sk: &str) -> bool {
        let body = &self.body;
        match self.operation.as_str() {
            "GetItem" => body["Key"]["sk"]["S"] == sk,
            "BatchGetItem" => body["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|tables| tables.values())
                .filter_map(|table| table["Keys"].as_array())
                .flatten()
                .any(|key| key["sk"]["S"] == sk),
            "Query" => {
                body["KeyConditionExpression"].as_str().is_some_and(|condition| condition.contains("sk"))
                    && body["ExpressionAttributeValues"]
                        .as_object()
                        .into_iter()
                        .flat_map(|values| values.values())
                        .filter_map(|value| value["S"].as_str())
                        .any(|value| value.contains('#') && sk.starts_with(value))
            }
            _ => false,
        }
    }
}

/// The SDK's HTTP client, noting DynamoDB's requests.
#[derive(Debug, Clone)]
pub struct Traffic {
    inner: SharedHttpClient,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Traffic {
    pub fn new(inner: SharedHttpClient) -> Self {
        Self { inner, calls: Arc::default() }
    }

    /// The calls noted since the last take.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut self.calls.lock().unwrap())
    }
}

impl HttpClient for Traffic {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(Noting { inner: self.inner.http_connector(settings, components), calls: self.calls.clone() })
    }
}

#[derive(Debug)]
struct Noting {
    inner: SharedHttpConnector,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl HttpConnector for Noting {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = request.headers().get("x-amz-target").and_then(|target| target.strip_prefix("DynamoDB_20120810."));
        if let Some(operation) = operation {
            let bytes = request.body().bytes().unwrap_or_default();
            let body = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            self.calls.lock().unwrap().push(Call { operation: operation.to_owned(), body, bytes: bytes.len() });
        }
        self.inner.call(request)
    }
}
