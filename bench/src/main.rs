//! `make bench`: measures what users feel against a local emulator (`scripts/with-moto` starts
//! a fresh one) and the release binaries, prints a markdown table and writes the same figures
//! to `<out>/results.json` and `<out>/results.md`. Benchmarks report; they never fail on a
//! number. A section that cannot finish is reported and the others still run.

mod analysis;
mod faces;
mod figures;
mod gallery;
mod http;
mod load;
mod machine;
mod people;
mod pipeline;
mod places;
mod process;
mod reads;
mod render;
mod search;
mod sharing;
mod stats;
mod tenancy;
mod text;
mod uploads;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use analyzer::labeler::builtin::BuiltinLabeler;
use anyhow::{Context, Result, bail};
use aws_adapters::DynamoImages;
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use clap::{Parser, ValueEnum};
use deployer::config::{RequestLimits, SourceLimits, StacksDir};
use domain::{ImageIndex, Search, UserName};
use runtime::api::paging::DEFAULT_PAGE;
use runtime::config::{StackConfig, stack_name_of_tier};

use crate::analysis::Photo;
use crate::figures::Report;
use crate::load::{Endpoint, Wrk};
use crate::process::Served;

/// Photos of the user whose listing and search are loaded (every tenth a cat).
const LOAD_USER_PHOTOS: usize = 200;

#[derive(Parser)]
#[command(name = "bench", about = "Smart Album benchmarks (run by `make bench`)")]
struct Cli {
    /// Where results.json, results.md and the logs go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Where the release `deployer` and `smart-album` binaries are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    #[arg(long, default_value = "stacks")]
    stacks_dir: PathBuf,
    #[arg(long, default_value = "tests/fixtures/photos")]
    photos_dir: PathBuf,
    /// Photos with people: the faces section's portrait and group photo.
    #[arg(long, default_value = "tests/fixtures/people")]
    people_dir: PathBuf,
    /// The tier deployed and served.
    #[arg(long, default_value = "CORE_USER")]
    tier: String,
    /// Sections to run (all by default).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
    /// Connections held open by wrk, one run per level.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4, 16])]
    concurrency: Vec<usize>,
    /// Seconds of load per endpoint and level: long enough for the slowest (uploads at 16
    /// connections take seconds each against the emulator) to complete dozens of requests.
    #[arg(long, default_value_t = 10)]
    load_seconds: u64,
    /// Photos of the searching user at each step (each of its ten neighbours has as many).
    #[arg(long, value_delimiter = ',', default_values_t = [100, 1_000, 10_000])]
    tenant_sizes: Vec<usize>,
    /// Uploads timed from upload to searchable.
    #[arg(long, default_value_t = 100)]
    uploads: usize,
    /// Users uploading at once in the many-tenants section.
    #[arg(long, default_value_t = 50)]
    tenants: usize,
    /// Photos each of them uploads.
    #[arg(long, default_value_t = 20)]
    uploads_per_tenant: usize,
    /// Photos analysed for photos per second.
    #[arg(long, default_value_t = 30)]
    analysed: usize,
    /// The Python of the peers' venv (bench/peer/requirements*.txt); without it the analyzer
    /// and faces sections have no peer figures.
    #[arg(long)]
    peer_python: Option<PathBuf>,
}

/// Every tier, for the figures that differ by tier (what the analyzer loads).
const TIERS: [&str; 3] = ["BASIC_USER", "CORE_USER", "FULL_PLATFORM_USER"];

/// The built-in engines on every tier: the emulator answers Rekognition's face calls with 500,
/// so a Rekognition tier analyses locally as `make up` would run it.
const LOCAL_ENGINES: &[&str] = &["--engine", "builtin"];

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum, Debug)]
enum Section {
    Render,
    Analyzer,
    Faces,
    Text,
    Pipeline,
    Startup,
    Load,
    Search,
    Gallery,
    /// Opening a shared collection of 1,000 photos, through a link and as a member.
    Sharing,
    /// The gazetteer: building it, and the nearest place to a position.
    Places,
    /// Many tenants uploading at once, with the analyzer.
    Tenants,
    /// What tenant-scoped credentials add to a request, and STS calls.
    Tenancy,
}

