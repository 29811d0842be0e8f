//! Driving the runtime's router in-process, against a stack the deployer put on the emulator,
//! with every log line captured so tests can check what never reaches the log.

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use runtime::api::Services;
use runtime::config::StackConfig;
use serde_json::Value;
use tower::ServiceExt;

use super::policy::CallLog;
use super::{Aws, TierFiles, aws};
use aws_adapters::TenantAccess;

/// Every log line written while the tests of this binary run.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug,aws_smithy_runtime=info,aws_config=info,hyper=info,h2=info,rustls=info")
            .with_writer(move || CapturedWriter(writer.clone()))
            .with_ansi(false)
            .try_init()
            .ok();
        buffer
    })
}

/// The stack's tenant access, every tenant's calls checked against its session policy into `calls`.
fn tenants(config: &StackConfig, sdk: &aws_config::SdkConfig, calls: &Arc<CallLog>) -> TenantAccess {
    let access = TenantAccess::of_stack(config, sdk).expect("tenant access");
    let scope = access.scope().clone();
    access.observed_by(calls.observer(scope))
}

struct CapturedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for CapturedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A deployed stack, the router serving it, and direct clients to check its resources.
pub struct Api {
    pub router: Router,
    pub aws: Aws,
    pub config: StackConfig,
    pub files: TierFiles,
    pub sdk: aws_config::SdkConfig,
    /// Every call the API and the analyzer made with a tenant's credentials, each checked
    /// against the tenant's session policy (a call outside it fails as on AWS).
    pub calls: Arc<CallLog>,
}

/// A response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    /// The ids of a page's items, in order.
    pub fn ids(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|item| Some(item["id"].as_str()?.to_owned())).collect())
            .unwrap_or_default()
    }

    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Api {
    /// Deploys a copy of repository tier `from` as `tier` (after `edits` of its file), and
    /// serves it the way `smart-album serve` does.
    pub async fn deploy(from: &str, tier: &str, edits: &[(&str, &str)]) -> Api {
        log_buffer();
        let files = TierFiles::copy_of(from, tier);
        for (from, to) in edits {
            files.edit(from, to);
        }
        let artifact = super::artifacts();
        files
            .deployer(&["up", "--tier", tier, "--artifacts", artifact.to_str().unwrap(), "--analyzer", "local"])
            .expect_success("deployer up");
        let aws = aws().await;
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(super::endpoint()).load().await;
        let config = aws_adapters::stack::from_deployed(&aws_sdk_lambda::Client::new(&sdk), &files.stack_name())
            .await
            .expect("the deployed stack's configuration");
        let calls = Arc::new(CallLog::default());
        let services: Services =
            runtime::services::connect_with(config.clone(), &sdk, tenants(&config, &sdk, &calls)).await.expect("services");
        Api { router: runtime::api::router(services), aws, config, files, sdk, calls }
    }

    /// The analyzer of this stack with `engines`, its tenants' calls checked like the API's.
    pub fn analyzer(&self, engines: analyzer::Engines) -> analyzer::Analyzer {
        analyzer::services::analyzer_with(&self.config, tenants(&self.config, &self.sdk, &self.calls), engines)
    }

    /// The same stack served and analysed through `sdk` (another HTTP client under it, say).
    pub async fn reconnect(mut self, sdk: aws_config::SdkConfig) -> Api {
        let tenants = tenants(&self.config, &sdk, &self.calls);
        let services = runtime::services::connect_with(self.config.clone(), &sdk, tenants).await.expect("services");
        self.router = runtime::api::router(services);
        self.sdk = sdk;
        self
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body, raw }
    }

    /// A JSON request (`body` None sends no body).
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request.header("content-type", "application/json").body(Body::from(body.to_string())).unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        self.send(request).await
    }

    /// A raw body with a content type.
    pub async fn call_raw(&self, method: Method, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> Reply {
        let mut request = Request::builder().method(method).uri(path).header("content-type", content_type);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Signs up `name` and signs in; the token.
    pub async fn user(&self, name: &str) -> String {
        let password = format!("correct horse battery staple of {}", name.len());
        let created = self
            .call(
                Method::POST,
                "/users",
                None,
                Some(serde_json::json!({
                    "user_name": name, "email": format!("{name}@example.org"),
                    "first_name": "First", "last_name": "Last", "password": password,
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.raw);
        self.sign_in(name, &password).await
    }

    pub async fn sign_in(&self, name: &str, password: &str) -> String {
        let session = self.call(Method::POST, "/sessions", None, Some(serde_json::json!({"user_name": name, "password": password}))).await;
        assert_eq!(session.status, StatusCode::CREATED, "{}", session.raw);
        session.body["token"].as_str().unwrap().to_owned()
    }

    /// Uploads `bytes` in the body; the image id.
    pub async fn upload(&self, token: &str, content_type: &str, bytes: Vec<u8>) -> String {
        let reply = self.call_raw(Method::POST, "/images", Some(token), content_type, bytes).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.raw);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// Every item of the images table (a Scan: tests only).
    pub async fn image_items(&self) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.scan(&self.config.images_table).await
    }

    /// The stack's accounts, through the same adapter the API and the deployer use.
    pub fn users(&self) -> aws_adapters::DynamoUsers {
        aws_adapters::DynamoUsers::new(aws_sdk_dynamodb::Client::new(&self.sdk), &self.config.users_table)
    }

    /// The account of `name` as the stack stores it.
    pub async fn account(&self, name: &str) -> domain::UserRecord {
        use domain::UserStore;
        self.users().get(&domain::UserName::parse(name).unwrap()).await.unwrap().expect("no such account")
    }

    pub async fn user_items(&self) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.scan(&self.config.users_table).await
    }

    async fn scan(&self, table: &str) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut items = Vec::new();
        let mut pages = self.aws.dynamodb.scan().table_name(table).into_paginator().items().send();
        while let Some(item) = pages.next().await {
            items.push(item.unwrap());
        }
        items
    }

    /// Every object key in the photo bucket.
    pub async fn object_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut pages = self.aws.s3.list_objects_v2().bucket(&self.config.photo_bucket).into_paginator().send();
        while let Some(page) = pages.next().await {
            keys.extend(page.unwrap().contents.unwrap_or_default().into_iter().filter_map(|o| o.key));
        }
        keys.sort();
        keys
    }

    /// A snapshot of all stored state: items of both tables and the objects, less the request
    /// allowances (each signed-in request counts in its user's, whatever else it does).
    pub async fn state(&self) -> String {
        let mut items: Vec<String> = self
            .image_items()
            .await
            .into_iter()
            .chain(self.user_items().await.into_iter().filter(|item| item["sk"].as_s().is_ok_and(|sk| !sk.starts_with("requests"))))
            .map(|item| rendered(&aws_sdk_dynamodb::types::AttributeValue::M(item)))
            .collect();
        items.sort();
        format!("{items:#?}\n{:#?}", self.object_keys().await)
    }

    /// The analyzer on this stack's queue, as `smart-album serve` runs it (built-in engine).
    pub fn poller(&self) -> analyzer::poller::Poller {
        let engines = analyzer::services::engines(&self.config, runtime::config::VisionEngine::Builtin, &self.sdk).unwrap();
        let analyzer = Arc::new(self.analyzer(engines));
        let mut poller = analyzer::poller::Poller::new(analyzer, aws_sdk_sqs::Client::new(&self.sdk), &self.config.analysis_queue_url, 2);
        poller.wait_seconds = 1;
        poller
    }

    /// Polls until every listed image of `token`'s user is analysed (ready or failed).
    pub async fn analyse_all(&self, token: &str, poller: &analyzer::poller::Poller) {
        for _ in 0..60 {
            let listed = self.call(Method::GET, "/images?limit=100", Some(token), None).await;
            let waiting = listed.body["items"].as_array().unwrap().iter().any(|item| item["status"] == "pending");
            if !waiting {
                return;
            }
            poller.poll_once().await.unwrap();
        }
        let logs = captured_logs();
        let recent: Vec<&str> = logs.lines().filter(|line| line.contains(" analyzer")).rev().take(10).collect();
        panic!("photos still pending after 60 polls; the analyzer's last words:\n{}", recent.join("\n"));
    }

    /// Removes the stack and its data.
    pub async fn tear_down(self) {
        self.files.deployer(&["down", "--tier", &self.files.tier, "--purge", "--yes"]).expect_success("deployer down --purge");
    }
}

