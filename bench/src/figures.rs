//! The figures of a run: a stable key each (`section.figure[.variant]`), printed as a markdown
//! table in the order they were measured and written as JSON with the keys sorted.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// `null` in JSON when nothing could be measured (NaN).
    pub value: f64,
    pub unit: &'static str,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Report {
    /// What the figures came from: the machine, the commit, the settings of the run.
    pub context: BTreeMap<String, String>,
    figures: Vec<(String, Figure)>,
    /// Sections that could not finish, with why.
    pub failures: Vec<(String, String)>,
}

impl Report {
    pub fn new(context: BTreeMap<String, String>) -> Self {
        Self { context, ..Self::default() }
    }

    /// Records a figure; a key is recorded once per run.
    pub fn add(&mut self, key: impl Into<String>, value: f64, unit: &'static str, what: impl Into<String>) {
        let key = key.into();
        assert!(self.figures.iter().all(|(known, _)| *known != key), "figure {key} recorded twice");
        println!("  {key} = {} {unit}", format_value(value));
        self.figures.push((key, Figure { value, unit, what: what.into() }));
    }

    pub fn to_json(&self) -> serde_json::Value {
        let figures: BTreeMap<&str, &Figure> = self.figures.iter().map(|(key, figure)| (key.as_str(), figure)).collect();
        let failures: BTreeMap<&str, &str> = self.failures.iter().map(|(section, why)| (section.as_str(), why.as_str())).collect();
        serde_json::json!({ "context": self.context, "figures": figures, "failures": failures })
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.context {
            let _ = writeln!(out, "- {name}: {value}");
        }
        out.push_str("\n| Figure | Value | Unit | What |\n|---|---:|---|---|\n");
        for (key, figure) in &self.figures {
            let _ = writeln!(out, "| `{key}` | {} | {} | {} |", format_value(figure.value), figure.unit, figure.what);
        }
        if !self.failures.is_empty() {
            out.push_str("\nSections that did not finish:\n");
            for (section, why) in &self.failures {
                let _ = writeln!(out, "- {section}: {why}");
            }
        }
        out
    }
}

/// Three significant digits or so: enough for figures that vary by a few percent between runs.
pub fn format_value(value: f64) -> String {
    if value.is_nan() {
        "n/a".to_owned()
    } else if value.abs() >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_every_figure_under_its_key_and_nan_as_null() {
        let mut report = Report::default();
        report.add("b.latency_ms", 12.345, "ms", "b");
        report.add("a.count", f64::NAN, "items", "a");
        let json = report.to_json();
        assert_eq!(json["figures"]["b.latency_ms"]["value"], 12.345);
        assert_eq!(json["figures"]["b.latency_ms"]["unit"], "ms");
        assert!(json["figures"]["a.count"]["value"].is_null());
    }

    #[test]
    fn markdown_keeps_the_order_of_measurement() {
        let mut report = Report::default();
        report.add("z.first", 1.0, "ms", "measured first");
        report.add("a.second", 2.5, "ms", "measured second");
        let table = report.to_markdown();
        let first = table.find("`z.first` | 1 | ms | measured first").unwrap();
        let second = table.find("`a.second` | 2.50 | ms | measured second").unwrap();
        assert!(first < second);
    }

    #[test]
    #[should_panic(expected = "recorded twice")]
    fn a_key_is_recorded_once() {
        let mut report = Report::default();
        report.add("x", 1.0, "ms", "");
        report.add("x", 2.0, "ms", "");
    }

    #[test]
    fn values_are_rounded_to_about_three_digits() {
        assert_eq!(format_value(1234.567), "1235");
        assert_eq!(format_value(12.345), "12.3");
        assert_eq!(format_value(0.01234), "0.01");
        assert_eq!(format_value(40.0), "40");
    }
}
