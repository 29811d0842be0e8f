//! `/memories`: "on this day", the user's photos taken around today's month and day in earlier
//! years, one group per year ([`domain::taken::memories`]).

use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::error::ApiResult;
use super::extract::{CurrentUser, QueryParams};
use super::images::SearchHit;
use domain::taken;

/// A year's photos shown at most: the strip shows a few, and the year's search (its
/// `taken_from`, `taken_to`) pages through all of them.
const PHOTOS_PER_YEAR: usize = 50;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MemoriesQuery {
    /// The user's time zone (IANA name, `Europe/Lisbon`; default UTC): which day today is.
    pub tz: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemoryView {
    pub year: i16,
    pub years_ago: i16,
    /// Today's month and day that year (February 28th for the 29th in a common year).
    pub date: String,
    /// The window's first and last day: `GET /images/search?taken_from=…&taken_to=…&tz=…`
    /// pages through all its photos.
    pub taken_from: String,
    pub taken_to: String,
    /// Newest first, at most 50.
    pub photos: Vec<SearchHit>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemoryList {
    /// Only years with photos, newest first; empty when there are none.
    pub memories: Vec<MemoryView>,
}

/// Photos taken on today's month and day, give or take a day, in earlier years, by year.
#[utoipa::path(get, path = "/memories", tag = "images", security(("bearer" = [])), params(MemoriesQuery),
    responses((status = 200, body = MemoryList), (status = 400, description = "invalid_tz: not an IANA time zone")))]
pub async fn memories(user: CurrentUser, QueryParams(query): QueryParams<MemoriesQuery>) -> ApiResult<Json<MemoryList>> {
    let tz = taken::time_zone(query.tz.as_deref())?;
    let found = taken::memories(user.data.images.as_ref(), user.name(), &tz, OffsetDateTime::now_utc(), PHOTOS_PER_YEAR).await?;
    let mut memories = Vec::new();
    for memory in found {
        let photos = futures::future::try_join_all(memory.photos.into_iter().map(|hit| SearchHit::of(&user, hit))).await?;
        let window = memory.window;
        memories.push(MemoryView {
            year: window.year,
            years_ago: window.years_ago,
            date: window.date.to_string(),
            taken_from: window.range.from.date().to_string(),
            taken_to: window.range.to.date().to_string(),
            photos,
        });
    }
    Ok(Json(MemoryList { memories }))
}
