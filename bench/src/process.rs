//! `smart-album serve` as its own process, the way `make up` runs it: started, timed to its first
//! `/health` 200, measured (peak resident memory) and stopped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hyper::{Method, StatusCode};
use tokio::process::{Child, Command};

use crate::http::Http;

const START_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Served {
    child: Child,
    pub http: Http,
    log: PathBuf,
}

impl Served {
    /// Spawns `smart-album serve --tier <tier>` with `extra` arguments on a free port; returns it
    /// with the time from spawn to the first `/health` 200.
    pub async fn start(runtime: &Path, tier: &str, extra: &[&str], log: &Path) -> Result<(Self, Duration)> {
        let port = free_port()?;
        let log_file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let started = Instant::now();
        let mut child = Command::new(runtime)
            .args(["serve", "--tier", tier, "--port", &port.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", runtime.display()))?;
        let http = Http::new(format!("http://127.0.0.1:{port}"));
        loop {
            if let Ok(reply) = http.send(Method::GET, "/health", None, None, Vec::new()).await
                && reply.status == StatusCode::OK
            {
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!("smart-album serve exited ({status}) before answering /health; see {}", log.display());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("smart-album serve did not answer /health within {START_TIMEOUT:?}; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let elapsed = started.elapsed();
        Ok((Self { child, http, log: log.to_owned() }, elapsed))
    }

    /// The most memory the process has held resident since it started (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> Result<f64> {
        let pid = self.child.id().context("smart-album serve has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = peak_rss_kib(&status).with_context(|| format!("no VmHWM in /proc/{pid}/status"))?;
        Ok(kib as f64 / 1024.0)
    }

    pub async fn stop(mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("smart-album serve had exited ({status}); see {}", self.log.display());
        }
        self.child.kill().await?;
        Ok(())
    }
}

fn peak_rss_kib(proc_status: &str) -> Option<u64> {
    let line = proc_status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A port the kernel says is free now (a race only with other binders).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_high_water_mark_of_proc_status() {
        let status = "Name:\truntime\nVmPeak:\t  900000 kB\nVmHWM:\t   123456 kB\nVmRSS:\t  100000 kB\n";
        assert_eq!(peak_rss_kib(status), Some(123456));
        assert_eq!(peak_rss_kib("Name:\truntime\n"), None);
    }

    #[test]
    fn this_process_has_a_peak() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(peak_rss_kib(&status).unwrap() > 0);
    }
}
