//! `deployer render` from the command line, and cfn-lint and checkov on every tier's template
//! and the account stack's.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{deployer, repo_root};

const TIERS: [&str; 3] = ["BASIC_USER", "CORE_USER", "FULL_PLATFORM_USER"];

/// Every tier's template and the account stack's (`ACCOUNT.yaml`), rendered into `dir`.
fn render_all(dir: &std::path::Path) -> Vec<PathBuf> {
    let stacks = repo_root().join("stacks");
    let mut files = Vec::new();
    for tier in TIERS {
        let file = dir.join(format!("{tier}.yaml"));
        deployer(&stacks, &["render", "--tier", tier, "--out", file.to_str().unwrap()]).expect_success("render");
        files.push(file);
    }
    let account = dir.join("ACCOUNT.yaml");
    std::fs::write(&account, deployer::template::account::render().to_yaml().unwrap()).unwrap();
    files.push(account);
    files
}

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
    let out = tempfile::TempDir::new().unwrap();
    let files = render_all(out.path());
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

#[test]
fn checkov_finds_nothing_on_any_template() {
    let checkov =
        std::env::var_os("SMART_ALBUM_CHECKOV").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/checkov-venv/bin/checkov"));
    let out = tempfile::TempDir::new().unwrap();
    render_all(out.path());
    // `checkov -d` over the folder of every tier's template, as the issue names it.
    let run = Command::new(&checkov)
        .args(["--framework", "cloudformation", "--compact", "--skip-download", "-o", "json", "-d"])
        .arg(out.path())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {} ({err}): run `make test`, which installs it", checkov.display()));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|err| panic!("checkov's output is not JSON ({err}): {}", String::from_utf8_lossy(&run.stderr)));
    let checks = |outcome: &str| report["results"][outcome].as_array().cloned().unwrap_or_default();
    let failed: Vec<String> =
        checks("failed_checks").iter().map(|check| format!("{} {} {}", check["check_id"], check["file_path"], check["resource"])).collect();
    // Nothing at all: a check that does not apply is skipped in the resource's `Metadata`
    // with the reason.
    assert!(failed.is_empty(), "checkov fails {failed:?}");
    // Every tier's template was read: at least 50 passed checks and the 5 reasoned skips each.
    for tier in TIERS {
        let of_tier = |outcome: &str| checks(outcome).iter().filter(|check| check["file_path"] == format!("/{tier}.yaml")).count();
        assert!(of_tier("passed_checks") >= 50, "{tier}: {}", report["summary"]);
        assert!(of_tier("skipped_checks") >= 5, "{tier}: the reasoned skips are not read: {}", report["summary"]);
    }
    let account = checks("passed_checks").iter().filter(|check| check["file_path"] == "/ACCOUNT.yaml").count();
    assert!(account > 0, "the account stack's template was not read: {}", report["summary"]);
}

/// `make package` built the two functions' artifacts: zips whose `bootstrap` is an executable
/// ELF. The analyzer's carries every model (a slice of each ONNX file is found in its
/// bootstrap) and ONNX Runtime beside its bootstrap, where it loads it from; the API's carries
/// neither.
#[test]
fn the_packaged_artifacts_hold_executable_bootstraps_and_only_the_analyzer_has_the_models() {
    let artifacts = common::artifacts();
    let models: Vec<PathBuf> = std::fs::read_dir(common::repo_root().join("models"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "onnx"))
        .collect();
    assert!(!models.is_empty());
    // Prints: ELF?, executable?, bootstrap bytes, engine beside it?, then per model: inside?
    let inspect = |function: &str| {
        let check = Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile\n\
                 z = zipfile.ZipFile(sys.argv[1])\n\
                 info = z.getinfo('bootstrap')\n\
                 binary = z.read('bootstrap')\n\
                 engine = 'libonnxruntime.so' in z.namelist() and z.read('libonnxruntime.so')[:4] == b'\\x7fELF'\n\
                 def inside(path):\n\
                 \x20   model = open(path, 'rb').read()\n\
                 \x20   return model[len(model) // 2:len(model) // 2 + 256] in binary\n\
                 print(binary[:4] == b'\\x7fELF', bool((info.external_attr >> 16) & 0o111), info.file_size, engine,\n\
                       *[inside(path) for path in sys.argv[2:]])",
            ])
            .arg(artifacts.join(function).join("bootstrap.zip"))
            .args(&models)
            .output()
            .unwrap();
        let answer = String::from_utf8_lossy(&check.stdout).into_owned();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
        let fields: Vec<String> = answer.split_whitespace().map(str::to_owned).collect();
        assert_eq!(fields[..2], ["True", "True"], "{function}'s bootstrap is not an executable ELF: {answer}");
        let size = fields[2].parse::<u64>().unwrap();
        assert!(size > 100_000, "{function}'s bootstrap is suspiciously small: {answer}");
        fields
    };
    let analyzer = inspect("analyzer");
    assert_eq!(analyzer[3], "True", "the analyzer's artifact has no libonnxruntime.so beside its bootstrap");
    for (model, inside) in models.iter().zip(&analyzer[4..]) {
        assert_eq!(inside, "True", "the analyzer's bootstrap lacks {}", model.display());
    }
    let api = inspect("api");
    assert_eq!(api[3], "False", "the API's artifact carries the inference engine");
    for (model, inside) in models.iter().zip(&api[4..]) {
        assert_eq!(inside, "False", "the API's bootstrap carries {}", model.display());
    }
}

/// The template that takes kept data back into a new stack (`deployer up` after `down`) is a
/// template CloudFormation takes: cfn-lint finds nothing in any tier's.
#[test]
fn cfn_lint_finds_nothing_in_the_import_templates() {
    let stacks = deployer::config::StacksDir::new(repo_root().join("stacks"));
    let out = tempfile::TempDir::new().unwrap();
    let mut files = Vec::new();
    for tier in TIERS {
        let template = deployer::template::render(&stacks.load(&tier.parse().unwrap()).unwrap(), None);
        let import = template.for_import(&template.retained_ids());
        let file = out.path().join(format!("{tier}-import.yaml"));
        std::fs::write(&file, import.to_yaml().unwrap()).unwrap();
        files.push(file);
    }
    let lint = Command::new("cfn-lint").args(&files).output().expect("cfn-lint runs (make test installs it)");
    assert!(
        lint.status.success() && lint.stdout.is_empty(),
        "{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}
