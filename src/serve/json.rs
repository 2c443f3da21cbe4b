//! The JSON body of `/healthz` (schema version 1, documented in the README):
//!
//! ```text
//! { "status": "pass" | "fail", "summary": "...", "run": 3, "finished_at": "RFC 3339",
//!   "duration_seconds": 1.2, "counts": { "scenarios", "passed", "failed", "skipped" },
//!   "problems": ["..."],
//!   "results": [ { "feature", "file", "line", "scenario", "host" (null without one),
//!                  "status": "passed" | "failed" | "timed_out" | "skipped",
//!                  "duration_seconds", "measured": [ { "label", "value", "unit" } ],
//!                  "failure": null | { "step", "expected", "found", "error" },
//!                  "history": { "change": "new_failure" | "still_failing" | "recovered"
//!                               | "passing", "since": "RFC 3339" | null } } ] }
//! ```
//!
//! `history` is what changed since the server's previous run (kept in memory for the life
//! of the server): `since` is when a still failing pair started failing, when a recovered
//! pair had started failing, when a passing pair started passing, and null for a new
//! failure (this run); `history` is absent on the server's first run and for a unit not run.
//!
//! Every text passes through the secret redaction.

use serde::Serialize;

use super::Snapshot;
use crate::event::{Since, UnitResult, UnitStatus};
use crate::outcome::StepResult;
use crate::report::target::scrub;
use crate::report::{feature_title, step_title};

#[derive(Serialize)]
struct Health<'a> {
    status: &'a str,
    summary: String,
    run: u64,
    finished_at: String,
    duration_seconds: f64,
    counts: Counts,
    problems: Vec<String>,
    results: Vec<UnitJson>,
}

#[derive(Serialize)]
struct Counts {
    scenarios: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct UnitJson {
    feature: String,
    file: String,
    line: usize,
    scenario: String,
    host: Option<String>,
    status: &'static str,
    duration_seconds: f64,
    measured: Vec<Measured>,
    failure: Option<Failure>,
    /// Absent without a history (the server's first run, a unit not run): the document is
    /// then exactly as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<History>,
}

#[derive(Serialize)]
struct History {
    change: &'static str,
    since: Option<String>,
}

#[derive(Serialize)]
struct Measured {
    label: String,
    value: f64,
    unit: String,
}

#[derive(Serialize)]
struct Failure {
    step: String,
    expected: Option<String>,
    found: Option<String>,
    error: Option<String>,
}

/// The JSON document for a run.
pub fn render(snap: &Snapshot) -> String {
    let s = &snap.summary;
    let doc = Health {
        status: if snap.healthy() { "pass" } else { "fail" },
        summary: scrub(&snap.summary_line()),
        run: snap.number,
        finished_at: rfc3339(snap.finished_at),
        duration_seconds: s.duration.as_secs_f64(),
        counts: Counts {
            scenarios: s.results.len(),
            passed: s.count(UnitStatus::Passed),
            failed: s.failed(),
            skipped: s.count(UnitStatus::Skipped),
        },
        problems: snap.problems.iter().map(|p| scrub(p)).collect(),
        results: s.results.iter().map(|r| result(r)).collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

fn result(r: &UnitResult) -> UnitJson {
    let unit = &r.unit;
    UnitJson {
        feature: scrub(&feature_title(&unit.feature)),
        file: unit.feature.path.display().to_string(),
        line: unit.scenario.line,
        scenario: scrub(&unit.scenario.title()),
        host: unit.host.clone(),
        status: status_word(r.status),
        duration_seconds: r.duration.as_secs_f64(),
        measured: r
            .steps
            .iter()
            .flat_map(|(s, _)| s.measured())
            .map(|m| Measured {
                label: m.label.clone(),
                value: m.value,
                unit: m.unit.clone(),
            })
            .collect(),
        failure: failure(r),
        history: r.since.map(|s| match s {
            Since::NewFailure => History {
                change: "new_failure",
                since: None,
            },
            Since::StillFailing { since } => History {
                change: "still_failing",
                since: Some(rfc3339(since)),
            },
            Since::Recovered { failing_since } => History {
                change: "recovered",
                since: Some(rfc3339(failing_since)),
            },
            Since::Passing { since } => History {
                change: "passing",
                since: Some(rfc3339(since)),
            },
        }),
    }
}

/// `passed`, `failed`, `timed_out`, `skipped` (also the metrics' `status` label).
pub fn status_word(status: UnitStatus) -> &'static str {
    match status {
        UnitStatus::Passed => "passed",
        UnitStatus::Failed => "failed",
        UnitStatus::TimedOut => "timed_out",
        UnitStatus::Skipped => "skipped",
    }
}

fn failure(r: &UnitResult) -> Option<Failure> {
    if matches!(r.status, UnitStatus::Passed | UnitStatus::Skipped) {
        return None;
    }
    let Some((index, step)) = r.failure() else {
        return Some(Failure {
            step: String::new(),
            expected: None,
            found: None,
            error: Some("not finished: the run deadline (--timeout) fired".into()),
        });
    };
    let step_text = scrub(&step_title(&r.unit, index));
    Some(match step {
        StepResult::Failed(o) => Failure {
            step: step_text,
            expected: Some(scrub(&o.expected)),
            found: Some(scrub(&o.found)),
            error: None,
        },
        other => Failure {
            step: step_text,
            expected: None,
            found: None,
            error: other.reason().map(|e| scrub(&e)),
        },
    })
}

/// `2026-11-23T11:20:00Z` (seconds precision).
pub fn rfc3339(at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).to_string()
}
