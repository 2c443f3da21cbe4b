//! The runner: takes a [`Plan`] and runs its units, many hosts at once
//! (`--concurrency`), the steps of one unit in order, each under the step timeout, the
//! whole run under `--timeout`, with retries (after a growing pause, against the host read
//! afresh) and fail-fast. It only emits [`Event`]s; it never formats anything.

mod pipeline;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc, watch};

use crate::event::{Attempt, Event, RunSummary, UnitResult, UnitStatus};
use crate::host::{HostHandle, HostPool};
use crate::steps::{Args, Resolved, StepCtx, StepError, StepLibrary, StepResult, Unmatched};
use crate::suite::{Plan, Unit};

/// How to run.
#[derive(Debug, Clone)]
pub(crate) struct RunOptions {
    /// Units in flight at once.
    pub concurrency: usize,
    /// Per-step deadline.
    pub step_timeout: Duration,
    /// Whole-run deadline.
    pub timeout: Option<Duration>,
    /// Re-runs of a failed unit, each after [`retry_pause`] and with the host read afresh.
    pub retries: u32,
    /// After the first failed unit, start no more work: units not yet at their first step
    /// are not run, no retry starts, steps already running finish.
    pub fail_fast: bool,
    /// `--until-pass`: a failed unit is tried again (after [`converge_pause`], against the
    /// host read afresh, reconnecting when its connect failed) until it passes or this long
    /// since its first attempt started is spent; `retries`, when more than 0, also caps the
    /// attempts (whichever ends first). The run deadline, fail-fast and SIGINT still end it.
    pub until_pass: Option<Duration>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 64,
            step_timeout: Duration::from_secs(10),
            timeout: None,
            retries: 0,
            fail_fast: false,
            until_pass: None,
        }
    }
}

/// The pause before the first retry; each later one doubles it, up to [`MAX_RETRY_PAUSE`].
pub(crate) const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause between two attempts.
pub(crate) const MAX_RETRY_PAUSE: Duration = Duration::from_secs(8);

/// The pause after failed attempt `failed_attempt` (1 for the first) before the next one:
/// 0.5 s, 1 s, 2 s, 4 s, then 8 s each, so a service that is still warming up gets time to
/// come up without a quick failure costing long. The runner never pauses past `--timeout`.
pub(crate) fn retry_pause(failed_attempt: u32) -> Duration {
    let doublings = failed_attempt.saturating_sub(1).min(8);
    FIRST_RETRY_PAUSE.saturating_mul(1 << doublings).min(MAX_RETRY_PAUSE)
}

/// The longest pause between two attempts under `--until-pass`: a pair converging is
/// seen passing within a few seconds of doing so, and the time it reports stays that close.
pub(crate) const MAX_CONVERGE_PAUSE: Duration = Duration::from_secs(4);

/// The pause after failed attempt `failed_attempt` under `--until-pass`: 0.5 s, 1 s, 2 s,
/// then 4 s each (the caller also keeps it within the budget and the run deadline).
pub(crate) fn converge_pause(failed_attempt: u32) -> Duration {
    retry_pause(failed_attempt).min(MAX_CONVERGE_PAUSE)
}

/// What a unit has done in its current attempt, so that a deadline or an interruption can
/// report the steps it finished and the time it ran.
#[derive(Debug, Default)]
struct UnitProgress {
    /// The attempt under way (0: not started).
    attempt: u32,
    /// When that attempt started (the first one: when the unit got its turn).
    started: Option<Instant>,
    /// When the first attempt started (what `--until-pass` measures from).
    first: Option<Instant>,
    /// When its last step was reported.
    last: Option<Instant>,
    /// Its steps reported so far.
    steps: Vec<(StepResult, Duration)>,
    /// The attempts before this one (kept in the unit's result).
    earlier: Vec<Attempt>,
}

impl UnitProgress {
    fn begin(&mut self, attempt: u32) {
        let mut earlier = std::mem::take(&mut self.earlier);
        if attempt > 1 {
            earlier.push(Attempt {
                steps: std::mem::take(&mut self.steps),
            });
        }
        let now = Instant::now();
        *self = UnitProgress {
            attempt,
            started: Some(now),
            first: self.first.or(Some(now)),
            earlier,
            ..UnitProgress::default()
        };
    }

