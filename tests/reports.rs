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

#[path = "reports/converge.rs"]
mod converge;

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
    assert!(first.contains(" | scenarios=7 passed=3 failed=3 skipped=1 time=1.234s 'web1 Homepage is fast: home time'=123ms;;@500: 'web2 Homepage is fast: home time'=812ms;;@500:"), "{first}");
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
        .env("XDG_STATE_HOME", crate::util::state_home())
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

// ---------------------------------------------------------------- perfdata, names

/// What `check` printed: each perfdata item, and the names of the failed scenarios (from
/// the long output, `STATE host: NAME: why`).
fn perfdata_and_failures(stdout: &str) -> (Vec<shakedown::report::perfdata::Perf>, Vec<String>) {
    let first = stdout.lines().next().unwrap_or_default();
    let perf = first.split_once(" | ").map(|(_, p)| p).unwrap_or_default();
    let items = shakedown::report::perfdata::parse_perfdata(perf).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let failed = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(": ").and_then(|(_, rest)| rest.split_once(": ")))
        .map(|(name, _)| name.to_string())
        .collect();
    (items, failed)
}

/// A pack of one sentence per comparison a pack's `measure` offers; the number is the
/// step's own argument (`echo`), so a scenario passes or fails by its numbers alone.
const NUMBER_PACK: &str = include_str!("../fixtures/measure/numbers.toml");

/// Every comparison, with values inside, on and beyond each limit (a pack's `between =
/// [1, 8]` used to emit `;;8`, which reads a failed 0 as OK, and `at_least = 1` `;;1`,
/// which reads an OK 2 as critical).
const NUMBERS: &str = "Feature: Numbers
  Scenario Outline: between <n>
    Then the number <n> should be between 1 and 8
    Examples:
      | n |
      | 0 |
      | 1 |
      | 5 |
      | 8 |
      | 9 |

  Scenario Outline: under <n>
    Then the number <n> should be under 8
    Examples:
      | n |
      | -3 |
      | 7 |
      | 8 |
      | 9 |

  Scenario Outline: at most <n>
    Then the number <n> should be at most 8
    Examples:
      | n |
      | -3 |
      | 8 |
      | 9 |

  Scenario Outline: over <n>
    Then the number <n> should be over 0
    Examples:
      | n |
      | -1 |
      | 0 |
      | 1 |

  Scenario Outline: at least <n>
    Then the number <n> should be at least 1
    Examples:
      | n |
      | 0 |
      | 1 |
      | 2 |

  Scenario Outline: exactly <n>
    Then the number <n> should be exactly 5
    Examples:
      | n |
      | 4 |
      | 5 |
      | 6 |
";

/// Item 4 of issue 18: thresholds in the Monitoring Plugins range syntax. Read back with a
/// parser of the documented syntax, every value of a scenario that passed lies inside its
/// critical range and every value of one that failed lies outside.
#[test]
fn perfdata_thresholds_alert_exactly_when_the_step_failed() {
    let dir = suite(&[("f.feature", NUMBERS), ("steps/numbers.toml", NUMBER_PACK)]);
    let run = shakedown_in(dir.path(), &["check", "f.feature"], &[]);
    run.assert_exit(2);
    let (items, failed) = perfdata_and_failures(&run.stdout);
    let measured: Vec<_> = items.iter().filter(|p| p.label.ends_with(" number")).collect();
    assert_eq!(measured.len(), 21, "{}", run.stdout);
    assert_eq!(failed.len(), 10, "{}", run.stdout);
    for p in measured {
        // `localhost NAME: number` (the scenario's own label, also before the labels were
        // made stable: `localhost NAME number`).
        let name = p
            .label
            .strip_prefix("localhost ")
            .and_then(|l| l.strip_suffix(" number"))
            .map(|l| l.trim_end_matches(':'))
            .unwrap_or_else(|| panic!("{p:?}"));
        let crit = p.crit.unwrap_or_else(|| panic!("no critical range: {p:?}"));
        assert_eq!(
            crit.alerts(p.value),
            failed.iter().any(|f| f == name),
            "{name}: {} in {crit} (failed: {failed:?})\n{}",
            p.value,
            run.stdout
        );
    }
    for (item, text) in [
        ("between 5", ";;1:8"),
        ("under 7", ";;@8:"),
        ("at most 8", ";;~:8"),
        ("over 1", ";;@~:0"),
        ("at least 2", ";;1:"),
        ("exactly 5", ";;5:5"),
    ] {
        let p = items
            .iter()
            .find(|p| p.label == format!("localhost {item}: number"))
            .expect(item);
        assert!(p.to_string().ends_with(text), "{p}: {text}");
    }
}

