//! Load, for correctness: many users upload at once to `smart-album serve` with its analyzer, as
//! `make bench` does at ten times the size (where the figures are). None is lost, every photo
//! ends `ready`, every tenant recounts clean.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::api::{http, png};
use common::server::serve;
use common::{TierFiles, deployer};
use futures::future::join_all;
use serde_json::{Value, json};

const USERS: usize = 10;
const UPLOADS_PER_USER: usize = 10;

async fn sign_up(url: &str, user: &str) -> String {
    let json_header = [("content-type", "application/json")];
    let password = "load test passphrase";
    let body = json!({"user_name": user, "email": format!("{user}@example.org"), "first_name": "Load", "last_name": "Tester", "password": password});
    let (status, _) = http(Method::POST, &format!("{url}/users"), &json_header, body.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED);
    let body = json!({"user_name": user, "password": password});
    let (status, body) = http(Method::POST, &format!("{url}/sessions"), &json_header, body.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED);
    serde_json::from_slice::<Value>(&body).unwrap()["token"].as_str().unwrap().to_owned()
}

async fn listed(url: &str, token: &str) -> Vec<Value> {
    let bearer = format!("Bearer {token}");
    let (status, body) = http(Method::GET, &format!("{url}/images?limit=100"), &[("authorization", &bearer)], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_slice::<Value>(&body).unwrap()["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn uploads_from_many_users_at_once_are_all_analysed() {
    let files = TierFiles::copy_of("CORE_USER", "LOAD");
    files.deployer(&["up", "--tier", "LOAD", "--skip-build", "--analyzer", "local"]).expect_success("deployer up");
    let server = serve("LOAD").await;
    let url = server.url.clone();
    let tokens = join_all((0..USERS).map(|user| {
        let url = &url;
        async move { sign_up(url, &format!("loaded{user}")).await }
    }))
    .await;

    let started = Instant::now();
    let accepted = join_all(tokens.iter().enumerate().map(|(user, token)| {
        let url = url.clone();
        async move {
            let bearer = format!("Bearer {token}");
            let mut ids = Vec::new();
            for n in 0..UPLOADS_PER_USER {
                let photo = png(64 + n as u32, 48 + user as u32, (user * 17 + n) as u8);
                let headers = [("authorization", bearer.as_str()), ("content-type", "image/png")];
                let (status, body) = http(Method::POST, &format!("{url}/images"), &headers, photo).await;
                assert_eq!(status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&body));
                ids.push(serde_json::from_slice::<Value>(&body).unwrap()["id"].as_str().unwrap().to_owned());
            }
            ids
        }
    }))
    .await;
    let uploaded = started.elapsed();

    for (user, token) in tokens.iter().enumerate() {
        loop {
            let items = listed(&url, token).await;
            assert_eq!(items.len(), UPLOADS_PER_USER, "loaded{user} lost photos");
            if items.iter().all(|item| item["status"] == "ready") {
                break;
            }
            assert!(items.iter().all(|item| item["status"] != "failed"), "{items:?}");
            assert!(started.elapsed() < Duration::from_secs(600), "photos still waiting after 10 minutes");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let ids: std::collections::BTreeSet<String> =
            listed(&url, token).await.iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids, accepted[user].iter().cloned().collect(), "loaded{user}'s photos are the ones accepted");
    }
    eprintln!(
        "load: {} uploads from {USERS} users accepted in {:.1} s, all ready after {:.1} s",
        USERS * UPLOADS_PER_USER,
        uploaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    drop(server);
    for user in 0..USERS {
        let check = deployer(files.dir.path(), &["tenant", "check", &format!("loaded{user}")]);
        assert!(check.success, "{}\n{}", check.stdout, check.stderr);
    }
    files.deployer(&["down", "--tier", "LOAD", "--purge", "--yes"]).expect_success("deployer down --purge");
}
