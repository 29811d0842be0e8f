//! The two functions' artifacts: built with cargo-lambda (the API's `bootstrap` from the
//! `runtime` crate, without the inference engine and the vision models; the analyzer's from the `analyzer`
//! crate), addressed by their content hash, and uploaded once to the account's asset bucket.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use sha2::{Digest, Sha256};

use contract::names::{Function, ONNX_RUNTIME_LIBRARY};

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
        let read_error = |source| Error::Read { path: path.to_owned(), source };
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
        let sha256 = hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
        Ok(Self { path: path.to_owned(), sha256 })
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

    /// The zips built for `dir` (by `deployer package` or an earlier `up`), each checked to
    /// hold what its function needs to start: a zip that would deploy a function unable to
    /// start is refused here, not found later in a dead-letter queue.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let checked = |function| {
            let path = Self::zip_in(dir, function);
            let artifact = Artifact::from_file(&path)?;
            check_contents(&path, function)?;
            Ok::<_, Error>(artifact)
        };
        Ok(Self { api: checked(Function::Api)?, analyzer: checked(Function::Analyzer)? })
    }

    /// One zip for both functions (the placeholder).
    pub fn both(artifact: Artifact) -> Self {
        Self { api: artifact.clone(), analyzer: artifact }
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
/// so their shared crates compile once), puts the libraries each loads at run time beside its
/// `bootstrap` ([`Function::bundled_libraries`]: ONNX Runtime's, from `onnx_runtime`, in the
/// analyzer's), and returns the folder that holds their zips. `deployer package` (and so
/// `make package`) and `deployer up` both build through here, so what is tested is what deploys.
pub fn build(workspace: &Path, architecture: Architecture, onnx_runtime: &Path) -> Result<PathBuf> {
    // Checked before minutes of building: a library of another architecture cannot load.
    check_library_architecture(onnx_runtime, architecture)?;
    let mut command = Command::new("cargo");
    command.current_dir(workspace).args(["lambda", "build", "--release", "--locked"]);
    for function in Function::ALL {
        command.args(["--bin", function.binary()]);
    }
    command.args(["--output-format", "zip"]);
    if architecture == Architecture::Arm64 {
        command.arg("--arm64");
    }
    eprintln!("Building the functions with cargo-lambda ({}); a clean release build takes several minutes", architecture.as_aws());
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
    bundle_libraries(&dir, onnx_runtime)?;
    Ok(dir)
}

/// Zips binaries of this machine built by `cargo build` (`<binaries>/api`, `<binaries>/analyzer`)
/// into `<out>/<binary>/bootstrap.zip` as [`build`] zips cargo-lambda's, the libraries included:
/// `make test` packages the debug binaries it tests this way rather than compile the whole
/// workspace a second time for release (see docs/testing.md).
pub fn from_binaries(binaries: &Path, out: &Path, onnx_runtime: &Path) -> Result<PathBuf> {
    check_library_architecture(onnx_runtime, Architecture::X86_64)?;
    for function in Function::ALL {
        let binary = binaries.join(function.binary());
        if !binary.is_file() {
            return Err(Error::Package(format!("{} is missing: build it first (`cargo build --bins`)", binary.display())));
        }
        let zip = Artifacts::zip_in(out, function);
        let folder = zip.parent().unwrap_or(out);
        std::fs::create_dir_all(folder).map_err(|source| Error::Write { path: folder.to_owned(), source })?;
        let file = std::fs::File::create(&zip).map_err(|source| Error::Write { path: zip.clone(), source })?;
        zip::ZipWriter::new(file).finish().map_err(|err| Error::Package(format!("writing {}: {err}", zip.display())))?;
        add_to_zip(&zip, &binary, "bootstrap")?;
    }
    bundle_libraries(out, onnx_runtime)?;
    Ok(out.to_owned())
}

/// Puts the libraries each function loads at run time beside its `bootstrap`.
fn bundle_libraries(dir: &Path, onnx_runtime: &Path) -> Result<()> {
    for function in Function::ALL {
        for library in function.bundled_libraries() {
            add_to_zip(&Artifacts::zip_in(dir, function), onnx_runtime, library)?;
        }
    }
    Ok(())
}

/// Where ONNX Runtime's shared library is taken from for the analyzer's zip: `explicit`
/// (`--onnx-runtime`, or `ORT_DYLIB_PATH`, the variable the analyzer itself honours), else the
/// library of the `onnxruntime` wheel that `make venv` installs from requirements.txt.
pub fn onnx_runtime_library(workspace: &Path, explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::Package(format!("ONNX Runtime's library {} does not exist", path.display())))
        };
    }
    let site_packages = workspace.join(".venv/lib");
    let found = std::fs::read_dir(&site_packages)
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| python.path().join("site-packages/onnxruntime/capi"))
        .filter_map(|capi| std::fs::read_dir(capi).ok())
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with(&format!("{ONNX_RUNTIME_LIBRARY}.")))
        })
        .max();
    found.ok_or_else(|| {
        Error::Package(format!(
            "the analyzer's zip needs ONNX Runtime's library ({ONNX_RUNTIME_LIBRARY}) and none was found \
             under {}: run `make venv` (it installs the pinned onnxruntime wheel), or pass \
             --onnx-runtime (or set ORT_DYLIB_PATH) with the library's path",
            site_packages.display()
        ))
    })
}

