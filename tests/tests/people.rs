//! People against the emulator: faces grouped into persons as photos are analysed (one
//! person for the variants of one face, even grouped at once; one person per face of a group
//! photo), the persons listing, search, names, covers, deletion keeping the counts exact, and
//! isolation.

mod common;

use std::io::Cursor;

use axum::http::{Method, StatusCode};
use common::api::{Api, fixture, http};
use image::imageops::{self, FilterType};
use image::{ImageFormat, RgbImage};
use serde_json::Value;

fn person_fixture(name: &str) -> RgbImage {
    let bytes = std::fs::read(common::repo_root().join("tests/fixtures/people").join(name)).unwrap();
    image::load_from_memory(&bytes).unwrap().to_rgb8()
}

fn encoded(photo: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    photo.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
    bytes
}

/// Four photos of one face: mirrored, cropped, smaller and re-encoded.
fn variants_of_one_face() -> Vec<Vec<u8>> {
    let face = person_fixture("astronaut.png");
    vec![
        encoded(&face, ImageFormat::Png),
        encoded(&imageops::flip_horizontal(&face), ImageFormat::Jpeg),
        encoded(&imageops::crop_imm(&face, 100, 0, 300, 300).to_image(), ImageFormat::Png),
        encoded(&imageops::resize(&face, 256, 256, FilterType::Triangle), ImageFormat::Jpeg),
    ]
}

