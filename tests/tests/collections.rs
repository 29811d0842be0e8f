//! Collections on the emulator's DynamoDB through the router: photos in and out, counts and
//! covers from the index, another user's ids 404 with nothing changed (state diff), and a
//! deleted collection or photo leaving no item behind.

mod common;

use axum::http::{Method, StatusCode};
use common::api::{Api, png};
use serde_json::{Value, json};

fn sort_keys(items: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>]) -> Vec<String> {
    let mut keys: Vec<String> = items.iter().filter_map(|item| item.get("sk")?.as_s().ok().cloned()).collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_collection_holds_its_owners_photos_and_leaves_nothing_when_deleted() {
    let api = Api::deploy("CORE_USER", "API_COLLECTIONS", &[]).await;
    let ann = api.user("ann").await;
    let mallory = api.user("mallory").await;
    let mut photos = Vec::new();
    for seed in 0..3u8 {
        photos.push(api.upload(&ann, "image/png", png(4, 3, seed)).await);
    }
    photos.sort_by(|a, b| b.cmp(a));
    let theirs = api.upload(&mallory, "image/png", png(4, 3, 9)).await;
    let before_collection = sort_keys(&api.image_items().await);

    let made = api.call(Method::POST, "/collections", Some(&ann), Some(json!({"title": "Lisbon", "description": "May"}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.raw);
    let path = format!("/collections/{}", made.body["id"].as_str().unwrap());
    let refused = api.call(Method::POST, &format!("{path}/photos"), Some(&ann), Some(json!({"ids": [photos[0], theirs]}))).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.raw);
    let added = api.call(Method::POST, &format!("{path}/photos"), Some(&ann), Some(json!({"ids": photos}))).await;
    assert_eq!((added.status, &added.body["added"]), (StatusCode::OK, &json!(3)), "{}", added.raw);
    let again = api.call(Method::POST, &format!("{path}/photos"), Some(&ann), Some(json!({"ids": [photos[1]]}))).await;
    assert_eq!(again.body["added"], 0);

    let first = api.call(Method::GET, &format!("{path}/photos?limit=2"), Some(&ann), None).await;
    let ids = |reply: &Value| -> Vec<String> {
        reply["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(&first.body), photos[..2].to_vec());
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = api.call(Method::GET, &format!("{path}/photos?limit=2&cursor={cursor}"), Some(&ann), None).await;
    assert_eq!(ids(&rest.body), photos[2..].to_vec());
    let one = api.call(Method::GET, &path, Some(&ann), None).await;
    assert_eq!((&one.body["photo_count"], &one.body["cover_image_id"]), (&json!(3), &json!(photos[0])));
    let changed = api.call(Method::PATCH, &path, Some(&ann), Some(json!({"cover_image_id": photos[2], "title": "Lisboa"}))).await;
    assert_eq!((changed.status, &changed.body["cover_image_id"]), (StatusCode::OK, &json!(photos[2])), "{}", changed.raw);
    let not_in_it = api.call(Method::PATCH, &path, Some(&ann), Some(json!({"cover_image_id": theirs}))).await;
    assert_eq!((not_in_it.status, not_in_it.error_code()), (StatusCode::BAD_REQUEST, "invalid_cover"));

    // Another user reaches nothing of it, and changes nothing.
    let state = api.state().await;
    for (method, target, body) in [
        (Method::GET, path.clone(), None),
        (Method::PATCH, path.clone(), Some(json!({"title": "Mine"}))),
        (Method::DELETE, path.clone(), None),
        (Method::GET, format!("{path}/photos"), None),
        (Method::POST, format!("{path}/photos"), Some(json!({"ids": [theirs]}))),
        (Method::DELETE, format!("{path}/photos"), Some(json!({"ids": [photos[0]]}))),
    ] {
        let reply = api.call(method.clone(), &target, Some(&mallory), body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {target}: {}", reply.raw);
    }
    assert!(api.call(Method::GET, "/collections", Some(&mallory), None).await.body["items"].as_array().unwrap().is_empty());
    assert_eq!(api.state().await, state, "mallory changed ann's data");

    // The chosen cover deleted from the library: out of the collection, the newest is the cover.
    assert_eq!(api.call(Method::DELETE, &format!("/images/{}", photos[2]), Some(&ann), None).await.status, StatusCode::NO_CONTENT);
    let removed = api.call(Method::DELETE, &format!("{path}/photos"), Some(&ann), Some(json!({"ids": [photos[1]]}))).await;
    assert_eq!(removed.body["removed"], 1, "{}", removed.raw);
    let listed = api.call(Method::GET, "/collections", Some(&ann), None).await;
    assert_eq!(listed.body["items"][0]["title"], "Lisboa");
    assert_eq!((&listed.body["items"][0]["photo_count"], &listed.body["items"][0]["cover_image_id"]), (&json!(1), &json!(photos[0])));

    assert_eq!(api.call(Method::DELETE, &path, Some(&ann), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &path, Some(&ann), None).await.status, StatusCode::NOT_FOUND);
    // Nothing of the collection is left; the library is as it was, less the deleted photo.
    let left = sort_keys(&api.image_items().await);
    let expected: Vec<String> = before_collection.into_iter().filter(|sk| !sk.contains(&photos[2])).collect();
    assert_eq!(left, expected);
    api.tear_down().await;
}

/// Sharing on the emulator: the member's pointer and the owner's member item, a viewer's view
/// read with the owner's scoped access, refusal from the next request once removed, and no
/// item of the sharing left once the collection is deleted.
#[tokio::test]
async fn a_viewer_sees_the_shared_photos_until_removed_and_nothing_is_left_after() {
    let api = Api::deploy("CORE_USER", "API_SHARING", &[]).await;
    let ann = api.user("ann").await;
    let bob = api.user("bob").await;
    let photo = api.upload(&ann, "image/png", png(4, 3, 1)).await;
    let other = api.upload(&ann, "image/png", png(4, 3, 2)).await;
    let before = sort_keys(&api.image_items().await);
    let made = api.call(Method::POST, "/collections", Some(&ann), Some(json!({"title": "Porto"}))).await;
    let path = format!("/collections/{}", made.body["id"].as_str().unwrap());
    api.call(Method::POST, &format!("{path}/photos"), Some(&ann), Some(json!({"ids": [photo]}))).await;
    let shared = api.call(Method::PUT, &format!("{path}/members/bob"), Some(&ann), Some(json!({"role": "viewer"}))).await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.raw);

    let listed = api.call(Method::GET, "/collections", Some(&bob), None).await;
    assert_eq!(
        (&listed.body["items"][0]["role"], &listed.body["items"][0]["photo_count"]),
        (&json!("viewer"), &json!(1)),
        "{}",
        listed.raw
    );
    let photos = api.call(Method::GET, &format!("{path}/photos"), Some(&bob), None).await;
    let ids: Vec<&str> = photos.body["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [photo.as_str()], "{}", photos.raw);
    assert_eq!(api.call(Method::GET, &format!("/images/{other}"), Some(&bob), None).await.status, StatusCode::NOT_FOUND);
    let refused = api.call(Method::PATCH, &path, Some(&bob), Some(json!({"title": "Mine"}))).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::FORBIDDEN, "not_owner"));

    let removed = api.call(Method::DELETE, &format!("{path}/members/bob"), Some(&ann), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.raw);
    assert_eq!(api.call(Method::GET, &format!("{path}/photos"), Some(&bob), None).await.status, StatusCode::NOT_FOUND);

    api.call(Method::PUT, &format!("{path}/members/bob"), Some(&ann), Some(json!({"role": "viewer"}))).await;
    assert_eq!(api.call(Method::DELETE, &path, Some(&ann), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &path, Some(&bob), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(sort_keys(&api.image_items().await), before, "the sharing left items behind");
    api.tear_down().await;
}

/// Contributors on the emulator: a contributor's photos are items of the contributor's own
/// partition (read with their scoped access), listed with the owner's newest first across both,
/// counted on the contributor's usage; a viewer adds nothing (state diff); removing the
/// contributor and deleting the collection leave none of their items.
#[tokio::test]
async fn a_contributors_photos_are_theirs_and_leave_nothing_when_they_go() {
    let api = Api::deploy("CORE_USER", "API_CONTRIBUTORS", &[]).await;
    let ann = api.user("ann").await;
    let cat = api.user("cat").await;
    let vic = api.user("vic").await;
    let anns = api.upload(&ann, "image/png", png(4, 3, 1)).await;
    let mut cats = Vec::new();
    for seed in 2..4u8 {
        cats.push(api.upload(&cat, "image/png", png(4, 3, seed)).await);
    }
    let vics = api.upload(&vic, "image/png", png(4, 3, 5)).await;
    let before = sort_keys(&api.image_items().await);
    let made = api.call(Method::POST, "/collections", Some(&ann), Some(json!({"title": "Wedding"}))).await;
    let path = format!("/collections/{}", made.body["id"].as_str().unwrap());
    api.call(Method::POST, &format!("{path}/photos"), Some(&ann), Some(json!({"ids": [anns]}))).await;
    for (who, role) in [("cat", "contributor"), ("vic", "viewer")] {
        let shared = api.call(Method::PUT, &format!("{path}/members/{who}"), Some(&ann), Some(json!({"role": role}))).await;
        assert_eq!((shared.status, &shared.body["role"]), (StatusCode::OK, &json!(role)), "{}", shared.raw);
    }
    let added = api.call(Method::POST, &format!("{path}/photos"), Some(&cat), Some(json!({"ids": cats}))).await;
    assert_eq!((added.status, &added.body["added"]), (StatusCode::OK, &json!(2)), "{}", added.raw);
    let id = made.body["id"].as_str().unwrap();
    let cat_items: Vec<String> = api
        .image_items()
        .await
        .iter()
        .filter(|item| item.get("pk").and_then(|pk| pk.as_s().ok()).is_some_and(|pk| pk == "cat"))
        .filter_map(|item| item.get("sk")?.as_s().ok().cloned())
        .filter(|sk| sk.ends_with(&format!("#collection#{id}")))
        .collect();
    assert_eq!(cat_items.len(), 2, "a contributor's photos are in their own partition");
    let images = aws_adapters::DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let usage = async |name: &str| domain::UsageStore::usage(&images, &domain::UserName::parse(name).unwrap()).await.unwrap().photos;
    assert_eq!((usage("cat").await, usage("ann").await), (2, 1), "on the contributor's quota");

    let mut expected: Vec<(String, &str)> = cats.iter().map(|id| (id.clone(), "cat")).chain([(anns.clone(), "ann")]).collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0));
    let first = api.call(Method::GET, &format!("{path}/photos?limit=2"), Some(&vic), None).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = api.call(Method::GET, &format!("{path}/photos?limit=2&cursor={cursor}"), Some(&vic), None).await;
    let seen: Vec<(String, &str)> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest.body["items"].as_array().unwrap())
        .map(|item| (item["id"].as_str().unwrap().to_owned(), if item["owner"] == "cat" { "cat" } else { "ann" }))
        .collect();
    assert_eq!(seen, expected, "{} {}", first.raw, rest.raw);
    let one = api.call(Method::GET, &path, Some(&vic), None).await;
    assert_eq!((&one.body["photo_count"], &one.body["cover_image_id"]), (&json!(3), &json!(expected[0].0)), "{}", one.raw);

    // A viewer adds nothing, even their own photo, and changes nothing.
    let state = api.state().await;
    let refused = api.call(Method::POST, &format!("{path}/photos"), Some(&vic), Some(json!({"ids": [vics]}))).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::FORBIDDEN, "not_contributor"));
    assert_eq!(api.state().await, state, "a refused add changed something");

    let removed = api.call(Method::DELETE, &format!("{path}/members/cat"), Some(&ann), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.raw);
    assert_eq!(api.call(Method::GET, &path, Some(&vic), None).await.body["photo_count"], json!(1));
    api.call(Method::PUT, &format!("{path}/members/cat"), Some(&ann), Some(json!({"role": "contributor"}))).await;
    api.call(Method::POST, &format!("{path}/photos"), Some(&cat), Some(json!({"ids": cats}))).await;
    assert_eq!(api.call(Method::DELETE, &path, Some(&ann), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(sort_keys(&api.image_items().await), before, "the collection left items behind");
    api.tear_down().await;
}

/// Links on the emulator: the owner's item and the stack-wide one keyed by the secret's digest
/// (the secret itself stored nowhere), an expiring link's item kept by the table's TTL, an
/// anonymous view of exactly the collection's photos, another user's calls refused with nothing
/// changed, and nothing of a link left once it or its collection is deleted. The owner still
/// lists the collection (its members' and links' items sort among the collections').
#[tokio::test]
async fn a_link_opens_the_collection_to_anyone_and_leaves_nothing_when_revoked() {
    let api = Api::deploy("CORE_USER", "API_LINKS", &[]).await;
    let ann = api.user("ann").await;
    let bob = api.user("bob").await;
    let mallory = api.user("mallory").await;
    let photo = api.upload(&ann, "image/png", png(4, 3, 1)).await;
    let other = api.upload(&ann, "image/png", png(4, 3, 2)).await;
    let images_before = sort_keys(&api.image_items().await);
    let made = api.call(Method::POST, "/collections", Some(&ann), Some(json!({"title": "Faro"}))).await;
    let path = format!("/collections/{}", made.body["id"].as_str().unwrap());
    api.call(Method::POST, &format!("{path}/photos"), Some(&ann), Some(json!({"ids": [photo]}))).await;
    api.call(Method::PUT, &format!("{path}/members/bob"), Some(&ann), Some(json!({"role": "viewer"}))).await;

    let link = api.call(Method::POST, &format!("{path}/links"), Some(&ann), Some(json!({}))).await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.raw);
    let secret = link.body["url"].as_str().unwrap().rsplit_once("/shared/").unwrap().1.to_owned();
    let expiring = api.call(Method::POST, &format!("{path}/links"), Some(&ann), Some(json!({"expires_in_days": 2}))).await;
    assert_eq!(expiring.status, StatusCode::CREATED, "{}", expiring.raw);
    let digest = domain::links::LinkSecret::parse(&secret).unwrap().digest();
    let users = api.user_items().await;
    let raw_users = format!("{users:?}{:?}", api.image_items().await);
    assert!(!raw_users.contains(&secret), "a link's secret is stored");
    let target = users.iter().find(|item| item["pk"].as_s().unwrap() == &format!("#link#{digest}")).expect("no stack-wide item");
    assert_eq!(target["owner"].as_s().unwrap(), "ann");
    assert!(!target.contains_key("expires_at"), "a link without expiry expires from the table");
    let with_ttl = users.iter().filter(|item| item["pk"].as_s().unwrap().starts_with("#link#") && item.contains_key("expires_at"));
    assert_eq!(with_ttl.count(), 1, "the expiring link's item has no TTL");

    // The owner lists the collection, its members and links beside it.
    let listed = api.call(Method::GET, "/collections", Some(&ann), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.raw);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1, "{}", listed.raw);
    assert_eq!(api.call(Method::GET, &format!("{path}/links"), Some(&ann), None).await.body["items"].as_array().unwrap().len(), 2);

    let opened = api.call(Method::GET, &format!("/shared/{secret}/photos"), None, None).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.raw);
    let ids: Vec<&str> = opened.body["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [photo.as_str()]);
    assert!(!opened.raw.contains(&other));

    // Neither another user nor a member lists, makes or deletes its links; nothing changes.
    let state = api.state().await;
    let link_path = format!("{path}/links/{}", link.body["id"].as_str().unwrap());
    for (who, expected) in [(&mallory, StatusCode::NOT_FOUND), (&bob, StatusCode::FORBIDDEN)] {
        for (method, target, body) in [
            (Method::GET, format!("{path}/links"), None),
            (Method::POST, format!("{path}/links"), Some(json!({}))),
            (Method::DELETE, link_path.clone(), None),
        ] {
            let reply = api.call(method.clone(), &target, Some(who), body).await;
            assert_eq!(reply.status, expected, "{method} {target}: {}", reply.raw);
        }
    }
    assert_eq!(api.state().await, state, "another user changed ann's links");

    assert_eq!(api.call(Method::DELETE, &link_path, Some(&ann), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &format!("/shared/{secret}/photos"), None, None).await.status, StatusCode::NOT_FOUND);
    assert!(!api.user_items().await.iter().any(|item| item["pk"].as_s().unwrap() == &format!("#link#{digest}")));
    assert_eq!(api.call(Method::DELETE, &path, Some(&ann), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(sort_keys(&api.image_items().await), images_before, "the links left items behind");
    let links_left: Vec<_> = api.user_items().await.into_iter().filter(|item| item["pk"].as_s().unwrap().starts_with("#link#")).collect();
    assert!(links_left.is_empty(), "{links_left:?}");
    api.tear_down().await;
}
