//! The Lambda entry points as AWS runs them: the real `bootstrap`s `deployer up` deployed
//! (read back from the emulator; built by `deployer package`, the path `up` builds with), each
//! started against a Lambda Runtime API (a small one here, speaking the public protocol), with
//! the environment the deployer set on the deployed function (read back from the emulator's
//! Lambda with GetFunctionConfiguration). API Gateway REST proxy events come through stage
//! `prod`, as AWS sends them; the answers must equal what the router gives `smart-album serve`.

mod common;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::api::Api;
use contract::names::Function;
use deployer::template::params;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, oneshot};

/// What a function answered an invocation: its response, or the error it reported.
type Answer = Result<Value, Value>;

/// A Lambda Runtime API serving queued events to one function process.
#[derive(Clone, Default)]
struct RuntimeApi {
    queue: Arc<Mutex<VecDeque<(String, Value)>>>,
    queued: Arc<Notify>,
    answers: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
    init_error: Arc<Mutex<Option<Value>>>,
}

impl RuntimeApi {
    async fn start() -> (Self, SocketAddr) {
        let api = RuntimeApi::default();
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (api, address)
    }

    /// Hands `event` to the function and waits for its answer (Err: the error it reported).
    async fn invoke(&self, event: Value) -> Result<Value, Value> {
        let id = ulid::Ulid::new().to_string();
        let (sender, receiver) = oneshot::channel();
        self.answers.lock().unwrap().insert(id.clone(), sender);
        self.queue.lock().unwrap().push_back((id, event));
        self.queued.notify_one();
        match tokio::time::timeout(Duration::from_secs(120), receiver).await {
            Ok(answer) => answer.unwrap(),
            Err(_) => panic!("no answer within 120 s; init error: {:?}", self.init_error.lock().unwrap()),
        }
    }
}

async fn next(State(api): State<RuntimeApi>) -> (HeaderMap, String) {
    loop {
        let waiting = api.queued.notified();
        if let Some((id, event)) = api.queue.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap() + Duration::from_secs(300);
            headers.insert("lambda-runtime-deadline-ms", deadline.as_millis().to_string().parse().unwrap());
            headers.insert("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:test".parse().unwrap());
            return (headers, event.to_string());
        }
        waiting.await;
    }
}

async fn respond(State(api): State<RuntimeApi>, UrlPath(id): UrlPath<String>, body: String) -> StatusCode {
    let answer = serde_json::from_str(&body).unwrap_or(Value::String(body));
    if let Some(sender) = api.answers.lock().unwrap().remove(&id) {
        sender.send(Ok(answer)).ok();
    }
    StatusCode::ACCEPTED
}

