//! `/images`: upload (in the body, or presigned PUT + complete), list, get, search, delete,
//! favourites.

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiResult;
use super::extract::{CurrentUser, JsonBody, QueryParams};
use super::paging::{decode_cursor, decode_search_cursor, encode_cursor, encode_search_cursor, page_limit};
use crate::error::{Error, Result};
use crate::photo;
use contract::names::upload_tagging;
use domain::photos::Library;
use domain::places::Place;
use domain::taken::{self, TakenRange};
use domain::{
    Face, ImageId, ImageRecord, ImageStatus, Label, PhotoRegion, PhotoStore, Search, SearchMatch, TenantData, TextLine, UserName,
    object_key, preview_key, rfc3339, thumbnail_key,
};

/// Presigned URLs are short-lived.
const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);
pub const DOWNLOAD_URL_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Thumbnails and previews: a gallery page stays open a while before its images scroll in. No
/// longer than the tenant's credentials that sign it are kept (`aws_adapters::tenancy`).
const RENDITION_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);
fn image_id(raw: &str) -> Result<ImageId> {
    ImageId::parse(raw)
}

fn not_found(id: ImageId) -> Error {
    Error::NotFound(format!("no image {id}"))
}

/// The OpenAPI schema of [`ImageStatus`]: its values as serde writes them, so the document
/// lists exactly what the API sends.
fn status_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let values = ImageStatus::ALL.iter().filter_map(|status| serde_json::to_value(status).ok());
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some("uploading (presigned upload not completed), pending (waiting for analysis), ready, failed"))
        .build()
}

/// One label of an image, with the engine's confidence in percent.
#[derive(Debug, Serialize, ToSchema)]
pub struct LabelView {
    pub name: String,
    pub confidence: f32,
}

impl From<&Label> for LabelView {
    fn from(label: &Label) -> Self {
        Self { name: label.name.clone(), confidence: label.confidence }
    }
}

/// Where a face is, as fractions of the photo's width and height.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaceBoxView {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

/// One face on a photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaceView {
    /// `<image id>-<n>`, n counting from the most confident face.
    pub id: String,
    #[serde(rename = "box")]
    pub bounds: FaceBoxView,
    /// The person this face is grouped into; null until grouped.
    pub person_id: Option<String>,
    /// The detector's confidence, 0 to 1.
    pub score: f32,
}

impl FaceBoxView {
    pub fn of(region: &PhotoRegion) -> Self {
        let PhotoRegion { left, top, width, height } = *region;
        Self { left, top, width, height }
    }
}

impl FaceView {
    pub fn of(image: ImageId, face: &Face) -> Self {
        Self { id: face.id(image).to_string(), bounds: FaceBoxView::of(&face.bounds), person_id: face.person_id.clone(), score: face.score }
    }
}

/// What a grid needs of a photo: its shape and colour before the thumbnail loads, and the
/// thumbnail (absent until the photo's analysis made it).
#[derive(Debug, Serialize, ToSchema)]
pub struct GridFacts {
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The photo's average colour, `#rrggbb`: the placeholder while the thumbnail loads.
    pub color: Option<String>,
    /// A short-lived URL of a WebP about 250 px on its shorter side.
    pub thumbnail_url: Option<String>,
}

impl GridFacts {
    pub async fn of(
        photos: &dyn PhotoStore,
        user: &UserName,
        id: ImageId,
        width: Option<u32>,
        height: Option<u32>,
        color: Option<String>,
    ) -> Result<Self> {
        let thumbnail_url = rendition_url(photos, &color, &thumbnail_key(user, id)).await?;
        Ok(Self { width, height, color, thumbnail_url })
    }
}

/// A presigned URL of a rendition, where the analysis made them (it set the colour with them).
pub async fn rendition_url(photos: &dyn PhotoStore, color: &Option<String>, key: &str) -> Result<Option<String>> {
    match color {
        Some(_) => Ok(Some(photos.presign_get(key, RENDITION_URL_LIFETIME).await?)),
        None => Ok(None),
    }
}

