//! `shakedown run`: prepare, open the reports, run them through the pipeline, map to an
//! exit status.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::cli::{Format, RunArgs};
use crate::error::{BadInput, ExitStatus};
use crate::notify::Notifiers;
use crate::report::Asked;
use crate::runner::RunOptions;

use super::pipeline::{self, Run};

/// Runs the suites; returns 0 when all passed, 1 otherwise.
pub async fn run(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    // Mail and passive-result options are checked before anything else is done.
    let notifiers = Notifiers::from_options(&pipeline::notify_options(&args.notify)).map_err(BadInput)?;
    let mut prepared = super::prepare::prepare(&args.select)?;
    pipeline::keep_connections(&mut prepared.inventory, args.exec.keep_connections).map_err(BadInput::one)?;
    super::prepare::print_warnings(&prepared);
    let format = args.format.unwrap_or(if std::io::stderr().is_terminal() {
        Format::Progress
    } else {
        Format::Pretty
    });
    let color = use_color(args.no_color);
    // File reports are opened before any host is contacted: a bad path is bad input.
    let reports = crate::report::open(&Asked {
        console: Some((pipeline::format(format), color)),
        junit: args.junit.clone(),
        json: args.json.clone(),
        html: args.html.clone(),
        nagios: None,
    })
    .map_err(|e| BadInput::one(e.to_string()))?;

    trace_writable(args.trace.as_deref()).map_err(BadInput::one)?;
    let opts = RunOptions {
        concurrency: args.exec.concurrency,
        step_timeout: args.exec.step_timeout,
        timeout: args.timeout,
        retries: args.exec.retries,
        fail_fast: args.fail_fast,
        until_pass: args.until_pass,
    };
    let state = pipeline::open_state(&args.history, &args.select);
    let run = Run {
        inventory: &prepared.inventory,
        plan: &prepared.plan,
        library: Arc::new(prepared.library),
        trace: args.trace.clone(),
        opts,
        close_grace: None,
        state,
        connections: None,
    };
    let finished = pipeline::execute(run, reports, Some(&notifiers), args.timeout, crate::signal::stop)
        .await
        .map_err(BadInput::one)?;
    finished.reports.map_err(pipeline::ReportsFailed::into_error)?;
    for problem in &finished.delivery {
        eprintln!("error: {problem}");
    }
    Ok(match (finished.summary.all_passed(), finished.delivery.is_empty()) {
        (false, _) => ExitStatus::Failed,
        // A green run whose mail or passive results did not get through is not a success.
        (true, false) => ExitStatus::BadInput,
        (true, true) => ExitStatus::Ok,
    })
}

/// `--trace FILE` can be written (it is created, or emptied, now): a bad path is bad input
/// naming the option and the file, before any host is contacted.
pub(super) fn trace_writable(path: Option<&std::path::Path>) -> Result<(), String> {
    match path {
        Some(p) => std::fs::File::create(p)
            .map(drop)
            .map_err(|e| format!("--trace {}: cannot write the trace file: {e}", p.display())),
        None => Ok(()),
    }
}

/// Colours on a terminal (or with `CLICOLOR_FORCE` set, e.g. under a CI log viewer), never
/// with `--no-color` or `NO_COLOR` (https://no-color.org).
fn use_color(no_color_flag: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    !no_color_flag && !set("NO_COLOR") && (std::io::stdout().is_terminal() || set("CLICOLOR_FORCE"))
}
