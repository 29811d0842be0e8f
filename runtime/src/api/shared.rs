//! `/shared/{secret}`: what a link opens, to anyone who has its URL, no account needed
//! ([`domain::links`]). The page is the gallery's (`shared.html`); its photos are JSON. A link
//! with a password asks for it once (`POST /shared/{secret}/sessions`, throttled per link like
//! sign-in) and then takes the short token that answer gives.
//!
//! Every request reads the owner's side again: a deleted link, a deleted collection or a removed
//! (or suspended) owner refuses the next request with 404; an expired link answers 410
//! `link_expired`. A link's requests count against its owner's request allowance, as theirs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::AppState;
use super::collections::{CollectionPhoto, photo_page};
use super::error::{ApiError, ApiResult};
use super::extract::{BearerToken, JsonBody, QueryParams, Source};
use super::paging::ListQuery;
use super::sessions::check_password;
use crate::error::{Error, Result};
use domain::collections::Contents;
use domain::links::{self, Link, LinkSecret};
use domain::sign_ins::{Guessed, SourceAction};
use domain::{AccountStatus, rfc3339};

/// The gallery's page of a link (its script reads the secret off the address).
const PAGE: &str = include_str!("../../gallery/shared.html");

/// A link's collection, open: the link, and the collection as it now is.
struct Opened {
    link: Link,
    contents: Contents,
}

/// What `secret` opens now, or why nothing: 404 (no such link, or its link, collection or owner
/// gone), 410 `link_expired`.
async fn open(state: &AppState, secret: &str) -> Result<Opened> {
    let secret = LinkSecret::parse(secret)?;
    let digest = secret.digest();
    let target = state.users.link_target(&digest).await?.ok_or_else(links::no_link)?;
    let owner = &target.owner;
    let data = state.tenants.data_of(owner).await?;
    let (link, account) = tokio::try_join!(data.images.link(owner, target.collection, target.link), data.account.get(owner))?;
    // The owner's side decides: its link must be the one this secret made.
    let link = link.filter(|link| link.secret_digest == digest).ok_or_else(links::no_link)?;
    if !account.is_some_and(|account| account.status == AccountStatus::Active) {
        return Err(links::no_link());
    }
    let now = OffsetDateTime::now_utc();
    link.check_expiry(now)?;
    if let Some(limits) = &state.config.settings.requests {
        data.account.admit_request(owner, limits, now).await?;
    }
    let contents = match Contents::open(data, owner, target.collection, state.tenants.as_ref()).await {
        Ok(contents) => contents,
        Err(Error::NotFound(_)) => return Err(links::no_link()),
        Err(other) => return Err(other),
    };
    Ok(Opened { link, contents })
}

/// A link with a password admits only the token its sessions give.
fn admit(state: &AppState, link: &Link, token: &BearerToken) -> Result<()> {
    if link.password_hash.is_none() {
        return Ok(());
    }
    let required = || Error::Unauthenticated("this link asks for its password: POST it to the link's sessions".into());
    let token = token.0.as_deref().ok_or_else(required)?;
    state.tokens.verify_link(token, link.id, OffsetDateTime::now_utc())
}

/// The gallery's page of a link: 200 while it opens something, else the same page with the
/// status saying why (404, 410), which the page then explains.
pub async fn page(State(state): State<AppState>, Path(secret): Path<String>) -> Response {
    let status = match open(&state, &secret).await {
        Ok(_) => StatusCode::OK,
        Err(error) => ApiError(error).status(),
    };
    (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}

/// A shared collection as a link shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedCollection {
    pub title: String,
    pub description: Option<String>,
    /// The user who shared it.
    pub owner: String,
    pub photo_count: u64,
    /// Whether its photos show faces, names and text.
    pub show_people: bool,
    /// Whether its photos show where they were taken.
    pub show_places: bool,
    /// Whether its originals may be downloaded (`download_url` on each photo).
    pub allow_download: bool,
    /// RFC 3339; null: until deleted.
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharedPage {
    pub collection: SharedCollection,
    pub items: Vec<CollectionPhoto>,
    pub next_cursor: Option<String>,
}

/// The photos of a link's collection, newest first, paged by cursor like `/images`. A link
/// with a password needs the token of `POST /shared/{secret}/sessions`.
#[utoipa::path(get, path = "/shared/{secret}/photos", tag = "shared",
    params(("secret" = String, Path, description = "the link's secret, as its URL carries it"), ListQuery),
    responses((status = 200, body = SharedPage), (status = 400, description = "invalid limit or cursor"),
        (status = 401, description = "the link asks for its password"),
        (status = 404, description = "no such link (deleted, or its collection)"), (status = 410, description = "link_expired")))]
pub async fn photos(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    token: BearerToken,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Json<SharedPage>> {
    let Opened { link, contents } = open(&state, &secret).await?;
    admit(&state, &link, &token)?;
    let (page, summary) = tokio::try_join!(photo_page(&contents, &query, link.allow_download), contents.summary())?;
    let collection = summary.collection;
    let collection = SharedCollection {
        title: collection.title,
        description: collection.description,
        owner: collection.owner.to_string(),
        photo_count: summary.photo_count,
        show_people: collection.show_people,
        show_places: collection.show_places,
        allow_download: link.allow_download,
        expires_at: link.expires_at.map(rfc3339),
    };
    Ok(Json(SharedPage { collection, items: page.items, next_cursor: page.next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkPassword {
    pub password: String,
}

/// A token for a link's photos, and when it stops working.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkSession {
    pub token: String,
    pub token_type: &'static str,
    /// RFC 3339.
    pub expires_at: String,
}

/// Give a link's password; the answer's token opens its photos (as `Authorization: Bearer`).
/// Wrong passwords are throttled per link like sign-ins (429 `too_many_sign_ins`), and per
/// address (429 `too_many_from_source`).
#[utoipa::path(post, path = "/shared/{secret}/sessions", tag = "shared", request_body = LinkPassword,
    params(("secret" = String, Path, description = "the link's secret, as its URL carries it")),
    responses((status = 201, body = LinkSession), (status = 400, description = "no_password: the link asks for none"),
        (status = 401, description = "wrong password"), (status = 404, description = "no such link"),
        (status = 410, description = "link_expired"), (status = 429, description = "too_many_sign_ins, too_many_from_source")))]
pub async fn start_session(
    State(state): State<AppState>,
    source: Source,
    Path(secret): Path<String>,
    JsonBody(body): JsonBody<LinkPassword>,
) -> ApiResult<(StatusCode, Json<LinkSession>)> {
    source.count(&state, SourceAction::SignIn).await?;
    let Opened { link, .. } = open(&state, &secret).await?;
    let Some(hash) = link.password_hash else {
        return Err(Error::invalid("no_password", "this link asks for no password: open its photos without one").into());
    };
    if !check_password(&state, Guessed::Link(link.id), body.password, Some(hash), &source).await? {
        return Err(Error::Unauthenticated("wrong password".into()).into());
    }
    let (token, expires_at) = state.tokens.issue_link(link.id, OffsetDateTime::now_utc())?;
    Ok((StatusCode::CREATED, Json(LinkSession { token, token_type: "Bearer", expires_at: rfc3339(expires_at) })))
}