/// An image in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageSummary {
    pub id: String,
    #[schema(schema_with = status_schema)]
    pub status: ImageStatus,
    pub content_type: String,
    pub size: u64,
    /// RFC 3339.
    pub created_at: String,
    pub labels: Vec<String>,
    /// The user marked it a favourite.
    pub favourite: bool,
    #[serde(flatten)]
    pub grid: GridFacts,
}

impl ImageSummary {
    async fn of(photos: &dyn PhotoStore, record: &ImageRecord) -> Result<Self> {
        Ok(Self {
            id: record.id.to_string(),
            status: record.status,
            content_type: record.content_type.clone(),
            size: record.size,
            created_at: rfc3339(record.created_at),
            labels: record.labels.iter().map(|label| label.name.clone()).collect(),
            favourite: record.favourite,
            grid: GridFacts::of(photos, &record.user_name, record.id, record.width, record.height, record.color.clone()).await?,
        })
    }
}

/// One image in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageView {
    pub id: String,
    #[schema(schema_with = status_schema)]
    pub status: ImageStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub content_type: String,
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// From EXIF DateTimeOriginal when the photo has it (camera's local time).
    pub taken_at: Option<String>,
    pub created_at: String,
    /// The user marked it a favourite (`PUT /images/{id}/favourite`).
    pub favourite: bool,
    /// Where it was taken, from its EXIF GPS (the owner's view: the position as recorded).
    pub place: Option<PlaceView>,
    pub labels: Vec<LabelView>,
    /// Faces found (tiers with `features.faces`), most confident first.
    pub faces: Vec<FaceView>,
    /// Text found (tiers with `features.text`), line by line in reading order.
    pub text: TextView,
    /// A short-lived URL to download the photo (absent while uploading).
    pub download_url: Option<String>,
    pub download_url_expires_at: Option<String>,
    /// The average colour, `#rrggbb` (set by the analysis, with the two URLs below).
    pub color: Option<String>,
    /// A short-lived URL of a WebP thumbnail, about 250 px on its shorter side.
    pub thumbnail_url: Option<String>,
    /// A short-lived URL of a JPEG preview, about 1440 px on its longer side, turned upright.
    pub preview_url: Option<String>,
}

/// Where a photo was taken: the nearest populated place (GeoNames) to its GPS position.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceView {
    pub city: String,
    /// State, province or region; empty where there is none.
    pub region: String,
    pub country: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    /// The photo's position, in degrees (to 3 decimals, about 100 m, in anyone's view but the
    /// owner's).
    pub lat: f64,
    pub lon: f64,
}

impl PlaceView {
    /// The place as its owner sees it (`exact`), or as anyone else does: the position rounded.
    pub fn of(place: &Place, exact: bool) -> Self {
        let position = if exact { place.position } else { place.position.rounded() };
        Self {
            city: place.city.clone(),
            region: place.region.clone(),
            country: place.country.clone(),
            country_code: place.country_code.clone(),
            lat: position.lat,
            lon: position.lon,
        }
    }
}

/// The text of a photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct TextView {
    pub lines: Vec<TextLineView>,
}

/// A line of text: what it says, where (fractions of the photo, like a face's box), and how
/// sure the engine is (0 to 1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TextLineView {
    pub text: String,
    #[serde(rename = "box")]
    pub bounds: FaceBoxView,
    pub confidence: f32,
}

