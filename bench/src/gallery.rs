//! The gallery's first screen for a user with many photos: the time until the first thumbnail
//! is painted, and the bytes of that first screen, in Debian's chromium
//! (`tests/browser/first-screen.mjs`), from a cold cache.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use aws_adapters::DynamoImages;
use aws_adapters::images::bulk::analysed_items;
use domain::{ImageRecord, ImageStatus, Label, UserName, thumbnail_key};
use futures::{StreamExt, TryStreamExt};

use crate::analysis::Photo;
use crate::figures::Report;
use crate::process::Served;
use crate::stats;

/// Seeds `count` analysed photos, each with a real thumbnail (the fixture's, rendered as the
/// analyzer renders it) in the bucket.
async fn seed(aws: &aws_config::SdkConfig, images_table: &str, bucket: &str, user: &UserName, photo: &Photo, count: usize) -> Result<()> {
    let decoded = image::load_from_memory(&photo.bytes)?.to_rgb8();
    let made = analyzer::renditions::render(&decoded)?;
    let (width, height) = decoded.dimensions();
    let mut items = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..count {
        let record = ImageRecord {
            size: photo.bytes.len() as u64,
            width: Some(width),
            height: Some(height),
            labels: vec![Label { name: "cat".into(), confidence: 90.0 }],
            color: Some(made.color.clone()),
            ..ImageRecord::new(user, ImageStatus::Ready, photo.content_type)
        };
        ids.push(record.id);
        items.extend(analysed_items(&record)?);
    }
    DynamoImages::new(aws_sdk_dynamodb::Client::new(aws), images_table).bulk_put(items).await?;
    let s3 = aws_adapters::sdk::s3_client(aws);
    futures::stream::iter(ids)
        .map(|id| {
            let s3 = s3.clone();
            let body = made.thumbnail_webp.clone();
            async move {
                s3.put_object()
                    .bucket(bucket)
                    .key(thumbnail_key(user, id))
                    .content_type("image/webp")
                    .body(body.into())
                    .send()
                    .await
                    .context("S3 PutObject thumbnail")
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Time to the first thumbnail and bytes of the first screen, median of `runs` cold loads.
pub async fn measure(
    report: &mut Report,
    aws: &aws_config::SdkConfig,
    config: &runtime::config::StackConfig,
    served: &Served,
    photo: &Photo,
    count: usize,
    runs: usize,
) -> Result<()> {
    let name = "bench-gallery";
    let token = served.http.user_token(name).await?;
    let user = UserName::parse(name)?;
    seed(aws, &config.images_table, &config.photo_bucket, &user, photo, count).await?;
    let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(11);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser/first-screen.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args([&format!("{}/", served.http.base), &token, &domain::rfc3339(expires), &runs.to_string()])
        .output()
        .context("running node (make bench installs it with chromium)")?;
    if !output.status.success() {
        bail!("{} failed: {}", script.display(), String::from_utf8_lossy(&output.stderr));
    }
    let runs: Vec<serde_json::Value> =
        String::from_utf8_lossy(&output.stdout).lines().map(serde_json::from_str).collect::<std::result::Result<_, _>>()?;
    let figure = |key: &str| runs.iter().filter_map(|run| run[key].as_f64()).collect::<Vec<f64>>();
    let what =
        format!("a user with {count} photos opening the gallery signed in, cold cache, Debian chromium 1280x900, median of {}", runs.len());
    report.add(
        "gallery.first_thumbnail_ms",
        stats::median(&figure("first_thumbnail_ms")),
        "ms",
        format!("page request to the first thumbnail painted in the grid: {what}"),
    );
    report.add(
        "gallery.first_screen_ms",
        stats::median(&figure("first_screen_ms")),
        "ms",
        format!("page request to every thumbnail in view loaded: {what}"),
    );
    report.add(
        "gallery.first_screen_kib",
        stats::median(&figure("bytes")) / 1024.0,
        "KiB",
        format!("bytes transferred (bodies and headers: page, scripts, API, thumbnails) for the first screen: {what}"),
    );
    report.add(
        "gallery.first_screen_requests",
        stats::median(&figure("requests")),
        "requests",
        format!("requests made for the first screen: {what}"),
    );
    Ok(())
}
