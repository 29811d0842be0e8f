//! A deployed stack's configuration (the contract's [`StackConfig`]), read off its API
//! function: what the local binary and the tests use, where the Lambda functions read their own
//! environment.

use contract::StackConfig;
use contract::names::Function;
use domain::{Error, Result};

/// From the environment of the deployed stack's API function: exactly what Lambda would give.
pub async fn from_deployed(lambda: &aws_sdk_lambda::Client, stack: &str) -> Result<StackConfig> {
    let function = Function::Api.name_in(stack);
    let configuration = lambda.get_function_configuration().function_name(&function).send().await.map_err(|err| {
        Error::Config(format!(
            "cannot read the configuration of {function} (is stack {stack} deployed? \
                 `deployer status` lists the stacks): {}",
            aws_sdk_lambda::error::DisplayErrorContext(&err)
        ))
    })?;
    let variables: std::collections::HashMap<String, String> =
        configuration.environment.and_then(|environment| environment.variables).unwrap_or_default();
    Ok(StackConfig::from_vars(|name| variables.get(name).cloned())?)
}