impl TextView {
    fn of(lines: &[TextLine]) -> Self {
        let lines = lines
            .iter()
            .map(|line| TextLineView { text: line.text.clone(), bounds: FaceBoxView::of(&line.bounds), confidence: line.confidence })
            .collect();
        Self { lines }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImagePage {
    pub items: Vec<ImageSummary>,
    pub next_cursor: Option<String>,
}

/// A photo was accepted and waits for analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub id: String,
    #[schema(schema_with = status_schema)]
    pub status: ImageStatus,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartUpload {
    /// image/jpeg, image/png or image/webp.
    pub content_type: String,
    /// The photo's size in bytes. The upload URL is signed for exactly this many: S3 refuses a
    /// PUT of any other length.
    pub size: u64,
}

/// Where to PUT the photo, then call `POST /images/{id}/complete`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadTicket {
    pub id: String,
    pub upload_url: String,
    pub method: &'static str,
    /// Headers the PUT must carry.
    pub headers: std::collections::BTreeMap<&'static str, String>,
    pub expires_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Labels; an image must carry all of them. Case-insensitive.
    #[serde(default)]
    pub label: Vec<String>,
    /// Person ids (`GET /persons`); an image must show all of them, and the labels too.
    #[serde(default)]
    pub person: Vec<String>,
    /// Words of text in the photo (tiers with text); whole words, case and accents ignored,
    /// punctuation dropped (`np.zeros_like` is `npzeroslike`).
    #[serde(default)]
    pub text: Vec<String>,
    /// Places where the photo was taken: a city, region or country name (accents and case
    /// ignored: `lisboa`, `Île-de-France`, `portugal`).
    #[serde(default)]
    pub place: Vec<String>,
    /// Photos taken from then on: a date (`2024-06-01`, from its start), a date and time on the
    /// user's clock (`2024-06-01T18:30:00`) or an instant (`2024-06-01T18:30:00Z`). When a
    /// photo was taken is its EXIF date, else its upload.
    pub taken_from: Option<String>,
    /// Photos taken until then: as `taken_from` (a date to its end), not before it.
    pub taken_to: Option<String>,
    /// The user's time zone (IANA name, `Europe/Lisbon`; default UTC): the clock dates are on.
    pub tz: Option<String>,
    #[serde(default, deserialize_with = "super::extract::limit_value")]
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// What a search asks for, as the client sent it.
#[derive(Debug, Default, Clone, Copy)]
pub struct SearchTerms<'a> {
    pub labels: &'a [String],
    pub persons: &'a [String],
    pub words: &'a [String],
    pub places: &'a [String],
    pub taken_from: Option<&'a str>,
    pub taken_to: Option<&'a str>,
    pub tz: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub id: String,
    pub labels: Vec<String>,
    pub content_type: String,
    pub created_at: String,
    /// EXIF DateTimeOriginal, on the clock where the photo was taken (no zone).
    pub taken_at: Option<String>,
    #[serde(flatten)]
    pub grid: GridFacts,
}

impl SearchHit {
    pub async fn of(user: &CurrentUser, hit: SearchMatch) -> Result<Self> {
        Ok(SearchHit {
            id: hit.id.to_string(),
            grid: GridFacts::of(user.data.photos.as_ref(), user.name(), hit.id, hit.width, hit.height, hit.color).await?,
            labels: hit.labels,
            content_type: hit.content_type,
            created_at: rfc3339(hit.created_at),
            taken_at: hit.taken_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

fn too_large(size: u64, max: u64) -> Error {
    Error::TooLarge(format!("the photo has {size} bytes; this tier accepts at most {max} per photo"))
}

/// The stores a photo's steps touch ([`Library`]).
fn library<'a>(state: &'a AppState, data: &'a TenantData) -> Library<'a> {
    Library {
        images: data.images.as_ref(),
        photos: data.photos.as_ref(),
        events: state.events.as_ref(),
        collections: state.collections.as_ref(),
    }
}

/// Upload a photo in the request body (the original `/images/post`); it is analysed next.
#[utoipa::path(post, path = "/images", tag = "images", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 202, body = Accepted), (status = 400, description = "empty body"),
        (status = 403, description = "over quota"), (status = 413, description = "photo too large"),
        (status = 415, description = "not a JPEG, PNG or WebP photo")))]
pub async fn upload_photo(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let max = state.config.settings.quotas.max_photo_bytes;
    let declared = photo::check_content_type(headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()))?;
    let bytes = axum::body::to_bytes(body, usize::try_from(max).unwrap_or(usize::MAX))
        .await
        .map_err(|_| Error::TooLarge(format!("the body is larger than this tier's limit of {max} bytes per photo")))?;
    if bytes.is_empty() {
        return Err(Error::invalid("empty_body", "the body is empty: send the photo's bytes").into());
    }
    let facts = photo::inspect_within(&bytes, &state.config.settings.photos)?;
    if facts.content_type != declared {
        return Err(Error::NotAPhoto(format!("the body is {} but Content-Type says {declared}", facts.content_type)).into());
    }
    let record = ImageRecord::new(user.name(), ImageStatus::Pending, facts.content_type).with_facts(&facts, bytes.len() as u64);
    library(&state, &user.data).accept(&record, bytes.to_vec(), &state.config.settings.quotas).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { id: record.id.to_string(), status: record.status })))
}