/// The names of a zip's entries.
fn entry_names(zip: &Path) -> Result<Vec<String>> {
    let file = std::fs::File::open(zip).map_err(|source| Error::Read { path: zip.to_owned(), source })?;
    let archive = zip::ZipArchive::new(file).map_err(|err| Error::Package(format!("{} is not a readable zip: {err}", zip.display())))?;
    let names: std::result::Result<Vec<String>, _> = archive.file_names().map(|name| name.map(|name| name.into_owned())).collect();
    names.map_err(|err| Error::Package(format!("{} has an unreadable entry name: {err}", zip.display())))
}

/// Refuses a function's zip that lacks its `bootstrap` or a library it loads at start.
fn check_contents(zip: &Path, function: Function) -> Result<()> {
    let names = entry_names(zip)?;
    let required = std::iter::once(&"bootstrap").chain(function.bundled_libraries());
    let missing: Vec<&str> = required.filter(|name| !names.iter().any(|entry| entry == *name)).copied().collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::Package(format!(
        "{} lacks {}: the {} function could not start. Build the artifacts with `deployer package` \
         (or `make package`), which puts them in",
        zip.display(),
        missing.join(", "),
        function.suffix()
    )))
}

/// The machine an ELF shared library is built for (its `e_machine`), as Lambda names it.
fn library_architecture(library: &Path) -> Result<Option<Architecture>> {
    let mut header = [0u8; 20];
    let mut file = std::fs::File::open(library).map_err(|source| Error::Read { path: library.to_owned(), source })?;
    file.read_exact(&mut header).map_err(|source| Error::Read { path: library.to_owned(), source })?;
    if &header[..4] != b"\x7fELF" {
        return Err(Error::Package(format!("{} is not an ELF shared library", library.display())));
    }
    // e_machine, little-endian on both architectures Lambda runs.
    Ok(match u16::from_le_bytes([header[18], header[19]]) {
        0x3e => Some(Architecture::X86_64),
        0xb7 => Some(Architecture::Arm64),
        _ => None,
    })
}

fn check_library_architecture(library: &Path, architecture: Architecture) -> Result<()> {
    match library_architecture(library)? {
        Some(found) if found == architecture => Ok(()),
        found => Err(Error::Package(format!(
            "{} is built for {}, but the functions are built for {}: pass the library of an \
             onnxruntime wheel for {} with --onnx-runtime",
            library.display(),
            found.map_or("another machine", Architecture::as_aws),
            architecture.as_aws(),
            architecture.as_aws()
        ))),
    }
}

/// Puts `file` into the zip at `zip` as `name` (deflated, executable like the bootstrap, with a
/// fixed time so that the same inputs give the same bytes and the same content address),
/// replacing an entry of that name and copying the others as they are.
pub fn add_to_zip(zip: &Path, file: &Path, name: &str) -> Result<()> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    let zip_error = |err: zip::result::ZipError| Error::Package(format!("adding {name} to {}: {err}", zip.display()));
    let rewritten = zip.with_extension("zip.partial");
    let write_error = |source| Error::Write { path: rewritten.clone(), source };
    let source = std::fs::File::open(zip).map_err(|source| Error::Read { path: zip.to_owned(), source })?;
    let mut source = zip::ZipArchive::new(source).map_err(zip_error)?;
    let mut target = zip::ZipWriter::new(std::fs::File::create(&rewritten).map_err(write_error)?);
    for index in 0..source.len() {
        let entry = source.by_index_raw(index).map_err(zip_error)?;
        if entry.name().map_err(zip_error)? != name {
            target.raw_copy_file(entry).map_err(zip_error)?;
        }
    }
    let bytes = std::fs::read(file).map_err(|source| Error::Read { path: file.to_owned(), source })?;
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::default())
        .large_file(bytes.len() >= u32::MAX as usize);
    target.start_file(name, options).map_err(zip_error)?;
    target.write_all(&bytes).map_err(write_error)?;
    target.finish().map_err(zip_error)?;
    std::fs::rename(&rewritten, zip).map_err(|source| Error::Write { path: zip.to_owned(), source })
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

