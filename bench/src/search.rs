//! Search cost as a tenant grows: DynamoDB items read (Count + ScannedCount of every Query the
//! store sends) per search, with ten neighbours of the same size in the same table. Photos are
//! bulk-loaded as the analyzer would have left them (`aws_adapters::images::bulk::analysed_items`),
//! one taken each day going back from today, so that memories and a month's search find a few
//! photos in a tenant of any size.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_adapters::DynamoImages;
use aws_adapters::images::bulk::{album_items, analysed_items};
use aws_sdk_dynamodb::Client;
use domain::taken::{self, TakenRange};
use domain::{Album, ImageIndex, ImageRecord, ImageStatus, Label, Search, UserName};
use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use runtime::api::paging::{DEFAULT_PAGE, MAX_PAGE};

use crate::figures::Report;
use crate::reads::{ItemReads, counted_images};

/// Neighbours share the table, each as large as the tenant: ten times its photos in all.
const NEIGHBOURS: usize = 10;
/// Every tenth photo is a cat, the others dogs; every photo is an animal.
const MATCH_EVERY: usize = 10;
/// Items per bulk write (BatchWriteItem takes 25 at a time): one step of the progress bar.
const ITEMS_PER_WRITE: usize = 250;
const WRITES_IN_FLIGHT: usize = 4;

/// Photo `index` was taken `index` days before `today`, at noon (its camera's clock).
fn taken_on(today: time::Date, index: usize) -> String {
    let day = today - time::Duration::days(index as i64);
    format!("{:04}-{:02}-{:02}T12:00:00", day.year(), u8::from(day.month()), day.day())
}

fn labels_of(index: usize) -> Vec<Label> {
    let kind = if index.is_multiple_of(MATCH_EVERY) { "cat" } else { "dog" };
    [kind, "animal"].map(|name| Label { name: name.into(), confidence: 90.0 }).into()
}

/// Gives `user` `count` analysed photos (every tenth a cat), for the API under load.
pub async fn seed_user(aws: &aws_config::SdkConfig, table: &str, user: &UserName, count: usize) -> Result<()> {
    let images = DynamoImages::new(Client::new(aws), table);
    grow(&images, std::slice::from_ref(user), 0, count, &ProgressBar::hidden()).await
}

/// Adds photos `from..to` of each user and sets their album counts, with BatchWriteItem.
async fn grow(images: &DynamoImages, users: &[UserName], from: usize, to: usize, progress: &ProgressBar) -> Result<()> {
    let mut items = Vec::new();
    let today = time::OffsetDateTime::now_utc().date();
    for user in users {
        let mut albums: BTreeMap<String, Album> = BTreeMap::new();
        for index in 0..to {
            for label in labels_of(index) {
                let album = albums.entry(label.name.clone()).or_insert(Album { label: label.name, photos: 0, cover: None });
                album.photos += 1;
            }
        }
        for index in from..to {
            let record = ImageRecord {
                size: 2_000_000,
                width: Some(4000),
                height: Some(3000),
                labels: labels_of(index),
                taken_at: Some(taken_on(today, index)),
                ..ImageRecord::new(user, ImageStatus::Ready, "image/jpeg")
            };
            for label in &record.labels {
                albums.get_mut(&label.name).context("every label has its album")?.cover = Some(record.id);
            }
            items.extend(analysed_items(&record)?);
        }
        let albums: Vec<Album> = albums.into_values().collect();
        items.extend(album_items(user, &albums)?);
    }
    progress.set_length(progress.length().unwrap_or(0) + items.len() as u64);
    futures::stream::iter(items.chunks(ITEMS_PER_WRITE))
        .map(|chunk| async move {
            images.bulk_put(chunk.to_vec()).await?;
            progress.inc(chunk.len() as u64);
            anyhow::Ok(())
        })
        .buffer_unordered(WRITES_IN_FLIGHT)
        .try_collect::<()>()
        .await
}

/// Items read and results of one search: its first page at the API's default size, or every
/// page at the largest.
async fn search(
    images: &DynamoImages,
    reads: &ItemReads,
    user: &UserName,
    labels: &[String],
    every_page: bool,
) -> Result<(u64, u64, usize)> {
    reads.take();
    let limit = if every_page { MAX_PAGE } else { DEFAULT_PAGE };
    let mut results = 0;
    let mut after = None;
    loop {
        let page = images.search(user, &Search::labels(labels), limit, after.as_ref()).await?;
        results += page.items.len();
        after = page.next;
        if after.is_none() || !every_page {
            break;
        }
    }
    let (items, queries) = reads.take();
    Ok((items, queries, results))
}

