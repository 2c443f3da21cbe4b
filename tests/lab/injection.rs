//! Injection corpus (issue 9, item 4): hostile text (shell metacharacters, quotes,
//! newlines, `$()`, backticks, NUL, a very long string, non-UTF-8) through every quoted
//! argument of every built-in step, taken from the catalogue (`shakedown steps`) so that a
//! new step is covered without touching this file, and through the inventory's address,
//! user, port and vars. On the lab host and here, a canary file that each payload would
//! create is never created; every run ends cleanly (exit 0, 1 or 2, no panic, in time).
//!
//! The command of the command steps (`I run`, `the command ...`, `the output of ...`) is a
//! shell command line by design and is left out of the catalogue sweep; the placeholders
//! inside it are one quoted shell word, which
//! [`placeholders_in_command_lines_are_one_quoted_word`] checks with the same payloads and
//! with `*_env` secrets. Custom steps: after the packs branch merges, add their catalogue
//! (`shakedown steps --steps DIR`) to [`catalogue`].

use std::time::{Duration, Instant};

use crate::util::{Lab, cli_util_shakedown_in, lab, suite};

/// The canary file every payload tries to create (on the lab host and here).
const CANARY: &str = "/tmp/sd-injected";

/// Payloads as TOML basic-string bodies (escapes allowed), read through `{vars.pN}`.
fn payloads() -> Vec<String> {
    let t = format!("touch {CANARY}");
    let mut p = vec![
        format!("x; {t}"),
        format!("/tmp/x; {t}"),
        format!("/tmp/$({t})"),
        format!("/tmp/`{t}`"),
        format!("/tmp/x\\n{t}"),
        format!("/tmp/x' '; {t}; '"),
        format!("x && {t}"),
        format!("x | {t}"),
        format!("$({t})"),
        format!("`{t}`"),
        format!("x' ; {t}; echo '"),
        format!("x\\\" ; {t}; echo \\\""),
        format!("x\\n{t}\\n"),
        format!("x\\r\\n{t}"),
        format!("x\\u0000; {t}"),
        format!("-oProxyCommand={t}"),
        format!("--help; {t}"),
        format!("../../../../{t}"),
        format!("%s%n%x; {t}"),
        format!("*; {t} #"),
        format!("\\\\; {t}"),
        format!("x$IFS&&{t}"),
        format!("http://10.77.0.11/$({t})"),
        format!("Header: v\\r\\nX: $({t})"),
    ];
    p.push(format!("{}; {t}", "A".repeat(200_000)));
    p
}

/// The example of every built-in step that takes a quoted argument, with each quoted
/// argument replaced by `{vars.P}` (P = the payload's key). Command steps are left out.
fn catalogue() -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .arg("steps")
        .output()
        .expect("shakedown steps runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let quoted = regex::Regex::new(r#""[^"]*""#).expect("regex");
    let example = regex::Regex::new(r"^  (Given|When|Then|And|But) (.*)$").expect("regex");
    stdout
        .lines()
        .filter_map(|l| example.captures(l).map(|c| format!("{} {}", &c[1], &c[2])))
        .filter(|e| e.contains('"'))
        .filter(|e| !(e.contains("I run ") || e.contains("the command \"") || e.contains("the output of \"")))
        .map(|e| {
            quoted
                .replace_all(&e, |c: &regex::Captures| {
                    // A URL keeps a real target, the payload in its path; a header its name.
                    let arg = &c[0];
                    if arg.starts_with("\"http") {
                        "\"http://{address}/{vars.P}\"".to_string()
                    } else if arg.contains(": ") {
                        "\"X-Test: {vars.P}\"".to_string()
                    } else {
                        "\"{vars.P}\"".to_string()
                    }
                })
                .into_owned()
        })
        .collect()
}

/// The step with the payload of `key` in place of `{vars.P}`.
fn with_key(step: &str, key: &str) -> String {
    step.replace("{vars.P}", &format!("{{vars.{key}}}"))
}

/// A feature of one scenario per (step, payload key) on web1.
fn feature(pairs: &[(&String, &String)]) -> String {
    let mut f = String::from("@hosts:web1\nFeature: Injection\n");
    for (i, (step, key)) in pairs.iter().enumerate() {
        let step = with_key(step, key);
        f.push_str(&format!(
            "\n  Scenario: s{i} {key}\n    When I run \"true\"\n    {step}\n"
        ));
        if step.ends_with(':') {
            f.push_str(&format!("      \"\"\"\n      {{vars.{key}}}\n      \"\"\"\n"));
        }
    }
    f
}

