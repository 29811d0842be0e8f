//! Logging, set up once by every process (the Lambda functions, the local binary).

/// Logs to stderr (CloudWatch in Lambda), at `info` unless `RUST_LOG` says otherwise.
pub fn init() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // memory-serve lists every gallery file it serves at start.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn,memory_serve=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}
