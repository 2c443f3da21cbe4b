//! Custom step packs (`steps/*.toml`, `--steps DIR`) through the real binary, on this
//! machine: picked up without rebuilding, listed, linted with file:line:col, and a capture
//! can never run a command.

use crate::util::{shakedown, shakedown_in, suite};

const PACK: &str = r#"# a user pack
[[step]]
sentence = "the file {string} should hold {string}"
params = ["file", "text"]
example = 'Then the file "/etc/hostname" should hold "web1"'
command = "cat -- {file}"
what = "contents of {file}"
expect.stdout_contains = "{text}"
"#;

fn feature(file: &str, text: &str) -> String {
    format!("Feature: F\n  Scenario: S\n    Then the file \"{file}\" should hold \"{text}\"\n")
}

#[test]
fn a_user_pack_in_dot_steps_is_listed_linted_and_run() {
    let dir = suite(&[("steps/mine.toml", PACK), ("data.txt", "hello pack\n")]);
    let data = dir.path().join("data.txt");
    let data = data.to_str().expect("utf-8");
    std::fs::write(dir.path().join("ok.feature"), feature(data, "hello")).expect("write");
    std::fs::write(dir.path().join("bad.feature"), feature(data, "goodbye")).expect("write");
    shakedown_in(dir.path(), &["steps", "should hold"], &[])
        .assert_exit(0)
        .assert_contains("## steps/mine.toml")
        .assert_contains("source: steps/mine.toml:2");
    shakedown_in(dir.path(), &["lint", "ok.feature"], &[])
        .assert_exit(0)
        .assert_contains(
            "steps/mine.toml:2: \"the file {string} should hold {string}\" runs on the current host: cat -- {file}",
        );
    shakedown_in(dir.path(), &["run", "ok.feature", "--format", "pretty"], &[]).assert_exit(0);
    shakedown_in(dir.path(), &["run", "bad.feature", "--format", "pretty"], &[])
        .assert_exit(1)
        .assert_contains("expected: contents of ")
        .assert_contains("containing \"goodbye\"")
        .assert_contains("found:    \"hello pack\"");
}

#[test]
fn steps_dir_option_loads_packs_from_elsewhere() {
    let packs = suite(&[("deploy-checks.toml", PACK)]);
    let work = suite(&[("f.feature", &feature("/etc/hostname", ""))]);
    let dir = packs.path().to_str().expect("utf-8");
    shakedown_in(work.path(), &["lint", "f.feature"], &[])
        .assert_exit(2)
        .assert_contains("undefined step");
    shakedown_in(
        work.path(),
        &["run", "f.feature", "--steps", dir, "--format", "pretty"],
        &[],
    )
    .assert_exit(0);
    shakedown_in(work.path(), &["steps", "--steps", dir, "should hold"], &[])
        .assert_exit(0)
        .assert_contains("deploy-checks.toml:2");
}

#[test]
fn captures_never_run_as_commands() {
    let dir = suite(&[("steps/mine.toml", PACK)]);
    let canary = dir.path().join("pwned");
    let c = canary.to_str().expect("utf-8");
    let attacks = [
        format!("$(touch {c})"),
        format!("`touch {c}`"),
        format!("x'; touch {c}; echo '"),
        format!("x; touch {c}"),
        format!("x | touch {c}"),
        format!("x && touch {c}"),
    ];
    let mut text = String::from("Feature: F\n");
    for (i, a) in attacks.iter().enumerate() {
        text.push_str(&format!(
            "  Scenario: A{i}\n    Then the file \"{a}\" should hold \"x\"\n"
        ));
    }
    // (A newline cannot be written inside a step line; src/packs/template.rs tests one
    // through a real shell.)
    std::fs::write(dir.path().join("f.feature"), text).expect("write");
    let run = shakedown_in(dir.path(), &["run", "f.feature", "--format", "pretty"], &[]);
    run.assert_exit(1).assert_contains("No such file or directory");
    assert!(!canary.exists(), "a capture ran a command:\n{}", run.all());
}

#[test]
fn colliding_user_packs_are_lint_errors_naming_both_files_and_lines() {
    let dir = suite(&[
        ("steps/a.toml", PACK),
        ("steps/b.toml", &format!("# b\n# again\n{PACK}")),
        ("f.feature", &feature("/etc/hostname", "")),
    ]);
    shakedown_in(dir.path(), &["lint", "f.feature"], &[])
        .assert_exit(2)
        .assert_contains("steps/b.toml:5:12: sentence \"the file {string} should hold {string}\" collides with")
        .assert_contains("(steps/a.toml:2)");
    let builtin = suite(&[(
        "steps/x.toml",
        "[[step]]\nsentence = \"the user {string} should exist\"\nparams = [\"u\"]\nexample = 'Then the user \"x\" should exist'\ncommand = \"id -- {u}\"\n",
    )]);
    shakedown_in(builtin.path(), &["steps"], &[])
        .assert_exit(2)
        .assert_contains("steps/x.toml:2:12: sentence \"the user {string} should exist\" collides with \"the user {string} should exist\" (src/steps/system/mod.rs:");
}

