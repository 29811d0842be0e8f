//! Text: milliseconds per photo for detection + recognition on one thread (the printed page,
//! and the page as a 12 MP photo), the words indexed, and the character accuracy against the
//! page's known text (`bench/page.txt`), beside the peer (Python rapidocr, the same PP-OCRv6
//! files on onnxruntime) on the same files.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use analyzer::decode;
use analyzer::text::builtin::BuiltinText;
use anyhow::{Context, Result};
use domain::words_of;
use image::imageops::FilterType;

use crate::analysis::{Photo, run_peer};
use crate::figures::Report;
use crate::stats::{median, ms};

/// The page's text, line by line.
fn known_text() -> Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("page.txt");
    Ok(std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?.trim().to_owned())
}

/// 1 - edit distance / length: the share of the known text's characters read right.
fn accuracy(read: &str, known: &str) -> f64 {
    1.0 - strsim::levenshtein(read, known) as f64 / known.chars().count().max(1) as f64
}

/// The page, and the page scaled to 12 MP (a photo of a page, as a phone takes it).
pub fn photos(photos_dir: &Path) -> Result<Vec<Photo>> {
    let page = std::fs::read(photos_dir.join("page.png")).context("reading page.png")?;
    let decoded = image::load_from_memory(&page)?.to_rgb8();
    let scale = (12_000_000.0 / f64::from(decoded.width() * decoded.height())).sqrt();
    let large = image::imageops::resize(
        &decoded,
        (f64::from(decoded.width()) * scale) as u32,
        (f64::from(decoded.height()) * scale) as u32,
        FilterType::CatmullRom,
    );
    let mut large_bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut large_bytes, 90).encode_image(&large)?;
    Ok(vec![
        Photo { name: "page".into(), bytes: page, content_type: "image/png" },
        Photo { name: "page_12mp".into(), bytes: large_bytes, content_type: "image/jpeg" },
    ])
}

pub fn per_photo(report: &mut Report, photos: &[Photo], max_words: usize, runs: usize) -> Result<BTreeMap<String, f64>> {
    let engine = BuiltinText::load()?;
    let known = known_text()?;
    let mut medians = BTreeMap::new();
    for photo in photos {
        let mut times = Vec::new();
        let mut lines = Vec::new();
        // The first run warms caches and is not counted.
        for run in 0..=runs {
            let started = Instant::now();
            let decoded = decode::decode(&photo.bytes, 2000).map_err(|err| anyhow::anyhow!("{}: {}", photo.name, err.0))?;
            lines = engine.find(&decoded)?;
            if run > 0 {
                times.push(ms(started.elapsed()));
            }
        }
        let read: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
        let size = format!("{}, {} KiB", photo.name, photo.bytes.len() / 1024);
        report.add(
            format!("text.ms_per_photo.{}", photo.name),
            median(&times),
            "ms",
            format!("decode + PP-OCRv6 detection + recognition of every line, {size}, one thread (median of {runs})"),
        );
        report.add(format!("text.lines.{}", photo.name), read.len() as f64, "lines", format!("lines read: {:?}", read.join(" / ")));
        report.add(
            format!("text.words_indexed.{}", photo.name),
            words_of(&lines, max_words).len() as f64,
            "words",
            format!(
                "distinct words the photo is found by (the tier's text.max_words: {max_words}); {} in all",
                words_of(&lines, usize::MAX).len()
            ),
        );
        report.add(
            format!("text.accuracy.{}", photo.name),
            accuracy(&read.join("\n"), &known),
            "share",
            "characters of the page's known text read right (1 - edit distance / length)",
        );
        medians.insert(photo.name.clone(), median(&times));
    }
    Ok(medians)
}

/// The peer on the same files: bench/peer/text.py (rapidocr, one thread).
pub fn peer(report: &mut Report, python: &Path, photos: &[Photo], ours: &BTreeMap<String, f64>, runs: usize, out: &Path) -> Result<()> {
    let known = known_text()?;
    let photos: Vec<&Photo> = photos.iter().collect();
    let answer = run_peer(python, "text.py", &[runs.to_string()], &photos, &out.join("text"))?;
    for photo in photos {
        let figures = &answer["photos"][&photo.name];
        let peer_ms = figures["ms_per_photo"].as_f64().with_context(|| format!("the text peer has no figure for {}", photo.name))?;
        let lines: Vec<&str> =
            figures["lines"].as_array().map(|lines| lines.iter().filter_map(|line| line.as_str()).collect()).unwrap_or_default();
        report.add(
            format!("text.peer.ms_per_photo.{}", photo.name),
            peer_ms,
            "ms",
            format!("the peer (Python rapidocr 3.10.0, the same PP-OCRv6 files, onnxruntime on one thread) on the same file (median of {runs}); read: {:?}", lines.join(" / ")),
        );
        report.add(
            format!("text.peer.accuracy.{}", photo.name),
            accuracy(&lines.join("\n"), &known),
            "share",
            "the peer's characters of the page's known text read right",
        );
        report.add(
            format!("text.ratio_to_peer.{}", photo.name),
            ours.get(&photo.name).copied().unwrap_or(f64::NAN) / peer_ms,
            "x",
            "our ms per photo over the peer's: at most 1 is the goal",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::accuracy;

    #[test]
    fn accuracy_is_the_share_of_characters_read_right() {
        assert_eq!(accuracy("abcd", "abcd"), 1.0);
        assert_eq!(accuracy("abed", "abcd"), 0.75);
        assert_eq!(accuracy("", "abcd"), 0.0);
    }
}
