//! The runner: takes a [`Plan`] and runs its units, many hosts at once
//! (`--concurrency`), the steps of one unit in order, each under the step timeout, the
//! whole run under `--timeout`, with retries and fail-fast. It only emits [`Event`]s;
//! it never formats anything.

pub mod hosts;
mod pipeline;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};

use crate::event::{Event, RunSummary, UnitResult, UnitStatus};
use crate::steps::{Args, Match, StepCtx, StepError, StepLibrary, StepResult};
use crate::suite::{Plan, Unit};
use hosts::{HostHandle, HostPool};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Units in flight at once.
    pub concurrency: usize,
    /// Per-step deadline.
    pub step_timeout: Duration,
    /// Whole-run deadline.
    pub timeout: Option<Duration>,
    /// Re-runs of a failed unit.
    pub retries: u32,
    /// Stop starting units after the first failure.
    pub fail_fast: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: 64,
            step_timeout: Duration::from_secs(10),
            timeout: None,
            retries: 0,
            fail_fast: false,
        }
    }
}

/// Steps done so far by each unit, so a deadline can report partial progress.
type Progress = Arc<Mutex<Vec<(StepResult, Duration)>>>;

/// Runs `plan`; events go to `sink`. `stop` ends the run early like the deadline
/// (SIGINT/SIGTERM): what has not finished is reported as timed out.
pub async fn run(
    plan: &Plan,
    library: Arc<StepLibrary>,
    pool: Arc<HostPool>,
    opts: RunOptions,
    sink: mpsc::UnboundedSender<Event>,
    stop: impl std::future::Future<Output = ()>,
) -> RunSummary {
    let started = Instant::now();
    let units: Vec<Arc<Unit>> = plan.units.iter().cloned().map(Arc::new).collect();
    let _ = sink.send(Event::RunStarted { total: units.len() });
    connect_early(&units, &library, &pool, opts.step_timeout);

    let semaphore = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let failed = Arc::new(AtomicBool::new(false));
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
        let scheduling = next < units.len() && !(opts.fail_fast && failed.load(Ordering::SeqCst));
        if !scheduling && set.is_empty() {
            break;
        }
        tokio::select! {
            permit = semaphore.clone().acquire_owned(), if scheduling => {
                let Ok(permit) = permit else { break };
                // The permit may have been freed by the unit that just failed.
                if opts.fail_fast && failed.load(Ordering::SeqCst) {
                    continue;
                }
                let index = next;
                next += 1;
                let (unit, library, pool, opts, sink, failed, p) = (
                    units[index].clone(),
                    library.clone(),
                    pool.clone(),
                    opts.clone(),
                    sink.clone(),
                    failed.clone(),
                    progress[index].clone(),
                );
                set.spawn(async move {
                    let _permit = permit;
                    let result = run_unit(&unit, &library, &pool, &opts, &sink, &p).await;
                    if result.status != UnitStatus::Passed {
                        failed.store(true, Ordering::SeqCst);
                    }
                    let result = Arc::new(result);
                    let _ = sink.send(Event::ScenarioFinished { unit: unit.clone(), result: result.clone() });
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
        started,
    );
    RunSummary {
        results,
        duration: started.elapsed(),
        deadline_hit,
        interrupted,
    }
}

/// Starts every needed SSH master at once, so handshakes overlap instead of queueing
/// behind the first step of each host; tells each host which facts its steps read, and
/// reads them in one command as soon as it is connected.
fn connect_early(units: &[Arc<Unit>], library: &StepLibrary, pool: &Arc<HostPool>, step_timeout: Duration) {
    let mut hosts: std::collections::BTreeMap<&str, Arc<HostHandle>> = Default::default();
    for unit in units {
        let Some(name) = unit.host.as_deref() else { continue };
        let Some(handle) = pool.get(name) else { continue };
        for step in &unit.scenario.steps {
            if let Match::One(def, raw) = library.find(&step.text) {
                handle.facts.plan(def.facts.iter().copied().filter(|f| !f.from_args()));
                if def.facts.iter().any(|f| f.from_args()) {
                    // What the step's arguments name, after the host's variables are put in
                    // (a bad placeholder is the step's to report).
                    if let Ok(args) = library.substitute_args(def, &raw, Some(&handle.host)) {
                        for fact in def.facts.iter().filter(|f| f.from_args()) {
                            handle.facts.plan_read(*fact, &args);
                        }
                    }
                }
            }
        }
        hosts.insert(name, handle);
    }
    for handle in hosts.into_values() {
        tokio::spawn(async move {
            if handle.connect().await.is_ok() {
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

fn finish_unfinished(
    units: &[Arc<Unit>],
    results: Vec<Option<Arc<UnitResult>>>,
    progress: &[Progress],
    opts: &RunOptions,
    sink: &mpsc::UnboundedSender<Event>,
    stopped: Option<Stop>,
    started: Instant,
) -> Vec<Arc<UnitResult>> {
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if let Some(r) = r {
                return r;
            }
            let unit = units[i].clone();
            let mut steps = progress[i].lock().map(|p| p.clone()).unwrap_or_default();
            let began = !steps.is_empty();
            let status = if stopped.is_some() {
                UnitStatus::TimedOut
            } else {
                UnitStatus::Skipped
            };
            if let Some(stop) = stopped.filter(|_| steps.len() < unit.scenario.steps.len()) {
                let why = match (stop, opts.timeout) {
                    (Stop::Deadline, Some(t)) => {
                        format!("run timed out after {} (--timeout)", humantime::format_duration(t))
                    }
                    _ => "run interrupted (SIGINT/SIGTERM)".to_string(),
                };
                steps.push((StepResult::Error(why), Duration::ZERO));
            }
            while steps.len() < unit.scenario.steps.len() {
                steps.push((StepResult::Skipped, Duration::ZERO));
            }
            let result = Arc::new(UnitResult {
                unit: unit.clone(),
                status,
                steps,
                attempts: u32::from(began),
                duration: if began { started.elapsed() } else { Duration::ZERO },
            });
            let _ = sink.send(Event::ScenarioFinished {
                unit,
                result: result.clone(),
            });
            result
        })
        .collect()
}

async fn run_unit(
    unit: &Arc<Unit>,
    library: &Arc<StepLibrary>,
    pool: &Arc<HostPool>,
    opts: &RunOptions,
    sink: &mpsc::UnboundedSender<Event>,
    progress: &Progress,
) -> UnitResult {
    let mut attempt = 1;
    loop {
        if attempt > 1 {
            let _ = sink.send(Event::ScenarioRetrying {
                unit: unit.clone(),
                attempt,
            });
        } else {
            let _ = sink.send(Event::ScenarioStarted { unit: unit.clone() });
        }
        if let Ok(mut p) = progress.lock() {
            p.clear();
        }
        let start = Instant::now();
        let steps = pipeline::run_steps(unit, library, pool, opts, sink, progress).await;
        let failed = steps.iter().any(|(r, _)| r.is_failure());
        if !failed || attempt > opts.retries {
            return UnitResult {
                unit: unit.clone(),
                status: if failed { UnitStatus::Failed } else { UnitStatus::Passed },
                steps,
                attempts: attempt,
                duration: start.elapsed(),
            };
        }
        attempt += 1;
    }
}

async fn run_step(ctx: &mut StepCtx, library: &StepLibrary, step: &crate::suite::Step) -> StepResult {
    let (def, raw) = match library.find(&step.text) {
        Match::One(def, raw) => (def, raw),
        Match::None(near) => {
            return StepResult::Error(
                library
                    .quote_hint(&step.text)
                    .unwrap_or_else(|| crate::commands::lint::undefined_message(&near)),
            );
        }
        Match::Ambiguous(defs) => {
            return StepResult::Error(format!("ambiguous step: matches {} definitions", defs.len()));
        }
    };
    let host = ctx.host.as_ref().map(|h| &h.host);
    let subst = |t: &str| crate::steps::substitute(t, host).map_err(|e| e.to_string());
    let args = (|| -> Result<Args, String> {
        Ok(Args {
            values: library.substitute_args(def, &raw, host)?,
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
