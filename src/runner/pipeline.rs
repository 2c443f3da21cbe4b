//! The steps of one scenario, pipelined: steps that only read the host and keep no scenario
//! state (facts, probes) all start at once, each with its own context, so a scenario of ten
//! checks costs about one round trip instead of ten; steps that carry scenario state (an
//! HTTP request and the checks on its response) run in order on the scenario's context,
//! beside them; any other step (`When I run`, step packs) waits until every step before it
//! has passed, and nothing after it starts before it ends, exactly as in a sequential run.
//! Results are reported in step order and the first failure skips what follows, so events
//! and reports cannot tell the difference, except in time. It never formats anything.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::RunOptions;
use crate::event::Event;
use crate::host::{HostHandle, HostPool};
use crate::steps::{Lane, Resolved, StepCtx, StepLibrary, StepResult, Unmatched};
use crate::suite::Unit;

fn lane_of(library: &StepLibrary, resolved: &Result<Resolved, Unmatched>) -> Lane {
    match resolved {
        Ok(r) => library.def(r).lane,
        // Undefined or ambiguous: an error either way, reported in order.
        Err(_) => Lane::Barrier,
    }
}

type Done = (usize, StepResult, Duration);

/// One unit's steps in flight and the in-order reporting of their results.
struct Pipeline<'a> {
    unit: &'a Arc<Unit>,
    sink: &'a mpsc::UnboundedSender<Event>,
    progress: &'a super::Progress,
    slots: Vec<Option<(StepResult, Duration)>>,
    ahead: JoinSet<Done>,
    tasks: HashMap<tokio::task::Id, usize>,
    first_failure: Option<usize>,
    out: Vec<(StepResult, Duration)>,
}

impl Pipeline<'_> {
    fn store(&mut self, (index, result, duration): Done) {
        if result.is_failure() && self.first_failure.is_none_or(|f| index < f) {
            self.first_failure = Some(index);
        }
        self.slots[index] = Some((result, duration));
        self.flush();
    }

    /// Reports every result that is next in order (nothing past the first failure).
    fn flush(&mut self) {
        while let Some(Some(_)) = self.slots.get(self.out.len()) {
            let index = self.out.len();
            if self.first_failure.is_some_and(|f| index > f) {
                return;
            }
            let (result, duration) = self.slots[index].take().expect("checked just above");
            self.emit(index, result, duration);
        }
    }

    fn emit(&mut self, index: usize, result: StepResult, duration: Duration) {
        let _ = self.sink.send(Event::StepFinished {
            unit: self.unit.clone(),
            index,
            result: result.clone(),
            duration,
        });
        super::progress_of(self.progress).push(result.clone(), duration);
        self.out.push((result, duration));
    }

    /// Whether a step before `index` failed (so `index` will be skipped).
    fn stopped_before(&self, index: usize) -> bool {
        self.first_failure.is_some_and(|f| f < index)
    }

    /// Stores the `Ahead` results that are already there, without waiting.
    fn harvest(&mut self) {
        while let Some(done) = self.ahead.try_join_next_with_id() {
            let done = self.joined(done);
            self.store(done);
        }
    }

    fn joined(&mut self, done: Result<(tokio::task::Id, Done), tokio::task::JoinError>) -> Done {
        match done {
            Ok((id, done)) => {
                self.tasks.remove(&id);
                done
            }
            Err(e) => {
                let index = self.tasks.remove(&e.id()).unwrap_or(0);
                (index, StepResult::Error(format!("step stopped: {e}")), Duration::ZERO)
            }
        }
    }

    /// Waits until every step before `upto` is reported, or a failure makes the rest moot.
    async fn settle(&mut self, upto: usize) {
        loop {
            let limit = self.first_failure.map_or(upto, |f| upto.min(f + 1));
            if self.out.len() >= limit {
                return;
            }
            match self.ahead.join_next_with_id().await {
                Some(done) => {
                    let done = self.joined(done);
                    self.store(done);
                }
                // Nothing in flight yet a slot is empty: cannot happen (every step is
                // stored or in flight); stop rather than wait forever.
                None => return,
            }
        }
    }
}

