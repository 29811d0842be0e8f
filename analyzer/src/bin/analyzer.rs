//! The analyzer function's Lambda `bootstrap`: the vision models compiled in.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    aws_adapters::logging::init();
    analyzer::lambda::run_analyzer().await
}
