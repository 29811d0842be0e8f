//! `/places`: where the user's photos were taken, by country and then city, each with its count
//! and a cover; a place's photos are `GET /images/search?place=<name>`.

use std::collections::BTreeMap;

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::albums::cover_thumbnail_url;
use super::error::ApiResult;
use super::extract::CurrentUser;
use domain::ImageId;
use domain::places::PlaceCount;

#[derive(Debug, Serialize, ToSchema)]
pub struct CityView {
    pub city: String,
    /// State, province or region; empty where there is none.
    pub region: String,
    pub photo_count: u64,
    /// The newest photo taken there.
    pub cover_image_id: Option<String>,
    /// A short-lived URL of the cover's thumbnail (WebP, about 250 px).
    pub cover_thumbnail_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountryView {
    pub country: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub photo_count: u64,
    /// The newest photo taken in it.
    pub cover_image_id: Option<String>,
    pub cover_thumbnail_url: Option<String>,
    /// Most photos first.
    pub cities: Vec<CityView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceList {
    /// Most photos first.
    pub countries: Vec<CountryView>,
}

/// A country's places, counted.
struct Country {
    name: String,
    code: String,
    photos: u64,
    cover: Option<ImageId>,
    cities: Vec<PlaceCount>,
}

/// Groups counted places by country, most photos first (then by name) at both levels; a
/// country's cover is its newest city cover (ids are ULIDs: the greatest is the newest).
fn by_country(places: Vec<PlaceCount>) -> Vec<Country> {
    let mut countries: BTreeMap<String, Vec<PlaceCount>> = BTreeMap::new();
    for place in places {
        countries.entry(place.country_code.clone()).or_default().push(place);
    }
    let mut grouped: Vec<Country> = countries
        .into_iter()
        .map(|(code, mut cities)| {
            cities.sort_by(|a, b| b.photos.cmp(&a.photos).then_with(|| a.city.cmp(&b.city)));
            Country {
                name: cities[0].country.clone(),
                code,
                photos: cities.iter().map(|city| city.photos).sum(),
                cover: cities.iter().filter_map(|city| city.cover).max(),
                cities,
            }
        })
        .collect();
    grouped.sort_by(|a, b| b.photos.cmp(&a.photos).then_with(|| a.name.cmp(&b.name)));
    grouped
}

/// Where the user's photos were taken: countries, and in each the cities, with counts and covers.
#[utoipa::path(get, path = "/places", tag = "places", security(("bearer" = [])),
    responses((status = 200, body = PlaceList)))]
pub async fn places(user: CurrentUser) -> ApiResult<Json<PlaceList>> {
    let mut countries = Vec::new();
    for country in by_country(user.data.images.places(user.name()).await?) {
        let mut cities = Vec::new();
        for city in country.cities {
            cities.push(CityView {
                cover_thumbnail_url: cover_thumbnail_url(&user, city.cover).await?,
                cover_image_id: city.cover.map(|id| id.to_string()),
                city: city.city,
                region: city.region,
                photo_count: city.photos,
            });
        }
        countries.push(CountryView {
            cover_thumbnail_url: cover_thumbnail_url(&user, country.cover).await?,
            cover_image_id: country.cover.map(|id| id.to_string()),
            country: country.name,
            country_code: country.code,
            photo_count: country.photos,
            cities,
        });
    }
    Ok(Json(PlaceList { countries }))
}
