//! `/collections`: albums a user makes of the photos they choose (the albums of labels are
//! `/albums`), and the users of the stack they are shared with.
//!
//! A collection lives in its owner's data; a member's data holds only a pointer to it, and a
//! contributor's the part of their photos in it ([`collections::Contents`]). Every request of a
//! member reads the owner's side (with the owner's scoped access) to learn the member's role
//! there, so a removed member is refused from the next request.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiResult;
use super::extract::{CurrentUser, JsonBody, QueryParams};
use super::images::{DOWNLOAD_URL_LIFETIME, FaceBoxView, GridFacts, PlaceView, rendition_url};
use super::paging::{ListQuery, decode_cursor, encode_cursor, page_limit};
use crate::error::{Error, Result};
use domain::collections::{self, Collection, CollectionChange, CollectionSummary, Contents, Member, Role};
use domain::{CollectionId, Face, ImageId, UserName, object_key, preview_key, rfc3339, thumbnail_key};

/// A collection as its members see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionView {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// What the caller may do: `owner` (changes, shares, deletes), `contributor` (sees and adds
    /// photos of their own), `viewer` (sees).
    #[schema(value_type = String, example = "owner")]
    pub role: Role,
    /// The user who made it.
    pub owner: String,
    pub photo_count: u64,
    /// The cover's id: the photo the owner chose, else the newest.
    pub cover_image_id: Option<String>,
    /// A short-lived URL of the cover's thumbnail (WebP, about 250 px).
    pub cover_thumbnail_url: Option<String>,
    /// Whether shared views show faces, person names and text.
    pub show_people: bool,
    /// Whether shared views show where each photo was taken (to about 100 m).
    pub show_places: bool,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: the last change of its fields or photos.
    pub updated_at: String,
}

