//! The console report: `pretty` (each scenario and host; a failure shows its steps with
//! expected and found), `progress` (an indicatif bar on stderr, failures printed as they
//! happen) and `quiet` (nothing when everything passed, for cron). Output for one unit is
//! printed whole when it finishes, so concurrent hosts never interleave.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::event::{Event, RunSummary, UnitResult, UnitStatus};
use crate::outcome::StepResult;

use super::target::{Target, scrub};
use super::{Report, ReportError};

/// Console report styles (`run --format`, mapped from the command line by `commands`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Every scenario and host; failing steps with expected/found.
    Pretty,
    /// A progress bar, failures as they happen.
    Progress,
    /// Nothing when every scenario passed; the failures otherwise (for cron).
    Quiet,
}

/// The console report.
pub struct Console {
    format: Format,
    color: bool,
    bar: Option<ProgressBar>,
    /// Failed units' text, kept to print again in the quiet report.
    failures: Vec<String>,
    target: Target,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

impl Console {
    /// A console report in this format.
    pub(crate) fn new(format: Format, color: bool) -> Self {
        Console {
            format,
            color,
            bar: None,
            failures: Vec::new(),
            target: Target::stdout("console"),
        }
    }

    fn style(&self) -> Style {
        Style { color: self.color }
    }

    /// The text of one finished unit: one line when it passed, its steps when it failed
    /// (secrets not yet redacted: the target, or [`failure_report`], does it).
    pub fn unit_text(result: &UnitResult, style_color: bool) -> String {
        let st = Style { color: style_color };
        let unit = &result.unit;
        let place = format!("{}:{}", unit.feature.path.display(), unit.scenario.line);
        let mut out = String::new();
        let head = match result.status {
            UnitStatus::Passed => {
                let converged = super::convergence_note(result)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                format!(
                    "{} {} {}",
                    st.green("✓"),
                    unit.display_name(),
                    st.dim(&format!("{}{converged}", secs(result.duration)))
                )
            }
            UnitStatus::Skipped => format!("- {} {}", unit.display_name(), st.dim("(not run)")),
            UnitStatus::Failed | UnitStatus::TimedOut => {
                let what = if result.status == UnitStatus::TimedOut {
                    "TIMED OUT"
                } else {
                    "FAILED"
                };
                format!(
                    "{} {} {} {}",
                    st.red("✗"),
                    st.red(&format!("{what}: {}", unit.display_name())),
                    st.dim(&place),
                    st.dim(&secs(result.duration))
                )
            }
        };
        out.push_str(&head);
        out.push('\n');
        if matches!(result.status, UnitStatus::Failed | UnitStatus::TimedOut) {
            if let Some(host) = &unit.host {
                out.push_str(&format!("    host: {host}\n"));
            }
            if let Some(note) = super::convergence_note(result) {
                out.push_str(&format!("    {note}\n"));
            } else if result.attempts > 1 {
                out.push_str(&format!("    attempts: {}\n", result.attempts));
            }
            for (i, (r, d)) in result.steps.iter().enumerate() {
                let step = &unit.scenario.steps[i];
                let text = format!("{}{}", step.keyword, step.text);
                let loc = format!("{}:{}", unit.feature.path.display(), step.line);
                match r {
                    StepResult::Passed(_) => {
                        out.push_str(&format!("    {} {text} {}\n", st.green("✓"), st.dim(&secs(*d))))
                    }
                    StepResult::Skipped => out.push_str(&format!("    {}\n", st.dim(&format!("- {text} (skipped)")))),
                    StepResult::Failed(o) => {
                        out.push_str(&format!("    {} {text} {}\n", st.red("✗"), st.dim(&loc)));
                        out.push_str(&o.expected_found_lines("        "));
                    }
                    StepResult::Error(e) => {
                        out.push_str(&format!("    {} {text} {}\n", st.red("✗"), st.dim(&loc)));
                        out.push_str(&format!("        error: {e}\n"));
                    }
                }
            }
        }
        out
    }

