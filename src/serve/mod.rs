//! `shakedown serve`: the suites as an HTTP health endpoint. A request runs the suites (or
//! reuses a result younger than `--cache`); concurrent requests share the run in flight
//! ([`flight`]); the result is rendered per endpoint and `Accept` header ([`negotiate`],
//! [`json`], [`metrics`], [`pingdom`], and the JUnit and Nagios reports). This module never
//! schedules steps: a run is the same runner as `run` and `check`, behind a closure.

pub mod flight;
pub mod http;
pub mod json;
pub mod metrics;
pub mod negotiate;
pub mod pingdom;

use std::time::{Duration, Instant, SystemTime};

use crate::event::RunSummary;
use crate::report::nagios;

/// One finished run, as every endpoint renders it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Counts and every unit's result.
    pub summary: RunSummary,
    /// Problems that kept the run from starting or reporting (shown, and never 200).
    pub problems: Vec<String>,
    /// The run's deadline (`--timeout`), named when it fired.
    pub timeout: Duration,
    /// 1 for the first run since the server started.
    pub number: u64,
    /// When the run started (JUnit timestamps).
    pub started: junit_report::OffsetDateTime,
    /// When it finished, wall clock (metrics, JSON).
    pub finished_at: SystemTime,
    /// When it finished, monotonic (cache age).
    pub finished: Instant,
}

impl Snapshot {
    /// The Nagios plugin result of the run (problems included): the `/healthz` plugin text,
    /// the state and the summary line, read from its fields.
    pub(crate) fn plugin(&self) -> nagios::PluginResult {
        nagios::result(&self.summary, Some(self.timeout), &self.problems)
    }

    /// The Nagios state of the run: UNKNOWN also when a problem kept it from reporting.
    pub fn state(&self) -> nagios::State {
        self.plugin().state
    }

    /// Whether every scenario passed (HTTP 200); anything else is 503.
    pub fn healthy(&self) -> bool {
        self.state() == nagios::State::Ok
    }

    /// The one-line summary: `14 scenarios passed on 6 hosts in 1.2s`, or what failed.
    pub fn summary_line(&self) -> String {
        if self.summary.results.is_empty() && !self.problems.is_empty() {
            return self.problems.join("; ");
        }
        self.plugin().summary().to_string()
    }
}
