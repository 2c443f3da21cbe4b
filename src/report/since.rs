//! The words every report uses for what changed since the last run (`--state`, see
//! `UnitResult::since`): a failure is `new` or `still failing since <when>`, a pair that
//! passes again `recovered (failing since <when>)`, and a run's counts read
//! `2 new failures, 3 still failing (since <earliest>), 1 recovered`. Without a state
//! (`since` is `None` everywhere) every function here says nothing, so the reports are
//! exactly as they were.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::event::{RunSummary, Since, UnitResult, UnitStatus};

/// `2026-12-03T20:15:22Z, 3h 12m ago`: a time, and how long ago (to the minute past an
/// hour, to the second below).
pub(crate) fn when(t: SystemTime) -> String {
    let ago = SystemTime::now().duration_since(t).unwrap_or_default();
    let rounded = if ago >= Duration::from_secs(3600) {
        Duration::from_secs(ago.as_secs() / 60 * 60)
    } else {
        Duration::from_secs(ago.as_secs())
    };
    format!(
        "{}, {} ago",
        humantime::format_rfc3339_seconds(t),
        humantime::format_duration(rounded)
    )
}

fn is_failed(r: &UnitResult) -> bool {
    matches!(r.status, UnitStatus::Failed | UnitStatus::TimedOut)
}

/// The mark of one failed unit: `new`, `still failing since <when>` (`None` without a state).
pub(crate) fn failure_mark(r: &UnitResult) -> Option<String> {
    match r.since? {
        Since::NewFailure => Some("new".into()),
        Since::StillFailing { since } => Some(format!("still failing since {}", when(since))),
        _ => None,
    }
}

/// The mark of failed units said together (a group of hosts failing alike): theirs when
/// all agree, else which hosts are new and since when the others have failed
/// (`new on web3, web5; still failing on 4 others since <when>`).
pub(crate) fn group_mark(units: &[&Arc<UnitResult>]) -> Option<String> {
    let marks: Vec<Option<Since>> = units.iter().map(|r| r.since).collect();
    if marks.iter().all(Option::is_none) {
        return None;
    }
    let new: Vec<String> = units
        .iter()
        .filter(|r| r.since == Some(Since::NewFailure))
        .map(|r| r.unit.host.clone().unwrap_or_else(|| "-".into()))
        .collect();
    let earliest = units
        .iter()
        .filter_map(|r| match r.since {
            Some(Since::StillFailing { since }) => Some(since),
            _ => None,
        })
        .min();
    match (new.len(), earliest) {
        (0, Some(t)) => Some(format!("still failing since {}", when(t))),
        (_, None) => Some("new".into()),
        (_, Some(t)) => Some(format!(
            "new on {}; still failing on {} other{} since {}",
            super::groups::host_ranges(&new).join(", "),
            units.len() - new.len(),
            if units.len() - new.len() == 1 { "" } else { "s" },
            when(t)
        )),
    }
}

/// The mark of a unit that passes: `recovered (failing since <when>)`, else nothing.
pub(crate) fn recovery_mark(r: &UnitResult) -> Option<String> {
    match r.since? {
        Since::Recovered { failing_since } => Some(format!("recovered (failing since {})", when(failing_since))),
        _ => None,
    }
}

/// The line JUnit's `system-out` carries for a unit: `since the last run: new failure`,
/// `... still failing since <when>`, `... recovered (failing since <when>)`,
/// `... passing since <when>` (`None` without a state, or for a unit not run).
pub(crate) fn line(r: &UnitResult) -> Option<String> {
    let what = match r.since? {
        Since::NewFailure => "new failure".to_string(),
        Since::StillFailing { since } => format!("still failing since {}", when(since)),
        Since::Recovered { failing_since } => format!("recovered (failing since {})", when(failing_since)),
        Since::Passing { since } => format!("passing since {}", when(since)),
    };
    Some(format!("since the last run: {what}"))
}

/// The units that recovered, in plan order.
pub(crate) fn recovered(summary: &RunSummary) -> Vec<&Arc<UnitResult>> {
    summary
        .results
        .iter()
        .filter(|r| matches!(r.since, Some(Since::Recovered { .. })))
        .collect()
}

/// Counts of a run against the last: (new failures, still failing, the earliest time one
/// of those has failed since, recovered).
pub(crate) fn counts(summary: &RunSummary) -> (usize, usize, Option<SystemTime>, usize) {
    let failed = summary.results.iter().filter(|r| is_failed(r));
    let new = failed.clone().filter(|r| r.since == Some(Since::NewFailure)).count();
    let still: Vec<SystemTime> = failed
        .filter_map(|r| match r.since {
            Some(Since::StillFailing { since }) => Some(since),
            _ => None,
        })
        .collect();
    (new, still.len(), still.iter().min().copied(), recovered(summary).len())
}

