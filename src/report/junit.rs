//! The JUnit XML report (`--junit FILE`) for Jenkins and GitLab, written with the
//! `junit-report` crate: one `<testsuite>` per feature, one `<testcase>` per scenario × host
//! (final attempt only), named `Scenario [host]` (unique within its suite: GitLab keeps only
//! the first of duplicate names), `classname` = feature name without dots (Jenkins splits
//! classname at the last dot), followed by ` (path)` when two files of the run share a
//! feature name ([`super::unique_feature_titles`]), so `classname` + `name` is unique across
//! files too; `file` = feature path. A failed check is a `<failure>`, a step
//! that could not check (or a run that timed out) an `<error>`, a scenario not run a
//! `<skipped/>`. Measured values go into `<system-out>` (one `label = value unit` line each)
//! beside the step log, where Jenkins and GitLab show them; retries are noted there too, and
//! with a state (`--state`) what changed since the last run (`since the last run: new
//! failure`, `... still failing since <when>`, `... recovered (failing since <when>)`).

use std::path::Path;

use junit_report::{OffsetDateTime, Report as JunitReport, TestCase, TestCaseBuilder, TestSuite};

use super::target::{Target, scrub};
use super::{Report, ReportError};
use crate::event::{Event, RunSummary, UnitResult, UnitStatus};
use crate::outcome::StepResult;

/// The JUnit report: writes the file in `finish`.
pub struct Junit {
    target: Target,
    meta: Meta,
}

/// What the XML says about the run itself (fixed in golden tests).
#[derive(Debug, Clone)]
pub struct Meta {
    /// When the run started (the report is created just before the run).
    pub started: OffsetDateTime,
    /// The machine shakedown ran on (`hostname` attribute of each testsuite).
    pub hostname: String,
}

impl Meta {
    /// Now, on this machine.
    pub fn now() -> Self {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        Meta {
            started: OffsetDateTime::now_utc(),
            hostname,
        }
    }
}

impl Junit {
    /// Opens (creates) `path` now, before any host is contacted, so a bad path is bad input.
    pub fn create(path: &Path) -> Result<Self, ReportError> {
        Ok(Junit {
            target: Target::file("JUnit", path)?,
            meta: Meta::now(),
        })
    }

    /// The same report with a fixed start time and machine name (golden tests).
    pub fn with_meta(mut self, meta: Meta) -> Self {
        self.meta = meta;
        self
    }
}

impl Report for Junit {
    fn on_event(&mut self, _event: &Event) {}

    fn finish(mut self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError> {
        let xml = render(summary, &self.meta);
        self.target.write(&xml)
    }
}

/// The whole XML document for a run (pure: golden tests call it).
pub fn render(summary: &RunSummary, meta: &Meta) -> String {
    let mut report = JunitReport::new();
    let groups = super::by_feature(summary);
    let titles = super::unique_feature_titles(&groups);
    for (results, title) in groups.into_iter().zip(titles) {
        let feature = &results[0].unit.feature;
        let suite_name = clean(&title);
        let mut suite = TestSuite::new(&suite_name);
        suite.set_timestamp(meta.started);
        suite.hostname = clean(&meta.hostname);
        let names = unique_names(&results);
        let classname = clean(&suite_name.replace('.', "_"));
        for (result, name) in results.iter().zip(names) {
            let mut case = testcase(result, &name);
            case.set_classname(&classname);
            case.set_filepath(&clean(&feature.path.display().to_string()));
            suite.add_testcase(case);
        }
        report.add_testsuite(suite);
    }
    let mut out = Vec::new();
    if let Err(e) = report.write_xml(&mut out) {
        // Writing into a Vec cannot fail for I/O; a formatting error is a bug worth seeing.
        return format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><!-- {} --><testsuites/>",
            clean(&e.to_string())
        );
    }
    let mut xml = String::from_utf8_lossy(&out).into_owned();
    xml.push('\n');
    xml
}

/// `Scenario [host]`, made unique within the suite with the scenario's line when two
/// scenarios share a name (outline rows without placeholders in the name).
fn unique_names(results: &[&std::sync::Arc<UnitResult>]) -> Vec<String> {
    let plain: Vec<String> = results.iter().map(|r| r.unit.display_name()).collect();
    plain
        .iter()
        .zip(results)
        .map(|(name, r)| {
            if plain.iter().filter(|n| *n == name).count() == 1 {
                return clean(name);
            }
            let with_line = format!("{} (line {})", r.unit.scenario.title(), r.unit.scenario.line);
            clean(&match &r.unit.host {
                Some(h) => format!("{with_line} [{h}]"),
                None => with_line,
            })
        })
        .collect()
}

