//! The deployer's render: in-process (the template code alone) and as a whole process (what
//! `deployer render` costs a user, start-up included).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Result, bail};
use deployer::cli::Stack;
use deployer::config::{StackId, StacksDir};

use crate::figures::Report;
use crate::stats::{median, ms};

pub fn measure(report: &mut Report, stacks_dir: &Path, deployer: &Path, runs: usize, process_runs: usize) -> Result<()> {
    let stacks = StacksDir::new(stacks_dir);
    for tier in stacks.tiers()? {
        let id = StackId::pooled(tier.clone());
        Stack::load(&stacks, &id)?;
        let times = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let stack = Stack::load(&stacks, &id)?;
                std::hint::black_box(&stack.body);
                Ok(ms(started.elapsed()))
            })
            .collect::<Result<Vec<f64>>>()?;
        report.add(
            format!("deployer.render_ms.{tier}"),
            median(&times),
            "ms",
            format!("median of {runs} in-process renders: read and validate the tier file, build and serialise the template"),
        );
    }
    for tier in stacks.tiers()? {
        let times = (0..process_runs)
            .map(|_| {
                let started = Instant::now();
                let status = Command::new(deployer)
                    .arg("--stacks-dir")
                    .arg(stacks_dir)
                    .args(["render", "--tier", tier.as_str()])
                    .stdout(Stdio::null())
                    .status()?;
                if !status.success() {
                    bail!("deployer render --tier {tier} failed ({status})");
                }
                Ok(ms(started.elapsed()))
            })
            .collect::<Result<Vec<f64>>>()?;
        report.add(
            format!("deployer.render_process_ms.{tier}"),
            median(&times),
            "ms",
            format!("median of {process_runs} runs of the whole `deployer render --tier {tier}` process"),
        );
    }
    Ok(())
}
