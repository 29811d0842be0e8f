//! Generated hostile input: schemathesis (pinned in requirements.txt) against `GET /openapi.json`
//! of `smart-album serve`, signed in, on every operation with every check: no 5xx, no undocumented
//! status, header or body, no schema-valid request refused, no invalid one accepted. A fixed
//! seed and a bounded number of examples make the run the same each time.

mod common;

use std::process::Command;

use axum::http::{Method, StatusCode};
use common::api::http;
use common::server::serve;
use common::{TierFiles, repo_root};
use serde_json::{Value, json};

/// Examples per operation and phase: enough to reach every documented constraint, bounded so
/// the run takes a minute or two.
const MAX_EXAMPLES: &str = "30";
const SEED: &str = "20261126";

#[tokio::test]
async fn generated_requests_hold_to_the_openapi_document() {
    let files = TierFiles::copy_of("CORE_USER", "SCHEMA");
    // Request limits have their own tests; here they would only turn examples into 429s.
    files.edit("rate_limit: 50", "rate_limit: 100000");
    files.edit("burst_limit: 100", "burst_limit: 100000");
    files.deployer(&["up", "--tier", "SCHEMA", "--skip-build", "--analyzer", "local"]).expect_success("deployer up");
    let server = serve("SCHEMA").await;

    let password = "correct horse battery staple";
    let sign_up =
        json!({"user_name": "schema", "email": "schema@example.org", "first_name": "Schema", "last_name": "Tester", "password": password});
    let json_header = [("content-type", "application/json")];
    let (status, body) = http(Method::POST, &format!("{}/users", server.url), &json_header, sign_up.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    let sign_in = json!({"user_name": "schema", "password": password});
    let (status, body) = http(Method::POST, &format!("{}/sessions", server.url), &json_header, sign_in.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = serde_json::from_slice::<Value>(&body).unwrap()["token"].as_str().unwrap().to_owned();

    // What was sent and answered, for reading a failure: target/schemathesis/.
    let report = repo_root().join("target/schemathesis");
    std::fs::create_dir_all(&report).unwrap();
    let run = Command::new(repo_root().join(".venv/bin/schemathesis"))
        .current_dir(&report)
        .args(["--no-color", "--config-file"])
        .arg(repo_root().join("tests/schemathesis.toml"))
        .args(["run", &format!("{}/openapi.json", server.url)])
        .args(["--seed", SEED, "--max-examples", MAX_EXAMPLES])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // Deleting the account would leave every later example signed out.
        .args(["--exclude-operation-id", "delete_me"])
        .args(["--request-timeout", "30", "--generation-database", "none", "--report", "vcr", "--report-dir"])
        .arg(&report)
        .output()
        .expect("schemathesis runs (make test installs it from requirements.txt)");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    eprintln!("{stdout}");
    assert!(run.status.success(), "schemathesis found failures:\n{stdout}\n{stderr}");
    assert!(stdout.contains("passed"), "{stdout}");
    drop(server);
    files.deployer(&["down", "--tier", "SCHEMA", "--purge", "--yes"]).expect_success("deployer down --purge");
}