impl CollectionView {
    /// The view of the caller in `role`, the cover presigned with its user's access.
    async fn of(contents: &Contents, role: Role) -> Result<Self> {
        let CollectionSummary { collection, photo_count, cover } = contents.summary().await?;
        let owner = &collection.owner;
        let cover_thumbnail_url = match cover.as_ref().and_then(|cover| Some((cover, contents.data_of(&cover.user)?))) {
            Some((cover, data)) => {
                let record = data.images.get(&cover.user, cover.image).await?;
                let color = record.and_then(|record| record.color);
                rendition_url(data.photos.as_ref(), &color, &thumbnail_key(&cover.user, cover.image)).await?
            }
            None => None,
        };
        Ok(Self {
            id: collection.id.to_string(),
            owner: owner.to_string(),
            title: collection.title,
            description: collection.description,
            role,
            photo_count,
            cover_image_id: cover.map(|cover| cover.image.to_string()),
            cover_thumbnail_url,
            show_people: collection.show_people,
            show_places: collection.show_places,
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
    pub show_places: Option<bool>,
}

impl CollectionPatch {
    fn change(self) -> Result<CollectionChange> {
        let cover = match self.cover_image_id {
            Some(Some(id)) => Some(Some(ImageId::parse(&id)?)),
            Some(None) => Some(None),
            None => None,
        };
        Ok(CollectionChange {
            title: self.title,
            description: self.description,
            cover,
            show_people: self.show_people,
            show_places: self.show_places,
        })
    }
}

/// Photos to add or take out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoIds {
    /// 1-100 image ids (of the caller's photos, to add; the owner takes out anyone's, a
    /// contributor their own).
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

/// A photo of a collection, as those it is shared with see it: the photo's date, labels and
/// renditions (which carry no EXIF); faces with their persons' names and the text only where
/// the owner set `show_people`; its place only where they set `show_places`; the original only
/// through a link that allows downloads.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionPhoto {
    pub id: String,
    /// The user whose photo it is.
    pub owner: String,
    /// RFC 3339: its upload.
    pub created_at: String,
    /// From EXIF DateTimeOriginal when the photo has it (camera's local time).
    pub taken_at: Option<String>,
    pub labels: Vec<String>,
    #[serde(flatten)]
    pub grid: GridFacts,
    /// A short-lived URL of a JPEG about 1440 px on its longer side, turned upright.
    pub preview_url: Option<String>,
    /// Only where the owner set `show_people`: its faces, each with its person's name if the
    /// owner named them (and did not hide them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faces: Option<Vec<SharedFace>>,
    /// Only where the owner set `show_people`: its lines of text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Vec<String>>,
    /// Only where the owner set `show_places`: where it was taken, the position to about 100 m.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceView>,
    /// Only through a link made with `allow_download`: a short-lived URL of the original,
    /// EXIF (GPS included) as it was uploaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
}

/// A face on a shared photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedFace {
    #[serde(rename = "box")]
    pub bounds: FaceBoxView,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionPhotoPage {
    pub items: Vec<CollectionPhoto>,
    pub next_cursor: Option<String>,
}

/// A page of a collection's photos, each read with its user's access, as its sharing shows
/// them: people and text where the collection has `show_people`, originals where `download`.
pub(super) async fn photo_page(contents: &Contents, query: &ListQuery, download: bool) -> Result<CollectionPhotoPage> {
    let (limit, after) = (page_limit(query.limit)?, decode_cursor(query.cursor.as_deref())?);
    let collection = &contents.collection;
    let page = contents.photos(limit, after).await?;
    // Person names are each photo's user's: a contributor's persons are theirs.
    let mut names: HashMap<UserName, HashMap<String, String>> = HashMap::new();
    let mut items = Vec::new();
    for record in page.items {
        let Some(data) = contents.data_of(&record.user_name) else { continue };
        if collection.show_people && !names.contains_key(&record.user_name) {
            let persons = data.images.persons(&record.user_name).await?;
            let named =
                persons.into_iter().filter(|person| !person.hidden).filter_map(|person| Some((person.id.to_string(), person.name?)));
            names.insert(record.user_name.clone(), named.collect());
        }
        let names = names.get(&record.user_name);
        let photos = data.photos.as_ref();
        let grid = GridFacts::of(photos, &record.user_name, record.id, record.width, record.height, record.color.clone()).await?;
        let preview_url = rendition_url(photos, &record.color, &preview_key(&record.user_name, record.id)).await?;
        let download_url = match download {
            true => Some(photos.presign_get(&object_key(&record.user_name, record.id), DOWNLOAD_URL_LIFETIME).await?),
            false => None,
        };
        let faces = collection.show_people.then(|| {
            let name = |face: &Face| face.person_id.as_ref().and_then(|person| names?.get(person)).cloned();
            record.faces.iter().map(|face| SharedFace { bounds: FaceBoxView::of(&face.bounds), name: name(face) }).collect()
        });
        items.push(CollectionPhoto {
            id: record.id.to_string(),
            owner: record.user_name.to_string(),
            created_at: rfc3339(record.created_at),
            taken_at: record.taken_at,
            labels: record.labels.into_iter().map(|label| label.name).collect(),
            grid,
            preview_url,
            faces,
            text: collection.show_people.then(|| record.text.into_iter().map(|line| line.text).collect()),
            place: record.place.as_ref().filter(|_| collection.show_places).map(|place| PlaceView::of(place, false)),
            download_url,
        });
    }
    Ok(CollectionPhotoPage { items, next_cursor: page.next.map(encode_cursor) })
}

pub(super) fn collection_id(raw: &str) -> Result<CollectionId> {
    CollectionId::parse(raw)
}

fn no_collection(id: CollectionId) -> Error {
    Error::NotFound(format!("no collection {id}"))
}

/// A collection the caller may reach, and the caller's role in it.
pub(super) struct Access {
    pub role: Role,
    pub contents: Contents,
}

impl Access {
    pub fn owner(&self) -> &UserName {
        self.contents.owner()
    }

    pub fn id(&self) -> CollectionId {
        self.contents.id()
    }

    /// Only the owner changes, shares and deletes.
    pub fn require_owner(&self) -> Result<()> {
        match self.role {
            Role::Owner => Ok(()),
            _ => Err(Error::Forbidden { code: "not_owner", message: "only the collection's owner may do this".into() }),
        }
    }

    /// The owner and contributors add photos; a viewer does not.
    pub fn require_adder(&self) -> Result<()> {
        match self.role.adds_photos() {
            true => Ok(()),
            false => Err(Error::Forbidden {
                code: "not_contributor",
                message: "a viewer adds no photos: ask the owner to make you a contributor".into(),
            }),
        }
    }
}

/// Collection `id` as the caller may reach it: their own, else one shared with them, whose
/// owner's side names them a member now. Anything else is a 404.
pub(super) async fn access(state: &AppState, user: &CurrentUser, id: CollectionId) -> Result<Access> {
    let tenants = state.tenants.as_ref();
    match Contents::open(user.data.clone(), user.name(), id, tenants).await {
        Ok(contents) => return Ok(Access { role: Role::Owner, contents }),
        Err(Error::NotFound(_)) => {}
        Err(other) => return Err(other),
    }
    let owner = user.data.images.shared_by(user.name(), id).await?.ok_or_else(|| no_collection(id))?;
    shared_access(state, user.name(), &owner, id).await
}

/// A member's access to `owner`'s collection `id`, as the owner's side has it now.
async fn shared_access(state: &AppState, member: &UserName, owner: &UserName, id: CollectionId) -> Result<Access> {
    let data = state.tenants.data_of(owner).await?;
    let contents = match Contents::open(data, owner, id, state.tenants.as_ref()).await {
        Ok(contents) => contents,
        Err(Error::NotFound(_)) => return Err(no_collection(id)),
        Err(other) => return Err(other),
    };
    let role = contents.role_of(member).ok_or_else(|| no_collection(id))?;
    Ok(Access { role, contents })
}

/// Make a collection (empty).
#[utoipa::path(post, path = "/collections", tag = "collections", security(("bearer" = [])), request_body = NewCollection,
    responses((status = 201, body = CollectionView), (status = 400, description = "invalid title or description")))]
