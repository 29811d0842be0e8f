//! The domain's one error type. It says what went wrong in the terms of the product (a rule
//! broken, something missing, a quota reached, an AWS call failed), never how to answer it:
//! the runtime maps it once to HTTP responses (`api/error.rs`) and once to acknowledge / retry
//! (the analyzer's `Disposition`); the deployer prints it.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule (a malformed id, a bad name, a wrong value); `code` names it.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },

    /// No valid credentials.
    #[error("{0}")]
    Unauthenticated(String),

    /// Valid credentials that may not do this; `code` names why.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },

    /// The tier's per-user quota would be exceeded.
    #[error("{0}")]
    QuotaExceeded(String),

    /// The tenant asked more than its tier allows (per second or per day); `code` names which.
    #[error("{message}")]
    Throttled { code: &'static str, message: String, retry_after: std::time::Duration },

    /// No such thing for this user; never says whether it exists for someone else.
    #[error("{0}")]
    NotFound(String),

    /// It existed and is no more (an expired link); `code` names what.
    #[error("{message}")]
    Gone { code: &'static str, message: String },

    /// The request conflicts with the current state; `code` names how.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },

    /// Another of the user's persons has that name: the client can offer to merge them.
    #[error("the name is taken by person {person_id}")]
    NameTaken { person_id: String },

    /// More bytes than allowed.
    #[error("{0}")]
    TooLarge(String),

    /// A photo whose header declares more pixels than the tier accepts (`photos.max_pixels`).
    #[error("{0}")]
    TooManyPixels(String),

    /// Bytes that are not a supported photo.
    #[error("{0}")]
    NotAPhoto(String),

    /// The photo's object is no longer the version that was checked (its ETag differs): put
    /// again through its presigned URL after, or while, it was checked.
    #[error("{0}")]
    PhotoChanged(String),

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
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid { code, message: message.into() }
    }

    /// The user name of a new account belongs to another.
    pub fn user_name_taken(user_name: &impl std::fmt::Display) -> Self {
        Error::Conflict { code: "user_name_taken", message: format!("the user name {user_name} is taken") }
    }

    /// An account changed (or went) between its read and a write conditioned on it.
    pub fn account_changed() -> Self {
        Error::Conflict {
            code: "concurrent_change",
            message: "the account changed meanwhile (or was deleted); sign in again and retry".into(),
        }
    }

    /// A photo recorded with an id already taken.
    pub fn image_exists(id: &impl std::fmt::Display) -> Self {
        Error::Conflict { code: "image_exists", message: format!("image {id} exists already") }
    }

    /// The object at `key` is not the version that was checked.
    pub fn photo_changed(key: &str) -> Self {
        Error::PhotoChanged(format!("the photo {key} was replaced after it was checked"))
    }

    /// A presigned upload completed twice, or after its photo was deleted.
    pub fn upload_not_pending(id: &impl std::fmt::Display) -> Self {
        Error::Conflict {
            code: "upload_not_pending",
            message: format!("image {id} is not waiting for its upload (completed or deleted already)"),
        }
    }

    /// The upload that would pass the tier's per-user quotas.
    pub fn quota_exceeded(quotas: &contract::QuotaSettings) -> Self {
        Error::QuotaExceeded(format!(
            "this upload would pass your quota ({} photos, {} bytes); delete photos to make room",
            quotas.photos_per_user, quotas.bytes_per_user
        ))
    }

    /// Whether the service is at fault (as opposed to the input or the caller).
    pub fn is_service_fault(&self) -> bool {
        matches!(self, Error::Config(_) | Error::Aws { .. } | Error::Internal(_))
    }
}

impl From<contract::ConfigError> for Error {
    fn from(err: contract::ConfigError) -> Self {
        Error::Config(err.0)
    }
}
