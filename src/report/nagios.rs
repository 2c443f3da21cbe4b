//! The Nagios/Icinga plugin output of `shakedown check`, per the Monitoring Plugins
//! development guidelines: one status line `SHAKEDOWN <STATE> - <summary> | <perfdata>`
//! (all perfdata there), then one long-output line per failed scenario (one per kind of
//! finding shared by several hosts, naming them: [`super::groups`]; with a state, marked
//! `[new]` or `[still failing since ...]`, new ones first, then the pairs that recovered:
//! [`super::since`]), no `|` anywhere
//! else, the whole under 4 KB (long output truncated with a count of what was left out).
//! The state is a pure function of the run summary ([`state`]). The output is built as a
//! structured [`PluginResult`] (state, status line, perfdata items, long-output lines, all
//! already cleaned and limited) that notify's passive results and serve read field by field;
//! [`PluginResult::render`] is the one place that joins it into plugin text.

use std::time::Duration;

use super::perfdata::Perf;
use super::target::{Target, scrub};
use super::{Report, ReportError};
use crate::event::{Event, RunSummary, UnitResult, UnitStatus};
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

    /// The plugin return code of the state (Monitoring Plugins guidelines: 0..3); what the
    /// process exits with is `commands`' decision.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The plugin output of a run as data: what `check` prints, what `serve` answers and what
/// notify sends as passive results, without anyone parsing text back. Every text is already
/// cleaned (secrets redacted, no `|`, no line breaks) and limited to the 4 KB of the
/// guidelines; [`PluginResult::render`] gives the text byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PluginResult {
    /// The state.
    pub state: State,
    /// The status line without perfdata: `SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: ...`.
    pub status: String,
    /// The perfdata items kept on the status line, each as written there.
    pub perfdata: Vec<String>,
    /// The long-output lines (one per failed scenario or problem), and the last line saying
    /// what was left out when the output was limited.
    pub long: Vec<String>,
}

impl PluginResult {
    /// The summary part of the status line: what follows `SHAKEDOWN <STATE> - `.
    pub(crate) fn summary(&self) -> &str {
        match self.status.split_once(" - ") {
            Some((_, rest)) => rest,
            None => &self.status,
        }
    }

    /// The plugin text: the status line, ` | ` and the perfdata when there is any, then each
    /// long-output line, every line ending in a newline.
    pub(crate) fn render(&self) -> String {
        let mut out = self.status.clone();
        if !self.perfdata.is_empty() {
            out.push_str(" | ");
            out.push_str(&self.perfdata.join(" "));
        }
        out.push('\n');
        for line in &self.long {
            out.push_str(line);
            out.push('\n');
        }
        out
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
    target: Target,
}

impl Nagios {
    /// A report for a run limited by `timeout` (named in the UNKNOWN status line).
    pub fn new(timeout: Option<Duration>) -> Self {
        Nagios {
            timeout,
            target: Target::stdout(NAME),
        }
    }
}

/// The report's name in errors.
const NAME: &str = "Nagios";

impl Report for Nagios {
    fn on_event(&mut self, _event: &Event) {}