#[test]
fn bad_packs_are_lint_errors_with_file_line_column() {
    let run = shakedown(&["lint", "examples/local", "--steps", "fixtures/packs"]);
    run.assert_exit(2)
        .assert_contains("fixtures/packs/bad_regex.toml:5:25: bad regular expression: unclosed character class")
        .assert_contains("fixtures/packs/unknown_key.toml:4:1: unknown key `comand` (did you mean `command`?)")
        .assert_contains(
            "fixtures/packs/unknown_placeholder.toml:5:17: unknown placeholder {valeu} (did you mean {value}?)",
        )
        .assert_contains("fixtures/packs/quoted.toml:5:11: placeholder #1 inside quotes")
        .assert_contains("fixtures/packs/params.toml:3:10: the sentence has 2 parameter(s)")
        .assert_contains("fixtures/packs/example.toml:3:11: example \"Then r is not ok\" does not match")
        .assert_contains("fixtures/packs/expect.toml:5:17: `expect.status` does not apply to a `command`");
}

#[test]
fn keywords_restrict_where_a_pack_step_is_used() {
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: S\n    Given the nginx configuration should be valid\n",
    )]);
    shakedown_in(dir.path(), &["lint", "f.feature"], &[])
        .assert_exit(2)
        .assert_contains("f.feature:3:5: Given the nginx configuration should be valid: \"the nginx configuration should be valid\" (steps/nginx.toml:")
        .assert_contains("is a Then step");
}

#[test]
fn help_format_prints_the_pack_format() {
    shakedown(&["steps", "--help-format"])
        .assert_exit(0)
        .assert_contains("# Custom steps: the step pack format")
        .assert_contains("| `command` | one shell word, POSIX-quoted");
}

#[test]
fn help_format_documents_every_action_and_expectation() {
    let run = shakedown(&["steps", "--help-format"]);
    run.assert_exit(0)
        .assert_contains("- `mysql = { query = ")
        .assert_contains("| `value_equals = \"1\"` | mysql |")
        .assert_contains("| `rows_at_least = 1` | mysql |")
        .assert_contains("`status = \"{code}\"`");
    // Every key of `expect` and of an action is in the document.
    for key in [
        "exit",
        "status",
        "stdout_equals",
        "stdout_contains",
        "stdout_not_contains",
        "stdout_matches",
        "stderr_contains",
        "stderr_matches",
        "body_contains",
        "body_not_contains",
        "body_matches",
        "json_path",
        "json_equals",
        "value_equals",
        "rows_at_least",
        "command",
        "http",
        "mysql",
        "steps",
    ] {
        run.assert_contains(&format!("`{key}"));
    }
}

#[test]
fn a_url_capture_can_never_reach_the_scheme_or_host() {
    let pack = |url: &str| {
        format!(
            "[[step]]\nsentence = \"the page {{string}} is up\"\nparams = [\"p\"]\nexample = 'Then the page \"a\" is up'\nhttp = {{ url = \"{url}\" }}\n"
        )
    };
    let feature = "Feature: F\n  Scenario: S\n    Then the page \"a\" is up\n";
    for (url, want) in [
        (
            "http://{p}/health",
            "steps/x.toml:5:24: the capture {p} would be the host of the URL",
        ),
        (
            "http://web{p}.example/",
            "steps/x.toml:5:27: the capture {p} would be the host of the URL",
        ),
        (
            "http://{address}:{p}/",
            "steps/x.toml:5:34: the capture {p} would be the host of the URL",
        ),
        (
            "{p}://x/",
            "steps/x.toml:5:17: the capture {p} would be the scheme of the URL",
        ),
    ] {
        let dir = suite(&[("steps/x.toml", &pack(url)), ("f.feature", feature)]);
        shakedown_in(dir.path(), &["lint", "f.feature"], &[])
            .assert_exit(2)
            .assert_contains(want);
    }
    for url in [
        "http://{address}{p}",
        "http://{address}/items/{p}?x=1",
        "http://x.example/?q={p}",
        "{vars.base}{p}",
    ] {
        let dir = suite(&[("steps/x.toml", &pack(url)), ("f.feature", feature)]);
        let run = shakedown_in(dir.path(), &["steps", "the page"], &[]);
        run.assert_exit(0);
    }
}

#[test]
fn shipped_packs_are_in_the_catalogue_with_their_lines() {
    let dir = suite(&[]);
    shakedown_in(dir.path(), &["steps", "crontab"], &[])
        .assert_exit(0)
        .assert_contains("Then the crontab of \"deploy\" should contain \"/usr/local/bin/backup\"")
        .assert_contains("source: steps/cron.toml:");
}

#[test]
fn check_with_a_bad_pack_is_unknown_with_the_place() {
    shakedown(&["check", "examples/local", "--steps", "fixtures/packs"])
        .assert_exit(3)
        .assert_contains("UNKNOWN")
        .assert_contains("fixtures/packs/unknown_key.toml:4:1: unknown key `comand`");
}