/// Item 18 (outline rows) and 5 (labels) of issue 18: an outline whose rows share one name
/// numbers them, `#1`, `#2`..., in the console, JUnit, Cucumber JSON, the status and long
/// output and the perfdata labels (never `... connect 2`).
#[test]
fn outline_rows_get_their_own_names_in_every_report() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        l.local_addr().expect("addr").port()
    };
    let feature = format!(
        "Feature: Ports\n  Scenario Outline: Listener answers\n    Then TCP port <port> on \"127.0.0.1\" should be open within 2000 ms\n    Examples:\n      | port |\n      | {port} |\n      | {port} |\n      | {closed} |\n"
    );
    let dir = suite(&[("f.feature", &feature)]);
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
    run.assert_exit(1)
        .assert_contains("FAILED: Listener answers #3 [localhost]")
        .assert_contains("  localhost f.feature:8 Listener answers #3: ");
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit");
    for n in 1..=3 {
        assert!(
            xml.contains(&format!("<testcase name=\"Listener answers #{n} [localhost]\"")),
            "{xml}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("json")).expect("JSON");
    let names: Vec<&str> = json[0]["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Listener answers #1 [localhost]",
            "Listener answers #2 [localhost]",
            "Listener answers #3 [localhost]"
        ]
    );
    let check = shakedown_in(dir.path(), &["check", "f.feature"], &[]);
    check.assert_exit(2);
    assert!(
        check
            .stdout
            .starts_with("SHAKEDOWN CRITICAL - 1 of 3 scenarios failed: Listener answers #3 [localhost] | "),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("\nCRITICAL localhost: Listener answers #3: "),
        "{}",
        check.stdout
    );
    let (items, _) = perfdata_and_failures(&check.stdout);
    let labels: Vec<&str> = items.iter().skip(5).map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            format!("localhost Listener answers #1: 127.0.0.1 port {port} connect"),
            format!("localhost Listener answers #2: 127.0.0.1 port {port} connect"),
        ],
        "{}",
        check.stdout
    );
    drop(listener);
}

const WEB_A: &str = "Feature: Web\n  Scenario: Ping\n    When I run \"true\"\n    Then the command should succeed\n";
const WEB_B: &str = "Feature: Web\n  Scenario: Ping\n    When I run \"false\"\n    Then the command should succeed\n";

