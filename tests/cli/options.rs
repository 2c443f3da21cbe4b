//! Options refused or accepted as a new user would expect (issue 18, item 19): a zero
//! timeout is refused saying why; `--trace` to a path that cannot be written names the
//! option and the file; durations are written the same way in steps and in options.

use crate::util::{shakedown_in, suite};

const LOCAL: &str = "Feature: F\n  Scenario: S\n    When I run \"true\"\n    Then the command should succeed\n";

#[test]
fn a_zero_timeout_is_refused_saying_why() {
    let dir = suite(&[("f.feature", LOCAL)]);
    for option in ["--step-timeout", "--timeout"] {
        for zero in ["0s", "0ms", "0 minutes"] {
            let run = shakedown_in(dir.path(), &["run", "f.feature", option, zero], &[]);
            run.assert_exit(2)
                .assert_contains(&format!("invalid value '{zero}' for '{option}"))
                .assert_contains("must be more than 0: nothing could finish in no time");
            let check = shakedown_in(dir.path(), &["check", "f.feature", option, zero], &[]);
            check
                .assert_exit(3)
                .assert_contains("must be more than 0: nothing could finish in no time");
        }
        let serve = shakedown_in(
            dir.path(),
            &["serve", "f.feature", option, "0s", "--listen", "127.0.0.1:0"],
            &[],
        );
        serve.assert_exit(2).assert_contains("must be more than 0");
    }
}

#[test]
fn a_trace_file_that_cannot_be_written_names_the_option_and_the_file() {
    let dir = suite(&[("f.feature", LOCAL)]);
    let run = shakedown_in(dir.path(), &["run", "f.feature", "--trace", "/nonexistent/t"], &[]);
    run.assert_exit(2)
        .assert_contains("error: --trace /nonexistent/t: cannot write the trace file: No such file or directory");
    assert!(!run.all().contains("cannot start"), "{}", run.all());
    shakedown_in(dir.path(), &["check", "f.feature", "--trace", "/nonexistent/t"], &[])
        .assert_exit(3)
        .assert_contains("--trace /nonexistent/t: cannot write the trace file");
}

#[test]
fn steps_and_options_take_the_same_durations() {
    let feature = "Feature: D\n  Scenario: S\n    When I request \"http://127.0.0.1:9/\"\n    Then the response time should be under 1m\n    And the response time should be under 2 minutes\n    And the response time should be under 1m 30s\n    And the response time should be under 1.5s\n    And the response time should be under 500ms\n    And the 95th percentile response time should be under 250 ms\n    And TCP port 22 on \"127.0.0.1\" should be open within 2m\n";
    let dir = suite(&[("d.feature", feature), ("f.feature", LOCAL)]);
    shakedown_in(dir.path(), &["lint", "d.feature"], &[])
        .assert_exit(0)
        .assert_contains("ok: 1 feature");
    for d in ["1m", "2 minutes", "1m 30s", "1.5s", "500ms", "250 ms"] {
        shakedown_in(
            dir.path(),
            &["run", "f.feature", "--step-timeout", d, "--timeout", d],
            &[],
        )
        .assert_exit(0);
    }
    // The same words are refused in both places, with the same reason.
    let bad = suite(&[(
        "b.feature",
        "Feature: B\n  Scenario: S\n    When I request \"http://127.0.0.1:9/\"\n    Then the response time should be under -5 s\n",
    )]);
    shakedown_in(bad.path(), &["lint", "b.feature"], &[])
        .assert_exit(2)
        .assert_contains("negative duration");
}