    fn emit(&mut self, text: &str) {
        match &self.bar {
            // A hidden bar (stderr is not a terminal) drops println: write directly then.
            Some(bar) if !bar.is_hidden() => bar.println(scrub(text).trim_end()),
            // A unit's text that cannot be written is not worth stopping for: the closing
            // text's error is reported.
            _ => drop(self.target.write(text)),
        }
    }
}

/// The closing summary line: counts, hosts and time.
pub fn summary_line(summary: &RunSummary) -> String {
    let total = summary.results.len();
    let passed = summary.count(UnitStatus::Passed);
    let failed = summary.count(UnitStatus::Failed);
    let timed_out = summary.count(UnitStatus::TimedOut);
    let skipped = summary.count(UnitStatus::Skipped);
    let mut parts = vec![format!("{passed} passed")];
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if timed_out > 0 {
        parts.push(format!("{timed_out} timed out"));
    }
    if skipped > 0 {
        parts.push(format!("{skipped} not run"));
    }
    let hosts = summary.hosts().len();
    format!(
        "{total} scenario{} ({}) on {hosts} host{} in {:.2}s",
        if total == 1 { "" } else { "s" },
        parts.join(", "),
        if hosts == 1 { "" } else { "s" },
        summary.duration.as_secs_f64()
    )
}

/// The failure report as the quiet report prints it, without colours: each failed unit
/// with its steps (expected/found), the `Failed:` list and the summary line. The body of
/// the `--mail-to` mail.
pub fn failure_report(summary: &RunSummary) -> String {
    let failures: Vec<String> = summary
        .results
        .iter()
        .filter(|r| matches!(r.status, UnitStatus::Failed | UnitStatus::TimedOut))
        .map(|r| Console::unit_text(r, false))
        .collect();
    let st = Style { color: false };
    if !super::groups::group(&summary.results).has_groups() {
        return scrub(&closing_text(&failures, summary, &st));
    }
    // Failures shared by several hosts: the grouped list first (what a reader of the mail
    // needs), then each failure host by host.
    let mut out = stop_notes(summary);
    out.push_str(failed_list(summary).trim_start_matches('\n'));
    out.push('\n');
    out.push_str(&counts_line(summary));
    out.push_str(&summary_line(summary));
    out.push_str("\n\nEach failure, host by host:\n\n");
    for f in &failures {
        out.push_str(f);
    }
    scrub(&out)
}

/// Why the run ended early, if it did.
fn stop_notes(summary: &RunSummary) -> String {
    let mut out = String::new();
    if summary.deadline_hit {
        out.push_str("\nthe run deadline (--timeout) fired: unfinished scenarios are reported as timed out\n");
    }
    if summary.interrupted {
        out.push_str("\nthe run was interrupted: unfinished scenarios are reported as timed out\n");
    }
    out
}

/// The `Failed:` list: a line per failure, `host path:line scenario: reason`. A finding
/// shared by several hosts is one line naming them (`web1-web5 (5 hosts) ...`, see
/// [`super::groups`]), those first, then the hosts that failed differently.
fn failed_list(summary: &RunSummary) -> String {
    let grouping = super::groups::group(&summary.results);
    // Each line with its mark from the state (`[new]`, `[still failing since ...]`).
    let lines: Vec<(&UnitResult, Option<String>)> = grouping
        .alike
        .iter()
        .map(|g| (&g.result, super::since::group_mark(&g.units)))
        .chain(
            grouping
                .alone
                .iter()
                .map(|r| (r.as_ref(), super::since::failure_mark(r))),
        )
        .filter(|(r, _)| r.failure().is_some() || r.status == UnitStatus::TimedOut)
        .collect();
    let mut out = String::new();
    if !lines.is_empty() {
        out.push_str("\nFailed:\n");
    }
    for (r, mark) in lines {
        let reason = r
            .failure()
            .and_then(|(_, s)| s.reason())
            .unwrap_or_else(|| "timed out".into());
        out.push_str(&format!(
            "  {} {}:{} {}: {}{}\n",
            r.unit.host.as_deref().unwrap_or("-"),
            r.unit.feature.path.display(),
            r.unit.scenario.line,
            r.unit.scenario.title(),
            reason,
            mark.map(|m| format!(" [{m}]")).unwrap_or_default()
        ));
    }
    out.push_str(&recovered_list(summary));
    out
}

/// The `Recovered:` list (with a state): a line per pair that failed the last time and
/// passes now, `host path:line scenario (failing since <when>)`.
fn recovered_list(summary: &RunSummary) -> String {
    let recovered = super::since::recovered(summary);
    if recovered.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nRecovered:\n");
    for r in recovered {
        let mark = super::since::recovery_mark(r).unwrap_or_default();
        out.push_str(&format!(
            "  {} {}:{} {} {}\n",
            r.unit.host.as_deref().unwrap_or("-"),
            r.unit.feature.path.display(),
            r.unit.scenario.line,
            r.unit.scenario.title(),
            mark.trim_start_matches("recovered ")
        ));
    }
    out
}

/// The `Converged:` list (`--until-pass`): a line per pair that passed after more than
/// one attempt, `host path:line scenario: converged after 14.2s, 4 attempts`, so that the
/// progress and quiet formats (which print no passed pair) say it too.
fn converged_list(summary: &RunSummary) -> String {
    let lines: Vec<String> = summary
        .results
        .iter()
        .filter(|r| r.status == UnitStatus::Passed)
        .filter_map(|r| {
            let note = super::convergence_note(r)?;
            Some(format!(
                "  {} {}:{} {}: {note}\n",
                r.unit.host.as_deref().unwrap_or("-"),
                r.unit.feature.path.display(),
                r.unit.scenario.line,
                r.unit.scenario.title(),
            ))
        })
        .collect();
    match lines.is_empty() {
        true => String::new(),
        false => format!("\nConverged:\n{}", lines.concat()),
    }
}

/// `since the last run: 2 new failures, 3 still failing (since ...), 1 recovered`, with its
/// newline (nothing without a state or with nothing to say).
fn counts_line(summary: &RunSummary) -> String {
    super::since::counts_text(summary)
        .map(|c| format!("since the last run: {c}\n"))
        .unwrap_or_default()
}

/// The end of the console report: the failed units' texts given, the deadline notes, the
/// `Failed:` list and the summary line.
fn closing_text(failures: &[String], summary: &RunSummary, st: &Style) -> String {
    let mut out = String::new();
    for f in failures {
        out.push_str(f);
    }
    out.push_str(&stop_notes(summary));
    out.push_str(&failed_list(summary));
    out.push_str(&converged_list(summary));
    let line = summary_line(summary);
    out.push('\n');
    out.push_str(&counts_line(summary));
    out.push_str(&if summary.all_passed() {
        st.green(&line)
    } else {
        st.red(&line)
    });
    out.push('\n');
    out
}

impl Report for Console {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted { total } if self.format == Format::Progress => {
                let bar = ProgressBar::new(*total as u64);
                bar.set_style(
                    ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios {elapsed}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                self.bar = Some(bar);
            }
            Event::ScenarioFinished { result, .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                let failed = matches!(result.status, UnitStatus::Failed | UnitStatus::TimedOut);
                let text = Self::unit_text(result, self.color);
                match self.format {
                    Format::Pretty => self.emit(&text),
                    Format::Progress if failed => self.emit(&text),
                    Format::Quiet if failed => self.failures.push(text),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn finish(mut self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError> {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        // Quiet says nothing when all passed, unless a pair recovered (with a state): the
        // cron mail that said it broke then says it is fixed.
        if self.format == Format::Quiet && summary.all_passed() && super::since::recovered(summary).is_empty() {
            return Ok(());
        }
        let out = closing_text(&self.failures, summary, &self.style());
        self.target.write(&out)
    }
}
