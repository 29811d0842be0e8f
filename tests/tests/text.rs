//! Text in photos against the emulator: the words of a printed page are found by search (also
//! in a copy turned a quarter, with labels, never words it does not have), shown on the photo,
//! and gone with it; a tier without `features.text` computes none.

mod common;

use std::io::Cursor;

use axum::http::{Method, StatusCode};
use common::api::{Api, fixture};
use image::ImageFormat;

async fn found(api: &Api, token: &str, query: &str) -> Vec<String> {
    let reply = api.call(Method::GET, &format!("/images/search?{query}"), Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.raw);
    reply.body["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
}

fn png(photo: &image::DynamicImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    photo.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
    bytes
}

fn turned_page() -> Vec<u8> {
    png(&image::load_from_memory(&fixture("page.png")).unwrap().rotate90())
}

/// The cat with the page beside it: a photo with a label and words.
fn cat_beside_page() -> Vec<u8> {
    let cat = image::load_from_memory(&fixture("chelsea.png")).unwrap().to_rgb8();
    let page = image::load_from_memory(&fixture("page.png")).unwrap().to_rgb8();
    let mut both = image::RgbImage::from_pixel(cat.width() + page.width(), cat.height().max(page.height()), image::Rgb([255, 255, 255]));
    image::imageops::replace(&mut both, &cat, 0, 0);
    image::imageops::replace(&mut both, &page, i64::from(cat.width()), 0);
    png(&image::DynamicImage::ImageRgb8(both))
}

#[tokio::test]
async fn words_in_photos_are_shown_searched_and_deleted_with_them() {
    let api = Api::deploy("FULL_PLATFORM_USER", "TEXT_SEARCH", &[]).await;
    let token = api.user("tina").await;
    let page = api.upload(&token, "image/png", fixture("page.png")).await;
    let turned = api.upload(&token, "image/png", turned_page()).await;
    let cat = api.upload(&token, "image/png", fixture("chelsea.png")).await;
    let cat_and_page = api.upload(&token, "image/png", cat_beside_page()).await;
    let mut poller = api.poller();
    poller.concurrency = 1;
    api.analyse_all(&token, &poller).await;

    let view = api.call(Method::GET, &format!("/images/{page}"), Some(&token), None).await;
    let lines = view.body["text"]["lines"].as_array().unwrap();
    assert_eq!(lines[0]["text"], "Region-based segmentation", "{}", view.raw);
    assert!(lines[0]["box"]["width"].as_f64().unwrap() > 0.5 && lines[0]["confidence"].as_f64().unwrap() > 0.9);
    assert!(lines.iter().any(|line| line["text"] == "histogram of grey values:"), "{lines:#?}");
    let cat_view = api.call(Method::GET, &format!("/images/{cat}"), Some(&token), None).await;
    assert_eq!(cat_view.body["text"]["lines"], serde_json::json!([]));

    // Whole words, case, accents and punctuation ignored; AND; newest first.
    let pages = [cat_and_page.clone(), turned.clone(), page.clone()];
    assert_eq!(found(&api, &token, "text=segmentation").await, pages);
    assert_eq!(found(&api, &token, "text=MARKERS&text=Coins,").await, pages);
    assert_eq!(found(&api, &token, "text=histógram").await, pages);
    assert!(found(&api, &token, "text=giraffe").await.is_empty());
    assert!(found(&api, &token, "text=segmentation&text=giraffe").await.is_empty());
    // With a label: the cat beside the page is the one photo with both.
    assert_eq!(found(&api, &token, "text=segmentation&label=cat").await, [cat_and_page.as_str()]);
    assert_eq!(found(&api, &token, "label=cat").await, [cat_and_page.clone(), cat.clone()]);
    assert!(found(&api, &token, "text=giraffe&label=cat").await.is_empty());
    let bad = api.call(Method::GET, "/images/search?text=%21%21%21", Some(&token), None).await;
    assert_eq!((bad.status, bad.error_code()), (StatusCode::BAD_REQUEST, "invalid_text"), "{}", bad.raw);

    // A redelivery writes the same words again and adds no item; one that reads fewer words
    // leaves none of the others behind.
    use aws_adapters::DynamoImages;
    use domain::{Analysis, ImageId, ImageStore, UserName};
    let store = DynamoImages::new(aws_sdk_dynamodb::Client::new(&api.sdk), &api.config.images_table);
    let (user, id) = (UserName::parse("tina").unwrap(), ImageId::parse(&page).unwrap());
    let record = store.get(&user, id).await.unwrap().unwrap();
    let again = |words: Vec<String>| Analysis { labels: record.labels.clone(), text: record.text.clone(), words, ..Analysis::default() };
    let items = api.image_items().await.len();
    assert!(store.put_analysis(&store.get(&user, id).await.unwrap().unwrap(), &again(record.words.clone())).await.unwrap());
    assert_eq!(api.image_items().await.len(), items);
    assert!(store.put_analysis(&store.get(&user, id).await.unwrap().unwrap(), &again(vec!["segmentation".into()])).await.unwrap());
    assert_eq!(api.image_items().await.len(), items - (record.words.len() - 1));
    assert_eq!(found(&api, &token, "text=markers").await, [cat_and_page.clone(), turned.clone()]);

    // Deleting the page takes its words: only the turned copy is found.
    assert_eq!(api.call(Method::DELETE, &format!("/images/{page}"), Some(&token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(found(&api, &token, "text=segmentation").await, [cat_and_page.clone(), turned.clone()]);
    let items = api.image_items().await;
    assert!(!items.iter().any(|item| item["sk"].as_s().unwrap().contains(&page)), "items of the deleted page remain");
    api.tear_down().await;
}

#[tokio::test]
async fn a_tier_without_text_computes_none() {
    let api = Api::deploy("CORE_USER", "TEXT_OFF", &[]).await;
    let token = api.user("carl").await;
    let page = api.upload(&token, "image/png", fixture("page.png")).await;
    api.analyse_all(&token, &api.poller()).await;
    let view = api.call(Method::GET, &format!("/images/{page}"), Some(&token), None).await;
    assert_eq!(view.body["status"], "ready");
    assert_eq!(view.body["text"]["lines"], serde_json::json!([]));
    assert!(found(&api, &token, "text=segmentation").await.is_empty());
    assert!(!api.image_items().await.iter().any(|item| item["sk"].as_s().unwrap().contains("#word#")));
    api.tear_down().await;
}
