//! The Smart Album runtime: one axum router for the whole HTTP API (served by lambda_http
//! behind the REST API proxy in Lambda, or over plain HTTP by `runtime serve`), and, with the
//! `analyzer` feature, the analyzer that labels photos from the analysis queue.
//!
//! Three binaries: `api` and `analyzer` are the two functions' Lambda `bootstrap`s (the API's
//! is built without the `analyzer` feature, so it carries no vision models and no tract);
//! `runtime` serves a deployed stack on one machine (`runtime serve`) and labels local photos
//! (`runtime label`).

#[cfg(feature = "analyzer")]
pub mod analyzer;
pub mod api;
pub mod auth;
pub mod config;
#[cfg(feature = "analyzer")]
pub mod labeler;
pub mod photo;
pub mod lambda;
pub mod services;

/// The domain's types, stores and error, shared with the deployer.
pub use store;
pub use store::error;
pub use store::{Error, Result};
