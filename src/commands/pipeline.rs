//! The one run pipeline of `run`, `check` and `serve`: start the host pool, run the plan
//! with the reports fed the event stream, close the connections, finish the reports, and
//! send the notifications. The commands differ only in what they ask for (reports,
//! notifiers, how long closing may take, the stop signal) and in how they word the end.
//! Also the one map from the command line's options to the reports' and notifiers' own.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::cli;
use crate::event::{Event, RunSummary, UnitResult};
use crate::host::HostPool;
use crate::inventory::Inventory;
use crate::notify::{Notifiers, NotifyOptions};
use crate::report::console::Format;
use crate::report::{ReportError, Reports};
use crate::runner::{self, RunOptions};
use crate::state::Ledger;
use crate::steps::StepLibrary;
use crate::suite::Plan;

/// One run to make.
pub(super) struct Run<'a> {
    /// The hosts.
    pub inventory: &'a Inventory,
    /// The units.
    pub plan: &'a Plan,
    /// The steps.
    pub library: Arc<StepLibrary>,
    /// `--trace FILE` (checked writable by the command).
    pub trace: Option<PathBuf>,
    /// Concurrency, timeouts, retries, fail-fast.
    pub opts: RunOptions,
    /// How long closing the connections may take before the results are reported anyway
    /// (`None`: as long as it takes).
    pub close_grace: Option<Duration>,
    /// The pairs' history (`--state`; `None` with `--no-state`): each result's `since` is
    /// set from it before any report sees the result, and the run is recorded in it after.
    pub state: Option<Arc<std::sync::Mutex<Ledger>>>,
    /// Connections kept across runs (`serve`'s pool): the run uses them
    /// ([`HostPool::next_run`]) instead of opening its own.
    pub connections: Option<Arc<HostPool>>,
}

/// What came of a run.
pub(super) struct Finished {
    /// Counts and every unit's result.
    pub summary: Arc<RunSummary>,
    /// The reports: written, or why not.
    pub reports: Result<(), ReportsFailed>,
    /// Delivery problems of the notifications, one line each, secrets redacted.
    pub delivery: Vec<String>,
}

/// Why the reports were not all written.
pub(super) enum ReportsFailed {
    /// A report could not be written.
    Write(ReportError),
    /// The task feeding them the events failed.
    Task(tokio::task::JoinError),
}

impl ReportsFailed {
    /// One line (the `check` output's problem).
    pub(super) fn line(&self) -> String {
        match self {
            ReportsFailed::Write(e) => e.to_string(),
            ReportsFailed::Task(e) => format!("reports: {e}"),
        }
    }

    /// As the error that ends `run`.
    pub(super) fn into_error(self) -> anyhow::Error {
        match self {
            ReportsFailed::Write(e) => e.into(),
            ReportsFailed::Task(e) => e.into(),
        }
    }
}

/// `--keep-connections DURATION` over every host's `keep_connections`; when any SSH host
/// keeps its master (or the option is given), the kept sockets' directory is checked now
/// (created 0700 if missing; refused if open to others or not the user's), before any host
/// is contacted.
pub(super) fn keep_connections(inventory: &mut Inventory, flag: Option<Duration>) -> Result<(), String> {
    if let Some(d) = flag {
        for host in inventory.hosts.values_mut() {
            host.keep_connections = Some(d);
        }
    }
    let keeps = inventory
        .hosts
        .values()
        .any(|h| h.transport == crate::inventory::TransportKind::Ssh && h.keep_connections.is_some());
    if flag.is_some() || keeps {
        crate::transport::kept::socket_dir()?;
    }
    Ok(())
}

