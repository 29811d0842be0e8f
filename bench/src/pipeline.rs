//! Upload to searchable: from sending a photo to the moment a search finds it, with
//! `smart-album serve` analysing as `make up` runs it.

use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::ProgressBar;

use crate::analysis::Photo;
use crate::figures::Report;
use crate::http::Http;
use crate::stats::{ms, percentile};

/// Longest wait for one photo before it counts as never searchable.
const PATIENCE: Duration = Duration::from_secs(60);
const POLL_EVERY: Duration = Duration::from_millis(10);

/// Uploads `photo` `count` times, one after the other, each time polling a search for `label`
/// until the new photo is on its first page.
pub async fn measure(report: &mut Report, http: &Http, token: &str, photo: &Photo, label: &str, count: usize) -> Result<()> {
    let progress = ProgressBar::new(count as u64).with_message("upload to searchable");
    let mut times = Vec::new();
    let mut never = 0;
    for _ in 0..count {
        let started = Instant::now();
        let id = http.upload(token, photo.content_type, photo.bytes.clone()).await?;
        loop {
            if http.search_ids(token, label, 5).await?.contains(&id) {
                times.push(ms(started.elapsed()));
                break;
            }
            if started.elapsed() > PATIENCE {
                never += 1;
                break;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let what = format!("{count} uploads of {} one after another, each until a search for {label:?} lists it", photo.name);
    report.add("pipeline.upload_to_searchable.p50_ms", percentile(&times, 50.0), "ms", format!("median, {what}"));
    report.add("pipeline.upload_to_searchable.p99_ms", percentile(&times, 99.0), "ms", format!("99th percentile, {what}"));
    report.add(
        "pipeline.upload_to_searchable.never",
        never as f64,
        "photos",
        format!("photos not searchable within {}s", PATIENCE.as_secs()),
    );
    Ok(())
}
