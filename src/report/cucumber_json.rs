//! The Cucumber JSON report (`--json FILE`): the legacy array of features → elements →
//! steps that Cucumber report tools read, in the cucumber-ruby shape that
//! `@cucumber/cucumber-json-converter` validates (its schema forbids any other field). One
//! element per scenario × host, named `Scenario [host]`; ids unique across files (a feature
//! whose name another file of the run shares gets its path in its id, as in JUnit);
//! durations in nanoseconds; a step
//! that could not check is `failed` with its error; measured values of a failing step are
//! appended to its `error_message`.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::target::{Target, scrub};
use super::{Report, ReportError};
use crate::event::{Event, RunSummary, UnitResult};
use crate::outcome::StepResult;
use crate::suite::Step;

/// The Cucumber JSON report: writes the file in `finish`.
pub struct CucumberJson {
    target: Target,
}

impl CucumberJson {
    /// Opens (creates) `path` now, before any host is contacted, so a bad path is bad input.
    pub fn create(path: &Path) -> Result<Self, ReportError> {
        Ok(CucumberJson {
            target: Target::file("Cucumber JSON", path)?,
        })
    }
}

impl Report for CucumberJson {
    fn on_event(&mut self, _event: &Event) {}

    fn finish(mut self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError> {
        let text = render(summary);
        self.target.write(&text)
    }
}

#[derive(Serialize)]
struct Feature {
    uri: String,
    id: String,
    keyword: String,
    name: String,
    description: String,
    line: usize,
    tags: Vec<Tag>,
    elements: Vec<Element>,
}

#[derive(Serialize)]
struct Tag {
    name: String,
    line: usize,
}

#[derive(Serialize)]
struct Element {
    id: String,
    keyword: String,
    name: String,
    description: String,
    line: usize,
    #[serde(rename = "type")]
    kind: &'static str,
    tags: Vec<Tag>,
    steps: Vec<JsonStep>,
}

#[derive(Serialize)]
struct JsonStep {
    keyword: String,
    name: String,
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    doc_string: Option<DocString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows: Option<Vec<Row>>,
    #[serde(rename = "match")]
    matched: Match,
    result: StepOutcome,
}

#[derive(Serialize)]
struct DocString {
    value: String,
    line: usize,
}

#[derive(Serialize)]
struct Row {
    cells: Vec<String>,
}

#[derive(Serialize)]
struct Match {
    location: String,
}

#[derive(Serialize)]
struct StepOutcome {
    status: &'static str,
    duration: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

/// The whole JSON document for a run (pure: golden tests call it).
pub fn render(summary: &RunSummary) -> String {
    let groups = super::by_feature(summary);
    let titles = super::unique_feature_titles(&groups);
    let features: Vec<Feature> = groups
        .iter()
        .zip(&titles)
        .map(|(results, title)| feature(results, title))
        .collect();
    let mut value = serde_json::to_value(&features).unwrap_or_default();
    redact_strings(&mut value);
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| "[]".into()) + "\n"
}

/// Secrets redacted in every string (before escaping, so a secret with a quote is found).
fn redact_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = scrub(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_strings),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// One feature; `title` is unique in the run, so its id (and its elements' ids) are too.
fn feature(results: &[&Arc<UnitResult>], title: &str) -> Feature {
    let f = &results[0].unit.feature;
    let id = slug(title);
    Feature {
        uri: f.path.display().to_string(),
        id: id.clone(),
        keyword: f.keyword.clone(),
        name: f.name.clone(),
        description: f.description.clone(),
        line: f.line,
        tags: tags(&f.tags, f.line),
        elements: results.iter().map(|r| element(&id, r)).collect(),
    }
}

fn tags(names: &[String], keyword_line: usize) -> Vec<Tag> {
    // Our model keeps no tag lines: tags sit on the line above their keyword.
    let line = keyword_line.saturating_sub(1).max(1);
    names
        .iter()
        .map(|t| Tag {
            name: format!("@{}", t.trim_start_matches('@')),
            line,
        })
        .collect()
}

fn element(feature_id: &str, result: &UnitResult) -> Element {
    let unit = &result.unit;
    let sc = &unit.scenario;
    let mut id = format!("{feature_id};{};{}", slug(&sc.title()), sc.line);
    if let Some(h) = &unit.host {
        id.push(';');
        id.push_str(&slug(h));
    }
    Element {
        id,
        keyword: sc.keyword.clone(),
        name: unit.display_name(),
        description: String::new(),
        line: sc.line,
        kind: "scenario",
        tags: tags(&sc.tags, sc.line),
        steps: sc.steps.iter().enumerate().map(|(i, s)| step(result, i, s)).collect(),
    }
}

fn step(result: &UnitResult, index: usize, s: &Step) -> JsonStep {
    let (status, duration, error_message) = match result.steps.get(index) {
        Some((r, d)) => {
            let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
            match r {
                StepResult::Passed(_) => ("passed", ns, None),
                StepResult::Failed(o) => {
                    let lines = o.expected_found_lines("");
                    let mut msg = lines.strip_suffix('\n').unwrap_or(&lines).to_string();
                    if let Some(h) = &result.unit.host {
                        msg = format!("host:     {h}\n{msg}");
                    }
                    for m in &o.measured {
                        msg.push_str(&format!("\nmeasured: {}", super::measured_line(m)));
                    }
                    ("failed", ns, Some(msg))
                }
                StepResult::Error(e) => {
                    let host = result
                        .unit
                        .host
                        .as_deref()
                        .map(|h| format!(" on {h}"))
                        .unwrap_or_default();
                    ("failed", ns, Some(format!("could not check{host}: {e}")))
                }
                StepResult::Skipped => ("skipped", 0, None),
            }
        }
        None => ("skipped", 0, None),
    };
    let path = result.unit.feature.path.display();
    JsonStep {
        keyword: s.keyword.clone(),
        name: s.text.clone(),
        line: s.line,
        doc_string: s.doc_string.as_ref().map(|d| DocString {
            value: d.content.clone(),
            line: s.line + 1,
        }),
        rows: s
            .table
            .as_ref()
            .map(|t| t.iter().map(|r| Row { cells: r.clone() }).collect()),
        matched: Match {
            location: format!("{path}:{}", s.line),
        },
        result: StepOutcome {
            status,
            duration,
            error_message,
        },
    }
}

/// `homepage-is-fast`: lower case, runs of other characters as one `-`, as cucumber-ruby
/// makes ids.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slug_is_lower_case_with_single_dashes() {
        assert_eq!(slug("Homepage is fast (p95)"), "homepage-is-fast-p95");
        assert_eq!(slug("web1.example.com"), "web1-example-com");
    }
}