/// The account's asset bucket in a region, shared by every tier stack there: its name and the
/// account that must own it, passed as `ExpectedBucketOwner` on every call to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetBucket {
    pub name: String,
    pub owner: String,
}

/// What every asset bucket's name of `account` in `region` starts with. A new bucket's name
/// goes on with a random suffix, so nobody can create it first and receive the Lambda zips
/// (bucket names are global); an older bucket of exactly this name is still used while the
/// account owns it.
pub fn asset_bucket_prefix(account: &str, region: &str) -> String {
    format!("smart-album-assets-{account}-{region}")
}

/// A new asset bucket's name: the prefix and 48 random bits (12 hex digits; at most 63
/// characters in all for a 12-digit account and the longest region names).
fn new_asset_bucket_name(account: &str, region: &str) -> Result<String> {
    let suffix: String =
        domain::random_bytes::<6>().map_err(|err| Error::Package(err.to_string()))?.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{}-{suffix}", asset_bucket_prefix(account, region)))
}

/// Whether `name` is one of the account's asset bucket names in the region.
fn is_asset_bucket(name: &str, prefix: &str) -> bool {
    let random = |suffix: &str| suffix.len() == 12 && suffix.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'));
    name.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.strip_prefix('-').is_some_and(random))
}

/// The asset bucket of `owner` (the clients' account) in the clients' region, if there is one.
/// Found by ListBuckets, which lists only buckets the caller's account owns: a bucket of the
/// same name created by someone else is never chosen.
pub async fn find_asset_bucket(clients: &Clients, owner: &str) -> Result<Option<AssetBucket>> {
    let prefix = asset_bucket_prefix(owner, &clients.region);
    let mut names = Vec::new();
    let mut pages = clients.s3.list_buckets().prefix(&prefix).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(Error::aws("listing the account's buckets"))?;
        names.extend(
            page.buckets().iter().filter_map(|bucket| bucket.name()).filter(|name| is_asset_bucket(name, &prefix)).map(str::to_owned),
        );
    }
    // Should there be more than one (two first uploads at once), always the same one.
    names.sort();
    Ok(names.into_iter().next().map(|name| AssetBucket { name, owner: owner.to_owned() }))
}

/// The account's asset bucket in the clients' region, created if there is none.
pub async fn asset_bucket(clients: &Clients) -> Result<AssetBucket> {
    let owner = clients.account_id().await?;
    if let Some(bucket) = find_asset_bucket(clients, &owner).await? {
        return Ok(bucket);
    }
    let bucket = AssetBucket { name: new_asset_bucket_name(&owner, &clients.region)?, owner };
    create_asset_bucket(clients, &bucket).await?;
    Ok(bucket)
}

/// Uploads each function's artifact to the asset bucket (created if needed) unless it is
/// already there (a zip both functions share, such as the placeholder, once); the bucket.
pub async fn upload(clients: &Clients, artifacts: &Artifacts) -> Result<AssetBucket> {
    let bucket = asset_bucket(clients).await?;
    let mut uploaded = std::collections::BTreeSet::new();
    for function in Function::ALL {
        let artifact = artifacts.of(function);
        if uploaded.insert(artifact.key()) {
            upload_once(clients, &bucket, artifact).await?;
        }
    }
    Ok(bucket)
}

async fn upload_once(clients: &Clients, bucket: &AssetBucket, artifact: &Artifact) -> Result<()> {
    let (name, key) = (&bucket.name, artifact.key());
    let present = clients.s3.head_object().bucket(name).key(&key).expected_bucket_owner(&bucket.owner).send().await.is_ok();
    if present {
        eprintln!("Artifact s3://{name}/{key} is already uploaded");
        return Ok(());
    }
    let body = ByteStream::from_path(&artifact.path)
        .await
        .map_err(|err| Error::Package(format!("cannot read {}: {err}", artifact.path.display())))?;
    clients
        .s3
        .put_object()
        .bucket(name)
        .key(&key)
        .expected_bucket_owner(&bucket.owner)
        .body(body)
        .send()
        .await
        .map_err(Error::aws(format!("uploading the artifact to s3://{name}/{key}")))?;
    eprintln!("Uploaded the artifact to s3://{name}/{key}");
    Ok(())
}

