//! Where a user's photos were taken, counted: one counter item a place (country, region, city),
//! written in the same transaction as the record that gains or loses the place, so counts stay
//! exact through re-analyses, deletions and races; read whole by `GET /places`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::DynamoImages;
use super::keys::{PLACE_COUNT_PREFIX, PlaceCountItem, place_count_sk};
use crate::dynamo::{self, from_item, n, s};
use domain::PlaceStore;
use domain::error::{Error, Result};
use domain::model::{ImageId, Search, UserName};
use domain::places::{Place, PlaceCount, fold_name};

impl DynamoImages {
    /// The transaction item counting image `id` in (`delta` 1) or out of (-1) its place; a
    /// photo counted in becomes the cover.
    pub(super) fn count_in_place(&self, user: &UserName, place: &Place, id: ImageId, delta: i64) -> Result<TransactWriteItem> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(self.key(user, place_count_sk(place))))
            .expression_attribute_names("#region", "region")
            .expression_attribute_values(":delta", n(delta))
            .expression_attribute_values(":city", s(&place.city))
            .expression_attribute_values(":region", s(&place.region))
            .expression_attribute_values(":country", s(&place.country))
            .expression_attribute_values(":code", s(&place.country_code));
        let names = "city = :city, #region = :region, country = :country, country_code = :code";
        update = if delta > 0 {
            update
                .update_expression(format!("ADD photos :delta SET {names}, cover = :id"))
                .expression_attribute_values(":id", s(id.to_string()))
        } else {
            update.update_expression(format!("ADD photos :delta SET {names}"))
        };
        let update = update.build().map_err(|err| Error::Internal(err.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// After image `id` left `place`: drops its counter once empty, else keeps its cover one
    /// of its photos (the newest with every one of its names: the city's, in that region and
    /// country).
    pub(super) async fn tidy_place(&self, user: &UserName, id: ImageId, place: &Place) -> Result<()> {
        let names = [&place.city, &place.region, &place.country].into_iter().filter_map(|name| fold_name(name)).collect();
        self.tidy_counter(self.key(user, place_count_sk(place)), user, id, &Search { places: names, ..Search::default() }).await
    }
}

#[async_trait]
impl PlaceStore for DynamoImages {
    async fn places(&self, user: &UserName) -> Result<Vec<PlaceCount>> {
        let mut places = Vec::new();
        for item in dynamo::partition(&self.client, &self.table, user.as_str(), Some(PLACE_COUNT_PREFIX)).await? {
            let counted: PlaceCountItem = from_item(item)?;
            if counted.photos > 0 {
                places.push(PlaceCount {
                    city: counted.city,
                    region: counted.region,
                    country: counted.country,
                    country_code: counted.country_code,
                    photos: counted.photos as u64,
                    cover: counted.cover.as_deref().map(ImageId::parse).transpose()?,
                });
            }
        }
        Ok(places)
    }
}
