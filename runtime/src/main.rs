//! `runtime`: in Lambda (as `bootstrap`) it runs the handler named by the function's `Handler`
//! setting; on one machine, `runtime serve` serves the same router over HTTP.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use runtime::config::{API_HANDLER, StackConfig, stack_name_of_tier};
use runtime::{api, services};

#[derive(Debug, Parser)]
#[command(name = "runtime", version, about = "The Smart Album HTTP API and analyzer")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API on 127.0.0.1 for a deployed stack.
    Serve {
        #[command(flatten)]
        stack: StackChoice,
        #[arg(long, env = "SMART_ALBUM_PORT", default_value_t = 3000)]
        port: u16,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct StackChoice {
    /// The tier whose stack to serve, e.g. CORE_USER.
    #[arg(long)]
    tier: Option<String>,
    /// The stack to serve, by name.
    #[arg(long)]
    stack: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_config=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Some(Command::Serve { stack, port }) => {
            let stack = match (stack.stack, stack.tier) {
                (Some(stack), _) => stack,
                (None, Some(tier)) => stack_name_of_tier(&tier),
                (None, None) => bail!("pass --tier or --stack"),
            };
            serve(&stack, port).await
        }
        // Lambda's provided runtimes start `bootstrap` with no arguments and `_HANDLER` set.
        None => match std::env::var("_HANDLER").as_deref() {
            Ok(API_HANDLER) => {
                let aws = services::aws_config().await;
                let config = StackConfig::from_env()?;
                let router = api::router(services::connect(config, &aws).await?);
                lambda_http::run(router).await.map_err(|err| anyhow::anyhow!("{err}"))
            }
            Ok(other) => bail!("this build has no Lambda handler {other:?} (known: {API_HANDLER})"),
            Err(_) => bail!("not running in Lambda (_HANDLER is unset); use `runtime serve --tier TIER`"),
        },
    }
}

async fn serve(stack: &str, port: u16) -> anyhow::Result<()> {
    let aws = services::aws_config().await;
    let config = StackConfig::from_deployed(&aws_sdk_lambda::Client::new(&aws), stack).await?;
    let router = api::router(services::connect(config, &aws).await?);
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!("serving stack {stack} on http://{address}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await
        .context("serving the API")
}
