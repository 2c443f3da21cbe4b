//! Perfdata labels that stay the same for a given scenario, host and step whether the run
//! passed or failed, so that PNP4Nagios, Grafana or InfluxDB keep one series per value
//! across failures. A label is `HOST SCENARIO: MEASURE`:
//!
//! - `HOST` is the unit's host (absent for a scenario without one); `SCENARIO` its name
//!   (an outline row's name is unique, see `suite::pickles`). Two scenarios of one run with
//!   the same name on the same host (two files, or two scenarios of one file) both get their
//!   `(file:line)`: this depends on the plan only, never on results.
//! - `MEASURE` is the step's own label (`10.77.0.11/health response time`,
//!   `backend app servers UP`). A step that checks a value an earlier step of the scenario
//!   measured (`the response time should be under 500 ms` after its request) adds its
//!   threshold to that item instead of a second one; any other repeat of a label in one
//!   scenario gets the repeating step's `(line N)`.
//! - Each part is shortened deterministically: past [`MAX_PART`] characters it keeps its
//!   beginning and ends in `~` and six hex digits of a hash of the whole part, so two long
//!   names that share a beginning still differ, and the same name always gives the same
//!   label.

use std::collections::HashMap;

use crate::event::{RunSummary, UnitResult};
use crate::outcome::Measurement;

/// Longest `HOST SCENARIO` or `MEASURE` part, in characters.
pub const MAX_PART: usize = 60;

/// Every measured value of the run with its label, in run order.
pub fn labelled(summary: &RunSummary) -> Vec<(String, Measurement)> {
    let names: Vec<String> = summary.results.iter().map(|r| unit_part(r)).collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for n in &names {
        *seen.entry(n.as_str()).or_default() += 1;
    }
    let mut out = Vec::new();
    for (r, name) in summary.results.iter().zip(&names) {
        let name = if seen[name.as_str()] > 1 {
            format!("{name} ({}:{})", r.unit.feature.path.display(), r.unit.scenario.line)
        } else {
            name.clone()
        };
        let name = shorten(&name);
        for (measure, m) in per_step(r) {
            out.push((format!("{name}: {}", shorten(&measure)), m));
        }
    }
    out
}

/// `HOST SCENARIO`, or `SCENARIO` without a host.
fn unit_part(r: &UnitResult) -> String {
    match &r.unit.host {
        Some(h) => format!("{h} {}", r.unit.scenario.title()),
        None => r.unit.scenario.title(),
    }
}

/// The values of one unit, each under its step's label: a check of a value measured
/// earlier (same label, the earlier one without a threshold, the check with one) merges
/// into it; another repeat gets `(line N)` of its step.
fn per_step(r: &UnitResult) -> Vec<(String, Measurement)> {
    let mut out: Vec<(String, Measurement)> = Vec::new();
    for (index, (result, _)) in r.steps.iter().enumerate() {
        for m in result.measured() {
            let earlier = out.iter_mut().rev().find(|(_, e)| e.label == m.label);
            match earlier {
                Some((_, e)) if e.crit.is_none() && m.crit.is_some() => {
                    *e = m.clone();
                }
                Some(_) => {
                    let line = r.unit.scenario.steps.get(index).map_or(0, |s| s.line);
                    out.push((format!("{} (line {line})", m.label), m.clone()));
                }
                None => out.push((m.label.clone(), m.clone())),
            }
        }
    }
    out
}

/// `text` unchanged up to [`MAX_PART`] characters; past it, its beginning, `~` and six hex
/// digits of its FNV-1a hash.
pub fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_PART {
        return text.to_string();
    }
    let keep: String = text.chars().take(MAX_PART - 7).collect();
    format!("{}~{:06x}", keep.trim_end(), fnv1a(text) & 0xff_ffff)
}

/// 32-bit FNV-1a: fixed forever, unlike std's hasher, so labels survive upgrades.
fn fnv1a(text: &str) -> u32 {
    text.bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_parts_are_cut_the_same_way_every_time() {
        let long = "The home page of the public site answers within the time we promised";
        let a = shorten(long);
        assert_eq!(a.chars().count(), MAX_PART);
        assert_eq!(a, shorten(long));
        assert!(
            a.starts_with("The home page of the public site answers within the"),
            "{a}"
        );
        let other = shorten("The home page of the public site answers within the time we said");
        assert_ne!(a, other, "same beginning, different names");
        assert_eq!(shorten("short"), "short");
        // FNV-1a's published test vector.
        assert_eq!(fnv1a("a"), 0xe40c_292c);
    }
}
