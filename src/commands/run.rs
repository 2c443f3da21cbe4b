//! `shakedown run`: prepare, open the reports, run, report, map to an exit status.

use std::io::IsTerminal;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::cli::{Format, RunArgs};
use crate::error::{BadInput, ExitStatus};
use crate::host::HostPool;
use crate::notify::Notifiers;
use crate::report::{Reports, RetryNotes, console::Console};
use crate::runner::{self, RunOptions};

/// Runs the suites; returns 0 when all passed, 1 otherwise.
pub async fn run(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    // Mail and passive-result options are checked before anything else is done.
    let notifiers = Notifiers::from_args(&args.notify).map_err(BadInput)?;
    let prepared = super::prepare::prepare(&args.select)?;
    super::prepare::print_warnings(&prepared);
    let format = args.format.unwrap_or(if std::io::stderr().is_terminal() {
        Format::Progress
    } else {
        Format::Pretty
    });
    let color = use_color(args.no_color);
    // File reports are opened before any host is contacted: a bad path is bad input.
    let mut list = crate::report::open_files(args.junit.as_deref(), args.json.as_deref())
        .map_err(|e| BadInput::one(e.to_string()))?;
    list.insert(0, Box::new(Console::new(format, color)));
    let mut reports = Reports::new(list);

    trace_writable(args.trace.as_deref()).map_err(BadInput::one)?;
    let pool = Arc::new(
        HostPool::new(&prepared.inventory, args.trace.clone())
            .map_err(|e| BadInput::one(format!("cannot start: {e}")))?,
    );
    let opts = RunOptions {
        concurrency: args.exec.concurrency,
        step_timeout: args.exec.step_timeout,
        timeout: args.timeout,
        retries: args.exec.retries,
        fail_fast: args.fail_fast,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let drain = tokio::spawn(async move {
        let mut retries = RetryNotes::default();
        while let Some(ev) = rx.recv().await {
            retries.on_event(&ev);
            reports.on_event(&ev);
        }
        (reports, retries)
    });
    let summary = runner::run(
        &prepared.plan,
        Arc::new(prepared.library),
        pool.clone(),
        opts,
        tx,
        shutdown_signal(),
    )
    .await;
    let summary = Arc::new(summary);
    pool.close().await;
    let (mut reports, retries) = drain.await?;
    reports.on_event(&crate::event::Event::RunFinished {
        summary: summary.clone(),
    });
    let written = reports.finish(&summary);
    let delivery = notifiers.send(&summary, retries.notes(), args.timeout).await;
    written?;
    for problem in &delivery {
        eprintln!("error: {problem}");
    }
    Ok(match (summary.all_passed(), delivery.is_empty()) {
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

/// Resolves on SIGINT or SIGTERM (see [`crate::signal`]).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    crate::signal::stop()
}

/// Colours on a terminal (or with `CLICOLOR_FORCE` set, e.g. under a CI log viewer), never
/// with `--no-color` or `NO_COLOR` (https://no-color.org).
fn use_color(no_color_flag: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    !no_color_flag && !set("NO_COLOR") && (std::io::stdout().is_terminal() || set("CLICOLOR_FORCE"))
}
