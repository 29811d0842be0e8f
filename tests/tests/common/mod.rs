//! Shared helpers of the end-to-end tests: the emulator's clients, the deployer binary, and
//! tier files written for one test each (unique tier names keep parallel tests apart).

// Each test binary compiles this module whole and uses a part of it: the rest is not dead.
#![allow(dead_code)]

pub mod api;
pub mod faults;
pub mod policy;
pub mod server;
pub mod traffic;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The emulator's endpoint; a clear failure (not a skip) when the tests run without one.
pub fn endpoint() -> String {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        panic!(
            "these tests need the local AWS emulator. Run them with `make test` (it starts one), \
             or start `.venv/bin/python3 scripts/moto-server -H 127.0.0.1 -p 5000` and set \
             AWS_ENDPOINT_URL=http://127.0.0.1:5000 AWS_REGION=us-east-1 \
             AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
        )
    };
    let reachable = std::net::TcpStream::connect(endpoint.trim_start_matches("http://").trim_end_matches('/')).is_ok();
    assert!(reachable, "AWS_ENDPOINT_URL={endpoint} does not answer: is the emulator running? `make test` starts one");
    endpoint
}

/// The folder of the functions' Lambda artifacts built by `make package`
/// (`api/bootstrap.zip`, `analyzer/bootstrap.zip`).
pub fn artifacts() -> PathBuf {
    let path = std::env::var_os("SMART_ALBUM_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("SMART_ALBUM_ARTIFACTS is not set: run `make test`, or `make package` and point it at target/lambda"));
    for function in ["api", "analyzer"] {
        let zip = path.join(function).join("bootstrap.zip");
        assert!(zip.exists(), "{} does not exist: run `make package`", zip.display());
    }
    path
}

/// A binary `cargo test --workspace` built beside this test (`deployer`, `runtime`, `api`, ...).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = dir.join(name);
    assert!(binary.exists(), "{} is missing: build with `cargo build --workspace --bins`", binary.display());
    binary
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Clients of every service the tests check, configured like the deployer's.
pub struct Aws {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub kms: aws_sdk_kms::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
}

pub async fn aws() -> Aws {
    let endpoint = endpoint();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(&endpoint).load().await;
    let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(true).build();
    Aws {
        cloudformation: aws_sdk_cloudformation::Client::new(&config),
        s3: aws_sdk_s3::Client::from_conf(s3),
        dynamodb: aws_sdk_dynamodb::Client::new(&config),
        kms: aws_sdk_kms::Client::new(&config),
        sns: aws_sdk_sns::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
    }
}

/// A stacks folder holding one tier file, copied from a repository tier under a new name.
pub struct TierFiles {
    pub dir: TempDir,
    pub tier: String,
}

impl TierFiles {
    /// `tier` is a new name unique to the test; `from` is a tier of the repository.
    pub fn copy_of(from: &str, tier: &str) -> Self {
        let text = std::fs::read_to_string(repo_root().join("stacks").join(format!("{from}.yaml"))).unwrap();
        let files = Self { dir: TempDir::new().unwrap(), tier: tier.to_owned() };
        files.write(&text.replace(&format!("tier: {from}"), &format!("tier: {tier}")));
        files
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.yaml", self.tier))
    }

    pub fn write(&self, text: &str) {
        std::fs::write(self.path(), text).unwrap();
    }

    pub fn edit(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path()).unwrap();
        assert!(text.contains(from), "{from:?} is not in the tier file");
        self.write(&text.replacen(from, to, 1));
    }

    pub fn stack_name(&self) -> String {
        format!("smart-album-{}", self.tier.to_ascii_lowercase().replace('_', "-"))
    }

    /// Runs the deployer with this folder as its stacks folder.
    pub fn deployer(&self, args: &[&str]) -> Run {
        deployer(self.dir.path(), args)
    }
}

/// The outcome of one deployer run.
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn expect_success(self, what: &str) -> Self {
        assert!(self.success, "{what} failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

/// The deployer binary `cargo test --workspace` built beside this test.
pub fn deployer_binary() -> PathBuf {
    workspace_binary("deployer")
}

pub fn deployer(stacks_dir: &Path, args: &[&str]) -> Run {
    deployer_with_env(stacks_dir, args, &[])
}

/// The deployer with more environment variables (the test hooks of debug builds).
pub fn deployer_with_env(stacks_dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let Output { status, stdout, stderr } = Command::new(deployer_binary())
        .args(args)
        .env("SMART_ALBUM_STACKS_DIR", stacks_dir)
        .env("NO_COLOR", "1")
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    Run {
        success: status.success(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The status of a stack, or `None` when there is none.
pub async fn stack_status(aws: &Aws, name: &str) -> Option<String> {
    let stacks = aws.cloudformation.describe_stacks().stack_name(name).send().await.ok()?;
    let stack = stacks.stacks?.into_iter().next()?;
    stack.stack_status.map(|s| s.as_str().to_owned())
}

pub async fn bucket_exists(aws: &Aws, name: &str) -> bool {
    aws.s3.head_bucket().bucket(name).send().await.is_ok()
}

pub async fn table_exists(aws: &Aws, name: &str) -> bool {
    aws.dynamodb.describe_table().table_name(name).send().await.is_ok()
}

/// The outputs a deployer run printed (`  Name   value` lines).
pub fn printed_outputs(stdout: &str) -> std::collections::BTreeMap<String, String> {
    let listing = stdout.split_once("Outputs of ").map_or("", |(_, rest)| rest);
    listing
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (name, value) = line.trim().split_once(char::is_whitespace)?;
            Some((name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}
