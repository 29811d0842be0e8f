//! The Smart Album deployer: renders each tier's CloudFormation template from typed Rust and
//! applies it. The binary (`main.rs`) only parses the command line and builds the AWS clients.

pub mod apply;
pub mod aws;
pub mod cli;
pub mod config;
pub mod data;
pub mod error;
pub mod package;
pub mod template;
pub mod tenants;

pub use error::{Error, Result};
