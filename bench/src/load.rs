//! API latency and throughput under concurrent load from a second process: wrk, at fixed
//! concurrency levels, against `smart-album serve`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::figures::Report;

/// One endpoint under load.
pub struct Endpoint {
    /// The figure keys' part: `api.<name>.c<concurrency>.*`.
    pub name: &'static str,
    pub method: &'static str,
    pub path: String,
    /// A body file and its content type.
    pub body: Option<(PathBuf, &'static str)>,
}

/// What wrk's `done()` in `wrk/report.lua` prints.
#[derive(Debug, Deserialize, PartialEq)]
pub struct WrkSummary {
    pub requests: u64,
    pub duration_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub timeouts: u64,
    pub non_2xx: u64,
}

impl WrkSummary {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }

    pub fn failed(&self) -> u64 {
        self.connect_errors + self.read_errors + self.write_errors + self.timeouts + self.non_2xx
    }
}

pub fn parse_summary(stdout: &str) -> Result<WrkSummary> {
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BENCH_JSON "))
        .context("wrk printed no BENCH_JSON line (was it run with wrk/report.lua?)")?;
    Ok(serde_json::from_str(line)?)
}

pub struct Wrk<'a> {
    pub script: &'a Path,
    pub base_url: &'a str,
    pub token: &'a str,
}

impl Wrk<'_> {
    pub async fn run(&self, endpoint: &Endpoint, connections: usize, duration: Duration) -> Result<WrkSummary> {
        let mut command = tokio::process::Command::new("wrk");
        command
            .args(["--threads", "1", "--connections", &connections.to_string()])
            .args(["--duration", &format!("{}s", duration.as_secs().max(1)), "--timeout", "30s"])
            .arg("--script")
            .arg(self.script)
            .arg(format!("{}{}", self.base_url, endpoint.path))
            .env("BENCH_METHOD", endpoint.method)
            .env("BENCH_TOKEN", self.token);
        if let Some((file, content_type)) = &endpoint.body {
            command.env("BENCH_BODY_FILE", file).env("BENCH_CONTENT_TYPE", content_type);
        }
        let output = command.output().await.context("running wrk (make bench installs it; or apt-get install wrk)")?;
        if !output.status.success() {
            bail!("wrk failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr));
        }
        parse_summary(&String::from_utf8_lossy(&output.stdout))
    }

    /// Each endpoint at each concurrency level, after a short warm-up at the lowest.
    pub async fn measure(&self, report: &mut Report, endpoints: &[Endpoint], levels: &[usize], duration: Duration) -> Result<()> {
        for endpoint in endpoints {
            self.run(endpoint, levels.first().copied().unwrap_or(1), Duration::from_secs(1)).await?;
            for &connections in levels {
                let summary = self.run(endpoint, connections, duration).await?;
                let key = format!("api.{}.c{connections}", endpoint.name);
                let what = format!("{} {} with {connections} connections for {}s", endpoint.method, endpoint.path, duration.as_secs());
                report.add(format!("{key}.p50_ms"), summary.p50_us as f64 / 1000.0, "ms", format!("median latency, {what}"));
                report.add(format!("{key}.p99_ms"), summary.p99_us as f64 / 1000.0, "ms", format!("99th percentile latency, {what}"));
                report.add(format!("{key}.rps"), summary.requests_per_second(), "req/s", format!("requests per second, {what}"));
                report.add(
                    format!("{key}.failed"),
                    summary.failed() as f64,
                    "requests",
                    format!("non-2xx replies, socket errors and timeouts of {} requests", summary.requests),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary_line_among_wrks_own_output() {
        let stdout = "Running 5s test @ http://127.0.0.1:3000/images\n  1 threads and 8 connections\n\
            BENCH_JSON {\"requests\":1000,\"duration_us\":5000000,\"p50_us\":3500,\"p99_us\":12000,\"max_us\":20000,\
            \"connect_errors\":0,\"read_errors\":1,\"write_errors\":0,\"timeouts\":2,\"non_2xx\":3}\n";
        let summary = parse_summary(stdout).unwrap();
        assert_eq!(summary.p50_us, 3500);
        assert_eq!(summary.requests_per_second(), 200.0);
        assert_eq!(summary.failed(), 6);
    }

    #[test]
    fn no_summary_line_is_an_error() {
        assert!(parse_summary("Running 5s test\n").is_err());
    }
}