fn testcase(result: &UnitResult, name: &str) -> TestCase {
    let time = junit_report::Duration::seconds_f64(result.duration.as_secs_f64());
    let failure = result.failure();
    let mut builder = match (result.status, failure) {
        (UnitStatus::Passed, _) => TestCaseBuilder::success(name, time),
        (UnitStatus::Skipped, _) => TestCaseBuilder::skipped(name),
        (_, Some((i, StepResult::Failed(o)))) => {
            let message = format!("{}: {}", super::step_title(&result.unit, i), o.expected_then_found());
            let mut b = TestCaseBuilder::failure(name, time, "check failed", &clean(&message));
            b.set_trace(&cdata(&failure_detail(result, i)));
            b
        }
        (status, Some((i, StepResult::Error(e)))) => {
            let kind = if status == UnitStatus::TimedOut {
                "timed out"
            } else {
                "could not check"
            };
            let message = format!("{}: {e}", super::step_title(&result.unit, i));
            let mut b = TestCaseBuilder::error(name, time, kind, &clean(&message));
            b.set_trace(&cdata(&failure_detail(result, i)));
            b
        }
        (_, _) => TestCaseBuilder::error(name, time, "timed out", "not finished"),
    };
    builder.set_system_out(&cdata(&system_out(result)));
    builder.build()
}

/// The failing step in full, as the console shows it.
fn failure_detail(result: &UnitResult, index: usize) -> String {
    let unit = &result.unit;
    let mut out = format!("{}\n", super::step_title(unit, index));
    if let Some(host) = &unit.host {
        out.push_str(&format!("host:     {host}\n"));
    }
    match &result.steps[index].0 {
        StepResult::Failed(o) => out.push_str(&o.expected_found_lines("")),
        StepResult::Error(e) => out.push_str(&format!("error:    {e}\n")),
        _ => {}
    }
    out
}

/// The step log, measured values and retries of one unit.
fn system_out(result: &UnitResult) -> String {
    let unit = &result.unit;
    let mut out = String::new();
    if let Some(host) = &unit.host {
        out.push_str(&format!("host: {host}\n"));
    }
    // What changed since the last run (`--state`): in system-out, which Jenkins and GitLab
    // both show with the test case (neither shows testcase properties).
    if let Some(line) = super::since::line(result) {
        out.push_str(&line);
        out.push('\n');
    }
    if result.status == UnitStatus::Skipped {
        out.push_str("not run: the run stopped scheduling scenarios (--fail-fast)\n");
    }
    if let Some(note) = super::convergence_note(result) {
        out.push_str(&format!("{note} (--until-pass)\n"));
    }
    if result.attempts > 1 {
        out.push_str(&format!("attempts: {} (this report shows the last)\n", result.attempts));
        for note in super::retry_notes(result) {
            out.push_str(&format!("  {note}\n"));
        }
    }
    for (i, (r, d)) in result.steps.iter().enumerate() {
        let step = &unit.scenario.steps[i];
        let text = format!("{}{}", step.keyword, step.text);
        match r {
            StepResult::Passed(_) => out.push_str(&format!("passed  {text} ({:.3}s)\n", d.as_secs_f64())),
            StepResult::Failed(o) => {
                out.push_str(&format!("FAILED  {text} ({:.3}s)\n", d.as_secs_f64()));
                out.push_str(&o.expected_found_lines("        "));
            }
            StepResult::Error(e) => {
                out.push_str(&format!("ERROR   {text} ({:.3}s)\n        {e}\n", d.as_secs_f64()));
            }
            StepResult::Skipped => out.push_str(&format!("skipped {text}\n")),
        }
    }
    let measured: Vec<String> = result
        .steps
        .iter()
        .flat_map(|(r, _)| r.measured())
        .map(super::measured_line)
        .collect();
    if !measured.is_empty() {
        out.push_str("measured:\n");
        for line in measured {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Text safe in an XML 1.0 attribute: secrets redacted (before the crate escapes markup,
/// so a secret with a quote or `&` is still found), characters XML cannot carry dropped.
fn clean(text: &str) -> String {
    scrub(text)
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}'))
        .collect()
}

/// Text safe inside the crate's CDATA sections: [`clean`], and `]]>` split so the section
/// cannot end early.
fn cdata(text: &str) -> String {
    clean(text).replace("]]>", "]]]]><![CDATA[>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_control_characters_and_splits_cdata_ends() {
        assert_eq!(clean("a\u{1b}[31mb\u{0}c"), "a[31mbc");
        assert_eq!(cdata("x]]>y"), "x]]]]><![CDATA[>y");
        assert_eq!(clean("tab\tand\nnewline"), "tab\tand\nnewline");
    }
}
