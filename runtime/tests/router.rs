//! Fast tests of the real router over the in-memory stores: validation, authentication,
//! isolation, limits and error mapping, in milliseconds and without the emulator.
//! (The DynamoDB, S3 and SNS implementations and the whole product are tested against the
//! emulator in the `tests` crate.)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use domain::accounts::{self, NewAccount};
use domain::memory::{MemoryEvents, MemoryImages, MemoryPhotos, MemoryUsers};
use domain::sign_ins::Guessed;
use domain::{
    AccountChange, AccountStatus, Analysis, CollectionStore, FaceCollections, ImageId, ImageStore, Label, PasswordOrigin, PersonStore,
    PhotoStore, Precondition, SharedData, SignInThrottle, UsageStore, UserName, UserStore,
};
use runtime::api::{Services, router};
use runtime::auth::token::TokenSigner;
use runtime::config::{
    FaceSettings, Features, LabelerSettings, Limit, PhotoSettings, QuotaSettings, RequestLimits, SourceLimits, StackConfig, TextSettings,
    TierSettings, VisionEngine,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const PHOTO: &[u8] = include_bytes!("../../tests/fixtures/photos/chelsea.png");

struct App {
    router: axum::Router,
    users: Arc<MemoryUsers>,
    images: Arc<MemoryImages>,
    collections: Arc<Collections>,
    photos: Arc<MemoryPhotos>,
    events: Arc<MemoryEvents>,
}

fn settings(photos_per_user: Limit, max_photo_bytes: u64) -> TierSettings {
    TierSettings {
        features: Features { labels: true, faces: false, text: false },
        labeler: LabelerSettings { engine: VisionEngine::Builtin, max_labels: 10, min_confidence: 50 },
        quotas: QuotaSettings { photos_per_user, bytes_per_user: Limit::Unlimited, max_photo_bytes },
        faces: FaceSettings::default(),
        text: TextSettings::default(),
        photos: PhotoSettings::default(),
        per_source: SourceLimits::default(),
        requests: None,
    }
}

fn app_with(settings: TierSettings) -> App {
    let (images, photos, events) =
        (Arc::new(MemoryImages::default()), Arc::new(MemoryPhotos::default()), Arc::new(MemoryEvents::default()));
    let collections = Arc::new(Collections::default());
    let users = Arc::new(MemoryUsers::default());
    let config = StackConfig {
        tier: "CORE_USER".into(),
        stack_name: "smart-album-core-user".into(),
        users_table: "users".into(),
        images_table: "images".into(),
        photo_bucket: "photos".into(),
        new_user_topic_arn: "new-user".into(),
        new_image_topic_arn: "new-image".into(),
        analysis_queue_url: "queue".into(),
        key_arn: "key".into(),
        tenant_access_role_arn: "arn:aws:iam::123456789012:role/smart-album-core-user-tenant-access".into(),
        settings,
    };
    let services = Services {
        config,
        users: users.clone(),
        tenants: SharedData::new(users.clone(), images.clone(), photos.clone()),
        events: events.clone(),
        collections: collections.clone(),
        tokens: TokenSigner::new([7; 32]),
        photo_origin: "memory://photos".into(),
    };
    App { router: router(services), users, images, photos, events, collections }
}

/// Face collections that remember what they were asked to delete.
#[derive(Default)]
struct Collections(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl FaceCollections for Collections {
    async fn delete_faces(&self, user: &UserName, engine_ids: &[String]) -> domain::Result<()> {
        self.0.lock().unwrap().push(format!("faces of {user}: {}", engine_ids.join(",")));
        Ok(())
    }

    async fn delete_user(&self, user: &UserName) -> domain::Result<()> {
        self.0.lock().unwrap().push(format!("collection of {user}"));
        Ok(())
    }
}

fn app() -> App {
    app_with(settings(Limit::AtMost(1000), 10 * 1024 * 1024))
}

impl App {
    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = self.router.clone().oneshot(request.body(Body::from(body)).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn json(&self, method: Method, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(method, path, token, Some("application/json"), body.to_string().into_bytes()).await
    }

    async fn user(&self, name: &str) -> String {
        let password = "correct horse battery staple".to_owned();
        let (status, body) = self
            .json(
                Method::POST,
                "/users",
                None,
                json!({"user_name": name, "email": format!("{name}@example.org"),
                "first_name": "A", "last_name": "B", "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.sign_in(name, &password).await
    }

    async fn sign_in(&self, name: &str, password: &str) -> String {
        let (status, body) = self.json(Method::POST, "/sessions", None, json!({"user_name": name, "password": password})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn upload(&self, token: &str) -> (StatusCode, Value) {
        self.send(Method::POST, "/images", Some(token), Some("image/png"), PHOTO.to_vec()).await
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn unknown_routes_and_health() {
    let app = app();
    assert_eq!(app.send(Method::GET, "/health", None, None, vec![]).await.0, StatusCode::OK);
    let (status, body) = app.send(Method::GET, "/prod/health", None, None, vec![]).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn sign_up_refuses_bad_input_with_named_errors() {
    let app = app();
    let valid = json!({"user_name": "alice", "email": "alice@example.org", "first_name": "A", "last_name": "B",
                       "password": "a long passphrase"});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    for (body, expected) in [
        (with("user_name", json!("Alice")), "invalid_user_name"),
        (with("user_name", json!("../x")), "invalid_user_name"),
        (with("email", json!("not-an-email")), "invalid_email"),
        (with("password", json!("short")), "weak_password"),
        (with("password", json!("alice-has-a-long-password")), "weak_password"),
        (with("user_name", json!(42)), "invalid_request"),
        (with("unknown_field", json!(1)), "invalid_request"),
    ] {
        let (status, reply) = app.json(Method::POST, "/users", None, body.clone()).await;
        assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, expected), "{body}: {reply}");
    }
    let (status, reply) = app.send(Method::POST, "/users", None, Some("application/json"), b"{not json".to_vec()).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_json"));
    assert!(app.events.new_users.lock().unwrap().is_empty(), "nothing published for refused sign-ups");

    assert_eq!(app.json(Method::POST, "/users", None, valid.clone()).await.0, StatusCode::CREATED);
    assert_eq!(*app.events.new_users.lock().unwrap(), ["alice"]);
    let (status, reply) = app.json(Method::POST, "/users", None, valid).await;
    assert_eq!((status, code(&reply)), (StatusCode::CONFLICT, "user_name_taken"));
}

#[tokio::test]
async fn every_user_endpoint_needs_a_valid_token() {
    let app = app();
    let token = app.user("alice").await;
    for (method, path) in [
        (Method::GET, "/users/me"),
        (Method::GET, "/images"),
        (Method::GET, "/albums"),
        (Method::GET, "/places"),
        (Method::POST, "/images"),
    ] {
        for credential in [None, Some("garbage"), Some(&format!("{token}x")[..])] {
            let (status, reply) = app.send(method.clone(), path, credential, None, vec![]).await;
            assert_eq!((status, code(&reply)), (StatusCode::UNAUTHORIZED, "unauthenticated"), "{method} {path} {credential:?}");
        }
    }
    let (status, reply) = app.json(Method::POST, "/sessions", None, json!({"user_name": "alice", "password": "wrong password!"})).await;
    assert_eq!((status, code(&reply)), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    let (status, reply) = app.send(Method::GET, "/users?prefix=a", Some(&token), None, vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::FORBIDDEN, "forbidden"), "a user token is not the ops credential");
}

#[tokio::test]
async fn uploads_are_checked_by_their_bytes_and_published() {
    let app = app();
    let token = app.user("alice").await;
    let (status, reply) = app.send(Method::POST, "/images", Some(&token), Some("image/png"), b"plain text, not a photo".to_vec()).await;
    assert_eq!((status, code(&reply)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let (status, reply) = app.send(Method::POST, "/images", Some(&token), Some("image/jpeg"), PHOTO.to_vec()).await;
    assert_eq!((status, code(&reply)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"), "declared JPEG, is PNG");
    let (status, reply) = app.send(Method::POST, "/images", Some(&token), Some("image/png"), vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "empty_body"));
    assert!(app.photos.keys().is_empty() && app.events.new_images.lock().unwrap().is_empty(), "refused uploads leave nothing");

    let (status, reply) = app.upload(&token).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{reply}");
    let id = reply["id"].as_str().unwrap();
    assert_eq!(app.photos.keys(), [format!("alice/{id}")]);
    assert_eq!(app.events.new_images.lock().unwrap()[0].image_id, id);
    let (status, listed) = app.send(Method::GET, "/images", Some(&token), None, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"][0]["id"], id);
    assert_eq!(listed["items"][0]["status"], "pending");
}

#[tokio::test]
async fn a_photo_declaring_too_many_pixels_is_refused_either_way_and_leaves_nothing() {
    let app = app();
    let token = app.user("pia").await;
    let crafted = domain::testing::declaring_size(PHOTO, 65_500, 65_500, false).unwrap();
    let (status, reply) = app.send(Method::POST, "/images", Some(&token), Some("image/png"), crafted.clone()).await;
    assert_eq!((status, code(&reply)), (StatusCode::PAYLOAD_TOO_LARGE, "too_many_pixels"), "{reply}");
    let message = reply["error"]["message"].as_str().unwrap();
    assert!(message.contains("65500 x 65500") && message.contains("at most 100000000"), "{message}");

    let (status, ticket) =
        app.json(Method::POST, "/images/uploads", Some(&token), json!({"content_type": "image/png", "size": crafted.len()})).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap();
    app.photos.put(&format!("pia/{id}"), crafted, "image/png").await.unwrap();
    let (status, reply) = app.json(Method::POST, &format!("/images/{id}/complete"), Some(&token), json!({})).await;
    assert_eq!((status, code(&reply)), (StatusCode::PAYLOAD_TOO_LARGE, "too_many_pixels"), "{reply}");

    assert!(app.photos.keys().is_empty() && app.events.new_images.lock().unwrap().is_empty(), "a refused photo left something");
    let usage = app.images.usage(&UserName::parse("pia").unwrap()).await.unwrap();
    assert_eq!((usage.photos, usage.bytes), (0, 0), "usage counted a refused photo");
    let (_, listed) = app.json(Method::GET, "/images", Some(&token), json!({})).await;
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn a_presigned_upload_is_for_its_declared_size_and_its_checked_version_only() {
    let app = app();
    let token = app.user("dora").await;
    let (status, reply) = app.json(Method::POST, "/images/uploads", Some(&token), json!({"content_type": "image/png"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    let (status, reply) = app.json(Method::POST, "/images/uploads", Some(&token), json!({"content_type": "image/png", "size": 0})).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "empty_body"), "{reply}");

    let (status, ticket) =
        app.json(Method::POST, "/images/uploads", Some(&token), json!({"content_type": "image/png", "size": PHOTO.len()})).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap();
    let key = format!("dora/{id}");
    let path = format!("/images/{id}/complete");
    let mut longer = PHOTO.to_vec();
    longer.extend_from_slice(&[0; 16]);
    app.photos.put(&key, longer, "image/png").await.unwrap();
    let (status, reply) = app.json(Method::POST, &path, Some(&token), json!({})).await;
    assert_eq!((status, code(&reply)), (StatusCode::CONFLICT, "upload_size_mismatch"), "{reply}");
    // Nothing was undone: the right bytes, put again, complete.
    app.photos.put(&key, PHOTO.to_vec(), "image/png").await.unwrap();
    assert_eq!(app.json(Method::POST, &path, Some(&token), json!({})).await.0, StatusCode::ACCEPTED);
    let user = UserName::parse("dora").unwrap();
    let record = app.images.get(&user, ImageId::parse(id).unwrap()).await.unwrap().unwrap();
    let checked = app.photos.head(&key).await.unwrap().unwrap().etag;
    assert_eq!(record.object_etag.as_deref(), Some(checked.as_str()), "the record does not name the version checked");
    // Bytes put after the check are not the version the record names.
    let mut other = PHOTO.to_vec();
    other[40] ^= 0xff;
    app.photos.put(&key, other, "image/png").await.unwrap();
    let read = app.photos.read(&key, record.object_etag.as_deref()).await;
    assert!(matches!(read, Err(domain::Error::PhotoChanged(_))), "{read:?}");
}

#[tokio::test]
async fn a_repeated_completion_announces_again_until_the_photo_is_analysed() {
    let app = app();
    let token = app.user("cleo").await;
    let (status, ticket) =
        app.json(Method::POST, "/images/uploads", Some(&token), json!({"content_type": "image/png", "size": PHOTO.len()})).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let id = ticket["id"].as_str().unwrap();
    app.photos.put(&format!("cleo/{id}"), PHOTO.to_vec(), "image/png").await.unwrap();
    let path = format!("/images/{id}/complete");
    let complete = || app.json(Method::POST, &path, Some(&token), json!({}));

    // The topic fails: the photo stays kept and counted, and the client's retry is not a 404.
    app.events.new_image_fails.store(true, std::sync::atomic::Ordering::Relaxed);
    let (status, reply) = complete().await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{reply}");
    let user = UserName::parse("cleo").unwrap();
    assert_eq!(app.images.usage(&user).await.unwrap().photos, 1);
    assert_eq!(app.photos.keys(), [format!("cleo/{id}")]);
    app.events.new_image_fails.store(false, std::sync::atomic::Ordering::Relaxed);
    let (status, reply) = complete().await;
    assert_eq!((status, reply["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{reply}");
    // A repeat whose first answer was lost announces once more; the analyzer skips the extra one.
    assert_eq!(complete().await.0, StatusCode::ACCEPTED);
    let announced: Vec<String> = app.events.new_images.lock().unwrap().iter().map(|event| event.image_id.clone()).collect();
    assert_eq!(announced, [id, id]);
    assert_eq!(app.images.usage(&user).await.unwrap().photos, 1, "a repeat counted the photo again");

    let image_id = ImageId::parse(id).unwrap();
    app.images.put_analysis(&app.images.get(&user, image_id).await.unwrap().unwrap(), &Analysis::default()).await.unwrap();
    let (status, reply) = complete().await;
    assert_eq!((status, code(&reply)), (StatusCode::CONFLICT, "upload_not_pending"), "{reply}");
    assert_eq!(app.events.new_images.lock().unwrap().len(), 2, "an analysed photo was announced again");
}

#[tokio::test]
async fn size_and_quota_limits_answer_413_and_403() {
    let app = app_with(settings(Limit::AtMost(1), PHOTO.len() as u64));
    let token = app.user("alice").await;
    let mut larger = PHOTO.to_vec();
    larger.push(0);
    let (status, reply) = app.send(Method::POST, "/images", Some(&token), Some("image/png"), larger).await;
    assert_eq!((status, code(&reply)), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    assert_eq!(app.upload(&token).await.0, StatusCode::ACCEPTED);
    let (status, reply) = app.upload(&token).await;
    assert_eq!((status, code(&reply)), (StatusCode::FORBIDDEN, "quota_exceeded"));
    assert_eq!(app.photos.keys().len(), 1, "the refused photo's object is removed again");
}

#[tokio::test]
async fn another_users_image_is_a_404_and_crafted_ids_are_400() {
    let app = app();
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let (_, reply) = app.upload(&alice).await;
    let id = reply["id"].as_str().unwrap();
    for method in [Method::GET, Method::DELETE] {
        let (status, reply) = app.send(method.clone(), &format!("/images/{id}"), Some(&mallory), None, vec![]).await;
        assert_eq!((status, code(&reply)), (StatusCode::NOT_FOUND, "not_found"), "{method}");
    }
    assert_eq!(app.send(Method::GET, &format!("/images/{id}"), Some(&alice), None, vec![]).await.0, StatusCode::OK);
    for crafted in ["..%2F..%2Fetc", "alice%2F01J", "not-an-id"] {
        let (status, reply) = app.send(Method::GET, &format!("/images/{crafted}"), Some(&alice), None, vec![]).await;
        assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_image_id"), "{crafted}");
    }
    let (status, reply) = app.send(Method::GET, "/images?cursor=forged", Some(&alice), None, vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_cursor"));
    let (status, reply) = app.send(Method::GET, "/images?limit=0", Some(&alice), None, vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_limit"));
}

/// Favourites: marked and unmarked idempotently, shown on the photo and in the list, listed
/// alone with `favourite=true`, newest first and paged; another user's photo is a 404 and
/// changes nothing.
#[tokio::test]
async fn favourites_are_the_owners_to_mark_and_list() {
    let app = app();
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.upload(&alice).await.1["id"].as_str().unwrap().to_owned());
    }
    // Newest first, as listed (two uploads may share a millisecond: the id orders them).
    ids.sort_by(|a, b| b.cmp(a));
    let favourites = async |token: &str, query: &str| {
        let (status, page) = app.send(Method::GET, &format!("/images?favourite=true{query}"), Some(token), None, vec![]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let listed: Vec<String> = page["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect();
        (listed, page["next_cursor"].as_str().map(str::to_owned))
    };
    assert_eq!(favourites(&alice, "").await.0, Vec::<String>::new());
    for id in [&ids[0], &ids[2], &ids[2]] {
        let (status, _) = app.send(Method::PUT, &format!("/images/{id}/favourite"), Some(&alice), None, vec![]).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    // Newest first, each once however often it was marked; one at a time, by cursor.
    let (first, next) = favourites(&alice, "&limit=1").await;
    assert_eq!(first, [ids[0].clone()]);
    let (second, _) = favourites(&alice, &format!("&limit=1&cursor={}", next.unwrap())).await;
    assert_eq!(second, [ids[2].clone()]);
    let (_, view) = app.send(Method::GET, &format!("/images/{}", ids[0]), Some(&alice), None, vec![]).await;
    assert_eq!(view["favourite"], true);
    let (_, all) = app.send(Method::GET, "/images", Some(&alice), None, vec![]).await;
    let marked: Vec<bool> = all["items"].as_array().unwrap().iter().map(|item| item["favourite"].as_bool().unwrap()).collect();
    assert_eq!(marked, [true, false, true]);

    // Another user can neither mark nor unmark it, nor see it among their favourites.
    for method in [Method::PUT, Method::DELETE] {
        let (status, reply) = app.send(method.clone(), &format!("/images/{}/favourite", ids[1]), Some(&mallory), None, vec![]).await;
        assert_eq!((status, code(&reply)), (StatusCode::NOT_FOUND, "not_found"), "{method}");
        let (status, _) = app.send(method.clone(), &format!("/images/{}/favourite", ids[0]), Some(&mallory), None, vec![]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    assert_eq!(favourites(&mallory, "").await.0, Vec::<String>::new());
    assert_eq!(favourites(&alice, "").await.0, [ids[0].clone(), ids[2].clone()]);

    // Unmarked (twice: still 204), and a deleted photo leaves the list.
    for _ in 0..2 {
        let (status, _) = app.send(Method::DELETE, &format!("/images/{}/favourite", ids[0]), Some(&alice), None, vec![]).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    assert_eq!(app.send(Method::DELETE, &format!("/images/{}", ids[2]), Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(favourites(&alice, "").await.0, Vec::<String>::new());
    let (status, reply) = app.send(Method::PUT, &format!("/images/{}/favourite", ids[2]), Some(&alice), None, vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, reply) = app.send(Method::GET, "/images?favourite=false", Some(&alice), None, vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_favourite"));
    let (status, _) = app.send(Method::GET, "/images?favourite=maybe", Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Collections: made, filled with the owner's photos, listed with count and cover, changed,
/// emptied and deleted, photos staying in the library; bad input is a named 400, another
/// user's collection or photo a 404 that changes nothing.
#[tokio::test]
async fn collections_hold_the_photos_their_owner_chooses() {
    let app = app();
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.upload(&alice).await.1["id"].as_str().unwrap().to_owned());
    }
    ids.sort_by(|a, b| b.cmp(a));
    let theirs = app.upload(&mallory).await.1["id"].as_str().unwrap().to_owned();

    let (status, made) =
        app.json(Method::POST, "/collections", Some(&alice), json!({"title": "  Summer  ", "description": "by the sea"})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!((made["title"].as_str(), made["role"].as_str(), made["photo_count"].as_u64()), (Some("Summer"), Some("owner"), Some(0)));
    let collection = made["id"].as_str().unwrap().to_owned();
    let path = format!("/collections/{collection}");

    for bad in [json!({"title": ""}), json!({"title": "x".repeat(101)}), json!({"name": "Summer"})] {
        let (status, _) = app.json(Method::POST, "/collections", Some(&alice), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    // All or nothing: one id of another user's photo adds none.
    let (status, reply) = app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": [ids[0], theirs]})).await;
    assert_eq!((status, code(&reply)), (StatusCode::NOT_FOUND, "not_found"));
    let (status, reply) = app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": []})).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_ids"));
    let (status, reply) = app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": [ids[0], ids[2], ids[2]]})).await;
    assert_eq!((status, reply["added"].as_u64()), (StatusCode::OK, Some(2)), "{reply}");
    let (_, reply) = app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": [ids[0], ids[1]]})).await;
    assert_eq!(reply["added"], 1, "a photo already in it is not added twice");

    let (_, listed) = app.send(Method::GET, &format!("{path}/photos?limit=2"), Some(&alice), None, vec![]).await;
    let page: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(page, [ids[0].as_str(), ids[1].as_str()]);
    assert_eq!(listed["items"][0]["owner"], "alice");
    let cursor = listed["next_cursor"].as_str().unwrap();
    let (_, rest) = app.send(Method::GET, &format!("{path}/photos?limit=2&cursor={cursor}"), Some(&alice), None, vec![]).await;
    assert_eq!(rest["items"][0]["id"], ids[2].as_str());

    // The newest photo is the cover until the owner chooses one of its photos.
    let (_, one) = app.send(Method::GET, &path, Some(&alice), None, vec![]).await;
    assert_eq!((one["photo_count"].as_u64(), one["cover_image_id"].as_str()), (Some(3), Some(ids[0].as_str())));
    let (status, reply) = app.json(Method::PATCH, &path, Some(&alice), json!({"cover_image_id": theirs})).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_cover"));
    let (status, changed) =
        app.json(Method::PATCH, &path, Some(&alice), json!({"cover_image_id": ids[2], "description": null, "show_people": true})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["cover_image_id"].as_str(), &changed["description"], &changed["show_people"]),
        (Some(ids[2].as_str()), &Value::Null, &json!(true))
    );
    assert_eq!(changed["title"], "Summer", "fields left out stay");

    // Another user: every id of alice's is a 404, and nothing changes.
    let before = app.send(Method::GET, &path, Some(&alice), None, vec![]).await.1;
    for (method, target, body) in [
        (Method::GET, path.clone(), Value::Null),
        (Method::PATCH, path.clone(), json!({"title": "Mine"})),
        (Method::DELETE, path.clone(), Value::Null),
        (Method::GET, format!("{path}/photos"), Value::Null),
        (Method::POST, format!("{path}/photos"), json!({"ids": [theirs]})),
        (Method::DELETE, format!("{path}/photos"), json!({"ids": [ids[0]]})),
    ] {
        let (status, reply) = app.json(method.clone(), &target, Some(&mallory), body).await;
        assert_eq!((status, code(&reply)), (StatusCode::NOT_FOUND, "not_found"), "{method} {target}");
    }
    let (_, theirs_listed) = app.send(Method::GET, "/collections", Some(&mallory), None, vec![]).await;
    assert!(theirs_listed["items"].as_array().unwrap().is_empty());
    let mut after = app.send(Method::GET, &path, Some(&alice), None, vec![]).await.1;
    after["cover_thumbnail_url"] = before["cover_thumbnail_url"].clone();
    assert_eq!(after, before);

    // A photo deleted from the library leaves the collection; one taken out stays in the library.
    assert_eq!(app.send(Method::DELETE, &format!("/images/{}", ids[2]), Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    let (_, reply) = app.json(Method::DELETE, &format!("{path}/photos"), Some(&alice), json!({"ids": [ids[1], theirs]})).await;
    assert_eq!(reply["removed"], 1);
    let (_, one) = app.send(Method::GET, &path, Some(&alice), None, vec![]).await;
    assert_eq!((one["photo_count"].as_u64(), one["cover_image_id"].as_str()), (Some(1), Some(ids[0].as_str())));
    assert_eq!(app.send(Method::GET, &format!("/images/{}", ids[1]), Some(&alice), None, vec![]).await.0, StatusCode::OK);

    let (_, all) = app.send(Method::GET, "/collections", Some(&alice), None, vec![]).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.send(Method::DELETE, &path, Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &path, Some(&alice), None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::GET, &format!("/images/{}", ids[0]), Some(&alice), None, vec![]).await.0, StatusCode::OK);
    let (status, reply) = app.send(Method::GET, "/collections/not-an-id", Some(&alice), None, vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, "invalid_collection_id"));
}

/// Sharing a collection with users of the stack: a viewer sees it and its photos, changes
/// nothing, and loses it at once when removed, when leaving, or when it is deleted; anyone else
/// gets 404s.
#[tokio::test]
async fn a_viewer_sees_exactly_what_was_shared_until_it_is_not() {
    let app = app();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mallory = app.user("mallory").await;
    let shared_photo = app.upload(&alice).await.1["id"].as_str().unwrap().to_owned();
    let private_photo = app.upload(&alice).await.1["id"].as_str().unwrap().to_owned();
    let (_, made) = app.json(Method::POST, "/collections", Some(&alice), json!({"title": "Trip"})).await;
    let path = format!("/collections/{}", made["id"].as_str().unwrap());
    app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": [shared_photo]})).await;
    let share =
        async |role: &str, who: &str| app.json(Method::PUT, &format!("{path}/members/{who}"), Some(&alice), json!({"role": role})).await;

    assert_eq!(code(&share("owner", "bob").await.1), "invalid_role");
    assert_eq!(code(&share("viewer", "alice").await.1), "own_collection");
    assert_eq!(share("viewer", "nobody").await.0, StatusCode::NOT_FOUND);
    let (status, member) = share("viewer", "bob").await;
    assert_eq!((status, &member["role"]), (StatusCode::OK, &json!("viewer")), "{member}");

    let (_, listed) = app.send(Method::GET, "/collections", Some(&bob), None, vec![]).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!((&listed["items"][0]["role"], &listed["items"][0]["owner"]), (&json!("viewer"), &json!("alice")));
    let (_, photos) = app.send(Method::GET, &format!("{path}/photos"), Some(&bob), None, vec![]).await;
    let ids: Vec<&str> = photos["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [shared_photo.as_str()]);
    let (_, members) = app.send(Method::GET, &format!("{path}/members"), Some(&bob), None, vec![]).await;
    assert_eq!(members["items"], json!([{"user_name": "bob", "role": "viewer"}]));
    // Nothing else of alice's: not her photos (the shared one included), not her other albums.
    for target in [format!("/images/{shared_photo}"), format!("/images/{private_photo}")] {
        assert_eq!(app.send(Method::GET, &target, Some(&bob), None, vec![]).await.0, StatusCode::NOT_FOUND, "{target}");
    }
    // A viewer changes nothing.
    let bobs = app.upload(&bob).await.1["id"].as_str().unwrap().to_owned();
    for (method, target, body, refusal) in [
        (Method::PATCH, path.clone(), json!({"title": "Mine"}), "not_owner"),
        (Method::DELETE, path.clone(), Value::Null, "not_owner"),
        (Method::POST, format!("{path}/photos"), json!({"ids": [bobs]}), "not_contributor"),
        (Method::DELETE, format!("{path}/photos"), json!({"ids": [shared_photo]}), "not_contributor"),
        (Method::PUT, format!("{path}/members/mallory"), json!({"role": "viewer"}), "not_owner"),
        (Method::DELETE, format!("{path}/members/alice"), Value::Null, "not_owner"),
        (Method::POST, format!("{path}/links"), json!({}), "not_owner"),
    ] {
        let (status, reply) = app.json(method.clone(), &target, Some(&bob), body).await;
        assert_eq!((status, code(&reply)), (StatusCode::FORBIDDEN, refusal), "{method} {target}");
    }
    let (_, still) = app.send(Method::GET, &path, Some(&alice), None, vec![]).await;
    assert_eq!((&still["title"], &still["photo_count"]), (&json!("Trip"), &json!(1)));
    // Someone it was not shared with: 404s.
    for target in [path.clone(), format!("{path}/photos"), format!("{path}/members")] {
        assert_eq!(app.send(Method::GET, &target, Some(&mallory), None, vec![]).await.0, StatusCode::NOT_FOUND, "{target}");
    }

    // Removed: refused at the next request.
    assert_eq!(app.send(Method::DELETE, &format!("{path}/members/bob"), Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &format!("{path}/photos"), Some(&bob), None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert!(app.send(Method::GET, "/collections", Some(&bob), None, vec![]).await.1["items"].as_array().unwrap().is_empty());
    // Leaving.
    share("viewer", "bob").await;
    assert_eq!(app.send(Method::DELETE, &format!("{path}/members/bob"), Some(&bob), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &path, Some(&bob), None, vec![]).await.0, StatusCode::NOT_FOUND);
    // Deleted by its owner.
    share("viewer", "bob").await;
    assert_eq!(app.send(Method::GET, &path, Some(&bob), None, vec![]).await.0, StatusCode::OK);
    assert_eq!(app.send(Method::DELETE, &path, Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &path, Some(&bob), None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert!(app.send(Method::GET, "/collections", Some(&bob), None, vec![]).await.1["items"].as_array().unwrap().is_empty());
    // A member who removes their account is no member left.
    let (_, again) = app.json(Method::POST, "/collections", Some(&alice), json!({"title": "Again"})).await;
    let again = format!("/collections/{}", again["id"].as_str().unwrap());
    app.json(Method::PUT, &format!("{again}/members/bob"), Some(&alice), json!({"role": "viewer"})).await;
    let (status, _) = app.json(Method::DELETE, "/users/me", Some(&bob), json!({"password": "correct horse battery staple"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &format!("{again}/members"), Some(&alice), None, vec![]).await.1["items"], json!([]));
}

/// A contributor adds photos of their own, which stay theirs (on their quota, under their
/// name): everyone the collection is shared with sees them, counted and as a cover; the owner
/// takes any out, the contributor only theirs; they leave with the contributor (removed,
/// leaving, made a viewer), with their photo, and with the collection.
#[tokio::test]
async fn a_contributor_adds_photos_that_stay_theirs_and_leave_with_them() {
    let app = app();
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let bob = app.user("bob").await;
    let alices = app.upload(&alice).await.1["id"].as_str().unwrap().to_owned();
    let (_, made) = app.json(Method::POST, "/collections", Some(&alice), json!({"title": "Party"})).await;
    let path = format!("/collections/{}", made["id"].as_str().unwrap());
    app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": [alices]})).await;
    let share =
        async |role: &str, who: &str| app.json(Method::PUT, &format!("{path}/members/{who}"), Some(&alice), json!({"role": role})).await;
    let (status, member) = share("contributor", "carol").await;
    assert_eq!((status, &member["role"]), (StatusCode::OK, &json!("contributor")), "{member}");
    share("viewer", "bob").await;
    let carols: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(app.upload(&carol).await.1["id"].as_str().unwrap().to_owned());
        }
        ids
    };
    let photos_of = async |token: &str| {
        let (_, page) = app.send(Method::GET, &format!("{path}/photos?limit=2"), Some(token), None, vec![]).await;
        let mut items = page["items"].as_array().unwrap().clone();
        let (_, rest) = app
            .send(
                Method::GET,
                &format!("{path}/photos?limit=2&cursor={}", page["next_cursor"].as_str().unwrap()),
                Some(token),
                None,
                vec![],
            )
            .await;
        items.extend(rest["items"].as_array().unwrap().iter().cloned());
        assert!(rest["next_cursor"].is_null(), "{rest}");
        items.iter().map(|item| (item["id"].as_str().unwrap().to_owned(), item["owner"].as_str().unwrap().to_owned())).collect::<Vec<_>>()
    };

    // Only their own photos: alice's is a 404 to carol, and nothing is added.
    let (status, _) = app.json(Method::POST, &format!("{path}/photos"), Some(&carol), json!({"ids": [carols[0], alices]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, added) = app.json(Method::POST, &format!("{path}/photos"), Some(&carol), json!({"ids": carols})).await;
    assert_eq!((status, &added["added"]), (StatusCode::OK, &json!(3)), "{added}");
    let carol_name = UserName::parse("carol").unwrap();
    assert_eq!(app.images.usage(&carol_name).await.unwrap().photos, 3, "a contributor's photos count on their quota");
    assert_eq!(app.images.usage(&UserName::parse("alice").unwrap()).await.unwrap().photos, 1, "and not on the owner's");

    // Everyone it is shared with sees all four, newest first across both parts, paged.
    let mut expected: Vec<(String, String)> =
        carols.iter().map(|id| (id.clone(), "carol".to_owned())).chain([(alices.clone(), "alice".to_owned())]).collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0));
    for token in [&alice, &carol, &bob] {
        assert_eq!(photos_of(token).await, expected);
    }
    let (_, seen) = app.send(Method::GET, &path, Some(&bob), None, vec![]).await;
    assert_eq!((&seen["photo_count"], &seen["cover_image_id"]), (&json!(4), &json!(expected[0].0)), "{seen}");
    let (_, listed) = app.send(Method::GET, "/collections", Some(&carol), None, vec![]).await;
    assert_eq!((&listed["items"][0]["role"], &listed["items"][0]["photo_count"]), (&json!("contributor"), &json!(4)));
    // The owner may choose a contributor's photo as the cover.
    let (status, covered) = app.json(Method::PATCH, &path, Some(&alice), json!({"cover_image_id": carols[0]})).await;
    assert_eq!((status, &covered["cover_image_id"]), (StatusCode::OK, &json!(carols[0])), "{covered}");
    // A contributor shares nothing and changes nothing but their photos.
    for (method, target, body) in [
        (Method::PATCH, path.clone(), json!({"title": "Mine"})),
        (Method::PUT, format!("{path}/members/bob"), json!({"role": "contributor"})),
        (Method::POST, format!("{path}/links"), json!({})),
        (Method::DELETE, path.clone(), Value::Null),
    ] {
        let (status, reply) = app.json(method.clone(), &target, Some(&carol), body).await;
        assert_eq!((status, code(&reply)), (StatusCode::FORBIDDEN, "not_owner"), "{method} {target}");
    }
    // Taking out: a contributor only theirs, the owner anyone's.
    let (_, removed) = app.json(Method::DELETE, &format!("{path}/photos"), Some(&carol), json!({"ids": [alices, carols[0]]})).await;
    assert_eq!(removed["removed"], 1, "{removed}");
    let (_, removed) = app.json(Method::DELETE, &format!("{path}/photos"), Some(&alice), json!({"ids": [carols[1]]})).await;
    assert_eq!(removed["removed"], 1, "{removed}");
    let count = async || app.send(Method::GET, &path, Some(&alice), None, vec![]).await.1["photo_count"].clone();
    assert_eq!(count().await, json!(2));
    // A photo its contributor deletes leaves it.
    app.json(Method::POST, &format!("{path}/photos"), Some(&carol), json!({"ids": [carols[0]]})).await;
    assert_eq!(count().await, json!(3));
    assert_eq!(app.send(Method::DELETE, &format!("/images/{}", carols[0]), Some(&carol), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(count().await, json!(2));
    // Made a viewer, then a contributor again: their photos left with the role.
    share("viewer", "carol").await;
    assert_eq!(count().await, json!(1));
    share("contributor", "carol").await;
    assert_eq!(count().await, json!(1));
    // Removed, or leaving: the same.
    app.json(Method::POST, &format!("{path}/photos"), Some(&carol), json!({"ids": [carols[2]]})).await;
    assert_eq!(count().await, json!(2));
    assert_eq!(app.send(Method::DELETE, &format!("{path}/members/carol"), Some(&carol), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(count().await, json!(1));
    assert_eq!(
        app.send(Method::GET, &format!("/images/{}", carols[2]), Some(&carol), None, vec![]).await.0,
        StatusCode::OK,
        "her photo stays hers"
    );
    // A deleted collection takes nothing of carol's with it, and leaves none of her items.
    share("contributor", "carol").await;
    app.json(Method::POST, &format!("{path}/photos"), Some(&carol), json!({"ids": [carols[2]]})).await;
    assert_eq!(app.send(Method::DELETE, &path, Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    let id = domain::CollectionId::parse(path.rsplit('/').next().unwrap()).unwrap();
    assert_eq!(app.images.collection_part(&carol_name, id).await.unwrap().photo_count, 0);
    assert_eq!(app.images.usage(&carol_name).await.unwrap().photos, 2);
}

/// Places: the owner sees where a photo was taken exactly; search finds it by city, region or
/// country whatever the accents and case, with other terms; `/places` groups by country then
/// city with counts and covers; a shared view shows the place (rounded to about 100 m) only where
/// the owner set `show_places`.
#[tokio::test]
async fn places_are_searched_listed_and_shown_to_others_only_where_allowed() {
    use domain::places::{Place, Position};
    use domain::{Analysis, ImageId, ImageStore, Label};
    let app = app();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let user = UserName::parse("alice").unwrap();
    let place = |city: &str, region: &str, country: &str, code: &str, lat: f64, lon: f64| Place {
        city: city.into(),
        region: region.into(),
        country: country.into(),
        country_code: code.into(),
        position: Position::new(lat, lon).unwrap(),
    };
    let analyse = async |label: &str, place: Option<Place>| {
        let id = app.upload(&alice).await.1["id"].as_str().unwrap().to_owned();
        let record = app.images.get(&user, ImageId::parse(&id).unwrap()).await.unwrap().unwrap();
        let analysis = Analysis { labels: vec![Label { name: label.into(), confidence: 90.0 }], place, ..Analysis::default() };
        app.images.put_analysis(&record, &analysis).await.unwrap();
        id
    };
    let lisbon = analyse("tram", Some(place("Lisbon", "Lisbon", "Portugal", "PT", 38.722_349, -9.139_337))).await;
    let porto = analyse("bridge", Some(place("Porto", "Porto", "Portugal", "PT", 41.1579, -8.6291))).await;
    let sao_paulo = analyse("tram", Some(place("Sao Paulo", "Sao Paulo", "Brazil", "BR", -23.5505, -46.6333))).await;
    let nowhere = analyse("tram", None).await;

    let (_, one) = app.send(Method::GET, &format!("/images/{lisbon}"), Some(&alice), None, vec![]).await;
    assert_eq!(
        one["place"],
        json!({"city": "Lisbon", "region": "Lisbon", "country": "Portugal", "country_code": "PT", "lat": 38.722_349, "lon": -9.139_337})
    );
    assert_eq!(app.send(Method::GET, &format!("/images/{nowhere}"), Some(&alice), None, vec![]).await.1["place"], Value::Null);
    let found = async |query: &str| {
        let (status, page) = app.send(Method::GET, &format!("/images/search?{query}"), Some(&alice), None, vec![]).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        page["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(found("place=LISBON").await, [lisbon.as_str()]);
    // Newest first: ids are ULIDs (two made in one millisecond sort by their random part).
    let mut portugal = vec![porto.clone(), lisbon.clone()];
    portugal.sort_by(|a, b| b.cmp(a));
    assert_eq!(found("place=portugal").await, portugal);
    assert_eq!(found("place=S%C3%A3o%20Paulo").await, [sao_paulo.as_str()], "accents folded");
    assert_eq!(found("place=portugal&label=tram").await, [lisbon.as_str()]);
    assert_eq!(found("place=portugal&place=porto").await, [porto.as_str()]);
    assert!(found("place=atlantis").await.is_empty());
    let (status, refused) = app.send(Method::GET, "/images/search?place=%20-%20", Some(&alice), None, vec![]).await;
    assert_eq!((status, code(&refused)), (StatusCode::BAD_REQUEST, "invalid_place"));
    // Another user finds none of them.
    let (_, theirs) = app.send(Method::GET, "/images/search?place=portugal", Some(&bob), None, vec![]).await;
    assert!(theirs["items"].as_array().unwrap().is_empty());

    let (status, places) = app.send(Method::GET, "/places", Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{places}");
    let countries: Vec<(&str, u64, usize)> = places["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|country| {
            (country["country"].as_str().unwrap(), country["photo_count"].as_u64().unwrap(), country["cities"].as_array().unwrap().len())
        })
        .collect();
    assert_eq!(countries, [("Portugal", 2, 2), ("Brazil", 1, 1)]);
    assert_eq!(places["countries"][0]["cover_image_id"], json!(portugal[0]), "the newest photo of the country");
    assert!(app.send(Method::GET, "/places", Some(&bob), None, vec![]).await.1["countries"].as_array().unwrap().is_empty());
    // Deleting a photo takes it out of its place's count.
    assert_eq!(app.send(Method::DELETE, &format!("/images/{porto}"), Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    let (_, places) = app.send(Method::GET, "/places", Some(&alice), None, vec![]).await;
    let portugal = places["countries"].as_array().unwrap().iter().find(|country| country["country_code"] == "PT").unwrap();
    assert_eq!((&portugal["photo_count"], &portugal["cities"][0]["city"]), (&json!(1), &json!("Lisbon")), "{places}");

    // Shared: no place until the owner allows it, then to about 100 m.
    let (_, made) = app.json(Method::POST, "/collections", Some(&alice), json!({"title": "Trip"})).await;
    let path = format!("/collections/{}", made["id"].as_str().unwrap());
    app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": [lisbon]})).await;
    app.json(Method::PUT, &format!("{path}/members/bob"), Some(&alice), json!({"role": "viewer"})).await;
    let shared = async || app.send(Method::GET, &format!("{path}/photos"), Some(&bob), None, vec![]).await.1["items"][0].clone();
    assert!(shared().await.get("place").is_none(), "{}", shared().await);
    let (_, changed) = app.json(Method::PATCH, &path, Some(&alice), json!({"show_places": true})).await;
    assert_eq!(changed["show_places"], json!(true));
    assert_eq!((&shared().await["place"]["lat"], &shared().await["place"]["lon"]), (&json!(38.722), &json!(-9.139)));
}

/// Albums come with their top category, and a label holding exactly another's photos names the
/// most specific one, which is shown in its place: one cat is one album, not five.
#[tokio::test]
async fn albums_are_grouped_by_category_and_labels_of_the_same_photos_shown_once() {
    use domain::{Analysis, ImageId, ImageStore, Label};
    let app = app();
    let alice = app.user("alice").await;
    let user = UserName::parse("alice").unwrap();
    let label = |name: &str| Label { name: name.into(), confidence: 90.0 };
    let analyse = async |names: &[&str]| {
        let id = ImageId::parse(app.upload(&alice).await.1["id"].as_str().unwrap()).unwrap();
        let record = app.images.get(&user, id).await.unwrap().unwrap();
        let analysis = Analysis { labels: names.iter().map(|name| label(name)).collect(), ..Analysis::default() };
        app.images.put_analysis(&record, &analysis).await.unwrap();
    };
    analyse(&["tabby cat", "cat", "feline", "pet", "mammal", "animal"]).await;
    // Two photos of espresso, one of them also a cup: "espresso" and "coffee" hold the same two.
    analyse(&["espresso", "coffee", "food"]).await;
    analyse(&["espresso", "coffee", "food", "cup"]).await;
    analyse(&["food", "pizza"]).await;
    let (status, listed) = app.send(Method::GET, "/albums", Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let album = |name: &str| listed["items"].as_array().unwrap().iter().find(|item| item["label"] == name).cloned().unwrap();
    for name in ["cat", "feline", "pet", "mammal", "animal"] {
        assert_eq!((&album(name)["same_as"], &album(name)["category"]), (&json!("tabby cat"), &json!("animals")), "{name}");
    }
    assert_eq!(album("tabby cat")["same_as"], Value::Null);
    assert_eq!((&album("coffee")["same_as"], &album("espresso")["same_as"]), (&json!("espresso"), &Value::Null));
    assert_eq!((&album("food")["same_as"], &album("food")["category"]), (&Value::Null, &json!("food")), "three photos, none other has");
    assert_eq!((&album("pizza")["same_as"], &album("cup")["same_as"]), (&Value::Null, &Value::Null), "one photo each, not the same");
    assert_eq!(album("cup")["category"], "things");
}

/// A link opens one collection to anyone with its URL, no account: its photos and nothing else,
/// with a password if it has one, the originals only if it allows them, until it expires (410),
/// is deleted or its collection is (404, at once). Its secret shows once and is kept hashed.
#[tokio::test]
async fn a_link_opens_its_collection_to_anyone_until_it_is_revoked_or_expires() {
    use domain::links::{Link, LinkSecret};
    use domain::{CollectionId, CollectionStore, LinkDirectory, LinkId};
    let app = app();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let shared_photo = app.upload(&alice).await.1["id"].as_str().unwrap().to_owned();
    let private_photo = app.upload(&alice).await.1["id"].as_str().unwrap().to_owned();
    let (_, made) = app.json(Method::POST, "/collections", Some(&alice), json!({"title": "Trip"})).await;
    let collection = made["id"].as_str().unwrap().to_owned();
    let path = format!("/collections/{collection}");
    app.json(Method::POST, &format!("{path}/photos"), Some(&alice), json!({"ids": [shared_photo]})).await;
    let links = format!("{path}/links");

    // Only the owner makes links; bad settings are named 400s.
    assert_eq!(app.json(Method::POST, &links, Some(&bob), json!({})).await.0, StatusCode::NOT_FOUND);
    app.json(Method::PUT, &format!("{path}/members/bob"), Some(&alice), json!({"role": "viewer"})).await;
    assert_eq!(code(&app.json(Method::POST, &links, Some(&bob), json!({})).await.1), "not_owner");
    assert_eq!(code(&app.send(Method::GET, &links, Some(&bob), None, vec![]).await.1), "not_owner");
    for (body, expected) in [
        (json!({"expires_in_days": 0}), "invalid_expiry"),
        (json!({"expires_in_days": 366}), "invalid_expiry"),
        (json!({"password": "short"}), "invalid_password"),
        (json!({"secret": "mine"}), "invalid_request"),
    ] {
        let (status, reply) = app.json(Method::POST, &links, Some(&alice), body.clone()).await;
        assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, expected), "{body}");
    }

    let (status, link) = app.json(Method::POST, &links, Some(&alice), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap();
    let secret = url.rsplit_once("/shared/").unwrap().1.to_owned();
    assert!(secret.len() >= 22, "{url}: fewer than 128 bits");
    assert_eq!((&link["expires_at"], &link["has_password"], &link["allow_download"]), (&Value::Null, &json!(false), &json!(false)));
    // Listed without its URL; kept only as a digest.
    let (_, listed) = app.send(Method::GET, &links, Some(&alice), None, vec![]).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&secret), "the secret was shown again: {listed}");
    let stored = app
        .images
        .link(
            &UserName::parse("alice").unwrap(),
            CollectionId::parse(&collection).unwrap(),
            LinkId::parse(link["id"].as_str().unwrap()).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.secret_digest, LinkSecret::parse(&secret).unwrap().digest());
    assert!(!format!("{stored:?}").contains(&secret));

    // Anyone: the collection's photos, with dates and labels, no people, text or originals.
    let shared = format!("/shared/{secret}");
    let (status, page) = app.send(Method::GET, &format!("{shared}/photos"), None, None, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [shared_photo.as_str()]);
    assert_eq!((&page["collection"]["title"], &page["collection"]["photo_count"]), (&json!("Trip"), &json!(1)));
    for hidden in ["faces", "text", "download_url"] {
        assert!(page["items"][0].get(hidden).is_none(), "{hidden} shown: {page}");
    }
    assert_eq!(app.send(Method::GET, &shared, None, None, vec![]).await.0, StatusCode::OK);
    // A session token opens no link, and a link's secret no account's data.
    assert_eq!(app.send(Method::GET, &format!("/images/{private_photo}"), Some(&secret), None, vec![]).await.0, StatusCode::UNAUTHORIZED);
    for other in [LinkSecret::generate().unwrap().expose().to_owned(), "x".into(), format!("{secret}x"), "..%2f..".into()] {
        for target in [format!("/shared/{other}/photos"), format!("/shared/{other}")] {
            assert_eq!(app.send(Method::GET, &target, None, None, vec![]).await.0, StatusCode::NOT_FOUND, "{target}");
        }
    }

    // Where the owner shows people and the link allows downloads.
    app.json(Method::PATCH, &path, Some(&alice), json!({"show_people": true})).await;
    let (_, open) = app.json(Method::POST, &links, Some(&alice), json!({"allow_download": true, "expires_in_days": 7})).await;
    let open_secret = open["url"].as_str().unwrap().rsplit_once("/shared/").unwrap().1.to_owned();
    assert!(open["expires_at"].is_string(), "{open}");
    let (_, page) = app.send(Method::GET, &format!("/shared/{open_secret}/photos"), None, None, vec![]).await;
    let item = &page["items"][0];
    assert!(item["download_url"].as_str().unwrap().contains(&format!("alice/{shared_photo}")), "{item}");
    assert_eq!((&item["faces"], &item["text"]), (&json!([]), &json!([])));

    // With a password: asked first, throttled like sign-in, its token for this link only.
    let (_, locked) = app.json(Method::POST, &links, Some(&alice), json!({"password": "open sesame"})).await;
    let locked_secret = locked["url"].as_str().unwrap().rsplit_once("/shared/").unwrap().1.to_owned();
    let locked_photos = format!("/shared/{locked_secret}/photos");
    let sessions = format!("/shared/{locked_secret}/sessions");
    assert_eq!(app.send(Method::GET, &locked_photos, None, None, vec![]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.json(Method::POST, &sessions, None, json!({"password": "open barley"})).await.0, StatusCode::UNAUTHORIZED);
    let (status, session) = app.json(Method::POST, &sessions, None, json!({"password": "open sesame"})).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let token = session["token"].as_str().unwrap();
    assert_eq!(app.send(Method::GET, &locked_photos, Some(token), None, vec![]).await.0, StatusCode::OK);
    assert_eq!(app.send(Method::GET, "/users/me", Some(token), None, vec![]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&app.json(Method::POST, &format!("{shared}/sessions"), None, json!({"password": "anything"})).await.1), "no_password");
    for _ in 0..5 {
        assert_eq!(app.json(Method::POST, &sessions, None, json!({"password": "wrong guess"})).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, reply) = app.json(Method::POST, &sessions, None, json!({"password": "open sesame"})).await;
    assert_eq!((status, code(&reply)), (StatusCode::TOO_MANY_REQUESTS, "too_many_sign_ins"));

    // Expired: 410 while its item is kept.
    let alice_name = UserName::parse("alice").unwrap();
    let expired_secret = LinkSecret::generate().unwrap();
    let expired = Link {
        id: LinkId::new(),
        owner: alice_name.clone(),
        collection: CollectionId::parse(&collection).unwrap(),
        secret_digest: expired_secret.digest(),
        created_at: time::OffsetDateTime::now_utc() - time::Duration::days(8),
        expires_at: Some(time::OffsetDateTime::now_utc() - time::Duration::days(1)),
        password_hash: None,
        allow_download: false,
    };
    app.images.put_link(&expired).await.unwrap();
    app.users.put_link_target(&expired.secret_digest, &expired.target(), expired.kept_until()).await.unwrap();
    let (status, reply) = app.send(Method::GET, &format!("/shared/{}/photos", expired_secret.expose()), None, None, vec![]).await;
    assert_eq!((status, code(&reply)), (StatusCode::GONE, "link_expired"));
    assert_eq!(app.send(Method::GET, &format!("/shared/{}", expired_secret.expose()), None, None, vec![]).await.0, StatusCode::GONE);

    // Revoked: refused at once; a second revocation finds nothing.
    let revoke = format!("{links}/{}", link["id"].as_str().unwrap());
    assert_eq!(app.send(Method::DELETE, &revoke, Some(&bob), None, vec![]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.send(Method::DELETE, &revoke, Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &format!("{shared}/photos"), None, None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::DELETE, &revoke, Some(&alice), None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert!(app.users.link_target(&LinkSecret::parse(&secret).unwrap().digest()).await.unwrap().is_none());
    // The collection deleted: every link of it refused, their stack-wide items gone.
    assert_eq!(app.send(Method::DELETE, &path, Some(&alice), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &format!("/shared/{open_secret}/photos"), None, None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::GET, &locked_photos, Some(token), None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert!(app.users.link_target(&LinkSecret::parse(&open_secret).unwrap().digest()).await.unwrap().is_none());
    // The owner's account removed: its links open nothing, and leave no stack-wide item.
    let (_, again) = app.json(Method::POST, "/collections", Some(&alice), json!({"title": "Again"})).await;
    let (_, last) = app.json(Method::POST, &format!("/collections/{}/links", again["id"].as_str().unwrap()), Some(&alice), json!({})).await;
    let last_secret = last["url"].as_str().unwrap().rsplit_once("/shared/").unwrap().1.to_owned();
    assert_eq!(app.send(Method::GET, &format!("/shared/{last_secret}/photos"), None, None, vec![]).await.0, StatusCode::OK);
    let (status, _) = app.json(Method::DELETE, "/users/me", Some(&alice), json!({"password": "correct horse battery staple"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.send(Method::GET, &format!("/shared/{last_secret}/photos"), None, None, vec![]).await.0, StatusCode::NOT_FOUND);
    assert!(app.users.link_target(&LinkSecret::parse(&last_secret).unwrap().digest()).await.unwrap().is_none());
}

/// Merging persons and moving faces, over the memory store: the persons and the photos'
/// faces change together; bad requests are 400s, other users' ids 404s.
#[tokio::test]
async fn persons_merge_and_faces_move_on_the_users_word() {
    use domain::{Analysis, FoundFace, ImageId, ImageStore, PhotoRegion, UserName};
    let app = app();
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let user = UserName::parse("alice").unwrap();
    // Two photos, one face each, far apart: two persons.
    let mut photos = Vec::new();
    for offset in [0.0, 5.0] {
        let (_, reply) = app.upload(&alice).await;
        let id = ImageId::parse(reply["id"].as_str().unwrap()).unwrap();
        let face = FoundFace::described(PhotoRegion { left: 0.1, top: 0.1, width: 0.3, height: 0.3 }, 0.9, vec![offset; 128]);
        let persons = app.images.group_faces(&user, id, std::slice::from_ref(&face), &[true], 0.4).await.unwrap().persons;
        app.images
            .put_analysis(
                &app.images.get(&user, id).await.unwrap().unwrap(),
                &Analysis { faces: vec![face], persons, ..Analysis::default() },
            )
            .await
            .unwrap();
        photos.push(id);
    }
    let person_of = |id: ImageId| {
        let app = &app;
        let alice = alice.clone();
        async move {
            app.send(Method::GET, &format!("/images/{id}"), Some(&alice), None, vec![]).await.1["faces"][0]["person_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (first, second) = (person_of(photos[0]).await, person_of(photos[1]).await);
    assert_ne!(first, second);

    let merge = |token: String, into: String, from: Value| {
        let app = &app;
        async move { app.json(Method::POST, &format!("/persons/{into}/merge"), Some(&token), json!({"from": from})).await }
    };
    for (from, expected) in [
        (json!([first]), "invalid_merge"),
        (json!([]), "invalid_merge"),
        (json!(["x/../y"]), "invalid_person_id"),
        (json!("one"), "invalid_request"),
    ] {
        let (status, reply) = merge(alice.clone(), first.clone(), from.clone()).await;
        assert_eq!((status, code(&reply)), (StatusCode::BAD_REQUEST, expected), "{from}");
    }
    assert_eq!(merge(mallory.clone(), first.clone(), json!([second])).await.0, StatusCode::NOT_FOUND);
    let (status, merged) = merge(alice.clone(), first.clone(), json!([second, second])).await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!((merged["face_count"].as_u64(), merged["photo_count"].as_u64()), (Some(2), Some(2)));
    assert_eq!(person_of(photos[1]).await, first);
    let (status, _) = app.send(Method::GET, &format!("/persons/{second}"), Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let face = format!("{}-0", photos[1]);
    let put = |token: String, face: String, body: Value| {
        let app = &app;
        async move { app.json(Method::PUT, &format!("/faces/{face}"), Some(&token), body).await }
    };
    for (face, body, status, expected) in [
        (face.clone(), json!({}), StatusCode::BAD_REQUEST, "invalid_request"),
        (face.clone(), json!({"person_id": null, "extra": 1}), StatusCode::BAD_REQUEST, "invalid_request"),
        ("nothing-0".to_owned(), json!({"person_id": null}), StatusCode::BAD_REQUEST, "invalid_face_id"),
        (format!("{}-1", photos[1]), json!({"person_id": null}), StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (got, reply) = put(alice.clone(), face.clone(), body.clone()).await;
        assert_eq!((got, code(&reply)), (status, expected), "{face} {body}");
    }
    assert_eq!(put(mallory.clone(), face.clone(), json!({"person_id": null})).await.0, StatusCode::NOT_FOUND);
    let (status, moved) = put(alice.clone(), face.clone(), json!({"person_id": null})).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let alone = moved["person_id"].as_str().unwrap().to_owned();
    assert_ne!(alone, first);
    assert_eq!(person_of(photos[1]).await, alone);
    let (_, listed) = app.send(Method::GET, "/persons", Some(&alice), None, vec![]).await;
    let counts: Vec<u64> = listed["persons"].as_array().unwrap().iter().map(|person| person["face_count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 1]);
    // Back into the first person: the one it leaves has no face left and goes.
    let (status, _) = put(alice.clone(), face.clone(), json!({"person_id": first})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.send(Method::GET, &format!("/persons/{alone}"), Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Its cover's photo deleted, a person with faces left takes the face of another photo.
    let (status, _) = app.send(Method::DELETE, &format!("/images/{}", photos[0]), Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, person) = app.send(Method::GET, &format!("/persons/{first}"), Some(&alice), None, vec![]).await;
    assert_eq!(person["face_count"], 1);
    assert!(person["cover_url"].as_str().is_some_and(|url| url.contains(&format!("{}/face-0.jpg", photos[1]))), "{person}");
}

/// Where the engine keeps faces, deleting a photo deletes its faces there, and deleting the
/// account deletes the user's collection.
#[tokio::test]
async fn deletions_reach_the_engines_face_collection() {
    use domain::{Analysis, FoundFace, ImageId, ImageStore, PhotoRegion};
    let app = app();
    let alice = app.user("alice").await;
    let user = UserName::parse("alice").unwrap();
    let (_, reply) = app.upload(&alice).await;
    let id = ImageId::parse(reply["id"].as_str().unwrap()).unwrap();
    let face = FoundFace {
        engine_id: Some("rekognition-face".into()),
        ..FoundFace::described(PhotoRegion { left: 0.1, top: 0.1, width: 0.3, height: 0.3 }, 0.9, Vec::new())
    };
    app.images
        .put_analysis(&app.images.get(&user, id).await.unwrap().unwrap(), &Analysis { faces: vec![face], ..Analysis::default() })
        .await
        .unwrap();
    let (status, _) = app.send(Method::DELETE, &format!("/images/{id}"), Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.json(Method::DELETE, "/users/me", Some(&alice), json!({"password": "correct horse battery staple"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(*app.collections.0.lock().unwrap(), ["faces of alice: rekognition-face", "collection of alice"]);
}

#[tokio::test]
async fn signing_out_ends_that_session_only() {
    let app = app();
    let first = app.user("sam").await;
    let second = app.sign_in("sam", "correct horse battery staple").await;
    assert_eq!(app.send(Method::DELETE, "/sessions/current", Some(&first), None, vec![]).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.json(Method::GET, "/users/me", Some(&first), json!({})).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.send(Method::DELETE, "/sessions/current", Some(&first), None, vec![]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.json(Method::GET, "/users/me", Some(&second), json!({})).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_token_never_opens_another_account_that_takes_the_name() {
    let app = app();
    let first = app.user("nia").await;
    let (status, body) = app.json(Method::DELETE, "/users/me", Some(&first), json!({"password": "correct horse battery staple"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let second = app.user("nia").await;
    assert_eq!(app.json(Method::GET, "/users/me", Some(&second), json!({})).await.0, StatusCode::OK);
    assert_eq!(app.json(Method::GET, "/users/me", Some(&first), json!({})).await.0, StatusCode::UNAUTHORIZED);
    // Even a session the first account had that the store somehow kept: the account id differs.
    let name = UserName::parse("nia").unwrap();
    let signer = TokenSigner::new([7; 32]);
    let session = domain::SessionId::new();
    let generation = app.users.get(&name).await.unwrap().unwrap().token_generation;
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    app.users.start_session(&name, session, expires).await.unwrap();
    let (forged, _) = signer.issue(&name, domain::AccountId::new(), session, generation, time::OffsetDateTime::now_utc()).unwrap();
    assert_eq!(app.json(Method::GET, "/users/me", Some(&forged), json!({})).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deleting_the_account_needs_its_password() {
    let app = app();
    let token = app.user("del").await;
    let (status, body) = app.send(Method::DELETE, "/users/me", Some(&token), None, vec![]).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "password_required"), "{body}");
    let (status, body) = app.json(Method::DELETE, "/users/me", Some(&token), json!({})).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "password_required"), "{body}");
    let (status, body) = app.json(Method::DELETE, "/users/me", Some(&token), json!({"password": "not the password at all"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = app.send(Method::DELETE, "/users/me", Some(&token), Some("application/json"), b"{\"password\":".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(app.json(Method::GET, "/users/me", Some(&token), json!({})).await.0, StatusCode::OK, "a refused deletion changed something");
    let (status, body) = app.json(Method::DELETE, "/users/me", Some(&token), json!({"password": "correct horse battery staple"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(app.json(Method::GET, "/users/me", Some(&token), json!({})).await.0, StatusCode::UNAUTHORIZED);
}

/// Ops change an account's status the way `deployer tenant suspend/resume/move` does.
async fn set_status(app: &App, name: &str, status: AccountStatus) {
    let name = UserName::parse(name).unwrap();
    let user = app.users.get(&name).await.unwrap().unwrap();
    app.users.change(&name, &AccountChange::Status { to: status }, Precondition::Status(user.status)).await.unwrap();
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_at_the_first_sign_in() {
    let app = app();
    let one_time = accounts::one_time_password("olga").unwrap();
    let account = NewAccount { user_name: "olga", email: "olga@example.org", first_name: "O", last_name: "P" };
    let user = account.record(one_time.clone(), Some(PasswordOrigin::ONE_TIME_LIFETIME)).await.unwrap();
    app.users.create(&user).await.unwrap();

    let sign_in = |password: &str, new_password: Option<&str>| {
        let mut body = json!({"user_name": "olga", "password": password});
        if let Some(new_password) = new_password {
            body["new_password"] = json!(new_password);
        }
        app.json(Method::POST, "/sessions", None, body)
    };
    let (status, body) = sign_in(&one_time, None).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "password_change_required"), "{body}");
    assert!(body.get("token").is_none());
    let (status, body) = sign_in("not the password", Some("my own passphrase")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = sign_in(&one_time, Some("short")).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "weak_password"), "{body}");

    let (status, body) = sign_in(&one_time, Some("my own passphrase")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.json(Method::GET, "/users/me", Some(&token), json!({})).await.0, StatusCode::OK);
    assert_eq!(sign_in(&one_time, None).await.0, StatusCode::UNAUTHORIZED, "the one-time password still works");
    assert_eq!(sign_in("my own passphrase", None).await.0, StatusCode::CREATED);
    let (status, body) = sign_in("my own passphrase", Some("yet another passphrase")).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid_request"), "{body}");
    let stored = app.users.get(&UserName::parse("olga").unwrap()).await.unwrap().unwrap();
    assert!(stored.password == PasswordOrigin::Chosen && stored.last_sign_in.is_some());
}

#[tokio::test]
async fn a_one_time_password_works_only_until_it_expires_and_ops_can_give_another() {
    let app = app();
    let (first, second) = (accounts::one_time_password("otto").unwrap(), accounts::one_time_password("otto").unwrap());
    let account = NewAccount { user_name: "otto", email: "otto@example.org", first_name: "O", last_name: "P" };
    // Handed over a day and a minute ago: its day is over.
    let mut user = account.record(first.clone(), Some(PasswordOrigin::ONE_TIME_LIFETIME)).await.unwrap();
    user.password = PasswordOrigin::OneTime { expires_at: time::OffsetDateTime::now_utc() - time::Duration::minutes(1) };
    app.users.create(&user).await.unwrap();
    let sign_in = |password: &str| {
        app.json(Method::POST, "/sessions", None, json!({"user_name": "otto", "password": password, "new_password": "my own passphrase"}))
    };
    let (status, body) = sign_in(&first).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "one_time_password_expired"), "{body}");
    // A wrong password learns nothing of it: 401 as ever.
    assert_eq!(sign_in("not the password").await.0, StatusCode::UNAUTHORIZED);
    // Ops give another (`deployer tenant reset-password`): it works, the expired one never again.
    let name = UserName::parse("otto").unwrap();
    let reset = AccountChange::OneTimePassword {
        hash: domain::password::hash(second.clone()).await.unwrap(),
        expires_at: time::OffsetDateTime::now_utc() + PasswordOrigin::ONE_TIME_LIFETIME,
    };
    app.users.change(&name, &reset, Precondition::Exists).await.unwrap();
    assert_eq!(sign_in(&first).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&second).await.0, StatusCode::CREATED);
}

/// Every operation of the document that a signed-in user calls, with its path ids filled in.
async fn user_operations(app: &App) -> Vec<(Method, String)> {
    let (_, document) = app.send(Method::GET, "/openapi.json", None, None, vec![]).await;
    let mut operations = Vec::new();
    for (path, methods) in document["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            let ops_only = operation["responses"].get("403").is_some_and(|r| r.to_string().contains("ops credential"));
            if operation.get("security").is_none() || ops_only {
                continue;
            }
            let path = path.replace("{id}", "01HZY2X3W4V5T6S7R8Q9P0N1M2") + if path.ends_with("/search") { "?label=cat" } else { "" };
            operations.push((method.to_uppercase().parse().unwrap(), path));
        }
    }
    assert!(operations.len() >= 15, "{operations:?}");
    operations
}

#[tokio::test]
async fn a_suspended_account_is_refused_everywhere_and_its_sessions_end() {
    let app = app();
    let token = app.user("sue").await;
    let (status, _) = app.upload(&token).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    set_status(&app, "sue", AccountStatus::Suspended).await;

    for (method, path) in user_operations(&app).await {
        let (status, body) = app.json(method.clone(), &path, Some(&token), json!({})).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "suspended"), "{method} {path}: {body}");
    }
    let (status, body) =
        app.json(Method::POST, "/sessions", None, json!({"user_name": "sue", "password": "correct horse battery staple"})).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "suspended"), "{body}");
    assert_eq!(app.photos.keys().len(), 1, "a suspension deleted something");

    set_status(&app, "sue", AccountStatus::Active).await;
    let (status, body) = app.json(Method::GET, "/images", Some(&token), json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a session from before the suspension came back: {body}");
    let token = app.sign_in("sue", "correct horse battery staple").await;
    let (status, body) = app.json(Method::GET, "/images", Some(&token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_moving_account_has_no_session_until_the_move_is_done() {
    let app = app();
    let token = app.user("moe").await;
    let (status, _) = app.upload(&token).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    set_status(&app, "moe", AccountStatus::Moving).await;
    for (method, path) in user_operations(&app).await {
        let (status, body) = app.json(method.clone(), &path, Some(&token), json!({})).await;
        assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "moving"), "{method} {path}: {body}");
    }
    let (status, body) =
        app.json(Method::POST, "/sessions", None, json!({"user_name": "moe", "password": "correct horse battery staple"})).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "moving"), "{body}");
    assert_eq!(app.photos.keys().len(), 1, "a move's start deleted something");
}

/// A JSON POST from `source` (as `smart-album serve` sees its peer), with the response's headers.
async fn post_from(app: &App, source: [u8; 4], path: &str, body: Value) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::post(path).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap();
    request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((source, 40000))));
    let response = app.router.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn wrong_passwords_make_a_name_wait_whatever_the_password_and_whether_or_not_it_exists() {
    let app = app();
    app.user("tom").await;
    let right = "correct horse battery staple";
    let attempt = |name: &'static str, password: &'static str| {
        let app = &app;
        async move { post_from(app, [198, 51, 100, 1], "/sessions", json!({"user_name": name, "password": password})).await }
    };
    for _ in 0..4 {
        assert_eq!(attempt("tom", "wrong guess").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt("tom", right).await.0, StatusCode::CREATED, "four failures do not lock");
    // The success forgot them: five more before the name waits.
    for _ in 0..5 {
        assert_eq!(attempt("tom", "wrong guess").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = attempt("tom", right).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "too_many_sign_ins"), "the right password passed a lock: {body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry_after), "Retry-After {retry_after}");
    // A name without an account answers the same, so a lock tells nothing of who exists.
    for _ in 0..5 {
        assert_eq!(attempt("nobody", "wrong guess").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(code(&attempt("nobody", "wrong guess").await.2), "too_many_sign_ins");
    // Each failure after the lock waits twice as long, up to 15 minutes; then the right
    // password passes and forgets them (the store's clock, moved on by hand).
    let tom = UserName::parse("tom").unwrap();
    let mut now = app.users.failures(Guessed::Account(&tom)).await.unwrap().unwrap().last_ms;
    let mut waits = Vec::new();
    for _ in 0..6 {
        now = app.users.failures(Guessed::Account(&tom)).await.unwrap().unwrap().locked_until_ms.unwrap();
        waits.push(app.users.add_failure(Guessed::Account(&tom), now).await.unwrap().wait(now).unwrap().as_secs());
    }
    assert_eq!(waits, [60, 120, 240, 480, 900, 900]);
    assert!(app.users.failures(Guessed::Account(&tom)).await.unwrap().unwrap().wait(now + 900_000).is_none());
}

#[tokio::test]
async fn one_address_signs_up_and_signs_in_only_so_often_an_hour() {
    let mut limits = settings(Limit::AtMost(1000), 10 * 1024 * 1024);
    limits.per_source = SourceLimits { sign_ins_per_hour: 3, sign_ups_per_hour: 2 };
    let app = app_with(limits);
    let sign_up = |name: &str| {
        json!({"user_name": name, "email": format!("{name}@example.org"), "first_name": "A", "last_name": "B",
            "password": "correct horse battery staple"})
    };
    let office = [203, 0, 113, 7];
    assert_eq!(post_from(&app, office, "/users", sign_up("una")).await.0, StatusCode::CREATED);
    assert_eq!(post_from(&app, office, "/users", sign_up("ulf")).await.0, StatusCode::CREATED);
    let (status, headers, body) = post_from(&app, office, "/users", sign_up("uma")).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "too_many_from_source"), "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(app.users.get(&UserName::parse("uma").unwrap()).await.unwrap().is_none(), "a refused sign-up made the account");
    assert_eq!(post_from(&app, [203, 0, 113, 8], "/users", sign_up("uma")).await.0, StatusCode::CREATED, "another address");
    // Sign-ins across names: three an hour from the office, whatever the names.
    let sign_in = |name: &str| json!({"user_name": name, "password": "correct horse battery staple"});
    for name in ["una", "ulf", "someone"] {
        assert_ne!(post_from(&app, office, "/sessions", sign_in(name)).await.0, StatusCode::TOO_MANY_REQUESTS);
    }
    let (status, _, body) = post_from(&app, office, "/sessions", sign_in("una")).await;
    assert_eq!((status, code(&body)), (StatusCode::TOO_MANY_REQUESTS, "too_many_from_source"));
    assert_eq!(post_from(&app, [203, 0, 113, 8], "/sessions", sign_in("una")).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn answers_with_tokens_or_photo_urls_are_never_cached_and_https_is_asked_for() {
    let app = app();
    app.user("cora").await;
    let request = Request::post("/sessions")
        .header("content-type", "application/json")
        .body(Body::from(json!({"user_name": "cora", "password": "correct horse battery staple"}).to_string()))
        .unwrap();
    let signed_in = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::CREATED);
    assert_eq!(signed_in.headers()["cache-control"], "no-store", "a token must not stay in a cache");
    assert!(signed_in.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    let refused = app.router.clone().oneshot(Request::get("/images").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(refused.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_gallery_is_served_with_its_policy_and_photos_carry_their_renditions() {
    let app = app();
    let (status, _) = app.send(Method::GET, "/", None, None, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let page = app.router.clone().oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'self';") && policy.contains("memory://photos"), "{policy}");
    let html = axum::body::to_bytes(page.into_body(), usize::MAX).await.unwrap();
    let html = String::from_utf8_lossy(&html);
    assert!(html.contains("src=\"app.js\"") && !html.contains("<script>"), "no inline script");
    for file in ["/app.js", "/api.js", "/grid.js", "/viewer.js", "/views.js", "/upload.js", "/style.css"] {
        assert_eq!(app.send(Method::GET, file, None, None, vec![]).await.0, StatusCode::OK, "{file}");
    }
    // The API is unchanged beside it: an unknown path is still a JSON 404.
    let (status, body) = app.send(Method::GET, "/nothing-here", None, None, vec![]).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    let token = app.user("gail").await;
    let (_, accepted) = app.upload(&token).await;
    let id = accepted["id"].as_str().unwrap().to_owned();
    let (_, listed) = app.json(Method::GET, "/images", Some(&token), json!({})).await;
    assert!(listed["items"][0]["thumbnail_url"].is_null(), "no thumbnail before the analysis made it");
    assert_eq!((listed["items"][0]["width"].as_u64(), listed["items"][0]["height"].as_u64()), (Some(451), Some(300)));
    let user = UserName::parse("gail").unwrap();
    let analysis =
        Analysis { labels: vec![Label { name: "cat".into(), confidence: 90.0 }], color: Some("#806040".into()), ..Analysis::default() };
    app.images.put_analysis(&app.images.get(&user, ImageId::parse(&id).unwrap()).await.unwrap().unwrap(), &analysis).await.unwrap();
    let (_, listed) = app.json(Method::GET, "/images", Some(&token), json!({})).await;
    let item = &listed["items"][0];
    assert_eq!(item["color"], "#806040");
    assert!(item["thumbnail_url"].as_str().unwrap().contains(&format!("gail/{id}/thumbnail.webp")), "{item}");
    let (_, found) = app.json(Method::GET, "/images/search?label=cat", Some(&token), json!({})).await;
    assert_eq!(found["items"][0]["color"], "#806040");
    assert!(found["items"][0]["thumbnail_url"].is_string(), "{found}");
    let (_, view) = app.json(Method::GET, &format!("/images/{id}"), Some(&token), json!({})).await;
    assert!(view["preview_url"].as_str().unwrap().contains(&format!("gail/{id}/preview.jpg")), "{view}");
}

#[tokio::test]
async fn a_tenant_over_its_rate_gets_429_while_another_is_served() {
    let mut tier = settings(Limit::AtMost(1000), 10 * 1024 * 1024);
    tier.requests = Some(RequestLimits { per_second: 1, burst: 3, per_day: 1000 });
    let app = app_with(tier);
    let (noisy, quiet) = (app.user("noisy").await, app.user("quiet").await);
    for _ in 0..3 {
        assert_eq!(app.send(Method::GET, "/images", Some(&noisy), None, vec![]).await.0, StatusCode::OK);
    }
    let request = Request::get("/images").header("authorization", format!("Bearer {noisy}")).body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1).contains(&retry_after), "Retry-After: {retry_after}");
    let body: Value = serde_json::from_slice(&axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap();
    assert_eq!(code(&body), "rate_limited");
    // The other tenant, at the same moment, is served; so are sign-ins (not a tenant's call).
    assert_eq!(app.send(Method::GET, "/images", Some(&quiet), None, vec![]).await.0, StatusCode::OK);
    assert_eq!(app.send(Method::GET, "/health", None, None, vec![]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_tenant_over_its_daily_quota_waits_for_utc_midnight() {
    let mut tier = settings(Limit::AtMost(1000), 10 * 1024 * 1024);
    tier.requests = Some(RequestLimits { per_second: 100, burst: 100, per_day: 2 });
    let app = app_with(tier);
    let token = app.user("daily").await;
    for _ in 0..2 {
        assert_eq!(app.send(Method::GET, "/users/me", Some(&token), None, vec![]).await.0, StatusCode::OK);
    }
    let request = Request::get("/users/me").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: i64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let to_midnight = 86_400 - i64::from(now.hour()) * 3600 - i64::from(now.minute()) * 60 - i64::from(now.second());
    assert!((to_midnight - 2..=to_midnight + 1).contains(&retry_after), "{retry_after} vs {to_midnight}");
}

/// The served document states what the handlers check (schemathesis holds the API to it in
/// tests/tests/schema.rs); the completions land where they belong and invent nothing.
#[tokio::test]
async fn the_openapi_document_states_the_real_formats() {
    let app = app();
    let (status, document) = app.send(Method::GET, "/openapi.json", None, None, vec![]).await;
    assert_eq!(status, StatusCode::OK);
    let persons = &document["paths"]["/persons"]["get"];
    let limit = persons["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!((limit["in"].as_str(), &limit["schema"]["minimum"], &limit["schema"]["maximum"]), (Some("query"), &json!(1), &json!(100)));
    assert!(persons["responses"]["429"]["headers"]["Retry-After"].is_object(), "{persons}");
    assert_eq!(persons["responses"]["401"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Error");
    let image = &document["paths"]["/images/{id}"]["get"]["parameters"][0]["schema"]["pattern"];
    assert_eq!(ImageId::parse(&"0".repeat(26)).is_ok(), regex_like_ulid(image.as_str().unwrap()));
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["SignUp"]["properties"]["user_name"]["maxLength"], 32);
    assert_eq!(schemas["StartUpload"]["properties"]["content_type"]["enum"], json!(["image/jpeg", "image/png", "image/webp"]));
    assert_eq!(schemas["UpdateAccount"]["additionalProperties"], false);
    for (name, schema) in schemas.as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            assert!(!property.is_null(), "{name}.{field} was invented by a completion");
        }
    }
}

/// The ULID pattern the document states, checked on the id the API would accept.
fn regex_like_ulid(pattern: &str) -> bool {
    pattern == "^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
}

/// Time: `taken_from` / `taken_to` at their edges, on the user's clock (`tz`) for photos placed
/// at their upload, paged newest taken first and combined with labels; memories of earlier
/// years on today's date; bad ranges and zones refused with a clear 400.
#[tokio::test]
async fn photos_are_found_by_when_they_were_taken_and_remembered_on_this_day() {
    use domain::{ImageRecord, ImageStatus};
    use time::macros::datetime;
    use time::{Duration, OffsetDateTime};
    let app = app();
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let user = UserName::parse("alice").unwrap();
    let quotas = QuotaSettings { photos_per_user: Limit::Unlimited, bytes_per_user: Limit::Unlimited, max_photo_bytes: 1 << 20 };
    // Analysed photos taken at `taken_at` (EXIF) or, without it, uploaded at `created_at`.
    let photo = async |taken_at: Option<&str>, created_at: OffsetDateTime, label: &str| {
        let record = ImageRecord {
            taken_at: taken_at.map(str::to_owned),
            created_at,
            size: 1,
            labels: vec![Label { name: label.into(), confidence: 90.0 }],
            ..ImageRecord::new(&user, ImageStatus::Ready, "image/png")
        };
        app.images.create(&record, &quotas).await.unwrap();
        record.id.to_string()
    };
    let uploaded = datetime!(2020-01-01 00:00 UTC);
    let before = photo(Some("2019-05-31T23:59:59"), uploaded, "beach").await;
    let first = photo(Some("2019-06-01T00:00:00"), uploaded, "beach").await;
    let last = photo(Some("2019-06-30T23:59:59"), uploaded, "city").await;
    let after = photo(Some("2019-07-01T00:00:00"), uploaded, "beach").await;
    // No EXIF date: 23:30 UTC on June 30th is 00:30 on July 1st in Lisbon, 19:30 in New York.
    let late = photo(None, datetime!(2019-06-30 23:30 UTC), "beach").await;

    let search = async |query: &str| {
        let (status, page) = app.send(Method::GET, &format!("/images/search?{query}"), Some(&alice), None, vec![]).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        page
    };
    let ids =
        |page: &Value| page["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let owned = |ids: &[&String]| ids.iter().map(|id| (*id).clone()).collect::<Vec<String>>();
    let june = "taken_from=2019-06-01&taken_to=2019-06-30";
    assert_eq!(ids(&search(june).await), owned(&[&last, &late, &first]), "newest taken first, the edges included");
    assert_eq!(ids(&search(&format!("{june}&tz=Europe/Lisbon")).await), owned(&[&last, &first]), "July 1st in Lisbon");
    assert_eq!(ids(&search(&format!("{june}&tz=America/New_York")).await), owned(&[&last, &late, &first]));
    assert_eq!(ids(&search(&format!("{june}&label=beach")).await), owned(&[&late, &first]));
    assert_eq!(ids(&search("taken_from=2019-06-30T23:59:59").await), owned(&[&after, &last]));
    assert_eq!(ids(&search("taken_to=2019-06-01T00:00:00%2B00:00").await), owned(&[&first, &before]), "an instant, on the UTC clock");
    assert_eq!(search(june).await["items"][0]["taken_at"], json!("2019-06-30T23:59:59"));
    // One at a time, through the cursors.
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let query = format!("{june}&limit=1{}", cursor.as_ref().map(|cursor| format!("&cursor={cursor}")).unwrap_or_default());
        let page = search(&query).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, owned(&[&last, &late, &first]));
    assert!(ids(&app.send(Method::GET, &format!("/images/search?{june}"), Some(&bob), None, vec![]).await.1).is_empty());
    for (query, refused) in [
        ("taken_from=2019-07-01&taken_to=2019-06-01", "invalid_taken_range"),
        ("taken_from=yesterday", "invalid_taken_from"),
        ("taken_to=2019-02-29", "invalid_taken_to"),
        ("taken_from=2019-06-01&tz=Mars/Olympus", "invalid_tz"),
    ] {
        let (status, body) = app.send(Method::GET, &format!("/images/search?{query}"), Some(&alice), None, vec![]).await;
        assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, refused), "{query}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("taken") || refused == "invalid_tz", "{body}");
    }

    // Memories: a day a year ago (365 days are within a day of it, leap years or not), two
    // years ago, and neither this year nor a day too far.
    let today = OffsetDateTime::now_utc();
    let clock = |at: OffsetDateTime| format!("{:04}-{:02}-{:02}T12:00:00", at.year(), u8::from(at.month()), at.day());
    let a_year_ago = photo(Some(&clock(today - Duration::days(365))), today, "cake").await;
    let two_years_ago = photo(Some(&clock(today - Duration::days(730))), today, "cake").await;
    photo(Some(&clock(today - Duration::days(365 + 40))), today, "cake").await;
    photo(Some(&clock(today)), today, "cake").await;
    let (status, remembered) = app.send(Method::GET, "/memories?tz=UTC", Some(&alice), None, vec![]).await;
    assert_eq!(status, StatusCode::OK, "{remembered}");
    let photos = |memory: &Value| {
        memory["photos"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let groups: Vec<(i64, Vec<String>)> =
        remembered["memories"].as_array().unwrap().iter().map(|memory| (memory["years_ago"].as_i64().unwrap(), photos(memory))).collect();
    assert_eq!(groups, [(1, vec![a_year_ago.clone()]), (2, vec![two_years_ago])], "{remembered}");
    let one = &remembered["memories"][0];
    assert_eq!(one["year"].as_i64().unwrap(), i64::from(today.year() - 1));
    let window = format!("taken_from={}&taken_to={}&tz=UTC", one["taken_from"].as_str().unwrap(), one["taken_to"].as_str().unwrap());
    assert_eq!(ids(&search(&window).await), [a_year_ago], "a memory's window is a search");
    assert_eq!(app.send(Method::GET, "/memories", Some(&alice), None, vec![]).await.1, remembered, "UTC by default");
    let (status, refused) = app.send(Method::GET, "/memories?tz=Nowhere/Atlantis", Some(&alice), None, vec![]).await;
    assert_eq!((status, code(&refused)), (StatusCode::BAD_REQUEST, "invalid_tz"));
    let (_, theirs) = app.send(Method::GET, "/memories?tz=UTC", Some(&bob), None, vec![]).await;
    assert_eq!(theirs, json!({"memories": []}));
}
