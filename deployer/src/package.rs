//! The two functions' artifacts: built with cargo-lambda (the API's `bootstrap` from the
//! `runtime` crate, without the inference engine and the vision models; the analyzer's from the `analyzer`
//! crate), addressed by their content hash, and uploaded once to the account's asset bucket.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use sha2::{Digest, Sha256};

use contract::names::Function;

use crate::aws::Clients;
use crate::config::Architecture;
use crate::error::{Error, Result};

/// A Lambda deployment zip and its SHA-256.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub path: PathBuf,
    pub sha256: String,
}

impl Artifact {
    /// Reads and hashes a zip; refuses files that are not zip archives.
    pub fn from_file(path: &Path) -> Result<Self> {
        let read_error = |source| Error::Read {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read_error)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 16];
        let mut first_bytes = Vec::new();
        loop {
            let n = file.read(&mut buffer).map_err(read_error)?;
            if n == 0 {
                break;
            }
            if first_bytes.len() < 4 {
                first_bytes.extend_from_slice(&buffer[..n.min(4)]);
            }
            hasher.update(&buffer[..n]);
        }
        if !first_bytes.starts_with(b"PK\x03\x04") {
            return Err(Error::Package(format!(
                "{} is not a zip archive (a Lambda artifact is a zip holding `bootstrap`)",
                path.display()
            )));
        }
        let sha256 = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Ok(Self {
            path: path.to_owned(),
            sha256,
        })
    }

    /// Content-addressed, so an unchanged build is neither uploaded nor redeployed.
    pub fn key(&self) -> String {
        format!("runtime/{}.zip", self.sha256)
    }
}

/// The artifact of each function: `<dir>/<binary>/bootstrap.zip`, as cargo-lambda lays them
/// out under `target/lambda`.
#[derive(Debug, Clone)]
pub struct Artifacts {
    pub api: Artifact,
    pub analyzer: Artifact,
}

impl Artifacts {
    pub fn zip_in(dir: &Path, function: Function) -> PathBuf {
        dir.join(function.binary()).join("bootstrap.zip")
    }

    pub fn from_dir(dir: &Path) -> Result<Self> {
        Ok(Self {
            api: Artifact::from_file(&Self::zip_in(dir, Function::Api))?,
            analyzer: Artifact::from_file(&Self::zip_in(dir, Function::Analyzer))?,
        })
    }

    /// One zip for both functions (the placeholder).
    pub fn both(artifact: Artifact) -> Self {
        Self {
            api: artifact.clone(),
            analyzer: artifact,
        }
    }

    pub fn of(&self, function: Function) -> &Artifact {
        match function {
            Function::Api => &self.api,
            Function::Analyzer => &self.analyzer,
        }
    }
}

/// Where cargo puts its output: `CARGO_TARGET_DIR` when set, else `<workspace>/target`.
pub fn target_dir(workspace: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| if dir.is_absolute() { dir } else { workspace.join(dir) })
        .unwrap_or_else(|| workspace.join("target"))
}

/// Builds both functions for `provided.al2023` with cargo-lambda in `workspace` (one build,
/// so their shared crates compile once), returning the folder that holds their zips.
pub fn build(workspace: &Path, architecture: Architecture) -> Result<PathBuf> {
    let mut command = Command::new("cargo");
    command.current_dir(workspace).args(["lambda", "build", "--release", "--locked"]);
    for function in Function::ALL {
        command.args(["--bin", function.binary()]);
    }
    command.args(["--output-format", "zip"]);
    if architecture == Architecture::Arm64 {
        command.arg("--arm64");
    }
    eprintln!(
        "Building the functions with cargo-lambda ({}); a clean release build takes several minutes",
        architecture.as_aws()
    );
    let status = command.status().map_err(|err| Error::Package(format!("cannot run `cargo lambda`: {err}")))?;
    if !status.success() {
        return Err(Error::Package(format!(
            "`cargo lambda build` exited with {status}; is cargo-lambda installed (`make venv`, then \
             use .venv/bin on PATH), and for arm64 the aarch64-unknown-linux-gnu target? \
             Or pass --artifacts with zips built elsewhere (`make package`)"
        )));
    }
    let dir = target_dir(workspace).join("lambda");
    for function in Function::ALL {
        let zip = Artifacts::zip_in(&dir, function);
        if !zip.exists() {
            return Err(Error::Package(format!("cargo-lambda finished but {} is missing", zip.display())));
        }
    }
    Ok(dir)
}

