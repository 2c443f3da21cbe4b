//! Integration tests that run the real binary against this machine (local transport)
//! and fixtures; no lab needed. Lab tests live in tests/lab/.

mod util;

mod catalogue;
mod html;
mod init;
mod inventory;
mod keep;
mod malformed;
mod manual;
mod options;
mod packs;
mod partition;
mod quoting;
mod serve;
mod state;
mod until_pass;

use util::{shakedown, shakedown_in, suite};

#[test]
fn the_readme_example_passes_on_this_machine() {
    shakedown(&["run", "examples/local", "--format", "pretty"])
        .assert_exit(0)
        .assert_contains("The kernel answers [localhost]")
        .assert_contains("scenarios (5 passed) on 1 host");
}

#[test]
fn a_failing_step_says_host_step_expected_and_found() {
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: Greeting\n    When I run \"echo hello\"\n    Then the output should contain \"bye\"\n    And the command should succeed\n",
    )]);
    let run = shakedown_in(dir.path(), &["run", "f.feature", "--format", "pretty"], &[]);
    run.assert_exit(1)
        .assert_contains("FAILED: Greeting [localhost]")
        .assert_contains("Then the output should contain \"bye\" f.feature:4")
        .assert_contains("expected: output of `echo hello` containing \"bye\"")
        .assert_contains("found:    \"hello\"")
        .assert_contains("- And the command should succeed (skipped)")
        .assert_contains("1 scenario (0 passed, 1 failed) on 1 host");
}

#[test]
fn quiet_prints_nothing_when_all_passed() {
    let run = shakedown(&["run", "examples/local", "--format", "quiet"]);
    run.assert_exit(0);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "");
}

