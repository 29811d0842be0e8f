//! Faults: 200 uploads (both ways) and their analyses while 10% of the S3, DynamoDB, SNS and SQS
//! calls of the API and the analyzer fail (500s, throttling, timeouts; `common::faults`). At the
//! end every upload either got an error answer and left nothing (a presigned one: nothing but
//! its expiring upload record and pending-tagged object, or its kept `pending` photo that the
//! next `/complete` announces), or was accepted and is `ready`; every
//! tenant recounts clean (`deployer tenant check`: counters, albums, persons, index entries,
//! orphans); no photo lists a label, face or word twice.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::api::{Api, Reply, fixture, png, put_as_ticket};
use common::deployer;
use common::faults::Faults;
use futures::future::join_all;
use serde_json::json;

const USERS: usize = 10;
const UPLOADS_PER_USER: usize = 20;
const FAULT_SHARE: f64 = 0.10;
/// A client retries a failed completion (the photo is in the bucket; only the confirmation
/// failed), as the gallery does.
const COMPLETE_ATTEMPTS: usize = 3;

#[derive(Debug)]
enum Outcome {
    Accepted(String),
    /// An error answer; a presigned upload's id when it got that far.
    Refused {
        status: StatusCode,
        upload: Option<String>,
    },
}

fn photo(user: usize, n: usize) -> (Vec<u8>, &'static str) {
    match n % 10 {
        // A group photo: faces to group into persons.
        0 => (fixture("sample2.jpg"), "image/jpeg"),
        5 => (fixture("chelsea.png"), "image/png"),
        _ => (png(48 + n as u32, 40 + user as u32, (user * 31 + n) as u8), "image/png"),
    }
}

/// A photo as `GET /images/{id}` shows it lists no label, face or word twice.
fn assert_nothing_twice(image: &Reply) {
    for field in ["labels", "faces", "words"] {
        let values: Vec<String> = image.body[field].as_array().into_iter().flatten().map(|value| value.to_string()).collect();
        let distinct: BTreeSet<&String> = values.iter().collect();
        assert_eq!(values.len(), distinct.len(), "{field} twice on {}", image.raw);
    }
}

async fn upload(api: &Api, token: &str, user: usize, n: usize) -> Outcome {
    let (bytes, content_type) = photo(user, n);
    if n.is_multiple_of(2) {
        let reply = api.call_raw(Method::POST, "/images", Some(token), content_type, bytes).await;
        return match reply.status {
            StatusCode::ACCEPTED => Outcome::Accepted(reply.body["id"].as_str().unwrap().to_owned()),
            status => Outcome::Refused { status, upload: None },
        };
    }
    let started =
        api.call(Method::POST, "/images/uploads", Some(token), Some(json!({"content_type": content_type, "size": bytes.len()}))).await;
    if started.status != StatusCode::CREATED {
        return Outcome::Refused { status: started.status, upload: None };
    }
    let id = started.body["id"].as_str().unwrap().to_owned();
    assert_eq!(put_as_ticket(&started.body, bytes).await, StatusCode::OK);
    let mut status = StatusCode::INTERNAL_SERVER_ERROR;
    for _ in 0..COMPLETE_ATTEMPTS {
        let completed = api.call(Method::POST, &format!("/images/{id}/complete"), Some(token), None).await;
        status = completed.status;
        if status == StatusCode::ACCEPTED {
            return Outcome::Accepted(id);
        }
        if !status.is_server_error() {
            break;
        }
    }
    Outcome::Refused { status, upload: Some(id) }
}

