//! `shakedown check`: the run of `run`, reported as a Nagios/Icinga plugin. Always prints
//! plugin output and exits 0..3: bad input, an unwritable report file, the `--timeout`
//! deadline and SIGTERM (sent by Icinga at its own timeout) are UNKNOWN with what is known.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::CheckArgs;
use crate::error::ExitStatus;
use crate::notify::Notifiers;
use crate::report::{Asked, nagios};
use crate::runner::RunOptions;

use super::pipeline::{self, Run};

/// Time allowed to close SSH masters after the run before the output is printed anyway.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Runs the check; prints the plugin output; returns the state's exit status.
pub async fn check(args: &CheckArgs) -> ExitStatus {
    // Signals are caught from the start: a SIGTERM during preparation still ends in output.
    let stop = crate::signal::stop();
    let state = match run_check(args, stop).await {
        Ok(state) => state,
        Err(problems) => {
            let _ = nagios::print(&nagios::bad_input(&problems));
            nagios::State::Unknown
        }
    };
    exit_status(state)
}

/// The process exit status for a plugin state (CLI.md "Exit status", `check` row: the
/// plugin code).
fn exit_status(state: nagios::State) -> ExitStatus {
    match state {
        nagios::State::Ok => ExitStatus::Ok,
        nagios::State::Warning => ExitStatus::Failed,
        nagios::State::Critical => ExitStatus::BadInput,
        nagios::State::Unknown => ExitStatus::Unknown,
    }
}

async fn run_check(
    args: &CheckArgs,
    stop: impl std::future::Future<Output = ()>,
) -> Result<nagios::State, Vec<String>> {
    let notifiers = Notifiers::from_options(&pipeline::notify_options(&args.notify))?;
    let mut prepared = super::prepare::prepare(&args.select).map_err(|e| e.0)?;
    pipeline::keep_connections(&mut prepared.inventory, args.exec.keep_connections).map_err(|e| vec![e])?;
    let reports = crate::report::open(&Asked {
        junit: args.junit.clone(),
        json: args.json.clone(),
        html: args.html.clone(),
        ..Asked::default()
    })
    .map_err(|e| vec![e.to_string()])?;
    super::run::trace_writable(args.trace.as_deref()).map_err(|e| vec![e])?;
    let opts = RunOptions {
        concurrency: args.exec.concurrency,
        step_timeout: args.exec.step_timeout,
        timeout: Some(args.timeout),
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
        close_grace: Some(CLOSE_GRACE),
        state,
        connections: None,
    };
    let finished = pipeline::execute(run, reports, Some(&notifiers), Some(args.timeout), move || stop)
        .await
        .map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    if let Err(e) = &finished.reports {
        problems.push(e.line());
    }
    // Delivery problems (mail, passive results) are plugin output too: they turn OK into
    // UNKNOWN, like a report that could not be written.
    problems.extend(finished.delivery);
    let plugin = nagios::result(&finished.summary, Some(args.timeout), &problems);
    let _ = nagios::print(&plugin.render());
    Ok(plugin.state)
}
