//! The analyzer: milliseconds per photo for decode + resize + labels on one thread, and
//! photos per second through the real pipeline (SQS, S3, DynamoDB) at the default concurrency.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use analyzer::decode;
use analyzer::labeler::builtin::BuiltinLabeler;
use analyzer::labeler::rank;
use analyzer::poller::{DEFAULT_CONCURRENCY, Poller};
use anyhow::{Context, Result};
use aws_adapters::DynamoImages;
use domain::{ImageId, ImageStatus, ImageStore, UserName};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use runtime::config::{StackConfig, VisionEngine};

use crate::figures::Report;
use crate::http::Http;
use crate::stats::{median, ms};

/// A photo to analyse: a name for the figure keys, its bytes and content type.
pub struct Photo {
    pub name: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// The fixture photos (JPEG and PNG files in `dir`), by name.
pub fn fixtures(dir: &Path) -> Result<Vec<Photo>> {
    let mut photos = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let content_type = match path.extension().and_then(|e| e.to_str()) {
            Some("jpg" | "jpeg") => "image/jpeg",
            Some("png") => "image/png",
            _ => continue,
        };
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        photos.push(Photo { name, bytes: std::fs::read(&path)?, content_type });
    }
    photos.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(photos)
}

/// A 4000x3000 (12 MP) JPEG at quality 90, as a phone takes: gradients under fine noise, so
/// it neither compresses nor decodes like a flat image.
pub fn synthetic_12mp() -> Result<Photo> {
    let (width, height) = (4000, 3000);
    let mut state: u32 = 0x9e37_79b9;
    let photo = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = state & 0x1f;
        Rgb([
            ((x * 255 / width + noise) % 256) as u8,
            ((y * 255 / height + noise) % 256) as u8,
            (((x + y) * 255 / (width + height) + noise) % 256) as u8,
        ])
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 90).encode_image(&photo)?;
    Ok(Photo { name: "synthetic_12mp".into(), bytes, content_type: "image/jpeg" })
}

/// Decode + orientation + resize, then both models and ranking, on this thread: the median
/// milliseconds by photo name.
pub fn per_photo(
    report: &mut Report,
    labeler: &BuiltinLabeler,
    photos: &[&Photo],
    max_labels: usize,
    min_confidence: f32,
    runs: usize,
) -> Result<BTreeMap<String, f64>> {
    let mut medians = BTreeMap::new();
    for photo in photos {
        let mut decode_ms = Vec::new();
        let mut total_ms = Vec::new();
        // The first run warms caches and is not counted.
        for run in 0..=runs {
            let started = Instant::now();
            let decoded = decode::decode(&photo.bytes, decode::LABELS_SIDE).map_err(|err| anyhow::anyhow!("{}: {}", photo.name, err.0))?;
            let decoded_at = started.elapsed();
            let labels = rank(labeler.all_labels(&decoded)?, max_labels, min_confidence);
            std::hint::black_box(labels);
            if run > 0 {
                decode_ms.push(ms(decoded_at));
                total_ms.push(ms(started.elapsed()));
            }
        }
        let size = format!("{}, {} KiB", photo.name, photo.bytes.len() / 1024);
        report.add(
            format!("analyzer.ms_per_photo.{}", photo.name),
            median(&total_ms),
            "ms",
            format!("decode + resize + labels of {size} on one thread (median of {runs})"),
        );
        report.add(
            format!("analyzer.decode_ms.{}", photo.name),
            median(&decode_ms),
            "ms",
            "of which decode + orientation + resize to the working size",
        );
        medians.insert(photo.name.clone(), median(&total_ms));
    }
    Ok(medians)
}