async fn persons(api: &Api, token: &str) -> Vec<Value> {
    let reply = api.call(Method::GET, "/persons", Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    reply.body["persons"].as_array().unwrap().clone()
}

async fn face_persons(api: &Api, token: &str, image: &str) -> Vec<String> {
    let view = api.call(Method::GET, &format!("/images/{image}"), Some(token), None).await;
    assert_eq!(view.body["status"], "ready", "{}", view.raw);
    view.body["faces"].as_array().unwrap().iter().map(|face| face["person_id"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn photos_of_one_face_make_one_person_and_a_group_one_each() {
    let api = Api::deploy("CORE_USER", "PEOPLE_GROUPING", &[]).await;
    let token = api.user("lena").await;
    let mut ids = Vec::new();
    for photo in variants_of_one_face() {
        let content_type = if photo.starts_with(b"\x89PNG") { "image/png" } else { "image/jpeg" };
        ids.push(api.upload(&token, content_type, photo).await);
    }
    // One at a time: the emulator's transactions are not isolated (a cancelled one restores
    // the table from a copy taken when it began, undoing what others wrote meanwhile), so
    // whole analyses racing here would test the emulator. Concurrent grouping is the store
    // test's below, where the racing transactions are short.
    let mut poller = api.poller();
    poller.concurrency = 1;
    api.analyse_all(&token, &poller).await;
    let listed = persons(&api, &token).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!((listed[0]["face_count"].as_u64(), listed[0]["photo_count"].as_u64()), (Some(4), Some(4)));
    assert!(listed[0]["name"].is_null() && listed[0]["hidden"] == false);
    let astronaut = listed[0]["id"].as_str().unwrap().to_owned();
    // Its cover is a small crop of the face, under the photo's key.
    let (status, cover) = http(Method::GET, listed[0]["cover_url"].as_str().unwrap(), &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    let cover = image::load_from_memory(&cover).unwrap();
    assert_eq!((cover.width(), cover.height()), (160, 160));
    for id in &ids {
        assert_eq!(face_persons(&api, &token, id).await, [astronaut.as_str()]);
    }

    // A group photo: three more persons, one per face, none of them the astronaut.
    let group = api.upload(&token, "image/jpeg", fixture("sample2.jpg")).await;
    api.analyse_all(&token, &poller).await;
    let in_group = face_persons(&api, &token, &group).await;
    assert_eq!(in_group.len(), 3);
    assert!(!in_group.contains(&astronaut));
    assert_eq!(in_group.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "{in_group:?}");
    let listed = persons(&api, &token).await;
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[0]["id"], astronaut.as_str(), "most photos first");

    // Search by person (the index, like labels), alone, AND another person, AND a label.
    let found = |query: String| {
        let api = &api;
        let token = token.clone();
        async move {
            let reply = api.call(Method::GET, &query, Some(&token), None).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.raw);
            reply.body["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(found(format!("/images/search?person={astronaut}")).await, newest_first);
    assert_eq!(found(format!("/persons/{astronaut}/images")).await, newest_first);
    assert_eq!(found(format!("/images/search?person={}&person={}", in_group[0], in_group[2])).await, [group.as_str()]);
    assert_eq!(found(format!("/images/search?person={}&label=people", in_group[1])).await, [group.as_str()]);
    assert!(found(format!("/images/search?person={}&label=cat", in_group[1])).await.is_empty());
    assert!(found(format!("/images/search?person={astronaut}&person={}", in_group[0])).await.is_empty());
    let bad_person = api.call(Method::GET, "/images/search?person=nobody", Some(&token), None).await;
    assert_eq!((bad_person.status, bad_person.body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_person_id")));

    // Naming and hiding; a name taken by another person is a 409 naming that person.
    let patch = |id: String, body: Value| {
        let api = &api;
        let token = token.clone();
        async move { api.call(Method::PATCH, &format!("/persons/{id}"), Some(&token), Some(body)).await }
    };
    let named = patch(astronaut.clone(), serde_json::json!({"name": "  Eileen Collins "})).await;
    assert_eq!((named.status, named.body["name"].as_str()), (StatusCode::OK, Some("Eileen Collins")), "{}", named.raw);
    let taken = patch(in_group[0].clone(), serde_json::json!({"name": "eileen collins"})).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.raw);
    assert_eq!(
        (taken.body["error"]["code"].as_str(), taken.body["error"]["person_id"].as_str()),
        (Some("name_taken"), Some(astronaut.as_str()))
    );
    for bad in [
        serde_json::json!({"name": "   "}),
        serde_json::json!({"name": "x".repeat(65)}),
        serde_json::json!({}),
        serde_json::json!({"colour": "red"}),
        serde_json::json!({"hidden": "yes"}),
    ] {
        assert_eq!(patch(in_group[0].clone(), bad.clone()).await.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let hidden = patch(in_group[2].clone(), serde_json::json!({"hidden": true})).await;
    assert_eq!(hidden.body["hidden"], true, "{}", hidden.raw);
    assert_eq!(persons(&api, &token).await.len(), 3, "hidden persons are left out by default");
    let all = api.call(Method::GET, "/persons?hidden=true", Some(&token), None).await;
    assert_eq!(all.body["persons"].as_array().unwrap().len(), 4);
    assert_eq!(patch(in_group[2].clone(), serde_json::json!({"hidden": false})).await.status, StatusCode::OK);
    // The name survives later grouping: a fifth photo of the face joins the named person.
    let fifth = api
        .upload(
            &token,
            "image/png",
            encoded(&imageops::resize(&person_fixture("astronaut.png"), 400, 400, FilterType::Triangle), ImageFormat::Png),
        )
        .await;
    api.analyse_all(&token, &poller).await;
    assert_eq!(face_persons(&api, &token, &fifth).await, [astronaut.as_str()]);
    let one = api.call(Method::GET, &format!("/persons/{astronaut}"), Some(&token), None).await;
    assert_eq!((one.body["name"].as_str(), one.body["face_count"].as_u64()), (Some("Eileen Collins"), Some(5)), "{}", one.raw);
    assert_eq!(api.call(Method::DELETE, &format!("/images/{fifth}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);

    // One person by id; a page of two with a cursor to the rest.
    let one = api.call(Method::GET, &format!("/persons/{astronaut}"), Some(&token), None).await;
    assert_eq!((one.status, one.body["photo_count"].as_u64()), (StatusCode::OK, Some(4)), "{}", one.raw);
    let page = api.call(Method::GET, "/persons?limit=2", Some(&token), None).await;
    assert_eq!(page.body["persons"].as_array().unwrap().len(), 2);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let rest = api.call(Method::GET, &format!("/persons?limit=2&cursor={cursor}"), Some(&token), None).await;
    assert_eq!(rest.body["persons"].as_array().unwrap().len(), 2);
    assert!(rest.body["next_cursor"].is_null());
    let bad = api.call(Method::GET, "/persons?cursor=nonsense", Some(&token), None).await;
    assert_eq!((bad.status, bad.body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_cursor")));

    // Another user sees none of it: the id is a 404 there.
    let other = api.user("mona").await;
    assert_eq!(api.call(Method::GET, &format!("/persons/{astronaut}"), Some(&other), None).await.status, StatusCode::NOT_FOUND);
    assert!(persons(&api, &other).await.is_empty());
    assert_eq!(api.call(Method::GET, &format!("/persons/{astronaut}/images"), Some(&other), None).await.status, StatusCode::NOT_FOUND);
    let renamed = api.call(Method::PATCH, &format!("/persons/{astronaut}"), Some(&other), Some(serde_json::json!({"name": "mine"}))).await;
    assert_eq!(renamed.status, StatusCode::NOT_FOUND);
    let theirs = api.call(Method::GET, &format!("/images/search?person={astronaut}"), Some(&other), None).await;
    assert_eq!(theirs.body["items"], serde_json::json!([]), "{}", theirs.raw);
    assert_eq!(api.call(Method::GET, "/persons/not-an-id", Some(&other), None).await.status, StatusCode::BAD_REQUEST);

    // Deleting photos keeps the counts exact; a person with no face left goes.
    for id in &ids[..3] {
        assert_eq!(api.call(Method::DELETE, &format!("/images/{id}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    }
    let one = api.call(Method::GET, &format!("/persons/{astronaut}"), Some(&token), None).await;
    assert_eq!((one.body["face_count"].as_u64(), one.body["photo_count"].as_u64()), (Some(1), Some(1)), "{}", one.raw);
    // Its cover was on the first photo: it takes the face of the photo it has left.
    let cover = one.body["cover_url"].as_str().expect("a person with faces has a cover");
    assert!(cover.contains(&format!("{}/face-0.jpg", ids[3])), "{cover}");
    assert_eq!(api.call(Method::DELETE, &format!("/images/{}", ids[3]), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.call(Method::GET, &format!("/persons/{astronaut}"), Some(&token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(persons(&api, &token).await.len(), 3);
    // Deleting the photos took their face crops with them; the group photo keeps its three.
    let keys = api.object_keys().await;
    assert!(ids.iter().all(|id| !keys.iter().any(|key| key.contains(id.as_str()))), "{keys:?}");
    assert_eq!(keys.iter().filter(|key| key.starts_with(&format!("lena/{group}/face-"))).count(), 3, "{keys:?}");
    api.tear_down().await;
}

/// The store alone, four photos of one new person grouped at the same moment: the per-user
/// lock makes the late ones retry and join the first one's person; asked again for a photo
/// (a redelivery), it gives the same person and counts nothing twice.
#[tokio::test]
async fn concurrent_grouping_of_one_new_face_makes_one_person_and_redelivery_adds_nothing() {
    use aws_adapters::DynamoImages;
    use domain::testing::face_at;
    use domain::{ImageId, PersonStore, UserName};
    let api = Api::deploy("CORE_USER", "PEOPLE_LOCK", &[]).await;
    let token = api.user("nina").await;
    let mut ids = Vec::new();
    for seed in 0..4u8 {
        let photo = RgbImage::from_pixel(8, 8, image::Rgb([seed, 0, 0]));
        ids.push(ImageId::parse(&api.upload(&token, "image/png", encoded(&photo, ImageFormat::Png)).await).unwrap());
    }
    let store = DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let user = UserName::parse("nina").unwrap();
    let groupings = ids.iter().zip([0.0, 0.01, 0.02, 0.03]).map(|(id, offset)| {
        let (store, user, faces) = (&store, &user, vec![face_at(offset)]);
        async move { store.group_faces(user, *id, &faces, &[true], 0.4).await.unwrap().persons }
    });
    let persons: Vec<_> = futures::future::join_all(groupings).await.into_iter().flatten().collect();
    assert_eq!(persons.len(), 4);
    assert!(persons.iter().all(|person| person.is_some() && *person == persons[0]), "{persons:?}");
    let again = store.group_faces(&user, ids[0], &[face_at(0.0)], &[true], 0.4).await.unwrap().persons;
    assert_eq!(again, [persons[0]]);
    let listed = store.persons(&user).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].face_count, listed[0].photo_count), (4, 4));
    api.tear_down().await;
}

/// The user's corrections: a merge (the name kept is the first one given), a refused merge of
/// persons on one photo, faces moved to a new person and to another person; then a new photo of
/// the moved face's old person joins it while the moved face stays where the user put it. Other
/// users' ids are 404s that change nothing; deleting a photo keeps every count exact.
#[tokio::test]
async fn merges_and_moved_faces_hold() {
    let api = Api::deploy("CORE_USER", "PEOPLE_CORRECTIONS", &[]).await;
    let token = api.user("omar").await;
    let variants = variants_of_one_face();
    let mut poller = api.poller();
    poller.concurrency = 1;
    let first = api.upload(&token, "image/png", variants[0].clone()).await;
    let second = api.upload(&token, "image/jpeg", variants[1].clone()).await;
    let group = api.upload(&token, "image/jpeg", fixture("sample2.jpg")).await;
    api.analyse_all(&token, &poller).await;
    let astronaut = face_persons(&api, &token, &first).await[0].clone();
    assert_eq!(face_persons(&api, &token, &second).await, [astronaut.as_str()]);
    let in_group = face_persons(&api, &token, &group).await;
    assert_eq!(persons(&api, &token).await.len(), 4);
    let call = |method: Method, path: String, body: Value| {
        let (api, token) = (&api, token.clone());
        async move { api.call(method, &path, Some(&token), Some(body)).await }
    };
    let person = |id: String| {
        let (api, token) = (&api, token.clone());
        async move { api.call(Method::GET, &format!("/persons/{id}"), Some(&token), None).await }
    };
    let counts =
        |reply: &common::api::Reply| (reply.body["face_count"].as_u64().unwrap_or(0), reply.body["photo_count"].as_u64().unwrap_or(0));
    let found = |id: String| {
        let (api, token) = (&api, token.clone());
        async move {
            let reply = api.call(Method::GET, &format!("/images/search?person={id}"), Some(&token), None).await;
            reply.body["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };

    // Merge a group face's person into the astronaut: named after the merged one (the target has
    // no name), three faces on three photos, the merged id gone everywhere.
    assert_eq!(call(Method::PATCH, format!("/persons/{}", in_group[1]), serde_json::json!({"name": "Bea"})).await.status, StatusCode::OK);
    let merged = call(Method::POST, format!("/persons/{astronaut}/merge"), serde_json::json!({"from": [in_group[1]]})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.raw);
    assert_eq!(
        (merged.body["id"].as_str(), merged.body["name"].as_str(), counts(&merged)),
        (Some(astronaut.as_str()), Some("Bea"), (3, 3))
    );
    assert_eq!(person(in_group[1].clone()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(face_persons(&api, &token, &group).await, [in_group[0].clone(), astronaut.clone(), in_group[2].clone()]);
    assert_eq!(found(astronaut.clone()).await, [group.clone(), second.clone(), first.clone()]);
    assert!(found(in_group[1].clone()).await.is_empty());
    // Only the merge's own item and the photo's grouping (read through the merge) still name it:
    // no record, face or index entry does.
    let items = api.image_items().await;
    let naming: Vec<&str> = items
        .iter()
        .filter(|item| format!("{item:?}").contains(in_group[1].as_str()))
        .map(|item| item["sk"].as_s().unwrap().as_str())
        .collect();
    assert_eq!(naming, [format!("image#{group}#grouped"), format!("person#{}", in_group[1])], "{naming:?}");
    assert_eq!(persons(&api, &token).await.len(), 3);

    // Refused merges: two persons of one photo, itself, nobody, no such person, not an id.
    let refused = call(Method::POST, format!("/persons/{astronaut}/merge"), serde_json::json!({"from": [in_group[0]]})).await;
    assert_eq!((refused.status, refused.error_code()), (StatusCode::CONFLICT, "same_photo"), "{}", refused.raw);
    for (from, status, code) in [
        (serde_json::json!([astronaut]), StatusCode::BAD_REQUEST, "invalid_merge"),
        (serde_json::json!([]), StatusCode::BAD_REQUEST, "invalid_merge"),
        (serde_json::json!(["01JAAAAAAAAAAAAAAAAAAAAAAA"]), StatusCode::NOT_FOUND, "not_found"),
        (serde_json::json!(["nobody"]), StatusCode::BAD_REQUEST, "invalid_person_id"),
    ] {
        let reply = call(Method::POST, format!("/persons/{astronaut}/merge"), serde_json::json!({"from": from})).await;
        assert_eq!((reply.status, reply.error_code()), (status, code), "{from}: {}", reply.raw);
    }

    // The merged face on the group photo moves to a person of its own.
    let group_face = format!("{group}-1");
    let moved = call(Method::PUT, format!("/faces/{group_face}"), serde_json::json!({"person_id": null})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.raw);
    let alone = moved.body["person_id"].as_str().unwrap().to_owned();
    assert!(![astronaut.as_str(), in_group[1].as_str()].contains(&alone.as_str()));
    assert_eq!(moved.body["id"], group_face.as_str());
    assert_eq!(counts(&person(alone.clone()).await), (1, 1));
    assert_eq!(counts(&person(astronaut.clone()).await), (2, 2));
    assert_eq!(found(alone.clone()).await, [group.as_str()]);
    // A face never joins a person already on its photo; a face or person to move to must exist.
    let same = call(Method::PUT, format!("/faces/{group_face}"), serde_json::json!({"person_id": in_group[0]})).await;
    assert_eq!((same.status, same.error_code()), (StatusCode::CONFLICT, "same_photo"), "{}", same.raw);
    for (face, body, status) in [
        (format!("{group}-7"), serde_json::json!({"person_id": null}), StatusCode::NOT_FOUND),
        (group_face.clone(), serde_json::json!({"person_id": "01JAAAAAAAAAAAAAAAAAAAAAAA"}), StatusCode::NOT_FOUND),
        (group_face.clone(), serde_json::json!({}), StatusCode::BAD_REQUEST),
        (group_face.clone(), serde_json::json!({"person_id": 7}), StatusCode::BAD_REQUEST),
        ("not-a-face".to_owned(), serde_json::json!({"person_id": null}), StatusCode::BAD_REQUEST),
    ] {
        let reply = call(Method::PUT, format!("/faces/{face}"), body.clone()).await;
        assert_eq!(reply.status, status, "{face} {body}: {}", reply.raw);
    }

    // The second astronaut photo's face is moved to a group person: the user's word.
    let corrected = call(Method::PUT, format!("/faces/{second}-0"), serde_json::json!({"person_id": in_group[2]})).await;
    assert_eq!(corrected.body["person_id"], in_group[2].as_str(), "{}", corrected.raw);
    assert_eq!(counts(&person(astronaut.clone()).await), (1, 1));
    assert_eq!(counts(&person(in_group[2].clone()).await), (2, 2));

    // Another photo of the astronaut joins the astronaut; the moved face stays moved.
    let third = api.upload(&token, "image/png", variants[2].clone()).await;
    api.analyse_all(&token, &poller).await;
    assert_eq!(face_persons(&api, &token, &third).await, [astronaut.as_str()]);
    assert_eq!(face_persons(&api, &token, &second).await, [in_group[2].clone()]);
    assert_eq!(counts(&person(astronaut.clone()).await), (2, 2));
    assert_eq!(person(astronaut.clone()).await.body["name"], "Bea");

    // Another user: every id is a 404, and nothing changes.
    let other = api.user("zara").await;
    let before = api.state().await;
    for (method, path, body) in [
        (Method::POST, format!("/persons/{astronaut}/merge"), serde_json::json!({"from": [alone]})),
        (Method::PUT, format!("/faces/{first}-0"), serde_json::json!({"person_id": null})),
    ] {
        let reply = api.call(method, &path, Some(&other), Some(body)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {}", reply.raw);
    }
    assert_eq!(api.state().await, before, "another user changed omar's persons");

    // Deleting the group photo: the person of its own goes, the others lose one face each.
    assert_eq!(api.call(Method::DELETE, &format!("/images/{group}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(person(alone).await.status, StatusCode::NOT_FOUND);
    assert_eq!(counts(&person(in_group[2].clone()).await), (1, 1));
    assert_eq!(counts(&person(astronaut.clone()).await), (2, 2));
    assert_eq!(found(in_group[2].clone()).await, [second.as_str()]);
    api.tear_down().await;
}

/// Strays and suggestions in the DynamoDB store, faces placed by hand (the analyzer's part is
/// the in-memory test's): a person of one face joins the person that grew near it; persons a
/// little farther apart are suggested through the API with their distance, never two of one
/// photo; "not the same" is kept, also through a merge; another user's ids are 404s.
#[tokio::test]
async fn strays_join_growing_persons_and_suggestions_are_answered() {
    use aws_adapters::DynamoImages;
    use domain::testing::face_at;
    use domain::{Analysis, FoundFace, ImageId, ImageStore, PersonId, PersonStore, UserName, persons};
    let api = Api::deploy("CORE_USER", "PEOPLE_SUGGESTIONS", &[]).await;
    let faces = api.config.settings.faces;
    let token = api.user("iris").await;
    let store = DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let user = UserName::parse("iris").unwrap();
    let mut seed = 0u8;
    // What the analyzer does with a photo's faces, positions given.
    let mut analyse = async |at: &[f32]| -> Vec<PersonId> {
        seed += 1;
        let photo = RgbImage::from_pixel(8, 8, image::Rgb([seed, 0, 0]));
        let id = ImageId::parse(&api.upload(&token, "image/png", encoded(&photo, ImageFormat::Png)).await).unwrap();
        let found: Vec<FoundFace> = at.iter().map(|at| face_at(*at)).collect();
        let grouped = store.group_faces(&user, id, &found, &vec![true; found.len()], faces.max_distance).await.unwrap();
        let record = store.get(&user, id).await.unwrap().unwrap();
        let grown: Vec<PersonId> = grouped.persons.iter().flatten().copied().collect();
        let analysis = Analysis { faces: found, persons: grouped.persons, ..Analysis::default() };
        assert!(store.put_analysis(&record, &analysis).await.unwrap());
        persons::absorb_strays(&store, &user, &grouped.strays).await.unwrap();
        grown
    };
    let suggested = async |id: &PersonId| {
        let reply = api.call(Method::GET, &format!("/persons/{id}/suggestions"), Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
        let list = reply.body["suggestions"].as_array().unwrap().clone();
        list.iter().map(|s| (s["person"]["id"].as_str().unwrap().to_owned(), s["distance"].as_f64().unwrap())).collect::<Vec<_>>()
    };

    // A at 0, B just beyond the threshold: two persons, each suggested as the other.
    let stray_at = faces.max_distance + 0.07;
    assert!(stray_at < faces.suggest_distance, "CORE_USER's suggest_distance no longer reaches the stray");
    let a = analyse(&[0.0]).await[0];
    let b = analyse(&[stray_at]).await[0];
    assert_ne!(a, b);
    let near = suggested(&a).await;
    assert_eq!(near.len(), 1, "{near:?}");
    assert_eq!(near[0].0, b.to_string());
    assert!((near[0].1 - f64::from(stray_at)).abs() < 1e-3, "{near:?}");
    // C between them, nearer A: A's centre comes within reach of B, which joins it.
    assert_eq!(analyse(&[0.25]).await, [a]);
    let listed = persons(&api, &token).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!((listed[0]["face_count"].as_u64(), listed[0]["photo_count"].as_u64()), (Some(3), Some(3)));
    let found = api.call(Method::GET, &format!("/images/search?person={a}"), Some(&token), None).await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 3, "{}", found.raw);

    // Two faces of one photo, as near each other as a suggestion: never suggested.
    let pair = analyse(&[5.0, 5.0 + faces.max_distance + 0.05]).await;
    assert_eq!(pair.len(), 2);
    assert!(suggested(&pair[0]).await.is_empty());
    // D, a little beyond reach of A: suggested; "not the same" is kept, through a merge too.
    let centre = (0.0 + stray_at + 0.25) / 3.0;
    let d = analyse(&[centre + faces.max_distance + 0.03]).await[0];
    assert_eq!(suggested(&a).await.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), [d.to_string()]);
    let dismiss = |id: &PersonId, other: &PersonId| format!("/persons/{id}/suggestions/{other}");
    let reply = api.call(Method::DELETE, &dismiss(&a, &d), Some(&token), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.raw);
    assert!(suggested(&a).await.is_empty() && suggested(&d).await.is_empty());
    // E as far from A on the other side: suggested. Merged with D, its centre is A's, but D
    // was said to be someone else than A, so the merge is too.
    let e = analyse(&[centre - faces.max_distance - 0.03]).await[0];
    assert_eq!(suggested(&a).await.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), [e.to_string()]);
    let merged =
        api.call(Method::POST, &format!("/persons/{e}/merge"), Some(&token), Some(serde_json::json!({"from": [d.to_string()]}))).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.raw);
    assert!(suggested(&a).await.is_empty(), "the merge forgot D's dismissal");
    assert!(suggested(&e).await.is_empty());

    // Bad requests, and another user's ids: 4xx that change nothing.
    for (path, status, code) in [
        (dismiss(&a, &a), StatusCode::BAD_REQUEST, "same_person"),
        (format!("/persons/{a}/suggestions/nobody"), StatusCode::BAD_REQUEST, "invalid_person_id"),
        (dismiss(&a, &PersonId::new()), StatusCode::NOT_FOUND, "not_found"),
    ] {
        let reply = api.call(Method::DELETE, &path, Some(&token), None).await;
        assert_eq!((reply.status, reply.error_code()), (status, code), "{path}: {}", reply.raw);
    }
    let other = api.user("jude").await;
    let before = api.state().await;
    for (method, path) in [(Method::GET, format!("/persons/{a}/suggestions")), (Method::DELETE, dismiss(&a, &pair[0]))] {
        let reply = api.call(method, &path, Some(&other), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}: {}", reply.raw);
    }
    assert_eq!(api.state().await, before, "another user changed iris's persons");
    api.tear_down().await;
}
