//! Failures grouped by cause: when the same step fails with the same kind of finding on
//! several hosts, the console summary, the mail and the Nagios output say it once with
//! the hosts (`web1-web9, web11-web15 (14 hosts)`), then the hosts that failed differently,
//! so that with 200 hosts the one that differs is not buried under 199 alike. JUnit, JSON
//! and the console's per-host details keep every result: grouping is a way of *saying* the
//! failures, computed from the run's results alone (one place, read by every renderer, and
//! by later marks such as new / still failing).
//!
//! "The same kind of finding", as an operator at 3 a.m. would read it:
//! - the same scenario (feature file, scenario line, outline row) failing at the same step,
//!   the same way (a check that did not hold, a step that could not check, a unit cut short);
//! - the same expected and found text once what is naturally different per host is set
//!   aside: the host's own inventory name (shown as `<host>`), IPv4 addresses (shown as
//!   `<address>` when they differ) and numbers. Numbers differing per host (a measured
//!   `812 ms` against `950 ms`, `7 s behind` against `12 s behind`, `91%` against `97%`)
//!   are one kind of finding: the step says what was wrong, the values only how much;
//!   the group shows their span (`812–950 ms`) and each host's value stays in the details,
//!   JUnit and perfdata. Any other word that differs (`inactive` against `failed`,
//!   `connection refused` against `timed out`) makes a different kind.
//!
//! A group needs two hosts or more; a run with no such group is reported exactly as before.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::target::scrub;
use crate::event::{UnitResult, UnitStatus};
use crate::outcome::{Outcome, StepResult};

/// Failed units of a run, said once per kind of finding.
#[derive(Debug)]
pub(crate) struct Grouping<'a> {
    /// Kinds of finding shared by two hosts or more: the largest first, then in plan order.
    pub alike: Vec<Group<'a>>,
    /// Failed units whose finding no other host shares, in plan order.
    pub alone: Vec<&'a Arc<UnitResult>>,
}

/// One kind of finding and the units (one per host) that share it.
#[derive(Debug)]
pub(crate) struct Group<'a> {
    /// The units, in plan order.
    pub units: Vec<&'a Arc<UnitResult>>,
    /// A result standing for the whole group, for renderers that word one unit: the first
    /// unit's, with the hosts as its host (numbered names compressed into ranges:
    /// `web1-web9, web11-web15 (14 hosts)`, see [`host_ranges`]) and the failing step's expected and found merged
    /// (`<host>` for the host's name, the span of differing numbers).
    pub result: UnitResult,
}

impl Grouping<'_> {
    /// Whether any finding is shared (when not, reports word failures one by one as always).
    pub(crate) fn has_groups(&self) -> bool {
        !self.alike.is_empty()
    }
}

/// Groups the failed (and timed-out) units of `results` by kind of finding (see the module
/// documentation).
pub(crate) fn group(results: &[Arc<UnitResult>]) -> Grouping<'_> {
    let mut keys: Vec<(Key, Vec<&Arc<UnitResult>>)> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut alone = Vec::new();
    for r in results.iter().filter(|r| is_failed(r)) {
        match key(r) {
            Some(k) => match index.get(&k) {
                Some(&i) => keys[i].1.push(r),
                None => {
                    index.insert(k.clone(), keys.len());
                    keys.push((k, vec![r]));
                }
            },
            None => alone.push(r),
        }
    }
    let mut alike = Vec::new();
    for (_, units) in keys {
        if units.len() >= 2 {
            alike.push(make_group(units));
        } else {
            alone.extend(units);
        }
    }
    // Plan order among the lone failures (units without a key were pushed first).
    let position = |r: &Arc<UnitResult>| results.iter().position(|x| Arc::ptr_eq(x, r));
    alone.sort_by_key(|r| position(r));
    // Largest first; a stable sort keeps plan order among equals.
    alike.sort_by_key(|g| std::cmp::Reverse(g.units.len()));
    Grouping { alike, alone }
}

fn is_failed(r: &UnitResult) -> bool {
    matches!(r.status, UnitStatus::Failed | UnitStatus::TimedOut)
}

/// What makes two failed units the same kind of finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    feature: std::path::PathBuf,
    scenario_line: usize,
    scenario: String,
    timed_out: bool,
    step: Option<usize>,
    /// 0 failed check, 1 could not check, 2 no failing step.
    how: u8,
    expected: Shape,
    found: Shape,
}

