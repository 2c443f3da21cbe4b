//! Reports: consumers of the run's [`Event`] stream. Streaming ones (the console) write as
//! events arrive; aggregating ones (JUnit, JSON, Nagios) collect and write in `finish`.
//! Reports never schedule and never decide exit statuses.
//!
//! Adding a report is one file and one entry in [`REGISTRY`]: the file implements [`Report`]
//! and writes only through a [`target::Target`] (which owns the file, opened before any host
//! is contacted, and redacts every text); the entry says how the report is asked for and
//! makes it from the [`Asked`] options of the command.

pub mod console;
pub mod cucumber_json;
pub(crate) mod groups;
pub(crate) mod html;
pub mod junit;
pub mod nagios;
pub mod perf_labels;
pub mod perfdata;
pub(crate) mod since;
pub mod target;

use std::sync::Arc;

use crate::event::{Event, RunSummary, UnitResult};
use crate::outcome::Measurement;
use crate::suite::{Feature, Unit};

/// A report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the {report} report to {target}: {source}")]
pub struct ReportError {
    /// Which report.
    pub report: &'static str,
    /// Where it was going.
    pub target: String,
    /// Why.
    pub source: std::io::Error,
}

/// One consumer of the event stream.
pub trait Report: Send {
    /// Sees every event, in order.
    fn on_event(&mut self, event: &Event);
    /// Called once at the end with the summary.
    fn finish(self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError>;
}

/// Every report of a run, fed the same events.
pub struct Reports {
    reports: Vec<Box<dyn Report>>,
}

impl Reports {
    /// The reports of this run, targets already opened.
    pub fn new(reports: Vec<Box<dyn Report>>) -> Self {
        Reports { reports }
    }

    /// Passes an event to every report.
    pub fn on_event(&mut self, event: &Event) {
        for r in &mut self.reports {
            r.on_event(event);
        }
    }

