//! The API function's Lambda `bootstrap`: no vision models, no inference engine.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::lambda::init_logging();
    runtime::lambda::run_api().await
}
