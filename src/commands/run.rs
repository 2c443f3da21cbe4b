//! `shakedown run`: prepare, open the reports, run, report, map to an exit status.

use std::io::IsTerminal;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::cli::{Format, RunArgs};
use crate::error::{BadInput, ExitStatus};
use crate::report::{Reports, console::Console};
use crate::runner::{self, RunOptions, hosts::HostPool};

/// Runs the suites; returns 0 when all passed, 1 otherwise.
pub async fn run(args: &RunArgs) -> anyhow::Result<ExitStatus> {
    let prepared = super::prepare::prepare(&args.select)?;
    let format = args.format.unwrap_or(if std::io::stderr().is_terminal() {
        Format::Progress
    } else {
        Format::Pretty
    });
    let color =
        !args.no_color && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal();
    // File reports are opened before any host is contacted: a bad path is bad input.
    let mut list = crate::report::open_files(args.junit.as_deref(), args.json.as_deref())
        .map_err(|e| BadInput::one(e.to_string()))?;
    list.insert(0, Box::new(Console::new(format, color)));
    let mut reports = Reports::new(list);

    let pool = Arc::new(
        HostPool::new(&prepared.inventory, args.trace.clone())
            .map_err(|e| BadInput::one(format!("cannot start: {e}")))?,
    );
    let opts = RunOptions {
        concurrency: args.concurrency,
        step_timeout: args.step_timeout,
        timeout: args.timeout,
        retries: args.retries,
        fail_fast: args.fail_fast,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let drain = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            reports.on_event(&ev);
        }
        reports
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
    let mut reports = drain.await?;
    reports.on_event(&crate::event::Event::RunFinished {
        summary: summary.clone(),
    });
    reports.finish(&summary)?;
    Ok(if summary.all_passed() {
        ExitStatus::Ok
    } else {
        ExitStatus::Failed
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
