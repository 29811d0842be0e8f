//! Opening a shared collection of many photos: the first page of its photos through a link
//! (anonymous) and as a member, over HTTP against `smart-album serve`, and the DynamoDB items
//! the store reads for it (counted on this process's own client, the same calls the handler
//! makes).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use domain::collections::{Collection, Contents};
use domain::links::LinkSecret;
use domain::memory::MemoryPhotos;
use domain::{CollectionStore, ImageIndex, LinkDirectory, SharedData, UserName, UserStore};
use hyper::Method;

use crate::figures::Report;
use crate::process::Served;
use crate::reads::counted_images;
use crate::{search, stats};

/// Requests timed per figure.
const ROUNDS: usize = 20;

pub async fn measure(
    report: &mut Report,
    aws: &aws_config::SdkConfig,
    config: &runtime::config::StackConfig,
    served: &Served,
    photos: usize,
) -> Result<()> {
    let owner_name = "bench-sharer";
    let owner_token = served.http.user_token(owner_name).await?;
    let member_token = served.http.user_token("bench-viewer").await?;
    let owner = UserName::parse(owner_name)?;
    search::seed_user(aws, &config.images_table, &owner, photos).await?;
    let (images, reads) = counted_images(aws, &config.images_table);
    let images = Arc::new(images);
    let collection = Collection::new(&owner, "Bench", None)?;
    images.create_collection(&collection).await?;
    let mut after = None;
    loop {
        let page = images.list(&owner, 100, after).await?;
        let ids: Vec<_> = page.items.iter().map(|record| record.id).collect();
        images.add_to_collection(&owner, collection.id, &ids).await?;
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let path = format!("/collections/{}", collection.id);
    let shared = served
        .http
        .send(
            Method::PUT,
            &format!("{path}/members/bench-viewer"),
            Some(&owner_token),
            Some("application/json"),
            br#"{"role":"viewer"}"#.to_vec(),
        )
        .await?;
    anyhow::ensure!(shared.status.is_success(), "sharing with the member: {}", shared.status);
    let made =
        served.http.send(Method::POST, &format!("{path}/links"), Some(&owner_token), Some("application/json"), b"{}".to_vec()).await?;
    let made: serde_json::Value = serde_json::from_slice(&made.body)?;
    let secret = made["url"].as_str().and_then(|url| url.rsplit_once("/shared/")).context("no link URL")?.1.to_owned();

    let what = format!("median of {ROUNDS}, the first page (50) of a collection of {photos} photos, over HTTP");
    for (name, who, target, token) in [
        ("link", "anonymous, through a link", format!("/shared/{secret}/photos?limit=50"), None),
        ("member", "as a viewer", format!("{path}/photos?limit=50"), Some(member_token.as_str())),
    ] {
        let mut times = Vec::new();
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let reply = served.http.send(Method::GET, &target, token, None, Vec::new()).await?;
            anyhow::ensure!(reply.status.is_success(), "GET {target}: {}", reply.status);
            times.push(stats::ms(started.elapsed()));
        }
        report.add(format!("sharing.first_page.{name}_ms"), stats::median(&times), "ms", format!("{what}, {who}"));
    }

    // What the store reads behind one page through the link: the stack-wide item, the link, the
    // owner's account, the collection with its members, its count and cover, the page. (The
    // photo store is not read for any of it.)
    let users = || aws_adapters::DynamoUsers::new(aws_sdk_dynamodb::Client::new(aws), &config.users_table);
    let data = SharedData::new(Arc::new(users()), images.clone(), Arc::new(MemoryPhotos::default()));
    reads.take();
    let target = users().link_target(&LinkSecret::parse(&secret)?.digest()).await?.context("the link's item")?;
    images.link(&owner, collection.id, target.link).await?;
    users().get(&owner).await?;
    let contents = Contents::open(data.0.clone(), &owner, collection.id, data.as_ref()).await?;
    tokio::try_join!(contents.photos(50, None), contents.summary())?;
    let (items, requests) = reads.take();
    report.add(
        "sharing.first_page.items_read",
        items as f64,
        "items",
        format!("DynamoDB items read for the first page through a link ({requests} requests; the images table's, counted on the bench's client; the count of the collection is a Count Query of its index partition)"),
    );
    Ok(())
}
