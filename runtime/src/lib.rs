//! The Smart Album runtime's HTTP API: one axum router for every endpoint, served by lambda_http
//! behind the REST API proxy in Lambda (the `api` binary is that function's `bootstrap`), or
//! over plain HTTP by `smart-album serve` (the `local` crate, which adds the analyzer).
//!
//! Nothing here depends on the inference engine or the vision models: the API function's
//! artifact carries neither, and its cold start does not load them.

pub mod api;
pub mod auth;
pub mod config;
pub mod lambda;
pub mod photo;
pub mod services;

/// The domain's types, stores and error, shared with the deployer.
pub use domain;
pub use domain::error;
pub use domain::{Error, Result};