/// Start a large upload: a presigned S3 PUT URL and the image id.
#[utoipa::path(post, path = "/images/uploads", tag = "images", security(("bearer" = [])), request_body = StartUpload,
    responses((status = 201, body = UploadTicket), (status = 413, description = "declared size too large"),
        (status = 415, description = "unsupported content type")))]
pub async fn start_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(body): JsonBody<StartUpload>,
) -> ApiResult<(StatusCode, Json<UploadTicket>)> {
    let content_type = photo::check_content_type(Some(&body.content_type))?;
    let max = state.config.settings.quotas.max_photo_bytes;
    if body.size > max {
        return Err(too_large(body.size, max).into());
    }
    if body.size == 0 {
        return Err(Error::invalid("empty_body", "size is 0: a photo has bytes").into());
    }
    let record = ImageRecord { size: body.size, ..ImageRecord::new(user.name(), ImageStatus::Uploading, content_type) };
    user.data.images.create_upload(&record).await?;
    let upload_url = user.data.photos.presign_put(&record.object_key(), content_type, body.size, UPLOAD_URL_LIFETIME).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadTicket {
            id: record.id.to_string(),
            upload_url,
            method: "PUT",
            headers: [("Content-Type", content_type.to_owned()), ("x-amz-tagging", upload_tagging())].into(),
            expires_at: rfc3339(OffsetDateTime::now_utc() + UPLOAD_URL_LIFETIME),
        }),
    ))
}

/// Confirm a presigned upload: the photo is checked (exists, size, really a photo, quota).
#[utoipa::path(post, path = "/images/{id}/complete", tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "the id from POST /images/uploads")),
    responses((status = 202, body = Accepted), (status = 403, description = "over quota"), (status = 404, description = "no such upload"),
        (status = 409, description = "not uploaded yet, another size than declared, replaced while checked, or already analysed"), (status = 413, description = "too large"),
        (status = 415, description = "not a photo")))]
