//! Reports: golden files made from hand-built event streams (no clock, no hosts) for JUnit,
//! Cucumber JSON and Nagios output (`UPDATE_GOLDEN=1` rewrites them; ci/consumers.sh feeds
//! them to the real consumers), and runs of the real binary on this machine for `--junit`,
//! `--json` and `shakedown check` (states, exit statuses, timeout, SIGTERM, bad input).

#[path = "cli/util.rs"]
mod util;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use events::{failing_run, subset, timeout_run};
use shakedown::event::{Event, RunSummary, UnitStatus};
use shakedown::report::junit::{Junit, Meta};
use shakedown::report::{Report, Reports, cucumber_json::CucumberJson, nagios};
use util::{shakedown_in, suite};

#[path = "reports/events.rs"]
mod events;

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