/// The peer on the same photo files: bench/peer/labels.py (Python; onnxruntime on one thread,
/// the same two models at the same input sizes; Pillow and numpy), and our time over its.
pub fn peer(report: &mut Report, python: &Path, photos: &[&Photo], ours: &BTreeMap<String, f64>, runs: usize, out: &Path) -> Result<()> {
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let answer = run_peer(python, "labels.py", &[models.display().to_string(), runs.to_string()], photos, &out.join("photos"))?;
    let version = answer["onnxruntime"].as_str().unwrap_or("?");
    for photo in photos {
        let figures = &answer["photos"][&photo.name];
        let peer_ms = figures["ms_per_photo"].as_f64().with_context(|| format!("the peer has no figure for {}", photo.name))?;
        let top = figures["top_classes"][0][0].as_str().unwrap_or("?");
        report.add(
            format!("analyzer.peer.ms_per_photo.{}", photo.name),
            peer_ms,
            "ms",
            format!("the peer (Python, onnxruntime {version} on one thread, Pillow, numpy) on the same file (median of {runs}); its top class: {top}"),
        );
        report.add(
            format!("analyzer.peer.decode_ms.{}", photo.name),
            figures["decode_ms"].as_f64().unwrap_or(f64::NAN),
            "ms",
            "of which the peer's decode + orientation + resize (Pillow)",
        );
        report.add(
            format!("analyzer.ratio_to_peer.{}", photo.name),
            ours.get(&photo.name).copied().unwrap_or(f64::NAN) / peer_ms,
            "x",
            "our ms per photo over the peer's: at most 1 is the goal",
        );
    }
    Ok(())
}

/// Runs a peer script of `bench/peer/` with `args`, then the photos (written as files to
/// `folder`), on one thread; its JSON answer.
pub fn run_peer(python: &Path, script: &str, args: &[String], photos: &[&Photo], folder: &Path) -> Result<serde_json::Value> {
    std::fs::create_dir_all(folder)?;
    let mut files = Vec::new();
    for photo in photos {
        let extension = if photo.content_type == "image/png" { "png" } else { "jpg" };
        let file = folder.join(format!("{}.{extension}", photo.name));
        std::fs::write(&file, &photo.bytes)?;
        files.push(file);
    }
    let output = std::process::Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("peer").join(script))
        .args(args)
        .args(&files)
        // One thread, as our figures: for the BLAS and OpenMP pools a library may start.
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .output()
        .with_context(|| format!("running the peer {script} with {}", python.display()))?;
    anyhow::ensure!(output.status.success(), "the peer {script} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).with_context(|| format!("the answer of the peer {script}"))
}

/// Uploads `count` photos through the API as a new user (with no analyzer running), then
/// analyses them with `smart-album serve`'s poller at its default concurrency: photos per
/// second, queue to labels.
pub async fn throughput(
    report: &mut Report,
    config: &StackConfig,
    aws: &aws_config::SdkConfig,
    labeler: BuiltinLabeler,
    http: &Http,
    photos: &[Photo],
    count: usize,
) -> Result<()> {
    const USER: &str = "bench-analyzer";
    let token = http.user_token(USER).await?;
    let user = UserName::parse(USER)?;
    let mut ids = Vec::new();
    for photo in photos.iter().cycle().take(count) {
        ids.push(ImageId::parse(&http.upload(&token, photo.content_type, photo.bytes.clone()).await?)?);
    }
    let mut engines = analyzer::services::engines(config, VisionEngine::Builtin, aws)?;
    engines.labeler = Arc::new(labeler);
    let analyzer = analyzer::services::analyzer(config, aws, engines)?;
    let mut poller = Poller::new(Arc::new(analyzer), aws_sdk_sqs::Client::new(aws), &config.analysis_queue_url, DEFAULT_CONCURRENCY);
    poller.wait_seconds = 1;
    let started = Instant::now();
    let mut received = 0;
    while received < count {
        received += poller.poll_once().await?;
        anyhow::ensure!(started.elapsed().as_secs() < 600, "{received} of {count} photos analysed in 10 minutes");
    }
    let elapsed = started.elapsed();
    let images = DynamoImages::new(aws_sdk_dynamodb::Client::new(aws), &config.images_table);
    let mut ready = 0;
    for id in ids {
        if images.get(&user, id).await?.is_some_and(|record| record.status == ImageStatus::Ready) {
            ready += 1;
        }
    }
    anyhow::ensure!(ready == count, "only {ready} of {count} photos were labelled");
    report.add(
        "analyzer.photos_per_s",
        count as f64 / elapsed.as_secs_f64(),
        "photos/s",
        format!(
            "{count} queued photos (the fixtures in turn) read from S3, labelled and written back, \
             {DEFAULT_CONCURRENCY} at a time as `smart-album serve` does"
        ),
    );
    Ok(())
}
