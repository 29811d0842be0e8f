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

#[test]
fn photos_without_text_have_none() {
    for name in ["chelsea.png", "coffee.png"] {
        let lines = engine().find(&photo(name)).unwrap();
        assert!(lines.is_empty(), "{name}: {lines:#?}");
    }
}