struct Bench {
    cli: Cli,
    /// The tier files deployed (`bench_stacks`).
    stacks: PathBuf,
    aws: aws_config::SdkConfig,
    config: StackConfig,
    photos: Vec<Photo>,
}

impl Bench {
    fn runs(&self, section: Section) -> bool {
        self.cli.only.is_empty() || self.cli.only.contains(&section)
    }

    fn binary(&self, name: &str) -> PathBuf {
        self.cli.bin_dir.join(name)
    }

    fn photo(&self, name: &str) -> Result<&Photo> {
        self.photos.iter().find(|photo| photo.name == name).with_context(|| format!("no fixture photo {name}"))
    }

    async fn serve(&self, extra: &[&str], log: &str) -> Result<(Served, Duration)> {
        Served::start(&self.binary("smart-album"), &self.cli.tier, extra, &self.cli.out.join(log)).await
    }

    /// Per tier: `smart-album serve` spawned to its first photo analysed, the photo waiting on the
    /// queue (a cold analyzer's first message handled), and spawned to its first /health 200
    /// (the models of the tier's features loaded; built-in engines, see [`LOCAL_ENGINES`]).
    async fn startup(&self, report: &mut Report) -> Result<()> {
        let photo = self.photo("chelsea")?;
        let runtime = self.binary("smart-album");
        for tier in TIERS {
            deploy(&self.cli, &self.stacks, tier, &self.aws).await?;
            // Queued by a server without a poller: a killed poller's long poll goes on
            // receiving in the emulator for up to 20 s, and would hide the message.
            let (served, _) =
                Served::start(&runtime, tier, &["--no-analyzer"], &self.cli.out.join(format!("serve-queue-{tier}.log"))).await?;
            let token = served.http.user_token("bench-start").await?;
            let id = served.http.upload(&token, photo.content_type, photo.bytes.clone()).await?;
            served.stop().await?;
            let log = self.cli.out.join(format!("serve-first-photo-{tier}.log"));
            let started = Instant::now();
            let (served, _) = Served::start(&runtime, tier, LOCAL_ENGINES, &log).await?;
            let status = served.http.wait_analysed(&token, &id, Duration::from_secs(60)).await?;
            let to_photo = stats::ms(started.elapsed());
            served.stop().await?;
            anyhow::ensure!(status == "ready", "{tier}: the first photo ended {status}; see {}", log.display());
            report.add(
                format!("runtime.start_to_first_photo_ms.{tier}"),
                to_photo,
                "ms",
                format!("`smart-album serve --tier {tier} --engine builtin` spawned to the photo ({}) waiting on the queue analysed: a cold analyzer's first message (once)", photo.name),
            );
            let mut to_health = Vec::new();
            for run in 0..5 {
                let log = self.cli.out.join(format!("serve-start-{tier}-{run}.log"));
                let (served, elapsed) = Served::start(&runtime, tier, LOCAL_ENGINES, &log).await?;
                served.stop().await?;
                to_health.push(stats::ms(elapsed));
            }
            report.add(
                format!("runtime.start_to_health_ms.{tier}"),
                stats::median(&to_health),
                "ms",
                format!("`smart-album serve --tier {tier} --engine builtin` spawned to its first /health 200, the models of the tier's features loaded (median of 5)"),
            );
        }
        Ok(())
    }

    /// GET /images, a search and an upload under load, with the analyzer off: on AWS the API
    /// and the analyzer are separate functions, so analysis does not share the API's cores.
    /// `/health` (no AWS call) shows the server's own ceiling, and the store's calls timed
    /// alone show the emulator's share of each request.
    async fn load(&self, report: &mut Report) -> Result<()> {
        let (served, _) = self.serve(&["--no-analyzer"], "serve-load.log").await?;
        let token = served.http.user_token("bench-load").await?;
        let user = UserName::parse("bench-load")?;
        search::seed_user(&self.aws, &self.config.images_table, &user, LOAD_USER_PHOTOS).await?;
        self.store_alone(report, &user).await?;
        let upload = self.photo("sample2")?;
        let body = self.cli.out.join("upload-body.jpg");
        std::fs::write(&body, &upload.bytes)?;
        let endpoints = [
            Endpoint { name: "health", method: "GET", path: "/health".into(), body: None },
            Endpoint { name: "list", method: "GET", path: "/images".into(), body: None },
            Endpoint { name: "search", method: "GET", path: "/images/search?label=cat".into(), body: None },
            Endpoint { name: "upload", method: "POST", path: "/images".into(), body: Some((body, upload.content_type)) },
        ];
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("wrk/report.lua");
        let wrk = Wrk { script: &script, base_url: &served.http.base, token: &token };
        wrk.measure(report, &endpoints, &self.cli.concurrency, Duration::from_secs(self.cli.load_seconds)).await?;
        report.add(
            "runtime.peak_rss_mib.api_load",
            served.peak_rss_mib()?,
            "MiB",
            "peak resident memory of `smart-album serve --no-analyzer` through the API load",
        );
        served.stop().await
    }

