//! The runtime's configuration: the contract's [`StackConfig`], read from this process's
//! environment (in Lambda) or from the deployed API function's (for `runtime serve`).

pub use contract::names::{Function, stack_name_of_tier};
pub use contract::{FaceSettings, Features, LabelerEngine, LabelerSettings, Limit, QuotaSettings, RequestLimits, StackConfig, TextSettings, TierSettings, env};

use crate::error::{Error, Result};

/// From the environment of the deployed stack's API function: exactly what Lambda would give.
/// (For `runtime serve`; the Lambda functions read their own environment.)
pub async fn from_deployed(lambda: &aws_sdk_lambda::Client, stack: &str) -> Result<StackConfig> {
    let function = Function::Api.name_in(stack);
    let configuration = lambda
        .get_function_configuration()
        .function_name(&function)
        .send()
        .await
        .map_err(|err| {
            Error::Config(format!(
                "cannot read the configuration of {function} (is stack {stack} deployed? \
                 `deployer status` lists the stacks): {}",
                aws_sdk_lambda::error::DisplayErrorContext(&err)
            ))
        })?;
    let variables: std::collections::HashMap<String, String> = configuration
        .environment
        .and_then(|environment| environment.variables)
        .unwrap_or_default();
    Ok(StackConfig::from_vars(|name| variables.get(name).cloned())?)
}