pub async fn create(user: CurrentUser, JsonBody(body): JsonBody<NewCollection>) -> ApiResult<(StatusCode, Json<CollectionView>)> {
    let collection = Collection::new(user.name(), &body.title, body.description.as_deref())?;
    user.data.images.create_collection(&collection).await?;
    let contents =
        Contents { collection, members: Vec::new(), parts: vec![collections::Part { user: user.name().clone(), data: user.data.clone() }] };
    Ok((StatusCode::CREATED, Json(CollectionView::of(&contents, Role::Owner).await?)))
}

/// The caller's collections, most recently changed first, then those shared with them.
#[utoipa::path(get, path = "/collections", tag = "collections", security(("bearer" = [])),
    responses((status = 200, body = CollectionList)))]
pub async fn list(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<CollectionList>> {
    let mut items = Vec::new();
    for collection in user.data.images.collections(user.name()).await? {
        let contents = Contents::of(user.data.clone(), collection, state.tenants.as_ref()).await?;
        items.push(CollectionView::of(&contents, Role::Owner).await?);
    }
    let mut shared = Vec::new();
    for (id, owner) in user.data.images.shared_with(user.name()).await? {
        match shared_access(&state, user.name(), &owner, id).await {
            Ok(access) => shared.push(CollectionView::of(&access.contents, access.role).await?),
            // No longer shared, or gone: the owner's side decides; the pointer is stale.
            Err(Error::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    shared.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    items.extend(shared);
    Ok(Json(CollectionList { items }))
}

/// One collection, the caller's or shared with them.
#[utoipa::path(get, path = "/collections/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")),
    responses((status = 200, body = CollectionView), (status = 404, description = "no such collection")))]
pub async fn get(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<CollectionView>> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    Ok(Json(CollectionView::of(&access.contents, access.role).await?))
}

/// Change its title, description, cover or `show_people`. Owner only.
#[utoipa::path(patch, path = "/collections/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")), request_body = CollectionPatch,
    responses((status = 200, body = CollectionView),
        (status = 400, description = "invalid title, description or cover (invalid_cover: not one of its photos)"),
        (status = 403, description = "not_owner: a member's"), (status = 404, description = "no such collection")))]
pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<CollectionPatch>,
) -> ApiResult<Json<CollectionView>> {
    let mut access = access(&state, &user, collection_id(&id)?).await?;
    access.require_owner()?;
    access.contents.update(&patch.change()?).await?;
    Ok(Json(CollectionView::of(&access.contents, Role::Owner).await?))
}

/// Delete the collection; its photos stay in the library, its members and links lose it at
/// once. Owner only.
#[utoipa::path(delete, path = "/collections/{id}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")),
    responses((status = 204, description = "deleted"), (status = 403, description = "not_owner: a member's"),
        (status = 404, description = "no such collection")))]
pub async fn delete(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    access.require_owner()?;
    access.contents.delete(state.users.as_ref(), state.tenants.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add photos of the caller's library (all or none: an id of no photo of theirs is a 404). The
/// owner and contributors add; a contributor's photos stay theirs (on their quota, and out of
/// the collection when they leave it or their photo goes).
#[utoipa::path(post, path = "/collections/{id}/photos", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")), request_body = PhotoIds,
    responses((status = 200, body = Added), (status = 400, description = "invalid ids"),
        (status = 403, description = "not_contributor: a viewer's"),
        (status = 404, description = "no such collection, or an id of no photo of the caller's")))]
