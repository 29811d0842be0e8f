//! `/albums`: every label of the user's photos with its count, a cover and its category, and
//! each album's photos.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::Path;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiResult;
use super::extract::{CurrentUser, QueryParams};
use super::images::{SearchPage, SearchTerms, search_page};
use super::paging::ListQuery;
use crate::error::{Error, Result};
use domain::labels::{self, Category};
use domain::{Album, ImageId, Search, object_key, thumbnail_key};

const COVER_URL_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// A short-lived URL of the thumbnail of the user's photo `cover`, if there is one (the covers
/// of albums and places).
pub(super) async fn cover_thumbnail_url(user: &CurrentUser, cover: Option<ImageId>) -> Result<Option<String>> {
    match cover {
        Some(cover) => Ok(Some(user.data.photos.presign_get(&thumbnail_key(user.name(), cover), COVER_URL_LIFETIME).await?)),
        None => Ok(None),
    }
}

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
    /// The top category it is browsed under: `people`, `animals`, `food`, `vehicles`,
    /// `places`, `text` or `things`.
    #[schema(value_type = String, example = "animals")]
    pub category: Category,
    /// The album holding exactly the same photos that is shown in this one's place (the most
    /// specific label: `tabby cat` for `cat`, `pet`, `feline`, `mammal` and `animal` of one
    /// cat); null where no other holds the same.
    pub same_as: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlbumList {
    pub items: Vec<AlbumView>,
}

/// Albums of more photos than this are never compared photo by photo for `same_as`.
const MAX_COMPARED_PHOTOS: u64 = 100;

/// For each label that holds exactly the photos of another, the one shown in its place. Only
/// albums of the same count and cover can; each such group is checked through the index.
async fn same_photos(user: &CurrentUser, albums: &[Album]) -> Result<HashMap<String, String>> {
    let mut candidates: BTreeMap<(u64, Option<ImageId>), Vec<&str>> = BTreeMap::new();
    for album in albums.iter().filter(|album| album.photos <= MAX_COMPARED_PHOTOS) {
        candidates.entry((album.photos, album.cover)).or_default().push(&album.label);
    }
    let mut same = HashMap::new();
    for ((photos, _), labels) in candidates.into_iter().filter(|(_, labels)| labels.len() > 1) {
        let mut by_photos: BTreeMap<Vec<ImageId>, Vec<&str>> = BTreeMap::new();
        for label in labels {
            // Even of one photo: a cover can outlive its photo, so equal covers prove nothing.
            let search = Search::labels(&[label.to_owned()]);
            let page = user.data.images.search(user.name(), &search, photos as usize + 1, None).await?;
            let ids: Vec<ImageId> = page.items.into_iter().map(|found| found.id).collect();
            by_photos.entry(ids).or_default().push(label);
        }
        for labels in by_photos.into_values().filter(|labels| labels.len() > 1) {
            let Some(shown) = labels::most_specific(&labels) else { continue };
            for label in labels.into_iter().filter(|label| *label != shown) {
                same.insert(label.to_owned(), shown.to_owned());
            }
        }
    }
    Ok(same)
}

/// Every label of the user's photos with its photo count, a cover and its category, most
/// photos first; a label holding exactly another's photos names the one shown instead.
#[utoipa::path(get, path = "/albums", tag = "albums", security(("bearer" = [])),
    responses((status = 200, body = AlbumList)))]
pub async fn albums(user: CurrentUser) -> ApiResult<Json<AlbumList>> {
    let albums = user.data.images.albums(user.name()).await?;
    let mut same = same_photos(&user, &albums).await?;
    let mut items = Vec::new();
    for album in albums {
        let cover_url = match album.cover {
            Some(cover) => Some(user.data.photos.presign_get(&object_key(user.name(), cover), COVER_URL_LIFETIME).await?),
            None => None,
        };
        let cover_thumbnail_url = cover_thumbnail_url(&user, album.cover).await?;
        items.push(AlbumView {
            category: labels::category_of(&album.label),
            same_as: same.remove(&album.label),
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