#[test]
fn step_timeout_fails_the_step_and_the_run_goes_on() {
    let dir = suite(&[(
        "t.feature",
        "Feature: T\n  Scenario: Slow\n    When I run \"sleep 30\"\n  Scenario: Fast\n    When I run \"true\"\n",
    )]);
    let start = std::time::Instant::now();
    let run = shakedown_in(
        dir.path(),
        &["run", ".", "--format", "pretty", "--step-timeout", "1s"],
        &[],
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    run.assert_exit(1)
        .assert_contains("timed out after 1s")
        .assert_contains("1 passed, 1 failed");
}

#[test]
fn run_timeout_reports_unfinished_scenarios_as_timed_out() {
    let dir = suite(&[(
        "t.feature",
        "Feature: T\n  Scenario: Slow\n    When I run \"sleep 30\"\n    Then the command should succeed\n  Scenario: Fast\n    When I run \"true\"\n",
    )]);
    let start = std::time::Instant::now();
    let run = shakedown_in(
        dir.path(),
        &[
            "run",
            ".",
            "--format",
            "pretty",
            "--timeout",
            "1s",
            "--step-timeout",
            "60s",
        ],
        &[],
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    run.assert_exit(1)
        .assert_contains("TIMED OUT: Slow [localhost]")
        .assert_contains("1 timed out");
}

#[test]
fn tags_and_names_filter_scenarios() {
    let dir = suite(&[(
        "t.feature",
        "Feature: T\n  @smoke\n  Scenario: One\n    When I run \"true\"\n  @slow\n  Scenario: Two\n    When I run \"false\"\n    Then the command should succeed\n",
    )]);
    shakedown_in(
        dir.path(),
        &["run", ".", "--format", "pretty", "-t", "@smoke and not @slow"],
        &[],
    )
    .assert_exit(0)
    .assert_contains("1 scenario (1 passed)");
    shakedown_in(dir.path(), &["run", ".", "--format", "pretty", "-n", "^Tw"], &[]).assert_exit(1);
    shakedown_in(dir.path(), &["run", ".", "-t", "@smoke and and"], &[])
        .assert_exit(2)
        .assert_contains("--tags");
}

#[test]
fn retries_rerun_a_failed_scenario() {
    let dir = suite(&[(
        "r.feature",
        "Feature: R\n  Scenario: Flaky\n    Then the command \"test -f marker || { touch marker; exit 1; }\" should succeed\n",
    )]);
    shakedown_in(dir.path(), &["run", ".", "--format", "pretty"], &[]).assert_exit(1);
    std::fs::remove_file(dir.path().join("marker")).expect("marker was created");
    shakedown_in(dir.path(), &["run", ".", "--format", "pretty", "--retries", "1"], &[]).assert_exit(0);
}

#[test]
fn lint_reports_a_malformed_feature_at_its_line() {
    let dir = suite(&[(
        "bad.feature",
        "Feature: B\n  Scenario: S\n    When I run \"true\"\n  This is not Gherkin\n    Then nothing\n",
    )]);
    shakedown_in(dir.path(), &["lint", "bad.feature"], &[])
        .assert_exit(2)
        .assert_contains("bad.feature:4:");
}

#[test]
fn lint_names_the_nearest_step_for_an_undefined_one() {
    let dir = suite(&[(
        "u.feature",
        "Feature: U\n  Scenario: S\n    When I run \"true\"\n    Then the comand should succeed\n",
    )]);
    shakedown_in(dir.path(), &["lint", "u.feature"], &[])
        .assert_exit(2)
        .assert_contains(
            "u.feature:4:5: undefined step \"the comand should succeed\"; did you mean \"the command should succeed\"",
        );
}

#[test]
fn lint_rejects_bad_arguments_and_placeholders() {
    let dir = suite(&[(
        "a.feature",
        "Feature: A\n  Scenario: S\n    When I run \"echo {nmae}\"\n    Then the output should match /(unclosed/\n    Then TCP port 70000 on \"x\" should be open\n",
    )]);
    shakedown_in(dir.path(), &["lint", "a.feature"], &[])
        .assert_exit(2)
        .assert_contains("a.feature:3:5: unknown placeholder {nmae}")
        .assert_contains("a.feature:4:5: Then the output should match /(unclosed/: bad regular expression")
        .assert_contains("a.feature:5:5: Then TCP port 70000")
        .assert_contains("not between 1 and 65535");
}

#[test]
fn a_bad_regular_expression_is_one_line_with_one_error_prefix() {
    let dir = suite(&[(
        "r.feature",
        "Feature: R\n  Scenario: S\n    When I run \"true\"\n    Then the output should match /Welcome to web[0-9/\n",
    )]);
    let run = shakedown_in(dir.path(), &["lint", "r.feature"], &[]);
    run.assert_exit(2).assert_contains(
        "error: r.feature:4:5: Then the output should match /Welcome to web[0-9/: bad regular expression /Welcome to web[0-9/: unclosed character class (at character 15)\n",
    );
    assert!(!run.stderr.contains("error: error:"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = shakedown_in(dir.path(), &["run", "r.feature", "-n", "a(b"], &[]);
    run.assert_exit(2)
        .assert_contains("--name \"a(b\": bad regular expression: unclosed group (at character 2)");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
}

#[test]
fn steps_lists_the_catalogue_with_examples_and_modules() {
    shakedown(&["steps"])
        .assert_exit(0)
        .assert_contains("## src/steps/command.rs")
        .assert_contains("When I run \"uptime\"")
        .assert_contains("Then TCP port 3306 on \"db1\" should be open within 500 ms");
}

#[test]
fn unknown_host_pattern_is_an_error_with_the_nearest_name() {
    let dir = suite(&[
        ("inv.toml", "[hosts.web1]\ntransport = \"local\"\ngroups = [\"web\"]\n"),
        (
            "h.feature",
            "Feature: H\n  @hosts:wbe\n  Scenario: S\n    When I run \"true\"\n",
        ),
    ]);
    shakedown_in(dir.path(), &["lint", "-i", "inv.toml", "h.feature"], &[])
        .assert_exit(2)
        .assert_contains("h.feature:3:3: @hosts:wbe: unknown host or group \"wbe\" (did you mean \"web\"?)");
}

#[test]
fn hosts_tags_fan_out_and_hosts_option_narrows() {
    let dir = suite(&[
        (
            "inv.toml",
            "[hosts.a1]\ntransport = \"local\"\ngroups = [\"app\"]\nvars = { color = \"blue\" }\n\n[hosts.a2]\ntransport = \"local\"\ngroups = [\"app\"]\nvars = { color = \"green\" }\n",
        ),
        (
            "h.feature",
            "@hosts:app\nFeature: H\n  Scenario: Knows its name\n    When I run \"echo {name} {vars.color}\"\n    Then the output should contain \"{name}\"\n",
        ),
    ]);
    let run = shakedown_in(
        dir.path(),
        &["run", "-i", "inv.toml", "h.feature", "--format", "pretty"],
        &[],
    );
    run.assert_exit(0)
        .assert_contains("Knows its name [a1]")
        .assert_contains("Knows its name [a2]");
    let run = shakedown_in(
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "--hosts",
            "a2",
            "h.feature",
            "--format",
            "pretty",
        ],
        &[],
    );
    run.assert_exit(0).assert_contains("1 scenario (1 passed)");
    assert!(!run.stdout.contains("[a1]"));
}

#[test]
fn an_inventory_address_can_never_become_an_ssh_option() {
    let marker = std::env::temp_dir().join(format!("shakedown-pwned-{}", std::process::id()));
    let inv = format!(
        "[hosts.evil]\naddress = \"-oProxyCommand=touch {}\"\n",
        marker.display()
    );
    let dir = suite(&[
        ("inv.toml", &inv),
        (
            "e.feature",
            "@hosts:evil\nFeature: E\n  Scenario: S\n    When I run \"true\"\n",
        ),
    ]);
    shakedown_in(dir.path(), &["run", "-i", "inv.toml", "e.feature"], &[])
        .assert_exit(2)
        .assert_contains("inv.toml:2:");
    assert!(!marker.exists(), "the ProxyCommand ran");
}

#[test]
fn a_bad_inventory_key_names_its_line_and_the_nearest_key() {
    let dir = suite(&[
        ("inv.toml", "[hosts.web1]\nadress = \"10.0.0.1\"\n"),
        ("e.feature", "Feature: E\n"),
    ]);
    shakedown_in(dir.path(), &["lint", "-i", "inv.toml", "e.feature"], &[])
        .assert_exit(2)
        .assert_contains("inv.toml:2:1: unknown key \"adress\"")
        .assert_contains("did you mean \"address\"");
}

#[test]
fn scenarios_run_concurrently_up_to_the_limit() {
    // Each scenario waits for the other's marker: they pass only when both run at once.
    let wait = |mine: &str, theirs: &str| {
        format!(
            "    Then the command \"touch {mine}; for i in $(seq 50); do test -f {theirs} && exit 0; sleep 0.1; done; exit 1\" should succeed\n"
        )
    };
    let feature = format!(
        "Feature: C\n  Scenario: A\n{}  Scenario: B\n{}",
        wait("a.mark", "b.mark"),
        wait("b.mark", "a.mark")
    );
    let dir = suite(&[("c.feature", &feature)]);
    shakedown_in(dir.path(), &["run", "c.feature", "--format", "pretty"], &[]).assert_exit(0);
    for mark in ["a.mark", "b.mark"] {
        std::fs::remove_file(dir.path().join(mark)).expect("marker written");
    }
    shakedown_in(
        dir.path(),
        &["run", "c.feature", "--format", "pretty", "--concurrency", "1"],
        &[],
    )
    .assert_exit(1)
    .assert_contains("1 passed, 1 failed");
}

#[test]
fn fail_fast_stops_starting_scenarios_after_a_failure() {
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: First\n    When I run \"false\"\n    Then the command should succeed\n  Scenario: Second\n    When I run \"true\"\n",
    )]);
    shakedown_in(
        dir.path(),
        &["run", ".", "--format", "pretty", "--concurrency", "1", "--fail-fast"],
        &[],
    )
    .assert_exit(1)
    .assert_contains("- Second [localhost] (not run)")
    .assert_contains("2 scenarios (0 passed, 1 failed, 1 not run)");
}