    /// Finishes every report; the first error is returned after all have been tried.
    pub fn finish(self, summary: &RunSummary) -> Result<(), ReportError> {
        let mut first = None;
        for r in self.reports {
            if let Err(e) = r.finish(summary) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// What a command asks of its reports: the options `commands` maps from the command line.
#[derive(Debug, Clone, Default)]
pub struct Asked {
    /// The console report's format and whether it uses colours (`run`).
    pub console: Option<(console::Format, bool)>,
    /// `--junit FILE`.
    pub junit: Option<std::path::PathBuf>,
    /// `--json FILE`.
    pub json: Option<std::path::PathBuf>,
    /// `--html FILE` (one file, inline style) or `--html DIR/` (index.html and its
    /// stylesheet).
    pub html: Option<std::path::PathBuf>,
    /// The Nagios plugin output on stdout, for a run limited by this deadline (a report
    /// for commands that print nothing else; `check` prints its own, with its problems).
    pub nagios: Option<Option<std::time::Duration>>,
}

/// One kind of report: its name, how it is asked for, and how it is made.
pub struct Entry {
    /// The report's name (in errors and documentation).
    pub name: &'static str,
    /// How a command asks for it.
    pub asked_by: &'static str,
    /// Makes the report when `asked` asks for it (`None` otherwise), its target opened.
    pub make: fn(&Asked) -> Made,
}

/// What an [`Entry`] makes: nothing when not asked for, else the report or why its target
/// could not be opened.
pub type Made = Option<Result<Box<dyn Report>, ReportError>>;

/// Every report, in the order their output is written (public, like [`Entry`], so that
/// documentation and tests can list the reports).
pub const REGISTRY: &[Entry] = &[
    Entry {
        name: "console",
        asked_by: "run (always; --format, --no-color)",
        make: |a| {
            a.console
                .map(|(format, color)| Ok(Box::new(console::Console::new(format, color)) as Box<dyn Report>))
        },
    },
    Entry {
        name: "JUnit",
        asked_by: "--junit FILE",
        make: |a| {
            a.junit
                .as_deref()
                .map(|p| junit::Junit::create(p).map(|r| Box::new(r) as Box<dyn Report>))
        },
    },
    Entry {
        name: "Cucumber JSON",
        asked_by: "--json FILE",
        make: |a| {
            a.json
                .as_deref()
                .map(|p| cucumber_json::CucumberJson::create(p).map(|r| Box::new(r) as Box<dyn Report>))
        },
    },
    Entry {
        name: "HTML",
        asked_by: "--html FILE or --html DIR/",
        make: |a| {
            a.html
                .as_deref()
                .map(|p| html::Html::create(p).map(|r| Box::new(r) as Box<dyn Report>))
        },
    },
    Entry {
        name: "Nagios",
        asked_by: "the Nagios plugin output on stdout",
        make: |a| {
            a.nagios
                .map(|t| Ok(Box::new(nagios::Nagios::new(t)) as Box<dyn Report>))
        },
    },
];

/// The reports `asked` asks for, from [`REGISTRY`], their files opened now (before any host
/// is contacted: a bad path is bad input).
pub(crate) fn open(asked: &Asked) -> Result<Reports, ReportError> {
    let mut list = Vec::new();
    for entry in REGISTRY {
        if let Some(report) = (entry.make)(asked) {
            list.push(report?);
        }
    }
    Ok(Reports::new(list))
}

/// Under `--until-pass`, what became of a pair ([`UnitResult::converging`]): `converged
/// after 14.2s, 4 attempts` when it needed more than one, `did not converge in 30.1s, 9
/// attempts` when it never passed; `None` for a pair that passed at once, one not run, and
/// without the option. The console and JUnit say it with these words.
pub(crate) fn convergence_note(result: &UnitResult) -> Option<String> {
    let took = result.converging?;
    let attempts = match result.attempts {
        1 => "1 attempt".to_string(),
        n => format!("{n} attempts"),
    };
    use crate::event::UnitStatus;
    match result.status {
        UnitStatus::Passed if result.attempts > 1 => {
            Some(format!("converged after {:.1}s, {attempts}", took.as_secs_f64()))
        }
        UnitStatus::Failed | UnitStatus::TimedOut => {
            Some(format!("did not converge in {:.1}s, {attempts}", took.as_secs_f64()))
        }
        _ => None,
    }
}

/// Why the earlier attempts of a retried unit failed, read from its result:
/// `attempt 1 failed: <step>: <why>` per earlier attempt (the first failure of each).
pub(crate) fn retry_notes(result: &UnitResult) -> Vec<String> {
    result
        .earlier
        .iter()
        .enumerate()
        .map(|(i, attempt)| {
            let why = attempt
                .failure()
                .map(|(index, r)| {
                    format!(
                        "{}: {}",
                        step_title(&result.unit, index),
                        r.reason().unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| "failed".into());
            format!("attempt {} failed: {why}", i + 1)
        })
        .collect()
}

/// The results grouped by feature, features in first-seen (plan) order.
pub fn by_feature(summary: &RunSummary) -> Vec<Vec<&Arc<UnitResult>>> {
    let mut groups: Vec<Vec<&Arc<UnitResult>>> = Vec::new();
    for r in &summary.results {
        match groups
            .iter_mut()
            .find(|g| Arc::ptr_eq(&g[0].unit.feature, &r.unit.feature))
        {
            Some(g) => g.push(r),
            None => groups.push(vec![r]),
        }
    }
    groups
}

/// A feature's name, or its file name when it has none.
pub fn feature_title(feature: &Feature) -> String {
    if feature.name.trim().is_empty() {
        feature
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "features".into())
    } else {
        feature.name.clone()
    }
}

/// The title of each feature group of [`by_feature`], unique in the run: the feature's
/// [`feature_title`], followed by ` (path)` (the file's path without `.feature`) when another
/// file of the run has a feature of the same title. JUnit suites and classnames, and Cucumber
/// JSON ids, are made from it, so two files that share a Feature name never give two tests
/// the same name (GitLab keeps one of them, Jenkins merges them). Depends on the files of the
/// run only, never on results.
pub fn unique_feature_titles(groups: &[Vec<&Arc<UnitResult>>]) -> Vec<String> {
    let titles: Vec<String> = groups.iter().map(|g| feature_title(&g[0].unit.feature)).collect();
    titles
        .iter()
        .zip(groups)
        .map(|(title, g)| {
            if titles.iter().filter(|t| *t == title).count() == 1 {
                return title.clone();
            }
            let path = &g[0].unit.feature.path;
            let shown = if path.extension().is_some_and(|e| e == "feature") {
                path.with_extension("")
            } else {
                path.clone()
            };
            format!("{title} ({})", shown.display())
        })
        .collect()
}

/// `Then the page should load (features/web.feature:12)`: a step as an operator finds it.
pub fn step_title(unit: &Unit, index: usize) -> String {
    match unit.scenario.steps.get(index) {
        Some(step) => format!(
            "{}{} ({}:{})",
            step.keyword,
            step.text,
            unit.feature.path.display(),
            step.line
        ),
        None => format!(
            "step {} ({}:{})",
            index + 1,
            unit.feature.path.display(),
            unit.scenario.line
        ),
    }
}

/// `response time = 812 ms`: one measured value on one line.
pub fn measured_line(m: &Measurement) -> String {
    let value = number(m.value);
    if m.unit.is_empty() {
        format!("{} = {value}", m.label)
    } else {
        format!("{} = {value} {}", m.label, m.unit)
    }
}

pub use crate::outcome::number;
