//! The deployer's one error type.

use std::path::PathBuf;

use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },

    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },

    #[error("{}:{line}:{column}: {message}", path.display())]
    InvalidTierFile { path: PathBuf, line: usize, column: usize, message: String },

    #[error("no tier {tier}: there is no {tier}.yaml in {}; known tiers: {known}", dir.display())]
    UnknownTier { tier: String, dir: PathBuf, known: String },

    #[error("cannot render the template: {0}")]
    Render(String),

    #[error("{action} failed: {message}")]
    Aws { action: String, message: String },

    #[error("stack {stack} failed ({status}):\n{failures}")]
    StackFailed { stack: String, status: String, failures: String },

    #[error("stack {stack} is still {status} after {seconds} s; see its events in the CloudFormation console")]
    Timeout { stack: String, status: String, seconds: u64 },

    #[error("stack {0} does not exist")]
    NoSuchStack(String),

    #[error("packaging the runtime failed: {0}")]
    Package(String),

    #[error("{0}")]
    NotConfirmed(String),

    /// A tenant command that cannot go on: an unknown user, a user in two stacks, a refused move.
    #[error("{0}")]
    Tenant(String),

    /// A stack's kept data cannot be taken back as it is (part of it gone, two keys).
    #[error("{0}")]
    KeptData(String),

    /// `tenant check` found (or left) drifts: it printed them; the exit status says so.
    #[error("{0}")]
    Drift(String),

    /// From the stores the deployer shares with the runtime (users, the ops credential).
    #[error(transparent)]
    Store(#[from] domain::Error),
}

impl Error {
    /// Wraps an AWS SDK error with what was being done: the service's error code and message
    /// when it sent one, otherwise the SDK's full context (a connection or parsing failure).
    pub fn aws<E>(action: impl Into<String>) -> impl FnOnce(E) -> Error
    where
        E: std::error::Error + ProvideErrorMetadata,
    {
        let action = action.into();
        move |err| {
            let message = match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                _ => DisplayErrorContext(&err).to_string(),
            };
            Error::Aws { action, message }
        }
    }
}