async fn create_asset_bucket(clients: &Clients, bucket: &AssetBucket) -> Result<()> {
    let name = &bucket.name;
    let mut create = clients.s3.create_bucket().bucket(name);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if clients.region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder().location_constraint(clients.region.as_str().into()).build(),
        );
    }
    // A random name taken already is ours (BucketAlreadyOwnedByYou) or a one-in-2^48 draw:
    // either way an error rather than a bucket someone else could own.
    create.send().await.map_err(Error::aws(format!("creating the asset bucket {name}")))?;
    clients
        .s3
        .put_public_access_block()
        .bucket(name)
        .expected_bucket_owner(&bucket.owner)
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
        .map_err(Error::aws(format!("blocking public access to {name}")))?;
    eprintln!("Created the asset bucket {name}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_asset_bucket_name_is_the_accounts_prefix_and_48_random_bits_within_63_characters() {
        // The longest region names and a 12-digit account still fit S3's 63 characters.
        let first = new_asset_bucket_name("123456789012", "ap-southeast-2").unwrap();
        let second = new_asset_bucket_name("123456789012", "ap-southeast-2").unwrap();
        assert!(first.len() <= 63, "{first}");
        assert_ne!(first, second, "two draws gave the same name");
        let prefix = asset_bucket_prefix("123456789012", "ap-southeast-2");
        assert!(is_asset_bucket(&first, &prefix), "{first}");
        assert!(first[prefix.len() + 1..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{first}");
        // The older predictable name is still the account's while it owns it; names of other
        // regions, accounts or tools are not.
        assert!(is_asset_bucket(&prefix, &prefix));
        for other in [
            "smart-album-assets-123456789012-ap-southeast-2x",
            "smart-album-assets-123456789012-ap-southeast-2-notes",
            "smart-album-assets-123456789012-ap-southeast-1-0123456789ab",
            "smart-album-assets-210987654321-ap-southeast-2-0123456789ab",
        ] {
            assert!(!is_asset_bucket(other, &prefix), "{other}");
        }
    }

    /// A zip holding `bootstrap` (and `extra` entries) as cargo-lambda leaves one.
    fn zip_with(dir: &Path, entries: &[(&str, &[u8])]) -> PathBuf {
        use std::io::Write;
        let path = dir.join("bootstrap.zip");
        let mut archive = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (name, bytes) in entries {
            archive.start_file(*name, zip::write::SimpleFileOptions::default().unix_permissions(0o755)).unwrap();
            archive.write_all(bytes).unwrap();
        }
        archive.finish().unwrap();
        path
    }

    fn read_entry(zip: &Path, name: &str) -> (Vec<u8>, Option<u32>) {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
        let mut entry = archive.by_name(name).unwrap();
        let mode = entry.unix_mode();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        (bytes, mode)
    }

    #[test]
    fn the_library_goes_beside_the_bootstrap_replacing_an_older_one_and_the_same_inputs_give_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let zip = zip_with(dir.path(), &[("bootstrap", b"\x7fELF binary"), ("libonnxruntime.so", b"old")]);
        let library = dir.path().join("libonnxruntime.so.1.22.0");
        std::fs::write(&library, b"\x7fELF the library").unwrap();

        add_to_zip(&zip, &library, ONNX_RUNTIME_LIBRARY).unwrap();
        assert_eq!(entry_names(&zip).unwrap(), ["bootstrap", ONNX_RUNTIME_LIBRARY]);
        assert_eq!(read_entry(&zip, "bootstrap").0, b"\x7fELF binary");
        let (bytes, mode) = read_entry(&zip, ONNX_RUNTIME_LIBRARY);
        assert_eq!(bytes, b"\x7fELF the library");
        assert_eq!(mode.map(|mode| mode & 0o777), Some(0o755));
        check_contents(&zip, Function::Analyzer).unwrap();

        let first = Artifact::from_file(&zip).unwrap().sha256;
        add_to_zip(&zip, &library, ONNX_RUNTIME_LIBRARY).unwrap();
        assert_eq!(Artifact::from_file(&zip).unwrap().sha256, first, "the content address must not change");
    }

    #[test]
    fn an_analyzer_zip_without_onnx_runtime_is_refused_and_the_api_needs_only_its_bootstrap() {
        let dir = tempfile::tempdir().unwrap();
        let zip = zip_with(dir.path(), &[("bootstrap", b"\x7fELF binary")]);
        check_contents(&zip, Function::Api).unwrap();
        let refused = check_contents(&zip, Function::Analyzer).unwrap_err().to_string();
        assert!(refused.contains("lacks libonnxruntime.so") && refused.contains("deployer package"), "{refused}");
        let empty = zip_with(dir.path(), &[("README", b"no bootstrap")]);
        assert!(check_contents(&empty, Function::Api).unwrap_err().to_string().contains("lacks bootstrap"));
    }

    #[test]
    fn binaries_built_by_cargo_are_zipped_as_bootstraps_with_the_analyzers_library() {
        let dir = tempfile::tempdir().unwrap();
        let (binaries, out) = (dir.path().join("debug"), dir.path().join("lambda"));
        std::fs::create_dir_all(&binaries).unwrap();
        let library = dir.path().join("libonnxruntime.so.1.22.0");
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0".to_vec();
        elf.extend_from_slice(&0x3e_u16.to_le_bytes());
        std::fs::write(&library, &elf).unwrap();
        std::fs::write(binaries.join("api"), b"\x7fELF api").unwrap();
        let missing = from_binaries(&binaries, &out, &library).unwrap_err().to_string();
        assert!(missing.contains("analyzer is missing"), "{missing}");

        std::fs::write(binaries.join("analyzer"), b"\x7fELF analyzer").unwrap();
        let artifacts = Artifacts::from_dir(&from_binaries(&binaries, &out, &library).unwrap()).unwrap();
        for function in Function::ALL {
            let zip = &artifacts.of(function).path;
            check_contents(zip, function).unwrap();
            let (bytes, mode) = read_entry(zip, "bootstrap");
            assert_eq!(bytes, format!("\x7fELF {}", function.binary()).as_bytes());
            assert_eq!(mode.map(|mode| mode & 0o777), Some(0o755), "Lambda runs bootstrap only if it is executable");
        }
        assert_eq!(entry_names(&artifacts.of(Function::Api).path).unwrap(), ["bootstrap"]);
    }

    #[test]
    fn a_library_of_another_architecture_is_refused_before_building() {
        let dir = tempfile::tempdir().unwrap();
        let elf = |machine: u16| {
            let mut header = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0".to_vec();
            header.extend_from_slice(&machine.to_le_bytes());
            header
        };
        let x86 = dir.path().join("x86.so");
        std::fs::write(&x86, elf(0x3e)).unwrap();
        check_library_architecture(&x86, Architecture::X86_64).unwrap();
        let refused = check_library_architecture(&x86, Architecture::Arm64).unwrap_err().to_string();
        assert!(refused.contains("built for x86_64") && refused.contains("built for arm64"), "{refused}");
        let text = dir.path().join("text.so");
        std::fs::write(&text, b"not a library at all").unwrap();
        assert!(check_library_architecture(&text, Architecture::X86_64).is_err());
    }

    #[test]
    fn onnx_runtime_is_found_in_the_venv_or_where_it_is_named() {
        let workspace = tempfile::tempdir().unwrap();
        let missing = onnx_runtime_library(workspace.path(), None).unwrap_err().to_string();
        assert!(missing.contains("make venv"), "{missing}");
        let capi = workspace.path().join(".venv/lib/python3.13/site-packages/onnxruntime/capi");
        std::fs::create_dir_all(&capi).unwrap();
        std::fs::write(capi.join("libonnxruntime.so.1.22.0"), b"lib").unwrap();
        std::fs::write(capi.join("onnxruntime_pybind11_state.so"), b"other").unwrap();
        assert_eq!(onnx_runtime_library(workspace.path(), None).unwrap(), capi.join("libonnxruntime.so.1.22.0"));
        let named = workspace.path().join("elsewhere.so");
        assert!(onnx_runtime_library(workspace.path(), Some(named.clone())).is_err());
        std::fs::write(&named, b"lib").unwrap();
        assert_eq!(onnx_runtime_library(workspace.path(), Some(named.clone())).unwrap(), named);
    }
}
