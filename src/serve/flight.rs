//! One run at a time, shared: the first request past the cache starts a run on its own
//! task; every request that arrives while it is in flight waits for that same run; a
//! result younger than `--cache` is answered at once. The run is a task, not the
//! request's future, so a client that disconnects never stalls the others.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::watch;

use super::Snapshot;

/// What runs the suites once; given the run's number (1, 2, ...).
pub type RunFn = dyn Fn(u64) -> BoxFuture<'static, Snapshot> + Send + Sync;

/// The shared run and its cache.
pub struct Flight {
    cache: Duration,
    run: Arc<RunFn>,
    state: Mutex<State>,
    runs: AtomicU64,
}

#[derive(Default)]
struct State {
    last: Option<Arc<Snapshot>>,
    in_flight: Option<watch::Receiver<Option<Arc<Snapshot>>>>,
}

/// The run in flight ended without a result (its task panicked).
#[derive(Debug, thiserror::Error)]
#[error("the run ended without a result")]
pub struct RunLost;

impl Flight {
    /// Reuses a result for `cache`; `run` does one run.
    pub fn new(cache: Duration, run: Arc<RunFn>) -> Arc<Self> {
        Arc::new(Flight {
            cache,
            run,
            state: Mutex::new(State::default()),
            runs: AtomicU64::new(0),
        })
    }

    /// A result younger than the cache, or the run in flight's, or a new run's.
    pub async fn fresh(self: &Arc<Self>) -> Result<Arc<Snapshot>, RunLost> {
        let mut rx = {
            let mut state = self.lock();
            if let Some(last) = state.last.as_ref().filter(|l| l.finished.elapsed() < self.cache) {
                return Ok(last.clone());
            }
            self.join_or_start(&mut state)
        };
        let got = rx.wait_for(Option::is_some).await.map_err(|_| RunLost)?.clone();
        got.ok_or(RunLost)
    }

    /// The last finished result, without waiting (none before the first run ends); starts
    /// a run in the background when that result is older than the cache, so a scraper
    /// alone keeps it fresh.
    pub fn latest(self: &Arc<Self>) -> Option<Arc<Snapshot>> {
        let mut state = self.lock();
        let stale = state.last.as_ref().is_none_or(|l| l.finished.elapsed() >= self.cache);
        if stale {
            self.join_or_start(&mut state);
        }
        state.last.clone()
    }

    /// Runs started since the server started.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::SeqCst)
    }

    /// Whether a run is in flight now.
    pub fn running(&self) -> bool {
        self.lock().in_flight.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind: keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The receiver of the run in flight, starting one if none is (or the last one died).
    fn join_or_start(self: &Arc<Self>, state: &mut State) -> watch::Receiver<Option<Arc<Snapshot>>> {
        if let Some(rx) = state.in_flight.as_ref().filter(|rx| rx.has_changed().is_ok()) {
            return rx.clone();
        }
        let (tx, rx) = watch::channel(None);
        state.in_flight = Some(rx.clone());
        let number = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        let this = self.clone();
        tokio::spawn(async move {
            let snapshot = Arc::new((this.run)(number).await);
            let mut state = this.lock();
            state.last = Some(snapshot.clone());
            state.in_flight = None;
            let _ = tx.send(Some(snapshot));
        });
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Instant, SystemTime};
    use tokio::sync::Notify;

    fn snapshot(number: u64) -> Snapshot {
        Snapshot {
            summary: Default::default(),
            problems: Vec::new(),
            timeout: Duration::from_secs(50),
            number,
            started: junit_report::OffsetDateTime::UNIX_EPOCH,
            finished_at: SystemTime::now(),
            finished: Instant::now(),
        }
    }

    /// A run that waits for `gate` before finishing.
    fn gated(gate: Arc<Notify>) -> Arc<RunFn> {
        Arc::new(move |n| {
            let gate = gate.clone();
            Box::pin(async move {
                gate.notified().await;
                snapshot(n)
            })
        })
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_run() {
        let gate = Arc::new(Notify::new());
        let flight = Flight::new(Duration::from_secs(60), gated(gate.clone()));
        let waiting: Vec<_> = (0..10)
            .map(|_| {
                let f = flight.clone();
                tokio::spawn(async move { f.fresh().await.map(|s| s.number) })
            })
            .collect();
        while !flight.running() {
            tokio::task::yield_now().await;
        }
        assert!(
            flight.latest().is_none(),
            "nothing finished yet, and latest does not wait"
        );
        gate.notify_one();
        for w in waiting {
            assert_eq!(w.await.expect("joined").expect("result"), 1);
        }
        assert_eq!(flight.runs(), 1);
        // Within the cache: the same result, no new run.
        assert_eq!(flight.fresh().await.expect("cached").number, 1);
        assert_eq!(flight.runs(), 1);
    }

    #[tokio::test]
    async fn a_stale_result_starts_a_new_run() {
        let flight = Flight::new(Duration::ZERO, Arc::new(|n| Box::pin(async move { snapshot(n) })));
        assert_eq!(flight.fresh().await.expect("first").number, 1);
        assert_eq!(flight.fresh().await.expect("second").number, 2);
        // latest answers the last result at once and starts a run in the background.
        assert_eq!(flight.latest().map(|s| s.number), Some(2));
        assert_eq!(flight.runs(), 3);
    }

    #[tokio::test]
    async fn a_dropped_request_does_not_stop_the_run() {
        let gate = Arc::new(Notify::new());
        let flight = Flight::new(Duration::from_secs(60), gated(gate.clone()));
        let first = flight.clone();
        let request = tokio::spawn(async move { first.fresh().await.map(|s| s.number) });
        while !flight.running() {
            tokio::task::yield_now().await;
        }
        request.abort();
        gate.notify_one();
        assert_eq!(flight.fresh().await.expect("result").number, 1);
        assert_eq!(flight.runs(), 1);
    }
}
