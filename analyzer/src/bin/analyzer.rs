//! The analyzer function's Lambda `bootstrap`: the vision models compiled in.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::lambda::init_logging();
    analyzer::lambda::run_analyzer().await
}
