//! Where a user's photos were taken, counted: one counter item a place (country, region, city),
//! written in the same transaction as the record that gains or loses the place, so counts stay
//! exact through re-analyses, deletions and races; read whole by `GET /places`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::DynamoImages;
use super::keys::{PLACE_COUNT_PREFIX, PlaceCountItem, place_count_sk};
use crate::dynamo::{self, from_item};
use domain::PlaceStore;
use domain::error::Result;
use domain::model::{ImageId, Search, UserName};
use domain::places::{Place, PlaceCount};

impl DynamoImages {
    /// The transaction item counting image `id` in (`delta` 1) or out of (-1) its place; a
    /// photo counted in becomes the cover.
    pub(super) fn count_in_place(&self, user: &UserName, place: &Place, id: ImageId, delta: i64) -> Result<TransactWriteItem> {
        let names = [
            ("city", place.city.as_str()),
            ("region", place.region.as_str()),
            ("country", place.country.as_str()),
            ("country_code", place.country_code.as_str()),
        ];
        self.count_in(self.key(user, place_count_sk(place)), id, delta, &names)
    }

    /// After image `id` left `place`: drops its counter once empty, else keeps its cover one
    /// of its photos (the newest with every one of its names: the city's, in that region and
    /// country).
    pub(super) async fn tidy_place(&self, user: &UserName, id: ImageId, place: &Place) -> Result<()> {
        let newest = Search { places: place.search_names(), ..Search::default() };
        self.tidy_counter(self.key(user, place_count_sk(place)), user, id, &newest).await
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