    fn push(&mut self, result: StepResult, duration: Duration) {
        self.steps.push((result, duration));
        self.last = Some(Instant::now());
    }
}

/// Each unit's progress, shared with the task running it.
type Progress = Arc<Mutex<UnitProgress>>;

fn progress_of(p: &Progress) -> std::sync::MutexGuard<'_, UnitProgress> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Set once `--fail-fast` has seen a unit fail: from then on no unit starts its first step
/// (those still waiting for their host's connection are not run), no retry starts, and no
/// host's facts are read ahead. Units already running steps finish the attempt they are
/// on: a command is never cut halfway (the deadline and SIGINT do that).
#[derive(Clone)]
struct Halt(Arc<watch::Sender<bool>>);

impl Halt {
    fn new() -> Self {
        Halt(Arc::new(watch::channel(false).0))
    }

    fn set(&self) {
        self.0.send_replace(true);
    }

    fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    async fn wait(&self) {
        let _ = self.0.subscribe().wait_for(|halted| *halted).await;
    }
}

/// What every unit of a run shares.
struct Shared {
    library: Arc<StepLibrary>,
    pool: Arc<HostPool>,
    opts: RunOptions,
    sink: mpsc::UnboundedSender<Event>,
    halt: Halt,
    /// When `--timeout` ends the run.
    deadline: Option<Instant>,
}

