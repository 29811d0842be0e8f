//! `/collections`: albums a user makes of the photos they choose (the albums of labels are
//! `/albums`).

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiResult;
use super::extract::{CurrentUser, JsonBody, QueryParams};
use super::images::{GridFacts, rendition_url};
use super::paging::{ListQuery, decode_cursor, encode_cursor, page_limit};
use crate::error::Result;
use domain::collections::{self, Collection, CollectionChange, CollectionSummary, Role};
use domain::{CollectionId, ImageId, rfc3339, thumbnail_key};

/// A collection as its members see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionView {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// What the caller may do: `owner` (shares, changes, deletes).
    #[schema(value_type = String, example = "owner")]
    pub role: Role,
    pub photo_count: u64,
    /// The cover's id: the photo the owner chose, else the newest.
    pub cover_image_id: Option<String>,
    /// A short-lived URL of the cover's thumbnail (WebP, about 250 px).
    pub cover_thumbnail_url: Option<String>,
    /// Whether shared views show faces, person names and text.
    pub show_people: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: the last change of its fields or photos.
    pub updated_at: String,
}

impl CollectionView {
    async fn of(user: &CurrentUser, summary: CollectionSummary) -> Result<Self> {
        let CollectionSummary { collection, photo_count, cover } = summary;
        let cover_thumbnail_url = match cover {
            Some(cover) => {
                let record = user.data.images.get(user.name(), cover).await?;
                let color = record.and_then(|record| record.color);
                rendition_url(user.data.photos.as_ref(), &color, &thumbnail_key(user.name(), cover)).await?
            }
            None => None,
        };
        Ok(Self {
            id: collection.id.to_string(),
            title: collection.title,
            description: collection.description,
            role: Role::Owner,
            photo_count,
            cover_image_id: cover.map(|cover| cover.to_string()),
            cover_thumbnail_url,
            show_people: collection.show_people,
            created_at: rfc3339(collection.created_at),
            updated_at: rfc3339(collection.updated_at),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionList {
    pub items: Vec<CollectionView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollection {
    /// 1-100 characters.
    pub title: String,
    /// At most 2,000 characters.
    pub description: Option<String>,
}

/// What `PATCH /collections/{id}` changes; fields left out stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPatch {
    pub title: Option<String>,
    /// null (or "") removes it.
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// One of its photos; null goes back to the newest photo.
    #[serde(default, deserialize_with = "super::extract::present")]
    #[schema(value_type = Option<String>)]
    pub cover_image_id: Option<Option<String>>,
    pub show_people: Option<bool>,
}

impl CollectionPatch {
    fn change(self) -> Result<CollectionChange> {
        let cover = match self.cover_image_id {
            Some(Some(id)) => Some(Some(ImageId::parse(&id)?)),
            Some(None) => Some(None),
            None => None,
        };
        Ok(CollectionChange { title: self.title, description: self.description, cover, show_people: self.show_people })
    }
}

/// Photos to add or take out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoIds {
    /// 1-100 image ids (of the caller's photos, to add).
    pub ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Added {
    /// How many were not in the collection before.
    pub added: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    /// How many were in it.
    pub removed: usize,
}

/// A photo of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionPhoto {
    pub id: String,
    /// The user whose photo it is.
    pub owner: String,
    /// RFC 3339: its upload.
    pub created_at: String,
    #[serde(flatten)]
    pub grid: GridFacts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionPhotoPage {
    pub items: Vec<CollectionPhoto>,
    pub next_cursor: Option<String>,
}

fn collection_id(raw: &str) -> Result<CollectionId> {
    CollectionId::parse(raw)
}

/// Make a collection (empty).
#[utoipa::path(post, path = "/collections", tag = "collections", security(("bearer" = [])), request_body = NewCollection,
    responses((status = 201, body = CollectionView), (status = 400, description = "invalid title or description")))]
pub async fn create(user: CurrentUser, JsonBody(body): JsonBody<NewCollection>) -> ApiResult<(StatusCode, Json<CollectionView>)> {
    let collection = Collection::new(user.name(), &body.title, body.description.as_deref())?;
    user.data.images.create_collection(&collection).await?;
    let summary = CollectionSummary { collection, photo_count: 0, cover: None };
    Ok((StatusCode::CREATED, Json(CollectionView::of(&user, summary).await?)))
}

/// The caller's collections, most recently changed first.
#[utoipa::path(get, path = "/collections", tag = "collections", security(("bearer" = [])),
    responses((status = 200, body = CollectionList)))]
