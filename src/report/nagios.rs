//! The Nagios/Icinga plugin output of `shakedown check`, per the Monitoring Plugins
//! development guidelines: one status line `SHAKEDOWN <STATE> - <summary> | <perfdata>`
//! (all perfdata there), then one long-output line per failed scenario, no `|` anywhere
//! else, the whole under 4 KB (long output truncated with a count of what was left out).
//! The state is a pure function of the run summary ([`state`]).

use std::io::Write;
use std::time::Duration;

use super::perfdata::Perf;
use super::{Report, ReportError};
use crate::error::ExitStatus;
use crate::event::{Event, RunSummary, UnitResult, UnitStatus};
use crate::inventory::secret::redact;
use crate::outcome::StepResult;

/// Largest output, in bytes (the guidelines' 4 KB, with room to spare).
pub const MAX_OUTPUT: usize = 4000;
/// Largest first line (status and perfdata); perfdata items beyond it are left out.
const MAX_FIRST_LINE: usize = 3000;
/// Longest single long-output line, in characters.
const MAX_LINE: usize = 400;
/// Failed scenarios named on the status line.
const NAMED_ON_STATUS: usize = 3;

/// A plugin state; the exit status is its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Everything passed.
    Ok = 0,
    /// Only `@warning` scenarios failed.
    Warning = 1,
    /// A scenario failed.
    Critical = 2,
    /// Bad input, timeout, interrupted, or no scenario selected.
    Unknown = 3,
}

impl State {
    /// `OK`, `WARNING`, `CRITICAL`, `UNKNOWN`.
    pub fn word(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// The process exit status for this state (CLI.md "Exit status", `check` row).
    pub fn exit_status(self) -> ExitStatus {
        match self {
            State::Ok => ExitStatus::Ok,
            State::Warning => ExitStatus::Failed,
            State::Critical => ExitStatus::BadInput,
            State::Unknown => ExitStatus::Unknown,
        }
    }
}

/// The state of a finished run: UNKNOWN when nothing was selected or the run did not
/// finish (deadline, SIGTERM), CRITICAL when a scenario failed, WARNING when only
/// `@warning` scenarios failed, OK otherwise.
pub fn state(summary: &RunSummary) -> State {
    if summary.results.is_empty() || summary.deadline_hit || summary.interrupted {
        return State::Unknown;
    }
    let failed: Vec<&UnitResult> = summary
        .results
        .iter()
        .map(AsRef::as_ref)
        .filter(|r| is_failed(r))
        .collect();
    if failed.is_empty() {
        State::Ok
    } else if failed.iter().all(|r| is_warning(r)) {
        State::Warning
    } else {
        State::Critical
    }
}

fn is_failed(r: &UnitResult) -> bool {
    matches!(r.status, UnitStatus::Failed | UnitStatus::TimedOut)
}

fn is_warning(r: &UnitResult) -> bool {
    r.unit
        .scenario
        .tags
        .iter()
        .any(|t| t.trim_start_matches('@') == "warning")
}

/// The state of one failed unit's long-output line.
fn unit_state(r: &UnitResult) -> State {
    if r.status == UnitStatus::TimedOut {
        State::Unknown
    } else if is_warning(r) {
        State::Warning
    } else {
        State::Critical
    }
}

/// The Nagios report: prints the plugin output to stdout in `finish`.
pub struct Nagios {
    timeout: Option<Duration>,
}

impl Nagios {
    /// A report for a run limited by `timeout` (named in the UNKNOWN status line).
    pub fn new(timeout: Option<Duration>) -> Self {
        Nagios { timeout }
    }
}

impl Report for Nagios {
    fn on_event(&mut self, _event: &Event) {}