async fn fail(State(api): State<RuntimeApi>, UrlPath(id): UrlPath<String>, body: String) -> StatusCode {
    let answer = serde_json::from_str(&body).unwrap_or(Value::String(body));
    if let Some(sender) = api.answers.lock().unwrap().remove(&id) {
        sender.send(Err(answer)).ok();
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<RuntimeApi>, body: String) -> StatusCode {
    *api.init_error.lock().unwrap() = Some(serde_json::from_str(&body).unwrap_or(Value::String(body)));
    StatusCode::ACCEPTED
}

/// The code the deployed function runs, read back from the emulator: the object its stack
/// deployed it from (the asset bucket and key of the stack's parameters), checked against the
/// SHA-256 Lambda reports for the function, and extracted into `dir`. So the test runs what
/// `deployer up` deployed, as `deployer package` (the one packaging path) built it.
async fn deployed_bootstrap(api: &Api, function: Function, dir: &Path) -> PathBuf {
    let name = function.name_in(&api.files.stack_name());
    let lambda = aws_sdk_lambda::Client::new(&api.sdk);
    let deployed = lambda.get_function().function_name(&name).send().await.unwrap();
    let code_sha256 = deployed.configuration.and_then(|c| c.code_sha256).expect("the function's CodeSha256");
    let stacks = api.aws.cloudformation.describe_stacks().stack_name(api.files.stack_name()).send().await.unwrap();
    let parameters: HashMap<String, String> = stacks
        .stacks()
        .first()
        .unwrap()
        .parameters()
        .iter()
        .filter_map(|p| Some((p.parameter_key()?.to_owned(), p.parameter_value()?.to_owned())))
        .collect();
    let (bucket, key) = (&parameters[params::ARTIFACT_BUCKET], &parameters[params::artifact_key(function)]);
    let object = api.aws.s3.get_object().bucket(bucket).key(key).send().await.unwrap();
    let zip = object.body.collect().await.unwrap().into_bytes();
    assert_eq!(STANDARD.encode(Sha256::digest(&zip)), code_sha256, "s3://{bucket}/{key} is not what {name} runs");

    let target = dir.join(function.suffix());
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap();
    archive.extract(&target).unwrap();
    let binary = target.join("bootstrap");
    std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    binary
}

/// Starts a function's `bootstrap` as Lambda does: its configured environment and handler,
/// the Runtime API's address, and the emulator's endpoint and credentials from this process.
async fn start_function(api: &Api, function: &str, bootstrap: &Path, runtime_api: SocketAddr) -> Child {
    let lambda = aws_sdk_lambda::Client::new(&api.sdk);
    let name = format!("{}-{function}", api.files.stack_name());
    let configuration = lambda.get_function_configuration().function_name(&name).send().await.unwrap();
    let variables = configuration.environment.and_then(|e| e.variables).unwrap_or_default();
    let handler = configuration.handler.unwrap_or_default();
    Command::new(bootstrap)
        .env_clear()
        .envs(std::env::vars().filter(|(name, _)| name.starts_with("AWS_") || name == "PATH"))
        .envs(variables)
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
        .env("_HANDLER", handler)
        .env("AWS_LAMBDA_FUNCTION_NAME", &name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the bootstrap starts")
}

/// A function process, stopped when the test ends (also when it fails).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

/// A REST API proxy event for `ANY /{proxy+}` on stage `prod`, as API Gateway sends it.
fn rest_event(method: &str, path: &str, token: Option<&str>, content_type: Option<&str>, body: Option<&[u8]>, binary: bool) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert("Host".into(), json!("abc123.execute-api.us-east-1.amazonaws.com"));
    if let Some(token) = token {
        headers.insert("Authorization".into(), json!(format!("Bearer {token}")));
    }
    if let Some(content_type) = content_type {
        headers.insert("Content-Type".into(), json!(content_type));
    }
    let multi: serde_json::Map<String, Value> = headers.iter().map(|(k, v)| (k.clone(), json!([v]))).collect();
    let body = body.map(|bytes| if binary { STANDARD.encode(bytes) } else { String::from_utf8(bytes.to_vec()).unwrap() });
    json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": {"proxy": path.trim_start_matches('/')},
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "abc",
            "stage": "prod",
            "requestId": ulid::Ulid::new().to_string(),
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "test"},
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "apiId": "abc123",
            "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": 1_700_000_000_000u64
        },
        "body": body,
        "isBase64Encoded": binary
    })
}