#[tokio::test]
async fn uploads_and_analyses_under_failing_aws_calls_lose_and_double_nothing() {
    let api = Api::deploy(
        "CORE_USER",
        "FAULTS",
        &[
            // Limits are not under test here, and a failed analysis comes back in seconds.
            ("rate_limit: 50", "rate_limit: 10000"),
            ("burst_limit: 100", "burst_limit: 10000"),
            ("timeout_seconds: 60", "timeout_seconds: 5"),
            ("visibility_timeout_seconds: 360", "visibility_timeout_seconds: 5"),
        ],
    )
    .await;
    let mut tokens = Vec::new();
    for user in 0..USERS {
        tokens.push(api.user(&format!("faulty{user}")).await);
    }
    // Under the faults, a plain HTTP client (the emulator's endpoint is http://).
    let client = aws_smithy_http_client::Builder::new().build_http();
    let faults = Faults::new(client, FAULT_SHARE, &["s3", "dynamodb", "sns", "sqs"], 15);
    let counts = faults.counts();
    let faulty = api.sdk.to_builder().http_client(faults.clone()).build();
    let api = api.reconnect(faulty).await;

    let per_user = join_all(tokens.iter().enumerate().map(|(user, token)| {
        let api = &api;
        async move {
            let mut outcomes = Vec::new();
            for n in 0..UPLOADS_PER_USER {
                outcomes.push(upload(api, token, user, n).await);
            }
            outcomes
        }
    }))
    .await;
    let outcomes: Vec<&Outcome> = per_user.iter().flatten().collect();
    let accepted: BTreeSet<String> =
        outcomes.iter().filter_map(|outcome| if let Outcome::Accepted(id) = outcome { Some(id.clone()) } else { None }).collect();
    let unfinished: BTreeSet<String> =
        outcomes.iter().filter_map(|outcome| if let Outcome::Refused { upload, .. } = outcome { upload.clone() } else { None }).collect();
    for outcome in &outcomes {
        if let Outcome::Refused { status, .. } = outcome {
            assert!(status.is_server_error(), "a fault is the service's, never a 4xx: {outcome:?}");
        }
    }
    assert_eq!(outcomes.len(), USERS * UPLOADS_PER_USER);

    // The analyzer, one photo at a time (the emulator's transactions are not isolated), until
    // nothing accepted is pending; failed analyses come back after the visibility timeout.
    let mut poller = api.poller();
    poller.concurrency = 1;
    let started = Instant::now();
    loop {
        // Received work first; the table is read only when the queue has nothing to give.
        if poller.poll_once().await.is_ok_and(|received| received > 0) {
            continue;
        }
        let pending = api
            .image_items()
            .await
            .iter()
            .filter(|item| item["sk"].as_s().unwrap().strip_prefix("image#").is_some_and(|id| accepted.contains(id)))
            .filter(|item| item.get("status").and_then(|status| status.as_s().ok()).is_some_and(|status| status == "pending"))
            .count();
        if pending == 0 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "{pending} photos still pending after 10 minutes");
    }
    faults.set_on(false);
    let injected = counts.injected();
    eprintln!(
        "faults: {} of {} calls failed ({} 500s, {} throttles, {} timeouts); {} uploads accepted, {} refused",
        injected,
        counts.calls.load(Ordering::Relaxed),
        counts.server_errors.load(Ordering::Relaxed),
        counts.throttles.load(Ordering::Relaxed),
        counts.timeouts.load(Ordering::Relaxed),
        accepted.len(),
        outcomes.len() - accepted.len(),
    );
    assert!(injected >= 100, "the run must meet faults: {injected}");

    // Accepted photos are ready; nothing else has a record but the expiring unfinished uploads.
    let mut records = BTreeMap::new();
    for item in api.image_items().await {
        let sk = item["sk"].as_s().unwrap();
        if let Some(id) = sk.strip_prefix("image#").filter(|rest| !rest.contains('#')) {
            records.insert(id.to_owned(), item["status"].as_s().unwrap().clone());
        }
    }
    for id in &accepted {
        assert_eq!(records.get(id).map(String::as_str), Some("ready"), "accepted photo {id}");
    }
    // An unfinished upload is `uploading` (expiring), or `pending` when it was counted but
    // every attempt to announce it failed: kept, and announced by the client's next `/complete`.
    let kept = |id: &String| records.get(id).is_some_and(|status| status == "pending");
    for (id, status) in &records {
        let unfinished_upload = unfinished.contains(id) && (status == "uploading" || status == "pending");
        assert!(accepted.contains(id) || unfinished_upload, "record {id} ({status}) of no accepted upload");
    }
    // Objects: an accepted or kept photo's (with its renditions) or an unfinished upload's,
    // still tagged pending so that the bucket expires it.
    for key in api.object_keys().await {
        let id = key.split('/').nth(1).unwrap().to_owned();
        if accepted.contains(&id) || kept(&id) {
            continue;
        }
        assert!(unfinished.contains(&id), "orphan object {key}");
        let tags = api.aws.s3.get_object_tagging().bucket(&api.config.photo_bucket).key(&key).send().await.unwrap();
        assert!(tags.tag_set().iter().any(|tag| tag.key() == "smart-album-upload"), "{key} would stay for ever");
    }

    // No photo lists anything twice; every tenant recounts clean.
    for (user, token) in tokens.iter().enumerate() {
        let listed = api.call(Method::GET, "/images?limit=100", Some(token), None).await;
        for item in listed.body["items"].as_array().unwrap() {
            let image = api.call(Method::GET, &format!("/images/{}", item["id"].as_str().unwrap()), Some(token), None).await;
            assert_nothing_twice(&image);
        }
        let check = deployer(api.files.dir.path(), &["tenant", "check", &format!("faulty{user}")]);
        assert!(check.success, "faulty{user} drifted:\n{}\n{}", check.stdout, check.stderr);
    }
    api.tear_down().await;
}