pub async fn measure(report: &mut Report, aws: &aws_config::SdkConfig, table: &str, sizes: &[usize]) -> Result<()> {
    let (images, reads) = counted_images(aws, table);
    let writer = DynamoImages::new(Client::new(aws), table);
    let tenant = UserName::parse("tenant")?;
    let mut users = vec![tenant.clone()];
    for n in 0..NEIGHBOURS {
        users.push(UserName::parse(&format!("neighbour-{n}"))?);
    }
    let cat = vec!["cat".to_owned()];
    // As the API sends them: sorted, so the broad label comes first.
    let animal_and_cat = vec!["animal".to_owned(), "cat".to_owned()];
    let progress =
        ProgressBar::new(0).with_style(ProgressStyle::with_template("seeding {msg}: {pos}/{len} items [{elapsed}, {per_sec}, eta {eta}]")?);
    let mut have = 0;
    for &size in sizes {
        progress.set_message(format!("{size} photos per user"));
        grow(&writer, &users, have, size.max(have), &progress).await?;
        have = size.max(have);
        let matches = size.div_ceil(MATCH_EVERY);
        let setting = format!("tenant of {size} photos ({matches} cats), {} photos in the table", size * users.len());

        let (items, requests, results) = search(&images, &reads, &tenant, &cat, false).await?;
        report.add(
            format!("search.first_page.items_read.n{size}"),
            items as f64,
            "items",
            format!("Count + ScannedCount of the {requests} Queries of one search for \"cat\" ({results} results, the API's default page), {setting}"),
        );
        let (items, requests, results) = search(&images, &reads, &tenant, &cat, true).await?;
        anyhow::ensure!(results == matches, "the search for cat found {results} photos of {matches}");
        report.add(
            format!("search.all_pages.items_read.n{size}"),
            items as f64,
            "items",
            format!("Count + ScannedCount over all {requests} Queries of every page of \"cat\" ({results} matches, {MAX_PAGE} a page), {setting}"),
        );
        let (items, requests, results) = search(&images, &reads, &tenant, &animal_and_cat, true).await?;
        anyhow::ensure!(results == matches, "the search for animal and cat found {results} photos of {matches}");
        report.add(
            format!("search.all_pages_two_labels.items_read.n{size}"),
            items as f64,
            "items",
            format!("the same for \"animal\" AND \"cat\", album counts read included ({requests} requests, {results} matches; every photo is an animal)"),
        );

        // When: memories (one photo a day back `size` days: three a year, a day either side) and
        // the first page of a month.
        let utc = taken::time_zone(None)?;
        reads.take();
        let started = std::time::Instant::now();
        let remembered = taken::memories(&images, &tenant, &utc, time::OffsetDateTime::now_utc(), 50).await?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let (items, requests) = reads.take();
        let photos: usize = remembered.iter().map(|memory| memory.photos.len()).sum();
        anyhow::ensure!(remembered.len() >= size / 366, "memories found {} years in {size} days", remembered.len());
        report.add(
            format!("memories.items_read.n{size}"),
            items as f64,
            "items",
            format!(
                "Count + ScannedCount of the {requests} Queries of GET /memories ({} years, {photos} photos), {setting}",
                remembered.len()
            ),
        );
        report.add(
            format!("memories.ms.n{size}"),
            elapsed,
            "ms",
            format!("GET /memories in the store alone (one run, {requests} Queries, 8 at a time), {setting}"),
        );
        let today = time::OffsetDateTime::now_utc().date();
        let month_ago = today - time::Duration::days(30);
        let day = |date: time::Date| format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day());
        let month = TakenRange::of_query(Some(&day(month_ago)), Some(&day(today)), &utc)?.context("a range")?;
        reads.take();
        let page = images.search(&tenant, &Search::taken(month), DEFAULT_PAGE, None).await?;
        let (items, requests) = reads.take();
        anyhow::ensure!(page.items.len() == DEFAULT_PAGE.min(size), "a month's first page has {} photos", page.items.len());
        report.add(
            format!("search.taken_month.items_read.n{size}"),
            items as f64,
            "items",
            format!(
                "Count + ScannedCount of the {requests} Queries of a month's first page (taken_from, taken_to; {} results), {setting}",
                page.items.len()
            ),
        );
    }
    progress.finish_and_clear();
    Ok(())
}