#[test]
fn no_color_and_the_no_color_flag_keep_escape_codes_out() {
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: S\n    When I run \"false\"\n    Then the command should succeed\n",
    )]);
    let args = ["run", ".", "--format", "pretty"];
    // The test helper sets NO_COLOR=1; an empty NO_COLOR means "not set".
    let forced = shakedown_in(dir.path(), &args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")]);
    assert!(
        forced.all().contains('\u{1b}'),
        "CLICOLOR_FORCE gives colours: {}",
        forced.all()
    );
    let env_off = shakedown_in(dir.path(), &args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!env_off.all().contains('\u{1b}'), "NO_COLOR wins: {}", env_off.all());
    let flag_off = shakedown_in(
        dir.path(),
        &["run", ".", "--format", "pretty", "--no-color"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")],
    );
    assert!(
        !flag_off.all().contains('\u{1b}'),
        "--no-color wins: {}",
        flag_off.all()
    );
}

#[test]
fn progress_format_prints_failures_as_they_happen_and_the_summary() {
    let dir = suite(&[(
        "p.feature",
        "Feature: P\n  Scenario: Good\n    When I run \"true\"\n  Scenario: Bad\n    When I run \"false\"\n    Then the command should succeed\n",
    )]);
    let run = shakedown_in(dir.path(), &["run", ".", "--format", "progress"], &[]);
    run.assert_exit(1)
        .assert_contains("FAILED: Bad [localhost]")
        .assert_contains("2 scenarios (1 passed, 1 failed)");
    assert!(
        !run.stdout.contains("Good [localhost]"),
        "passing scenarios are only counted: {}",
        run.stdout
    );
}
