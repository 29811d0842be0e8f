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

/// `make package` built a real Lambda artifact: a zip whose `bootstrap` is an executable ELF.
#[test]
fn the_packaged_artifact_holds_an_executable_bootstrap() {
    let artifact = common::artifact();
    let check = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             info = z.getinfo('bootstrap')\n\
             print(z.read('bootstrap')[:4] == b'\\x7fELF', bool((info.external_attr >> 16) & 0o111), info.file_size)",
        ])
        .arg(&artifact)
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let fields: Vec<&str> = answer.split_whitespace().collect();
    assert_eq!(fields[..2], ["True", "True"], "bootstrap is not an executable ELF: {answer}");
    assert!(fields[2].parse::<u64>().unwrap() > 100_000, "bootstrap is suspiciously small: {answer}");
}
