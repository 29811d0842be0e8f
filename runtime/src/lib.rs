//! The Smart Album runtime: one axum router for the whole HTTP API, served by lambda_http
//! behind the REST API proxy in Lambda, or over plain HTTP by `runtime serve` on one machine.

pub mod analyzer;
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod labeler;
pub mod photo;
pub mod services;
pub mod store;

pub use error::{Error, Result};
