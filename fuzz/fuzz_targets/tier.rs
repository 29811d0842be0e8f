//! Tier files (`stacks/*.yaml`) as an operator may write them.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use deployer::config::{TierName, parse_tier};

static TIER: LazyLock<TierName> = LazyLock::new(|| "FUZZ_TIER".parse().expect("a tier name"));

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = parse_tier(Path::new("FUZZ_TIER.yaml"), text, &TIER);
});
