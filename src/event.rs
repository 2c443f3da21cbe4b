//! What a run tells its reports: a stream of [`Event`]s. The runner only emits; every
//! report, the console included, only consumes. Data is owned or `Arc`, so events cross tasks.

use std::sync::Arc;
use std::time::Duration;

use crate::outcome::StepResult;
use crate::suite::Unit;

/// One thing that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run starts with this many units.
    RunStarted {
        /// Units planned.
        total: usize,
    },
    /// A unit (scenario × host) started.
    ScenarioStarted {
        /// The unit.
        unit: Arc<Unit>,
    },
    /// A step finished (passed, failed, errored or skipped).
    StepFinished {
        /// The unit.
        unit: Arc<Unit>,
        /// Index of the step in the scenario.
        index: usize,
        /// Its result.
        result: StepResult,
        /// How long it took.
        duration: Duration,
    },
    /// A failed unit is being tried again.
    ScenarioRetrying {
        /// The unit.
        unit: Arc<Unit>,
        /// The attempt that is starting (2 for the first retry).
        attempt: u32,
    },
    /// A unit finished.
    ScenarioFinished {
        /// The unit.
        unit: Arc<Unit>,
        /// Its final result.
        result: Arc<UnitResult>,
    },
    /// The run is over.
    RunFinished {
        /// Counts and every unit's result.
        summary: Arc<RunSummary>,
    },
}

/// How a unit ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitStatus {
    /// Every step passed.
    Passed,
    /// A step failed or could not check.
    Failed,
    /// Not run to the end because the run deadline fired (or the run was interrupted).
    TimedOut,
    /// Not run (fail-fast stopped scheduling).
    Skipped,
}

/// The final result of one unit.
#[derive(Debug, Clone)]
pub struct UnitResult {
    /// The unit.
    pub unit: Arc<Unit>,
    /// Final status.
    pub status: UnitStatus,
    /// Each step's result, in order (steps after a failure are `Skipped`).
    pub steps: Vec<(StepResult, Duration)>,
    /// Attempts made (1 without retries).
    pub attempts: u32,
    /// Wall time of the last attempt.
    pub duration: Duration,
    /// The attempts before the last, in order (empty without retries): the retry history
    /// every report reads from here, instead of following the event stream.
    pub earlier: Vec<Attempt>,
    /// Under `--until-pass`: the wall time from this pair's first attempt's start to its last
    /// attempt's end (`converged after 14.2s, 4 attempts`); `None` without the option.
    pub converging: Option<Duration>,
    /// Where this pair stands against the runs before it, from `--state`; `None` without a
    /// state (`--no-state`), on the first run of a state (no last run to compare with), and
    /// for a unit not run. A pair the state had never seen, once it has a history, is
    /// [`Since::NewFailure`] or [`Since::Passing`].
    pub since: Option<Since>,
}

/// A (scenario, host) pair's result against the previous run's, from `--state`: what the
/// reports mark as new, still failing or recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Passes now, and passed the last time (or was never seen before): nothing to say.
    Passing {
        /// Since when it has passed.
        since: std::time::SystemTime,
    },
    /// Fails now, and did not the last time (or was never seen before).
    NewFailure,
    /// Fails now, and failed the last time too.
    StillFailing {
        /// Since when it has failed (the first failing run of this streak).
        since: std::time::SystemTime,
    },
    /// Passes now, and failed the last time.
    Recovered {
        /// Since when it had been failing.
        failing_since: std::time::SystemTime,
    },
}

/// One attempt of a unit that was retried: its steps as they were reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attempt {
    /// Each step's result, in the order reported (the attempt's first failure among them).
    pub steps: Vec<(StepResult, Duration)>,
}

impl Attempt {
    /// The first failed or errored step of the attempt: (index, result).
    pub fn failure(&self) -> Option<(usize, &StepResult)> {
        first_failure(&self.steps)
    }
}

fn first_failure(steps: &[(StepResult, Duration)]) -> Option<(usize, &StepResult)> {
    steps
        .iter()
        .enumerate()
        .find(|(_, (r, _))| r.is_failure())
        .map(|(i, (r, _))| (i, r))
}

impl UnitResult {
    /// The first failed or errored step: (index, result).
    pub fn failure(&self) -> Option<(usize, &StepResult)> {
        first_failure(&self.steps)
    }
}

/// Counts over a whole run, and every unit's result: what exit statuses and summaries
/// are computed from.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Every unit's result, in plan order.
    pub results: Vec<Arc<UnitResult>>,
    /// Wall time of the run.
    pub duration: Duration,
    /// Whether the `--timeout` deadline fired.
    pub deadline_hit: bool,
    /// Whether the run was interrupted (SIGINT/SIGTERM).
    pub interrupted: bool,
}

impl RunSummary {
    /// Units with this status.
    pub fn count(&self, status: UnitStatus) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Units that did not pass (failed or timed out).
    pub fn failed(&self) -> usize {
        self.count(UnitStatus::Failed) + self.count(UnitStatus::TimedOut)
    }

    /// Whether every unit passed (and there was at least one... or none at all).
    pub fn all_passed(&self) -> bool {
        self.failed() == 0
    }

    /// Distinct hosts in the run.
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.results.iter().filter_map(|r| r.unit.host.clone()).collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// Distinct hosts with a failed unit, in order.
    pub fn failed_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self
            .results
            .iter()
            .filter(|r| matches!(r.status, UnitStatus::Failed | UnitStatus::TimedOut))
            .map(|r| r.unit.host.clone().unwrap_or_else(|| "-".into()))
            .collect();
        hosts.dedup();
        let mut seen = Vec::new();
        hosts.retain(|h| {
            if seen.contains(h) {
                false
            } else {
                seen.push(h.clone());
                true
            }
        });
        hosts
    }
}
