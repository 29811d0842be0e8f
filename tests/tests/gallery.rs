//! The web gallery in a real browser: Debian's chromium driven by playwright-core
//! (`tests/browser/journey.mjs`) through a person's whole journey against `smart-album serve` on
//! the emulator. Screenshots of the grid, the photo view and the albums page are left in
//! `target/gallery/`.

mod common;

use std::io::Cursor;
use std::process::Command;

use axum::http::{Method, StatusCode};
use common::api::http;
use common::server::serve;
use common::{TierFiles, repo_root};

/// A real photo over 6 MB (noise does not compress): too large for a request body through API
/// Gateway, so the gallery must upload it straight to the bucket.
fn big_photo(path: &std::path::Path) {
    let mut state = 0x2545_f491_u32;
    let photo = image::RgbImage::from_fn(2600, 2000, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        image::Rgb([(state & 0xff) as u8, (state >> 8 & 0xff) as u8, (state >> 16 & 0xff) as u8])
    });
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut Cursor::new(&mut bytes), 95).encode_image(&photo).unwrap();
    assert!(bytes.len() > 6 * 1024 * 1024, "{} bytes", bytes.len());
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn a_person_goes_through_the_gallery_in_a_browser() {
    let files = TierFiles::copy_of("CORE_USER", "GALLERY");
    // Four photos fit: the fifth upload shows the quota's refusal (and after a deletion, the
    // photo taken a year ago fits).
    files.edit("photos_per_user: 20000", "photos_per_user: 4");
    files.deployer(&["up", "--tier", "GALLERY", "--skip-build", "--analyzer", "local"]).expect_success("deployer up");
    let server = serve("GALLERY").await;

    // The page and its files come with the policy; the API's other routes are untouched.
    let (status, page) = http(Method::GET, &format!("{}/", server.url), &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page).contains("<script type=\"module\" src=\"app.js\">"));

    let out = repo_root().join("target/gallery");
    let folder = tempfile::TempDir::new().unwrap();
    let big = folder.path().join("big.jpg");
    big_photo(&big);
    // Taken a year ago today (365 days are within a day of it, leap years or not).
    let memory = folder.path().join("a-year-ago.jpg");
    let when = time::OffsetDateTime::now_utc() - time::Duration::days(365);
    let taken = format!("{:04}-{:02}-{:02}T12:00:00", when.year(), u8::from(when.month()), when.day());
    std::fs::write(&memory, analyzer::testing::jpeg_with(&[analyzer::testing::taken(&taken)])).unwrap();
    let journey = Command::new("node")
        .arg(repo_root().join("tests/browser/journey.mjs"))
        .arg(&server.url)
        .arg(&out)
        .arg(repo_root().join("tests/fixtures/photos"))
        .arg(&big)
        .arg(&memory)
        .output()
        .expect("node runs (make test installs it with the browser)");
    let stdout = String::from_utf8_lossy(&journey.stdout);
    let stderr = String::from_utf8_lossy(&journey.stderr);
    assert!(journey.status.success(), "the journey failed:\n{stdout}\n{stderr}\n(screenshot: {}/failure.png)", out.display());
    assert!(stdout.contains("journey: ok"), "{stdout}");
    for screenshot in ["grid.png", "photo.png", "albums.png", "places.png", "memories.png"] {
        assert!(out.join(screenshot).exists(), "{screenshot} was not saved");
    }
    drop(server);
    files.deployer(&["down", "--tier", "GALLERY", "--purge", "--yes"]).expect_success("deployer down --purge");
}