/// The lab inventory with payloads p0..pN in web1's vars.
fn inventory(lab: &Lab, payloads: &[String]) -> String {
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let vars: Vec<String> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| format!("p{i} = \"{p}\""))
        .collect();
    inv.replacen("vars = { ", &format!("vars = {{ {}, ", vars.join(", ")), 1)
}

/// No canary file on web1 nor here.
fn assert_no_canary(lab: &Lab, what: &str) {
    let remote = lab.exec("web1", &format!("test -e {CANARY} && echo FOUND || true"));
    assert!(!remote.contains("FOUND"), "{what}: a payload ran on web1");
    assert!(
        !std::path::Path::new(CANARY).exists(),
        "{what}: a payload ran on this machine"
    );
}

/// Exit 0, 1 or 2, no panic.
fn assert_clean(run: &crate::util::Run, what: &str) {
    assert!(matches!(run.code, 0..=2), "{what}: exit {}\n{}", run.code, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{what}: panic\n{}", run.stderr);
}

#[test]
fn hostile_step_arguments_never_run_and_fail_cleanly() {
    let Some(lab) = lab() else { return };
    lab.exec("web1", &format!("rm -f {CANARY}"));
    let _ = std::fs::remove_file(CANARY);
    let payloads = payloads();
    let keys: Vec<String> = (0..payloads.len()).map(|i| format!("p{i}")).collect();
    let all = catalogue();
    assert!(
        all.len() >= 40,
        "the catalogue gave {} steps with quoted arguments",
        all.len()
    );
    let inv = inventory(&lab, &payloads);
    // A step whose lint check refuses a payload (checks run on each host's values: a MySQL
    // variable name must be letters and digits, a header value has no line break) never
    // sends it: lint stops the run (exit 2). The run takes every other (step, payload).
    let pairs: Vec<(&String, &String)> = all.iter().flat_map(|s| keys.iter().map(move |k| (s, k))).collect();
    let probe = suite(&[("i.feature", &feature(&pairs)), ("inv.toml", &inv)]);
    let lint = cli_util_shakedown_in(probe.path(), &["lint", "-i", "inv.toml", "i.feature"]);
    assert_clean(&lint, "lint of the corpus");
    let (refused, pairs): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(s, k)| lint.stderr.contains(&with_key(s, k)));
    let dir = suite(&[("i.feature", &feature(&pairs)), ("inv.toml", &inv)]);
    let start = Instant::now();
    let run = cli_util_shakedown_in(
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "i.feature",
            "--format",
            "quiet",
            "--step-timeout",
            "5s",
            "--timeout",
            "240s",
            "--trace",
            "trace.log",
        ],
    );
    let took = start.elapsed();
    // The payloads did reach the host, as quoted data.
    let trace = std::fs::read_to_string(dir.path().join("trace.log")).expect("trace");
    let sent = trace.lines().filter(|l| l.contains("sd-injected")).count();
    assert!(sent > 0, "only {sent} commands carried a payload");
    assert_clean(&run, "step arguments");
    // The inventory with every payload was accepted: the steps really ran with them.
    run.assert_exit(1);
    assert!(
        !run.all().contains("run timed out"),
        "the corpus did not finish:\n{}",
        run.all()
    );
    assert!(took < Duration::from_secs(240), "took {took:?}");
    assert_no_canary(&lab, "step arguments");
    let mut refusing: Vec<&str> = refused.iter().map(|(s, _)| s.as_str()).collect();
    refusing.dedup();
    println!(
        "injection corpus: {} steps x {} payloads: {} scenarios in {took:?}, {sent} host commands carried a payload, 0 executed; {} (step, payload) pairs refused at lint, by {} steps: {refusing:?}",
        all.len(),
        payloads.len(),
        pairs.len(),
        refused.len(),
        refusing.len()
    );
}