/// PUTs `bytes` to a presigned upload ticket's URL with the headers it names (its content type
/// and its pending-upload tag), as a client must.
pub async fn put_as_ticket(ticket: &Value, bytes: Vec<u8>) -> StatusCode {
    let headers: Vec<(String, String)> = ticket["headers"]
        .as_object()
        .expect("the ticket names its headers")
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    http(Method::PUT, ticket["upload_url"].as_str().unwrap(), &headers, bytes).await.0
}

/// A small valid PNG of the given size, distinct per `seed`.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(width, height, image::Rgb([seed, 255 - seed, seed / 2]))
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// `photo` scaled to fit `width` x `width`, as a PNG.
pub fn resized(photo: &[u8], width: u32) -> Vec<u8> {
    let image = image::load_from_memory(photo).unwrap();
    let mut bytes = Vec::new();
    image
        .resize(width, width, image::imageops::FilterType::Triangle)
        .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(super::repo_root().join("tests/fixtures/photos").join(name)).unwrap()
}

/// Sends a request to an absolute URL (a presigned S3 URL) with hyper.
pub async fn http(method: Method, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<axum::body::Bytes>>();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = client.request(request.body(Full::new(axum::body::Bytes::from(body))).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, bytes)
}

/// An item's value as text with every map's keys in order, so that equal items read equal.
fn rendered(value: &aws_sdk_dynamodb::types::AttributeValue) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    match value {
        AttributeValue::M(map) => {
            let mut fields: Vec<String> = map.iter().map(|(key, value)| format!("{key}={}", rendered(value))).collect();
            fields.sort();
            format!("{{{}}}", fields.join(","))
        }
        AttributeValue::L(list) => format!("[{}]", list.iter().map(rendered).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}
