//! The HTTP API: one router for every endpoint, one file per resource. The OpenAPI document
//! is generated from the same handler annotations the router is built from, so the two cannot
//! drift apart.

pub mod albums;
pub mod collections;
pub mod document;
pub mod error;
pub mod extract;
pub mod faces;
pub mod gallery;
pub mod health;
pub mod images;
pub mod links;
pub mod memories;
pub mod paging;
pub mod persons;
pub mod places;
pub mod sessions;
pub mod shared;
pub mod users;

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::error::ApiError;
use crate::auth::token::TokenSigner;
use crate::config::StackConfig;
use crate::error::Error;
use domain::{Events, FaceCollections, Tenancy, UserStore};

/// JSON bodies are small; photo uploads read their body with the tier's `max_photo_bytes`.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// Everything a handler may use, built once per process.
pub struct Services {
    pub config: StackConfig,
    pub users: Arc<dyn UserStore>,
    /// A tenant's images and photos, reached only with that tenant's scoped access: handlers
    /// get them with the signed-in caller ([`extract::CurrentUser`]), never another's.
    pub tenants: Arc<dyn Tenancy>,
    pub events: Arc<dyn Events>,
    /// Where the engine keeps faces (Rekognition), its per-user collections.
    pub collections: Arc<dyn FaceCollections>,
    pub tokens: TokenSigner,
    /// Where presigned photo URLs point (`scheme://host[:port]`): the gallery's policy allows it.
    pub photo_origin: String,
}

pub type AppState = Arc<Services>;

#[derive(OpenApi)]
#[openapi(
    info(title = "Smart Album API", description = "Photos labelled by what is in them, searchable by label."),
    modifiers(&BearerAuth),
    tags(
        (name = "users", description = "Accounts (the original UsersAPI)"),
        (name = "sessions", description = "Signing in"),
        (name = "images", description = "Photos (the original ImagesAPI)"),
        (name = "albums", description = "Photos grouped by label"),
        (name = "places", description = "Where the photos were taken (GeoNames' populated places)"),
        (name = "persons", description = "The people in the photos: faces grouped into persons"),
        (name = "collections", description = "Albums users make, shared with members and by links"),
        (name = "shared", description = "What a link opens, without an account"),
        (name = "health", description = "Liveness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The routes and their OpenAPI description, before state and layers.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(users::sign_up, users::search_users))
        .routes(routes!(users::me, users::update_me, users::delete_me))
        .routes(routes!(sessions::sign_in))
        .routes(routes!(sessions::sign_out))
        .routes(routes!(images::upload_photo, images::list))
        .routes(routes!(images::start_upload))
        .routes(routes!(images::complete_upload))
        .routes(routes!(images::search))
        .routes(routes!(images::get_image, images::delete_image))
        .routes(routes!(images::add_favourite, images::remove_favourite))
        .routes(routes!(albums::albums))
        .routes(routes!(albums::album))
        .routes(routes!(places::places))
        .routes(routes!(memories::memories))
        .routes(routes!(collections::create, collections::list))
        .routes(routes!(collections::get, collections::update, collections::delete))
        .routes(routes!(collections::add_photos, collections::remove_photos, collections::photos))
        .routes(routes!(collections::members))
        .routes(routes!(collections::put_member, collections::remove_member))
        .routes(routes!(links::create, links::list))
        .routes(routes!(links::delete))
        .routes(routes!(shared::photos))
        .routes(routes!(shared::start_session))
        .routes(routes!(persons::persons))
        .routes(routes!(persons::person, persons::update_person))
        .routes(routes!(persons::person_images))
        .routes(routes!(persons::merge_persons))
        .routes(routes!(persons::suggestions))
        .routes(routes!(persons::dismiss_suggestion))
        .routes(routes!(faces::move_face))
}

/// The whole API, ready to serve.
pub fn router(services: Services) -> axum::Router {
    let (router, openapi) = api_routes().split_for_parts();
    let mut openapi = serde_json::to_value(&openapi).unwrap_or_default();
    document::complete(&mut openapi, &services.config.settings);
    let openapi = Arc::new(openapi);
    let policy = HeaderValue::from_str(&gallery::content_security_policy(&services.photo_origin))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    router
        .route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .route("/shared/{secret}", get(shared::page))
        .merge(gallery::routes())
        .fallback(not_found)
        .layer(middleware::map_response(gallery::secure(policy)))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(middleware::from_fn(log_request))
        .with_state(Arc::new(services))
}

async fn not_found(State(_): State<AppState>) -> Response {
    ApiError(Error::NotFound("no such endpoint; see /openapi.json".into())).into_response()
}

/// One log line per request: method, route template, status, time. Never headers, bodies or
/// query strings, so no token or password can reach the log.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "(unmatched)".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
