//! The gazetteer: how long its tree takes to build (once a process, at the first photo with a
//! GPS position) and one lookup of the nearest place, on positions spread over the whole globe
//! (land and sea, the poles and the antimeridian among them).

use std::time::Instant;

use analyzer::places::Gazetteer;
use anyhow::{Context, Result};
use domain::places::Position;

use crate::figures::Report;
use crate::stats::{median, ms};

/// Positions looked up, each timed.
const LOOKUPS: usize = 10_000;

pub fn measure(report: &mut Report) -> Result<()> {
    let started = Instant::now();
    let gazetteer = Gazetteer::get();
    report.add("places.load_ms", ms(started.elapsed()), "ms", "building the gazetteer's tree of 144,563 places (once a process)");
    // A fixed spiral over the sphere: even cover, the same positions every run.
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let mut times = Vec::with_capacity(LOOKUPS);
    let mut found = 0;
    for i in 0..LOOKUPS {
        let z = 1.0 - 2.0 * (i as f64 + 0.5) / LOOKUPS as f64;
        let lon = ((i as f64 * golden).to_degrees() + 180.0).rem_euclid(360.0) - 180.0;
        let position = Position::new(z.asin().to_degrees(), lon).context("a spiral point off the globe")?;
        let started = Instant::now();
        let place = std::hint::black_box(gazetteer.place(position));
        times.push(ms(started.elapsed()) * 1000.0);
        found += usize::from(place.is_some());
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let what = format!("{LOOKUPS} positions spread evenly over the globe, one thread");
    report.add("places.lookup_us.p50", median(&times), "µs", format!("nearest place, median of {what}"));
    report.add("places.lookup_us.max", sorted[sorted.len() - 1], "µs", format!("nearest place, slowest of {what}"));
    report.add(
        "places.found_share",
        found as f64 / LOOKUPS as f64,
        "share",
        format!("of {what}, those within reach of a place (the rest at sea or ice)"),
    );
    Ok(())
}
