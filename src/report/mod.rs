//! Reports: consumers of the run's [`Event`] stream. Streaming ones (the console) write as
//! events arrive; aggregating ones (JUnit, JSON, Nagios) collect and write in `finish`.
//! Reports never schedule and never decide exit statuses.

pub mod console;
pub mod cucumber_json;
pub mod junit;
pub mod nagios;
pub mod perf_labels;
pub mod perfdata;

use std::collections::HashMap;
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

/// Opens the file reports asked for (`--junit`, `--json`) before any host is contacted.
pub fn open_files(
    junit: Option<&std::path::Path>,
    json: Option<&std::path::Path>,
) -> Result<Vec<Box<dyn Report>>, ReportError> {
    let mut out: Vec<Box<dyn Report>> = Vec::new();
    if let Some(p) = junit {
        out.push(Box::new(junit::Junit::create(p)?));
    }
    if let Some(p) = json {
        out.push(Box::new(cucumber_json::CucumberJson::create(p)?));
    }
    Ok(out)
}

/// Why earlier attempts of retried units failed, gathered from the event stream (the
/// summary keeps only the final attempt): `attempt 1 failed: <step>: <why>` per unit id.
#[derive(Debug, Default)]
pub struct RetryNotes {
    /// First failure of the attempt in progress, per unit id.
    current: HashMap<String, String>,
    notes: HashMap<String, Vec<String>>,
}

impl RetryNotes {
    /// Follows one event.
    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::StepFinished {
                unit, index, result, ..
            } if result.is_failure() => {
                let why = result.reason().unwrap_or_default();
                self.current
                    .entry(unit.id.clone())
                    .or_insert_with(|| format!("{}: {why}", step_title(unit, *index)));
            }
            Event::ScenarioRetrying { unit, attempt } => {
                let why = self.current.remove(&unit.id).unwrap_or_else(|| "failed".into());
                let failed = attempt.saturating_sub(1);
                self.notes
                    .entry(unit.id.clone())
                    .or_default()
                    .push(format!("attempt {failed} failed: {why}"));
            }
            _ => {}
        }
    }

    /// The notes, per unit id.
    pub fn notes(&self) -> &HashMap<String, Vec<String>> {
        &self.notes
    }
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