pub async fn list(user: CurrentUser) -> ApiResult<Json<CollectionList>> {
    let mut items = Vec::new();
    for summary in user.data.images.collections(user.name()).await? {
        items.push(CollectionView::of(&user, summary).await?);
    }
    Ok(Json(CollectionList { items }))
}

/// One collection.
#[utoipa::path(get, path = "/collections/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")),
    responses((status = 200, body = CollectionView), (status = 404, description = "no such collection")))]
pub async fn get(user: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<CollectionView>> {
    let summary = user.data.images.collection(user.name(), collection_id(&id)?).await?;
    Ok(Json(CollectionView::of(&user, summary).await?))
}

/// Change its title, description, cover or `show_people`.
#[utoipa::path(patch, path = "/collections/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")), request_body = CollectionPatch,
    responses((status = 200, body = CollectionView),
        (status = 400, description = "invalid title, description or cover (invalid_cover: not one of its photos)"),
        (status = 404, description = "no such collection")))]
pub async fn update(
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<CollectionPatch>,
) -> ApiResult<Json<CollectionView>> {
    let id = collection_id(&id)?;
    let summary = user.data.images.update_collection(user.name(), id, &patch.change()?).await?;
    Ok(Json(CollectionView::of(&user, summary).await?))
}

/// Delete the collection; its photos stay in the library.
#[utoipa::path(delete, path = "/collections/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such collection")))]
pub async fn delete(user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    user.data.images.delete_collection(user.name(), collection_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add photos of the caller's library (all or none: an id of no photo of theirs is a 404).
#[utoipa::path(post, path = "/collections/{id}/photos", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")), request_body = PhotoIds,
    responses((status = 200, body = Added), (status = 400, description = "invalid ids"),
        (status = 404, description = "no such collection, or an id of no photo of the caller's")))]
pub async fn add_photos(user: CurrentUser, Path(id): Path<String>, JsonBody(body): JsonBody<PhotoIds>) -> ApiResult<Json<Added>> {
    let (id, photos) = (collection_id(&id)?, collections::photo_ids(&body.ids)?);
    Ok(Json(Added { added: user.data.images.add_to_collection(user.name(), id, &photos).await? }))
}

/// Take photos out (they stay in the library; ids not in it are left alone).
#[utoipa::path(delete, path = "/collections/{id}/photos", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")), request_body = PhotoIds,
    responses((status = 200, body = Removed), (status = 400, description = "invalid ids"),
        (status = 404, description = "no such collection")))]
pub async fn remove_photos(user: CurrentUser, Path(id): Path<String>, JsonBody(body): JsonBody<PhotoIds>) -> ApiResult<Json<Removed>> {
    let (id, photos) = (collection_id(&id)?, collections::photo_ids(&body.ids)?);
    Ok(Json(Removed { removed: user.data.images.remove_from_collection(user.name(), id, &photos).await? }))
}

/// Its photos, newest first, paged by cursor like `/images`.
#[utoipa::path(get, path = "/collections/{id}/photos", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id"), ListQuery),
    responses((status = 200, body = CollectionPhotoPage), (status = 400, description = "invalid limit or cursor"),
        (status = 404, description = "no such collection")))]
pub async fn photos(
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Json<CollectionPhotoPage>> {
    let id = collection_id(&id)?;
    let (limit, after) = (page_limit(query.limit)?, decode_cursor(query.cursor.as_deref())?);
    let page = user.data.images.collection_photos(user.name(), id, limit, after).await?;
    let mut items = Vec::new();
    for record in page.items {
        let grid =
            GridFacts::of(user.data.photos.as_ref(), &record.user_name, record.id, record.width, record.height, record.color).await?;
        items.push(CollectionPhoto {
            id: record.id.to_string(),
            owner: record.user_name.to_string(),
            created_at: rfc3339(record.created_at),
            grid,
        });
    }
    Ok(Json(CollectionPhotoPage { items, next_cursor: page.next.map(encode_cursor) }))
}
