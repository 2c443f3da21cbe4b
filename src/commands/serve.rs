//! `shakedown serve`: prepare once (bad input is exit 2 before the port opens), listen,
//! and run the suites on request through [`crate::serve`]. SIGTERM or Ctrl-C stops the
//! listener, ends a run in flight like its deadline, and exits 0.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::error::{BadInput, ExitStatus};
use crate::host::HostPool;
use crate::report::Reports;
use crate::runner::RunOptions;
use crate::serve::{Snapshot, flight::Flight, http};

use super::pipeline::{self, Run};

/// What every run shares: read and checked once, at startup.
struct Suite {
    inventory: crate::inventory::Inventory,
    plan: crate::suite::Plan,
    library: Arc<crate::steps::StepLibrary>,
    /// The pairs' history, in memory for the life of the server (a file would be shared
    /// with the `run`s and `check`s of the same suite, whose "since the last run" differs).
    state: Arc<std::sync::Mutex<crate::state::Ledger>>,
    /// The hosts' connections, opened by the first run that needs each and kept for the
    /// life of the server (every run reads its facts afresh); closed when it stops.
    pool: Arc<HostPool>,
}

/// Serves until SIGTERM/SIGINT; returns 0 then.
pub async fn serve(args: &ServeArgs) -> anyhow::Result<ExitStatus> {
    let mut prepared = super::prepare::prepare(&args.select)?;
    pipeline::keep_connections(&mut prepared.inventory, args.exec.keep_connections).map_err(BadInput::one)?;
    let pool = HostPool::new(&prepared.inventory, None).map_err(|e| BadInput::one(format!("cannot start: {e}")))?;
    let pool = Arc::new(pool);
    let suite = Arc::new(Suite {
        pool: pool.clone(),
        inventory: prepared.inventory,
        plan: prepared.plan,
        library: Arc::new(prepared.library),
        state: Arc::new(std::sync::Mutex::new(crate::state::Ledger::in_memory())),
    });
    let listener = tokio::net::TcpListener::bind(args.listen.as_str())
        .await
        .map_err(|e| BadInput::one(format!("--listen {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let opts = RunOptions {
        concurrency: args.exec.concurrency,
        step_timeout: args.exec.step_timeout,
        timeout: Some(args.timeout),
        retries: args.exec.retries,
        fail_fast: false,
        until_pass: None,
    };
    let run = move |number: u64| -> futures::future::BoxFuture<'static, Snapshot> {
        Box::pin(one_run(suite.clone(), opts.clone(), number, stopped(stop_rx.clone())))
    };
    let flight = Flight::new(args.cache, Arc::new(run));
    // Handlers first: a signal sent as soon as the address is printed is caught.
    let signal = crate::signal::stop();
    eprintln!("listening on {addr}");
    http::serve(listener, flight, async move {
        signal.await;
        let _ = stop_tx.send(true);
    })
    .await;
    // The kept connections end with the server (bounded: about 2 s).
    pool.close().await;
    match crate::signal::received() {
        Some(sig) => eprintln!("stopped ({sig})"),
        None => eprintln!("stopped"),
    }
    Ok(ExitStatus::Ok)
}

/// Resolves when the server is stopping.
async fn stopped(mut rx: watch::Receiver<bool>) {
    if rx.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One run of the prepared plan, on the server's kept SSH connections, with a pool of its
/// own ([`HostPool::next_run`]): a pool caches host facts (services, packages, mounts)
/// that must be read afresh each run.
async fn one_run(
    suite: Arc<Suite>,
    opts: RunOptions,
    number: u64,
    stop: impl std::future::Future<Output = ()> + Send,
) -> Snapshot {
    let started = junit_report::OffsetDateTime::now_utc();
    let timeout = opts.timeout.unwrap_or_default();
    let mut snapshot = Snapshot {
        summary: Default::default(),
        problems: Vec::new(),
        timeout,
        number,
        started,
        finished_at: SystemTime::now(),
        finished: Instant::now(),
    };
    let run = Run {
        inventory: &suite.inventory,
        plan: &suite.plan,
        library: suite.library.clone(),
        trace: None,
        opts,
        close_grace: Some(std::time::Duration::from_secs(2)),
        state: Some(suite.state.clone()),
        connections: Some(suite.pool.clone()),
    };
    match pipeline::execute(run, Reports::new(Vec::new()), None, None, move || stop).await {
        Ok(finished) => snapshot.summary = Arc::unwrap_or_clone(finished.summary),
        Err(problem) => {
            snapshot.problems.push(problem);
            return snapshot;
        }
    }
    snapshot.finished_at = SystemTime::now();
    snapshot.finished = Instant::now();
    snapshot
}