/// Item 13 of issue 18: two files that share a Feature name (and a scenario name, on the
/// same line) give tests whose JUnit `classname` + `name` and Cucumber JSON ids are unique
/// across files; the JUnit file still validates against the JUnit schema.
#[test]
fn two_files_sharing_a_feature_name_give_unique_test_names() {
    let dir = suite(&[("a/web.feature", WEB_A), ("b/web.feature", WEB_B)]);
    let run = shakedown_in(
        dir.path(),
        &[
            "run", "a", "b", "--format", "quiet", "--junit", "r.xml", "--json", "r.json",
        ],
        &[],
    );
    run.assert_exit(1);
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit");
    let attr = |tag: &str, name: &str| -> Vec<String> {
        let re = regex::Regex::new(&format!(r#"<{tag}\s[^>]*?\b{name}="([^"]*)""#)).expect("regex");
        re.captures_iter(&xml).map(|c| c[1].to_string()).collect()
    };
    let cases: Vec<(String, String)> = attr("testcase", "classname")
        .into_iter()
        .zip(attr("testcase", "name"))
        .collect();
    assert_eq!(
        cases,
        [
            ("Web (a/web)".to_string(), "Ping [localhost]".to_string()),
            ("Web (b/web)".to_string(), "Ping [localhost]".to_string()),
        ],
        "{xml}"
    );
    assert_eq!(attr("testsuite", "name"), ["Web (a/web)", "Web (b/web)"], "{xml}");
    let schema = util::root().join("../shared/schemas/JUnit.xsd");
    if schema.exists() {
        let out = std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(dir.path().join("r.xml"))
            .output()
            .expect("xmllint runs (ci/install-deps.sh installs libxml2-utils)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    } else {
        eprintln!("note: no {}: the schema validation is skipped", schema.display());
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("json")).expect("JSON");
    let features = json.as_array().expect("features");
    let ids: Vec<&str> = features.iter().filter_map(|f| f["id"].as_str()).collect();
    assert_eq!(ids, ["web-a-web", "web-b-web"]);
    let element_ids: Vec<&str> = features
        .iter()
        .flat_map(|f| f["elements"].as_array().expect("elements"))
        .filter_map(|e| e["id"].as_str())
        .collect();
    assert_eq!(
        element_ids,
        ["web-a-web;ping;2;localhost", "web-b-web;ping;2;localhost"]
    );
    // One file alone keeps the plain feature name.
    let one = shakedown_in(
        dir.path(),
        &["run", "a", "--format", "quiet", "--junit", "one.xml"],
        &[],
    );
    one.assert_exit(0);
    let xml = std::fs::read_to_string(dir.path().join("one.xml")).expect("junit");
    assert!(xml.contains("classname=\"Web\""), "{xml}");
}

// ---------------------------------------------------------------- failures grouped by cause

/// The `Failed:` list of a console or mail text.
fn failed_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| *l != "Failed:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect()
}

/// Nagios long output: every line after the status line.
fn long_output(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

#[test]
fn five_hosts_failing_alike_are_said_once_and_the_odd_one_stands_out() {
    // web1..web6 but web4 failing alike (each with its own time and its own name in the
    // finding), lb1 failing differently, db1 passing.
    let mut hosts: Vec<(String, Option<String>)> = [1, 2, 3, 5, 6, 7]
        .iter()
        .map(|n| (format!("web{n}"), Some(format!("inactive (dead) for {n}0 s on web{n}"))))
        .collect();
    hosts.insert(2, ("lb1".into(), Some("failed (Result: exit-code)".into())));
    hosts.push(("db1".into(), None));
    let refs: Vec<(&str, Option<&str>)> = hosts.iter().map(|(h, f)| (h.as_str(), f.as_deref())).collect();
    let summary = events::fleet_run(&refs);

    let report = shakedown::report::console::failure_report(&summary);
    assert_eq!(
        failed_lines(&report),
        vec![
            "  web1-web3, web5-web7 (6 hosts) features/fleet.feature:3 nginx runs: expected active (running), found inactive (dead) for 10–70 s on <host>",
            "  lb1 features/fleet.feature:3 nginx runs: expected active (running), found failed (Result: exit-code)",
        ],
        "{report}"
    );
    // The mail body: the grouped list and the summary first, then each host's details.
    let details = report.find("Each failure, host by host:").expect("details follow");
    assert!(
        report[..details].contains("\n8 scenarios (1 passed, 7 failed) on 8 hosts in 2.00s\n"),
        "{report}"
    );
    assert!(
        report.starts_with("Failed:\n  web1-web3, web5-web7 (6 hosts) "),
        "{report}"
    );
    for host in ["web1", "web2", "web3", "web5", "web6", "web7", "lb1"] {
        assert!(
            report[details..].contains(&format!("    host: {host}\n")),
            "{host}: {report}"
        );
    }
    assert!(!report[details..].contains("host: db1"), "{report}");

    let (state, text) = nagios::output(&summary, None, &[]);
    assert_eq!(state, nagios::State::Critical);
    assert_eq!(
        text.lines().next().and_then(|l| l.split(" | ").next()),
        Some(
            "SHAKEDOWN CRITICAL - 7 of 8 scenarios failed: nginx runs [web1-web3, web5-web7 (6 hosts)], nginx runs [lb1]"
        )
    );
    assert_eq!(
        long_output(&text),
        vec![
            "CRITICAL web1-web3, web5-web7 (6 hosts): nginx runs: inactive (dead) for 10–70 s on <host>, expected active (running) (features/fleet.feature:5: Then service nginx should be running)",
            "CRITICAL lb1: nginx runs: failed (Result: exit-code), expected active (running) (features/fleet.feature:5: Then service nginx should be running)",
        ],
        "{text}"
    );
}

#[test]
fn hosts_failing_each_their_own_way_are_not_grouped() {
    let summary = events::fleet_run(&[
        ("web1", Some("inactive (dead)")),
        ("web2", Some("failed (Result: exit-code)")),
        ("web3", Some("not installed")),
        ("web4", None),
    ]);
    let report = shakedown::report::console::failure_report(&summary);
    assert_eq!(
        failed_lines(&report),
        vec![
            "  web1 features/fleet.feature:3 nginx runs: expected active (running), found inactive (dead)",
            "  web2 features/fleet.feature:3 nginx runs: expected active (running), found failed (Result: exit-code)",
            "  web3 features/fleet.feature:3 nginx runs: expected active (running), found not installed",
        ],
        "{report}"
    );
    // As before grouping: the details first, the Failed: list and the summary line last.
    assert!(!report.contains("host by host"), "{report}");
    assert!(report.starts_with("✗ FAILED: nginx runs [web1]"), "{report}");
    let (_, text) = nagios::output(&summary, None, &[]);
    assert_eq!(long_output(&text).len(), 3, "{text}");
    assert!(
        long_output(&text)[0].starts_with("CRITICAL web1: nginx runs: inactive (dead), "),
        "{text}"
    );
}