fn response_body(answer: &Value) -> Value {
    let body = answer["body"].as_str().unwrap_or("");
    let body = if answer["isBase64Encoded"].as_bool() == Some(true) {
        String::from_utf8(STANDARD.decode(body).unwrap()).unwrap()
    } else {
        body.to_owned()
    };
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// The same shape: equal values, except where `varying` names a field that differs by nature
/// (ids, times, URLs, tokens), which must then be present in both.
fn same_shape(lambda: &Value, served: &Value, varying: &[&str]) {
    let (Some(lambda), Some(served)) = (lambda.as_object(), served.as_object()) else {
        assert_eq!(lambda, served);
        return;
    };
    assert_eq!(lambda.keys().collect::<Vec<_>>(), served.keys().collect::<Vec<_>>(), "{lambda:?} vs {served:?}");
    for (key, value) in lambda {
        if !varying.contains(&key.as_str()) {
            assert_eq!(value, &served[key], "field {key}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lambda_entry_points_answer_as_runtime_serve_does() {
    let api = Api::deploy("CORE_USER", "LAMBDA_ENTRY", &[]).await;
    let dir = tempfile::tempdir().unwrap();

    // The API function, through stage prod.
    let (api_runtime, address) = RuntimeApi::start().await;
    let api_bootstrap = deployed_bootstrap(&api, Function::Api, dir.path()).await;
    let started = std::time::Instant::now();
    let _api_function = Running(start_function(&api, "api", &api_bootstrap, address).await);

    let health = api_runtime.invoke(rest_event("GET", "/health", None, None, None, false)).await.unwrap();
    // Reported, never asserted (speed is measured in `make bench`): docs/architecture.md quotes it.
    eprintln!("api bootstrap: process start to first answered request {} ms", started.elapsed().as_millis());
    assert_eq!(health["statusCode"], 200, "GET /health through stage prod: {health}");
    let served = api.call(Method::GET, "/health", None, None).await;
    assert_eq!(response_body(&health), served.body);

    // The gallery under the stage path: its page (relative URLs) and a script, with the policy.
    let page = api_runtime.invoke(rest_event("GET", "/", None, None, None, false)).await.unwrap();
    assert_eq!(page["statusCode"], 200, "GET /prod/: {page}");
    let headers = page["multiValueHeaders"].to_string().to_lowercase() + &page["headers"].to_string().to_lowercase();
    assert!(headers.contains("content-security-policy") && headers.contains("script-src 'self'"), "{headers}");
    let html = page["body"].as_str().unwrap_or("");
    let html = if page["isBase64Encoded"] == true { String::from_utf8(STANDARD.decode(html).unwrap()).unwrap() } else { html.to_owned() };
    assert!(html.contains("src=\"app.js\"") && !html.contains("src=\"/"), "absolute URLs would miss the stage: {html}");
    let script = api_runtime.invoke(rest_event("GET", "/app.js", None, None, None, false)).await.unwrap();
    assert_eq!(script["statusCode"], 200, "GET /prod/app.js");

    let unknown = api_runtime.invoke(rest_event("GET", "/nowhere", None, None, None, false)).await.unwrap();
    assert_eq!(unknown["statusCode"], 404);
    assert_eq!(response_body(&unknown)["error"]["code"], "not_found");

    // A JSON call: sign up, then sign in, through Lambda; the same through the router.
    let sign_up = |name: &str| {
        json!({"user_name": name, "email": format!("{name}@example.org"), "first_name": "Ada", "last_name": "Lovelace",
               "password": "a long enough passphrase"})
    };
    let body = sign_up("lambda-user").to_string();
    let created =
        api_runtime.invoke(rest_event("POST", "/users", None, Some("application/json"), Some(body.as_bytes()), false)).await.unwrap();
    let served = api.call(Method::POST, "/users", None, Some(sign_up("served-user"))).await;
    assert_eq!(created["statusCode"], served.status.as_u16(), "{created}");
    same_shape(&response_body(&created), &served.body, &["user_name", "email", "registration_date"]);
    let sign_in = json!({"user_name": "lambda-user", "password": "a long enough passphrase"}).to_string();
    let session =
        api_runtime.invoke(rest_event("POST", "/sessions", None, Some("application/json"), Some(sign_in.as_bytes()), false)).await.unwrap();
    assert_eq!(session["statusCode"], 201, "{session}");
    let token = response_body(&session)["token"].as_str().unwrap().to_owned();

    // A binary upload, base64-encoded by API Gateway.
    let photo = std::fs::read(common::repo_root().join("tests/fixtures/photos/chelsea.png")).unwrap();
    let uploaded = api_runtime.invoke(rest_event("POST", "/images", Some(&token), Some("image/png"), Some(&photo), true)).await.unwrap();
    let served_token = api.user("served-uploader").await;
    let served = api.call_raw(Method::POST, "/images", Some(&served_token), "image/png", photo.clone()).await;
    assert_eq!(uploaded["statusCode"], served.status.as_u16(), "{uploaded}");
    let accepted = response_body(&uploaded);
    same_shape(&accepted, &served.body, &["id"]);
    let image_id = accepted["id"].as_str().unwrap().to_owned();

    // The analyzer function: one good message and one poison message in a batch.
    let (analyzer_runtime, address) = RuntimeApi::start().await;
    let analyzer_bootstrap = deployed_bootstrap(&api, Function::Analyzer, dir.path()).await;
    let _analyzer_function = Running(start_function(&api, "analyzer", &analyzer_bootstrap, address).await);
    let event = json!({
        "user_name": "lambda-user", "image_id": image_id, "object_key": format!("lambda-user/{image_id}"),
        "content_type": "image/png", "size": photo.len()
    });
    let envelope = json!({"Type": "Notification", "Message": event.to_string()}).to_string();
    let record = |id: &str, body: &str| {
        json!({
            "messageId": id, "receiptHandle": format!("handle-{id}"), "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000",
                           "SenderId": "AIDA", "ApproximateFirstReceiveTimestamp": "1700000000000"},
            "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:QueueAnalysis", "awsRegion": "us-east-1"
        })
    };
    let batch = json!({"Records": [record("good-message", &envelope), record("poison-message", "not a NewImage event")]});
    let answer = analyzer_runtime.invoke(batch).await.unwrap();
    assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": "poison-message"}]}));
    let image = api.call(Method::GET, &format!("/images/{image_id}"), Some(&token), None).await;
    assert_eq!(image.body["status"], "ready", "{}", image.raw);
    assert!(image.body["labels"].as_array().unwrap().iter().any(|label| label["name"] == "cat"), "{}", image.raw);
}