    /// The DynamoDB calls behind GET /images and the search, made from this process.
    async fn store_alone(&self, report: &mut Report, user: &UserName) -> Result<()> {
        let images = DynamoImages::new(aws_sdk_dynamodb::Client::new(&self.aws), &self.config.images_table);
        let cat = ["cat".to_owned()];
        let (mut list, mut search) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            let started = Instant::now();
            images.list(user, DEFAULT_PAGE, None).await?;
            list.push(stats::ms(started.elapsed()));
            let started = Instant::now();
            images.search(user, &Search::labels(&cat), DEFAULT_PAGE, None).await?;
            search.push(stats::ms(started.elapsed()));
        }
        let what = format!(
            "median of 20, made from the bench process: the emulator's share of the request ({LOAD_USER_PHOTOS} photos of the user)"
        );
        report.add("api.list.store_only_ms", stats::median(&list), "ms", format!("the Query behind GET /images alone, {what}"));
        report.add("api.search.store_only_ms", stats::median(&search), "ms", format!("the Query behind the search alone, {what}"));
        Ok(())
    }

    async fn analyzer(&self, report: &mut Report) -> Result<()> {
        let labeler = BuiltinLabeler::load()?;
        let synthetic = analysis::synthetic_12mp()?;
        let photos: Vec<&Photo> = self.photos.iter().chain([&synthetic]).collect();
        let settings = self.config.settings.labeler;
        let ours = analysis::per_photo(report, &labeler, &photos, settings.max_labels as usize, settings.min_confidence as f32, 5)?;
        if let Some(python) = &self.cli.peer_python {
            analysis::peer(report, python, &photos, &ours, 5, &self.cli.out)?;
        }

        let (served, _) = self.serve(&["--no-analyzer"], "serve-analyzer.log").await?;
        self.drain_queue().await?;
        let result = analysis::throughput(report, &self.config, &self.aws, labeler, &served.http, &self.photos, self.cli.analysed).await;
        served.stop().await?;
        result
    }

    /// Detection + descriptors per photo, beside the peer, and what grouping one face reads as
    /// a user grows.
    async fn faces(&self, report: &mut Report) -> Result<()> {
        let photos = faces::photos(&self.cli.people_dir)?;
        let ours = faces::per_photo(report, &photos, 5)?;
        if let Some(python) = &self.cli.peer_python {
            faces::peer(report, python, &photos, &ours, 3, &self.cli.out)?;
        }
        people::measure(report, &self.cli.people_dir, self.cli.peer_python.as_deref(), &self.config.settings.faces, &self.cli.out)?;
        faces::grouping_cost(report, &self.aws, &self.config.images_table).await
    }

    /// Detection + recognition per photo, words indexed and accuracy, beside the peer.
    fn text(&self, report: &mut Report) -> Result<()> {
        let photos = text::photos(&self.cli.photos_dir)?;
        let max_words = runtime::config::TextSettings::default().max_words as usize;
        let ours = text::per_photo(report, &photos, max_words, 5)?;
        if let Some(python) = &self.cli.peer_python {
            text::peer(report, python, &photos, &ours, 3, &self.cli.out)?;
        }
        Ok(())
    }

    async fn pipeline(&self, report: &mut Report) -> Result<()> {
        self.drain_queue().await?;
        let (served, _) = self.serve(&[], "serve-pipeline.log").await?;
        let token = served.http.user_token("bench-pipeline").await?;
        pipeline::measure(report, &served.http, &token, self.photo("chelsea")?, "cat", self.cli.uploads).await?;
        report.add(
            "runtime.peak_rss_mib.analysing",
            served.peak_rss_mib()?,
            "MiB",
            "peak resident memory of `smart-album serve` (API and analyzer) through the uploads to searchable",
        );
        served.stop().await
    }

    /// 1,000 uploads from 50 users at once, each analysed; peak memory of the server.
    async fn many_tenants(&self, report: &mut Report) -> Result<()> {
        self.drain_queue().await?;
        let (served, _) = self.serve(&[], "serve-many-tenants.log").await?;
        let result = uploads::measure(report, &served.http, self.photo("chelsea")?, self.cli.tenants, self.cli.uploads_per_tenant).await;
        report.add(
            "runtime.peak_rss_mib.many_tenants",
            served.peak_rss_mib()?,
            "MiB",
            "peak resident memory of `smart-album serve` (API and analyzer) through the many tenants' uploads",
        );
        served.stop().await?;
        result
    }

    /// The gallery's first screen for a user with 1,000 photos.
    async fn gallery(&self, report: &mut Report) -> Result<()> {
        let (served, _) = self.serve(&["--no-analyzer"], "serve-gallery.log").await?;
        let result = gallery::measure(report, &self.aws, &self.config, &served, self.photo("chelsea")?, 1_000, 5).await;
        served.stop().await?;
        result
    }

    /// Opening a shared collection of 1,000 photos.
    async fn sharing(&self, report: &mut Report) -> Result<()> {
        let (served, _) = self.serve(&["--no-analyzer"], "serve-sharing.log").await?;
        let result = sharing::measure(report, &self.aws, &self.config, &served, 1_000).await;
        served.stop().await?;
        result
    }

    /// Drops analysis work left queued by an earlier section, so each section times only its
    /// own. (PurgeQueue would do, but only once a minute.)
    async fn drain_queue(&self) -> Result<()> {
        let sqs = aws_sdk_sqs::Client::new(&self.aws);
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&self.config.analysis_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .context("SQS ReceiveMessage")?;
            let entries: Vec<DeleteMessageBatchRequestEntry> = received
                .messages
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .filter_map(|(index, message)| {
                    let receipt = message.receipt_handle?;
                    DeleteMessageBatchRequestEntry::builder().id(index.to_string()).receipt_handle(receipt).build().ok()
                })
                .collect();
            if entries.is_empty() {
                return Ok(());
            }
            sqs.delete_message_batch()
                .queue_url(&self.config.analysis_queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .context("SQS DeleteMessageBatch")?;
        }
    }
}