    fn finish(self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError> {
        let (_, text) = output(summary, self.timeout, &[]);
        print(&text).map_err(|source| ReportError {
            report: "Nagios",
            target: "stdout".into(),
            source,
        })
    }
}

/// Writes plugin output to stdout.
pub fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// The state and the whole plugin output of a run. `problems` (reports that could not be
/// written) are added as long output and turn OK into UNKNOWN.
pub fn output(summary: &RunSummary, timeout: Option<Duration>, problems: &[String]) -> (State, String) {
    let mut state = state(summary);
    if !problems.is_empty() && state == State::Ok {
        state = State::Unknown;
    }
    let status = format!("SHAKEDOWN {} - {}", state.word(), status_text(summary, timeout));
    let mut perf = vec![
        Perf::count("scenarios", summary.results.len()),
        Perf::count("passed", summary.count(UnitStatus::Passed)),
        Perf::count("failed", summary.failed()),
        Perf::count("skipped", summary.count(UnitStatus::Skipped)),
        Perf::seconds("time", (summary.duration.as_secs_f64() * 1000.0).round() / 1000.0),
    ];
    perf.extend(measured(summary));
    let mut long: Vec<String> = problems.iter().map(|p| format!("UNKNOWN {p}")).collect();
    let cut = stop_reason(summary, timeout);
    long.extend(
        summary
            .results
            .iter()
            .filter(|r| is_failed(r))
            .map(|r| failure_line(r, &cut)),
    );
    (state, assemble(&status, &perf, &long, "failed scenarios"))
}

/// Plugin output for input that stopped the run before it started: UNKNOWN, the first
/// problem on the status line, the others as long output.
pub fn bad_input(problems: &[String]) -> String {
    let first = problems.first().map(String::as_str).unwrap_or("bad input");
    let long: Vec<String> = problems.iter().skip(1).cloned().collect();
    assemble(&format!("SHAKEDOWN UNKNOWN - {first}"), &[], &long, "more problems")
}

fn status_text(summary: &RunSummary, timeout: Option<Duration>) -> String {
    let total = summary.results.len();
    if total == 0 {
        return "no scenario selected (check the paths, --tags, --name, --hosts and --partition)".into();
    }
    let failed = summary.failed();
    let secs = summary.duration.as_secs_f64();
    if summary.deadline_hit || summary.interrupted {
        let why = stop_reason(summary, timeout);
        let finished = total - summary.count(UnitStatus::TimedOut);
        let early = summary.count(UnitStatus::Failed);
        let mut text = format!("{why}: {finished} of {} finished", plural(total, "scenario"));
        if early > 0 {
            text.push_str(&format!(
                ", {early} failed: {}",
                first_names(summary, |r| r.status == UnitStatus::Failed)
            ));
        }
        return text;
    }
    if failed == 0 {
        let hosts = summary.hosts().len();
        return format!(
            "{} passed on {} in {secs:.1}s",
            plural(total, "scenario"),
            plural(hosts, "host")
        );
    }
    format!(
        "{failed} of {} failed: {}",
        plural(total, "scenario"),
        first_names(summary, is_failed)
    )
}

/// Why the run stopped before every unit finished.
fn stop_reason(summary: &RunSummary, timeout: Option<Duration>) -> String {
    match (summary.deadline_hit, timeout) {
        (true, Some(t)) => format!("run timed out after {} (--timeout)", humantime::format_duration(t)),
        (true, None) => "run timed out".to_string(),
        (false, _) => format!(
            "run interrupted ({})",
            crate::signal::received().unwrap_or("SIGINT/SIGTERM")
        ),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `Homepage is fast [web1], Disk has room [db1] and 3 more`.
fn first_names(summary: &RunSummary, pick: impl Fn(&UnitResult) -> bool) -> String {
    let names: Vec<String> = summary
        .results
        .iter()
        .filter(|r| pick(r))
        .map(|r| r.unit.display_name())
        .collect();
    let shown = names
        .iter()
        .take(NAMED_ON_STATUS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match names.len().saturating_sub(NAMED_ON_STATUS) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

/// `CRITICAL web1: Homepage is fast: response time 812 ms, expected under 500 ms (...)`.
/// A unit cut short says why the run stopped (`cut`), at the step it had reached.
fn failure_line(r: &UnitResult, cut: &str) -> String {
    let host = r.unit.host.as_deref().unwrap_or("-");
    let why = match r.failure() {
        Some((i, StepResult::Failed(o))) => {
            format!("{} ({})", o.found_then_expected(), step_at(r, i))
        }
        Some((i, StepResult::Error(_))) if r.status == UnitStatus::TimedOut => {
            format!("not finished: {cut} ({})", step_at(r, i))
        }
        Some((i, StepResult::Error(e))) => format!("could not check: {e} ({})", step_at(r, i)),
        _ => format!("not finished: {cut}"),
    };
    format!("{} {host}: {}: {why}", unit_state(r).word(), r.unit.scenario.title())
}

/// `features/web.feature:12: Then the page should load`.
fn step_at(r: &UnitResult, index: usize) -> String {
    let unit = &r.unit;
    match unit.scenario.steps.get(index) {
        Some(s) => format!("{}:{}: {}{}", unit.feature.path.display(), s.line, s.keyword, s.text),
        None => format!("{}:{}", unit.feature.path.display(), unit.scenario.line),
    }
}

/// Every measured value as perfdata, under labels that do not change when a step fails
/// (see [`super::perf_labels`]).
fn measured(summary: &RunSummary) -> Vec<Perf> {
    super::perf_labels::labelled(summary)
        .into_iter()
        .filter_map(|(label, m)| Perf::measured(&label, m.value, &m.unit, m.warn, m.crit))
        .collect()
}

/// One line of plugin text: secrets redacted, no `|`, no line breaks, at most `max` chars.
fn clean(text: &str, max: usize) -> String {
    let text: String = redact(text)
        .chars()
        .map(|c| match c {
            '|' => '¦',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Status line with all perfdata, then long output, under [`MAX_OUTPUT`] bytes: perfdata
/// items beyond [`MAX_FIRST_LINE`] and long-output lines beyond the limit are left out,
/// and a last line says how many.
fn assemble(status: &str, perf: &[Perf], long: &[String], what: &str) -> String {
    let mut first = clean(status, MAX_LINE);
    let mut items: Vec<String> = perf.iter().map(|p| redact(&p.to_string())).collect();
    let mut dropped_perf = 0;
    while !items.is_empty() && first.len() + 3 + items.join(" ").len() > MAX_FIRST_LINE {
        items.pop();
        dropped_perf += 1;
    }
    if !items.is_empty() {
        first = format!("{first} | {}", items.join(" "));
    }
    let mut out = first;
    out.push('\n');
    let reserve = 120;
    let mut shown = 0;
    for line in long {
        let line = clean(line, MAX_LINE);
        if out.len() + line.len() + 1 + reserve > MAX_OUTPUT {
            break;
        }
        out.push_str(&line);
        out.push('\n');
        shown += 1;
    }
    let left = long.len() - shown;
    let mut notes = Vec::new();
    if left > 0 {
        notes.push(format!("{left} {what} not shown"));
    }
    if dropped_perf > 0 {
        notes.push(format!("{dropped_perf} perfdata values left out"));
    }
    if !notes.is_empty() {
        out.push_str(&format!("... {} (output limited to 4 KB)\n", notes.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_pipes_and_line_breaks() {
        assert_eq!(clean("a|b\nc", 100), "a¦b c");
        assert_eq!(clean("abcdef", 4), "abc…");
    }

    #[test]
    fn assemble_keeps_under_4k_and_counts_what_it_left_out() {
        let long: Vec<String> = (0..200)
            .map(|i| format!("CRITICAL web{i}: Scenario {i}: {}", "x".repeat(60)))
            .collect();
        let perf: Vec<Perf> = (0..400)
            .filter_map(|i| {
                Perf::measured(
                    &format!("web{i} time"),
                    1.0,
                    "ms",
                    None,
                    Some(super::super::perfdata::Range::up_to(5.0)),
                )
            })
            .collect();
        let out = assemble(
            "SHAKEDOWN CRITICAL - 200 of 200 scenarios failed",
            &perf,
            &long,
            "failed scenarios",
        );
        assert!(out.len() < 4096, "{} bytes", out.len());
        let last = out.lines().last().expect("lines");
        assert!(last.contains("failed scenarios not shown"), "{last}");
        assert!(last.contains("perfdata values left out"), "{last}");
        assert_eq!(out.matches('|').count(), 1);
        assert_eq!(out.lines().next().map(|l| l.len() <= MAX_FIRST_LINE), Some(true));
    }

    #[test]
    fn bad_input_is_unknown_with_the_error_on_the_status_line() {
        let out = bad_input(&["f.feature:3:5: undefined step \"x|y\"".into(), "second".into()]);
        assert_eq!(
            out,
            "SHAKEDOWN UNKNOWN - f.feature:3:5: undefined step \"x¦y\"\nsecond\n"
        );
    }
}