/// Photos analysed before thumbnails and places existed get them from `smart-album backfill`,
/// once, and their entries in the index by time taken; the renditions it makes carry no EXIF
/// (no GPS) of the original.
#[tokio::test]
async fn runtime_backfill_gives_older_photos_their_thumbnails_and_places() {
    use analyzer::testing::{gps, jpeg_with};
    let api = common::api::Api::deploy("BASIC_USER", "GALLERY_BACKFILL", &[]).await;
    let token = api.user("otto").await;
    let id = api.upload(&token, "image/png", common::api::fixture("chelsea.png")).await;
    let placed = api.upload(&token, "image/jpeg", jpeg_with(&gps(38.7139, "N", 9.1394, "W"))).await;
    api.analyse_all(&token, &api.poller()).await;
    // As an analysis before these changes left them: no colour, no thumbnail, no preview, no
    // place (nor its entries and counter), no time entry.
    for photo in [&id, &placed] {
        for key in [format!("otto/{photo}/thumbnail.webp"), format!("otto/{photo}/preview.jpg")] {
            api.aws.s3.delete_object().bucket(&api.config.photo_bucket).key(key).send().await.unwrap();
        }
    }
    for item in api.image_items().await {
        let sk = item["sk"].as_s().unwrap();
        let request = api.aws.dynamodb.clone();
        if sk.contains("#place#") || sk.starts_with("placecount#") || sk.ends_with("#taken") {
            request
                .delete_item()
                .table_name(&api.config.images_table)
                .key("pk", item["pk"].clone())
                .key("sk", item["sk"].clone())
                .send()
                .await
                .unwrap();
        } else if item.contains_key("color") {
            request
                .update_item()
                .table_name(&api.config.images_table)
                .key("pk", item["pk"].clone())
                .key("sk", item["sk"].clone())
                .update_expression("REMOVE color, place, places")
                .send()
                .await
                .unwrap();
        }
    }
    let view = api.call(Method::GET, &format!("/images/{id}"), Some(&token), None).await;
    assert!(view.body["thumbnail_url"].is_null(), "{}", view.raw);
    assert!(api.call(Method::GET, &format!("/images/{placed}"), Some(&token), None).await.body["place"].is_null());
    let today = time::OffsetDateTime::now_utc().date();
    let today = format!("{:04}-{:02}-{:02}", today.year(), u8::from(today.month()), today.day());
    let taken_today = format!("/images/search?taken_from={today}&taken_to={today}");
    assert!(api.call(Method::GET, &taken_today, Some(&token), None).await.ids().is_empty(), "no time entries yet");

    let backfill = |expected: &'static str| {
        let output = Command::new(common::deployer_binary().with_file_name("smart-album"))
            .args(["backfill", "--tier", "GALLERY_BACKFILL"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success() && stdout.contains(expected), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    };
    backfill("2 photos got a thumbnail and preview, 1 a place, 2 a time entry (2 looked at)");
    let mut both = vec![id.clone(), placed.clone()];
    both.sort_by(|a, b| b.cmp(a));
    assert_eq!(api.call(Method::GET, &taken_today, Some(&token), None).await.ids(), both, "found by their upload time");
    let view = api.call(Method::GET, &format!("/images/{id}"), Some(&token), None).await;
    let (status, thumbnail) = http(Method::GET, view.body["thumbnail_url"].as_str().unwrap(), &[], Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(image::load_from_memory_with_format(&thumbnail, image::ImageFormat::WebP).is_ok());
    let found = api.call(Method::GET, "/images/search?label=cat", Some(&token), None).await;
    assert!(found.body["items"][0]["thumbnail_url"].is_string(), "the search entries lack it: {}", found.raw);
    let view = api.call(Method::GET, &format!("/images/{placed}"), Some(&token), None).await;
    assert_eq!(view.body["place"]["city"], "Lisbon", "{}", view.raw);
    let found = api.call(Method::GET, "/images/search?place=lisbon", Some(&token), None).await;
    assert_eq!(found.body["items"][0]["id"], placed.as_str(), "{}", found.raw);
    let places = api.call(Method::GET, "/places", Some(&token), None).await;
    assert_eq!(places.body["countries"][0]["photo_count"], 1, "{}", places.raw);
    // The original keeps its GPS; the renditions carry none of it (nor any EXIF).
    for url in [&view.body["preview_url"], &view.body["thumbnail_url"]] {
        let (_, rendition) = http(Method::GET, url.as_str().unwrap(), &[], Vec::new()).await;
        let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&rendition));
        assert!(exif.is_err(), "a rendition carries EXIF: {:?}", exif.map(|exif| exif.fields().count()));
    }
    let (_, original) = http(Method::GET, view.body["download_url"].as_str().unwrap(), &[], Vec::new()).await;
    assert!(analyzer::places::position_of(&original).is_some());
    backfill("0 photos got a thumbnail and preview, 0 a place, 0 a time entry (2 looked at)");
    api.tear_down().await;
}
