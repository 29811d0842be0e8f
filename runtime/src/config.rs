//! The runtime's configuration: the contract's [`StackConfig`], read from this process's
//! environment in Lambda (a deployed stack's, for the local binary:
//! `aws_adapters::stack::from_deployed`).

pub use contract::names::{Function, stack_name_of_tier};
pub use contract::{
    FaceSettings, Features, LabelerSettings, Limit, PhotoSettings, QuotaSettings, RequestLimits, SourceLimits, StackConfig, TextSettings,
    TierSettings, VisionEngine, env,
};