    fn finish(mut self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError> {
        let text = result(summary, self.timeout, &[]).render();
        self.target.write(&text)
    }
}

/// Writes plugin output to stdout (through the report target, as every report does).
pub fn print(text: &str) -> Result<(), ReportError> {
    Target::stdout(NAME).write(text)
}

/// The state and the whole plugin output of a run as text (see [`result`]).
pub fn output(summary: &RunSummary, timeout: Option<Duration>, problems: &[String]) -> (State, String) {
    let r = result(summary, timeout, problems);
    (r.state, r.render())
}

/// The plugin output of a run. `problems` (reports that could not be written) are added as
/// long output and turn OK into UNKNOWN.
pub(crate) fn result(summary: &RunSummary, timeout: Option<Duration>, problems: &[String]) -> PluginResult {
    let mut state = state(summary);
    if !problems.is_empty() && state == State::Ok {
        state = State::Unknown;
    }
    let mut status = format!("SHAKEDOWN {} - {}", state.word(), status_text(summary, timeout));
    // What changed since the last run, with a state: `; 1 new failure, 1 recovered`.
    if let Some(counts) = super::since::counts_text(summary) {
        status.push_str(&format!("; {counts}"));
    }
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
    // A finding shared by several hosts is one line naming them, those first, then the
    // hosts that failed differently (see super::groups).
    // With a state (`--state`), each line says new or still failing (since when), new
    // failures first, then the pairs that recovered.
    let grouping = super::groups::group(&summary.results);
    let mut failures: Vec<(bool, String)> = grouping
        .alike
        .iter()
        .map(|g| {
            let mark = super::since::group_mark(&g.units);
            (is_new(mark.as_deref()), marked(failure_line(&g.result, &cut), mark))
        })
        .chain(grouping.alone.iter().map(|r| {
            let mark = super::since::failure_mark(r);
            (is_new(mark.as_deref()), marked(failure_line(r, &cut), mark))
        }))
        .collect();
    failures.sort_by_key(|(new, _)| !new);
    long.extend(failures.into_iter().map(|(_, line)| line));
    long.extend(super::since::recovered(summary).into_iter().map(|r| {
        format!(
            "OK {}: {}: {}",
            r.unit.host.as_deref().unwrap_or("-"),
            r.unit.scenario.title(),
            super::since::recovery_mark(r).unwrap_or_default()
        )
    }));
    assemble(state, &status, &perf, &long, "failed scenarios")
}

/// Whether a mark says a failure (or some hosts of a group) is new since the last run.
fn is_new(mark: Option<&str>) -> bool {
    mark.is_some_and(|m| m.starts_with("new"))
}

/// `line [mark]`, or the line as it is without a mark.
fn marked(line: String, mark: Option<String>) -> String {
    match mark {
        Some(m) => format!("{line} [{m}]"),
        None => line,
    }
}

/// Plugin output for input that stopped the run before it started: UNKNOWN, the first
/// problem on the status line, the others as long output.
pub fn bad_input(problems: &[String]) -> String {
    bad_input_result(problems).render()
}

/// The structured form of [`bad_input`].
pub(crate) fn bad_input_result(problems: &[String]) -> PluginResult {
    let first = problems.first().map(String::as_str).unwrap_or("bad input");
    let long: Vec<String> = problems.iter().skip(1).cloned().collect();
    assemble(
        State::Unknown,
        &format!("SHAKEDOWN UNKNOWN - {first}"),
        &[],
        &long,
        "more problems",
    )
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
    let grouping = super::groups::group(&summary.results);
    let names = if grouping.has_groups() {
        // A finding shared by several hosts is one name (`nginx runs [web1-web9 (9 hosts)]`),
        // those first, as in the long output.
        let names: Vec<String> = grouping
            .alike
            .iter()
            .map(|g| g.result.unit.display_name())
            .chain(grouping.alone.iter().map(|r| r.unit.display_name()))
            .collect();
        named(&names)
    } else {
        first_names(summary, is_failed)
    };
    format!("{failed} of {} failed: {names}", plural(total, "scenario"))
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
    named(&names)
}

/// The first [`NAMED_ON_STATUS`] of `names`, then `and N more`.
fn named(names: &[String]) -> String {
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

/// One line of plugin text: secrets redacted (before the cut, so no secret is cut in half
/// where the target could no longer find it), no `|`, no line breaks, at most `max` chars.
fn clean(text: &str, max: usize) -> String {
    let text: String = scrub(text)
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
fn assemble(state: State, status: &str, perf: &[Perf], long: &[String], what: &str) -> PluginResult {
    let status = clean(status, MAX_LINE);
    let mut items: Vec<String> = perf.iter().map(|p| scrub(&p.to_string())).collect();
    let mut dropped_perf = 0;
    while !items.is_empty() && status.len() + 3 + items.join(" ").len() > MAX_FIRST_LINE {
        items.pop();
        dropped_perf += 1;
    }
    // The bytes written so far: the first line and its newline, then each long line's.
    let mut written = status.len() + 1;
    if !items.is_empty() {
        written += 3 + items.join(" ").len();
    }
    let mut lines = Vec::new();
    let reserve = 120;
    let mut shown = 0;
    for line in long {
        let line = clean(line, MAX_LINE);
        if written + line.len() + 1 + reserve > MAX_OUTPUT {
            break;
        }
        written += line.len() + 1;
        lines.push(line);
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
        lines.push(format!("... {} (output limited to 4 KB)", notes.join(", ")));
    }
    PluginResult {
        state,
        status,
        perfdata: items,
        long: lines,
    }
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
            State::Critical,
            "SHAKEDOWN CRITICAL - 200 of 200 scenarios failed",
            &perf,
            &long,
            "failed scenarios",
        )
        .render();
        assert!(out.len() < 4096, "{} bytes", out.len());
        let last = out.lines().last().expect("lines");
        assert!(last.contains("failed scenarios not shown"), "{last}");
        assert!(last.contains("perfdata values left out"), "{last}");
        assert_eq!(out.matches('|').count(), 1);
        assert_eq!(out.lines().next().map(|l| l.len() <= MAX_FIRST_LINE), Some(true));
    }

    #[test]
    fn the_structured_result_renders_to_the_plugin_text() {
        let r = PluginResult {
            state: State::Critical,
            status: "SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: Home [web2]".into(),
            perfdata: vec!["scenarios=2".into(), "'web2 home time'=812ms;;500".into()],
            long: vec!["CRITICAL web2: Home: slow".into()],
        };
        assert_eq!(
            r.render(),
            "SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: Home [web2] | scenarios=2 'web2 home time'=812ms;;500\nCRITICAL web2: Home: slow\n"
        );
        assert_eq!(r.summary(), "1 of 2 scenarios failed: Home [web2]");
        let bare = PluginResult {
            perfdata: Vec::new(),
            long: Vec::new(),
            ..r
        };
        assert_eq!(
            bare.render(),
            "SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: Home [web2]\n"
        );
    }

    #[test]
    fn output_is_the_rendered_result() {
        let summary = RunSummary::default();
        let r = result(&summary, None, &["cannot write r.xml".into()]);
        assert_eq!(r.state, State::Unknown);
        assert_eq!(
            output(&summary, None, &["cannot write r.xml".into()]),
            (r.state, r.render())
        );
        assert_eq!(r.long, vec!["UNKNOWN cannot write r.xml"]);
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
