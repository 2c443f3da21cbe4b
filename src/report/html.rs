//! The HTML report (`--html FILE` or `--html DIR/`): the fleet at a glance, in one page a
//! browser, Jenkins' HTML Publisher and a GitLab artifact link open as is. No script, no
//! network, no external asset: a host × scenario matrix at the top (hosts as rows, scenarios
//! as numbered columns named in a list below it and in `title` attributes), each cell a
//! colour AND a symbol (`✓ ✗ ◷ ○ ·`, so it reads in greyscale and for colour-blind
//! readers), marked `N` new failure, `S` still failing, `R` recovered (from `--state`) and
//! `C` converged (from `--until-pass`); each failed cell a link to its failure details;
//! failures grouped by cause ([`super::groups`]) in "What failed"; the summary line, the
//! run's start and duration, and the command line (secrets redacted).
//!
//! Jenkins serves archived HTML with `Content-Security-Policy: sandbox; default-src 'none';
//! img-src 'self'; style-src 'self';`, which drops inline styles. So:
//! - `--html report.html` writes one file with an inline `<style>`: complete in a browser and
//!   from GitLab; under Jenkins' CSP the style is dropped and the page still reads as plain
//!   HTML (symbols, headings, a table);
//! - `--html DIR/` (an existing directory, or a path ending in `/`, created) writes
//!   `DIR/index.html` and `DIR/shakedown.css` linked with `<link rel="stylesheet">`, which
//!   meets that CSP fully.
//!
//! Never a `style=""` attribute, in either form. Every text is scrubbed of secrets before it
//! is escaped (an escaped secret would no longer match the target's own scrub).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};

use regex::Regex;

use super::target::{Target, scrub};
use super::{Report, ReportError};
use crate::event::{Event, RunSummary, Since, UnitResult, UnitStatus};
use crate::outcome::StepResult;

/// The stylesheet's file name beside `index.html` in the directory form.
pub(crate) const CSS_FILE: &str = "shakedown.css";

/// The HTML report: writes the page (and its stylesheet) in `finish`.
pub(crate) struct Html {
    page: Target,
    /// The stylesheet's target in the directory form; `None`: the style is inline.
    css: Option<Target>,
    meta: Meta,
}

/// What the page says about the run itself (fixed in tests).
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// When the run started (the report is created just before the run).
    pub started: SystemTime,
    /// The command line that produced the report, as the process received it.
    pub command: Vec<String>,
}

impl Meta {
    /// Now, with this process's command line.
    pub(crate) fn now() -> Self {
        Meta {
            started: SystemTime::now(),
            command: std::env::args().collect(),
        }
    }
}

/// How the page gets its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// An inline `<style>` (one file).
    Inline,
    /// `<link rel="stylesheet" href="shakedown.css">` (the directory form).
    Linked,
}

impl Html {
    /// Opens the target(s) now, before any host is contacted, so a bad path is bad input:
    /// `path` itself, or `path/index.html` and `path/shakedown.css` when `path` is a
    /// directory or ends with `/` (then created if missing, in a parent that exists).
    pub(crate) fn create(path: &Path) -> Result<Self, ReportError> {
        let is_dir = path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/');
        if !is_dir {
            return Ok(Html {
                page: Target::file("HTML", path)?,
                css: None,
                meta: Meta::now(),
            });
        }
        // The directory itself may be new; its parent must exist (a mistyped parent is bad
        // input, as it is for a file).
        std::fs::create_dir(path)
            .or_else(|e| if path.is_dir() { Ok(()) } else { Err(e) })
            .map_err(|source| ReportError {
                report: "HTML",
                target: path.display().to_string(),
                source,
            })?;
        Ok(Html {
            page: Target::file("HTML", &path.join("index.html"))?,
            css: Some(Target::file("HTML", &path.join(CSS_FILE))?),
            meta: Meta::now(),
        })
    }
}

impl Report for Html {
    fn on_event(&mut self, _event: &Event) {}

