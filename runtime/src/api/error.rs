//! The one mapping of domain errors to HTTP: `{"error": {"code": "...", "message": "..."}}`
//! with the status that says what kind of failure it is. Service faults are logged here and
//! answered with a generic message, so that no AWS detail reaches a client.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;

/// A domain error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError(pub Error);

pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        ApiError(error)
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Error::Invalid { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden { .. } | Error::QuotaExceeded(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Gone { .. } => StatusCode::GONE,
            Error::Conflict { .. } | Error::NameTaken { .. } | Error::PhotoChanged(_) => StatusCode::CONFLICT,
            Error::TooLarge(_) | Error::TooManyPixels(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::NotAPhoto(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Config(_) | Error::Aws { .. } | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code clients branch on.
    pub fn code(&self) -> &'static str {
        match &self.0 {
            Error::Invalid { code, .. }
            | Error::Conflict { code, .. }
            | Error::Forbidden { code, .. }
            | Error::Throttled { code, .. }
            | Error::Gone { code, .. } => code,
            Error::Unauthenticated(_) => "unauthenticated",
            Error::QuotaExceeded(_) => "quota_exceeded",
            Error::NotFound(_) => "not_found",
            Error::NameTaken { .. } => "name_taken",
            Error::PhotoChanged(_) => "photo_changed",
            Error::TooLarge(_) => "payload_too_large",
            Error::TooManyPixels(_) => "too_many_pixels",
            Error::NotAPhoto(_) => "unsupported_media_type",
            Error::Config(_) | Error::Aws { .. } | Error::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if self.0.is_service_fault() {
            tracing::error!(error = %self.0, "request failed");
            "the service failed to handle this request; it has been logged".to_owned()
        } else {
            self.0.to_string()
        };
        let mut body = json!({"error": {"code": self.code(), "message": message}});
        if let Error::NameTaken { person_id } = &self.0 {
            body["error"]["person_id"] = json!(person_id);
        }
        let mut response = (status, Json(body)).into_response();
        if let Error::Throttled { retry_after, .. } = &self.0 {
            // Whole seconds, rounded up: a client waiting this long is admitted.
            let seconds = retry_after.as_millis().div_ceil(1000).max(1);
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds as u64));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_faults_never_show_their_details() {
        let response = ApiError(Error::Aws { action: "GetItem".into(), message: "secret-table-name".into() }).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let invalid = ApiError(Error::invalid("invalid_limit", "limit must be between 1 and 100"));
        assert_eq!((invalid.status(), invalid.code()), (StatusCode::BAD_REQUEST, "invalid_limit"));
    }
}
