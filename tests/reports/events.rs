//! Hand-built event streams for the golden report tests: no clock, no hosts. A failing run
//! (a pass, a retried failure with measured values, a @warning failure, duplicate scenario
//! names, a step that could not check, a scenario not run), subsets of it, and a run whose
//! deadline fired.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use shakedown::event::{Attempt, Event, RunSummary, UnitResult, UnitStatus};
use shakedown::steps::{Measurement, Outcome, Range, StepResult};
use shakedown::suite::{Feature, Scenario, Step, StepKind, Unit};

fn step(keyword: &str, text: &str, line: usize) -> Step {
    Step {
        keyword: keyword.into(),
        kind: StepKind::Unknown,
        text: text.into(),
        line,
        column: 5,
        doc_string: None,
        table: None,
    }
}

fn scenario(name: &str, line: usize, tags: &[&str], steps: Vec<Step>) -> Scenario {
    Scenario {
        name: name.into(),
        keyword: "Scenario".into(),
        line,
        column: 3,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        rule: None,
        steps,
        row: None,
    }
}

pub fn feature(path: &str, name: &str, scenarios: Vec<Scenario>) -> Arc<Feature> {
    Arc::new(Feature {
        path: PathBuf::from(path),
        name: name.into(),
        keyword: "Feature".into(),
        line: 2,
        tags: vec!["@web".into()],
        description: "  Checked every five minutes.".into(),
        scenarios,
    })
}

