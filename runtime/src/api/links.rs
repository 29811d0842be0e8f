//! `/collections/{id}/links`: a collection shared with anyone who has the URL ([`domain::links`]).
//! The owner makes, lists and deletes them; the secret of a link's URL shows once, in the
//! answer that makes it. What a link opens is `/shared/{secret}` ([`super::shared`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::AppState;
use super::collections::{access, collection_id};
use super::error::ApiResult;
use super::extract::{CurrentUser, JsonBody, PublicBase};
use crate::auth::password;
use crate::error::Error;
use domain::links::{self, Link, LinkSecret};
use domain::{LinkId, rfc3339};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// 1 to 365; left out, the link lasts until deleted.
    pub expires_in_days: Option<u32>,
    /// 8 to 128 characters: whoever opens the link gives it first (throttled like sign-in).
    pub password: Option<String>,
    /// Whether the originals (with their EXIF, GPS included) may be downloaded; false if left
    /// out.
    pub allow_download: Option<bool>,
}

/// A link as its owner lists it (its URL is not kept: it showed once).
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; null: until deleted.
    pub expires_at: Option<String>,
    /// Whether it has expired (it answers 410 `link_expired`).
    pub expired: bool,
    pub has_password: bool,
    pub allow_download: bool,
}

impl LinkView {
    fn of(link: &Link, now: OffsetDateTime) -> Self {
        Self {
            id: link.id.to_string(),
            created_at: rfc3339(link.created_at),
            expires_at: link.expires_at.map(rfc3339),
            expired: link.check_expiry(now).is_err(),
            has_password: link.password_hash.is_some(),
            allow_download: link.allow_download,
        }
    }
}

/// A new link, with the one showing of its URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedLink {
    /// The URL to give: it holds the link's secret, which is kept only hashed and shows only
    /// here.
    pub url: String,
    #[serde(flatten)]
    pub link: LinkView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LinkList {
    pub items: Vec<LinkView>,
}

/// Share the collection with anyone who has the link. Owner only. The answer's `url` is the
/// only time the link's secret is shown.
#[utoipa::path(post, path = "/collections/{id}/links", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")), request_body = NewLink,
    responses((status = 201, body = CreatedLink),
        (status = 400, description = "invalid_expiry (1-365 days), invalid_password (8-128 characters)"),
        (status = 403, description = "not_owner: a member's"), (status = 404, description = "no such collection")))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    base: PublicBase,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewLink>,
) -> ApiResult<(StatusCode, Json<CreatedLink>)> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    access.require_owner()?;
    let now = OffsetDateTime::now_utc();
    let expires_at = links::expiry(now, body.expires_in_days)?;
    let password_hash = match body.password {
        Some(password) => {
            links::check_password(&password)?;
            Some(password::hash(password).await?)
        }
        None => None,
    };
    let secret = LinkSecret::generate()?;
    let link = Link {
        id: LinkId::new(),
        owner: user.name().clone(),
        collection: access.id(),
        secret_digest: secret.digest(),
        created_at: domain::whole_seconds(now),
        expires_at,
        password_hash,
        allow_download: body.allow_download.unwrap_or(false),
    };
    // The owner's side first: a stack-wide item whose link the owner's side lacks opens nothing.
    user.data.images.put_link(&link).await?;
    state.users.put_link_target(&link.secret_digest, &link.target(), link.kept_until()).await?;
    tracing::info!(security = "link_created", user = %user.name(), link = %link.id, collection = %link.collection, "link made");
    let url = format!("{}/shared/{}", base.0, secret.expose());
    Ok((StatusCode::CREATED, Json(CreatedLink { url, link: LinkView::of(&link, now) })))
}

/// The collection's links, oldest first (without their URLs). Owner only.
#[utoipa::path(get, path = "/collections/{id}/links", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id")),
    responses((status = 200, body = LinkList), (status = 403, description = "not_owner: a member's"),
        (status = 404, description = "no such collection")))]
pub async fn list(State(state): State<AppState>, user: CurrentUser, Path(id): Path<String>) -> ApiResult<Json<LinkList>> {
    let access = access(&state, &user, collection_id(&id)?).await?;
    access.require_owner()?;
    let now = OffsetDateTime::now_utc();
    let links = user.data.images.collection_links(user.name(), access.id()).await?;
    Ok(Json(LinkList { items: links.iter().map(|link| LinkView::of(link, now)).collect() }))
}

/// Delete a link: whoever has its URL is refused from the next request on (404). Owner only.
#[utoipa::path(delete, path = "/collections/{id}/links/{link_id}", tag = "collections", security(("bearer" = [])),
    params(("id" = String, Path, description = "collection id"), ("link_id" = String, Path, description = "the link's id")),
    responses((status = 204, description = "deleted"), (status = 403, description = "not_owner: a member's"),
        (status = 404, description = "no such collection or link")))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, link_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (id, link_id) = (collection_id(&id)?, LinkId::parse(&link_id)?);
    let access = access(&state, &user, id).await?;
    access.require_owner()?;
    let link = user.data.images.delete_link(user.name(), id, link_id).await?;
    let link = link.ok_or_else(|| Error::NotFound(format!("no link {link_id} of collection {id}")))?;
    state.users.delete_link_target(&link.secret_digest).await?;
    tracing::info!(security = "link_deleted", user = %user.name(), link = %link.id, collection = %id, "link deleted");
    Ok(StatusCode::NO_CONTENT)
}
