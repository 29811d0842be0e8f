//! Albums (`sk` = `album#<label>`): each label's photo count and cover, changed in the
//! transaction that stores or removes an image's labels.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use async_trait::async_trait;
use domain::{AlbumStore, ImageIndex};

use super::DynamoImages;
use super::keys::{ALBUM_PREFIX, AlbumItem, album_sk};
use crate::aws_error;
use crate::dynamo::{self, Item, condition_held, from_item, n, s};
use domain::error::{Error, Result};
use domain::model::{Album, ImageId, Label, Search, UserName};

impl DynamoImages {
    /// Counts the image in (`delta` 1, and it becomes the cover) or out of (`delta` -1) an album.
    pub(super) fn count_in_album(&self, user: &UserName, label: &str, id: ImageId, delta: i64) -> Result<TransactWriteItem> {
        self.count_in(self.key(user, album_sk(label)), id, delta, &[("label", label)])
    }

    /// The transaction item counting image `id` in (`delta` 1: it becomes the cover) or out of
    /// (-1) the counter at `key` (an album, a place), setting the counter's `fields` (what it
    /// counts, for reading it back whole).
    pub(super) fn count_in(&self, key: Item, id: ImageId, delta: i64, fields: &[(&str, &str)]) -> Result<TransactWriteItem> {
        let mut update = Update::builder().table_name(&self.table).set_key(Some(key)).expression_attribute_values(":delta", n(delta));
        let mut sets = Vec::new();
        for (i, (name, value)) in fields.iter().enumerate() {
            // Through aliases: a field's name may be a reserved word (`region` is).
            update = update.expression_attribute_names(format!("#f{i}"), *name).expression_attribute_values(format!(":f{i}"), s(*value));
            sets.push(format!("#f{i} = :f{i}"));
        }
        if delta > 0 {
            update = update.expression_attribute_values(":id", s(id.to_string()));
            sets.push("cover = :id".to_owned());
        }
        let update = update.update_expression(format!("ADD photos :delta SET {}", sets.join(", "))).build();
        Ok(TransactWriteItem::builder().update(update.map_err(|err| Error::Internal(err.to_string()))?).build())
    }

    /// The photo counts of these labels' albums (absent: no photo has the label).
    pub(super) async fn album_counts(&self, user: &UserName, labels: &[String]) -> Result<HashMap<String, i64>> {
        let keys = labels.iter().map(|label| self.key(user, album_sk(label))).collect();
        dynamo::batch_get(&self.client, &self.table, keys)
            .await?
            .into_iter()
            .map(|item| from_item::<AlbumItem>(item).map(|album| (album.label, album.photos)))
            .collect()
    }

    /// After an image left albums: drops empty albums and gives others a cover still there.
    pub(super) async fn tidy_albums(&self, user: &UserName, id: ImageId, labels: &[Label]) -> Result<()> {
        for label in labels {
            let newest = Search::labels(std::slice::from_ref(&label.name));
            self.tidy_counter(self.key(user, album_sk(&label.name)), user, id, &newest).await?;
        }
        Ok(())
    }

    /// After image `id` left what the counter at `key` counts (an album, a place): deletes the
    /// counter once it is empty, else, where `id` was its cover, makes the newest photo `newest`
    /// finds the cover (best effort: a cover that lags one deletion behind is harmless).
    pub(super) async fn tidy_counter(&self, key: Item, user: &UserName, id: ImageId, newest: &Search) -> Result<()> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws_error("GetItem counter"))?;
        let Some(counter) = answer.item.map(from_item::<Counter>).transpose()? else { return Ok(()) };
        if counter.photos <= 0 {
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key))
                .condition_expression("photos <= :zero")
                .expression_attribute_values(":zero", n(0))
                .send()
                .await;
            // A failed condition means the counter gained a photo meanwhile: it stays.
            condition_held(deleted, "DeleteItem counter")?;
            return Ok(());
        }
        if counter.cover == Some(id.to_string()) {
            let found = self.search(user, newest, 1, None).await?;
            if let Some(hit) = found.items.first() {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key))
                    .update_expression("SET cover = :cover")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":cover", s(hit.id.to_string()))
                    .send()
                    .await
                    .ok();
            }
        }
        Ok(())
    }
}

/// What every counter item has (albums' and places'), read to tidy it.
#[derive(serde::Deserialize)]
struct Counter {
    #[serde(default)]
    photos: i64,
    cover: Option<String>,
}

#[async_trait]
impl AlbumStore for DynamoImages {
    async fn albums(&self, user: &UserName) -> Result<Vec<Album>> {
        let mut albums = Vec::new();
        for item in dynamo::partition(&self.client, &self.table, user.as_str(), Some(ALBUM_PREFIX)).await? {
            let album: AlbumItem = from_item(item)?;
            if album.photos > 0 {
                albums.push(Album {
                    label: album.label,
                    photos: album.photos as u64,
                    cover: album.cover.as_deref().map(ImageId::parse).transpose()?,
                });
            }
        }
        albums.sort_by(|a, b| b.photos.cmp(&a.photos).then_with(|| a.label.cmp(&b.label)));
        Ok(albums)
    }
}