pub fn unit(f: &Arc<Feature>, index: usize, host: &str) -> Arc<Unit> {
    let sc = &f.scenarios[index];
    Arc::new(Unit {
        id: format!("{}:{} [{host}]", f.path.display(), sc.line),
        feature: f.clone(),
        scenario: Arc::new(sc.clone()),
        host: Some(host.into()),
    })
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn time_ms(value: f64) -> Measurement {
    Measurement {
        label: "home time".into(),
        value,
        unit: "ms".into(),
        warn: None,
        crit: Some(Range::under(500.0, false)),
    }
}

pub fn passed(expected: &str, found: &str) -> StepResult {
    StepResult::Passed(Outcome::pass(expected, found))
}

/// Events of one unit's attempt: started (or retrying), each step, and (when final) finished.
fn attempt(events: &mut Vec<Event>, u: &Arc<Unit>, n: u32, steps: &[(StepResult, Duration)]) {
    events.push(if n == 1 {
        Event::ScenarioStarted { unit: u.clone() }
    } else {
        Event::ScenarioRetrying {
            unit: u.clone(),
            attempt: n,
        }
    });
    for (index, (result, duration)) in steps.iter().enumerate() {
        events.push(Event::StepFinished {
            unit: u.clone(),
            index,
            result: result.clone(),
            duration: *duration,
        });
    }
}

fn finish(events: &mut Vec<Event>, results: &mut Vec<Arc<UnitResult>>, r: UnitResult) {
    let r = Arc::new(r);
    events.push(Event::ScenarioFinished {
        unit: r.unit.clone(),
        result: r.clone(),
    });
    results.push(r);
}

fn result(u: &Arc<Unit>, status: UnitStatus, steps: Vec<(StepResult, Duration)>, attempts: u32) -> UnitResult {
    let duration = steps.iter().map(|(_, d)| *d).sum();
    UnitResult {
        unit: u.clone(),
        status,
        steps,
        attempts,
        duration,
        earlier: Vec::new(),
        converging: None,
        since: None,
    }
}

fn web_feature() -> Arc<Feature> {
    feature(
        "features/web.feature",
        "Web front ends v1.2",
        vec![
            scenario(
                "Homepage is fast",
                5,
                &["@web", "@hosts:web"],
                vec![
                    step("When ", "I request \"/\"", 6),
                    step("Then ", "the response time should be under 500 ms", 7),
                ],
            ),
            scenario(
                "TLS certificate is valid",
                9,
                &["@web", "@warning"],
                vec![step("Then ", "the certificate should be valid for 30 days", 10)],
            ),
            scenario(
                "Port is open",
                14,
                &["@web"],
                vec![step("Then ", "TCP port 80 should be open", 15)],
            ),
            scenario(
                "Port is open",
                18,
                &["@web"],
                vec![step("Then ", "TCP port 443 should be open", 19)],
            ),
        ],
    )
}

fn db_feature() -> Arc<Feature> {
    feature(
        "features/db.feature",
        "Databases",
        vec![
            scenario(
                "Replica is close",
                4,
                &["@web"],
                vec![
                    step("Then ", "the replication lag should be under 5 s", 5),
                    step("And ", "nothing else", 6),
                ],
            ),
            scenario(
                "Disk has room",
                8,
                &["@web"],
                vec![step("Then ", "filesystem / should be under 90% full", 9)],
            ),
        ],
    )
}

/// A run with a pass, a retried failure, a @warning failure, duplicate names, a step that
/// could not check and a scenario not run.
pub fn failing_run() -> (Vec<Event>, RunSummary) {
    let (web, db) = (web_feature(), db_feature());
    let mut ev = vec![Event::RunStarted { total: 7 }];
    let mut results = Vec::new();
    let fast = vec![
        (passed("status 200", "200"), ms(40)),
        (
            StepResult::Passed(Outcome::pass("under 500 ms", "123 ms").with(time_ms(123.0))),
            ms(1),
        ),
    ];
    let u = unit(&web, 0, "web1");
    attempt(&mut ev, &u, 1, &fast);
    finish(&mut ev, &mut results, result(&u, UnitStatus::Passed, fast, 1));

    let slow =
        |v: f64| StepResult::Failed(Outcome::fail("under 500 ms", format!("response time {v} ms")).with(time_ms(v)));
    let u = unit(&web, 0, "web2");
    let first = vec![(passed("status 200", "200"), ms(30)), (slow(950.0), ms(1))];
    attempt(&mut ev, &u, 1, &first);
    let last = vec![(passed("status 200", "200"), ms(35)), (slow(812.0), ms(1))];
    attempt(&mut ev, &u, 2, &last);
    let retried = UnitResult {
        earlier: vec![Attempt { steps: first }],
        converging: None,
        since: None,
        ..result(&u, UnitStatus::Failed, last, 2)
    };
    finish(&mut ev, &mut results, retried);

    let u = unit(&web, 1, "web1");
    let cert = vec![(
        StepResult::Failed(Outcome::fail("valid for 30 days or more", "expires in 12 days")),
        ms(20),
    )];
    attempt(&mut ev, &u, 1, &cert);
    finish(&mut ev, &mut results, result(&u, UnitStatus::Failed, cert, 1));

    for index in [2, 3] {
        let u = unit(&web, index, "web1");
        let port = vec![(passed("port open", "open"), ms(2))];
        attempt(&mut ev, &u, 1, &port);
        finish(&mut ev, &mut results, result(&u, UnitStatus::Passed, port, 1));
    }

    let u = unit(&db, 0, "db2");
    let lag = vec![
        (
            StepResult::Error("cannot connect to MySQL on 10.77.0.32:3306: Connection refused | retry later".into()),
            ms(3),
        ),
        (StepResult::Skipped, Duration::ZERO),
    ];
    attempt(&mut ev, &u, 1, &lag);
    finish(&mut ev, &mut results, result(&u, UnitStatus::Failed, lag, 1));

    let u = unit(&db, 1, "db1");
    finish(
        &mut ev,
        &mut results,
        result(&u, UnitStatus::Skipped, vec![(StepResult::Skipped, Duration::ZERO)], 0),
    );

    let summary = RunSummary {
        results,
        duration: ms(1234),
        deadline_hit: false,
        interrupted: false,
    };
    (ev, summary)
}

/// Keeps only the units `keep` picks from the failing run (for OK and WARNING runs).
pub fn subset(keep: impl Fn(&UnitResult) -> bool) -> (Vec<Event>, RunSummary) {
    let (events, summary) = failing_run();
    let results: Vec<_> = summary.results.iter().filter(|r| keep(r)).cloned().collect();
    let ids: Vec<String> = results.iter().map(|r| r.unit.id.clone()).collect();
    let events = events
        .into_iter()
        .filter(|e| match e {
            Event::ScenarioStarted { unit } | Event::ScenarioRetrying { unit, .. } => ids.contains(&unit.id),
            Event::StepFinished { unit, .. } | Event::ScenarioFinished { unit, .. } => ids.contains(&unit.id),
            _ => true,
        })
        .collect();
    (events, RunSummary { results, ..summary })
}

/// A run whose deadline fired: one unit done, one cut short mid-scenario.
pub fn timeout_run() -> (Vec<Event>, RunSummary) {
    let web = web_feature();
    let mut ev = vec![Event::RunStarted { total: 2 }];
    let mut results = Vec::new();
    let u = unit(&web, 2, "web1");
    let port = vec![(passed("port open", "open"), ms(2))];
    attempt(&mut ev, &u, 1, &port);
    finish(&mut ev, &mut results, result(&u, UnitStatus::Passed, port, 1));
    let u = unit(&web, 0, "web2");
    let cut = vec![
        (passed("status 200", "200"), ms(30)),
        (
            StepResult::Error("run timed out after 50s (--timeout)".into()),
            Duration::ZERO,
        ),
    ];
    attempt(&mut ev, &u, 1, &cut[..1]);
    finish(&mut ev, &mut results, result(&u, UnitStatus::TimedOut, cut, 1));
    (
        ev,
        RunSummary {
            results,
            duration: ms(50_002),
            deadline_hit: true,
            interrupted: false,
        },
    )
}

/// A fleet run of one scenario (`nginx runs`, features/fleet.feature:3, its step at line 5)
/// on each `(host, found)` (`None`: passed): what the grouped failure lists are made from.
#[allow(dead_code)] // tests/serve_bodies.rs shares this file without it
pub fn fleet_run(hosts: &[(&str, Option<&str>)]) -> RunSummary {
    let fleet = feature(
        "features/fleet.feature",
        "Fleet",
        vec![scenario(
            "nginx runs",
            3,
            &[],
            vec![
                step("Given ", "the host is reachable", 4),
                step("Then ", "service nginx should be running", 5),
            ],
        )],
    );
    let results = hosts
        .iter()
        .map(|(host, found)| {
            let u = unit(&fleet, 0, host);
            let reach = (passed("reachable", "reachable"), ms(1));
            Arc::new(match found {
                None => result(
                    &u,
                    UnitStatus::Passed,
                    vec![reach, (passed("active", "active"), ms(1))],
                    1,
                ),
                Some(found) => result(
                    &u,
                    UnitStatus::Failed,
                    vec![
                        reach,
                        (StepResult::Failed(Outcome::fail("active (running)", *found)), ms(1)),
                    ],
                    1,
                ),
            })
        })
        .collect();
    RunSummary {
        results,
        duration: ms(2000),
        deadline_hit: false,
        interrupted: false,
    }
}
