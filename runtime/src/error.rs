//! The runtime's one error type, mapped once to HTTP responses of the form
//! `{"error": {"code": "...", "message": "..."}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed or breaks a rule (400).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },

    /// No valid credentials (401).
    #[error("{0}")]
    Unauthenticated(String),

    /// Valid credentials that may not do this (403).
    #[error("{0}")]
    Forbidden(String),

    /// The tier's per-user quota would be exceeded (403).
    #[error("{0}")]
    QuotaExceeded(String),

    /// No such thing for this user (404); never says whether it exists for someone else.
    #[error("{0}")]
    NotFound(String),

    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },

    /// The body is larger than allowed (413).
    #[error("{0}")]
    PayloadTooLarge(String),

    /// The body is not a supported photo (415).
    #[error("{0}")]
    UnsupportedMediaType(String),

    /// The process is misconfigured (startup only).
    #[error("configuration: {0}")]
    Config(String),

    /// An AWS call failed; details go to the log, not to the client.
    #[error("{action} failed: {message}")]
    Aws { action: String, message: String },

    /// Anything else that is the service's fault.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Error::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// Wraps an AWS SDK error with what was being done.
    pub fn aws<E>(action: impl Into<String>) -> impl FnOnce(E) -> Error
    where
        E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata,
    {
        let action = action.into();
        move |err| {
            let message = match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                _ => aws_sdk_dynamodb::error::DisplayErrorContext(&err).to_string(),
            };
            Error::Aws { action, message }
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) | Error::QuotaExceeded(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Config(_) | Error::Aws { .. } | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::BadRequest { code, .. } | Error::Conflict { code, .. } => code,
            Error::Unauthenticated(_) => "unauthenticated",
            Error::Forbidden(_) => "forbidden",
            Error::QuotaExceeded(_) => "quota_exceeded",
            Error::NotFound(_) => "not_found",
            Error::PayloadTooLarge(_) => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::Config(_) | Error::Aws { .. } | Error::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the service failed to handle this request; it has been logged".to_owned()
        } else {
            self.to_string()
        };
        let body = json!({"error": {"code": self.code(), "message": message}});
        (status, Json(body)).into_response()
    }
}