#[test]
fn hostile_inventory_values_never_run_and_fail_cleanly() {
    let Some(lab) = lab() else { return };
    lab.exec("web1", &format!("rm -f {CANARY}"));
    let _ = std::fs::remove_file(CANARY);
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let feature = "@hosts:web1\nFeature: I\n  Scenario: reach\n    When I run \"hostname\"\n    Then the command should succeed\n";
    let t = format!("touch {CANARY}");
    let edits: Vec<(String, String)> = payloads()
        .into_iter()
        .flat_map(|p| {
            [
                ("address = \"10.77.0.11\"".to_string(), format!("address = \"{p}\"")),
                ("user = \"root\"".to_string(), format!("user = \"{p}\"")),
                ("port = 22".to_string(), format!("port = \"{p}\"")),
                ("identity_file = \"".to_string(), format!("identity_file = \"{p}")),
            ]
        })
        .chain([
            ("port = 22".to_string(), "port = 99999999999".to_string()),
            ("port = 22".to_string(), "port = -1".to_string()),
            ("[hosts.web1]".to_string(), format!("[hosts.\"web1; {t}\"]")),
        ])
        .collect();
    let mut codes = std::collections::BTreeMap::new();
    for (from, to) in &edits {
        let edited = inv.replacen(from.as_str(), to, 1);
        let dir = suite(&[("f.feature", feature), ("inv.toml", &edited)]);
        let run = cli_util_shakedown_in(
            dir.path(),
            &[
                "run",
                "-i",
                "inv.toml",
                "f.feature",
                "--format",
                "pretty",
                "--step-timeout",
                "5s",
                "--timeout",
                "30s",
            ],
        );
        let what = format!("{to:.60}");
        assert_clean(&run, &what);
        assert!(!run.stdout.contains("1 passed") || run.code == 0, "{what}");
        *codes.entry(run.code).or_insert(0) += 1;
    }
    assert_no_canary(&lab, "inventory values");
    println!(
        "injection through inventory values: {} cases, exit codes {codes:?}, 0 executed",
        edits.len()
    );
}

