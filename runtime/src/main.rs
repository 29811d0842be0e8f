//! `runtime`: in Lambda (as `bootstrap`) it runs the handler named by the function's `Handler`
//! setting; on one machine, `runtime serve` serves the same router over HTTP.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "runtime", version, about = "The Smart Album HTTP API and analyzer")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API on 127.0.0.1.
    Serve {
        #[arg(long, env = "SMART_ALBUM_PORT", default_value_t = 3000)]
        port: u16,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Some(Command::Serve { port }) => serve(port).await,
        // Lambda's provided runtimes start `bootstrap` with no arguments and `_HANDLER` set.
        None => match std::env::var("_HANDLER").as_deref() {
            Ok("api") => lambda_http::run(runtime::api::router())
                .await
                .map_err(|err| anyhow::anyhow!("{err}")),
            Ok(other) => bail!("this build has no Lambda handler {other:?} (known: api)"),
            Err(_) => bail!("not running in Lambda (_HANDLER is unset); use `runtime serve`"),
        },
    }
}

async fn serve(port: u16) -> anyhow::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!("serving the API on http://{address}");
    axum::serve(listener, runtime::api::router())
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await
        .context("serving the API")
}