pub async fn complete_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let id = image_id(&id)?;
    let record = user.data.images.get(user.name(), id).await?.ok_or_else(|| not_found(id))?;
    match record.status {
        ImageStatus::Uploading => {}
        // Completed before, but the answer may not have reached the client, or announcing it
        // failed: the repeat announces it again and answers as the first did.
        ImageStatus::Pending => {
            library(&state, &user.data).announce(&record).await?;
            return Ok((StatusCode::ACCEPTED, Json(Accepted { id: id.to_string(), status: record.status })));
        }
        ImageStatus::Ready | ImageStatus::Failed => return Err(Error::upload_not_pending(&id).into()),
    }
    let key = object_key(user.name(), id);
    let version = user.data.photos.head(&key).await?.ok_or_else(|| Error::Conflict {
        code: "upload_missing",
        message: "nothing was uploaded yet: PUT the photo to upload_url first".into(),
    })?;
    // S3 refuses a PUT of another length than the URL was signed for; a store that does not
    // (an emulator) still gets the declared length checked. The upload stays for a right PUT.
    if version.size != record.size {
        let message = format!("{} bytes were put; the upload was started for {}: PUT exactly those", version.size, record.size);
        return Err(Error::Conflict { code: "upload_size_mismatch", message }.into());
    }
    let library = library(&state, &user.data);
    // Declared within the limit at the ticket; the tier's limit may have been lowered since.
    let max = state.config.settings.quotas.max_photo_bytes;
    if version.size > max {
        return Err(library.undo(&record, too_large(version.size, max)).await.into());
    }
    // The bytes inspected are that version's (a PUT meanwhile is `photo_changed`, and the upload
    // stays for the client's retry), and the analyzer reads no other.
    let start = user.data.photos.read_start(&key, photo::INSPECT_BYTES, &version.etag).await?;
    let facts = match photo::inspect_within(&start, &state.config.settings.photos) {
        Ok(facts) => facts,
        Err(error) => return Err(library.undo(&record, error).await.into()),
    };
    let record = ImageRecord { status: ImageStatus::Pending, object_etag: Some(version.etag), ..record.with_facts(&facts, version.size) };
    library.complete(&record, &state.config.settings.quotas).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { id: id.to_string(), status: record.status })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImageListQuery {
    /// `true`: only the photos marked favourite. (Omit it for every photo.)
    pub favourite: Option<bool>,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "super::extract::limit_value")]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page (of the same listing).
    pub cursor: Option<String>,
}

/// The signed-in user's photos, newest first (the original `/images/list`); with
/// `favourite=true`, their favourites.
#[utoipa::path(get, path = "/images", tag = "images", security(("bearer" = [])), params(ImageListQuery),
    responses((status = 200, body = ImagePage), (status = 400, description = "invalid limit, cursor or favourite")))]
pub async fn list(user: CurrentUser, QueryParams(query): QueryParams<ImageListQuery>) -> ApiResult<Json<ImagePage>> {
    let limit = page_limit(query.limit)?;
    let after = decode_cursor(query.cursor.as_deref())?;
    let page = match query.favourite {
        None => user.data.images.list(user.name(), limit, after).await?,
        Some(true) => user.data.images.favourites(user.name(), limit, after).await?,
        Some(false) => {
            return Err(Error::invalid("invalid_favourite", "favourite=false is no filter: omit it to list every photo").into());
        }
    };
    Ok(Json(ImagePage {
        items: futures::future::try_join_all(page.items.iter().map(|record| ImageSummary::of(user.data.photos.as_ref(), record))).await?,
        next_cursor: page.next.map(encode_cursor),
    }))
}

/// Photos carrying every given label, showing every person, word and place given and taken in
/// the time range given, newest first: by when they were taken when a time range is given and
/// no person, word or place, else by upload (the original `/images/search`).
#[utoipa::path(get, path = "/images/search", tag = "images", security(("bearer" = [])), params(SearchQuery),
    responses((status = 200, body = SearchPage),
        (status = 400, description = "no term, or an invalid one (invalid_place: no name; invalid_taken_from, invalid_taken_to, \
            invalid_taken_range: taken_from after taken_to; invalid_tz)")))]
pub async fn search(user: CurrentUser, QueryParams(query): QueryParams<SearchQuery>) -> ApiResult<Json<SearchPage>> {
    let terms = SearchTerms {
        labels: &query.label,
        persons: &query.person,
        words: &query.text,
        places: &query.place,
        taken_from: query.taken_from.as_deref(),
        taken_to: query.taken_to.as_deref(),
        tz: query.tz.as_deref(),
    };
    Ok(Json(search_page(&user, terms, query.limit, query.cursor.as_deref()).await?))
}