/// A text with the parts that differ per host taken out: its literal pieces and the kinds of
/// the slots between them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
struct Shape {
    pieces: Vec<String>,
    slots: Vec<SlotKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SlotKind {
    Host,
    Address,
    Number,
}

fn key(r: &UnitResult) -> Option<Key> {
    let host = r.unit.host.as_deref()?;
    let (step, how, expected, found) = match r.failure() {
        Some((i, StepResult::Failed(o))) => (Some(i), 0, shape(&o.expected, host).0, shape(&o.found, host).0),
        Some((i, StepResult::Error(e))) => (Some(i), 1, Shape::default(), shape(e, host).0),
        _ => (None, 2, Shape::default(), Shape::default()),
    };
    Some(Key {
        feature: r.unit.feature.path.clone(),
        scenario_line: r.unit.scenario.line,
        scenario: r.unit.scenario.title(),
        timed_out: r.status == UnitStatus::TimedOut,
        step,
        how,
        expected,
        found,
    })
}

/// Host names, IPv4 addresses and numbers: the parts of a finding that differ per host.
static VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?P<addr>\b\d{1,3}(?:\.\d{1,3}){3}\b)|(?P<num>\d+(?:\.\d+)?)").expect("valid regex"));

/// The shape of `text` on `host`, and the values of its slots. Secrets are redacted first,
/// so that no merged text ever shows part of one.
fn shape(text: &str, host: &str) -> (Shape, Vec<String>) {
    let text = scrub(text);
    let mut out = Shape::default();
    let mut values = Vec::new();
    let mut piece = String::new();
    for (i, part) in split_host(&text, host).into_iter().enumerate() {
        if i > 0 {
            out.pieces.push(std::mem::take(&mut piece));
            out.slots.push(SlotKind::Host);
            values.push(host.to_string());
        }
        let mut last = 0;
        for c in VARIABLE.captures_iter(part) {
            let (m, kind) = match (c.name("addr"), c.name("num")) {
                (Some(m), _) => (m, SlotKind::Address),
                (None, Some(m)) => (m, SlotKind::Number),
                (None, None) => continue,
            };
            piece.push_str(&part[last..m.start()]);
            out.pieces.push(std::mem::take(&mut piece));
            out.slots.push(kind);
            values.push(m.as_str().to_string());
            last = m.end();
        }
        piece.push_str(&part[last..]);
    }
    out.pieces.push(piece);
    (out, values)
}

/// `text` cut at each whole-word occurrence of `host` (not inside `web10` for `web1`).
fn split_host<'t>(text: &'t str, host: &str) -> Vec<&'t str> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut parts = Vec::new();
    let mut start = 0;
    let mut from = 0;
    while !host.is_empty() {
        let Some(found) = text[from..].find(host).map(|i| i + from) else {
            break;
        };
        let end = found + host.len();
        let before = text[..found].chars().next_back().is_none_or(|c| !word(c));
        let after = text[end..].chars().next().is_none_or(|c| !word(c));
        if before && after {
            parts.push(&text[start..found]);
            start = end;
        }
        from = end;
    }
    parts.push(&text[start..]);
    parts
}

/// One text for every member's: the shared pieces, with each slot's value when all agree,
/// else `<host>`, `<address>` or the span of the numbers (`812–950`).
fn merge(texts: &[&str], hosts: &[&str]) -> String {
    let shaped: Vec<(Shape, Vec<String>)> = texts.iter().zip(hosts).map(|(t, h)| shape(t, h)).collect();
    let Some((first, _)) = shaped.first() else {
        return String::new();
    };
    let mut out = String::new();
    for (i, piece) in first.pieces.iter().enumerate() {
        out.push_str(piece);
        let Some(kind) = first.slots.get(i) else {
            continue;
        };
        let values: Vec<&str> = shaped
            .iter()
            .filter_map(|(_, v)| v.get(i).map(String::as_str))
            .collect();
        if values.windows(2).all(|w| w[0] == w[1]) {
            out.push_str(values[0]);
            continue;
        }
        match kind {
            SlotKind::Host => out.push_str("<host>"),
            SlotKind::Address => out.push_str("<address>"),
            SlotKind::Number => {
                let num = |s: &&str| s.parse::<f64>().unwrap_or(f64::NAN);
                let low = values.iter().min_by(|a, b| num(a).total_cmp(&num(b)));
                let high = values.iter().max_by(|a, b| num(a).total_cmp(&num(b)));
                if let (Some(low), Some(high)) = (low, high) {
                    out.push_str(&format!("{low}–{high}"));
                }
            }
        }
    }
    out
}

