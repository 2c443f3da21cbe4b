//! `shakedown check`: the run of `run`, reported as a Nagios/Icinga plugin. Always prints
//! plugin output and exits 0..3: bad input, an unwritable report file, the `--timeout`
//! deadline and SIGTERM (sent by Icinga at its own timeout) are UNKNOWN with what is known.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::cli::CheckArgs;
use crate::error::ExitStatus;
use crate::event::Event;
use crate::host::HostPool;
use crate::notify::Notifiers;
use crate::report::{Reports, RetryNotes, nagios};
use crate::runner::{self, RunOptions};

/// Time allowed to close SSH masters after the run before the output is printed anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Runs the check; prints the plugin output; returns the state's exit status.
pub async fn check(args: &CheckArgs) -> ExitStatus {
    // Signals are caught from the start: a SIGTERM during preparation still ends in output.
    let stop = stop_signal();
    let state = match run_check(args, stop).await {
        Ok(state) => state,
        Err(problems) => {
            let _ = nagios::print(&nagios::bad_input(&problems));
            nagios::State::Unknown
        }
    };
    state.exit_status()
}

async fn run_check(
    args: &CheckArgs,
    stop: impl std::future::Future<Output = ()>,
) -> Result<nagios::State, Vec<String>> {
    let notifiers = Notifiers::from_args(&args.notify)?;
    let prepared = super::prepare::prepare(&args.select).map_err(|e| e.0)?;
    let files =
        crate::report::open_files(args.junit.as_deref(), args.json.as_deref()).map_err(|e| vec![e.to_string()])?;
    super::run::trace_writable(args.trace.as_deref()).map_err(|e| vec![e])?;
    let pool =
        HostPool::new(&prepared.inventory, args.trace.clone()).map_err(|e| vec![format!("cannot start: {e}")])?;
    let pool = Arc::new(pool);
    let opts = RunOptions {
        concurrency: args.exec.concurrency,
        step_timeout: args.exec.step_timeout,
        timeout: Some(args.timeout),
        retries: args.exec.retries,
        fail_fast: args.fail_fast,
    };
    let mut reports = Reports::new(files);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let drain = tokio::spawn(async move {
        let mut retries = RetryNotes::default();
        while let Some(ev) = rx.recv().await {
            retries.on_event(&ev);
            reports.on_event(&ev);
        }
        (reports, retries)
    });
    let summary = runner::run(&prepared.plan, Arc::new(prepared.library), pool.clone(), opts, tx, stop).await;
    let summary = Arc::new(summary);
    let _ = tokio::time::timeout(CLOSE_GRACE, pool.close()).await;
    let mut problems = Vec::new();
    let mut retries = RetryNotes::default();
    match drain.await {
        Ok((mut reports, notes)) => {
            retries = notes;
            reports.on_event(&Event::RunFinished {
                summary: summary.clone(),
            });
            if let Err(e) = reports.finish(&summary) {
                problems.push(e.to_string());
            }
        }
        Err(e) => problems.push(format!("reports: {e}")),
    }
    // Delivery problems (mail, passive results) are plugin output too: they turn OK into
    // UNKNOWN, like a report that could not be written.
    problems.extend(notifiers.send(&summary, retries.notes(), Some(args.timeout)).await);
    let (state, text) = nagios::output(&summary, Some(args.timeout), &problems);
    let _ = nagios::print(&text);
    Ok(state)
}

/// A future that resolves on SIGTERM or SIGINT; the handlers are installed now, not when
/// it is first polled (see [`crate::signal`]).
fn stop_signal() -> impl std::future::Future<Output = ()> {
    crate::signal::stop()
}
