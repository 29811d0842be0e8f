//! The HTTP API: one router, one file per resource.

pub mod health;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The whole API.
pub fn router() -> Router {
    Router::new()
        .merge(health::routes())
        .fallback(not_found)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": {"code": "not_found", "message": "no such endpoint"}})),
    )
        .into_response()
}
