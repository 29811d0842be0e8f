//! `deployer render` from the command line, and cfn-lint on every tier's template.

mod common;

use std::process::Command;

use common::{deployer, repo_root};

const TIERS: [&str; 3] = ["BASIC_USER", "CORE_USER", "FULL_PLATFORM_USER"];

#[test]
fn render_is_byte_identical_across_runs_and_out_writes_the_same() {
    let stacks = repo_root().join("stacks");
    let out = tempfile::TempDir::new().unwrap();
    for tier in TIERS {
        let first = deployer(&stacks, &["render", "--tier", tier]).expect_success("render");
        let second = deployer(&stacks, &["render", "--tier", tier]).expect_success("render");
        assert_eq!(first.stdout, second.stdout, "{tier}");
        assert!(first.stdout.starts_with("AWSTemplateFormatVersion"), "{tier}");
        let file = out.path().join(format!("{tier}.yaml"));
        deployer(&stacks, &["render", "--tier", tier, "--out", file.to_str().unwrap()]).expect_success("render --out");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), first.stdout, "{tier}");
    }
}

#[test]
fn cfn_lint_finds_no_error_and_no_warning_in_any_tier() {
    let stacks = repo_root().join("stacks");
    let out = tempfile::TempDir::new().unwrap();
    let mut files = Vec::new();
    for tier in TIERS {
        let file = out.path().join(format!("{tier}.yaml"));
        deployer(&stacks, &["render", "--tier", tier, "--out", file.to_str().unwrap()]).expect_success("render");
        files.push(file);
    }
    let lint = Command::new("cfn-lint")
        .args(&files)
        .output()
        .unwrap_or_else(|err| panic!("cannot run cfn-lint ({err}): run `make test`, which installs it into .venv"));
    assert!(
        lint.status.success(),
        "cfn-lint exited with {}:\n{}{}",
        lint.status,
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    assert!(lint.stdout.is_empty(), "{}", String::from_utf8_lossy(&lint.stdout));
}

/// `make package` built the two functions' artifacts: zips whose `bootstrap` is an executable
/// ELF; the API's carries no vision models (it is smaller than the analyzer's by more than
/// the models' bytes) and no inference engine, the analyzer's has ONNX Runtime beside its
/// bootstrap (where it loads it from).
#[test]
fn the_packaged_artifacts_hold_executable_bootstraps_and_only_the_analyzer_has_the_models() {
    let artifacts = common::artifacts();
    let bootstrap_size = |function: &str| {
        let check = Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile\n\
                 z = zipfile.ZipFile(sys.argv[1])\n\
                 info = z.getinfo('bootstrap')\n\
                 print(z.read('bootstrap')[:4] == b'\\x7fELF', bool((info.external_attr >> 16) & 0o111), info.file_size,\n\
                       'libonnxruntime.so' in z.namelist() and z.read('libonnxruntime.so')[:4] == b'\\x7fELF')",
            ])
            .arg(artifacts.join(function).join("bootstrap.zip"))
            .output()
            .unwrap();
        let answer = String::from_utf8_lossy(&check.stdout);
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
        let fields: Vec<&str> = answer.split_whitespace().collect();
        assert_eq!(fields[..2], ["True", "True"], "{function}'s bootstrap is not an executable ELF: {answer}");
        let size = fields[2].parse::<u64>().unwrap();
        assert!(size > 100_000, "{function}'s bootstrap is suspiciously small: {answer}");
        (size, fields[3] == "True")
    };
    let models: u64 = std::fs::read_dir(common::repo_root().join("models"))
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".onnx"))
        .map(|entry| entry.metadata().unwrap().len())
        .sum();
    let ((api, api_has_engine), (analyzer, analyzer_has_engine)) = (bootstrap_size("api"), bootstrap_size("analyzer"));
    assert!(analyzer_has_engine, "the analyzer's artifact has no libonnxruntime.so beside its bootstrap");
    assert!(!api_has_engine, "the API's artifact carries the inference engine");
    assert!(analyzer > api + models, "the API's bootstrap ({api} bytes) should lack the {models} bytes of models the analyzer's ({analyzer}) has");
}