/// Issue 18, item 7: a `{vars.KEY}` inside the command line of `I run`, `the command ...`
/// and `the output of ...` is inserted as one quoted shell word. Every payload of the corpus
/// that can be a command-line argument at all (not NUL, not 200 kB) and five `*_env`
/// secrets holding `'`, `"`, `$`, backticks and newlines are printed by web1's shell as
/// written (every scenario passes); the issue's own `$(touch /tmp/pwned2)` too; nothing
/// runs there or here; a failing step that shows such a command line leaks no secret.
#[test]
fn placeholders_in_command_lines_are_one_quoted_word() {
    let Some(lab) = lab() else { return };
    const PWNED: &str = "/tmp/pwned2";
    lab.exec("web1", &format!("rm -f {CANARY} {PWNED}"));
    let _ = std::fs::remove_file(CANARY);
    let _ = std::fs::remove_file(PWNED);
    let t = format!("touch {CANARY}");
    let plain: Vec<String> = payloads()
        .into_iter()
        .filter(|p| !p.contains("\\u0000") && p.len() < 1000)
        .collect();
    let secrets: Vec<String> = [
        format!("it's; {t}; echo '"),
        format!("say \"hi\"; {t}; \""),
        format!("$({t}) $HOME ${{PATH}}"),
        format!("`{t}`"),
        format!("x\n{t}\n"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, v)| format!("SECRETMARK{i} {v}"))
    .collect();
    let env: Vec<(String, String)> = secrets
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("SD_INJECTION_SECRET_{i}"), v.clone()))
        .collect();
    let mut vars: Vec<String> = plain
        .iter()
        .enumerate()
        .map(|(i, p)| format!("p{i} = \"{p}\""))
        .collect();
    vars.extend(
        env.iter()
            .enumerate()
            .map(|(i, (name, _))| format!("s{i}_env = \"{name}\"")),
    );
    vars.push(format!("evil = \"$(touch {PWNED})\""));
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let inv = inv.replacen("vars = { ", &format!("vars = {{ {}, ", vars.join(", ")), 1);
    let keys: Vec<String> = (0..plain.len())
        .map(|i| format!("p{i}"))
        .chain((0..secrets.len()).map(|i| format!("s{i}")))
        .collect();
    let mut feature = String::from(
        "@hosts:web1\nFeature: Command lines\n\n  Scenario: the issue's example\n    When I run \"echo {vars.evil}\"\n    Then the output should contain \"$(touch /tmp/pwned2)\"\n",
    );
    for key in &keys {
        feature.push_str(&format!(
            "\n  Scenario: {key}\n    When I run \"printf %s {{vars.{key}}}\"\n    Then the command should succeed\n    And the output should contain \"{{vars.{key}}}\"\n    And the command \"test -n {{vars.{key}}}\" should succeed\n    And the output of \"printf %s {{vars.{key}}}\" should contain \"{{vars.{key}}}\"\n"
        ));
    }
    let dir = suite(&[("c.feature", &feature), ("inv.toml", &inv)]);
    let shakedown = |args: &[&str]| -> crate::util::Run {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shakedown"));
        cmd.env("XDG_STATE_HOME", crate::util::state_home())
            .args(args)
            .current_dir(dir.path())
            .env_remove("SHAKEDOWN_INVENTORY")
            .env("NO_COLOR", "1");
        cmd.env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.output().expect("shakedown runs").into()
    };
    let run = shakedown(&[
        "run",
        "-i",
        "inv.toml",
        "c.feature",
        "--format",
        "pretty",
        "--step-timeout",
        "5s",
        "--trace",
        "trace.log",
    ]);
    assert_clean(&run, "command lines");
    run.assert_exit(0);
    let trace = std::fs::read_to_string(dir.path().join("trace.log")).expect("trace");
    assert!(
        trace.contains("sd-injected"),
        "the payloads did not reach web1:\n{trace:.2000}"
    );
    assert!(!trace.contains("SECRETMARK"), "a secret in the trace:\n{trace}");
    assert!(
        !run.all().contains("SECRETMARK"),
        "a secret in the output:\n{}",
        run.all()
    );
    assert_no_canary(&lab, "command lines");
    let remote = lab.exec("web1", &format!("test -e {PWNED} && echo FOUND || true"));
    assert!(!remote.contains("FOUND"), "$(touch {PWNED}) ran on web1");
    // A failing step shows the command line and the output: still no secret.
    let failing: String = (0..secrets.len())
        .map(|i| format!("\n  Scenario: f{i}\n    Then the output of \"printf %s {{vars.s{i}}}\" should contain \"nothing like it\"\n"))
        .collect();
    std::fs::write(
        dir.path().join("f.feature"),
        format!("@hosts:web1\nFeature: Failing\n{failing}"),
    )
    .expect("write");
    let run = shakedown(&[
        "run",
        "-i",
        "inv.toml",
        "f.feature",
        "--format",
        "pretty",
        "--trace",
        "trace2.log",
    ]);
    run.assert_exit(1).assert_contains("expected: output of `printf %s ");
    let trace = std::fs::read_to_string(dir.path().join("trace2.log")).expect("trace");
    assert!(
        !run.all().contains("SECRETMARK"),
        "a secret in the output:\n{}",
        run.all()
    );
    assert!(!trace.contains("SECRETMARK"), "a secret in the trace:\n{trace}");
    assert_no_canary(&lab, "failing command lines");
    println!(
        "command lines: {} plain values and {} secrets through I run, the command and the output of; 0 executed",
        plain.len(),
        secrets.len()
    );
}

/// Non-UTF-8 in a feature file and in an inventory: bad input (2), nothing run.
#[test]
fn non_utf8_feature_and_inventory_are_bad_input() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[(
        "inv.toml",
        &std::fs::read_to_string(lab.inventory()).expect("inventory"),
    )]);
    let mut bytes = b"@hosts:web1\nFeature: x\n  Scenario: y\n    Then the service \"ng".to_vec();
    bytes.extend([0xff, 0xfe, b'$', b'(']);
    bytes.extend(format!("touch {CANARY})\" should be running\n").as_bytes());
    std::fs::write(dir.path().join("bad.feature"), &bytes).expect("write");
    let run = cli_util_shakedown_in(
        dir.path(),
        &["run", "-i", "inv.toml", "bad.feature", "--format", "pretty"],
    );
    assert_clean(&run, "non-UTF-8 feature");
    let mut inv = std::fs::read(lab.inventory()).expect("inventory");
    let at = inv.windows(6).position(|w| w == b"root\"\n").expect("user") + 2;
    inv.splice(at..at, [0xff, 0xc0]);
    std::fs::write(dir.path().join("inv2.toml"), &inv).expect("write");
    let ok = "@hosts:web1\nFeature: x\n  Scenario: y\n    When I run \"hostname\"\n";
    std::fs::write(dir.path().join("ok.feature"), ok).expect("write");
    let run = cli_util_shakedown_in(dir.path(), &["run", "-i", "inv2.toml", "ok.feature"]);
    run.assert_exit(2);
    assert_no_canary(&lab, "non-UTF-8");
}
