//! What the figures came from: the machine and the commit, for the report's header.

use std::collections::BTreeMap;
use std::process::Command;

pub fn describe() -> BTreeMap<String, String> {
    let mut context = BTreeMap::new();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    context.insert("cpu".into(), format!("{cpu} ({cores} cores available)"));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    if let Some(kib) = field(&meminfo, "MemTotal").and_then(|v| v.trim_end_matches(" kB").trim().parse::<u64>().ok()) {
        context.insert("memory".into(), format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0));
    }
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    if let Some(name) = os.lines().find_map(|line| line.strip_prefix("PRETTY_NAME=")) {
        context.insert("os".into(), name.trim_matches('"').to_owned());
    }
    if let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        context.insert("kernel".into(), kernel.trim().to_owned());
    }
    context.insert("commit".into(), command_line("git", &["rev-parse", "--short", "HEAD"]));
    context.insert("wrk".into(), command_line("wrk", &["--version"]));
    context.insert("date".into(), time::OffsetDateTime::now_utc().date().to_string());
    context
}

/// The value of `name: value` in /proc-style text.
fn field(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| line.strip_prefix(name)?.trim_start().strip_prefix(':').map(|v| v.trim().to_owned()))
}

/// The first line a command prints, or "unknown".
fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
            text.lines().next().map(|line| line.trim().to_owned())
        })
        .filter(|line| !line.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
