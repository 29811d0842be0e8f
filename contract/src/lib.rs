//! The contract between the deployer and the runtime: everything one side sets up and the
//! other relies on, written down once.
//!
//! - [`names`]: stack, function, handler, table, index and attribute names;
//! - [`env`]: the environment variables the template gives the functions;
//! - [`tier`]: the tier settings the runtime reads at run time;
//! - [`config`]: [`StackConfig`], the runtime's reading of that environment;
//! - [`events`]: the messages published to the NewUser and NewImage topics.
//!
//! It depends on serde only, so that the deployer builds without the runtime's heavy crates
//! and a change to the runtime never rebuilds the deployer. The deployer's tests render every
//! tier and check the template against these names, so the two sides cannot drift apart.

pub mod checked;
pub mod config;
pub mod env;
pub mod events;
pub mod names;
pub mod tier;

pub use config::{ConfigError, StackConfig};
pub use events::{NewImageEvent, NewUserEvent};
pub use tier::{
    FaceSettings, Features, LabelerSettings, Limit, PhotoSettings, QuotaSettings, RequestLimits, SourceLimits, TextSettings, TierSettings,
    VisionEngine,
};
