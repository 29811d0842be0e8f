//! `/albums`: every label of the user's photos with its count and a cover, and each album's
//! photos.

use axum::Json;
use axum::extract::Path;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiResult;
use super::extract::{CurrentUser, QueryParams};
use super::images::{SearchPage, SearchTerms, search_page};
use super::paging::ListQuery;
use crate::error::Error;
use domain::{object_key, thumbnail_key};

const COVER_URL_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumView {
    pub label: String,
    pub photos: u64,
    /// The newest photo analysed with this label.
    pub cover_id: Option<String>,
    /// A short-lived URL of the cover photo.
    pub cover_url: Option<String>,
    /// A short-lived URL of the cover's thumbnail (WebP, about 250 px; photos analysed before
    /// thumbnails existed have none until `smart-album backfill`).
    pub cover_thumbnail_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumList {
    pub items: Vec<AlbumView>,
}

/// Every label of the user's photos with its photo count and a cover, most photos first.
#[utoipa::path(get, path = "/albums", tag = "albums", security(("bearer" = [])),
    responses((status = 200, body = AlbumList)))]
pub async fn albums(user: CurrentUser) -> ApiResult<Json<AlbumList>> {
    let mut items = Vec::new();
    for album in user.data.images.albums(user.name()).await? {
        let (cover_url, cover_thumbnail_url) = match album.cover {
            Some(cover) => (
                Some(user.data.photos.presign_get(&object_key(user.name(), cover), COVER_URL_LIFETIME).await?),
                Some(user.data.photos.presign_get(&thumbnail_key(user.name(), cover), COVER_URL_LIFETIME).await?),
            ),
            None => (None, None),
        };
        items.push(AlbumView {
            label: album.label,
            photos: album.photos,
            cover_id: album.cover.map(|id| id.to_string()),
            cover_url,
            cover_thumbnail_url,
        });
    }
    Ok(Json(AlbumList { items }))
}

/// The photos of one album, newest first (the label search for one label).
#[utoipa::path(get, path = "/albums/{label}", tag = "albums", security(("bearer" = [])),
    params(("label" = String, Path, description = "the album's label"), ListQuery),
    responses((status = 200, body = SearchPage), (status = 400, description = "invalid label or cursor"),
        (status = 404, description = "no photo of the user has this label")))]
pub async fn album(
    user: CurrentUser,
    Path(label): Path<String>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Json<SearchPage>> {
    let first_page = query.cursor.as_deref().is_none_or(str::is_empty);
    let page = search_page(&user, SearchTerms { labels: &[label], ..SearchTerms::default() }, query.limit, query.cursor.as_deref()).await?;
    // An album is a label of the user's photos: without a photo there is no album.
    if first_page && page.items.is_empty() {
        return Err(Error::NotFound("no such album: none of your photos has this label".into()).into());
    }
    Ok(Json(page))
}