/// Runs `plan`; events go to `sink`. `stop` ends the run early like the deadline
/// (SIGINT/SIGTERM): what has not finished is reported as timed out.
pub(crate) async fn run(
    plan: &Plan,
    library: Arc<StepLibrary>,
    pool: Arc<HostPool>,
    opts: RunOptions,
    sink: mpsc::UnboundedSender<Event>,
    stop: impl std::future::Future<Output = ()>,
) -> RunSummary {
    let started = Instant::now();
    let units: Vec<Arc<Unit>> = plan.units.iter().cloned().map(Arc::new).collect();
    let resolved = resolve_steps(&units, &library);
    let _ = sink.send(Event::RunStarted { total: units.len() });
    let halt = Halt::new();
    connect_early(&units, &resolved, &library, &pool, opts.step_timeout, &halt);

    let semaphore = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let shared = Arc::new(Shared {
        library,
        pool,
        deadline: opts.timeout.map(|t| started + t),
        opts: opts.clone(),
        sink: sink.clone(),
        halt: halt.clone(),
    });
    let progress: Vec<Progress> = units.iter().map(|_| Progress::default()).collect();
    let mut set = tokio::task::JoinSet::new();
    let mut results: Vec<Option<Arc<UnitResult>>> = vec![None; units.len()];
    let deadline = async {
        match opts.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let (mut deadline_hit, mut interrupted) = (false, false);
    tokio::pin!(deadline);
    tokio::pin!(stop);
    // Units start in plan order as permits free up (so --fail-fast with --concurrency 1
    // really stops before the next unit), and finish in any order.
    let mut next = 0;
    loop {
        let scheduling = next < units.len() && !halt.is_set();
        if !scheduling && set.is_empty() {
            break;
        }
        tokio::select! {
            permit = semaphore.clone().acquire_owned(), if scheduling => {
                let Ok(permit) = permit else { break };
                // The permit may have been freed by the unit that just failed.
                if halt.is_set() {
                    continue;
                }
                let index = next;
                next += 1;
                let (unit, shared, p) = (units[index].clone(), shared.clone(), progress[index].clone());
                let steps = resolved[index].clone();
                set.spawn(async move {
                    let _permit = permit;
                    let result = shared.run_unit(&unit, &steps, &p).await;
                    if shared.opts.fail_fast && result.status == UnitStatus::Failed {
                        shared.halt.set();
                    }
                    let result = Arc::new(result);
                    let _ = shared.sink.send(Event::ScenarioFinished { unit: unit.clone(), result: result.clone() });
                    (index, result)
                });
            }
            done = set.join_next(), if !set.is_empty() => {
                if let Some(Ok((i, r))) = done {
                    results[i] = Some(r);
                }
            }
            () = &mut deadline => { deadline_hit = true; break; }
            () = &mut stop => { interrupted = true; break; }
        }
    }
    set.abort_all();

    let results = finish_unfinished(
        &units,
        results,
        &progress,
        &opts,
        &sink,
        Stop::of(deadline_hit, interrupted),
    );
    RunSummary {
        results,
        duration: started.elapsed(),
        deadline_hit,
        interrupted,
    }
}

/// A scenario's steps, each resolved to its definition once for the run (or why it has
/// none), shared by every unit of the scenario.
pub(crate) type ResolvedSteps = Arc<Vec<Result<Resolved, Unmatched>>>;

/// Resolves the steps of every scenario of the run once; one entry per unit.
fn resolve_steps(units: &[Arc<Unit>], library: &StepLibrary) -> Vec<ResolvedSteps> {
    let mut by_scenario: std::collections::HashMap<*const crate::suite::Scenario, ResolvedSteps> = Default::default();
    units
        .iter()
        .map(|unit| {
            by_scenario
                .entry(Arc::as_ptr(&unit.scenario))
                .or_insert_with(|| {
                    Arc::new(
                        unit.scenario
                            .steps
                            .iter()
                            .map(|s| library.resolve_step(&s.text))
                            .collect(),
                    )
                })
                .clone()
        })
        .collect()
}

/// Tells `handle` which facts the steps of a unit read on it, so that the first read of
/// any of them reads them all in one command ([`crate::facts::prefetch`]).
fn plan_facts(handle: &HostHandle, steps: &[Result<Resolved, Unmatched>], library: &StepLibrary) {
    for step in steps.iter().flatten() {
        let (def, raw) = (library.def(step), &step.raw);
        {
            crate::facts::of(handle).plan(def.facts.iter().copied().filter(|f| !f.named_by_args()));
            if def.facts.iter().any(|f| f.named_by_args()) {
                // What the step's arguments name, after the host's variables are put in
                // (a bad placeholder is the step's to report).
                if let Ok(args) = library.substitute_args(def, raw, Some(&handle.host)) {
                    for fact in def.facts.iter().filter(|f| f.named_by_args()) {
                        crate::facts::of(handle).plan_read(*fact, &args);
                    }
                }
            }
        }
    }
}

/// Starts every needed SSH master at once, so handshakes overlap instead of queueing
/// behind the first step of each host; tells each host which facts its steps read, and
/// reads them in one command as soon as it is connected (unless `--fail-fast` has halted
/// the run by then).
fn connect_early(
    units: &[Arc<Unit>],
    resolved: &[ResolvedSteps],
    library: &StepLibrary,
    pool: &Arc<HostPool>,
    step_timeout: Duration,
    halt: &Halt,
) {
    let mut hosts: std::collections::BTreeMap<&str, Arc<HostHandle>> = Default::default();
    for (unit, steps) in units.iter().zip(resolved) {
        let Some(name) = unit.host.as_deref() else { continue };
        let Some(handle) = pool.get(name) else { continue };
        plan_facts(&handle, steps, library);
        hosts.insert(name, handle);
    }
    for handle in hosts.into_values() {
        let halt = halt.clone();
        tokio::spawn(async move {
            if handle.connect().await.is_ok() && !halt.is_set() {
                crate::facts::prefetch(&handle, step_timeout).await;
            }
        });
    }
}

/// Why a run ended before every unit finished.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Deadline,
    Interrupted,
}

impl Stop {
    fn of(deadline_hit: bool, interrupted: bool) -> Option<Stop> {
        if deadline_hit {
            Some(Stop::Deadline)
        } else if interrupted {
            Some(Stop::Interrupted)
        } else {
            None
        }
    }
}