/// What the placeholder's `bootstrap` says if anything ever runs it.
const PLACEHOLDER_BOOTSTRAP: &str = "#!/bin/sh\n\
echo 'This function was deployed with `deployer up --skip-build` for a local emulator, where no \
Lambda code runs. Deploy with `deployer up` (which builds with cargo-lambda) to run it.' >&2\n\
exit 1\n";

/// A tiny stand-in artifact for `deployer up --skip-build`: a local emulator creates the
/// functions but never runs their code, so building the real one (minutes) buys nothing
/// there. The zip's bytes never change, so it is uploaded once and never redeploys anything.
pub fn placeholder(dir: &Path) -> Result<Artifact> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    let path = dir.join("placeholder-bootstrap.zip");
    let write_error = |err: std::io::Error| Error::Write { path: path.clone(), source: err };
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let file = std::fs::File::create(&path).map_err(write_error)?;
    let mut archive = zip::ZipWriter::new(file);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default());
    let zip_error = |err: zip::result::ZipError| Error::Package(format!("writing the placeholder artifact: {err}"));
    archive.start_file("bootstrap", options).map_err(zip_error)?;
    archive.write_all(PLACEHOLDER_BOOTSTRAP.as_bytes()).map_err(write_error)?;
    archive.finish().map_err(zip_error)?;
    Artifact::from_file(&path)
}

/// The account's asset bucket, shared by every tier stack in the region.
pub fn asset_bucket_name(account: &str, region: &str) -> String {
    format!("smart-album-assets-{account}-{region}")
}

/// The account's asset bucket in the clients' region.
pub async fn asset_bucket(clients: &Clients) -> Result<String> {
    Ok(asset_bucket_name(&clients.account_id().await?, &clients.region))
}

/// Creates the asset bucket if needed and uploads each function's artifact unless it is
/// already there (a zip both functions share, such as the placeholder, once); the bucket.
pub async fn upload(clients: &Clients, artifacts: &Artifacts) -> Result<String> {
    let bucket = asset_bucket(clients).await?;
    ensure_asset_bucket(clients, &bucket).await?;
    let mut uploaded = std::collections::BTreeSet::new();
    for function in Function::ALL {
        let artifact = artifacts.of(function);
        if uploaded.insert(artifact.key()) {
            upload_once(clients, &bucket, artifact).await?;
        }
    }
    Ok(bucket)
}

async fn upload_once(clients: &Clients, bucket: &str, artifact: &Artifact) -> Result<()> {
    let key = artifact.key();
    let present = clients.s3.head_object().bucket(bucket).key(&key).send().await.is_ok();
    if present {
        eprintln!("Artifact s3://{bucket}/{key} is already uploaded");
        return Ok(());
    }
    let body = ByteStream::from_path(&artifact.path)
        .await
        .map_err(|err| Error::Package(format!("cannot read {}: {err}", artifact.path.display())))?;
    clients
        .s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(body)
        .send()
        .await
        .map_err(Error::aws(format!("uploading the artifact to s3://{bucket}/{key}")))?;
    eprintln!("Uploaded the artifact to s3://{bucket}/{key}");
    Ok(())
}

async fn ensure_asset_bucket(clients: &Clients, bucket: &str) -> Result<()> {
    if clients.s3.head_bucket().bucket(bucket).send().await.is_ok() {
        return Ok(());
    }
    let mut create = clients.s3.create_bucket().bucket(bucket);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if clients.region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(clients.region.as_str().into())
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => {}
        // Another deployer run created it in the meantime.
        Err(err) if err.code() == Some("BucketAlreadyOwnedByYou") => return Ok(()),
        Err(err) => return Err(Error::aws(format!("creating the asset bucket {bucket}"))(err)),
    }
    clients
        .s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .block_public_policy(true)
                .ignore_public_acls(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(Error::aws(format!("blocking public access to {bucket}")))?;
    eprintln!("Created the asset bucket {bucket}");
    Ok(())
}
