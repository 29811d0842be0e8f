//! The HTTP API through the router, against stacks the deployer put on the emulator, checked
//! with direct SDK calls: user lifecycle, uploads both ways, listing, search, deletion, tenant
//! isolation, bad input, quotas, the ops search, secrets in responses and logs, OpenAPI.

mod common;

use std::collections::BTreeSet;

use aws_adapters::DynamoImages;
use aws_adapters::TenantAccess;
use axum::http::{Method, StatusCode};
use common::api::{Api, captured_logs, fixture, http, png, put_as_ticket};
use common::policy::{Authorisation, allows};
use domain::{Analysis, ImageId, ImageStore, Label, UsageStore, UserName};
use futures::future::join_all;
use runtime::auth::token::TokenSigner;
use serde_json::json;

/// A request of the bad-input table: method, path, bearer token, content type, body.
type Request = (Method, String, Option<String>, &'static str, Vec<u8>);

fn label(name: &str) -> Label {
    Label { name: name.into(), confidence: 90.0 }
}

#[tokio::test]
async fn a_user_signs_up_signs_in_updates_changes_password_and_deletes_the_account() {
    let api = Api::deploy("CORE_USER", "API_LIFECYCLE", &[]).await;
    // A queue on NewUser, to see what is published.
    let queue = api.aws.sqs.create_queue().queue_name("lifecycle-new-users").send().await.unwrap().queue_url.unwrap();
    let queue_arn = api
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    api.aws.sns.subscribe().topic_arn(&api.config.new_user_topic_arn).protocol("sqs").endpoint(&queue_arn).send().await.unwrap();

    let password = "a long and private passphrase";
    let signup =
        json!({"user_name": "alice", "email": "alice@example.org", "first_name": "Alice", "last_name": "Liddell", "password": password});
    let created = api.call(Method::POST, "/users", None, Some(signup.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.raw);
    assert_eq!(created.body["user_name"], "alice");
    assert_eq!(created.body["tier"], "API_LIFECYCLE");
    assert!(!created.raw.contains(password) && !created.raw.contains("argon2"), "{}", created.raw);
    let again = api.call(Method::POST, "/users", None, Some(signup)).await;
    assert_eq!((again.status, again.error_code()), (StatusCode::CONFLICT, "user_name_taken"));

    let published = api.aws.sqs.receive_message().queue_url(&queue).wait_time_seconds(2).send().await.unwrap();
    let message = &published.messages.unwrap()[0];
    let envelope: serde_json::Value = serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
    let event: serde_json::Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(event["user_name"], "alice");
    assert_eq!(event["email"], "alice@example.org");
    assert!(!message.body.as_deref().unwrap().contains("argon2"), "NewUser carries a secret");

    let stored = api.user_items().await;
    let alice = stored.iter().find(|item| item["pk"].as_s().unwrap() == "alice").unwrap();
    let hash = alice["password_hash"].as_s().unwrap().clone();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let token = api.sign_in("alice", password).await;
    let wrong = api.call(Method::POST, "/sessions", None, Some(json!({"user_name": "alice", "password": "not the password"}))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let nobody = api.call(Method::POST, "/sessions", None, Some(json!({"user_name": "nobody", "password": "whatever at all"}))).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    assert_eq!(nobody.body, wrong.body, "the answer tells whether a user exists");

    let me = api.call(Method::GET, "/users/me", Some(&token), None).await;
    assert_eq!((me.status, me.body["first_name"].as_str()), (StatusCode::OK, Some("Alice")));

    let renamed =
        api.call(Method::PUT, "/users/me", Some(&token), Some(json!({"first_name": "Alicia", "email": "alicia@example.org"}))).await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.raw);
    assert_eq!(renamed.body["user"]["first_name"], "Alicia");
    assert_eq!(api.call(Method::GET, "/users/me", Some(&token), None).await.body["email"], "alicia@example.org");

    let no_current = api.call(Method::PUT, "/users/me", Some(&token), Some(json!({"new_password": "another long passphrase"}))).await;
    assert_eq!((no_current.status, no_current.error_code()), (StatusCode::BAD_REQUEST, "current_password_required"));
    let bad_current = api
        .call(
            Method::PUT,
            "/users/me",
            Some(&token),
            Some(json!({"new_password": "another long passphrase", "current_password": "wrong wrong wrong"})),
        )
        .await;
    assert_eq!(bad_current.status, StatusCode::UNAUTHORIZED);
    let changed = api
        .call(
            Method::PUT,
            "/users/me",
            Some(&token),
            Some(json!({"new_password": "another long passphrase", "current_password": password})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.raw);
    let new_token = changed.body["session"]["token"].as_str().unwrap().to_owned();
    assert_eq!(api.call(Method::GET, "/users/me", Some(&token), None).await.status, StatusCode::UNAUTHORIZED, "the old token still works");
    assert_eq!(api.call(Method::GET, "/users/me", Some(&new_token), None).await.status, StatusCode::OK);
    let old_password = api.call(Method::POST, "/sessions", None, Some(json!({"user_name": "alice", "password": password}))).await;
    assert_eq!(old_password.status, StatusCode::UNAUTHORIZED);

    // Signing out ends that session on the server, and only that one.
    let other_session = api.sign_in("alice", "another long passphrase").await;
    let signed_out = api.call(Method::DELETE, "/sessions/current", Some(&other_session), None).await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT, "{}", signed_out.raw);
    assert_eq!(api.call(Method::GET, "/users/me", Some(&other_session), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.call(Method::DELETE, "/sessions/current", Some(&other_session), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.call(Method::GET, "/users/me", Some(&new_token), None).await.status, StatusCode::OK);

    // Deleting the account takes its password: a stolen token alone cannot.
    let photo = api.upload(&new_token, "image/png", png(4, 4, 1)).await;
    let no_password = api.call(Method::DELETE, "/users/me", Some(&new_token), None).await;
    assert_eq!((no_password.status, no_password.error_code()), (StatusCode::FORBIDDEN, "password_required"), "{}", no_password.raw);
    let wrong_password = api.call(Method::DELETE, "/users/me", Some(&new_token), Some(json!({"password": password}))).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED, "{}", wrong_password.raw);
    assert_eq!(api.call(Method::GET, &format!("/images/{photo}"), Some(&new_token), None).await.status, StatusCode::OK);
    let deleted = api.call(Method::DELETE, "/users/me", Some(&new_token), Some(json!({"password": "another long passphrase"}))).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.raw);
    assert_eq!(api.call(Method::GET, "/users/me", Some(&new_token), None).await.status, StatusCode::UNAUTHORIZED);
    let gone = api.call(Method::POST, "/sessions", None, Some(json!({"user_name": "alice", "password": "another long passphrase"}))).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    // Nothing of alice is left: no profile, no session, no image items, no object.
    assert!(api.user_items().await.iter().all(|item| item["pk"].as_s().unwrap() != "alice"));
    assert!(api.image_items().await.is_empty(), "image items left: {:?}", api.image_items().await);
    assert!(api.object_keys().await.is_empty(), "objects left, e.g. alice/{photo}");

    // Someone else takes the name: the first alice's token opens nothing of theirs.
    let second_alice = api.user("alice").await;
    assert_eq!(api.call(Method::GET, "/users/me", Some(&second_alice), None).await.status, StatusCode::OK);
    assert_eq!(
        api.call(Method::GET, "/users/me", Some(&new_token), None).await.status,
        StatusCode::UNAUTHORIZED,
        "an old token opened the new alice"
    );
    api.tear_down().await;
}

#[tokio::test]
async fn photos_upload_both_ways_and_list_newest_first_over_pages() {
    let api = Api::deploy("CORE_USER", "API_UPLOADS", &[]).await;
    let token = api.user("bob").await;

    // In the body: a real photo.
    let cat = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    let view = api.call(Method::GET, &format!("/images/{cat}"), Some(&token), None).await;
    assert_eq!(view.status, StatusCode::OK);
    assert_eq!(view.body["status"], "pending");
    assert_eq!(view.body["content_type"], "image/png");
    assert_eq!((view.body["width"].as_u64(), view.body["height"].as_u64()), (Some(451), Some(300)));
    assert_eq!(view.body["size"].as_u64(), Some(fixture("chelsea.png").len() as u64));
    let (status, downloaded) = http(Method::GET, view.body["download_url"].as_str().unwrap(), &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(downloaded, fixture("chelsea.png"), "the download is not the upload");
    assert_eq!(api.object_keys().await, [format!("bob/{cat}")]);

    // Presigned: ticket, PUT to S3, complete.
    let photo = fixture("sample2.jpg");
    let ticket =
        api.call(Method::POST, "/images/uploads", Some(&token), Some(json!({"content_type": "image/jpeg", "size": photo.len()}))).await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.raw);
    let id = ticket.body["id"].as_str().unwrap();
    let early = api.call(Method::POST, &format!("/images/{id}/complete"), Some(&token), None).await;
    assert_eq!((early.status, early.error_code()), (StatusCode::CONFLICT, "upload_missing"));
    let listed_before = api.call(Method::GET, "/images", Some(&token), None).await;
    assert_eq!(listed_before.body["items"].as_array().unwrap().len(), 1, "an unfinished upload is listed");
    assert_eq!(put_as_ticket(&ticket.body, photo.clone()).await, StatusCode::OK);
    // Until completed, the object carries the tag the bucket's lifecycle rule expires it by.
    let tags = |key: String| api.aws.s3.get_object_tagging().bucket(&api.config.photo_bucket).key(key).send();
    let pending: Vec<(String, String)> =
        tags(format!("bob/{id}")).await.unwrap().tag_set.into_iter().map(|tag| (tag.key, tag.value)).collect();
    assert_eq!(pending, [("smart-album-upload".to_owned(), "pending".to_owned())]);
    // (The lifecycle rule itself is the template test's: the emulator does not apply lifecycle
    // rules from CloudFormation, nor expire anything.)
    let completed = api.call(Method::POST, &format!("/images/{id}/complete"), Some(&token), None).await;
    assert_eq!(completed.status, StatusCode::ACCEPTED, "{}", completed.raw);
    assert!(tags(format!("bob/{id}")).await.unwrap().tag_set.is_empty(), "a completed upload would expire");
    // A repeat (the first answer lost) answers as the first did and counts nothing twice.
    let twice = api.call(Method::POST, &format!("/images/{id}/complete"), Some(&token), None).await;
    assert_eq!((twice.status, twice.body["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{}", twice.raw);
    let view = api.call(Method::GET, &format!("/images/{id}"), Some(&token), None).await;
    assert_eq!((view.body["status"].as_str(), view.body["width"].as_u64()), (Some("pending"), Some(1920)));

    // Both were announced on NewImage, which delivers to QueueAnalysis.
    let mut announced = BTreeSet::new();
    for _ in 0..5 {
        let received =
            api.aws.sqs.receive_message().queue_url(&api.config.analysis_queue_url).max_number_of_messages(10).send().await.unwrap();
        for message in received.messages.unwrap_or_default() {
            let envelope: serde_json::Value = serde_json::from_str(message.body.as_deref().unwrap()).unwrap();
            let event: serde_json::Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
            announced.insert(event["image_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(announced, BTreeSet::from([cat.clone(), id.to_owned()]));

    // Five more, then pages of two, newest first, each image once.
    let mut uploaded = vec![cat, id.to_owned()];
    for seed in 0..5 {
        uploaded.push(api.upload(&token, "image/png", png(3, 3, seed)).await);
    }
    uploaded.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/images?limit=2&cursor={cursor}"),
            None => "/images?limit=2".to_owned(),
        };
        let page = api.call(Method::GET, &path, Some(&token), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.raw);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|item| item["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(pages >= 4, "{pages} pages");
    assert_eq!(seen, uploaded, "not every image once, newest first");
    api.tear_down().await;
}

#[tokio::test]
async fn search_finds_images_by_every_label_from_the_index_and_delete_leaves_nothing() {
    let api = Api::deploy("CORE_USER", "API_SEARCH", &[]).await;
    let token = api.user("carol").await;
    let user = UserName::parse("carol").unwrap();
    let store = DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let cat = api.upload(&token, "image/png", png(2, 2, 1)).await;
    let dog = api.upload(&token, "image/png", png(2, 2, 2)).await;
    let cup = api.upload(&token, "image/png", png(2, 2, 3)).await;
    for (id, labels) in [(&cat, ["cat", "animal", "pet"]), (&dog, ["dog", "animal", "pet"]), (&cup, ["cup", "coffee", "drink"])] {
        let analysis = Analysis { labels: labels.map(label).to_vec(), ..Analysis::default() };
        let written = store.put_analysis(&store.get(&user, ImageId::parse(id).unwrap()).await.unwrap().unwrap(), &analysis).await.unwrap();
        assert!(written);
    }
    // Writing the same labels again (a redelivery) adds nothing.
    let items_before = api.image_items().await.len();
    let again = Analysis { labels: ["cat", "animal", "pet"].map(label).to_vec(), ..Analysis::default() };
    store.put_analysis(&store.get(&user, ImageId::parse(&cat).unwrap()).await.unwrap().unwrap(), &again).await.unwrap();
    assert_eq!(api.image_items().await.len(), items_before);

    let ids = |reply: &common::api::Reply| -> Vec<String> {
        reply.body["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    };
    let animals = api.call(Method::GET, "/images/search?label=animal", Some(&token), None).await;
    assert_eq!(animals.status, StatusCode::OK, "{}", animals.raw);
    assert_eq!(ids(&animals), [dog.clone(), cat.clone()]);
    let cats = api.call(Method::GET, "/images/search?label=CAT&label=Animal", Some(&token), None).await;
    assert_eq!(ids(&cats), [cat.as_str()]);
    let none = api.call(Method::GET, "/images/search?label=cat&label=coffee", Some(&token), None).await;
    assert!(ids(&none).is_empty());
    // AND searches read the rarest label's entries (here dog's, not animal's) and filter.
    let dogs = api.call(Method::GET, "/images/search?label=animal&label=dog", Some(&token), None).await;
    assert_eq!(ids(&dogs), [dog.as_str()]);
    let unknown = api.call(Method::GET, "/images/search?label=animal&label=unicorn", Some(&token), None).await;
    assert_eq!(unknown.status, StatusCode::OK, "{}", unknown.raw);
    assert!(ids(&unknown).is_empty());
    let first_pet = api.call(Method::GET, "/images/search?label=pet&label=animal&limit=1", Some(&token), None).await;
    assert_eq!(ids(&first_pet), [dog.as_str()]);
    let cursor = first_pet.body["next_cursor"].as_str().unwrap();
    let url = format!("/images/search?label=pet&label=animal&limit=1&cursor={cursor}");
    assert_eq!(ids(&api.call(Method::GET, &url, Some(&token), None).await), [cat.as_str()]);
    let first = api.call(Method::GET, "/images/search?label=pet&limit=1", Some(&token), None).await;
    assert_eq!(ids(&first), [dog.as_str()]);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = api.call(Method::GET, &format!("/images/search?label=pet&limit=1&cursor={cursor}"), Some(&token), None).await;
    assert_eq!(ids(&second), [cat.as_str()]);
    let view = api.call(Method::GET, &format!("/images/{cat}"), Some(&token), None).await;
    assert_eq!(view.body["status"], "ready");
    assert_eq!(view.body["labels"].as_array().unwrap().len(), 3);

    // Delete: the object, the record, its index entries and its share of the counters go.
    let deleted = api.call(Method::DELETE, &format!("/images/{cat}"), Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::DELETE, &format!("/images/{cat}"), Some(&token), None).await.status, StatusCode::NOT_FOUND);
    assert!(!api.object_keys().await.contains(&format!("carol/{cat}")));
    let leftovers: Vec<_> = api.image_items().await.into_iter().filter(|item| item["sk"].as_s().unwrap().contains(&cat)).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(ids(&api.call(Method::GET, "/images/search?label=animal", Some(&token), None).await), [dog.as_str()]);
    let usage = store.usage(&user).await.unwrap();
    assert_eq!(usage.photos, 2);
    assert_eq!(usage.bytes, (png(2, 2, 2).len() + png(2, 2, 3).len()) as u64);
    api.tear_down().await;
}

#[tokio::test]
async fn another_user_with_my_ids_gets_404_and_changes_nothing() {
    let api = Api::deploy("CORE_USER", "API_TENANTS", &[]).await;
    let alice = api.user("alice").await;
    let mallory = api.user("mallory").await;
    let photo = api.upload(&alice, "image/png", png(5, 5, 9)).await;
    let ticket = api.call(Method::POST, "/images/uploads", Some(&alice), Some(json!({"content_type": "image/png", "size": 100}))).await;
    let pending_upload = ticket.body["id"].as_str().unwrap().to_owned();
    let favourite = api.call(Method::PUT, &format!("/images/{photo}/favourite"), Some(&alice), None).await;
    assert_eq!(favourite.status, StatusCode::NO_CONTENT, "{}", favourite.raw);
    let before = api.state().await;

    for id in [&photo, &pending_upload] {
        for (method, path) in [
            (Method::GET, format!("/images/{id}")),
            (Method::DELETE, format!("/images/{id}")),
            (Method::POST, format!("/images/{id}/complete")),
            (Method::PUT, format!("/images/{id}/favourite")),
            (Method::DELETE, format!("/images/{id}/favourite")),
        ] {
            let reply = api.call(method.clone(), &path, Some(&mallory), None).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.raw);
        }
    }
    // Neither listing (favourites too) nor search nor a forged cursor reaches alice's images.
    for listing in ["/images", "/images?favourite=true"] {
        let listed = api.call(Method::GET, listing, Some(&mallory), None).await;
        assert!(listed.body["items"].as_array().unwrap().is_empty(), "{listing}: {}", listed.raw);
    }
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&photo);
    let forged_page = api.call(Method::GET, &format!("/images?cursor={forged}"), Some(&mallory), None).await;
    assert!(forged_page.body["items"].as_array().unwrap().is_empty(), "{}", forged_page.raw);
    // Path tricks are refused before any lookup.
    for path in ["/images/..%2F..%2Falice", "/images/alice%2F01JAAAAAAAAAAAAAAAAAAAAAAA", "/images/..", "/images/%2e%2e"] {
        let reply = api.call(Method::GET, path, Some(&mallory), None).await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
        assert_ne!(reply.status, StatusCode::OK);
    }
    assert_eq!(api.state().await, before, "mallory changed alice's data");
    let mine = api.call(Method::GET, &format!("/images/{photo}"), Some(&alice), None).await;
    assert_eq!((mine.status, &mine.body["favourite"]), (StatusCode::OK, &json!(true)));
    let favourites = api.call(Method::GET, "/images?favourite=true", Some(&alice), None).await;
    let listed: Vec<&str> = favourites.body["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [photo.as_str()], "{}", favourites.raw);
    api.analyse_all(&alice, &api.poller()).await;

    // What AWS enforces beneath the code: every data call was made with its tenant's session
    // credentials and lies inside that tenant's session policy, none inside the other's.
    let scope = TenantAccess::of_stack(&api.config, &api.sdk).unwrap().scope().clone();
    let policy_of = |name: &str| scope.session_policy(&UserName::parse(name).unwrap());
    let calls = api.calls.all();
    for tenant in ["alice", "mallory"] {
        let actions: BTreeSet<&str> = calls.iter().filter(|checked| checked.tenant == tenant).map(|checked| checked.call.action).collect();
        assert!(actions.contains("dynamodb:Query"), "{tenant} made no scoped calls: {actions:?}");
        let account = calls.iter().filter(|checked| checked.tenant == tenant && checked.call.resource == scope.users_table_arn);
        assert!(account.count() > 0, "{tenant}'s account was not read with its own access");
    }
    for checked in &calls {
        assert!(checked.allowed, "outside its tenant's policy: {checked:?}");
        let other = if checked.tenant == "alice" { "mallory" } else { "alice" };
        assert!(!allows(&policy_of(other), &checked.call), "{other}'s policy allows {checked:?}");
    }
    let analysed: Vec<_> = calls.iter().filter(|checked| checked.call.resource.ends_with(&format!("alice/{photo}"))).collect();
    assert!(analysed.iter().any(|checked| checked.call.action == "s3:GetObject"), "the analyzer's read is not scoped: {analysed:?}");
    // The check refuses what AWS would: another tenant's partition, its index partitions, its
    // objects and account, a listing beyond the prefix, a Scan (which names no partition), the
    // users table's stack-wide items and its search index.
    let entries = format!("{}/index/entries", scope.images_table_arn);
    let call = |action, resource: &str, keys: &[&str], prefix: Option<&str>| Authorisation {
        action,
        resource: resource.to_owned(),
        leading_keys: keys.iter().map(|key| key.to_string()).collect(),
        prefix: prefix.map(str::to_owned),
    };
    let alice_policy = policy_of("alice");
    assert!(allows(&alice_policy, &call("dynamodb:Query", &entries, &["alice#image"], None)));
    for refused in [
        call("dynamodb:Query", &entries, &["mallory#image"], None),
        call("dynamodb:GetItem", &scope.images_table_arn, &["mallory"], None),
        call("dynamodb:BatchWriteItem", &scope.images_table_arn, &["alice", "alicex"], None),
        call("dynamodb:Scan", &scope.images_table_arn, &[], None),
        call("s3:GetObject", &format!("{}/mallory/{photo}", scope.photo_bucket_arn), &[], None),
        call("s3:ListBucket", &scope.photo_bucket_arn, &[], Some("")),
        call("dynamodb:GetItem", &scope.users_table_arn, &["mallory"], None),
        call("dynamodb:GetItem", &scope.users_table_arn, &["#system"], None),
        call("dynamodb:Query", &format!("{}/index/by_name_prefix", scope.users_table_arn), &["a"], None),
    ] {
        assert!(!allows(&alice_policy, &refused), "alice's policy allows {refused:?}");
    }
    api.tear_down().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let api = Api::deploy("BASIC_USER", "API_BAD_INPUT", &[("photos_per_user: 1000", "photos_per_user: 1")]).await;
    let token = api.user("dave").await;
    let signer = TokenSigner::load(
        &aws_adapters::DynamoUsers::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.users_table),
        &aws_sdk_kms::Client::new(&api.sdk),
        &api.config.key_arn,
    )
    .await
    .unwrap();
    let dave = api.account("dave").await;
    let (expired, _) = signer
        .issue(
            &dave.user_name,
            dave.account_id,
            domain::SessionId::new(),
            dave.token_generation,
            time::OffsetDateTime::now_utc() - time::Duration::days(2),
        )
        .unwrap();
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let huge = domain::testing::declaring_size(&png(2, 2, 9), 65_500, 65_500, false).unwrap();
    let ghost = api.user("ghost").await;
    let ghost_password = json!({"password": "correct horse battery staple of 5"});
    assert_eq!(api.call(Method::DELETE, "/users/me", Some(&ghost), Some(ghost_password)).await.status, StatusCode::NO_CONTENT);
    api.upload(&token, "image/png", png(2, 2, 0)).await;
    let hugo = api.user("hugo").await;
    let before = api.state().await;

    let signup = |value: serde_json::Value| (Method::POST, "/users".to_owned(), None, "application/json", value.to_string().into_bytes());
    let raw_signup = |bytes: &[u8]| (Method::POST, "/users".to_owned(), None, "application/json", bytes.to_vec());
    let body = |method: Method, path: &str, content_type: &'static str, bytes: Vec<u8>| {
        (method, path.to_owned(), Some(token.clone()), content_type, bytes)
    };
    let with_token = |token: &str| (Method::GET, "/users/me".to_owned(), Some(token.to_owned()), "application/json", Vec::new());
    let cases: Vec<(&str, Request, StatusCode)> = vec![
        ("malformed JSON", raw_signup(b"{\"user_name\": "), StatusCode::BAD_REQUEST),
        ("missing field", signup(json!({"user_name": "erin", "password": "a long enough one"})), StatusCode::BAD_REQUEST),
        (
            "extra field",
            signup(
                json!({"user_name": "erin", "email": "e@x.org", "first_name": "E", "last_name": "F", "password": "a long enough one", "admin": true}),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong type",
            signup(json!({"user_name": 42, "email": "e@x.org", "first_name": "E", "last_name": "F", "password": "a long enough one"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "invalid user name",
            signup(
                json!({"user_name": "../etc", "email": "e@x.org", "first_name": "E", "last_name": "F", "password": "a long enough one"}),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "short password",
            signup(json!({"user_name": "erin", "email": "e@x.org", "first_name": "E", "last_name": "F", "password": "short"})),
            StatusCode::BAD_REQUEST,
        ),
        ("empty JSON body", raw_signup(b""), StatusCode::BAD_REQUEST),
        ("empty photo", body(Method::POST, "/images", "image/png", Vec::new()), StatusCode::BAD_REQUEST),
        ("50 MB photo", body(Method::POST, "/images", "image/png", vec![0u8; 50 * 1024 * 1024]), StatusCode::PAYLOAD_TOO_LARGE),
        ("50 MB JSON", body(Method::PUT, "/users/me", "application/json", vec![b' '; 50 * 1024 * 1024]), StatusCode::PAYLOAD_TOO_LARGE),
        (
            "non-image bytes",
            body(Method::POST, "/images", "image/png", b"I am not a photo at all".to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        ("unknown content type", body(Method::POST, "/images", "application/pdf", png(2, 2, 7)), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("declared type differs", body(Method::POST, "/images", "image/jpeg", png(2, 2, 7)), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            "unknown upload type",
            body(
                Method::POST,
                "/images/uploads",
                "application/json",
                json!({"content_type": "text/html", "size": 100}).to_string().into_bytes(),
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "upload of no declared size",
            body(Method::POST, "/images/uploads", "application/json", json!({"content_type": "image/png"}).to_string().into_bytes()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "upload of 0 bytes",
            body(
                Method::POST,
                "/images/uploads",
                "application/json",
                json!({"content_type": "image/png", "size": 0}).to_string().into_bytes(),
            ),
            StatusCode::BAD_REQUEST,
        ),
        ("bad limit", body(Method::GET, "/images?limit=0", "application/json", Vec::new()), StatusCode::BAD_REQUEST),
        ("bad cursor", body(Method::GET, "/images?cursor=%%%", "application/json", Vec::new()), StatusCode::BAD_REQUEST),
        ("no search label", body(Method::GET, "/images/search", "application/json", Vec::new()), StatusCode::BAD_REQUEST),
        ("bad image id", body(Method::GET, "/images/not-an-id", "application/json", Vec::new()), StatusCode::BAD_REQUEST),
        ("no token", (Method::GET, "/users/me".to_owned(), None, "application/json", Vec::new()), StatusCode::UNAUTHORIZED),
        ("expired token", with_token(&expired), StatusCode::UNAUTHORIZED),
        ("tampered token", with_token(&tampered), StatusCode::UNAUTHORIZED),
        ("token of a deleted user", with_token(&ghost), StatusCode::UNAUTHORIZED),
        ("garbage token", with_token("v1.%%%.!!!"), StatusCode::UNAUTHORIZED),
        ("65,500 x 65,500 pixels declared", body(Method::POST, "/images", "image/png", huge.clone()), StatusCode::PAYLOAD_TOO_LARGE),
        ("over quota", body(Method::POST, "/images", "image/png", png(3, 3, 3)), StatusCode::FORBIDDEN),
        ("unknown endpoint", body(Method::GET, "/nope", "application/json", Vec::new()), StatusCode::NOT_FOUND),
    ];
    for (name, (method, path, token, content_type, bytes), expected) in cases {
        let reply = api.call_raw(method, &path, token.as_deref(), content_type, bytes).await;
        assert_eq!(reply.status, expected, "{name}: {}", reply.raw);
        let message = reply.body["error"]["message"].as_str().unwrap_or("");
        assert!(!reply.error_code().is_empty() && !message.is_empty(), "{name}: not our JSON error: {}", reply.raw);
        assert_eq!(api.state().await, before, "{name} changed the stored state");
    }
    // The same photo the presigned way: refused at /complete, the object and record removed.
    let ticket =
        api.call(Method::POST, "/images/uploads", Some(&hugo), Some(json!({"content_type": "image/png", "size": huge.len()}))).await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.raw);
    assert_eq!(put_as_ticket(&ticket.body, huge).await, StatusCode::OK);
    let id = ticket.body["id"].as_str().unwrap();
    let completed = api.call(Method::POST, &format!("/images/{id}/complete"), Some(&hugo), None).await;
    assert_eq!((completed.status, completed.error_code()), (StatusCode::PAYLOAD_TOO_LARGE, "too_many_pixels"), "{}", completed.raw);
    assert_eq!(api.state().await, before, "a refused presigned photo left something");
    api.tear_down().await;
}

#[tokio::test]
async fn quotas_hold_exactly_under_concurrent_uploads_and_deletes() {
    let api = Api::deploy("BASIC_USER", "API_QUOTA", &[("photos_per_user: 1000", "photos_per_user: 3")]).await;
    let token = api.user("frank").await;
    let uploads = (0..8u8).map(|seed| api.call_raw(Method::POST, "/images", Some(&token), "image/png", png(2, 2, seed)));
    let replies = join_all(uploads).await;
    let accepted: Vec<String> = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::ACCEPTED)
        .map(|reply| reply.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(accepted.len(), 3, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    for reply in replies.iter().filter(|reply| reply.status != StatusCode::ACCEPTED) {
        assert_eq!((reply.status, reply.error_code()), (StatusCode::FORBIDDEN, "quota_exceeded"), "{}", reply.raw);
    }
    assert_eq!(api.object_keys().await.len(), 3, "a refused upload left its object");
    let store = DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let user = UserName::parse("frank").unwrap();
    assert_eq!(store.usage(&user).await.unwrap().photos, 3);

    // The same image deleted five times at once counts down once.
    let path = format!("/images/{}", accepted[0]);
    let deletes = (0..5).map(|_| api.call(Method::DELETE, &path, Some(&token), None));
    let statuses: Vec<_> = join_all(deletes).await.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::NO_CONTENT).count(), 1, "{statuses:?}");
    assert_eq!(store.usage(&user).await.unwrap().photos, 2);
    api.upload(&token, "image/png", png(4, 4, 1)).await;
    api.tear_down().await;
}

#[tokio::test]
async fn ops_search_needs_the_ops_credential() {
    let api = Api::deploy("CORE_USER", "API_OPS", &[]).await;
    let token = api.user("alice").await;
    api.user("albert").await;
    api.user("bob").await;
    let issued = api.files.deployer(&["ops-credential", "--tier", "API_OPS"]).expect_success("ops-credential");
    let secret = issued.stdout.trim().to_owned();
    assert!(secret.starts_with("sao_"), "{secret}");
    assert!(!api.state().await.contains(&secret), "the credential is stored in the clear");

    let found = api.call(Method::GET, "/users?prefix=al", Some(&secret), None).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.raw);
    let names: Vec<_> = found.body["items"].as_array().unwrap().iter().map(|u| u["user_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["albert", "alice"]);
    assert!(!found.raw.contains("argon2"));
    let page = api.call(Method::GET, "/users?prefix=al&limit=1", Some(&secret), None).await;
    assert_eq!(page.body["items"][0]["user_name"], "albert");
    let next = page.body["next_cursor"].as_str().unwrap();
    let rest = api.call(Method::GET, &format!("/users?prefix=al&limit=1&cursor={next}"), Some(&secret), None).await;
    assert_eq!(rest.body["items"][0]["user_name"], "alice");

    assert_eq!(api.call(Method::GET, "/users?prefix=al", Some(&token), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(api.call(Method::GET, "/users?prefix=al", None, None).await.status, StatusCode::UNAUTHORIZED);
    // The secret with its last character changed (to one it is not).
    let last = if secret.ends_with('A') { 'B' } else { 'A' };
    let wrong = format!("{}{last}", &secret[..secret.len() - 1]);
    assert_eq!(api.call(Method::GET, "/users?prefix=al", Some(&wrong), None).await.status, StatusCode::FORBIDDEN);
    // A rotated credential replaces the old one.
    let rotated = api.files.deployer(&["ops-credential", "--tier", "API_OPS"]).expect_success("rotate").stdout.trim().to_owned();
    assert_eq!(api.call(Method::GET, "/users?prefix=al", Some(&secret), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(api.call(Method::GET, "/users?prefix=al", Some(&rotated), None).await.status, StatusCode::OK);
    api.tear_down().await;
}

#[tokio::test]
async fn tokens_and_password_hashes_never_reach_responses_or_logs() {
    let api = Api::deploy("CORE_USER", "API_SECRETS", &[]).await;
    let password = "the quiet secret passphrase";
    let created = api
        .call(
            Method::POST,
            "/users",
            None,
            Some(json!({"user_name": "grace", "email": "g@example.org", "first_name": "G", "last_name": "H", "password": password})),
        )
        .await;
    let session = api.call(Method::POST, "/sessions", None, Some(json!({"user_name": "grace", "password": password}))).await;
    let token = session.body["token"].as_str().unwrap().to_owned();
    let mut responses = vec![created.raw, session.raw.replace(&token, "<the issued token>")];
    let id = api.upload(&token, "image/png", png(2, 2, 2)).await;
    for path in ["/users/me".to_owned(), "/images".to_owned(), format!("/images/{id}")] {
        responses.push(api.call(Method::GET, &path, Some(&token), None).await.raw);
    }
    responses.push(api.call(Method::PUT, "/users/me", Some(&token), Some(json!({"last_name": "Hopper"}))).await.raw);
    responses.push(api.call(Method::GET, "/users/me", Some("v1.forged.token"), None).await.raw);
    let hash = api.user_items().await.iter().find_map(|item| item.get("password_hash").and_then(|v| v.as_s().ok()).cloned()).unwrap();
    let logs = captured_logs();
    assert!(logs.contains("request"), "no request was logged: the capture is broken");
    for text in responses.iter().chain([&logs]) {
        for secret in [&token, &hash, &password.to_owned()] {
            assert!(!text.contains(secret.as_str()), "a secret leaked into:\n{text}");
        }
        assert!(!text.contains("$argon2id$"), "a hash leaked into:\n{text}");
    }
    api.tear_down().await;
}

/// Sign-in throttling in DynamoDB: wrong passwords, concurrent ones included, lock the name
/// whatever the password; a source's hourly count stops at its limit. (Exact counts are checked
/// one request at a time: moto loses concurrent updates of one item, and only
/// `scripts/moto-server`'s one-at-a-time DynamoDB stands in for DynamoDB's atomic `ADD`.)
#[tokio::test]
async fn wrong_passwords_lock_a_name_and_sources_are_counted_exactly() {
    use domain::SignInThrottle;
    use domain::sign_ins::{FREE_FAILURES, SourceAction};
    let api = Api::deploy("CORE_USER", "API_THROTTLE", &[]).await;
    api.user("tess").await;
    let wrong = join_all(
        (0..8)
            .map(|_| api.call(Method::POST, "/sessions", None, Some(json!({"user_name": "tess", "password": "not the password at all"})))),
    )
    .await;
    assert!(wrong.iter().all(|reply| reply.status == StatusCode::UNAUTHORIZED), "{:?}", wrong.iter().map(|r| r.status).collect::<Vec<_>>());
    let users = api.users();
    let failures =
        users.failures(domain::sign_ins::Guessed::Account(&UserName::parse("tess").unwrap())).await.unwrap().expect("no failures stored");
    assert!((FREE_FAILURES..=8).contains(&failures.count), "{failures:?}");
    assert!(failures.locked_until_ms.is_some());
    let right = json!({"user_name": "tess", "password": "correct horse battery staple of 4"});
    let locked = api.call(Method::POST, "/sessions", None, Some(right)).await;
    assert_eq!((locked.status, locked.error_code()), (StatusCode::TOO_MANY_REQUESTS, "too_many_sign_ins"), "{}", locked.raw);

    let now_ms = domain::epoch_ms(time::OffsetDateTime::now_utc());
    let mut counted = Vec::new();
    for _ in 0..6 {
        counted.push(users.count_from_source("192.0.2.9", SourceAction::SignUp, now_ms, 4).await.unwrap());
    }
    assert_eq!(counted, [true, true, true, true, false, false], "a source passed its limit");
    assert!(users.count_from_source("192.0.2.9", SourceAction::SignIn, now_ms, 4).await.unwrap(), "sign-ins are counted apart");
    assert!(users.count_from_source("192.0.2.10", SourceAction::SignUp, now_ms, 4).await.unwrap(), "another source");
    api.tear_down().await;
}

/// Sign-ins racing ops' suspension or move (each through DynamoDB's conditional updates): the
/// status ops set always holds, and no session started in the race outlives it.
#[tokio::test]
async fn a_suspension_or_a_move_always_holds_against_racing_sign_ins() {
    use domain::{AccountChange, AccountStatus, Precondition, UserStore};
    let api = Api::deploy("CORE_USER", "API_SIGN_IN_RACE", &[]).await;
    let users = api.users();
    for to in [AccountStatus::Suspended, AccountStatus::Moving] {
        for round in 0..3 {
            let name = format!("racer{}{round}", to.as_str());
            api.user(&name).await;
            let user = UserName::parse(&name).unwrap();
            let password = format!("correct horse battery staple of {}", name.len());
            let sign_ins =
                join_all((0..6).map(|_| api.call(Method::POST, "/sessions", None, Some(json!({"user_name": name, "password": password})))));
            let change = AccountChange::Status { to };
            let ops = users.change(&user, &change, Precondition::Status(AccountStatus::Active));
            let (replies, changed) = tokio::join!(sign_ins, ops);
            changed.expect("ops' change is conditioned on the status alone: sign-ins never make it fail");
            assert_eq!(api.account(&name).await.status, to, "a sign-in undid the {to:?} change");
            for reply in &replies {
                assert!(
                    [StatusCode::CREATED, StatusCode::FORBIDDEN, StatusCode::CONFLICT].contains(&reply.status),
                    "{}: {}",
                    reply.status,
                    reply.raw
                );
                if let Some(token) = reply.body["token"].as_str() {
                    let after = api.call(Method::GET, "/images", Some(token), None).await;
                    assert_ne!(after.status, StatusCode::OK, "a session of the race outlived the {to:?} change: {}", after.raw);
                }
            }
        }
    }
    api.tear_down().await;
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_served() {
    let api = Api::deploy("BASIC_USER", "API_OPENAPI", &[]).await;
    let doc = api.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let mut operations = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected: BTreeSet<String> = [
        "GET /health",
        "POST /users",
        "GET /users",
        "GET /users/me",
        "PUT /users/me",
        "DELETE /users/me",
        "POST /sessions",
        "DELETE /sessions/current",
        "POST /images",
        "GET /images",
        "POST /images/uploads",
        "POST /images/{id}/complete",
        "GET /images/search",
        "GET /images/{id}",
        "DELETE /images/{id}",
        "PUT /images/{id}/favourite",
        "DELETE /images/{id}/favourite",
        "GET /albums",
        "GET /albums/{label}",
        "GET /places",
        "GET /memories",
        "POST /collections",
        "GET /collections",
        "GET /collections/{id}",
        "PATCH /collections/{id}",
        "DELETE /collections/{id}",
        "POST /collections/{id}/photos",
        "DELETE /collections/{id}/photos",
        "GET /collections/{id}/photos",
        "GET /collections/{id}/members",
        "PUT /collections/{id}/members/{user_name}",
        "DELETE /collections/{id}/members/{user_name}",
        "POST /collections/{id}/links",
        "GET /collections/{id}/links",
        "DELETE /collections/{id}/links/{link_id}",
        "GET /shared/{secret}/photos",
        "POST /shared/{secret}/sessions",
        "GET /persons",
        "GET /persons/{id}",
        "PATCH /persons/{id}",
        "GET /persons/{id}/images",
        "POST /persons/{id}/merge",
        "GET /persons/{id}/suggestions",
        "DELETE /persons/{id}/suggestions/{other_id}",
        "PUT /faces/{id}",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(operations, expected);
    // Every documented operation is routed: never the fallback's "no such endpoint" or a 405.
    let some_id = ImageId::new().to_string();
    for operation in &operations {
        let (method, path) = operation.split_once(' ').unwrap();
        let path = path.replace("{id}", &some_id).replace("{other_id}", &some_id).replace("{user_name}", "bob").replace("{label}", "cat");
        let path = path.replace("{link_id}", &some_id).replace("{secret}", &"s".repeat(43));
        let reply = api.call(method.parse().unwrap(), &path, None, None).await;
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{operation}");
        assert!(!reply.raw.contains("no such endpoint"), "{operation} is documented but not routed");
    }
    api.tear_down().await;
}

#[tokio::test]
async fn one_tenant_over_its_rate_is_refused_while_another_is_served() {
    let api =
        Api::deploy("BASIC_USER", "API_RATE_LIMITS", &[("rate_limit: 10", "rate_limit: 1"), ("burst_limit: 20", "burst_limit: 4")]).await;
    let (noisy, quiet) = (api.user("noisy").await, api.user("quiet").await);
    // At once, as a client's parallel requests come: the burst passes, the rest is refused,
    // whichever Lambda instance (here: task) answers, since the count is in the users table.
    let replies = join_all((0..10).map(|_| api.call(Method::GET, "/images", Some(&noisy), None))).await;
    let served = replies.iter().filter(|reply| reply.status == StatusCode::OK).count();
    let refused: Vec<_> = replies.iter().filter(|reply| reply.status == StatusCode::TOO_MANY_REQUESTS).collect();
    // The whole burst: requests racing for the same allowance each add to it, none is refused
    // for losing a race. (That none passes beyond it is checked one request at a time below:
    // the emulator may lose one of two updates of an item at the same instant, and admit more.)
    assert!(served >= 4, "served {served} of 10 with a burst of 4 at 1 a second");
    assert_eq!(served + refused.len(), 10, "{replies:?}");
    assert!(refused.iter().all(|reply| reply.error_code() == "rate_limited"));
    assert_eq!(api.call(Method::GET, "/images", Some(&quiet), None).await.status, StatusCode::OK);
    // One after another, from a full bucket: the whole burst passes, then only what the rate
    // refills in the time taken, then 429.
    tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
    let started = std::time::Instant::now();
    let mut served = 0;
    let over = loop {
        let reply = api.call(Method::GET, "/images", Some(&noisy), None).await;
        if reply.status != StatusCode::OK || served == 20 {
            break reply;
        }
        served += 1;
    };
    assert_eq!((over.status, over.error_code()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    let refilled = started.elapsed().as_secs() as usize;
    assert!((4..=5 + refilled).contains(&served), "served {served} in a row in {:?}", started.elapsed());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(api.call(Method::GET, "/images", Some(&noisy), None).await.status, StatusCode::OK, "a second refills one");
    api.tear_down().await;
}

/// `down` then `up`: the new stack takes the kept bucket, tables and key back (an IMPORT change
/// set naming each) before it creates the rest. The emulator runs an IMPORT change set as a
/// plain create, which fails on what exists (a table's ResourceInUseException, the bucket's
/// BucketAlreadyExists), so here `up` is
/// seen finding the data and asking for the import, and the data is seen untouched by the
/// refused import; the import itself only AWS shows (docs/operations.md, "Where the emulator differs").
#[tokio::test]
async fn up_after_down_asks_to_take_the_kept_data_back_and_loses_nothing() {
    let api = Api::deploy("BASIC_USER", "KEPT_DATA", &[]).await;
    let token = api.user("keeper").await;
    let photo = api.upload(&token, "image/png", png(4, 4, 9)).await;
    let before = api.state().await;
    let down = api.files.deployer(&["down", "--tier", "KEPT_DATA"]).expect_success("down");
    assert!(down.stdout.contains("Kept the data"), "{}", down.stdout);
    // As a stack taken down before the access log bucket existed: the rest is taken back
    // without it (a new one is made).
    let log_bucket = api.config.photo_bucket.replace("-photos-", "-logs-");
    api.aws.s3.delete_bucket().bucket(&log_bucket).send().await.unwrap();

    let artifacts = common::artifacts();
    let up = api.files.deployer(&["up", "--tier", "KEPT_DATA", "--artifacts", artifacts.to_str().unwrap(), "--analyzer", "local"]);
    assert!(up.stdout.contains("keeps data from before it was taken down"), "{}\n{}", up.stdout, up.stderr);
    for logical_id in ["PhotoBucket", "UsersTable", "ImagesTable", "Key"] {
        assert!(up.stdout.lines().any(|line| line.contains("< import") && line.contains(logical_id)), "{logical_id}: {}", up.stdout);
    }
    assert!(!up.stdout.contains("PhotoAccessLogBucket") && !up.stderr.contains("only part"), "{}\n{}", up.stdout, up.stderr);
    if !up.success {
        assert!(
            up.stderr.contains("already exists") || up.stderr.contains("BucketAlreadyExists"),
            "only the emulator's create-instead-of-import may stop it:\n{}",
            up.stderr
        );
    }
    assert_eq!(api.state().await, before, "the data is as it was");
    assert!(api.object_keys().await.contains(&format!("keeper/{photo}")));
    api.tear_down().await;
}
