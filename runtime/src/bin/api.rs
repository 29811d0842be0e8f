//! The API function's Lambda `bootstrap`: no vision models, no inference engine.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    aws_adapters::logging::init();
    runtime::lambda::run_api().await
}
