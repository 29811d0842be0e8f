//! Many tenants at once: `users` users each upload `per_user` photos, all users at the same
//! time, to `smart-album serve` with its analyzer; then every photo is waited for. What a
//! multi-tenant service is trusted for: none lost, every one `ready`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures::future::join_all;
use indicatif::ProgressBar;

use crate::analysis::Photo;
use crate::figures::Report;
use crate::http::Http;

/// Longest wait for the analyzer to finish every photo. The emulator slows as its table grows
/// (it copies the whole table for each transaction): 1,000 photos took it 46 minutes.
const PATIENCE: Duration = Duration::from_secs(3600);
const POLL_EVERY: Duration = Duration::from_secs(5);

pub async fn measure(report: &mut Report, http: &Http, photo: &Photo, users: usize, per_user: usize) -> Result<()> {
    let mut tokens = Vec::new();
    for user in 0..users {
        tokens.push(http.user_token(&format!("bench-many-{user}")).await?);
    }
    let total = users * per_user;
    let progress = ProgressBar::new(total as u64).with_message("uploads from every user at once");
    let started = Instant::now();
    let uploaded = join_all(tokens.iter().map(|token| async {
        let mut ids = Vec::new();
        let mut refused = 0;
        for _ in 0..per_user {
            match http.upload(token, photo.content_type, photo.bytes.clone()).await {
                Ok(id) => ids.push(id),
                Err(_) => refused += 1,
            }
            progress.inc(1);
        }
        (ids, refused)
    }))
    .await;
    let accepting = started.elapsed();
    progress.finish_and_clear();
    let accepted: usize = uploaded.iter().map(|(ids, _)| ids.len()).sum();
    let refused: usize = uploaded.iter().map(|(_, refused)| refused).sum();

    // Every accepted photo, by its user's listing, until none is pending. Each listing is a
    // Query, which the emulator answers by scanning the table, slowing the analyzer down: so
    // one user is listed at a time, the next only once that one's photos are all done (every
    // user's photos are queued together, so they finish together).
    let (mut ready, mut failed, mut missing) = (0, 0, 0);
    let mut waiting: VecDeque<usize> = (0..users).collect();
    while let Some(&user) = waiting.front() {
        if started.elapsed() >= PATIENCE {
            break;
        }
        let listed = http.list_statuses(&tokens[user]).await.context("listing a user's photos")?;
        let statuses: Vec<Option<&str>> = uploaded[user].0.iter().map(|id| listed.get(id).map(String::as_str)).collect();
        if statuses.contains(&Some("pending")) {
            tokio::time::sleep(POLL_EVERY).await;
            continue;
        }
        ready += statuses.iter().filter(|status| **status == Some("ready")).count();
        failed += statuses.iter().filter(|status| **status == Some("failed")).count();
        missing += statuses.iter().filter(|status| status.is_none()).count();
        waiting.pop_front();
    }
    let what = format!("{users} users uploading {per_user} photos of {} each, all users at once", photo.name);
    report.add("many_tenants.uploads", total as f64, "uploads", what.clone());
    report.add("many_tenants.accepted", accepted as f64, "uploads", format!("answered 202, {what}"));
    report.add("many_tenants.refused", refused as f64, "uploads", "answered with an error (none expected)");
    report.add("many_tenants.accept_s", accepting.as_secs_f64(), "s", "until every upload was answered");
    report.add(
        "many_tenants.all_ready_s",
        started.elapsed().as_secs_f64(),
        "s",
        "from the first upload until every accepted photo was analysed",
    );
    report.add("many_tenants.ready", ready as f64, "photos", "accepted photos that ended ready");
    report.add(
        "many_tenants.lost",
        (accepted - ready) as f64,
        "photos",
        format!("accepted photos not ready after the wait ({failed} failed, {missing} not listed)"),
    );
    Ok(())
}