    fn finish(mut self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError> {
        let style = if self.css.is_some() {
            Style::Linked
        } else {
            Style::Inline
        };
        if let Some(css) = &mut self.css {
            css.write(CSS)?;
        }
        let page = render(summary, &self.meta, style);
        self.page.write(&page)
    }
}

/// The stylesheet, inline or in `shakedown.css`. Colours differ in lightness too (green
/// light, red dark), and every state also has its symbol.
pub(crate) const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1em 1.5em;color:#111;background:#fff}
h1{font-size:1.5em;margin:.2em 0}
h2{font-size:1.2em;margin-top:1.5em;border-bottom:1px solid #ccc}
h3{font-size:1em;margin:.3em 0}
.summary{font-size:1.1em;font-weight:bold}
dl.run{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:.5em 0}
dl.run dt{font-weight:bold}
dl.run dd{margin:0}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{margin:0;white-space:pre-wrap;word-break:break-word}
.legend{display:flex;flex-wrap:wrap;gap:.3em 1.2em;padding:0;list-style:none;font-size:.9em}
.legend .sym{display:inline-block;min-width:1.6em;text-align:center;border:1px solid #bbb}
.matrix{overflow:auto;max-height:80vh;max-width:100%;border:1px solid #999;display:inline-block}
table.m{border-collapse:separate;border-spacing:0;font-size:.85em}
table.m th,table.m td{border-right:1px solid #ccc;border-bottom:1px solid #ccc;padding:.1em .25em;text-align:center;min-width:1.7em;white-space:nowrap}
table.m thead th{position:sticky;top:0;background:#e8e8e8;z-index:2}
table.m thead th a{color:#003a80}
table.m tbody th{position:sticky;left:0;background:#f4f4f4;text-align:left;z-index:1;font-weight:normal}
table.m thead th:first-child{left:0;z-index:3;text-align:left}
table.m td a{color:inherit;text-decoration:none;display:block}
table.m td a:hover,table.m td a:focus{text-decoration:underline}
.p{background:#c9efc9;color:#0b5d0b}
.f{background:#b3261e;color:#fff;font-weight:bold}
.t{background:#e8a33d;color:#000;font-weight:bold}
.s{background:#dfe4ea;color:#4a5563}
.n{background:#fafafa;color:#aaa}
td.new{box-shadow:inset 0 0 0 3px #000}
.mark{font-size:.75em;vertical-align:super;margin-left:.1em}
ol.scenarios{columns:2 32em;font-size:.9em}
.where{color:#555;font-size:.9em}
section.failure{border:1px solid #ccc;border-left:.5em solid #b3261e;padding:.3em .8em;margin:.8em 0}
section.failure.timed{border-left-color:#e8a33d}
section.failure dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:.3em 0}
section.failure dt{font-weight:bold}
section.failure dd{margin:0}
ol.steps{margin:.2em 0;padding-left:1.5em;font-size:.9em}
footer{margin-top:2em;color:#666;font-size:.8em}
";

/// One cell's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Passed,
    Failed,
    TimedOut,
    Skipped,
    NotApplicable,
}

impl Cell {
    fn of(status: UnitStatus) -> Self {
        match status {
            UnitStatus::Passed => Cell::Passed,
            UnitStatus::Failed => Cell::Failed,
            UnitStatus::TimedOut => Cell::TimedOut,
            UnitStatus::Skipped => Cell::Skipped,
        }
    }

    /// (CSS class, symbol, words).
    fn look(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Cell::Passed => ("p", "✓", "passed"),
            Cell::Failed => ("f", "✗", "failed"),
            Cell::TimedOut => ("t", "◷", "timed out"),
            Cell::Skipped => ("s", "○", "not run"),
            Cell::NotApplicable => ("n", "·", "not applicable"),
        }
    }
}

/// A column of the matrix: one scenario (an outline row is its own scenario).
struct Column<'a> {
    key: (&'a Path, usize, Option<usize>),
    first: &'a UnitResult,
}

/// The matrix's axes and cells, in plan order (hosts and scenarios as first seen).
struct Matrix<'a> {
    hosts: Vec<&'a str>,
    columns: Vec<Column<'a>>,
    /// `cells[row][col]`: the pair's result, `None` when the scenario does not run there.
    cells: Vec<Vec<Option<&'a Arc<UnitResult>>>>,
}

/// The name of a unit's host in the matrix (`-` for a run without hosts).
fn host_of(r: &UnitResult) -> &str {
    r.unit.host.as_deref().unwrap_or("-")
}

/// A host name's sort key: `web2` before `web10` (numbers compared as numbers).
fn natural(name: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((std::mem::take(&mut text), digits.parse().unwrap_or(u64::MAX)));
                digits.clear();
            }
            text.push(c);
        }
    }
    let last = if digits.is_empty() {
        0
    } else {
        digits.parse().unwrap_or(u64::MAX)
    };
    key.push((text, last));
    key
}

/// Hosts in natural order (`web2` before `web10`), scenarios in plan order.
fn matrix(summary: &RunSummary) -> Matrix<'_> {
    let mut hosts: Vec<&str> = summary.results.iter().map(|r| host_of(r)).collect();
    hosts.sort_by_cached_key(|h| (natural(h), h.to_string()));
    hosts.dedup();
    let mut columns: Vec<Column> = Vec::new();
    let mut cells: Vec<Vec<Option<&Arc<UnitResult>>>> = vec![Vec::new(); hosts.len()];
    for r in &summary.results {
        let row = hosts.binary_search_by_key(&(natural(host_of(r)), host_of(r).to_string()), |h| {
            (natural(h), h.to_string())
        });
        let key = (r.unit.feature.path.as_path(), r.unit.scenario.line, r.unit.scenario.row);
        let col = columns.iter().position(|c| c.key == key).unwrap_or_else(|| {
            columns.push(Column { key, first: r });
            columns.len() - 1
        });
        if let Ok(row) = row {
            let cells = &mut cells[row];
            if cells.len() <= col {
                cells.resize(col + 1, None);
            }
            cells[col] = Some(r);
        }
    }
    for row in &mut cells {
        row.resize(columns.len(), None);
    }
    Matrix { hosts, columns, cells }
}

/// The anchor of a pair's failure details.
fn anchor(row: usize, col: usize) -> String {
    format!("f-{}-{}", row + 1, col + 1)
}

/// Text for HTML: secrets redacted first, then markup escaped; characters HTML does not
/// allow (controls other than tab and newline, noncharacters) dropped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in scrub(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            '\r' => {}
            c if c.is_control() => {}
            c if (0xFDD0..=0xFDEF).contains(&(c as u32)) || (c as u32) & 0xFFFE == 0xFFFE => {}
            c => out.push(c),
        }
    }
    out
}

/// `2026-12-03 20:13:33 UTC`.
fn when(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace('T', " ")
        .replace('Z', " UTC")
}

/// `2026-12-01 03:10:00 UTC, 2days 17h 3m before this run`.
fn since_text(since: SystemTime, started: SystemTime) -> String {
    match started.duration_since(since) {
        Ok(d) if d.as_secs() >= 60 => {
            let d = Duration::from_secs(d.as_secs() / 60 * 60);
            format!("{} ({} before this run)", when(since), humantime::format_duration(d))
        }
        _ => when(since),
    }
}

/// `scheme://user:password@` in an argument: the password replaced (a URL typed with its
/// password in it is still a secret, even though shakedown reads passwords from the
/// environment).
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(://[^/@:\s]*:)[^/@\s]+@").expect("valid regex"));

/// The command line as a shell would take it back, secrets redacted.
fn command_line(args: &[String]) -> String {
    let words: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let a = if i == 0 {
                Path::new(a)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| a.clone())
            } else {
                a.clone()
            };
            let a = URL_PASSWORD.replace_all(&scrub(&a), "${1}***@").into_owned();
            crate::quote::quote(&a)
        })
        .collect();
    words.join(" ")
}

/// The marks of a pair: (short marks, words), from `--state` and `--until-pass`.
fn marks(r: &UnitResult, started: SystemTime) -> (String, Vec<String>) {
    let mut short = String::new();
    let mut words = Vec::new();
    match r.since {
        Some(Since::NewFailure) => {
            short.push('N');
            words.push("new failure".to_string());
        }
        Some(Since::StillFailing { since }) => {
            short.push('S');
            words.push(format!("still failing, since {}", since_text(since, started)));
        }
        Some(Since::Recovered { failing_since }) => {
            short.push('R');
            words.push(format!(
                "recovered (had been failing since {})",
                since_text(failing_since, started)
            ));
        }
        Some(Since::Passing { .. }) | None => {}
    }
    if let Some(c) = convergence(r) {
        if r.status == UnitStatus::Passed {
            short.push('C');
        }
        words.push(c);
    }
    (short, words)
}

/// `converged after 14.2s, 4 attempts` / `did not pass within --until-pass: 6 attempts
/// over 30.0s`, for a pair `--until-pass` tried more than once.
fn convergence(r: &UnitResult) -> Option<String> {
    let took = r.converging?;
    if r.attempts <= 1 {
        return None;
    }
    Some(match r.status {
        UnitStatus::Passed => format!("converged after {:.1}s, {} attempts", took.as_secs_f64(), r.attempts),
        _ => format!(
            "did not pass within --until-pass: {} attempts over {:.1}s",
            r.attempts,
            took.as_secs_f64()
        ),
    })
}

/// `Feature: Scenario`, a column's name.
fn scenario_name(r: &UnitResult) -> String {
    format!("{}: {}", super::feature_title(&r.unit.feature), r.unit.scenario.title())
}

/// `features/web.feature:12`.
fn scenario_place(r: &UnitResult) -> String {
    format!("{}:{}", r.unit.feature.path.display(), r.unit.scenario.line)
}

/// The whole page for a run (pure: tests call it).
pub(crate) fn render(summary: &RunSummary, meta: &Meta, style: Style) -> String {
    let m = matrix(summary);
    let failed = summary.failed();
    let mut out = String::with_capacity(512 + summary.results.len() * 120);
    let verdict = if summary.results.is_empty() {
        "no scenario ran"
    } else if failed == 0 {
        "✓ all passed"
    } else {
        "✗ failed"
    };
    let summary_line = super::console::summary_line(summary);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"shakedown {}\">\n<title>shakedown: {} — {}</title>\n",
        env!("CARGO_PKG_VERSION"),
        esc(verdict),
        esc(&summary_line)
    );
    match style {
        Style::Inline => {
            out.push_str("<style>\n");
            out.push_str(CSS);
            out.push_str("</style>\n");
        }
        Style::Linked => {
            let _ = writeln!(out, "<link rel=\"stylesheet\" href=\"{CSS_FILE}\">");
        }
    }
    out.push_str("</head>\n<body>\n<header>\n");
    let _ = writeln!(out, "<h1>shakedown: {}</h1>", esc(verdict));
    let _ = writeln!(out, "<p class=\"summary\">{}</p>", esc(&summary_line));
    out.push_str("<dl class=\"run\">\n");
    let _ = writeln!(
        out,
        "<dt>Started</dt><dd><time datetime=\"{}\">{}</time></dd>",
        humantime::format_rfc3339_seconds(meta.started),
        esc(&when(meta.started))
    );
    let _ = writeln!(
        out,
        "<dt>Duration</dt><dd>{:.2}s{}</dd>",
        summary.duration.as_secs_f64(),
        if summary.deadline_hit {
            " (the --timeout deadline fired)"
        } else if summary.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "<dt>Command</dt><dd><code>{}</code></dd>",
        esc(&command_line(&meta.command))
    );
    if let Some(changes) = changes_line(summary) {
        let _ = writeln!(out, "<dt>Since the last run</dt><dd>{}</dd>", esc(&changes));
    }
    out.push_str("</dl>\n<nav><a href=\"#matrix\">Matrix</a> · <a href=\"#scenarios\">Scenarios</a>");
    if failed > 0 {
        out.push_str(" · <a href=\"#what-failed\">What failed</a> · <a href=\"#details\">Failure details</a>");
    }
    out.push_str("</nav>\n</header>\n<main>\n");
    write_matrix(&mut out, &m, meta.started);
    write_scenarios(&mut out, &m);
    if failed > 0 {
        write_what_failed(&mut out, summary, &m);
        write_details(&mut out, &m, meta.started);
    }
    write_recovered(&mut out, &m, meta.started);
    let _ = write!(
        out,
        "</main>\n<footer>Written by shakedown {}: no script, no external asset.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// `2 new failures, 3 still failing, 1 recovered` when the run was compared with a state.
fn changes_line(summary: &RunSummary) -> Option<String> {
    let mut new = 0;
    let mut still = 0;
    let mut recovered = 0;
    let mut any = false;
    for r in &summary.results {
        match r.since {
            Some(Since::NewFailure) => new += 1,
            Some(Since::StillFailing { .. }) => still += 1,
            Some(Since::Recovered { .. }) => recovered += 1,
            Some(Since::Passing { .. }) => {}
            None => continue,
        }
        any = true;
    }
    any.then(|| {
        format!(
            "{new} new failure{}, {still} still failing, {recovered} recovered",
            if new == 1 { "" } else { "s" }
        )
    })
}

fn write_matrix(out: &mut String, m: &Matrix, started: SystemTime) {
    out.push_str("<h2 id=\"matrix\">Hosts × scenarios</h2>\n<ul class=\"legend\">\n");
    for cell in [
        Cell::Passed,
        Cell::Failed,
        Cell::TimedOut,
        Cell::Skipped,
        Cell::NotApplicable,
    ] {
        let (class, sym, words) = cell.look();
        let words = if cell == Cell::NotApplicable {
            "not applicable (the scenario does not run on that host)"
        } else {
            words
        };
        let _ = writeln!(out, "<li><span class=\"sym {class}\">{sym}</span> {words}</li>");
    }
    out.push_str(
        "<li><b>N</b> new failure</li>\n<li><b>S</b> still failing</li>\n\
         <li><b>R</b> recovered</li>\n<li><b>C</b> passed after more than one attempt (--until-pass)</li>\n</ul>\n",
    );
    out.push_str("<div class=\"matrix\">\n<table class=\"m\">\n<thead>\n<tr><th scope=\"col\">host \\ scenario</th>");
    for (i, c) in m.columns.iter().enumerate() {
        let _ = write!(
            out,
            "<th scope=\"col\" title=\"{}. {} ({})\"><a href=\"#s{}\">{}</a></th>",
            i + 1,
            esc(&scenario_name(c.first)),
            esc(&scenario_place(c.first)),
            i + 1,
            i + 1
        );
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for (row, host) in m.hosts.iter().enumerate() {
        let host = esc(host);
        let _ = write!(out, "<tr><th scope=\"row\">{host}</th>");
        for col in 0..m.columns.len() {
            let Some(r) = m.cells[row][col] else {
                let _ = write!(
                    out,
                    "<td class=\"n\" title=\"{host} · {}: not applicable\">·</td>",
                    col + 1
                );
                continue;
            };
            let cell = Cell::of(r.status);
            let (class, sym, words) = cell.look();
            let (short, notes) = marks(r, started);
            let new = if r.since == Some(Since::NewFailure) { " new" } else { "" };
            // The scenario's name is in its column's header; a cell repeats it only when
            // there is something to read (a 200 × 30 matrix stays small).
            let mut title = if matches!(cell, Cell::Failed | Cell::TimedOut) || !notes.is_empty() {
                format!("{host} · {}. {}: {words}", col + 1, esc(&r.unit.scenario.title()))
            } else {
                format!("{host} · {}: {words}", col + 1)
            };
            for n in &notes {
                title.push_str("; ");
                title.push_str(&esc(n));
            }
            let mark = if short.is_empty() {
                String::new()
            } else {
                format!("<span class=\"mark\">{short}</span>")
            };
            if matches!(cell, Cell::Failed | Cell::TimedOut) {
                let _ = write!(
                    out,
                    "<td class=\"{class}{new}\" title=\"{title}\"><a href=\"#{}\">{sym}{mark}</a></td>",
                    anchor(row, col)
                );
            } else {
                let _ = write!(out, "<td class=\"{class}{new}\" title=\"{title}\">{sym}{mark}</td>");
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}

fn write_scenarios(out: &mut String, m: &Matrix) {
    out.push_str("<h2 id=\"scenarios\">Scenarios</h2>\n<ol class=\"scenarios\">\n");
    for (i, c) in m.columns.iter().enumerate() {
        let _ = writeln!(
            out,
            "<li id=\"s{}\">{} <span class=\"where\">({})</span></li>",
            i + 1,
            esc(&scenario_name(c.first)),
            esc(&scenario_place(c.first))
        );
    }
    out.push_str("</ol>\n");
}

/// Where a result sits in the matrix.
fn position(m: &Matrix, r: &Arc<UnitResult>) -> Option<(usize, usize)> {
    m.cells.iter().enumerate().find_map(|(row, cells)| {
        cells
            .iter()
            .position(|c| c.is_some_and(|c| Arc::ptr_eq(c, r)))
            .map(|col| (row, col))
    })
}

/// One line for a failed unit (or a group's merged result): `Scenario: step: why`.
fn failure_words(r: &UnitResult) -> String {
    let why = match r.failure() {
        Some((i, step)) => format!(
            "{}: {}",
            super::step_title(&r.unit, i),
            step.reason().unwrap_or_default()
        ),
        None => "timed out before it finished".into(),
    };
    format!("{}: {why}", r.unit.scenario.title())
}

fn write_what_failed(out: &mut String, summary: &RunSummary, m: &Matrix) {
    let grouping = super::groups::group(&summary.results);
    out.push_str("<h2 id=\"what-failed\">What failed</h2>\n<ul class=\"what\">\n");
    for g in &grouping.alike {
        let links: Vec<String> = g
            .units
            .iter()
            .filter_map(|r| {
                position(m, r).map(|(row, col)| format!("<a href=\"#{}\">{}</a>", anchor(row, col), esc(host_of(r))))
            })
            .collect();
        // The group's host is its hosts, ranges and count: `web1-web9, web11 (10 hosts)`.
        let _ = writeln!(
            out,
            "<li><b>{}</b>: {}<br>details: {}</li>",
            esc(host_of(&g.result)),
            esc(&failure_words(&g.result)),
            links.join(", ")
        );
    }
    for r in &grouping.alone {
        if let Some((row, col)) = position(m, r) {
            let _ = writeln!(
                out,
                "<li><b><a href=\"#{}\">{}</a></b>: {}</li>",
                anchor(row, col),
                esc(host_of(r)),
                esc(&failure_words(r))
            );
        }
    }
    out.push_str("</ul>\n");
}

fn write_details(out: &mut String, m: &Matrix, started: SystemTime) {
    out.push_str("<h2 id=\"details\">Failure details</h2>\n");
    for (row, cells) in m.cells.iter().enumerate() {
        for (col, r) in cells.iter().enumerate() {
            let Some(r) = r else { continue };
            if !matches!(r.status, UnitStatus::Failed | UnitStatus::TimedOut) {
                continue;
            }
            write_failure(out, r, anchor(row, col), col, started);
        }
    }
}

fn write_failure(out: &mut String, r: &UnitResult, id: String, col: usize, started: SystemTime) {
    let timed = r.status == UnitStatus::TimedOut;
    let (_, sym, words) = Cell::of(r.status).look();
    let _ = writeln!(
        out,
        "<section class=\"failure{}\" id=\"{id}\">\n<h3>{sym} {} · {}. {} — {words}</h3>\n<dl>",
        if timed { " timed" } else { "" },
        esc(host_of(r)),
        col + 1,
        esc(&scenario_name(r))
    );
    let _ = writeln!(out, "<dt>Host</dt><dd>{}</dd>", esc(host_of(r)));
    let _ = writeln!(out, "<dt>Scenario</dt><dd>{}</dd>", esc(&scenario_place(r)));
    match r.failure() {
        Some((i, step)) => {
            let _ = writeln!(
                out,
                "<dt>Step</dt><dd><code>{}</code></dd>",
                esc(&super::step_title(&r.unit, i))
            );
            match step {
                StepResult::Failed(o) => {
                    let _ = writeln!(
                        out,
                        "<dt>Expected</dt><dd><pre>{}</pre></dd>\n<dt>Found</dt><dd><pre>{}</pre></dd>",
                        esc(&o.expected),
                        esc(&o.found)
                    );
                }
                StepResult::Error(e) => {
                    let _ = writeln!(out, "<dt>Could not check</dt><dd><pre>{}</pre></dd>", esc(e));
                }
                _ => {}
            }
        }
        None => out.push_str("<dt>Step</dt><dd>none failed: the run ended before this scenario did</dd>\n"),
    }
    let measured: Vec<String> = r
        .steps
        .iter()
        .flat_map(|(s, _)| s.measured())
        .map(|m| format!("<li>{}</li>", esc(&super::measured_line(m))))
        .collect();
    if !measured.is_empty() {
        let _ = writeln!(out, "<dt>Measured</dt><dd><ul>{}</ul></dd>", measured.concat());
    }
    let (_, notes) = marks(r, started);
    let mut attempts = format!("{} (this report shows the last)", r.attempts);
    if r.attempts == 1 {
        attempts = "1".into();
    }
    let _ = writeln!(out, "<dt>Attempts</dt><dd>{}</dd>", esc(&attempts));
    let earlier = super::retry_notes(r);
    if !earlier.is_empty() {
        let items: Vec<String> = earlier.iter().map(|n| format!("<li>{}</li>", esc(n))).collect();
        let _ = writeln!(out, "<dt>Earlier attempts</dt><dd><ul>{}</ul></dd>", items.concat());
    }
    for n in notes {
        let _ = writeln!(out, "<dt>State</dt><dd>{}</dd>", esc(&n));
    }
    out.push_str("</dl>\n<ol class=\"steps\">\n");
    for (i, (s, d)) in r.steps.iter().enumerate() {
        let Some(step) = r.unit.scenario.steps.get(i) else {
            continue;
        };
        let (sym, word) = match s {
            StepResult::Passed(_) => ("✓", "passed"),
            StepResult::Failed(_) => ("✗", "failed"),
            StepResult::Error(_) => ("✗", "could not check"),
            StepResult::Skipped => ("○", "skipped"),
        };
        let _ = writeln!(
            out,
            "<li>{sym} {word}: <code>{}{}</code> <span class=\"where\">(line {}, {:.3}s)</span></li>",
            esc(&step.keyword),
            esc(&step.text),
            step.line,
            d.as_secs_f64()
        );
    }
    out.push_str("</ol>\n</section>\n");
}

fn write_recovered(out: &mut String, m: &Matrix, started: SystemTime) {
    let recovered: Vec<String> = m
        .cells
        .iter()
        .flatten()
        .flatten()
        .filter(|r| matches!(r.since, Some(Since::Recovered { .. })))
        .map(|r| {
            let (_, notes) = marks(r, started);
            format!(
                "<li>{} · {}: {}</li>\n",
                esc(host_of(r)),
                esc(&scenario_name(r)),
                esc(&notes.join("; "))
            )
        })
        .collect();
    if !recovered.is_empty() {
        let _ = write!(
            out,
            "<h2 id=\"recovered\">Recovered</h2>\n<ul>\n{}</ul>\n",
            recovered.concat()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Attempt;
    use crate::outcome::{Measurement, Outcome};
    use crate::suite::{Feature, sample};

    fn feature(path: &str, name: &str, scenarios: &[&str]) -> Arc<Feature> {
        let scenarios = scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let steps = vec![
                    sample::step("Given ", "the host is up", 4 + i * 10),
                    sample::step("Then ", "service nginx should be running", 5 + i * 10),
                ];
                sample::scenario(s, 3 + i * 10, steps)
            })
            .collect();
        sample::feature(path, name, scenarios)
    }

    fn result(f: &Arc<Feature>, sc: usize, host: &str, status: UnitStatus) -> UnitResult {
        let unit = sample::unit(f, sc, host);
        let pass = StepResult::Passed(Outcome::pass("up", "up"));
        let second = match status {
            UnitStatus::Passed => StepResult::Passed(Outcome::pass("active (running)", "active (running)")),
            UnitStatus::Failed => StepResult::Failed(Outcome::fail("active (running)", "inactive (dead)")),
            UnitStatus::TimedOut => StepResult::Error("the run deadline fired".into()),
            UnitStatus::Skipped => StepResult::Skipped,
        };
        let first = if status == UnitStatus::Skipped {
            StepResult::Skipped
        } else {
            pass
        };
        UnitResult {
            unit,
            status,
            steps: vec![(first, Duration::from_millis(5)), (second, Duration::from_millis(7))],
            attempts: 1,
            duration: Duration::from_millis(12),
            earlier: Vec::new(),
            converging: None,
            since: None,
        }
    }

    fn run(results: Vec<UnitResult>) -> RunSummary {
        RunSummary {
            results: results.into_iter().map(Arc::new).collect(),
            duration: Duration::from_millis(4321),
            deadline_hit: false,
            interrupted: false,
        }
    }

    fn meta() -> Meta {
        Meta {
            started: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            command: vec![
                "/usr/bin/shakedown".into(),
                "run".into(),
                "--html".into(),
                "r.html".into(),
            ],
        }
    }

    /// 3 hosts, 2 scenarios; the second does not run on web3.
    fn mixed() -> RunSummary {
        let f = feature("features/web.feature", "Web", &["nginx runs", "site answers"]);
        run(vec![
            result(&f, 0, "web1", UnitStatus::Passed),
            result(&f, 0, "web2", UnitStatus::Failed),
            result(&f, 0, "web3", UnitStatus::Skipped),
            result(&f, 1, "web1", UnitStatus::TimedOut),
            result(&f, 1, "web2", UnitStatus::Passed),
        ])
    }

    /// The `<tbody>` rows: each row's cells (the whole `<td ...>...</td>` text).
    fn rows(page: &str) -> Vec<Vec<String>> {
        let body = page
            .split("<tbody>")
            .nth(1)
            .and_then(|b| b.split("</tbody>").next())
            .expect("tbody");
        let cell = Regex::new(r"<td[^>]*>.*?</td>").expect("regex");
        body.lines()
            .filter(|l| l.starts_with("<tr>"))
            .map(|l| cell.find_iter(l).map(|m| m.as_str().to_string()).collect())
            .collect()
    }

    fn hrefs(text: &str) -> Vec<String> {
        let re = Regex::new(r##"href="#([^"]+)""##).expect("regex");
        re.captures_iter(text).map(|c| c[1].to_string()).collect()
    }

    #[test]
    fn a_cell_per_pair_and_not_applicable_where_a_scenario_does_not_run() {
        let page = render(&mixed(), &meta(), Style::Inline);
        let rows = rows(&page);
        assert_eq!(rows.len(), 3, "a row per host");
        assert!(rows.iter().all(|r| r.len() == 2), "a cell per scenario: {rows:?}");
        let classes: Vec<Vec<&str>> = rows.iter().map(|r| r.iter().map(|c| &c[11..12]).collect()).collect();
        assert_eq!(classes, vec![vec!["p", "t"], vec!["f", "p"], vec!["s", "n"]]);
        assert!(rows[2][1].contains("not applicable") && rows[2][1].ends_with(">·</td>"));
        assert!(rows[0][0].ends_with(">✓</td>") && rows[1][0].contains(">✗<"));
        assert!(page.contains("<th scope=\"row\">web3</th>"));
        assert!(
            page.contains(
                "<li id=\"s2\">Web: site answers <span class=\"where\">(features/web.feature:13)</span></li>"
            )
        );
        assert!(page.contains("5 scenarios (2 passed, 1 failed, 1 timed out, 1 not run) on 3 hosts in 4.32s"));
        assert!(page.contains("<time datetime=\"2027-01-15T08:00:00Z\">2027-01-15 08:00:00 UTC</time>"));
        assert!(page.contains("<code>shakedown run --html r.html</code>"));
    }

    #[test]
    fn hosts_in_natural_order() {
        let f = feature("features/web.feature", "Web", &["nginx runs"]);
        let s = run(["web10", "db1", "web2", "web1"]
            .iter()
            .map(|h| result(&f, 0, h, UnitStatus::Passed))
            .collect());
        let page = render(&s, &meta(), Style::Inline);
        let at = |h: &str| page.find(&format!("<th scope=\"row\">{h}</th>")).expect(h);
        assert!(at("db1") < at("web1") && at("web1") < at("web2") && at("web2") < at("web10"));
    }

    #[test]
    fn every_failed_cell_links_to_details_that_exist() {
        let page = render(&mixed(), &meta(), Style::Inline);
        let links: Vec<String> = rows(&page).iter().flatten().flat_map(|c| hrefs(c)).collect();
        assert_eq!(links, vec!["f-1-2", "f-2-1"], "the failed and timed-out cells link");
        for id in &links {
            let at = page
                .find(&format!(" id=\"{id}\""))
                .unwrap_or_else(|| panic!("no anchor {id}"));
            assert!(
                page[..at].ends_with("failure\"") || page[..at].ends_with("timed\""),
                "{id}"
            );
        }
        let details = &page[page.find(" id=\"f-2-1\"").expect("details")..];
        let details = &details[..details.find("</section>").expect("end")];
        assert!(details.contains("<dt>Host</dt><dd>web2</dd>"), "{details}");
        assert!(details.contains("Then service nginx should be running (features/web.feature:5)"));
        assert!(details.contains("<dt>Expected</dt><dd><pre>active (running)</pre></dd>"));
        assert!(details.contains("<dt>Found</dt><dd><pre>inactive (dead)</pre></dd>"));
        // every link of the page (nav, headers, what failed) lands on an id of the page
        for id in hrefs(&page) {
            assert!(page.contains(&format!(" id=\"{id}\"")), "dangling #{id}");
        }
        assert!(page.contains("<h2 id=\"what-failed\">"));
    }

    #[test]
    fn marks_new_still_failing_recovered_and_converged() {
        let f = feature("features/web.feature", "Web", &["nginx runs"]);
        let day = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 - 2 * 86400 - 3600);
        let mut new = result(&f, 0, "web1", UnitStatus::Failed);
        new.since = Some(Since::NewFailure);
        let mut still = result(&f, 0, "web2", UnitStatus::Failed);
        still.since = Some(Since::StillFailing { since: day });
        still.attempts = 6;
        still.converging = Some(Duration::from_millis(30_000));
        still.earlier = vec![Attempt {
            steps: vec![(StepResult::Error("connection refused".into()), Duration::ZERO)],
        }];
        if let StepResult::Failed(o) = &mut still.steps[1].0 {
            o.measured.push(Measurement {
                label: "response time".into(),
                value: 812.0,
                unit: "ms".into(),
                warn: None,
                crit: None,
            });
        }
        let mut recovered = result(&f, 0, "web3", UnitStatus::Passed);
        recovered.since = Some(Since::Recovered { failing_since: day });
        let mut converged = result(&f, 0, "web4", UnitStatus::Passed);
        converged.converging = Some(Duration::from_millis(14_200));
        converged.attempts = 4;
        converged.since = Some(Since::Passing { since: day });
        let page = render(&run(vec![new, still, recovered, converged]), &meta(), Style::Inline);
        let cells: Vec<String> = rows(&page).into_iter().flatten().collect();
        assert!(cells[0].starts_with("<td class=\"f new\"") && cells[0].contains("<span class=\"mark\">N</span>"));
        assert!(
            cells[1].contains("<span class=\"mark\">S</span>")
                && cells[1].contains("still failing, since 2027-01-13 07:00:00 UTC (2days 1h before this run)"),
            "{}",
            cells[1]
        );
        assert!(
            cells[2].contains("<span class=\"mark\">R</span>")
                && cells[2].contains("recovered (had been failing since")
        );
        assert!(
            cells[3].contains("<span class=\"mark\">C</span>")
                && cells[3].contains("converged after 14.2s, 4 attempts"),
            "{}",
            cells[3]
        );
        assert!(page.contains("<dt>Since the last run</dt><dd>1 new failure, 1 still failing, 1 recovered</dd>"));
        assert!(page.contains("did not pass within --until-pass: 6 attempts over 30.0s"));
        assert!(page.contains("<dt>Attempts</dt><dd>6 (this report shows the last)</dd>"));
        assert!(page.contains("attempt 1 failed: Given the host is up (features/web.feature:4): connection refused"));
        assert!(page.contains("<li>response time = 812 ms</li>"));
        assert!(page.contains("<h2 id=\"recovered\">Recovered</h2>"));
        // without --state nor --until-pass: no marks at all
        let plain = render(&mixed(), &meta(), Style::Inline);
        assert!(!plain.contains("class=\"mark\"") && !plain.contains("Since the last run"));
    }

    #[test]
    fn names_and_found_texts_are_escaped() {
        let f = feature("features/<x>.feature", "A & \"B\"", &["<script>alert(1)</script>"]);
        let mut r = result(&f, 0, "web<1>", UnitStatus::Failed);
        r.steps[1].0 = StepResult::Failed(Outcome::fail(
            "a \"quoted\" & <u>",
            "</pre><img src=x onerror=alert(1)>\u{1b}[31m",
        ));
        let page = render(&run(vec![r]), &meta(), Style::Inline);
        assert!(!page.contains("<script") && !page.contains("<img") && !page.contains("<u>") && !page.contains("<x>"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("<th scope=\"row\">web&lt;1&gt;</th>"));
        assert!(page.contains("<pre>a &quot;quoted&quot; &amp; &lt;u&gt;</pre>"));
        assert!(page.contains("<pre>&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;[31m</pre>"));
        assert!(page.contains("A &amp; &quot;B&quot;"));
    }

    #[test]
    fn secrets_never_reach_the_page() {
        let _secret = crate::inventory::secret::Secret::new("html-canary-&-5e1d".into());
        let f = feature("features/web.feature", "Web", &["nginx runs"]);
        let mut r = result(&f, 0, "web1", UnitStatus::Failed);
        r.steps[1].0 = StepResult::Failed(Outcome::fail("ok", "password html-canary-&-5e1d rejected"));
        let mut m = meta();
        m.command
            .extend(["--smtp".into(), "smtps://mailer:hunter2-url@mx:465".into()]);
        m.command.extend(["--name".into(), "html-canary-&-5e1d".into()]);
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("r.html");
        let mut report = Box::new(Html::create(&path).expect("open"));
        report.meta = m;
        report.finish(&run(vec![r])).expect("written");
        let page = std::fs::read_to_string(&path).expect("read");
        assert!(!page.contains("html-canary") && !page.contains("hunter2"), "{page}");
        assert!(page.contains("password *** rejected"));
        assert!(page.contains("smtps://mailer:***@mx:465"));
    }

    #[test]
    fn no_script_no_inline_style_attribute_and_a_linked_stylesheet_in_a_directory() {
        let page = render(&mixed(), &meta(), Style::Inline);
        assert!(page.contains("<style>") && !page.contains("style=\"") && !page.contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("src="));
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("report/");
        let report = Box::new(Html::create(&out).expect("open a new directory"));
        report.finish(&mixed()).expect("written");
        let index = std::fs::read_to_string(out.join("index.html")).expect("index.html");
        assert!(index.contains("<link rel=\"stylesheet\" href=\"shakedown.css\">"));
        assert!(!index.contains("<style") && !index.contains("style=\""));
        assert_eq!(std::fs::read_to_string(out.join(CSS_FILE)).expect("css"), CSS);
    }

    #[test]
    fn two_hundred_hosts_by_thirty_scenarios_stay_small() {
        let names: Vec<String> = (1..=30)
            .map(|i| format!("scenario number {i} checks something"))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let f = feature("features/fleet.feature", "Fleet", &names);
        let build = |fail_every: usize| {
            let mut results = Vec::new();
            for sc in 0..30 {
                for h in 1..=200 {
                    let status = if (sc * 200 + h) % fail_every == 0 {
                        UnitStatus::Failed
                    } else {
                        UnitStatus::Passed
                    };
                    results.push(result(&f, sc, &format!("web{h:03}.dc1.example.com"), status));
                }
            }
            render(&run(results), &meta(), Style::Inline)
        };
        let mixed = build(10);
        let all_failed = build(1);
        eprintln!(
            "200 x 30: {} bytes with 10% failed, {} bytes all failed",
            mixed.len(),
            all_failed.len()
        );
        assert_eq!(rows(&mixed).len(), 200);
        assert!(rows(&mixed).iter().all(|r| r.len() == 30));
        assert!(mixed.len() < 1_500_000, "{} bytes", mixed.len());
        assert!(all_failed.len() < 6_000_000, "{} bytes", all_failed.len());
    }
}
