//! The stop signals (SIGINT, SIGTERM) of `run`, `check` and `serve`: one future that
//! resolves on either, with handlers installed when it is made (not when first polled, so
//! a signal sent just after `serve` says `listening on` is caught), and a record of which
//! one arrived, so reports name the right one.

use std::sync::atomic::{AtomicI32, Ordering};

use tokio::signal::unix::{SignalKind, signal};

/// The signal number received, 0 before any.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// Resolves on SIGINT or SIGTERM, recording which; never resolves if the handlers cannot be
/// installed.
pub(crate) fn stop() -> impl std::future::Future<Output = ()> + Send + 'static {
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    async move {
        let (Ok(mut term), Ok(mut int)) = (term, int) else {
            return std::future::pending().await;
        };
        let got = tokio::select! {
            _ = term.recv() => libc::SIGTERM,
            _ = int.recv() => libc::SIGINT,
        };
        RECEIVED.store(got, Ordering::SeqCst);
    }
}

/// The name of the stop signal received so far (`SIGINT`, `SIGTERM`), if any.
pub(crate) fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        libc::SIGINT => Some("SIGINT"),
        libc::SIGTERM => Some("SIGTERM"),
        _ => None,
    }
}
