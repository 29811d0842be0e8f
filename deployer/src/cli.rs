//! The command line: `render`, `diff`, `up`, `down`, `status`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::apply::{self, ParameterValue};
use crate::aws::{Clients, Target};
use crate::config::{Architecture, StackId, StacksDir, Tenancy, TenantName, TierConfig, TierName};
use crate::data;
use crate::error::{Error, Result};
use crate::package::{self, Artifacts};
use crate::template::{self, Template, account, params};
use crate::tenants::{self, TenantCommand};
use aws_adapters::DynamoUsers;
use aws_sdk_cloudformation::types::StackStatus;
use contract::names::Function;
use domain::{UserStore, ops};

#[derive(Debug, Parser)]
#[command(name = "deployer", version, about = "Render and apply the Smart Album tier stacks")]
pub struct Cli {
    /// Folder of the tier files (<TIER>.yaml).
    #[arg(long, global = true, env = "SMART_ALBUM_STACKS_DIR", default_value = "stacks")]
    pub stacks_dir: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print (or write) the CloudFormation template of a tier.
    Render {
        #[command(flatten)]
        tier: TierArg,
        /// Write the template here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show what `up` would change, without changing anything.
    Diff {
        #[command(flatten)]
        tier: TierArg,
        /// Compare with these artifacts too: a folder with api/bootstrap.zip and
        /// analyzer/bootstrap.zip, as `make package` leaves them in target/lambda (otherwise
        /// the deployed ones are assumed).
        #[arg(long)]
        artifacts: Option<PathBuf>,
        /// Compare with this analyzer choice too (otherwise the deployed one is assumed).
        #[arg(long, value_enum)]
        analyzer: Option<AnalyzerChoice>,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Create or update a tier's stack, and print its outputs.
    Up {
        #[command(flatten)]
        tier: TierArg,
        /// A folder with the functions' zips built earlier (api/bootstrap.zip and
        /// analyzer/bootstrap.zip, as `make package` leaves them in target/lambda); without it
        /// both are built with cargo-lambda.
        #[arg(long, conflicts_with = "skip_build")]
        artifacts: Option<PathBuf>,
        /// For a local emulator, where no Lambda code runs: deploy a placeholder artifact
        /// instead of building the runtime with cargo-lambda.
        #[arg(long)]
        skip_build: bool,
        #[command(flatten)]
        onnx_runtime: OnnxRuntimeArg,
        /// Who consumes the analysis queue: the analyzer Lambda function, or a local
        /// `smart-album serve` (the function's queue mapping is then disabled).
        #[arg(long, value_enum, default_value_t = AnalyzerChoice::Lambda)]
        analyzer: AnalyzerChoice,
        /// Give up waiting for the stack after this many seconds.
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Build both functions' zips with cargo-lambda, as `up` deploys them (the analyzer's with
    /// ONNX Runtime's library beside its bootstrap), into <target>/lambda/{api,analyzer}/.
    Package {
        /// Build for arm64 (Graviton) instead of x86_64; needs the aarch64-unknown-linux-gnu
        /// target and an arm64 ONNX Runtime library.
        #[arg(long)]
        arm64: bool,
        /// Instead of building with cargo-lambda, zip the `api` and `analyzer` binaries that
        /// `cargo build` left in this folder (x86_64, this machine's C library): what
        /// `make test` deploys to the emulator, as the binaries it tests.
        #[arg(long, value_name = "DIR", conflicts_with = "arm64")]
        binaries: Option<PathBuf>,
        #[command(flatten)]
        onnx_runtime: OnnxRuntimeArg,
    },
    /// Delete a tier's stack; its bucket, tables and key stay unless --purge is given.
    Down {
        #[command(flatten)]
        tier: TierArg,
        /// Also delete the photos, the tables and the key, for good.
        #[arg(long)]
        purge: bool,
        /// Do not ask for confirmation of --purge.
        #[arg(long, requires = "purge")]
        yes: bool,
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Create (or replace) the stack's ops credential and print it once; the runtime's ops
    /// endpoints (GET /users?prefix=) accept it as `Authorization: Bearer <credential>`.
    OpsCredential {
        #[command(flatten)]
        tier: TierArg,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Ops' commands for tenants (user accounts) of the deployed stacks.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Every tier's stack with its status, last update and outputs.
    Status {
        #[command(flatten)]
        aws: AwsArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AnalyzerChoice {
    /// The stack's analyzer function, through its SQS event-source mapping.
    Lambda,
    /// `smart-album serve` on one machine; the function's mapping is disabled.
    Local,
}

impl AnalyzerChoice {
    fn mapping(self) -> &'static str {
        match self {
            AnalyzerChoice::Lambda => params::MAPPING_ENABLED,
            AnalyzerChoice::Local => params::MAPPING_DISABLED,
        }
    }
}

#[derive(Debug, Args)]
pub struct OnnxRuntimeArg {
    /// ONNX Runtime's shared library for the analyzer's zip (default: the one `make venv`
    /// installs under .venv).
    #[arg(long = "onnx-runtime", env = "ORT_DYLIB_PATH")]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TierArg {
    /// The tier, e.g. CORE_USER (its file is <stacks-dir>/<TIER>.yaml).
    #[arg(long)]
    pub tier: TierName,
    /// A tenant's dedicated (silo) stack of the tier, `<tier stack>-<tenant>`, instead of the
    /// pooled one; the tier file must say `tenancy: silo_allowed`.
    #[arg(long)]
    pub tenant: Option<TenantName>,
}

impl TierArg {
    fn stack(&self) -> StackId {
        StackId { tier: self.tier.clone(), tenant: self.tenant.clone() }
    }
}

#[derive(Debug, Args)]
pub struct AwsArgs {
    /// AWS region (default: from the environment or the profile).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Named profile from the shared AWS config files.
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Endpoint for every AWS service (also read from AWS_ENDPOINT_URL).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
}

impl AwsArgs {
    fn target(&self) -> Target {
        Target { region: self.region.clone(), profile: self.profile.clone(), endpoint_url: self.endpoint_url.clone() }
    }
}

/// A tier's configuration, its rendered template and its stack name.
pub struct Stack {
    id: StackId,
    config: TierConfig,
    template: Template,
    /// The rendered template, as `deployer render` prints it.
    pub body: String,
    name: String,
}

impl Stack {
    /// Reads and validates the tier file and renders its template: all of `deployer render`.
    pub fn load(stacks: &StacksDir, id: &StackId) -> Result<Self> {
        let config = stacks.load(&id.tier)?;
        if id.tenant.is_some() && config.tenancy != Tenancy::SiloAllowed {
            return Err(Error::Tenant(format!(
                "tier {} is pooled: its file does not say `tenancy: silo_allowed`, so it has no dedicated stacks",
                id.tier
            )));
        }
        let template = template::render(&config, id.tenant.as_ref());
        let body = template.to_yaml()?;
        Ok(Self { name: id.stack_name(), id: id.clone(), config, template, body })
    }

    /// The tags of a dedicated stack, which `status` and the tenant commands find it by.
    fn tags(&self) -> Vec<(&'static str, String)> {
        match &self.id.tenant {
            None => Vec::new(),
            Some(tenant) => vec![(apply::TIER_TAG, self.id.tier.to_string()), (apply::TENANT_TAG, tenant.to_string())],
        }
    }

    /// The command-line flags naming this stack.
    fn flags(&self) -> String {
        match &self.id.tenant {
            None => format!("--tier {}", self.id.tier),
            Some(tenant) => format!("--tier {} --tenant {tenant}", self.id.tier),
        }
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    let stacks = StacksDir::new(&cli.stacks_dir);
    match cli.command {
        Command::Render { tier, out } => {
            let stack = Stack::load(&stacks, &tier.stack())?;
            match out {
                Some(path) => std::fs::write(&path, &stack.body).map_err(|source| Error::Write { path, source }),
                None => {
                    print!("{}", stack.body);
                    Ok(())
                }
            }
        }
        Command::Diff { tier, artifacts, analyzer, aws } => {
            // The tier file is checked before anything is asked of AWS.
            let stack = Stack::load(&stacks, &tier.stack())?;
            let artifacts = artifacts.as_deref().map(Artifacts::from_dir).transpose()?;
            let clients = Clients::load(&aws.target()).await?;
            diff(&clients, &stack, artifacts, analyzer).await
        }
        Command::Up { tier, artifacts, skip_build, onnx_runtime, analyzer, timeout, aws } => {
            let stack = Stack::load(&stacks, &tier.stack())?;
            let artifacts = match (artifacts, skip_build) {
                (_, true) => Artifacts::both(package::placeholder(&std::env::temp_dir().join("smart-album"))?),
                (Some(dir), false) => Artifacts::from_dir(&dir)?,
                (None, false) => Artifacts::from_dir(&build(stack.config.lambda.architecture, onnx_runtime)?)?,
            };
            let clients = Clients::load(&aws.target()).await?;
            up(&clients, &stack, &artifacts, analyzer, Duration::from_secs(timeout)).await
        }
        Command::Package { arm64, binaries, onnx_runtime } => {
            let architecture = if arm64 { Architecture::Arm64 } else { Architecture::X86_64 };
            let dir = match binaries {
                Some(binaries) => {
                    let workspace = workspace()?;
                    let library = package::onnx_runtime_library(&workspace, onnx_runtime.path)?;
                    package::from_binaries(&binaries, &package::target_dir(&workspace).join("lambda"), &library)?
                }
                None => build(architecture, onnx_runtime)?,
            };
            let artifacts = Artifacts::from_dir(&dir)?;
            for function in Function::ALL {
                let artifact = artifacts.of(function);
                let size = std::fs::metadata(&artifact.path).map(|m| m.len() / 1024).unwrap_or(0);
                println!("{}: {} ({size} KiB, sha256 {})", function.suffix(), artifact.path.display(), artifact.sha256);
            }
            Ok(())
        }
        Command::Down { tier, purge, yes, timeout, aws } => {
            let stack = Stack::load(&stacks, &tier.stack())?;
            let clients = Clients::load(&aws.target()).await?;
            down(&clients, &stack, purge, yes, Duration::from_secs(timeout)).await
        }
        Command::OpsCredential { tier, aws } => {
            let stack = Stack::load(&stacks, &tier.stack())?;
            let clients = Clients::load(&aws.target()).await?;
            ops_credential(&clients, &stack).await
        }
        Command::Tenant { command, aws } => {
            let clients = Clients::load(&aws.target()).await?;
            tenants::run(&clients, &stacks, command).await
        }
        Command::Status { aws } => {
            let tiers = stacks.tiers()?;
            let clients = Clients::load(&aws.target()).await?;
            status(&clients, &tiers).await
        }
    }
}

async fn diff(clients: &Clients, stack: &Stack, artifacts: Option<Artifacts>, analyzer: Option<AnalyzerChoice>) -> Result<()> {
    let existing = apply::describe(clients, &stack.name).await?;
    let deployed = existing.as_ref().is_some_and(|info| !info.is_review_only());
    let mut parameters = match artifacts {
        Some(artifacts) => {
            // A diff creates nothing: before the first upload, the name's prefix stands for the
            // bucket `up` will create.
            let owner = clients.account_id().await?;
            let bucket = match package::find_asset_bucket(clients, &owner).await? {
                Some(bucket) => bucket.name,
                None => package::asset_bucket_prefix(&owner, &clients.region),
            };
            artifact_parameters(bucket, &artifacts)
        }
        None if deployed => params::ARTIFACTS.iter().map(|name| (name.to_string(), ParameterValue::Previous)).collect(),
        // A change set needs values; these are never deployed.
        None => params::ARTIFACTS.iter().map(|name| (name.to_string(), ParameterValue::Set("(built by up)".into()))).collect(),
    };
    let mapping = match analyzer {
        Some(choice) => ParameterValue::Set(choice.mapping().to_owned()),
        None if deployed => ParameterValue::Previous,
        None => ParameterValue::Set(AnalyzerChoice::Lambda.mapping().to_owned()),
    };
    parameters.insert(params::ANALYZER_QUEUE_MAPPING.to_owned(), mapping);
    let plan = apply::plan(clients, &stack.name, existing.as_ref(), &stack.body, &parameters, &stack.tags()).await?;
    match plan {
        None => println!("{}: no changes", stack.name),
        Some(plan) => {
            println!("{}", plan.describe());
            apply::delete_change_set(clients, &plan.change_set_id).await?;
        }
    }
    // A change set for a new stack leaves an empty stack in REVIEW_IN_PROGRESS behind.
    if let Some(info) = apply::describe(clients, &stack.name).await?
        && info.is_review_only()
    {
        clients.cloudformation.delete_stack().stack_name(&info.id).send().await.map_err(Error::aws("DeleteStack (review-only stack)"))?;
    }
    Ok(())
}

/// The template parameters that say where each function's artifact is in `bucket`.
fn artifact_parameters(bucket: String, artifacts: &Artifacts) -> BTreeMap<String, ParameterValue> {
    let mut parameters = BTreeMap::from([(params::ARTIFACT_BUCKET.to_owned(), ParameterValue::Set(bucket))]);
    for function in Function::ALL {
        parameters.insert(params::artifact_key(function).to_owned(), ParameterValue::Set(artifacts.of(function).key()));
    }
    parameters
}

/// The workspace: the current folder.
fn workspace() -> Result<PathBuf> {
    std::env::current_dir().map_err(|source| Error::Read { path: PathBuf::from("."), source })
}

/// Builds both functions in the current folder (the workspace) for `architecture`.
fn build(architecture: Architecture, onnx_runtime: OnnxRuntimeArg) -> Result<PathBuf> {
    let workspace = workspace()?;
    let library = package::onnx_runtime_library(&workspace, onnx_runtime.path)?;
    package::build(&workspace, architecture, &library)
}

async fn up(clients: &Clients, stack: &Stack, artifacts: &Artifacts, analyzer: AnalyzerChoice, timeout: Duration) -> Result<()> {
    let bucket = package::upload(clients, artifacts).await?;

    let mut existing = apply::describe(clients, &stack.name).await?;
    if let Some(info) = &existing {
        match &info.status {
            StackStatus::RollbackComplete => {
                eprintln!(
                    "Stack {} is in ROLLBACK_COMPLETE (its creation failed and was rolled back), \
                     which CloudFormation cannot update: deleting it and creating it again",
                    stack.name
                );
                apply::delete_stack(clients, info, timeout).await?;
                existing = None;
            }
            status if !apply::is_settled(status) && !info.is_review_only() => {
                return Err(Error::Aws {
                    action: format!("updating {}", stack.name),
                    message: format!("the stack is busy ({status}); run `deployer status` and try again when it settles"),
                });
            }
            _ => {}
        }
    }

    // A stack taken down keeps its data (DeletionPolicy Retain); a new one takes it back
    // before anything else is created, so that the bucket's and tables' names are its own again.
    if existing.as_ref().is_none_or(|info| info.is_review_only()) {
        let kept = data::kept(clients, &stack.template, &stack.name).await?;
        if !kept.is_empty() {
            take_back(clients, stack, &kept, timeout).await?;
            existing = apply::describe(clients, &stack.name).await?;
        }
    }

    ensure_account_stack(clients, timeout).await?;
    let mut parameters = artifact_parameters(bucket.name, artifacts);
    parameters.insert(params::ANALYZER_QUEUE_MAPPING.to_owned(), ParameterValue::Set(analyzer.mapping().to_owned()));
    if !apply::apply(clients, &stack.name, existing.as_ref(), &stack.body, &parameters, &stack.tags(), timeout).await? {
        println!("{}: no changes", stack.name);
    }
    println!("Outputs of {}:", stack.name);
    println!("{}", apply::format_outputs(&apply::outputs(clients, &stack.name).await?));
    Ok(())
}

/// Creates or updates the account stack (`template::account`: the role API Gateway writes
/// access logs with) before a tier stack whose stage logs through it.
///
/// Every tier's `up` does this, several at once included: one that loses a race to create or
/// update it waits for the winner's change to settle and finds nothing left to do.
async fn ensure_account_stack(clients: &Clients, timeout: Duration) -> Result<()> {
    const ATTEMPTS: usize = 5;
    let name = account::ACCOUNT_STACK;
    let body = account::render().to_yaml()?;
    let started = std::time::Instant::now();
    let mut attempts = 0;
    loop {
        let existing = apply::describe(clients, name).await?;
        let changing = existing.as_ref().is_some_and(|info| !apply::is_settled(&info.status) && !info.is_review_only());
        if !changing {
            attempts += 1;
            match apply::apply(clients, name, existing.as_ref(), &body, &BTreeMap::new(), &[], timeout).await {
                Ok(_) => return Ok(()),
                Err(error) if attempts >= ATTEMPTS || started.elapsed() > timeout => return Err(error),
                Err(error) => eprintln!("{name}: {error}; another deployer may be changing it: trying again"),
            }
        } else if started.elapsed() > timeout {
            return Err(Error::Aws { action: format!("updating {name}"), message: "it did not settle in time".into() });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Imports the data a previous stack of this name kept into the new one.
async fn take_back(clients: &Clients, stack: &Stack, kept: &[data::Kept], timeout: Duration) -> Result<()> {
    let retained = stack.template.retained_together_ids();
    let missing: Vec<&str> = retained.iter().copied().filter(|id| !kept.iter().any(|kept| kept.logical_id == *id)).collect();
    if !missing.is_empty() {
        // The kept resources name each other (the tables and bucket are encrypted with the key):
        // a part of them cannot be imported alone.
        return Err(Error::KeptData(format!(
            "{} keeps only part of its data ({} missing): restore it, or `deployer down {} --purge` to start empty",
            stack.name,
            missing.join(", "),
            stack.flags()
        )));
    }
    let keys = kept.iter().filter(|kept| kept.kind == data::KeptKind::Key).count();
    if keys > 1 {
        return Err(Error::KeptData(format!(
            "{keys} enabled keys are described as {}'s: keep one (schedule the others' deletion) and run up again",
            stack.name
        )));
    }
    println!("{} keeps data from before it was taken down; taking it back:", stack.name);
    for kept in kept {
        println!("  < import  {:<32} {} {}", kept.logical_id, kept.kind.resource_type(), kept.physical_id);
    }
    let logical_ids: Vec<&str> = kept.iter().map(|kept| kept.logical_id.as_str()).collect();
    let template = stack.template.for_import(&logical_ids).to_yaml()?;
    let plan = apply::plan_import(clients, &stack.name, &template, kept, &stack.tags()).await?;
    apply::execute(clients, &plan, timeout).await
}

async fn down(clients: &Clients, stack: &Stack, purge: bool, yes: bool, timeout: Duration) -> Result<()> {
    let existing = apply::describe(clients, &stack.name).await?;
    if purge && !yes {
        confirm_purge(&stack.name)?;
    }
    match &existing {
        Some(info) => apply::delete_stack(clients, info, timeout).await?,
        None => eprintln!("Stack {} does not exist", stack.name),
    }
    let retained = data::locate(clients, &stack.template, &stack.name).await?;
    if retained.is_empty() {
        println!("No data of {} is left.", stack.name);
    } else if purge {
        data::purge(clients, &retained).await?;
        println!("Purged the data of {}:\n{retained}", stack.name);
    } else {
        println!(
            "Kept the data of {} (DeletionPolicy Retain):\n{retained}\
             `deployer down {} --purge` deletes it for good.",
            stack.name,
            stack.flags()
        );
    }
    // Faces Rekognition keeps live outside the stack's data, and go with it.
    let settings = stack.config.settings();
    if purge && settings.features.faces && settings.labeler.engine == contract::VisionEngine::Rekognition {
        let collections = aws_adapters::RekognitionCollections::new(clients.rekognition.clone(), &stack.name);
        // The stack's own data is gone by now: a failure here is reported, with what is left and
        // how to remove it, rather than undoing or hiding the rest.
        match collections.delete_all().await {
            Ok(deleted) => println!("Deleted the {deleted} face collection(s) of {} from Rekognition.", stack.name),
            Err(err) => eprintln!(
                "warning: the face collections of {} could not be deleted ({err}); list them with \
                 `aws rekognition list-collections` (names start with {}) and delete each with \
                 `aws rekognition delete-collection --collection-id NAME`",
                stack.name,
                contract::names::faces_collection_prefix(&stack.name)
            ),
        }
    }
    Ok(())
}

fn confirm_purge(stack: &str) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::NotConfirmed(format!(
            "--purge deletes every photo and table of {stack} for good; pass --yes to confirm \
             (standard input is not a terminal, so there is no one to ask)"
        )));
    }
    eprint!("This deletes every photo, table and the key of {stack} for good. Type the stack name to confirm: ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).map_err(|source| Error::Read { path: PathBuf::from("<stdin>"), source })?;
    if answer.trim() == stack { Ok(()) } else { Err(Error::NotConfirmed("not confirmed; nothing was deleted".into())) }
}

async fn ops_credential(clients: &Clients, stack: &Stack) -> Result<()> {
    let ids = apply::physical_ids(clients, &stack.name).await?;
    let table = ids.get(template::ids::USERS_TABLE).ok_or_else(|| Error::NoSuchStack(stack.name.clone()))?;
    let (secret, digest) = ops::new_secret()?;
    DynamoUsers::new(clients.dynamodb.clone(), table).put_system_value(ops::OPS_CREDENTIAL_NAME, &digest).await?;
    eprintln!(
        "The ops credential of {} (shown once; any earlier one no longer works). Send it as
         `Authorization: Bearer <credential>` to GET /users?prefix=...:",
        stack.name
    );
    println!("{secret}");
    Ok(())
}

async fn status(clients: &Clients, tiers: &[TierName]) -> Result<()> {
    let dedicated = apply::dedicated_stacks(clients).await?;
    for tier in tiers {
        let mut stacks = vec![StackId::pooled(tier.clone())];
        stacks.extend(dedicated.iter().filter(|id| id.tier == *tier).cloned());
        for id in stacks {
            let name = id.stack_name();
            let label = match &id.tenant {
                None => tier.to_string(),
                Some(tenant) => format!("  dedicated: {tenant}"),
            };
            match apply::describe(clients, &name).await? {
                None => println!("{label:<20} {name}: not deployed"),
                Some(info) => {
                    println!("{label:<20} {name}: {} (last change {})", info.status, info.last_changed);
                    if !info.is_review_only() {
                        println!("{}", apply::format_outputs(&apply::outputs(clients, &name).await?));
                    }
                }
            }
        }
    }
    Ok(())
}