/// `2 new failures, 3 still failing (since <when>), 1 recovered`: the parts that are not
/// zero; `None` when there is nothing to say (no state, or nothing failing nor recovered).
pub(crate) fn counts_text(summary: &RunSummary) -> Option<String> {
    let (new, still, earliest, recovered) = counts(summary);
    let mut parts = Vec::new();
    if new > 0 {
        parts.push(format!("{new} new failure{}", if new == 1 { "" } else { "s" }));
    }
    if still > 0 {
        let since = earliest.map(|t| format!(" (since {})", when(t))).unwrap_or_default();
        parts.push(format!("{still} still failing{since}"));
    }
    if recovered > 0 {
        parts.push(format!("{recovered} recovered"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Whether the run kept a state (some unit carries a `since`).
pub(crate) fn kept(summary: &RunSummary) -> bool {
    summary.results.iter().any(|r| r.since.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, StepResult};

    fn at(s: u64) -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(s)
    }

    /// A unit of `scenario` on `host` that ended `status` (failing as `found`), marked `since`.
    fn result(scenario: &str, host: &str, found: &str, since: Option<Since>) -> Arc<UnitResult> {
        let (status, step) = if found.is_empty() {
            (
                UnitStatus::Passed,
                StepResult::Passed(Outcome::pass("running", "running")),
            )
        } else {
            (UnitStatus::Failed, StepResult::Failed(Outcome::fail("running", found)))
        };
        Arc::new(UnitResult {
            unit: crate::suite::sample::nginx_unit(scenario, host),
            status,
            steps: vec![(step, Duration::ZERO)],
            attempts: 1,
            duration: Duration::ZERO,
            earlier: Vec::new(),
            converging: None,
            since,
        })
    }

    #[test]
    fn a_group_says_which_hosts_are_new_and_since_when_the_others_fail() {
        let still = Some(Since::StillFailing { since: at(100) });
        let new = Some(Since::NewFailure);
        let units = [
            result("nginx", "web1", "inactive", still),
            result("nginx", "web2", "inactive", new),
            result("nginx", "web3", "inactive", still),
        ];
        let refs: Vec<&Arc<UnitResult>> = units.iter().collect();
        let mark = group_mark(&refs).expect("a mark");
        assert!(
            mark.starts_with("new on web2; still failing on 2 others since 1970-01-01T00:01:40Z, "),
            "{mark}"
        );
        assert_eq!(group_mark(&refs[1..2]).as_deref(), Some("new"));
        let plain: Vec<Arc<UnitResult>> = units
            .iter()
            .map(|r| {
                let mut r = (**r).clone();
                r.since = None;
                Arc::new(r)
            })
            .collect();
        let refs: Vec<&Arc<UnitResult>> = plain.iter().collect();
        assert_eq!(group_mark(&refs), None, "no state, no words");
    }

    #[test]
    fn nagios_lists_new_failures_first_then_recoveries_and_counts_on_the_status_line() {
        let summary = RunSummary {
            results: vec![
                result("disk", "db1", "91%", Some(Since::StillFailing { since: at(100) })),
                result("nginx", "web2", "inactive", Some(Since::NewFailure)),
                result("haproxy", "lb1", "", Some(Since::Recovered { failing_since: at(50) })),
                result("ntp", "web1", "", Some(Since::Passing { since: at(10) })),
            ],
            ..RunSummary::default()
        };
        let out = super::super::nagios::result(&summary, None, &[]);
        assert!(
            out.status
                .contains("; 1 new failure, 1 still failing (since 1970-01-01T00:01:40Z, "),
            "{}",
            out.status
        );
        assert!(out.status.ends_with(" ago), 1 recovered"), "{}", out.status);
        assert!(
            out.long[0].starts_with("CRITICAL web2: nginx: ") && out.long[0].ends_with(" [new]"),
            "{:#?}",
            out.long
        );
        assert!(
            out.long[1].starts_with("CRITICAL db1: disk: ")
                && out.long[1].contains("[still failing since 1970-01-01T00:01:40Z, "),
            "{:#?}",
            out.long
        );
        assert!(
            out.long[2].starts_with("OK lb1: haproxy: recovered (failing since 1970-01-01T00:00:50Z, "),
            "{:#?}",
            out.long
        );
        assert_eq!(
            out.long.len(),
            3,
            "a pair passing as before is not named: {:#?}",
            out.long
        );
        assert_eq!(
            counts_text(&summary).map(|t| t.starts_with("1 new failure, 1 still failing (since ")),
            Some(true)
        );
        // Without a state: the output of before.
        let plain = RunSummary {
            results: summary
                .results
                .iter()
                .map(|r| {
                    let mut r = (**r).clone();
                    r.since = None;
                    Arc::new(r)
                })
                .collect(),
            ..RunSummary::default()
        };
        let out = super::super::nagios::result(&plain, None, &[]);
        assert!(
            !out.render().contains("new") && !out.render().contains("recovered"),
            "{}",
            out.render()
        );
        assert!(
            out.long[0].starts_with("CRITICAL db1: disk: "),
            "plan order: {:#?}",
            out.long
        );
    }
}