/// The results of the units the run did not see finish: what each had done, and the time
/// its attempt ran until now (the step it was on gets the time since the step before it).
fn finish_unfinished(
    units: &[Arc<Unit>],
    results: Vec<Option<Arc<UnitResult>>>,
    progress: &[Progress],
    opts: &RunOptions,
    sink: &mpsc::UnboundedSender<Event>,
    stopped: Option<Stop>,
) -> Vec<Arc<UnitResult>> {
    let now = Instant::now();
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if let Some(r) = r {
                return r;
            }
            let unit = units[i].clone();
            let (mut steps, attempts, started, last, earlier, first) = {
                let p = progress_of(&progress[i]);
                (
                    p.steps.clone(),
                    p.attempt,
                    p.started,
                    p.last,
                    p.earlier.clone(),
                    p.first,
                )
            };
            let status = if stopped.is_some() {
                UnitStatus::TimedOut
            } else {
                UnitStatus::Skipped
            };
            let ran = |since: Option<Instant>| since.map(|s| now.saturating_duration_since(s)).unwrap_or_default();
            if let Some(stop) = stopped.filter(|_| steps.len() < unit.scenario.steps.len()) {
                let why = match (stop, opts.timeout) {
                    (Stop::Deadline, Some(t)) => {
                        format!("run timed out after {} (--timeout)", humantime::format_duration(t))
                    }
                    _ => "run interrupted (SIGINT/SIGTERM)".to_string(),
                };
                steps.push((StepResult::Error(why), ran(last.or(started))));
            }
            while steps.len() < unit.scenario.steps.len() {
                steps.push((StepResult::Skipped, Duration::ZERO));
            }
            let result = Arc::new(UnitResult {
                unit: unit.clone(),
                status,
                steps,
                attempts,
                duration: ran(started),
                earlier,
                converging: opts.until_pass.and(first).map(|f| now.saturating_duration_since(f)),
                since: None,
            });
            let _ = sink.send(Event::ScenarioFinished {
                unit,
                result: result.clone(),
            });
            result
        })
        .collect()
}

/// A unit `--fail-fast` called off before its first step.
fn not_run(unit: &Arc<Unit>) -> UnitResult {
    UnitResult {
        unit: unit.clone(),
        status: UnitStatus::Skipped,
        steps: vec![(StepResult::Skipped, Duration::ZERO); unit.scenario.steps.len()],
        attempts: 0,
        duration: Duration::ZERO,
        earlier: Vec::new(),
        converging: None,
        since: None,
    }
}

impl Shared {
    /// Runs one unit: waits for its host's connection, runs its steps, and when they fail
    /// and another attempt is allowed ([`Shared::another_attempt`]), pauses and runs them
    /// again against the host read afresh ([`HostHandle::afresh`]): the run's facts are read
    /// once per host, but a retry that saw them again could never change its result. Under
    /// `--until-pass` a host whose connect failed is connected again for the next attempt.
    async fn run_unit(&self, unit: &Arc<Unit>, resolved: &ResolvedSteps, progress: &Progress) -> UnitResult {
        progress_of(progress).begin(1);
        let first = Instant::now();
        let mut start = first;
        let shared = unit.host.as_deref().and_then(|h| self.pool.get(h));
        if let Some(h) = &shared {
            // Opened early for every host (`connect_early`), at most so many at once: a
            // failed connect is remembered, and every step then reports it at once.
            tokio::select! {
                _ = h.connect() => {}
                () = self.halt.wait() => return not_run(unit),
            }
        }
        if self.halt.is_set() {
            return not_run(unit);
        }
        let _ = self.sink.send(Event::ScenarioStarted { unit: unit.clone() });
        let mut host = shared.clone();
        let mut attempt = 1;
        loop {
            let steps = pipeline::run_steps(
                unit,
                resolved,
                &self.library,
                &self.pool,
                host,
                &self.opts,
                &self.sink,
                progress,
            )
            .await;
            let failed = steps.iter().any(|(r, _)| r.is_failure());
            if !failed || !self.another_attempt(attempt, first) || !self.pause(attempt, first).await {
                return UnitResult {
                    unit: unit.clone(),
                    status: if failed { UnitStatus::Failed } else { UnitStatus::Passed },
                    steps,
                    attempts: attempt,
                    duration: start.elapsed(),
                    earlier: std::mem::take(&mut progress_of(progress).earlier),
                    converging: self.opts.until_pass.map(|_| first.elapsed()),
                    since: None,
                };
            }
            attempt += 1;
            let _ = self.sink.send(Event::ScenarioRetrying {
                unit: unit.clone(),
                attempt,
            });
            progress_of(progress).begin(attempt);
            start = Instant::now();
            if let Some(h) = shared.as_ref().filter(|_| self.opts.until_pass.is_some()) {
                // A host that could not be reached (rebooting, sshd restarting) is tried
                // again, within its connect timeout; a live connection is kept as it is.
                h.forget_failed_connect();
            }
            host = shared.as_ref().map(|h| {
                let fresh = h.afresh();
                plan_facts(&fresh, resolved, &self.library);
                Arc::new(fresh)
            });
            if let Some(h) = &host {
                crate::probes::mysql::session(h).forget_failure().await;
            }
        }
    }

