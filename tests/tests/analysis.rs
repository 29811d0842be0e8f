//! The analysis pipeline against the emulator: real photos labelled by the built-in models
//! and found by label and by parent label, albums, failures, retries and the dead-letter queue,
//! idempotent redelivery, and the Rekognition engine's requests.

mod common;

use std::collections::BTreeMap;

use analyzer::labeler::Labeler;
use analyzer::labeler::rekognition::RekognitionLabeler;
use analyzer::{Analyzer, Outcome};
use aws_adapters::DynamoImages;
use aws_adapters::images::bulk::{album_items, analysed_items};
use axum::http::{Method, StatusCode};
use common::api::{Api, fixture, http, put_as_ticket, resized};
use domain::{AlbumStore, Analysis, FoundFace, ImageId, ImageStore, PersonId, UserName};
use runtime::config::VisionEngine;
use serde_json::{Value, json};

fn ids(reply: &common::api::Reply) -> Vec<String> {
    reply.ids()
}

async fn albums(api: &Api, token: &str) -> BTreeMap<String, u64> {
    let reply = api.call(Method::GET, "/albums", Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let items = reply.body["items"].as_array().unwrap();
    let counts: Vec<u64> = items.iter().map(|album| album["photos"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|pair| pair[0] >= pair[1]), "albums not sorted by count: {counts:?}");
    items.iter().map(|album| (album["label"].as_str().unwrap().to_owned(), album["photos"].as_u64().unwrap())).collect()
}

#[tokio::test]
async fn real_photos_are_found_by_their_labels_and_parents_and_albums_count_them() {
    let api = Api::deploy("CORE_USER", "ANALYSIS_PHOTOS", &[]).await;
    let token = api.user("henry").await;
    let cat = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    let coffee = api.upload(&token, "image/png", fixture("coffee.png")).await;
    let motorcycle = api.upload(&token, "image/png", fixture("motorcycle_left.png")).await;
    // The group photo goes the presigned way.
    let group_photo = fixture("sample2.jpg");
    let ticket = api
        .call(Method::POST, "/images/uploads", Some(&token), Some(json!({"content_type": "image/jpeg", "size": group_photo.len()})))
        .await;
    let group = ticket.body["id"].as_str().unwrap().to_owned();
    assert_eq!(common::api::put_as_ticket(&ticket.body, group_photo).await, StatusCode::OK);
    assert_eq!(api.call(Method::POST, &format!("/images/{group}/complete"), Some(&token), None).await.status, StatusCode::ACCEPTED);

    let poller = api.poller();
    api.analyse_all(&token, &poller).await;

    for (photo, labels) in [
        (&cat, ["cat", "animal"]),
        (&coffee, ["coffee", "drink"]),
        (&motorcycle, ["motorcycle", "vehicle"]),
        (&group, ["person", "people"]),
    ] {
        let view = api.call(Method::GET, &format!("/images/{photo}"), Some(&token), None).await;
        assert_eq!(view.body["status"], "ready", "{}", view.raw);
        for label in labels {
            let found = api.call(Method::GET, &format!("/images/search?label={label}"), Some(&token), None).await;
            assert!(ids(&found).contains(photo), "{label}: {} not in {}\nits labels: {}", photo, found.raw, view.body["labels"]);
        }
        let both = api.call(Method::GET, &format!("/images/search?label={}&label={}", labels[0], labels[1]), Some(&token), None).await;
        assert_eq!(ids(&both), [photo.as_str()], "{labels:?}");
    }
    let cats = api.call(Method::GET, "/images/search?label=cat", Some(&token), None).await;
    assert_eq!(ids(&cats), [cat.as_str()], "only the cat is a cat");

    let before = albums(&api, &token).await;
    assert_eq!(before.get("cat"), Some(&1));
    assert_eq!(before.get("animal"), Some(&1));
    assert_eq!(before.get("vehicle"), Some(&1));
    // A second cat: the cat albums count two, and the album lists both.
    let second_cat = api.upload(&token, "image/png", resized(&fixture("chelsea.png"), 300)).await;
    api.analyse_all(&token, &poller).await;
    let with_two = albums(&api, &token).await;
    assert_eq!(with_two.get("cat"), Some(&2), "{with_two:?}");
    let album = api.call(Method::GET, "/albums/cat", Some(&token), None).await;
    assert_eq!(ids(&album), [second_cat.clone(), cat.clone()]);
    let listing = api.call(Method::GET, "/albums", Some(&token), None).await;
    let cat_album = listing.body["items"].as_array().unwrap().iter().find(|a| a["label"] == "cat").unwrap();
    assert_eq!(cat_album["cover_id"], Value::String(second_cat.clone()));
    let (status, _) = http(Method::GET, cat_album["cover_url"].as_str().unwrap(), &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);

    // Deletes count down exactly; an emptied album disappears; covers follow.
    assert_eq!(api.call(Method::DELETE, &format!("/images/{second_cat}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    let listing = api.call(Method::GET, "/albums", Some(&token), None).await;
    let cat_album = listing.body["items"].as_array().unwrap().iter().find(|a| a["label"] == "cat").unwrap();
    assert_eq!((cat_album["photos"].as_u64(), cat_album["cover_id"].as_str()), (Some(1), Some(cat.as_str())));
    assert_eq!(albums(&api, &token).await, before);
    assert_eq!(api.call(Method::DELETE, &format!("/images/{cat}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    let after = albums(&api, &token).await;
    assert!(!after.contains_key("cat") && !after.contains_key("feline"), "{after:?}");
    assert_eq!(after.get("vehicle"), Some(&1));
    api.tear_down().await;
}

/// Places and times through the pipeline: photos carrying EXIF GPS and DateTimeOriginal
/// (written as cameras do) get the nearest place by their analysis, are found by its names
/// with accents and case folded, are counted in `/places`; a photo at sea, one without GPS and
/// one with a malformed block get none. They are found by when they were taken, through the
/// time partition's pages and a place's entries, a photo without EXIF by its upload on the
/// user's clock in the zones farthest ahead of and behind UTC; a year ago today is a memory.
/// Deleting photos leaves no place counter, place entry or time entry behind.
#[tokio::test]
async fn photos_are_placed_and_dated_by_their_exif_searched_and_counted() {
    use analyzer::testing::{gps, jpeg_with, taken};
    use time::{Duration, OffsetDateTime, UtcOffset};
    let with = |mut fields: Vec<exif::Field>, at: &str| {
        fields.push(taken(at));
        jpeg_with(&fields)
    };
    let now = OffsetDateTime::now_utc();
    let a_year_ago = now - Duration::days(365);
    let a_year_ago = format!("{:04}-{:02}-{:02}T12:00:00", a_year_ago.year(), u8::from(a_year_ago.month()), a_year_ago.day());
    let api = Api::deploy("CORE_USER", "ANALYSIS_PLACES", &[]).await;
    let token = api.user("gil").await;
    let lisbon = api.upload(&token, "image/jpeg", with(gps(38.7139, "N", 9.1394, "W"), "2019-06-30T23:59:59")).await;
    let sintra = api.upload(&token, "image/jpeg", with(gps(38.8029, "N", 9.3817, "W"), &a_year_ago)).await;
    let sydney = api.upload(&token, "image/jpeg", with(gps(33.8688, "S", 151.2093, "E"), "2019-07-01T00:00:00")).await;
    let at_sea = api.upload(&token, "image/jpeg", jpeg_with(&gps(35.0, "N", 40.0, "W"))).await;
    let mut malformed = gps(38.7, "N", 9.1, "W");
    malformed.remove(0);
    let broken = api.upload(&token, "image/jpeg", jpeg_with(&malformed)).await;
    let without = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    api.analyse_all(&token, &api.poller()).await;

    let place = async |id: &str| api.call(Method::GET, &format!("/images/{id}"), Some(&token), None).await.body["place"].clone();
    let lisbon_place = place(&lisbon).await;
    assert_eq!(
        (&lisbon_place["city"], &lisbon_place["country"], &lisbon_place["country_code"], &lisbon_place["lat"]),
        (&json!("Lisbon"), &json!("Portugal"), &json!("PT"), &json!(38.7139)),
        "{lisbon_place}"
    );
    assert_eq!(place(&sydney).await["country_code"], json!("AU"));
    for id in [&at_sea, &broken, &without] {
        assert_eq!(place(id).await, Value::Null, "{id}");
    }
    let search = async |query: &str| ids(&api.call(Method::GET, &format!("/images/search?{query}"), Some(&token), None).await);
    let mut portugal = vec![lisbon.clone(), sintra.clone()];
    portugal.sort_by(|a, b| b.cmp(a));
    assert_eq!(search("place=PORTUGAL").await, portugal);
    assert_eq!(search("place=lisbon").await.len(), 2, "Sintra is in the region of Lisbon");
    assert_eq!(search("place=portugal&place=australia").await, Vec::<String>::new());
    let places = api.call(Method::GET, "/places", Some(&token), None).await;
    let countries: Vec<(&str, u64)> = places.body["countries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|country| (country["country_code"].as_str().unwrap(), country["photo_count"].as_u64().unwrap()))
        .collect();
    assert_eq!(countries, [("PT", 2), ("AU", 1)], "{}", places.raw);

    // Time: the edges of a day, a page at a time through the time partition.
    assert_eq!(search("taken_from=2019-06-01&taken_to=2019-06-30").await, [lisbon.as_str()]);
    let (mut seen, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let query =
            format!("taken_from=2019-06-30&taken_to=2019-07-01&limit=1{}", cursor.map(|c| format!("&cursor={c}")).unwrap_or_default());
        let page = api.call(Method::GET, &format!("/images/search?{query}"), Some(&token), None).await;
        seen.extend(ids(&page));
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, [sydney.clone(), lisbon.clone()], "newest taken first");
    assert_eq!(search("place=portugal&taken_to=2019-12-31").await, [lisbon.as_str()], "a place's entries filtered by time");
    // The photo without EXIF was taken at its upload: today on the clock of the zone farthest
    // ahead of UTC, and of the one farthest behind.
    for (tz, hours) in [("Pacific/Kiritimati", 14), ("Etc/GMT%2B12", -12)] {
        let there = now.to_offset(UtcOffset::from_hms(hours, 0, 0).unwrap()).date();
        let day = format!("{:04}-{:02}-{:02}", there.year(), u8::from(there.month()), there.day());
        assert!(search(&format!("taken_from={day}&taken_to={day}&tz={tz}")).await.contains(&without), "{tz} {day}");
    }
    let memories = api.call(Method::GET, "/memories?tz=UTC", Some(&token), None).await;
    assert_eq!(memories.status, StatusCode::OK, "{}", memories.raw);
    assert_eq!(memories.body["memories"][0]["years_ago"], json!(1), "{}", memories.raw);
    assert_eq!(memories.body["memories"][0]["photos"][0]["id"], json!(sintra), "{}", memories.raw);

    for id in [&lisbon, &sintra, &sydney, &at_sea, &broken, &without] {
        assert_eq!(api.call(Method::DELETE, &format!("/images/{id}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    }
    let left: Vec<String> = api
        .image_items()
        .await
        .iter()
        .filter_map(|item| item.get("sk")?.as_s().ok().cloned())
        .filter(|sk| sk.contains("place") || sk.contains("taken"))
        .collect();
    assert!(left.is_empty(), "place and time items left behind: {left:?}");
    assert!(api.call(Method::GET, "/places", Some(&token), None).await.body["countries"].as_array().unwrap().is_empty());
    assert_eq!(api.call(Method::GET, "/memories?tz=UTC", Some(&token), None).await.body, json!({"memories": []}));
    api.tear_down().await;
}

/// The benchmark bulk-loads large tenants with `analysed_items`; what it loads must be what an
/// upload and its analysis leave in the table, or the search costs it measures mean nothing.
#[tokio::test]
async fn bulk_loaded_items_are_those_an_upload_and_its_analysis_write() {
    let api = Api::deploy("CORE_USER", "ANALYSIS_BULK", &[]).await;
    let token = api.user("iris").await;
    let id = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    api.analyse_all(&token, &api.poller()).await;

    let images = DynamoImages::new(api.aws.dynamodb.clone(), &api.config.images_table);
    let record = images.get(&UserName::parse("iris").unwrap(), ImageId::parse(&id).unwrap()).await.unwrap().unwrap();
    assert!(record.labels.iter().any(|label| label.name == "cat"), "{:?}", record.labels);
    let sort_key = |item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| item["sk"].as_s().unwrap().clone();
    let mut written: Vec<_> = api.image_items().await.into_iter().filter(|item| sort_key(item).starts_with("image#")).collect();
    written.sort_by_key(sort_key);
    let mut loaded = analysed_items(&record).unwrap();
    loaded.sort_by_key(sort_key);
    assert_eq!(loaded.len(), record.labels.len() + 2, "the record, one entry per label and its time entry");
    assert_eq!(loaded, written);

    let user = UserName::parse("iris").unwrap();
    let mut albums: Vec<_> = api.image_items().await.into_iter().filter(|item| sort_key(item).starts_with("album#")).collect();
    albums.sort_by_key(sort_key);
    let mut loaded = album_items(&user, &images.albums(&user).await.unwrap()).unwrap();
    loaded.sort_by_key(sort_key);
    assert_eq!(loaded.len(), record.labels.len(), "one album per label");
    assert_eq!(loaded, albums);
    api.tear_down().await;
}

#[tokio::test]
async fn undecodable_or_replaced_photos_fail_with_a_reason_and_redelivery_adds_nothing() {
    let api = Api::deploy("CORE_USER", "ANALYSIS_FAILURES", &[]).await;
    let token = api.user("iris").await;
    // A PNG whose header is whole (so the upload is accepted) but whose pixels are cut off.
    let truncated = fixture("coffee.png")[..4096].to_vec();
    let broken = api.upload(&token, "image/png", truncated).await;
    // And a photo whose object is replaced by non-image bytes behind the API's back.
    let replaced = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    api.aws
        .s3
        .put_object()
        .bucket(&api.config.photo_bucket)
        .key(format!("iris/{replaced}"))
        .body(b"these are not the bytes of a photo".to_vec().into())
        .send()
        .await
        .unwrap();
    // And a presigned upload put again through its URL after `/complete` checked it: other
    // bytes of the signed length (S3 refuses any other length; the emulator does not check the
    // signature, so the length is checked at `/complete` as well).
    let photo = fixture("chelsea.png");
    let start = json!({"content_type": "image/png", "size": photo.len()});
    let ticket = api.call(Method::POST, "/images/uploads", Some(&token), Some(start)).await;
    let signed = ticket.body["upload_url"].as_str().unwrap().split("X-Amz-SignedHeaders=").nth(1).unwrap().split('&').next().unwrap();
    assert!(signed.split("%3B").any(|header| header == "content-length"), "the URL does not sign the length: {signed}");
    let swapped = ticket.body["id"].as_str().unwrap().to_owned();
    let complete_path = format!("/images/{swapped}/complete");
    let complete = || api.call(Method::POST, &complete_path, Some(&token), None);
    assert_eq!(put_as_ticket(&ticket.body, fixture("coffee.png")).await, StatusCode::OK);
    let longer = complete().await;
    assert_eq!((longer.status, longer.error_code()), (StatusCode::CONFLICT, "upload_size_mismatch"), "{}", longer.raw);
    assert_eq!(put_as_ticket(&ticket.body, photo.clone()).await, StatusCode::OK);
    assert_eq!(complete().await.status, StatusCode::ACCEPTED);
    let mut other = photo;
    other[2000] ^= 0xff;
    assert_eq!(put_as_ticket(&ticket.body, other).await, StatusCode::OK);

    let good = api.upload(&token, "image/png", fixture("coffee.png")).await;
    let poller = api.poller();
    api.analyse_all(&token, &poller).await;
    for id in [&broken, &replaced, &swapped] {
        let view = api.call(Method::GET, &format!("/images/{id}"), Some(&token), None).await;
        assert_eq!(view.body["status"], "failed", "{}", view.raw);
        assert!(view.body["failure_reason"].as_str().unwrap().len() > 10, "{}", view.raw);
    }
    let view = api.call(Method::GET, &format!("/images/{swapped}"), Some(&token), None).await;
    assert!(view.body["failure_reason"].as_str().unwrap().contains("replaced after it was checked"), "{}", view.raw);
    assert_eq!(view.body["labels"], json!([]), "the replacement was analysed: {}", view.raw);
    let queue = api.aws.sqs.receive_message().queue_url(&api.config.analysis_queue_url).send().await.unwrap();
    assert!(queue.messages.unwrap_or_default().is_empty(), "failed photos' messages were not acknowledged");

    // The same NewImage message again: nothing is added or counted twice.
    let engines = analyzer::services::engines(&api.config, VisionEngine::Builtin, &api.sdk).unwrap();
    let analyzer = api.analyzer(engines);
    let items = api.image_items().await.len();
    let counts = albums(&api, &token).await;
    let event =
        json!({"user_name": "iris", "image_id": good, "object_key": format!("iris/{good}"), "content_type": "image/png", "size": 1});
    let envelope = json!({"Type": "Notification", "Message": event.to_string()}).to_string();
    assert!(matches!(analyzer.handle(&envelope).await.unwrap(), Outcome::Skipped(_)));
    // Even labels written again through the store (a redelivery racing the first) add nothing.
    let store = DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let user = UserName::parse("iris").unwrap();
    let id = ImageId::parse(&good).unwrap();
    let record = store.get(&user, id).await.unwrap().unwrap();
    let again = Analysis { labels: record.labels.clone(), ..Analysis::default() };
    assert!(store.put_analysis(&store.get(&user, id).await.unwrap().unwrap(), &again).await.unwrap());
    assert_eq!(api.image_items().await.len(), items);
    assert_eq!(albums(&api, &token).await, counts);

    // An image deleted before (or while) its analysis runs leaves nothing behind.
    let doomed = api.upload(&token, "image/png", fixture("motorcycle_left.png")).await;
    let doomed_record = store.get(&user, ImageId::parse(&doomed).unwrap()).await.unwrap().unwrap();
    assert_eq!(api.call(Method::DELETE, &format!("/images/{doomed}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    assert!(!store.put_analysis(&doomed_record, &again).await.unwrap());
    poller.poll_once().await.unwrap();
    let leftovers: Vec<_> = api.image_items().await.into_iter().filter(|item| format!("{item:?}").contains(&doomed)).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(albums(&api, &token).await, counts);
    api.tear_down().await;
}

#[tokio::test]
async fn a_message_that_keeps_failing_reaches_the_dead_letter_queue() {
    let api = Api::deploy(
        "BASIC_USER",
        "ANALYSIS_POISON",
        &[
            ("timeout_seconds: 30", "timeout_seconds: 1"),
            ("visibility_timeout_seconds: 180", "visibility_timeout_seconds: 1"),
            ("max_receive_count: 3", "max_receive_count: 2"),
        ],
    )
    .await;
    let dead_letters = api
        .aws
        .sqs
        .get_queue_url()
        .queue_name(format!("{}-QueueAnalysis-dead-letter", api.files.stack_name()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    api.aws.sqs.send_message().queue_url(&api.config.analysis_queue_url).message_body("poison: not a NewImage event").send().await.unwrap();
    let poller = api.poller();
    let mut receives = 0;
    for _ in 0..10 {
        receives += poller.poll_once().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    assert_eq!(
        receives,
        2,
        "the poison message was not received exactly max_receive_count times; log:\n{}",
        common::api::captured_logs().lines().filter(|l| l.contains(" analyzer") || l.contains("SQS")).collect::<Vec<_>>().join("\n")
    );
    let dead = api.aws.sqs.receive_message().queue_url(&dead_letters).wait_time_seconds(1).send().await.unwrap();
    let bodies: Vec<_> = dead.messages.unwrap_or_default().into_iter().filter_map(|m| m.body).collect();
    assert_eq!(bodies, ["poison: not a NewImage event"]);
    api.tear_down().await;
}

#[tokio::test]
async fn the_rekognition_engine_sends_detect_labels_with_the_tier_limits() {
    let api = Api::deploy("FULL_PLATFORM_USER", "ANALYSIS_REKOGNITION", &[]).await;
    let labeler = RekognitionLabeler::new(aws_sdk_rekognition::Client::new(&api.sdk));
    let photo = std::sync::Arc::new(image::load_from_memory(&fixture("chelsea.png")).unwrap().to_rgb8());
    let settings = api.config.settings.labeler;
    // The emulator's answer is canned: only the request's acceptance and the shape of the
    // result are checked, never which labels come back.
    let labels = labeler.labels(&photo, settings.max_labels as usize, settings.min_confidence as f32).await.unwrap();
    assert!(labels.len() <= settings.max_labels as usize);
    for label in &labels {
        assert_eq!(label.name, label.name.to_lowercase());
        assert!(label.confidence >= settings.min_confidence as f32, "{label:?}");
    }
    // The tier's settings pick the engine: the analyzer of this stack uses Rekognition.
    assert_eq!(settings.engine, VisionEngine::Rekognition);
    let analyzer: Analyzer = api.analyzer(analyzer::Engines::labels_only(std::sync::Arc::new(labeler)));
    let token = api.user("jack").await;
    let id = api.upload(&token, "image/png", fixture("coffee.png")).await;
    let event = json!({"user_name": "jack", "image_id": id, "object_key": format!("jack/{id}"), "content_type": "image/png", "size": 1});
    assert!(matches!(analyzer.handle(&event.to_string()).await.unwrap(), Outcome::Analysed { .. }));
    api.tear_down().await;
}

#[test]
fn runtime_label_prints_the_builtin_labels_as_json() {
    let binary = common::deployer_binary().with_file_name("smart-album");
    let output = std::process::Command::new(binary)
        .args(["label"])
        .arg(common::repo_root().join("tests/fixtures/photos/chelsea.png"))
        .arg(common::repo_root().join("tests/fixtures/photos/coffee.png"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let names = |index: usize| -> Vec<String> {
        printed[index]["labels"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap().to_owned()).collect()
    };
    assert!(names(0).contains(&"cat".to_owned()), "{printed}");
    assert!(names(1).contains(&"espresso".to_owned()), "{printed}");
}

/// A tier with `features.faces`: the faces of a group photo are on its view and in the table
/// (one item each, with its descriptor), a redelivery rewrites them without adding any, and
/// deleting the photo takes them with it. A photo without people has none.
#[tokio::test]
async fn faces_of_a_group_photo_are_stored_rewritten_and_deleted_with_it() {
    let api = Api::deploy("CORE_USER", "ANALYSIS_FACES", &[]).await;
    let token = api.user("kate").await;
    let group = api.upload(&token, "image/jpeg", fixture("sample2.jpg")).await;
    let cat = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    api.analyse_all(&token, &api.poller()).await;

    let view = api.call(Method::GET, &format!("/images/{group}"), Some(&token), None).await;
    let faces = view.body["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 3, "{}", view.raw);
    let mut persons = std::collections::BTreeSet::new();
    for (index, face) in faces.iter().enumerate() {
        assert_eq!(face["id"], format!("{group}-{index}"));
        // Three people: three persons, never one for two faces of a photo.
        assert!(persons.insert(face["person_id"].as_str().unwrap().to_owned()), "{}", view.raw);
        assert!(face["score"].as_f64().unwrap() >= 0.7, "{face}");
        let b = &face["box"];
        let (left, top, width, height) =
            (b["left"].as_f64().unwrap(), b["top"].as_f64().unwrap(), b["width"].as_f64().unwrap(), b["height"].as_f64().unwrap());
        assert!(left >= 0.0 && top >= 0.0 && width > 0.05 && height > 0.05 && left + width <= 1.0 && top + height <= 1.0, "{face}");
    }
    let cat_view = api.call(Method::GET, &format!("/images/{cat}"), Some(&token), None).await;
    assert_eq!(cat_view.body["faces"], json!([]), "{}", cat_view.raw);

    let face_items = |items: &[std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>]| -> Vec<usize> {
        items
            .iter()
            .filter(|item| item["sk"].as_s().unwrap().starts_with(&format!("image#{group}#face#")))
            .map(|item| item["descriptor"].as_l().unwrap().len())
            .collect()
    };
    assert_eq!(face_items(&api.image_items().await), [128, 128, 128]);

    // A redelivery writes the same faces again; one that finds fewer leaves no stale face.
    let store = DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let (user, id) = (UserName::parse("kate").unwrap(), ImageId::parse(&group).unwrap());
    let record = store.get(&user, id).await.unwrap().unwrap();
    let found = |count: usize| Analysis {
        labels: record.labels.clone(),
        faces: record.faces.iter().take(count).map(|face| FoundFace::described(face.bounds, face.score, vec![0.5; 128])).collect(),
        persons: record.faces.iter().take(count).map(|face| face.person_id.as_deref().map(|id| PersonId::parse(id).unwrap())).collect(),
        // The photo carries GPS: a redelivery places it where the first delivery did.
        place: record.place.clone(),
        ..Analysis::default()
    };
    let items = api.image_items().await.len();
    assert!(store.put_analysis(&store.get(&user, id).await.unwrap().unwrap(), &found(3)).await.unwrap());
    assert_eq!(api.image_items().await.len(), items);
    assert!(store.put_analysis(&store.get(&user, id).await.unwrap().unwrap(), &found(2)).await.unwrap());
    assert_eq!(face_items(&api.image_items().await), [128, 128]);
    assert_eq!(store.get(&user, id).await.unwrap().unwrap().faces.len(), 2);

    assert_eq!(api.call(Method::DELETE, &format!("/images/{group}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    let leftovers: Vec<_> = api.image_items().await.into_iter().filter(|item| format!("{item:?}").contains(&group)).collect();
    assert!(leftovers.is_empty(), "{leftovers:#?}");
    api.tear_down().await;
}
