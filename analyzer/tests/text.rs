//! The built-in text engine on real photos: the printed page's words are read (also from a
//! copy turned a quarter turn), and photos without text give none.

use std::sync::OnceLock;

use analyzer::text::builtin::BuiltinText;
use image::RgbImage;

fn engine() -> &'static BuiltinText {
    static ENGINE: OnceLock<BuiltinText> = OnceLock::new();
    ENGINE.get_or_init(|| BuiltinText::load().expect("the text models load"))
}

fn photo(name: &str) -> RgbImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/photos").join(name);
    image::open(path).unwrap().to_rgb8()
}

fn text_of(photo: &RgbImage) -> String {
    engine().find(photo).unwrap().iter().map(|line| line.text.to_lowercase()).collect::<Vec<_>>().join("\n")
}

#[test]
fn the_printed_page_is_read_line_by_line() {
    let page = photo("page.png");
    let lines = engine().find(&page).unwrap();
    let text = text_of(&page);
    for word in ["region-based", "segmentation", "markers", "coins", "background", "unambiguously", "histogram"] {
        assert!(text.contains(word), "{word} not in {text:?}");
    }
    assert!(!text.contains("giraffe"));
    // The title is the first line, at the top left, read with confidence.
    assert!(lines[0].text.to_lowercase().starts_with("region"), "{lines:#?}");
    assert!(lines[0].bounds.top < 0.2 && lines[0].bounds.left < 0.2, "{:?}", lines[0].bounds);
    assert!(lines.iter().all(|line| line.confidence >= 0.5 && line.confidence <= 1.0));
}

#[test]
fn a_page_turned_a_quarter_still_reads() {
    let turned = image::imageops::rotate90(&photo("page.png"));
    let text = text_of(&turned);
    for word in ["segmentation", "markers", "background"] {
        assert!(text.contains(word), "{word} not in {text:?}");
    }
}

/// The page as a diagram tool exports it: black ink whose coverage is its alpha, on a fully
/// transparent background. Decoded as the analyzer decodes photos, it reads like the page.
#[test]
fn dark_text_on_a_transparent_background_is_read() {
    let page = photo("page.png");
    let ink = image::RgbaImage::from_fn(page.width(), page.height(), |x, y| {
        let grey = page.get_pixel(x, y).0.iter().map(|&c| u32::from(c)).sum::<u32>() / 3;
        image::Rgba([0, 0, 0, (255 - grey) as u8])
    });
    let mut png = Vec::new();
    ink.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let decoded = analyzer::decode::decode(&png, page.width().max(page.height())).unwrap();
    let text = text_of(&decoded);
    for word in ["segmentation", "markers", "background"] {
        assert!(text.contains(word), "{word} not in {text:?}");
    }
}

/// The page cut to its ink: the title touches the top edge and every line the left one (a
/// cropped screenshot, a scan cut close). Its words are read as on the whole page.
#[test]
fn text_at_the_very_edge_is_read() {
    let page = photo("page.png");
    let ink = |x: u32, y: u32| page.get_pixel(x, y).0.iter().map(|&c| u32::from(c)).sum::<u32>() < 3 * 128;
    let (width, height) = page.dimensions();
    let left = (0..width).find(|&x| (0..height).any(|y| ink(x, y))).unwrap();
    let top = (0..height).find(|&y| (0..width).any(|x| ink(x, y))).unwrap();
    let right = (0..width).rev().find(|&x| (0..height).any(|y| ink(x, y))).unwrap();
    let bottom = (0..height).rev().find(|&y| (0..width).any(|x| ink(x, y))).unwrap();
    let cut = image::imageops::crop_imm(&page, left, top, right + 1 - left, bottom + 1 - top).to_image();
    let lines = engine().find(&cut).unwrap();
    let text = text_of(&cut);
    for word in ["region-based", "segmentation", "markers", "coins", "background", "histogram"] {
        assert!(text.contains(word), "{word} not in {text:?}");
    }
    assert!(lines[0].text.to_lowercase().starts_with("region"), "{lines:#?}");
}

#[test]
fn photos_without_text_have_none() {
    for name in ["chelsea.png", "coffee.png"] {
        let lines = engine().find(&photo(name)).unwrap();
        assert!(lines.is_empty(), "{name}: {lines:#?}");
    }
}

/// The Rekognition engine over the SDK's mock client (the emulator's answer is canned): the
/// photo is sent as a JPEG, and its LINE detections are the lines, the WORD ones left out.
#[tokio::test]
async fn rekognition_text_is_its_lines() {
    use analyzer::text::TextFinder;
    use analyzer::text::rekognition::RekognitionText;
    use aws_sdk_rekognition::operation::detect_text::DetectTextOutput;
    use aws_sdk_rekognition::types::{BoundingBox, Geometry, TextDetection, TextTypes};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    let detection = |text: &str, kind: TextTypes, top: f32| {
        let bounds = BoundingBox::builder().left(0.1).top(top).width(0.5).height(0.05).build();
        TextDetection::builder()
            .detected_text(text)
            .r#type(kind)
            .confidence(98.5)
            .geometry(Geometry::builder().bounding_box(bounds).build())
            .build()
    };
    let detect = mock!(aws_sdk_rekognition::Client::detect_text)
        .match_requests(|request| {
            request.image().and_then(|image| image.bytes()).is_some_and(|bytes| bytes.as_ref().starts_with(&[0xff, 0xd8]))
        })
        .then_output(move || {
            DetectTextOutput::builder()
                .text_detections(detection("Region-based segmentation", TextTypes::Line, 0.05))
                .text_detections(detection("Let us first", TextTypes::Line, 0.2))
                .text_detections(detection("Region-based", TextTypes::Word, 0.05))
                .build()
        });
    let client = mock_client!(aws_sdk_rekognition, RuleMode::MatchAny, [&detect]);
    let lines = RekognitionText::new(client).lines(&std::sync::Arc::new(photo("page.png"))).await.unwrap();
    assert_eq!(detect.num_calls(), 1);
    assert_eq!(lines.iter().map(|line| line.text.as_str()).collect::<Vec<_>>(), ["Region-based segmentation", "Let us first"]);
    assert!((lines[0].confidence - 0.985).abs() < 1e-6 && (lines[1].bounds.top - 0.2).abs() < 1e-6);
}