    /// Whether a unit whose attempt `attempt` (1 for the first) failed gets another: with
    /// `--until-pass`, while its budget since `first` is not spent (and, with `--retries N`
    /// too, N retries are not made); without, while `--retries` are left.
    fn another_attempt(&self, attempt: u32, first: Instant) -> bool {
        match self.opts.until_pass {
            Some(budget) => first.elapsed() < budget && (self.opts.retries == 0 || attempt <= self.opts.retries),
            None => attempt <= self.opts.retries,
        }
    }

    /// Waits before the attempt after `failed_attempt` (never past the run deadline, nor,
    /// under `--until-pass`, past the unit's budget since `first`: the last attempt starts
    /// at its end at the latest); false when `--fail-fast` halted the run meanwhile: no
    /// retry then.
    async fn pause(&self, failed_attempt: u32, first: Instant) -> bool {
        let mut pause = match self.opts.until_pass {
            Some(budget) => {
                converge_pause(failed_attempt).min((first + budget).saturating_duration_since(Instant::now()))
            }
            None => retry_pause(failed_attempt),
        };
        if let Some(deadline) = self.deadline {
            pause = pause.min(deadline.saturating_duration_since(Instant::now()));
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => !self.halt.is_set(),
            () = self.halt.wait() => false,
        }
    }
}

async fn run_step(
    ctx: &mut StepCtx,
    library: &StepLibrary,
    step: &crate::suite::Step,
    resolved: &Result<Resolved, Unmatched>,
) -> StepResult {
    let (def, raw) = match resolved {
        Ok(r) => (library.def(r), &r.raw),
        Err(unmatched) => return StepResult::Error(unmatched.to_string()),
    };
    let host = ctx.host.as_ref().map(|h| &h.host);
    let subst = |t: &str| crate::template::substitute(t, host).map_err(|e| e.to_string());
    let args = (|| -> Result<Args, String> {
        Ok(Args {
            values: library.substitute_args(def, raw, host)?,
            doc_string: step.doc_string.as_ref().map(|d| subst(&d.content)).transpose()?,
            table: step.table.clone(),
        })
    })();
    let args = match args {
        Ok(a) => a,
        Err(e) => return StepResult::Error(e),
    };
    if def.needs_host && ctx.host.is_none() {
        return StepResult::Error(StepError::NoHost.to_string());
    }
    // A little grace over the step timeout so a transport's own timeout (which says more)
    // fires first.
    let limit = ctx.step_timeout + Duration::from_millis(500);
    match tokio::time::timeout(limit, library.call(def, ctx, args)).await {
        Ok(Ok(outcome)) if outcome.passed => StepResult::Passed(outcome),
        Ok(Ok(outcome)) => StepResult::Failed(outcome),
        Ok(Err(e)) => StepResult::Error(e.to_string()),
        Err(_) => StepResult::Error(StepError::Timeout(ctx.step_timeout).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_pauses_double_from_half_a_second_up_to_eight() {
        let pauses: Vec<u128> = (1..=7).map(|n| retry_pause(n).as_millis()).collect();
        assert_eq!(pauses, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(retry_pause(u32::MAX), MAX_RETRY_PAUSE);
    }

    #[test]
    fn convergence_pauses_double_from_half_a_second_up_to_four() {
        let pauses: Vec<u128> = (1..=6).map(|n| converge_pause(n).as_millis()).collect();
        assert_eq!(pauses, [500, 1000, 2000, 4000, 4000, 4000]);
    }
}