fn make_group(units: Vec<&Arc<UnitResult>>) -> Group<'_> {
    let hosts: Vec<String> = units.iter().filter_map(|r| r.unit.host.clone()).collect();
    let label = format!("{} ({} hosts)", host_ranges(&hosts).join(", "), hosts.len());
    let first = units[0];
    let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
    let mut steps = first.steps.clone();
    if let Some((i, step)) = first.failure() {
        let merged = match step {
            StepResult::Failed(o) => {
                let expected: Vec<&str> = units.iter().map(|r| failed_outcome(r).0).collect();
                let found: Vec<&str> = units.iter().map(|r| failed_outcome(r).1).collect();
                StepResult::Failed(Outcome {
                    passed: false,
                    expected: merge(&expected, &names),
                    found: merge(&found, &names),
                    measured: o.measured.clone(),
                })
            }
            StepResult::Error(_) => {
                let errors: Vec<&str> = units.iter().map(|r| error_text(r)).collect();
                StepResult::Error(merge(&errors, &names))
            }
            other => other.clone(),
        };
        steps[i].0 = merged;
    }
    let mut unit = (*first.unit).clone();
    unit.host = Some(label);
    let result = UnitResult {
        unit: Arc::new(unit),
        steps,
        ..(**first).clone()
    };
    Group { units, result }
}

fn failed_outcome(r: &UnitResult) -> (&str, &str) {
    match r.failure() {
        Some((_, StepResult::Failed(o))) => (&o.expected, &o.found),
        _ => ("", ""),
    }
}

fn error_text(r: &UnitResult) -> &str {
    match r.failure() {
        Some((_, StepResult::Error(e))) => e,
        _ => "",
    }
}

/// A host name cut around its number: `web12.dc1` is (`web`, `12`, `.dc1`). The number is
/// the trailing digits of the first dot-separated label.
fn numbered(name: &str) -> Option<(&str, &str, &str)> {
    let label_end = name.find('.').unwrap_or(name.len());
    let label = &name[..label_end];
    let digits = label.len() - label.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits == label.len() {
        return None;
    }
    let cut = label_end - digits;
    Some((&name[..cut], &name[cut..label_end], &name[label_end..]))
}

/// Hosts as an operator reads them: runs of three or more consecutively numbered names
/// (`web1`, `web2`, `web3`) become `web1-web3`; other names are listed as they are. Items
/// come in the order their first host comes in `hosts`; duplicates are dropped.
pub(crate) fn host_ranges(hosts: &[String]) -> Vec<String> {
    counted_host_ranges(hosts).into_iter().map(|(t, _)| t).collect()
}

