//! What a new user would do, end to end: the deployer puts a tier stack on a fresh emulator the
//! way `make up` does, `smart-album serve` runs as a process, and everything goes over HTTP. Then
//! S3 and DynamoDB are checked directly for exactly what should be there.

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::api::{fixture, http};
use common::server::{Server, serve};
use common::{TierFiles, aws};
use serde_json::{Value, json};

/// A JSON request over HTTP; the status and the JSON answer (Null when none).
async fn call(server: &Server, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (status, bytes) = http(method, &format!("{}{path}", server.url), &headers, body).await;
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn sign_up_and_in(server: &Server, name: &str) -> String {
    let password = "a long enough passphrase";
    let (status, body) = call(
        server,
        Method::POST,
        "/users",
        None,
        Some(json!({"user_name": name, "email": format!("{name}@example.org"), "first_name": "F", "last_name": "L", "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = call(server, Method::POST, "/sessions", None, Some(json!({"user_name": name, "password": password}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

async fn upload_in_body(server: &Server, token: &str, photo: &str, content_type: &str) -> String {
    let bearer = format!("Bearer {token}");
    let (status, bytes) = http(
        Method::POST,
        &format!("{}/images", server.url),
        &[("content-type", content_type), ("authorization", &bearer)],
        fixture(photo),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice::<Value>(&bytes).unwrap()["id"].as_str().unwrap().to_owned()
}

async fn upload_presigned(server: &Server, token: &str, photo: &str, content_type: &str) -> String {
    let bytes = fixture(photo);
    let start = json!({"content_type": content_type, "size": bytes.len()});
    let (status, ticket) = call(server, Method::POST, "/images/uploads", Some(token), Some(start)).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(common::api::put_as_ticket(&ticket, bytes).await, StatusCode::OK);
    let id = ticket["id"].as_str().unwrap().to_owned();
    let (status, body) = call(server, Method::POST, &format!("/images/{id}/complete"), Some(token), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    id
}

async fn wait_until_analysed(server: &Server, token: &str, ids: &[&str]) {
    let started = Instant::now();
    for id in ids {
        loop {
            let (_, image) = call(server, Method::GET, &format!("/images/{id}"), Some(token), None).await;
            match image["status"].as_str() {
                Some("ready") => break,
                Some("pending") => {}
                other => panic!("image {id} ended {other:?}: {image}"),
            }
            assert!(started.elapsed() < Duration::from_secs(180), "analysis did not finish in 3 minutes");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

async fn search(server: &Server, token: &str, label: &str) -> Vec<String> {
    let (status, body) = call(server, Method::GET, &format!("/images/search?label={label}"), Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_new_user_deploys_uploads_finds_browses_and_deletes() {
    let aws = aws().await;
    let files = TierFiles::copy_of("CORE_USER", "END_TO_END");
    let deployed = files.deployer(&["up", "--tier", "END_TO_END", "--skip-build", "--analyzer", "local"]).expect_success("deployer up");
    let outputs = common::printed_outputs(&deployed.stdout);
    let (bucket, images_table, users_table) = (&outputs["PhotoBucket"], &outputs["ImagesTable"], &outputs["UsersTable"]);
    let server = serve("END_TO_END").await;

    let ann = sign_up_and_in(&server, "ann").await;
    let ben = sign_up_and_in(&server, "ben").await;
    let cat = upload_in_body(&server, &ann, "chelsea.png", "image/png").await;
    let coffee = upload_presigned(&server, &ann, "coffee.png", "image/png").await;
    let group = upload_presigned(&server, &ben, "sample2.jpg", "image/jpeg").await;
    let motorcycle = upload_in_body(&server, &ben, "motorcycle_left.png", "image/png").await;
    wait_until_analysed(&server, &ann, &[&cat, &coffee]).await;
    wait_until_analysed(&server, &ben, &[&group, &motorcycle]).await;

    assert_eq!(search(&server, &ann, "cat").await, [cat.as_str()]);
    assert_eq!(search(&server, &ann, "drink").await, [coffee.as_str()]);
    assert_eq!(search(&server, &ben, "people").await, [group.as_str()]);
    assert_eq!(search(&server, &ben, "vehicle").await, [motorcycle.as_str()]);
    assert!(search(&server, &ben, "cat").await.is_empty(), "ben finds ann's cat");
    let (_, albums) = call(&server, Method::GET, "/albums", Some(&ann), None).await;
    let labels: Vec<&str> = albums["items"].as_array().unwrap().iter().map(|a| a["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"cat") && labels.contains(&"coffee"), "{albums}");

    // Every analysed photo has its thumbnail and preview, and a view points at them.
    let (_, view) = call(&server, Method::GET, &format!("/images/{cat}"), Some(&ann), None).await;
    for (field, format) in [("thumbnail_url", image::ImageFormat::WebP), ("preview_url", image::ImageFormat::Jpeg)] {
        let (status, bytes) = http(Method::GET, view[field].as_str().unwrap(), &[], Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{field}");
        let shown = image::load_from_memory_with_format(&bytes, format).unwrap();
        assert_eq!((shown.width(), shown.height()), if field == "thumbnail_url" { (376, 250) } else { (451, 300) }, "{field}");
    }
    assert!(view["color"].as_str().unwrap().starts_with('#'), "{view}");

    // Ann deletes her cat, then ben his whole account.
    let (status, _) = call(&server, Method::DELETE, &format!("/images/{cat}"), Some(&ann), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&server, Method::DELETE, "/users/me", Some(&ben), Some(json!({"password": "a long enough passphrase"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // S3 holds exactly ann's coffee, its thumbnail and preview.
    let objects: Vec<String> = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .contents
        .unwrap_or_default()
        .into_iter()
        .filter_map(|o| o.key)
        .collect();
    assert_eq!(objects, [format!("ann/{coffee}"), format!("ann/{coffee}/preview.jpg"), format!("ann/{coffee}/thumbnail.webp")]);
    // DynamoDB holds ann's profile and coffee items only: nothing of ben, nothing of the cat.
    let scan = |table: &str| aws.dynamodb.scan().table_name(table).send();
    let images = scan(images_table).await.unwrap().items.unwrap_or_default();
    for item in &images {
        let text = format!("{item:?}");
        assert_eq!(item["pk"].as_s().unwrap(), "ann", "an item of another user is left: {text}");
        assert!(!text.contains(&cat), "an item of the deleted photo is left: {text}");
    }
    let coffee_labels = images.iter().filter(|item| item["sk"].as_s().unwrap().starts_with(&format!("image#{coffee}#label#"))).count();
    assert!(coffee_labels >= 4, "the coffee's index entries are missing");
    let users = scan(users_table).await.unwrap().items.unwrap_or_default();
    let names: Vec<&str> =
        users.iter().filter(|u| u["sk"].as_s().unwrap() == "profile").map(|u| u["pk"].as_s().unwrap().as_str()).collect();
    assert_eq!(names, ["ann"]);

    drop(server);
    files.deployer(&["down", "--tier", "END_TO_END", "--purge", "--yes"]).expect_success("deployer down --purge");
}