pub async fn add_photos(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PhotoIds>,
) -> ApiResult<Json<Added>> {
    let (id, photos) = (collection_id(&id)?, collections::photo_ids(&body.ids)?);
    let access = access(&state, &user, id).await?;
    access.require_adder()?;
    let added = user.data.images.add_to_collection(user.name(), id, &photos).await?;
    access.contents.owner_data().images.touch_collection(access.owner(), id).await?;
    Ok(Json(Added { added }))
}

/// Take photos out (they stay in their libraries; ids not in it are left alone): the owner
/// takes out anyone's, a contributor their own.
#[utoipa::path(delete, path = "/collections/{id}/photos", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")), request_body = PhotoIds,
    responses((status = 200, body = Removed), (status = 400, description = "invalid ids"),
        (status = 403, description = "not_contributor: a viewer's"), (status = 404, description = "no such collection")))]
pub async fn remove_photos(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PhotoIds>,
) -> ApiResult<Json<Removed>> {
    let (id, photos) = (collection_id(&id)?, collections::photo_ids(&body.ids)?);
    let access = access(&state, &user, id).await?;
    access.require_adder()?;
    let mut removed = 0;
    for part in &access.contents.parts {
        if access.role == Role::Owner || part.user == *user.name() {
            removed += part.data.images.remove_from_collection(&part.user, id, &photos).await?;
        }
    }
    access.contents.owner_data().images.touch_collection(access.owner(), id).await?;
    Ok(Json(Removed { removed }))
}

/// Its photos, newest first, paged by cursor like `/images`: thumbnails, previews, dates and
/// labels; faces, names and text only where the owner set `show_people`.
#[utoipa::path(get, path = "/collections/{id}/photos", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id"), ListQuery),
    responses((status = 200, body = CollectionPhotoPage), (status = 400, description = "invalid limit or cursor"),
        (status = 404, description = "no such collection")))]
pub async fn photos(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Json<CollectionPhotoPage>> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    Ok(Json(photo_page(&access.contents, &query, false).await?))
}

/// A member's role, as the owner sets it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRole {
    /// `viewer` (sees its photos) or `contributor` (sees them and adds their own).
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_name: String,
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    pub items: Vec<MemberView>,
}

/// Share the collection with a user of this stack (again: their role changes; a contributor
/// made a viewer takes their photos out). Owner only.
#[utoipa::path(put, path = "/collections/{id}/members/{user_name}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id"), ("user_name" = String, Path, description = "the member")),
    request_body = MemberRole,
    responses((status = 200, body = MemberView),
        (status = 400, description = "invalid role or user name, own_collection (the owner)"),
        (status = 403, description = "not_owner: a member's"), (status = 404, description = "no such collection or user")))]
pub async fn put_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, user_name)): Path<(String, String)>,
    JsonBody(body): JsonBody<MemberRole>,
) -> ApiResult<Json<MemberView>> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    access.require_owner()?;
    let member = UserName::parse(&user_name)?;
    if member == *user.name() {
        return Err(Error::invalid("own_collection", "the owner is no member of their own collection").into());
    }
    let role = Role::of_member(body.role)?;
    let theirs = state.tenants.data_of(&member).await?;
    let Some(account) = theirs.account.get(&member).await? else {
        return Err(Error::NotFound(format!("no user {member}")).into());
    };
    let shared = Member { user: member.clone(), role, account: Some(account.account_id) };
    access.contents.put_member(&shared, state.tenants.as_ref()).await?;
    Ok(Json(MemberView { user_name: member.to_string(), role }))
}

/// Stop sharing with a member: the owner removes anyone, a member themselves (leaving). Their
/// next request is refused; a contributor's photos leave the collection with them.
#[utoipa::path(delete, path = "/collections/{id}/members/{user_name}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id"), ("user_name" = String, Path, description = "the member")),
    responses((status = 204, description = "no longer a member"), (status = 403, description = "not_owner: another member"),
        (status = 404, description = "no such collection or member")))]
pub async fn remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, user_name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    let member = UserName::parse(&user_name)?;
    if member != *user.name() {
        access.require_owner()?;
    }
    if !access.contents.remove_member(&member, state.tenants.as_ref()).await? {
        return Err(Error::NotFound(format!("{member} is no member of collection {}", access.id())).into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who the collection is shared with (its owner and its members see this).
#[utoipa::path(get, path = "/collections/{id}/members", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")),
    responses((status = 200, body = MemberList), (status = 404, description = "no such collection")))]
pub async fn members(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<MemberList>> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    let items =
        access.contents.members.into_iter().map(|member| MemberView { user_name: member.user.to_string(), role: member.role }).collect();
    Ok(Json(MemberList { items }))
}