/// `smart-album serve` killed (SIGKILL) while its analyzer has a batch in hand, then started again:
/// the photos in that batch come back after the visibility timeout, every photo ends `ready`,
/// nothing is doubled.
#[tokio::test]
async fn the_analyzer_killed_mid_batch_finishes_after_a_restart() {
    let api = Api::deploy(
        "CORE_USER",
        "RESTART",
        &[("timeout_seconds: 60", "timeout_seconds: 5"), ("visibility_timeout_seconds: 360", "visibility_timeout_seconds: 5")],
    )
    .await;
    let token = api.user("restarted").await;
    let mut ids = Vec::new();
    for n in 0..16 {
        let (bytes, content_type) = photo(1, n);
        ids.push(api.upload(&token, content_type, bytes).await);
    }
    let statuses = || async {
        let listed = api.call(Method::GET, "/images?limit=100", Some(&token), None).await;
        let items = listed.body["items"].as_array().unwrap().clone();
        let ready = items.iter().filter(|item| item["status"] == "ready").count();
        (ready, items.len() - ready)
    };

    let server = common::server::serve("RESTART").await;
    let started = Instant::now();
    let at_kill = loop {
        let (ready, waiting) = statuses().await;
        assert!(waiting > 0, "the analyzer finished all 16 photos before it could be killed");
        if ready > 0 {
            break ready;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no photo analysed in 2 minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(server);
    let (ready_after_kill, _) = statuses().await;
    assert!(ready_after_kill < ids.len(), "killed with work in hand ({at_kill} ready)");

    let server = common::server::serve("RESTART").await;
    let started = Instant::now();
    while statuses().await.1 > 0 {
        assert!(started.elapsed() < Duration::from_secs(300), "photos still waiting 5 minutes after the restart");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(server);
    for id in &ids {
        let image = api.call(Method::GET, &format!("/images/{id}"), Some(&token), None).await;
        assert_eq!(image.body["status"], "ready", "{}", image.raw);
        assert_nothing_twice(&image);
    }
    let check = deployer(api.files.dir.path(), &["tenant", "check", "restarted"]);
    assert!(check.success, "{}\n{}", check.stdout, check.stderr);
    api.tear_down().await;
}