/// Runs `run`: starts the pool (`Err("cannot start: ...")` when it cannot), feeds the event
/// stream to `reports`, stops early when the future `stop()` makes resolves (made just
/// before the runner starts), closes the connections, finishes the reports, and sends the
/// notifications (`notify_timeout` is the deadline named in UNKNOWN passive results).
pub(super) async fn execute<F>(
    run: Run<'_>,
    mut reports: Reports,
    notifiers: Option<&Notifiers>,
    notify_timeout: Option<Duration>,
    stop: impl FnOnce() -> F,
) -> Result<Finished, String>
where
    F: Future<Output = ()>,
{
    let pool = match &run.connections {
        Some(kept) => kept.next_run().await,
        None => HostPool::new(run.inventory, run.trace).map_err(|e| format!("cannot start: {e}"))?,
    };
    let pool = Arc::new(pool);
    let (tx, mut rx) = mpsc::unbounded_channel();
    // Every pair of the run is compared with the history as it was when the run started.
    let now = std::time::SystemTime::now();
    let state = run.state.clone();
    let drain = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            reports.on_event(&with_since(ev, state.as_deref(), now));
        }
        reports
    });
    let mut summary = runner::run(run.plan, run.library, pool.clone(), run.opts, tx, stop()).await;
    if let Some(state) = &run.state {
        let ledger = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        summary.results = summary.results.into_iter().map(|r| marked(r, &ledger, now)).collect();
    }
    let summary = Arc::new(summary);
    match run.close_grace {
        Some(grace) => drop(tokio::time::timeout(grace, pool.close()).await),
        None => pool.close().await,
    }
    let drained = drain.await;
    // Recorded once the reports have seen every event: a late one must still be compared
    // with the history as it was before this run.
    if let Some(state) = &run.state {
        let mut ledger = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for w in ledger.record(&summary.results, now) {
            eprintln!("warning: {w}");
        }
    }
    let reports = match drained {
        Ok(mut reports) => {
            reports.on_event(&Event::RunFinished {
                summary: summary.clone(),
            });
            reports.finish(&summary).map_err(ReportsFailed::Write)
        }
        Err(e) => Err(ReportsFailed::Task(e)),
    };
    let delivery = match notifiers {
        Some(n) => n.send(&summary, notify_timeout).await,
        None => Vec::new(),
    };
    Ok(Finished {
        summary,
        reports,
        delivery,
    })
}

/// The event with its result's `since` set from the history (unchanged without one).
fn with_since(ev: Event, state: Option<&std::sync::Mutex<Ledger>>, now: std::time::SystemTime) -> Event {
    match (ev, state) {
        (Event::ScenarioFinished { unit, result }, Some(state)) => {
            let ledger = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Event::ScenarioFinished {
                unit,
                result: marked(result, &ledger, now),
            }
        }
        (ev, _) => ev,
    }
}

/// `result` with its `since` from the history.
fn marked(result: Arc<UnitResult>, ledger: &Ledger, now: std::time::SystemTime) -> Arc<UnitResult> {
    let since = ledger.since(&result, now);
    if since == result.since {
        return result;
    }
    let mut r = Arc::unwrap_or_clone(result);
    r.since = since;
    Arc::new(r)
}

/// The history a `run` or `check` keeps: `--state FILE`, else the default file of the suite
/// ([`crate::state::default_path`]); none with `--no-state` (or with no home to keep it in).
/// Warnings (a file set aside) are printed on stderr: never a failed run.
pub(super) fn open_state(args: &cli::StateArgs, select: &cli::SelectArgs) -> Option<Arc<std::sync::Mutex<Ledger>>> {
    if args.no_state {
        return None;
    }
    let inventory = select.inventory.clone().or_else(|| {
        let default = std::path::Path::new(super::prepare::DEFAULT_INVENTORY);
        default.is_file().then(|| default.to_path_buf())
    });
    let file = match &args.state {
        Some(f) => f.clone(),
        None => match crate::state::default_path(&select.paths, inventory.as_deref(), select.partition.as_deref()) {
            Some(f) => f,
            None => {
                eprintln!("warning: no state kept: neither XDG_STATE_HOME nor HOME is set (use --state FILE)");
                return None;
            }
        },
    };
    let (ledger, warnings) = Ledger::open(&file);
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Some(Arc::new(std::sync::Mutex::new(ledger)))
}

/// The console format asked for on the command line.
pub(super) fn format(f: cli::Format) -> Format {
    match f {
        cli::Format::Pretty => Format::Pretty,
        cli::Format::Progress => Format::Progress,
        cli::Format::Quiet => Format::Quiet,
    }
}

/// The notification options asked for on the command line.
pub(super) fn notify_options(args: &cli::NotifyArgs) -> NotifyOptions {
    NotifyOptions {
        mail_to: args.mail_to.clone(),
        mail_from: args.mail_from.clone(),
        smtp: args.smtp.clone(),
        nsca: args.nsca.clone(),
        icinga_api: args.icinga_api.clone(),
        icinga_ca: args.icinga_ca.clone(),
    }
}
