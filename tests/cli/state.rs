//! What changed since the last run (`--state FILE`): a local suite whose one scenario the
//! test breaks and repairs (a file it toggles), run pass, fail, fail, pass: the console,
//! JUnit and the Nagios output of `check` say new, still failing (since when), recovered; a
//! `--no-state` run says none of it and leaves the state alone.

use crate::util::{Run, shakedown_in, suite};

const FEATURE: &str = "Feature: T\n  Scenario: Toggle\n    Then the command \"test ! -f broken\" should succeed\n  Scenario: Steady\n    Then the command \"true\" should succeed\n";

fn run(dir: &std::path::Path) -> (Run, String) {
    let run = shakedown_in(
        dir,
        &[
            "run",
            "f.feature",
            "--format",
            "pretty",
            "--state",
            "run.json",
            "--junit",
            "j.xml",
        ],
        &[],
    );
    let xml = std::fs::read_to_string(dir.join("j.xml")).expect("junit written");
    (run, xml)
}

fn check(dir: &std::path::Path) -> Run {
    shakedown_in(dir, &["check", "f.feature", "--state", "check.json"], &[])
}

const WORDS: [&str; 4] = ["new", "still failing", "recovered", "since the last run"];

#[test]
fn three_runs_say_new_still_failing_since_and_recovered() {
    let dir = suite(&[("f.feature", FEATURE)]);
    let d = dir.path();
    // 1: everything passes: the history starts; no last run, nothing to say.
    let (first, xml) = run(d);
    first.assert_exit(0);
    assert!(!first.all().contains("since the last run"), "{}", first.all());
    assert!(!xml.contains("since the last run"), "{xml}");
    check(d).assert_exit(0);
    // 2: broken: a new failure.
    std::fs::write(d.join("broken"), "").expect("break");
    let (second, xml) = run(d);
    second
        .assert_exit(1)
        .assert_contains("localhost f.feature:2 Toggle: ")
        .assert_contains(" [new]\n")
        .assert_contains("since the last run: 1 new failure\n");
    assert!(xml.contains("since the last run: new failure"), "{xml}");
    assert!(xml.contains("since the last run: passing since 20"), "{xml}");
    let nagios = check(d);
    nagios
        .assert_exit(2)
        .assert_contains("; 1 new failure")
        .assert_contains("CRITICAL localhost: Toggle: ")
        .assert_contains("[new]");
    // 3: still broken: still failing, since the second run.
    let (third, xml) = run(d);
    third
        .assert_exit(1)
        .assert_contains("[still failing since 20")
        .assert_contains("since the last run: 1 still failing (since 20");
    assert!(!third.stdout.contains("[new]"), "{}", third.stdout);
    assert!(xml.contains("since the last run: still failing since 20"), "{xml}");
    check(d).assert_exit(2).assert_contains("[still failing since 20");
    // A --no-state run in between says none of it and leaves the state as it was.
    let kept = std::fs::read_to_string(d.join("run.json")).expect("state written");
    let plain = shakedown_in(d, &["run", "f.feature", "--format", "pretty", "--no-state"], &[]);
    plain.assert_exit(1);
    for w in WORDS {
        assert!(!plain.all().contains(w), "{w:?} in a --no-state run:\n{}", plain.all());
    }
    assert_eq!(kept, std::fs::read_to_string(d.join("run.json")).expect("state"));
    // 4: repaired: recovered.
    std::fs::remove_file(d.join("broken")).expect("repair");
    let (fourth, xml) = run(d);
    fourth
        .assert_exit(0)
        .assert_contains("Recovered:\n  localhost f.feature:2 Toggle (failing since 20")
        .assert_contains("since the last run: 1 recovered\n");
    assert!(xml.contains("since the last run: recovered (failing since 20"), "{xml}");
    check(d)
        .assert_exit(0)
        .assert_contains("; 1 recovered")
        .assert_contains("OK localhost: Toggle: recovered (failing since 20");
}

#[test]
fn the_default_state_lives_under_xdg_state_home_and_a_corrupt_one_is_set_aside() {
    let dir = suite(&[("f.feature", FEATURE)]);
    let home = tempfile::tempdir().expect("state home");
    let env = [("XDG_STATE_HOME", home.path().to_str().expect("utf-8"))];
    shakedown_in(dir.path(), &["run", "f.feature", "--format", "pretty"], &env).assert_exit(0);
    let files: Vec<_> = std::fs::read_dir(home.path().join("shakedown"))
        .expect("the default directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().expect("name").to_string_lossy().into_owned();
    assert!(name.starts_with("f.feature-local-"), "{name}");
    std::fs::write(&files[0], "{ not json").expect("corrupt it");
    let run = shakedown_in(dir.path(), &["run", "f.feature", "--format", "pretty"], &env);
    run.assert_exit(0).assert_contains("set aside as");
    assert!(run.stderr.contains("warning: state "), "{}", run.stderr);
    assert!(files[0].with_extension("json.corrupt").is_file());
    // A --partition shard keeps its own file.
    shakedown_in(
        dir.path(),
        &["run", "f.feature", "--format", "pretty", "--partition", "1/2"],
        &env,
    );
    let count = std::fs::read_dir(home.path().join("shakedown"))
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
        })
        .count();
    assert_eq!(count, 2);
}
