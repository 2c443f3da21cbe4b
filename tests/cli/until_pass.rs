//! `--until-pass DURATION` (issue 21, point 1) on this machine: the option parses like the
//! other durations and refuses bad ones (exit 2 for `run`, UNKNOWN for `check`); a scenario
//! that passes at its third attempt converges and says so; one that never passes fails once
//! its budget is spent (not much later), with its attempts counted; `--retries` caps the
//! attempts within the budget; `--timeout` still ends the run.

use std::time::{Duration, Instant};

use crate::util::{shakedown_in, suite};

const PASSING: &str = "Feature: F\n  Scenario: S\n    When I run \"true\"\n    Then the command should succeed\n";

/// Passes at its third attempt: each attempt counts itself in the file `count`.
const THIRD_TIME: &str = "Feature: F\n  Scenario: Warming up\n    Then the command \"n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ]\" should succeed\n";

const NEVER: &str = "Feature: F\n  Scenario: Broken\n    When I run \"echo still broken\"\n    Then the output should contain \"fixed\"\n";

#[test]
fn until_pass_takes_durations_and_refuses_bad_ones() {
    let dir = suite(&[("f.feature", PASSING)]);
    for good in ["2m", "30s", "1m 30s"] {
        shakedown_in(dir.path(), &["run", "f.feature", "--until-pass", good], &[]).assert_exit(0);
        shakedown_in(dir.path(), &["check", "f.feature", "--until-pass", good], &[])
            .assert_exit(0)
            .assert_contains("SHAKEDOWN OK");
    }
    for (bad, why) in [
        ("soon", "\"soon\" is not a duration"),
        ("30", "\"30\" is not a duration"),
        ("-5s", "negative duration"),
        ("0s", "must be more than 0"),
    ] {
        // `=`: clap would read a leading `-` as an option of its own.
        let option = format!("--until-pass={bad}");
        shakedown_in(dir.path(), &["run", "f.feature", &option], &[])
            .assert_exit(2)
            .assert_contains(&format!("invalid value '{bad}' for '--until-pass <DURATION>'"))
            .assert_contains(why);
        shakedown_in(dir.path(), &["check", "f.feature", &option], &[])
            .assert_exit(3)
            .assert_contains(why);
    }
    shakedown_in(dir.path(), &["run", "--help"], &[])
        .assert_exit(0)
        .assert_contains("--until-pass <DURATION>");
}

#[test]
fn a_scenario_that_passes_at_its_third_attempt_converges_and_says_when() {
    let dir = suite(&[("t.feature", THIRD_TIME)]);
    // Without the option it fails (the first attempt fails).
    shakedown_in(dir.path(), &["run", "t.feature", "--format", "pretty"], &[]).assert_exit(1);
    std::fs::remove_file(dir.path().join("count")).expect("count written");
    let run = shakedown_in(
        dir.path(),
        &["run", "t.feature", "--format", "pretty", "--until-pass", "30s"],
        &[],
    );
    run.assert_exit(0)
        .assert_contains("converged after 1.")
        .assert_contains(", 3 attempts)")
        .assert_contains("\nConverged:\n  localhost t.feature:2 Warming up: converged after 1.");
    // The quiet report says nothing when everything passed in the end.
    std::fs::remove_file(dir.path().join("count")).expect("count written");
    let quiet = shakedown_in(
        dir.path(),
        &["run", "t.feature", "--format", "quiet", "--until-pass", "30s"],
        &[],
    );
    quiet.assert_exit(0);
    assert_eq!(quiet.stdout, "", "{}", quiet.all());
}

#[test]
fn a_scenario_that_never_passes_fails_when_its_budget_is_spent() {
    let dir = suite(&[("n.feature", NEVER)]);
    let start = Instant::now();
    let run = shakedown_in(
        dir.path(),
        &["run", "n.feature", "--format", "pretty", "--until-pass", "3s"],
        &[],
    );
    let took = start.elapsed();
    // 0 s, 0.5 s, 1.5 s, then the last attempt at 3 s (the 2 s pause cut to the budget).
    run.assert_exit(1)
        .assert_contains("did not converge in 3.")
        .assert_contains("s, 4 attempts")
        .assert_contains("found:    \"still broken\"");
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(took < Duration::from_secs(5), "budget 3 s, took {took:?}");
}

#[test]
fn retries_cap_the_attempts_and_the_run_deadline_still_wins() {
    let dir = suite(&[("n.feature", NEVER)]);
    let start = Instant::now();
    shakedown_in(
        dir.path(),
        &[
            "run",
            "n.feature",
            "--format",
            "pretty",
            "--until-pass",
            "30s",
            "--retries",
            "1",
        ],
        &[],
    )
    .assert_exit(1)
    .assert_contains(", 2 attempts");
    assert!(start.elapsed() < Duration::from_secs(5), "{:?}", start.elapsed());

    let start = Instant::now();
    shakedown_in(
        dir.path(),
        &[
            "run",
            "n.feature",
            "--format",
            "pretty",
            "--until-pass",
            "30s",
            "--timeout",
            "2s",
        ],
        &[],
    )
    .assert_exit(1)
    .assert_contains("TIMED OUT")
    .assert_contains("did not converge in ");
    assert!(start.elapsed() < Duration::from_secs(4), "{:?}", start.elapsed());
}
