//! Quoted arguments and placeholders (issue 18, items 6 to 8), on this machine: `\"` inside
//! `"..."` and `'...'` with `\'` in every quoted argument, the escaped form suggested for
//! an unescaped quote; `{name}`/`{address}`/`{vars.KEY}` in a command line inserted as one
//! quoted shell word; a URL made of a variable checked after substitution, per host.

use crate::util::{shakedown_in, suite};

#[test]
fn escaped_and_single_quoted_arguments_run() {
    let feature = r#"Feature: Q
  Scenario: escaped
    When I run "echo say \"hi\""
    Then the output should contain "say hi"
    When I run "printf %s 'say \"hi\"'"
    Then the output should contain "say \"hi\""
    And the output should contain 'say "hi"'
  Scenario: json
    When I run 'printf %s "{\"status\":\"ok\"}"'
    Then the output should contain "\"status\":\"ok\""
    And the output should contain '"status":"ok"'
    And the output of "echo it\'s" should contain 'it\'s'
    And the command "test \"a b\" = 'a b'" should succeed
"#;
    let dir = suite(&[("q.feature", feature)]);
    shakedown_in(dir.path(), &["run", "q.feature", "--format", "pretty"], &[])
        .assert_exit(0)
        .assert_contains("2 scenarios (2 passed)");
}

#[test]
fn lint_suggests_the_escaped_form_for_an_unescaped_quote() {
    let dir = suite(&[(
        "q.feature",
        "Feature: Q\n  Scenario: S\n    When I run \"printf '{\\\"status\\\":\\\"ok\\\"}'\"\n    Then the output should contain \"\"status\":\"ok\"\"\n",
    )]);
    for command in ["lint", "run"] {
        shakedown_in(dir.path(), &[command, "q.feature"], &[])
            .assert_exit(2)
            .assert_contains("q.feature:4:5: undefined step \"the output should contain \"\"status\":\"ok\"\"\"")
            .assert_contains(r#"`the output should contain "\"status\":\"ok\""`"#)
            .assert_contains(r#"`the output should contain '"status":"ok"'`"#);
    }
}

#[test]
fn placeholders_in_a_command_line_are_one_quoted_word() {
    let canary = tempfile::tempdir().expect("temp dir");
    let c = canary.path().join("pwned2");
    let c = c.to_str().expect("utf-8");
    let inv = format!(
        "[hosts.h1]\ntransport = \"local\"\nvars = {{ evil = \"$(touch {c})\", tick = \"`touch {c}`\", q = \"it's; touch {c}\" }}\n"
    );
    let feature = "@hosts:h1\nFeature: P\n  Scenario: evil\n    When I run \"echo {vars.evil}\"\n    Then the output should contain \"{vars.evil}\"\n    When I run \"echo {vars.tick} {vars.q}\"\n    Then the output should contain \"{vars.tick} {vars.q}\"\n    And the command \"test {vars.q} = {vars.q}\" should succeed\n    And the output of \"printf %s {vars.evil}\" should contain \"{vars.evil}\"\n";
    let dir = suite(&[("inv.toml", &inv), ("p.feature", feature)]);
    shakedown_in(
        dir.path(),
        &["run", "-i", "inv.toml", "p.feature", "--format", "pretty"],
        &[],
    )
    .assert_exit(0)
    .assert_contains("1 scenario (1 passed)");
    assert!(!std::path::Path::new(c).exists(), "a variable ran as a command");
}

#[test]
fn lint_refuses_a_placeholder_inside_quotes_in_a_command_line() {
    let dir = suite(&[(
        "p.feature",
        "Feature: P\n  Scenario: S\n    When I run \"grep '{name}' /etc/hosts\"\n    Then the command \"echo ${HOME} {{x}}\" should succeed\n",
    )]);
    let run = shakedown_in(dir.path(), &["lint", "p.feature"], &[]);
    run.assert_exit(2)
        .assert_contains("p.feature:3:5: placeholder {name} inside quotes or backticks")
        .assert_contains("write them bare");
    assert!(!run.all().contains("p.feature:4:"), "{}", run.all());
}

#[test]
fn a_url_made_of_a_variable_is_checked_after_substitution_per_host() {
    let dir = suite(&[
        (
            "inv.toml",
            "[hosts.h1]\ntransport = \"local\"\nvars = { app_url = \"http://127.0.0.1:9/\" }\n\n[hosts.h2]\ntransport = \"local\"\nvars = { app_url = \"ftp://127.0.0.1/\" }\n",
        ),
        (
            "u.feature",
            "@hosts:h1,h2\nFeature: U\n  Scenario: S\n    When I request \"{vars.app_url}health\"\n",
        ),
    ]);
    shakedown_in(
        dir.path(),
        &["lint", "-i", "inv.toml", "u.feature", "--hosts", "h1"],
        &[],
    )
    .assert_exit(0);
    let run = shakedown_in(dir.path(), &["lint", "-i", "inv.toml", "u.feature"], &[]);
    run.assert_exit(2)
        .assert_contains("u.feature:4:5: When I request \"{vars.app_url}health\": on h2: \"ftp://127.0.0.1/health\" is not an http:// or https:// URL");
    assert!(!run.all().contains("on h1"), "{}", run.all());
}