/// Runs the steps of `unit` pipelined (see the module doc) on `host` (the unit's host, or
/// a retry's fresh look at it); returns them in order.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_steps(
    unit: &Arc<Unit>,
    resolved: &super::ResolvedSteps,
    library: &Arc<StepLibrary>,
    pool: &Arc<HostPool>,
    host: Option<Arc<HostHandle>>,
    opts: &RunOptions,
    sink: &mpsc::UnboundedSender<Event>,
    progress: &super::Progress,
) -> Vec<(StepResult, Duration)> {
    let fresh = || StepCtx {
        unit: unit.clone(),
        host: host.clone(),
        pool: pool.clone(),
        step_timeout: opts.step_timeout,
        last_command: None,
        http: Default::default(),
    };
    let steps = &unit.scenario.steps;
    let lanes: Vec<Lane> = resolved.iter().map(|r| lane_of(library, r)).collect();
    let mut ctx = fresh();
    let mut p = Pipeline {
        unit,
        sink,
        progress,
        slots: vec![None; steps.len()],
        ahead: JoinSet::new(),
        tasks: HashMap::new(),
        first_failure: None,
        out: Vec::with_capacity(steps.len()),
    };
    let mut start = 0;
    while start < steps.len() && p.first_failure.is_none() {
        let end = (start..steps.len())
            .find(|&i| lanes[i] == Lane::Barrier)
            .unwrap_or(steps.len());
        for index in (start..end).filter(|&i| lanes[i] == Lane::Ahead) {
            let (library, unit, resolved, mut c) = (library.clone(), unit.clone(), resolved.clone(), fresh());
            let handle = p.ahead.spawn(async move {
                let began = Instant::now();
                let result = super::run_step(&mut c, &library, &unit.scenario.steps[index], &resolved[index]).await;
                (index, result, began.elapsed())
            });
            p.tasks.insert(handle.id(), index);
        }
        for index in (start..end).filter(|&i| lanes[i] == Lane::Chain) {
            p.harvest();
            if p.stopped_before(index) {
                break;
            }
            let began = Instant::now();
            let result = super::run_step(&mut ctx, library, &steps[index], &resolved[index]).await;
            p.store((index, result, began.elapsed()));
        }
        p.settle(end).await;
        if end < steps.len() && p.first_failure.is_none() {
            let began = Instant::now();
            let result = super::run_step(&mut ctx, library, &steps[end], &resolved[end]).await;
            p.store((end, result, began.elapsed()));
        }
        start = end + 1;
    }
    p.settle(steps.len()).await;
    p.ahead.abort_all();
    while p.out.len() < steps.len() {
        let index = p.out.len();
        p.emit(index, StepResult::Skipped, Duration::ZERO);
    }
    p.out
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::future::BoxFuture;

    use super::*;
    use crate::steps::{Args, Outcome, StepDef, StepOutput};
    use crate::suite::{Feature, Scenario, Step, StepKind};

    fn def(sentence: &str) -> StepDef {
        crate::packs::builtin_library()
            .defs()
            .find(|d| d.sentence == sentence)
            .cloned()
            .unwrap_or_else(|| panic!("no built-in step \"{sentence}\""))
    }

    #[test]
    fn fact_steps_run_ahead_stateful_steps_keep_their_order() {
        assert_eq!(def("the service {string} should be running").lane, Lane::Ahead);
        assert_eq!(def("the package {string} should be installed").lane, Lane::Ahead);
        assert_eq!(def("port {int} should be listening").lane, Lane::Ahead);
        assert_eq!(def("the command {command} should succeed").lane, Lane::Ahead);
        assert_eq!(def("the output of {command} should contain {string}").lane, Lane::Ahead);
        assert_eq!(def("I request {string}").lane, Lane::Chain);
        assert_eq!(def("the response status should be {int}").lane, Lane::Chain);
        assert_eq!(def("I run {command}").lane, Lane::Barrier);
        assert_eq!(def("the output should contain {string}").lane, Lane::Barrier);
    }

    /// The important cases by family: every system step reads facts only, every step of the
    /// HTTP request family keeps the scenario's response, every pack step acts.
    #[test]
    fn whole_families_keep_their_lane() {
        let library = crate::packs::builtin_library();
        for (prefix, lane) in [
            ("src/steps/system/", Lane::Ahead),
            ("src/steps/http/mod.rs", Lane::Chain),
            ("steps/", Lane::Barrier),
        ] {
            let family: Vec<&StepDef> = library.defs().filter(|d| d.module.starts_with(prefix)).collect();
            assert!(!family.is_empty(), "no step in {prefix}");
            for d in family {
                assert_eq!(d.lane, lane, "{}: {}", d.module, d.sentence);
            }
        }
    }

    /// (label, started, ended) of every test step that ran.
    static RAN: Mutex<Vec<(String, Instant, Instant)>> = Mutex::new(Vec::new());

    /// `<lane> <label> <ms> <pass|fail>`: sleeps, records, passes or fails.
    fn sleeper(_ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
        Box::pin(async move {
            let began = Instant::now();
            tokio::time::sleep(Duration::from_millis(a.int(1)? as u64)).await;
            RAN.lock()
                .expect("test lock")
                .push((a.get(0).to_string(), began, Instant::now()));
            Ok(Outcome::check(a.get(2) == "pass", "pass", a.get(2)))
        })
    }

    fn test_def(sentence: &'static str, module: &'static str, lane: Lane) -> StepDef {
        StepDef {
            line: 1,
            sentence,
            example: "",
            doc: "",
            module,
            file: module,
            lane,
            facts: &[],
            needs_host: false,
            check: None,
            run: sleeper,
        }
    }

    async fn run(texts: &[&str]) -> (Vec<(StepResult, Duration)>, Vec<usize>, Duration) {
        let library = Arc::new(
            StepLibrary::from_defs(vec![
                test_def("ahead {word} {int} {word}", "src/steps/system/test.rs", Lane::Ahead),
                test_def("chain {word} {int} {word}", "src/steps/http/mod.rs", Lane::Chain),
                test_def("barrier {word} {int} {word}", "src/steps/elsewhere.rs", Lane::Barrier),
            ])
            .expect("test sentences compile"),
        );
        let steps = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Step {
                keyword: "Then ".into(),
                kind: StepKind::Unknown,
                text: t.to_string(),
                line: i + 2,
                column: 5,
                doc_string: None,
                table: None,
            })
            .collect();
        let scenario = Scenario {
            name: "pipelined".into(),
            keyword: "Scenario".into(),
            line: 1,
            column: 1,
            tags: vec![],
            rule: None,
            steps,
            row: None,
        };
        let feature = Arc::new(Feature {
            path: "t.feature".into(),
            name: "t".into(),
            keyword: "Feature".into(),
            line: 1,
            tags: vec![],
            description: String::new(),
            scenarios: vec![scenario.clone()],
        });
        let unit = Arc::new(Unit {
            id: "t.feature:1".into(),
            feature,
            scenario: Arc::new(scenario),
            host: None,
        });
        let pool = Arc::new(HostPool::new(&Default::default(), None).expect("empty pool"));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let began = Instant::now();
        let resolved = Arc::new(
            unit.scenario
                .steps
                .iter()
                .map(|s| library.resolve_step(&s.text))
                .collect(),
        );
        let out = run_steps(
            &unit,
            &resolved,
            &library,
            &pool,
            None,
            &RunOptions::default(),
            &tx,
            &Default::default(),
        )
        .await;
        let elapsed = began.elapsed();
        drop(tx);
        let mut order = Vec::new();
        while let Some(ev) = rx.recv().await {
            if let Event::StepFinished { index, .. } = ev {
                order.push(index);
            }
        }
        (out, order, elapsed)
    }

    fn ran(label: &str) -> Option<(Instant, Instant)> {
        RAN.lock()
            .expect("test lock")
            .iter()
            .find(|r| r.0 == label)
            .map(|r| (r.1, r.2))
    }

    fn kinds(out: &[(StepResult, Duration)]) -> Vec<&'static str> {
        out.iter()
            .map(|(r, _)| match r {
                StepResult::Passed(_) => "passed",
                StepResult::Failed(_) => "failed",
                StepResult::Error(_) => "error",
                StepResult::Skipped => "skipped",
            })
            .collect()
    }

    #[tokio::test]
    async fn independent_steps_overlap_and_are_reported_in_order() {
        let (out, order, elapsed) = run(&[
            "ahead a1 200 pass",
            "ahead a2 200 pass",
            "chain a3 200 pass",
            "ahead a4 200 pass",
            "chain a5 200 pass",
        ])
        .await;
        assert_eq!(kinds(&out), ["passed"; 5]);
        assert_eq!(order, [0, 1, 2, 3, 4]);
        // Ahead steps side by side with the chain; the two chain steps one after the other.
        assert!(elapsed < Duration::from_millis(600), "took {elapsed:?}");
        let (a3, a5) = (ran("a3").expect("a3 ran"), ran("a5").expect("a5 ran"));
        assert!(a5.0 >= a3.1, "chain steps keep their order");
    }

    #[tokio::test]
    async fn a_failure_skips_what_follows_even_if_it_already_started() {
        let (out, order, elapsed) = run(&[
            "ahead b1 50 pass",
            "ahead b2 20 fail",
            "ahead b3 2000 pass",
            "barrier b4 10 pass",
            "ahead b5 10 pass",
        ])
        .await;
        assert_eq!(kinds(&out), ["passed", "failed", "skipped", "skipped", "skipped"]);
        assert_eq!(order, [0, 1, 2, 3, 4]);
        assert!(
            elapsed < Duration::from_millis(1000),
            "a step after the failure was waited for: {elapsed:?}"
        );
        assert!(
            ran("b4").is_none() && ran("b5").is_none(),
            "nothing after the barrier ran"
        );
    }

    #[tokio::test]
    async fn a_barrier_waits_for_what_is_before_it_and_holds_back_what_is_after() {
        let (out, _, _) = run(&["ahead c1 100 pass", "barrier c2 50 pass", "ahead c3 10 pass"]).await;
        assert_eq!(kinds(&out), ["passed"; 3]);
        let (c1, c2, c3) = (ran("c1").expect("c1"), ran("c2").expect("c2"), ran("c3").expect("c3"));
        assert!(c2.0 >= c1.1, "the barrier started before the step above it ended");
        assert!(c3.0 >= c2.1, "the step below the barrier started before it ended");
    }
}
