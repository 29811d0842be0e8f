//! A small HTTP client for the API under test (hyper, one connection pool per client).

use anyhow::{Context, Result, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    pub base: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Reply {
    /// The JSON body of a 2xx reply; any other status is an error naming what was asked.
    fn json(self, what: &str) -> Result<Value> {
        if !self.status.is_success() {
            bail!("{what}: {} {}", self.status, String::from_utf8_lossy(&self.body));
        }
        serde_json::from_slice(&self.body).with_context(|| format!("{what}: the reply is not JSON"))
    }
}

impl Http {
    pub fn new(base: impl Into<String>) -> Self {
        Self { client: Client::builder(TokioExecutor::new()).build_http(), base: base.into() }
    }

    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, content_type: Option<&str>, body: Vec<u8>) -> Result<Reply> {
        let mut request = hyper::Request::builder().method(method).uri(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = self.client.request(request.body(Full::new(Bytes::from(body)))?).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok(Reply { status, body })
    }

    async fn post_json(&self, path: &str, token: Option<&str>, value: &Value) -> Result<Value> {
        self.send(Method::POST, path, token, Some("application/json"), serde_json::to_vec(value)?).await?.json(&format!("POST {path}"))
    }

    /// Creates the user and signs in: a bearer token.
    pub async fn user_token(&self, name: &str) -> Result<String> {
        let password = "a long benchmark passphrase";
        let user = json!({
            "user_name": name, "email": format!("{name}@example.org"),
            "first_name": "Bench", "last_name": "Mark", "password": password,
        });
        self.post_json("/users", None, &user).await?;
        let session = self.post_json("/sessions", None, &json!({ "user_name": name, "password": password })).await?;
        session["token"].as_str().map(str::to_owned).context("POST /sessions: no token in the reply")
    }

    /// Uploads a photo in the request body: its id.
    pub async fn upload(&self, token: &str, content_type: &str, bytes: Vec<u8>) -> Result<String> {
        let accepted = self.send(Method::POST, "/images", Some(token), Some(content_type), bytes).await?.json("POST /images")?;
        accepted["id"].as_str().map(str::to_owned).context("POST /images: no id in the reply")
    }

    /// Every photo of the user with its status (following the pages).
    pub async fn list_statuses(&self, token: &str) -> Result<std::collections::HashMap<String, String>> {
        let mut statuses = std::collections::HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(cursor) => format!("/images?limit=100&cursor={cursor}"),
                None => "/images?limit=100".to_owned(),
            };
            let page = self.send(Method::GET, &path, Some(token), None, Vec::new()).await?.json("GET /images")?;
            for item in page["items"].as_array().into_iter().flatten() {
                if let (Some(id), Some(status)) = (item["id"].as_str(), item["status"].as_str()) {
                    statuses.insert(id.to_owned(), status.to_owned());
                }
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(statuses),
            }
        }
    }

    /// The ids on the first page of a one-label search.
    pub async fn search_ids(&self, token: &str, label: &str, limit: usize) -> Result<Vec<String>> {
        let page = self
            .send(Method::GET, &format!("/images/search?label={label}&limit={limit}"), Some(token), None, Vec::new())
            .await?
            .json("GET /images/search")?;
        Ok(page["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|item| item["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    /// Polls `GET /images/{id}` until the photo is analysed (`ready` or `failed`): its status.
    pub async fn wait_analysed(&self, token: &str, id: &str, patience: std::time::Duration) -> Result<String> {
        let started = std::time::Instant::now();
        loop {
            let image = self.send(Method::GET, &format!("/images/{id}"), Some(token), None, Vec::new()).await?.json("GET /images/{id}")?;
            match image["status"].as_str() {
                Some(status @ ("ready" | "failed")) => return Ok(status.to_owned()),
                _ if started.elapsed() > patience => anyhow::bail!("photo {id} not analysed within {patience:?}"),
                _ => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
    }
}