/// A page of the user's images carrying every label, showing every person and every word, at
/// every place and in the time range of `terms`.
pub async fn search_page(user: &CurrentUser, terms: SearchTerms<'_>, limit: Option<usize>, cursor: Option<&str>) -> Result<SearchPage> {
    let tz = taken::time_zone(terms.tz)?;
    let taken = TakenRange::of_query(terms.taken_from, terms.taken_to, &tz)?;
    let search = Search::of_terms(terms.labels, terms.persons, terms.words, terms.places, taken)?;
    let limit = page_limit(limit)?;
    let after = decode_search_cursor(cursor)?;
    let page = user.data.images.search(user.name(), &search, limit, after.as_ref()).await?;
    let items = page.items.into_iter().map(|hit| SearchHit::of(user, hit));
    Ok(SearchPage { items: futures::future::try_join_all(items).await?, next_cursor: page.next.as_ref().map(encode_search_cursor) })
}

/// One photo: status, labels, facts and a short-lived download URL.
#[utoipa::path(get, path = "/images/{id}", tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "image id")),
    responses((status = 200, body = ImageView), (status = 404, description = "no such image")))]
pub async fn get_image(user: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<ImageView>> {
    let id = image_id(&id)?;
    let record = user.data.images.get(user.name(), id).await?.ok_or_else(|| not_found(id))?;
    let (download_url, download_url_expires_at) = if record.status == ImageStatus::Uploading {
        (None, None)
    } else {
        let url = user.data.photos.presign_get(&record.object_key(), DOWNLOAD_URL_LIFETIME).await?;
        (Some(url), Some(rfc3339(OffsetDateTime::now_utc() + DOWNLOAD_URL_LIFETIME)))
    };
    Ok(Json(ImageView {
        id: record.id.to_string(),
        status: record.status,
        failure_reason: record.failure_reason,
        content_type: record.content_type,
        size: record.size,
        width: record.width,
        height: record.height,
        taken_at: record.taken_at,
        created_at: rfc3339(record.created_at),
        favourite: record.favourite,
        place: record.place.as_ref().map(|place| PlaceView::of(place, true)),
        labels: record.labels.iter().map(LabelView::from).collect(),
        faces: record.faces.iter().map(|face| FaceView::of(record.id, face)).collect(),
        text: TextView::of(&record.text),
        download_url,
        download_url_expires_at,
        thumbnail_url: rendition_url(user.data.photos.as_ref(), &record.color, &thumbnail_key(user.name(), record.id)).await?,
        preview_url: rendition_url(user.data.photos.as_ref(), &record.color, &preview_key(user.name(), record.id)).await?,
        color: record.color,
    }))
}

/// Mark a photo a favourite (again: nothing changes).
#[utoipa::path(put, path = "/images/{id}/favourite", tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "image id")),
    responses((status = 204, description = "a favourite"), (status = 404, description = "no such image")))]
pub async fn add_favourite(user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    set_favourite(&user, &id, true).await
}

/// Unmark a favourite (a photo that is none stays so).
#[utoipa::path(delete, path = "/images/{id}/favourite", tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "image id")),
    responses((status = 204, description = "not a favourite"), (status = 404, description = "no such image")))]
pub async fn remove_favourite(user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    set_favourite(&user, &id, false).await
}

async fn set_favourite(user: &CurrentUser, id: &str, favourite: bool) -> ApiResult<StatusCode> {
    let id = image_id(id)?;
    user.data.images.set_favourite(user.name(), id, favourite).await?.ok_or_else(|| not_found(id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a photo: its object, record and index entries (the original `/images/delete`).
#[utoipa::path(delete, path = "/images/{id}", tag = "images", security(("bearer" = [])),
    params(("id" = String, Path, description = "image id")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such image")))]
pub async fn delete_image(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = image_id(&id)?;
    library(&state, &user.data).delete(user.name(), id).await?.ok_or_else(|| not_found(id))?;
    Ok(StatusCode::NO_CONTENT)
}
