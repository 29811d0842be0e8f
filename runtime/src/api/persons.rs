//! `/persons`: the people in the user's photos, faces grouped by the analyzer.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiResult;
use super::extract::{CurrentUser, JsonBody, QueryParams};
use super::images::{SearchPage, SearchTerms, search_page};
use super::paging::{ListQuery, page_limit};
use crate::error::{Error, Result};
use domain::grouping::MergedBy;
use domain::{Person, PersonChange, PersonId, PhotoStore, UserName, face_crop_key, persons};

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: String,
    /// Given by the user; null until then.
    pub name: Option<String>,
    pub face_count: u64,
    pub photo_count: u64,
    /// A short-lived URL of the person's cover face (a JPEG of about 160 px).
    pub cover_url: Option<String>,
    pub hidden: bool,
}

const COVER_URL_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);

impl PersonView {
    async fn of(photos: &dyn PhotoStore, user: &UserName, person: Person) -> Result<Self> {
        let cover_url = match person.cover {
            Some(face) => Some(photos.presign_get(&face_crop_key(user, face), COVER_URL_LIFETIME).await?),
            None => None,
        };
        Ok(Self {
            id: person.id.to_string(),
            name: person.name,
            face_count: person.face_count,
            photo_count: person.photo_count,
            cover_url,
            hidden: person.hidden,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonPage {
    pub persons: Vec<PersonView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PersonQuery {
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "super::extract::limit_value")]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Also list the persons the user hid.
    pub hidden: Option<bool>,
}

/// Where a page ends in the listing's order (most photos first, then id): opaque to clients.
fn encode_cursor(person: &Person) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", person.photo_count, person.id))
}

fn decode_cursor(cursor: &str) -> Result<(u64, PersonId)> {
    let invalid = || Error::invalid("invalid_cursor", "cursor must be a next_cursor returned by this API");
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?).map_err(|_| invalid())?;
    let (count, id) = text.split_once('.').ok_or_else(invalid)?;
    Ok((count.parse().map_err(|_| invalid())?, PersonId::parse(id).map_err(|_| invalid())?))
}

/// The user's persons, most photos first; hidden ones only with `?hidden=true`.
#[utoipa::path(get, path = "/persons", tag = "persons", security(("bearer" = [])),
    params(PersonQuery),
    responses((status = 200, body = PersonPage), (status = 400, description = "invalid limit or cursor")))]
pub async fn persons(user: CurrentUser, QueryParams(query): QueryParams<PersonQuery>) -> ApiResult<Json<PersonPage>> {
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let with_hidden = query.hidden.unwrap_or(false);
    let mut listed: Vec<Person> = user
        .data
        .images
        .persons(user.name())
        .await?
        .into_iter()
        .filter(|person| with_hidden || !person.hidden)
        // The store's order: photo count descending, then id.
        .filter(|person| after.is_none_or(|(count, id)| person.photo_count < count || (person.photo_count == count && person.id > id)))
        .take(limit + 1)
        .collect();
    let more = listed.len() > limit;
    listed.truncate(limit);
    let next_cursor = if more { listed.last().map(encode_cursor) } else { None };
    let mut persons = Vec::with_capacity(listed.len());
    for person in listed {
        persons.push(PersonView::of(user.data.photos.as_ref(), user.name(), person).await?);
    }
    Ok(Json(PersonPage { persons, next_cursor }))
}

/// The photos showing one person, newest first (the search for one person).
#[utoipa::path(get, path = "/persons/{id}/images", tag = "persons", security(("bearer" = [])),
    params(("id" = String, Path, description = "person id"), ListQuery),
    responses((status = 200, body = SearchPage), (status = 400, description = "invalid id or cursor"), (status = 404, description = "no such person")))]
pub async fn person_images(
    user: CurrentUser,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Json<SearchPage>> {
    let person = find(&user, &id).await?;
    Ok(Json(
        search_page(
            &user,
            SearchTerms { persons: &[person.id.to_string()], ..SearchTerms::default() },
            query.limit,
            query.cursor.as_deref(),
        )
        .await?,
    ))
}

/// The user's person of that id: another user's, or none, is a 404.
async fn find(user: &CurrentUser, id: &str) -> Result<Person> {
    let id = PersonId::parse(id)?;
    user.data
        .images
        .persons(user.name())
        .await?
        .into_iter()
        .find(|person| person.id == id)
        .ok_or_else(|| Error::NotFound(format!("no person {id}")))
}

/// The longest name a person can be given, in characters.
const MAX_NAME_CHARS: usize = 64;

/// What `PATCH /persons/{id}` changes; at least one of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    /// 1-64 characters once trimmed; unique among the user's persons.
    #[schema(min_length = 1, max_length = 64)]
    pub name: Option<String>,
    pub hidden: Option<bool>,
}

impl PersonPatch {
    fn change(self) -> Result<PersonChange> {
        let name = self.name.map(|name| name.trim().to_owned());
        if name.as_ref().is_some_and(|name| name.is_empty() || name.chars().count() > MAX_NAME_CHARS) {
            return Err(Error::invalid("invalid_name", format!("a name is 1 to {MAX_NAME_CHARS} characters")));
        }
        if name.is_none() && self.hidden.is_none() {
            return Err(Error::invalid("empty_change", "send a name, hidden, or both"));
        }
        Ok(PersonChange { name, hidden: self.hidden })
    }
}

