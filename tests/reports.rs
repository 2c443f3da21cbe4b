//! Reports: golden files made from hand-built event streams (no clock, no hosts) for JUnit,
//! Cucumber JSON and Nagios output (`UPDATE_GOLDEN=1` rewrites them; ci/consumers.sh feeds
//! them to the real consumers), and runs of the real binary on this machine for `--junit`,
//! `--json` and `shakedown check` (states, exit statuses, timeout, SIGTERM, bad input).

#[path = "cli/util.rs"]
mod util;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shakedown::event::{Event, RunSummary, UnitResult, UnitStatus};
use shakedown::report::junit::{Junit, Meta};
use shakedown::report::{Report, Reports, cucumber_json::CucumberJson, nagios};
use shakedown::steps::{Measurement, Outcome, StepResult};
use shakedown::suite::{Feature, Scenario, Step, StepKind, Unit};
use util::{shakedown_in, suite};

// ---------------------------------------------------------------- hand-built runs

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
    }
}

fn feature(path: &str, name: &str, scenarios: Vec<Scenario>) -> Arc<Feature> {
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

fn unit(f: &Arc<Feature>, index: usize, host: &str) -> Arc<Unit> {
    let sc = &f.scenarios[index];
    Arc::new(Unit {
        id: format!("{}:{} [{host}]", f.path.display(), sc.line),
        feature: f.clone(),
        scenario: Arc::new(sc.clone()),
        host: Some(host.into()),
    })
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn time_ms(value: f64) -> Measurement {
    Measurement {
        label: "home time".into(),
        value,
        unit: "ms".into(),
        warn: None,
        crit: Some(500.0),
    }
}

fn passed(expected: &str, found: &str) -> StepResult {
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
fn failing_run() -> (Vec<Event>, RunSummary) {
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
    attempt(
        &mut ev,
        &u,
        1,
        &[(passed("status 200", "200"), ms(30)), (slow(950.0), ms(1))],
    );
    let last = vec![(passed("status 200", "200"), ms(35)), (slow(812.0), ms(1))];
    attempt(&mut ev, &u, 2, &last);
    finish(&mut ev, &mut results, result(&u, UnitStatus::Failed, last, 2));

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
fn subset(keep: impl Fn(&UnitResult) -> bool) -> (Vec<Event>, RunSummary) {
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
fn timeout_run() -> (Vec<Event>, RunSummary) {
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

// ---------------------------------------------------------------- golden files

fn golden_dir() -> PathBuf {
    util::root().join("fixtures/golden")
}

/// Compares `actual` with the golden file (rewritten under `UPDATE_GOLDEN=1`).
#[track_caller]
fn golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

fn meta() -> Meta {
    Meta {
        started: junit_report::OffsetDateTime::UNIX_EPOCH,
        hostname: "ci-runner".into(),
    }
}

/// Feeds the events through real `Reports` writing JUnit and JSON into `dir`.
fn write_files(dir: &Path, events: &[Event], summary: RunSummary) -> (String, String) {
    let (xml, json) = (dir.join("r.xml"), dir.join("r.json"));
    let list: Vec<Box<dyn Report>> = vec![
        Box::new(Junit::create(&xml).expect("create").with_meta(meta())),
        Box::new(CucumberJson::create(&json).expect("create")),
    ];
    let mut reports = Reports::new(list);
    for e in events {
        reports.on_event(e);
    }
    let summary = Arc::new(summary);
    reports.on_event(&Event::RunFinished {
        summary: summary.clone(),
    });
    reports.finish(&summary).expect("reports written");
    (
        std::fs::read_to_string(xml).expect("xml"),
        std::fs::read_to_string(json).expect("json"),
    )
}

fn all_goldens(name: &str, (events, summary): (Vec<Event>, RunSummary), state: nagios::State) {
    let (got_state, text) = nagios::output(&summary, Some(Duration::from_secs(50)), &[]);
    assert_eq!(got_state, state);
    assert_eq!(nagios::state(&summary), state);
    golden(&format!("{name}.nagios.txt"), &text);
    let dir = tempfile::tempdir().expect("tmp");
    let (xml, json) = write_files(dir.path(), &events, summary);
    golden(&format!("{name}.junit.xml"), &xml);
    golden(&format!("{name}.cucumber.json"), &json);
}

#[test]
fn golden_failing_run() {
    all_goldens("failing", failing_run(), nagios::State::Critical);
}

#[test]
fn golden_passing_run() {
    all_goldens("passing", subset(|r| r.status == UnitStatus::Passed), nagios::State::Ok);
}

#[test]
fn golden_warning_run() {
    let run = subset(|r| r.status == UnitStatus::Passed || r.unit.scenario.tags.contains(&"@warning".to_string()));
    all_goldens("warning", run, nagios::State::Warning);
}

#[test]
fn golden_timeout_run() {
    all_goldens("timeout", timeout_run(), nagios::State::Unknown);
}

#[test]
fn no_scenario_selected_is_unknown() {
    let (state, text) = nagios::output(&RunSummary::default(), None, &[]);
    assert_eq!(state, nagios::State::Unknown);
    assert!(text.starts_with("SHAKEDOWN UNKNOWN - no scenario selected"), "{text}");
}

#[test]
fn failing_run_says_what_an_operator_needs() {
    let (_, summary) = failing_run();
    let (_, text) = nagios::output(&summary, None, &[]);
    let first = text.lines().next().expect("status line");
    assert!(
        first.starts_with("SHAKEDOWN CRITICAL - 3 of 7 scenarios failed: Homepage is fast [web2], "),
        "{first}"
    );
    assert!(first.contains(" | scenarios=7 passed=3 failed=3 skipped=1 time=1.234s 'web1 home time'=123ms;;500 'web2 home time'=812ms;;500"), "{first}");
    assert!(text.contains("\nCRITICAL web2: Homepage is fast: response time 812 ms, expected under 500 ms (features/web.feature:7: Then the response time should be under 500 ms)\n"), "{text}");
    assert!(
        text.contains(
            "\nWARNING web1: TLS certificate is valid: expires in 12 days, expected valid for 30 days or more"
        ),
        "{text}"
    );
    assert!(text.contains("\nCRITICAL db2: Replica is close: could not check: cannot connect to MySQL on 10.77.0.32:3306: Connection refused ¦ retry later"), "{text}");
    assert_eq!(text.matches('|').count(), 1, "one | only, before the perfdata:\n{text}");
    let perf = first.split_once(" | ").expect("perfdata").1;
    let items = shakedown::report::perfdata::parse_perfdata(perf).expect("valid perfdata");
    assert_eq!(items.len(), 7);
}

#[test]
fn junit_has_unique_names_retries_and_the_three_failure_kinds() {
    let dir = tempfile::tempdir().expect("tmp");
    let (events, summary) = failing_run();
    let (xml, _) = write_files(dir.path(), &events, summary);
    assert_eq!(xml.matches("<testsuite ").count(), 2);
    assert_eq!(xml.matches("<testcase ").count(), 7);
    assert!(
        xml.contains("name=\"Port is open (line 14) [web1]\"")
            && xml.contains("name=\"Port is open (line 18) [web1]\"")
    );
    assert!(xml.contains("classname=\"Web front ends v1_2\"") && xml.contains("file=\"features/web.feature\""));
    assert!(xml.contains("attempts: 2 (this report shows the last)\n  attempt 1 failed: Then the response time should be under 500 ms (features/web.feature:7): expected under 500 ms, found response time 950 ms"), "{xml}");
    assert!(xml.contains("home time = 812 ms"));
    assert!(xml.contains("<error type=\"could not check\" message=\"Then the replication lag"));
    assert!(xml.contains("<skipped/>"));
}

// ---------------------------------------------------------------- the real binary

const FAILING: &str = "@ops\nFeature: Local checks\n  Scenario: Greeting\n    When I run \"echo hello\"\n    Then the output should contain \"bye\"\n\n  @warning\n  Scenario: Soft\n    When I run \"true\"\n    Then the command should fail\n\n  Scenario: Fine\n    When I run \"true\"\n    Then the command should succeed\n";

#[test]
fn run_writes_junit_and_json_with_the_console() {
    let dir = suite(&[("f.feature", FAILING)]);
    let run = shakedown_in(
        dir.path(),
        &[
            "run",
            "f.feature",
            "--format",
            "pretty",
            "--junit",
            "r.xml",
            "--json",
            "r.json",
        ],
        &[],
    );
    run.assert_exit(1).assert_contains("FAILED: Greeting [localhost]");
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit written");
    assert!(xml.contains("tests=\"3\"") && xml.contains("failures=\"2\""), "{xml}");
    assert!(xml.contains("<testcase name=\"Greeting [localhost]\""), "{xml}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("json")).expect("valid JSON");
    assert_eq!(json[0]["elements"].as_array().map(Vec::len), Some(3));
    assert_eq!(json[0]["elements"][0]["steps"][1]["result"]["status"], "failed");
}

#[test]
fn an_unwritable_report_path_is_bad_input_and_nothing_runs() {
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I run \"touch ran\"\n")]);
    let run = shakedown_in(dir.path(), &["run", "f.feature", "--junit", "no/such/dir/r.xml"], &[]);
    run.assert_exit(2)
        .assert_contains("cannot write the JUnit report to no/such/dir/r.xml");
    assert!(!dir.path().join("ran").exists(), "a host was contacted");
    let run = shakedown_in(dir.path(), &["check", "f.feature", "--json", "no/such/dir/r.json"], &[]);
    run.assert_exit(3);
    assert!(
        run.stdout
            .starts_with("SHAKEDOWN UNKNOWN - cannot write the Cucumber JSON report"),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("ran").exists(), "a host was contacted");
}

#[test]
fn check_states_and_exit_statuses() {
    let dir = suite(&[("f.feature", FAILING)]);
    let ok = shakedown_in(dir.path(), &["check", "f.feature", "--name", "Fine"], &[]);
    ok.assert_exit(0);
    assert!(
        ok.stdout.starts_with("SHAKEDOWN OK - 1 scenario passed on 1 host in "),
        "{}",
        ok.stdout
    );
    assert_eq!(ok.stderr, "");
    let warn = shakedown_in(dir.path(), &["check", "f.feature", "--name", "Soft|Fine"], &[]);
    warn.assert_exit(1);
    assert!(
        warn.stdout
            .starts_with("SHAKEDOWN WARNING - 1 of 2 scenarios failed: Soft [localhost] | scenarios=2"),
        "{}",
        warn.stdout
    );
    assert!(
        warn.stdout
            .contains("\nWARNING localhost: Soft: exit status 0, expected `true` to exit non-zero"),
        "{}",
        warn.stdout
    );
    let crit = shakedown_in(dir.path(), &["check", "f.feature"], &[]);
    crit.assert_exit(2);
    assert!(
        crit.stdout
            .starts_with("SHAKEDOWN CRITICAL - 2 of 3 scenarios failed: Greeting [localhost], Soft [localhost] | "),
        "{}",
        crit.stdout
    );
    assert!(
        crit.stdout
            .contains("\nCRITICAL localhost: Greeting: \"hello\", expected output of `echo hello` containing \"bye\""),
        "{}",
        crit.stdout
    );
    let none = shakedown_in(dir.path(), &["check", "f.feature", "--tags", "@nothing"], &[]);
    none.assert_exit(3);
    assert!(
        none.stdout.starts_with("SHAKEDOWN UNKNOWN - no scenario selected"),
        "{}",
        none.stdout
    );
}

#[test]
fn check_bad_input_is_unknown_with_the_error_on_the_status_line() {
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I dance | wildly\n")]);
    let run = shakedown_in(dir.path(), &["check", "f.feature"], &[]);
    run.assert_exit(3);
    assert!(
        run.stdout
            .starts_with("SHAKEDOWN UNKNOWN - f.feature:3:5: undefined step \"I dance ¦ wildly\""),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches('|').count(), 0);
    let run = shakedown_in(dir.path(), &["check", "f.feature", "--concurrency", "many"], &[]);
    run.assert_exit(3);
    assert!(
        run.stdout
            .starts_with("SHAKEDOWN UNKNOWN - invalid value 'many' for '--concurrency"),
        "{}",
        run.stdout
    );
    let run = shakedown_in(dir.path(), &["check", "missing.feature"], &[]);
    run.assert_exit(3);
    assert!(run.stdout.starts_with("SHAKEDOWN UNKNOWN - "), "{}", run.stdout);
}

const SLOW: &str = "Feature: Slow\n  Scenario: Quick\n    When I run \"true\"\n    Then the command should succeed\n\n  Scenario: Stuck\n    When I run \"touch started; sleep 30\"\n    Then the command should succeed\n";

#[test]
fn check_timeout_is_unknown_with_what_is_known_and_files_written() {
    let dir = suite(&[("f.feature", SLOW)]);
    let start = Instant::now();
    let run = shakedown_in(
        dir.path(),
        &[
            "check",
            "f.feature",
            "--timeout",
            "2s",
            "--step-timeout",
            "60s",
            "--junit",
            "r.xml",
        ],
        &[],
    );
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    run.assert_exit(3);
    assert!(run.stdout.starts_with("SHAKEDOWN UNKNOWN - run timed out after 2s (--timeout): 1 of 2 scenarios finished | scenarios=2 passed=1 failed=1"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("\nUNKNOWN localhost: Stuck: not finished: run timed out after 2s (--timeout)"),
        "{}",
        run.stdout
    );
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit written at the deadline");
    assert!(xml.contains("<error type=\"timed out\""), "{xml}");
}

#[test]
fn check_sigterm_is_unknown_with_what_is_known() {
    let dir = suite(&[("f.feature", SLOW)]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["check", "f.feature", "--step-timeout", "60s"])
        .current_dir(dir.path())
        .env_remove("SHAKEDOWN_INVENTORY")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = dir.path().join("started");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the stuck scenario never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on the pid of the child we spawned and still own.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let sent = Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?} after SIGTERM",
        sent.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.starts_with("SHAKEDOWN UNKNOWN - run interrupted (SIGTERM): 1 of 2 scenarios finished"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nUNKNOWN localhost: Stuck: not finished: run interrupted"),
        "{stdout}"
    );
}

#[test]
fn check_output_stays_under_4k_with_many_failures() {
    let mut text = String::from(
        "Feature: Many\n  Scenario Outline: Row <n> fails\n    When I run \"echo <n>\"\n    Then the output should contain \"nope\"\n\n    Examples:\n      | n |\n",
    );
    for n in 0..150 {
        text.push_str(&format!("      | {n} |\n"));
    }
    let dir = suite(&[("f.feature", &text)]);
    let run = shakedown_in(dir.path(), &["check", "f.feature"], &[]);
    run.assert_exit(2);
    assert!(run.stdout.len() < 4096, "{} bytes", run.stdout.len());
    assert!(run.stdout.starts_with("SHAKEDOWN CRITICAL - 150 of 150 scenarios failed: Row 0 fails [localhost], Row 1 fails [localhost], Row 2 fails [localhost] and 147 more | "), "{}", run.stdout);
    let last = run.stdout.lines().last().expect("lines");
    assert!(
        last.starts_with("... ") && last.contains("failed scenarios not shown"),
        "{last}"
    );
}