/// [`host_ranges`], each item with the number of hosts it stands for (for `and N more`).
pub(crate) fn counted_host_ranges(hosts: &[String]) -> Vec<(String, usize)> {
    let mut unique: Vec<&str> = Vec::new();
    for h in hosts {
        if !unique.contains(&h.as_str()) {
            unique.push(h);
        }
    }
    // Sorted by (prefix, suffix, number) to find the runs.
    let mut sorted: Vec<(usize, &str)> = unique.iter().copied().enumerate().collect();
    let sort_key = |name: &str| match numbered(name) {
        Some((p, d, s)) => (
            p.to_string(),
            s.to_string(),
            d.parse::<u128>().unwrap_or(u128::MAX),
            name.to_string(),
        ),
        None => (name.to_string(), String::new(), 0, name.to_string()),
    };
    sorted.sort_by_key(|(_, n)| sort_key(n));
    let follows = |a: &str, b: &str| match (numbered(a), numbered(b)) {
        (Some((pa, da, sa)), Some((pb, db, sb))) => {
            let same_width = da.len() == db.len() || (!da.starts_with('0') && !db.starts_with('0'));
            pa == pb
                && sa == sb
                && same_width
                && da.parse::<u128>().ok().and_then(|n| n.checked_add(1)) == db.parse::<u128>().ok()
        }
        _ => false,
    };
    // Each item: (first position in `hosts`, text, hosts).
    let mut items: Vec<(usize, String, usize)> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && follows(sorted[j].1, sorted[j + 1].1) {
            j += 1;
        }
        let first_seen = sorted[i..=j].iter().map(|(p, _)| *p).min().unwrap_or(0);
        if j - i >= 2 {
            items.push((first_seen, format!("{}-{}", sorted[i].1, sorted[j].1), j - i + 1));
        } else {
            items.extend(sorted[i..=j].iter().map(|(p, n)| (*p, n.to_string(), 1)));
        }
        i = j + 1;
    }
    items.sort_by_key(|(p, _, _)| *p);
    items.into_iter().map(|(_, t, n)| (t, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Unit;
    use std::time::Duration;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn numbered_hosts_become_ranges_and_others_stay_as_they_are() {
        let mut hosts: Vec<String> = (1..=15).filter(|n| *n != 10).map(|n| format!("web{n}")).collect();
        hosts.push("lb-main".into());
        assert_eq!(host_ranges(&hosts), vec!["web1-web9", "web11-web15", "lb-main"]);
        // Two in a row are listed; three make a range.
        assert_eq!(host_ranges(&names(&["db1", "db2"])), vec!["db1", "db2"]);
        assert_eq!(host_ranges(&names(&["db3", "db1", "db2"])), vec!["db1-db3"]);
        // First-seen order of the items; duplicates dropped.
        assert_eq!(host_ranges(&names(&["web2", "db2", "web2"])), vec!["web2", "db2"]);
        // Zero-padded numbers, domains, and names that only look numbered.
        assert_eq!(
            host_ranges(&names(&["web08.dc1", "web09.dc1", "web10.dc1", "web11.dc2"])),
            vec!["web08.dc1-web10.dc1", "web11.dc2"]
        );
        assert_eq!(host_ranges(&names(&["10", "11", "12"])), vec!["10", "11", "12"]);
        assert_eq!(host_ranges(&names(&["web9", "web10", "web11"])), vec!["web9-web11"]);
        assert_eq!(host_ranges(&names(&["a1", "a02", "a3"])), vec!["a1", "a02", "a3"]);
    }

    #[test]
    fn the_hosts_name_address_and_numbers_are_set_aside() {
        let (a, va) = shape("web1 is 7 s behind 10.77.0.11:3306 (web10 is fine)", "web1");
        let (b, vb) = shape("web2 is 12 s behind 10.77.0.12:3306 (web10 is fine)", "web2");
        assert_eq!(a, b);
        assert_eq!(va, vec!["web1", "7", "10.77.0.11", "3306", "10"]);
        assert_eq!(vb[0], "web2");
        assert_eq!(
            merge(
                &[
                    "web1 is 7 s behind 10.77.0.11:3306",
                    "web2 is 12 s behind 10.77.0.12:3306",
                    "web3 is 9.5 s behind 10.77.0.13:3306"
                ],
                &["web1", "web2", "web3"]
            ),
            "<host> is 7–12 s behind <address>:3306"
        );
        assert_ne!(shape("unit inactive", "a").0, shape("unit failed", "b").0);
    }

    fn unit(host: &str) -> Arc<Unit> {
        crate::suite::sample::nginx_unit("nginx runs", host)
    }

    fn failed(host: &str, found: &str) -> Arc<UnitResult> {
        Arc::new(UnitResult {
            unit: unit(host),
            status: UnitStatus::Failed,
            steps: vec![(
                StepResult::Failed(Outcome::fail("active (running)", found)),
                Duration::ZERO,
            )],
            attempts: 1,
            duration: Duration::ZERO,
            earlier: Vec::new(),
            converging: None,
            since: None,
        })
    }

    #[test]
    fn five_alike_and_one_different() {
        let mut results: Vec<Arc<UnitResult>> = (1..=5)
            .map(|n| failed(&format!("web{n}"), &format!("inactive (dead) since {n}0 s on web{n}")))
            .collect();
        results.insert(2, failed("db1", "failed (exit code 1)"));
        let g = group(&results);
        assert_eq!(g.alike.len(), 1);
        let alike = &g.alike[0];
        assert_eq!(alike.units.len(), 5);
        assert_eq!(alike.result.unit.host.as_deref(), Some("web1-web5 (5 hosts)"));
        assert_eq!(
            alike.result.failure().and_then(|(_, s)| s.reason()),
            Some("expected active (running), found inactive (dead) since 10–50 s on <host>".into())
        );
        assert_eq!(g.alone.len(), 1);
        assert_eq!(g.alone[0].unit.host.as_deref(), Some("db1"));
    }

    #[test]
    fn all_different_makes_no_group() {
        let results = vec![
            failed("web1", "inactive (dead)"),
            failed("web2", "failed (exit code 1)"),
            failed("web3", "not installed"),
        ];
        let g = group(&results);
        assert!(!g.has_groups());
        let hosts: Vec<_> = g.alone.iter().filter_map(|r| r.unit.host.as_deref()).collect();
        assert_eq!(hosts, vec!["web1", "web2", "web3"]);
    }
}