/// Name or hide a person. A name another of the user's persons has answers 409 `name_taken`
/// with that person's id (`error.person_id`), so that a client can offer to merge them.
#[utoipa::path(patch, path = "/persons/{id}", tag = "persons", security(("bearer" = [])),
    params(("id" = String, Path, description = "person id")),
    request_body = PersonPatch,
    responses((status = 200, body = PersonView), (status = 400, description = "invalid name or body"),
        (status = 404, description = "no such person"), (status = 409, description = "name_taken: another person has that name")))]
pub async fn update_person(
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<PersonPatch>,
) -> ApiResult<Json<PersonView>> {
    let id = PersonId::parse(&id)?;
    let change = patch.change()?;
    let person = user.data.images.update_person(user.name(), id, &change).await?;
    Ok(Json(PersonView::of(user.data.photos.as_ref(), user.name(), person).await?))
}

/// The most persons one merge takes in (the persons change in one DynamoDB transaction).
pub const MAX_MERGED: usize = 50;

/// What `POST /persons/{id}/merge` merges.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The persons whose faces join this one: 1-50 ids, other than this one's.
    #[schema(min_items = 1, max_items = 50)]
    pub from: Vec<String>,
}

impl MergeRequest {
    /// The ids, in order, each once; the request's own id is refused.
    fn ids(self, into: PersonId) -> Result<Vec<PersonId>> {
        let mut ids: Vec<PersonId> = Vec::with_capacity(self.from.len());
        for id in &self.from {
            let id = PersonId::parse(id)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() || ids.len() > MAX_MERGED || ids.contains(&into) {
            return Err(Error::invalid("invalid_merge", format!("from lists 1 to {MAX_MERGED} persons other than the one merged into")));
        }
        Ok(ids)
    }
}

/// Merge persons into this one: their faces join it, on every photo, and their ids are gone.
/// The name kept is this person's, or else the first named one's. Persons on one photo are not
/// merged (409 `same_photo`): two faces of one photo are never one person.
#[utoipa::path(post, path = "/persons/{id}/merge", tag = "persons", security(("bearer" = [])),
    params(("id" = String, Path, description = "the person the others join")),
    request_body = MergeRequest,
    responses((status = 200, body = PersonView), (status = 400, description = "invalid ids or body"),
        (status = 404, description = "no such person (this one or one of from)"),
        (status = 409, description = "same_photo: two of them are on one photo")))]
pub async fn merge_persons(
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<MergeRequest>,
) -> ApiResult<Json<PersonView>> {
    // The person merged into exists first: a list naming it is a client's mistake about an
    // existing person only.
    let into = find(&user, &id).await?.id;
    let from = request.ids(into)?;
    let person = user.data.images.merge_persons(user.name(), into, &from, MergedBy::User).await?;
    Ok(Json(PersonView::of(user.data.photos.as_ref(), user.name(), person).await?))
}

/// One person.
#[utoipa::path(get, path = "/persons/{id}", tag = "persons", security(("bearer" = [])),
    params(("id" = String, Path, description = "person id")),
    responses((status = 200, body = PersonView), (status = 404, description = "no such person")))]
pub async fn person(user: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<PersonView>> {
    let person = find(&user, &id).await?;
    Ok(Json(PersonView::of(user.data.photos.as_ref(), user.name(), person).await?))
}

/// The most suggestions one answer lists.
const MAX_SUGGESTIONS: usize = 10;

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    pub person: PersonView,
    /// Between the two persons' centres (Euclidean, as `faces.max_distance`): the smaller, the
    /// likelier the same someone.
    pub distance: f32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionList {
    pub suggestions: Vec<SuggestionView>,
}

/// Persons that are probably the same someone as this one, nearest first (at most 10): closer
/// than the tier's `faces.suggest_distance`, never on a photo with it, not hidden, and not
/// dismissed. Merge one with `POST /persons/{id}/merge`; dismiss it with
/// `DELETE /persons/{id}/suggestions/{other_id}`. Empty where the engine keeps faces itself
/// (Rekognition: no descriptors to compare).
#[utoipa::path(get, path = "/persons/{id}/suggestions", tag = "persons", security(("bearer" = [])),
    params(("id" = String, Path, description = "person id")),
    responses((status = 200, body = SuggestionList), (status = 400, description = "invalid id"), (status = 404, description = "no such person")))]
pub async fn suggestions(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<SuggestionList>> {
    let id = PersonId::parse(&id)?;
    let within = state.config.settings.faces.suggest_distance;
    let found = persons::suggestions(user.data.images.as_ref(), user.name(), id, within, MAX_SUGGESTIONS).await?;
    let mut suggestions = Vec::with_capacity(found.len());
    for suggestion in found {
        let person = PersonView::of(user.data.photos.as_ref(), user.name(), suggestion.person).await?;
        suggestions.push(SuggestionView { person, distance: suggestion.distance });
    }
    Ok(Json(SuggestionList { suggestions }))
}

/// "Not the same person": the two are different people. Neither is suggested as the other
/// again, and grouping never puts them together; a merge by the user still can. 204, also when
/// already dismissed.
#[utoipa::path(delete, path = "/persons/{id}/suggestions/{other_id}", tag = "persons", security(("bearer" = [])),
    params(("id" = String, Path, description = "person id"), ("other_id" = String, Path, description = "the person suggested")),
    responses((status = 204, description = "recorded as different people"), (status = 400, description = "invalid ids, or the same person twice"),
        (status = 404, description = "no such person (either)")))]
pub async fn dismiss_suggestion(user: CurrentUser, Path((id, other)): Path<(String, String)>) -> ApiResult<StatusCode> {
    let (id, other) = (PersonId::parse(&id)?, PersonId::parse(&other)?);
    user.data.images.keep_apart(user.name(), id, other).await?;
    Ok(StatusCode::NO_CONTENT)
}
