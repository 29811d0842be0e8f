//! The built-in labeler on pictures nobody tuned it with: photos keep their labels; pages,
//! handwriting, charts, diagrams, screenshots and a night sky get no label of a thing at any
//! tier's threshold, and `text`, `document`, `diagram` or `screenshot` where that is what they
//! are.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use analyzer::decode::{FACES_SIDE, decode};
use analyzer::labeler::Labeler;
use analyzer::labeler::builtin::BuiltinLabeler;
use image::RgbImage;

const KINDS: [&str; 4] = ["text", "document", "diagram", "screenshot"];

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path)).unwrap()
}

/// The lowest `labeler.min_confidence` of the tiers whose labels are the built-in engine's.
fn lowest_threshold() -> f32 {
    let stacks = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stacks");
    let mut thresholds = Vec::new();
    for entry in std::fs::read_dir(stacks).unwrap() {
        let tier: serde_norway::Value = serde_norway::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        if tier["features"]["labels"].as_bool() == Some(true) && tier["labeler"]["engine"].as_str() == Some("builtin") {
            thresholds.push(tier["labeler"]["min_confidence"].as_f64().unwrap() as f32);
        }
    }
    assert!(!thresholds.is_empty(), "no tier labels with the built-in engine");
    thresholds.into_iter().fold(f32::MAX, f32::min)
}

/// The labels of a picture at the lowest tier threshold, as a tier with faces decodes it.
async fn labels(labeler: &BuiltinLabeler, path: &str) -> BTreeSet<String> {
    labels_of(labeler, decode(&fixture(path), FACES_SIDE).unwrap()).await
}

async fn labels_of(labeler: &BuiltinLabeler, picture: RgbImage) -> BTreeSet<String> {
    labeler.labels(&Arc::new(picture), 20, lowest_threshold()).await.unwrap().into_iter().map(|label| label.name).collect()
}

#[tokio::test]
async fn photos_keep_their_labels_and_are_not_called_text() {
    let labeler = BuiltinLabeler::load().unwrap();
    for (photo, expected) in [
        ("photos/chelsea.png", "cat"),
        ("photos/coffee.png", "coffee"),
        ("photos/motorcycle_left.png", "motorcycle"),
        ("photos/sample2.jpg", "person"),
        ("people/dogs.jpg", "dog"),
        // A VOC photo with a banner over the crowd (one line of text, a tenth of the photo) and
        // a captioned group photo.
        ("people/groups/2008_004176.jpg", "person"),
        ("people/kit_with_rose.jpg", "person"),
    ] {
        let found = labels(&labeler, photo).await;
        assert!(found.contains(expected), "{photo}: {found:?}");
        assert!(KINDS.iter().all(|kind| !found.contains(*kind)), "{photo}: {found:?}");
    }
}

#[tokio::test]
async fn a_cat_beside_a_page_is_a_cat_with_text() {
    let labeler = BuiltinLabeler::load().unwrap();
    let cat = decode(&fixture("photos/chelsea.png"), FACES_SIDE).unwrap();
    let page = decode(&fixture("photos/page.png"), FACES_SIDE).unwrap();
    let mut both = RgbImage::from_pixel(cat.width() + page.width(), cat.height().max(page.height()), image::Rgb([255, 255, 255]));
    image::imageops::replace(&mut both, &cat, 0, 0);
    image::imageops::replace(&mut both, &page, i64::from(cat.width()), 0);
    let kind = labeler.kind(&both).unwrap();
    let found = labels_of(&labeler, both).await;
    assert!(found.contains("cat"), "{found:?} {kind:?}");
    assert!(!found.contains("document"), "{found:?} {kind:?}");
}

#[tokio::test]
async fn pages_charts_diagrams_screenshots_and_a_night_sky_get_their_kind_and_no_thing() {
    let labeler = BuiltinLabeler::load().unwrap();
    for (picture, expected) in [
        ("text_like/printed_page.png", &["document", "text"][..]),
        ("text_like/handwriting.jpg", &["document", "text"]),
        ("photos/page.png", &["document", "text"]),
        ("text_like/bar_chart.png", &["diagram", "text"]),
        ("text_like/diagram.png", &["diagram", "text"]),
        ("text_like/night_sky.jpg", &[]),
        // The gallery full of photos of people, a motorcycle, coffee and a cat, as PNG; its
        // albums page as JPEG (whose flat surfaces are no longer exactly flat).
        ("text_like/gallery_screenshot.png", &["screenshot", "text"]),
        ("text_like/gallery_albums.jpg", &["screenshot", "text"]),
    ] {
        let found = labels(&labeler, picture).await;
        let expected: BTreeSet<String> = expected.iter().map(|name| name.to_string()).collect();
        assert_eq!(found, expected, "{picture}");
    }
}
