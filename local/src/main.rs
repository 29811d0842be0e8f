//! `smart-album`: on one machine, `smart-album serve` serves a deployed stack's router over HTTP
//! and runs the analyzer on its queue (the same handler code as the two Lambda functions, whose
//! `bootstrap`s are the `api` and `analyzer` binaries); `smart-album label` prints the built-in
//! engine's labels of local photos; `smart-album backfill` gives photos analysed before the
//! gallery or places existed their thumbnails and places.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use analyzer::decode;
use analyzer::labeler::builtin::BuiltinLabeler;
use analyzer::labeler::rank;
use analyzer::poller::Poller;
use anyhow::{Context, bail};
use aws_adapters::sdk;
use aws_adapters::stack::from_deployed;
use aws_adapters::{DynamoImages, DynamoUsers, S3Photos};
use clap::{Args, Parser, Subcommand, ValueEnum};
use contract::VisionEngine;
use contract::names::stack_name_of_tier;
use domain::ImageIndex;
use domain::accounts::users_with_prefix;
use runtime::{api, services};

#[derive(Debug, Parser)]
#[command(name = "smart-album", version, about = "Smart Album on one machine: the HTTP API and the analyzer of a deployed stack")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API on 127.0.0.1 for a deployed stack, with the analyzer polling its queue.
    Serve {
        #[command(flatten)]
        stack: StackChoice,
        #[arg(long, env = "SMART_ALBUM_PORT", default_value_t = 3000)]
        port: u16,
        /// The engine of labels and faces, instead of the tier's (Rekognition needs AWS).
        #[arg(long, value_enum)]
        engine: Option<Engine>,
        /// Photos analysed at once.
        #[arg(long, default_value_t = analyzer::poller::DEFAULT_CONCURRENCY)]
        analysis_concurrency: usize,
        /// Serve the API only.
        #[arg(long)]
        no_analyzer: bool,
    },
    /// Give the photos of a deployed stack analysed before the gallery, places or time search
    /// existed their thumbnail, preview and colour, the place of their EXIF GPS position, and
    /// their entry in the index by time taken (once; photos that have them are skipped).
    Backfill {
        #[command(flatten)]
        stack: StackChoice,
    },
    /// Print the built-in engine's labels of local photos as JSON.
    Label {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, default_value_t = 20)]
        max_labels: usize,
        /// Percent; lower it to see what the models hesitate about.
        #[arg(long, default_value_t = 50.0)]
        min_confidence: f32,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Engine {
    Builtin,
    Rekognition,
}

impl From<Engine> for VisionEngine {
    fn from(engine: Engine) -> Self {
        match engine {
            Engine::Builtin => VisionEngine::Builtin,
            Engine::Rekognition => VisionEngine::Rekognition,
        }
    }
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct StackChoice {
    /// The tier whose stack to use, e.g. CORE_USER.
    #[arg(long)]
    tier: Option<String>,
    /// The stack to use, by name (a dedicated stack, say).
    #[arg(long)]
    stack: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    aws_adapters::logging::init();
    match Cli::parse().command {
        Command::Serve { stack, port, engine, analysis_concurrency, no_analyzer } => {
            let stack = stack.name()?;
            let analysis = (!no_analyzer).then_some((engine.map(Into::into), analysis_concurrency));
            serve(&stack, port, analysis).await
        }
        Command::Backfill { stack } => backfill(&stack.name()?).await,
        Command::Label { files, max_labels, min_confidence } => label(&files, max_labels, min_confidence),
    }
}

impl StackChoice {
    fn name(&self) -> anyhow::Result<String> {
        match (&self.stack, &self.tier) {
            (Some(stack), _) => Ok(stack.clone()),
            (None, Some(tier)) => Ok(stack_name_of_tier(tier)),
            (None, None) => bail!("pass --tier or --stack"),
        }
    }
}

async fn backfill(stack: &str) -> anyhow::Result<()> {
    let aws = sdk::config().await;
    let config = from_deployed(&aws_sdk_lambda::Client::new(&aws), stack).await?;
    let users = DynamoUsers::new(aws_sdk_dynamodb::Client::new(&aws), &config.users_table);
    let images = DynamoImages::new(aws_sdk_dynamodb::Client::new(&aws), &config.images_table);
    let photos = S3Photos::new(sdk::s3_client(&aws), &config.photo_bucket);
    let (mut seen, mut made, mut placed, mut dated) = (0usize, 0usize, 0usize, 0usize);
    for user in users_with_prefix(&users, "").await? {
        let mut after = None;
        loop {
            let listed = images.list(&user.user_name, 100, after).await?;
            for record in &listed.items {
                seen += 1;
                dated += usize::from(images.backfill_taken(record).await?);
                made += usize::from(analyzer::renditions::backfill(&images, &photos, record).await?);
                placed += usize::from(analyzer::places::backfill(&images, &photos, record).await?);
            }
            eprint!("\rphotos looked at: {seen}, thumbnails made: {made}, places found: {placed}, dated: {dated}");
            match listed.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    eprintln!();
    println!("{stack}: {made} photos got a thumbnail and preview, {placed} a place, {dated} a time entry ({seen} looked at).");
    Ok(())
}

async fn serve(stack: &str, port: u16, analysis: Option<(Option<VisionEngine>, usize)>) -> anyhow::Result<()> {
    let aws = sdk::config().await;
    let config = from_deployed(&aws_sdk_lambda::Client::new(&aws), stack).await?;
    let poller = match analysis {
        Some((engine, concurrency)) => {
            let engine = engine.unwrap_or(config.settings.labeler.engine);
            let engines = analyzer::services::engines(&config, engine, &aws)?;
            let analyzer = Arc::new(analyzer::services::analyzer(&config, &aws, engines)?);
            tracing::info!(?engine, concurrency, "analyzing photos from {}", config.analysis_queue_url);
            Some(Poller::new(analyzer, aws_sdk_sqs::Client::new(&aws), &config.analysis_queue_url, concurrency))
        }
        None => None,
    };
    let router = api::router(services::connect(config, &aws).await?);
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!("serving stack {stack} on http://{address}");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let shutdown = move |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        stopped.wait_for(|stop| *stop).await.ok();
    };
    let analyzing = poller.map(|poller| {
        let stopped = stopped.clone();
        tokio::spawn(async move { poller.run(shutdown(stopped)).await })
    });
    tokio::spawn(async move {
        tokio::signal::ctrl_c().await.ok();
        stop.send(true).ok();
    });
    // The peer's address is the request's source (per-source sign-in limits), as API Gateway's
    // sourceIp is in Lambda.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown(stopped)).await.context("serving the API")?;
    if let Some(analyzing) = analyzing {
        analyzing.await.ok();
    }
    Ok(())
}

fn label(files: &[PathBuf], max_labels: usize, min_confidence: f32) -> anyhow::Result<()> {
    let labeler = BuiltinLabeler::load()?;
    let mut results = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let photo = decode::decode(&bytes, decode::LABELS_SIDE)
            .map_err(|decode::Undecodable(reason)| anyhow::anyhow!("{}: {reason}", file.display()))?;
        let labels = rank(labeler.all_labels(&photo)?, max_labels, min_confidence);
        results.push(serde_json::json!({"file": file.display().to_string(), "labels": labels}));
    }
    println!("{}", serde_json::to_string_pretty(&results)?);
    Ok(())
}