/// The tier files as deployed for the bench, in `<out>/stacks`: each tenant's request limits
/// and each source's sign-ins and sign-ups raised out of the way, since wrk loads the API with one user's token (the limits are tested
/// in `make test`). Read and written as the deployer's typed tier files, so they stay valid.
fn bench_stacks(cli: &Cli) -> Result<PathBuf> {
    let unlimited = 1_000_000_000;
    let source = StacksDir::new(&cli.stacks_dir);
    let dir = cli.out.join("stacks");
    std::fs::create_dir_all(&dir)?;
    let raised = StacksDir::new(&dir);
    for tier in source.tiers()? {
        let mut config = source.load(&tier)?;
        config.api = RequestLimits { per_second: unlimited, burst: unlimited, per_day: unlimited };
        // Its users all sign up and sign in from 127.0.0.1.
        config.per_source = SourceLimits { sign_ins_per_hour: unlimited, sign_ups_per_hour: unlimited };
        std::fs::write(raised.path_of(&tier), serde_norway::to_string(&config)?)?;
    }
    Ok(dir)
}

/// Deploys a tier with the release deployer as `make up` does (placeholder artifact, analyzer
/// run locally) from the bench's tier files, then reads the stack's settings back.
async fn deploy(cli: &Cli, stacks: &Path, tier: &str, aws: &aws_config::SdkConfig) -> Result<StackConfig> {
    let log = cli.out.join(format!("deploy-{tier}.log"));
    let output = std::process::Command::new(cli.bin_dir.join("deployer"))
        .arg("--stacks-dir")
        .arg(stacks)
        .args(["up", "--tier", tier, "--skip-build", "--analyzer", "local"])
        .output()
        .context("running the deployer")?;
    std::fs::write(&log, [output.stdout, output.stderr].concat())?;
    if !output.status.success() {
        bail!("deployer up failed; see {}", log.display());
    }
    let lambda = aws_sdk_lambda::Client::new(aws);
    Ok(aws_adapters::stack::from_deployed(&lambda, &stack_name_of_tier(tier)).await?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        bail!("the benchmarks deploy a stack and load it: run them against a local emulator with `make bench`");
    }
    for binary in ["deployer", "smart-album"] {
        let path = cli.bin_dir.join(binary);
        anyhow::ensure!(path.exists(), "{} is missing: `make bench` builds it (cargo build --release)", path.display());
    }
    std::fs::create_dir_all(&cli.out)?;
    let mut report = Report::new(machine::describe());
    report.context.insert("emulator".into(), "moto server on 127.0.0.1 (local AWS)".into());
    report.context.insert("tier".into(), cli.tier.clone());
    report.context.insert(
        "request limits".into(),
        "each tenant's rate, burst and daily quota raised to 10^9: wrk loads the API with one user's token".into(),
    );

    let aws = aws_adapters::sdk::config().await;
    println!("deploying {} to the local emulator", cli.tier);
    let stacks = bench_stacks(&cli)?;
    let config = deploy(&cli, &stacks, &cli.tier, &aws).await?;
    let photos = analysis::fixtures(&cli.photos_dir)?;
    let bench = Bench { cli, stacks, aws, config, photos };

    let sections = [
        (Section::Render, "deployer render"),
        // The analyzer's sections come before the start-up runs: a poller killed in the middle
        // of a long poll still receives for up to 20 s, hiding those messages for the queue's
        // visibility timeout.
        (Section::Analyzer, "analyzer"),
        (Section::Faces, "faces: detection, descriptors, grouping cost"),
        (Section::Text, "text: detection, recognition, accuracy"),
        (Section::Pipeline, "upload to searchable"),
        (Section::Startup, "runtime start"),
        (Section::Load, "API under load (wrk)"),
        (Section::Search, "search cost as a tenant grows"),
        (Section::Gallery, "gallery: the first screen in a browser"),
        (Section::Sharing, "a shared collection of 1,000 photos"),
        (Section::Places, "places: the nearest populated place to a position"),
        (Section::Tenants, "many tenants uploading at once"),
        (Section::Tenancy, "tenant-scoped credentials"),
    ];
    for (section, title) in sections {
        if !bench.runs(section) {
            continue;
        }
        println!("{title}");
        let result = match section {
            Section::Startup => bench.startup(&mut report).await,
            Section::Load => bench.load(&mut report).await,
            Section::Analyzer => bench.analyzer(&mut report).await,
            Section::Faces => bench.faces(&mut report).await,
            Section::Text => bench.text(&mut report),
            Section::Pipeline => bench.pipeline(&mut report).await,
            Section::Search => search::measure(&mut report, &bench.aws, &bench.config.images_table, &bench.cli.tenant_sizes).await,
            Section::Gallery => bench.gallery(&mut report).await,
            Section::Sharing => bench.sharing(&mut report).await,
            Section::Places => places::measure(&mut report),
            Section::Tenants => bench.many_tenants(&mut report).await,
            Section::Tenancy => tenancy::measure(&mut report, &bench.aws, &bench.config).await,
            Section::Render => render::measure(&mut report, &bench.cli.stacks_dir, &bench.binary("deployer"), 200, 20),
        };
        if let Err(error) = result {
            eprintln!("{title}: {error:#}");
            report.failures.push((format!("{section:?}").to_lowercase(), format!("{error:#}")));
        }
    }

    let markdown = report.to_markdown();
    std::fs::write(bench.cli.out.join("results.md"), &markdown)?;
    std::fs::write(bench.cli.out.join("results.json"), serde_json::to_string_pretty(&report.to_json())?)?;
    println!("\n{markdown}\nWritten to {0}/results.json and {0}/results.md", bench.cli.out.display());
    if !report.failures.is_empty() {
        bail!("{} section(s) did not finish", report.failures.len());
    }
    Ok(())
}
