//! `shakedown steps` tells the truth (issue 18, item 20): a filter that matches nothing
//! says so and suggests the nearest words; every heading names the file its entries'
//! `source:` lines point into; README's custom-step example is what the tool prints.

use crate::util::{root, shakedown, shakedown_in};

#[test]
fn a_filter_that_matches_nothing_says_so_and_suggests_the_nearest() {
    let none = shakedown(&["steps", "zzzz"]);
    none.assert_exit(1)
        .assert_contains("no step sentence or example contains \"zzzz\"");
    assert!(none.stdout.is_empty(), "no footer alone: {}", none.stdout);
    shakedown(&["steps", "servise should be runing"])
        .assert_exit(1)
        .assert_contains("did you mean \"service should be running\"?");
    shakedown(&["steps", "service should be running"])
        .assert_exit(0)
        .assert_contains("Then the service \"nginx\" should be running");
}

#[test]
fn every_heading_names_the_file_of_its_sources() {
    let out = shakedown(&["steps"]);
    out.assert_exit(0);
    let mut heading = String::new();
    let mut checked = 0;
    for line in out.stdout.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            heading = h.to_string();
        } else if let Some(source) = line.trim().strip_prefix("source: ") {
            let file = source.rsplit_once(':').map(|(f, _)| f).unwrap_or(source);
            assert_eq!(file, heading, "{line} under ## {heading}");
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} sources");
}

#[test]
fn the_readme_custom_step_example_is_what_init_writes_and_steps_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let section = readme
        .split("### Custom steps (no recompiling)")
        .nth(1)
        .expect("the Custom steps section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|t| t.split("```").next())
        .expect("a toml block");
    let example = std::fs::read_to_string(root().join("examples/init/steps/example.toml")).expect("init's pack");
    assert_eq!(toml, example, "README shows init's steps/example.toml as it is");
    let claim = section
        .lines()
        .find_map(|l| l.split_once("# lists it: ").map(|(_, c)| c.trim().to_string()))
        .expect("a `# lists it:` comment");
    let tmp = tempfile::tempdir().expect("temp dir");
    shakedown_in(tmp.path(), &["init", "suite"], &[]).assert_exit(0);
    shakedown_in(&tmp.path().join("suite"), &["steps", "revision"], &[])
        .assert_exit(0)
        .assert_contains(&claim);
}

/// The systemd sentences (issue 20) are in the catalogue with examples, and their bad
/// arguments are lint errors (exit 2, file:line:col) before any host is contacted.
#[test]
fn the_systemd_sentences_are_listed_and_their_bad_arguments_are_lint_errors() {
    shakedown(&["steps", "journal"])
        .assert_exit(0)
        .assert_contains("Then the journal of \"nginx\" should contain /GET \\/health/ within the last 10 minutes")
        .assert_contains("Then the journal of \"nginx\" should not contain /emerg|crit/ within the last 60 minutes");
    shakedown(&["steps", "systemd unit"])
        .assert_exit(0)
        .assert_contains("Then no systemd unit should be failed");
    let dir = crate::util::suite(&[
        // 192.0.2.1 (TEST-NET-1) is never contacted: lint stops at the arguments
        ("inv.toml", "[hosts.sd1]\naddress = \"192.0.2.1\"\n"),
        (
            "a.feature",
            "@hosts:sd1\nFeature: x\n  Scenario: y\n    Then the journal of \"nginx\" should contain /(/ within the last 10 minutes\n    And the journal of \"nginx\" should not contain /a/ within the last 0 minutes\n    And the journal of \"x; rm -rf /\" should contain /a/ within the last 5 minutes\n    And no systemd unit should be failed\n",
        ),
    ]);
    shakedown_in(dir.path(), &["lint", "-i", "inv.toml", "a.feature"], &[])
        .assert_exit(2)
        .assert_contains("a.feature:4:5: ")
        .assert_contains("bad regular expression /(/")
        .assert_contains("a.feature:5:5: ")
        .assert_contains("within the last 0 minutes is no time at all (give 1 or more)")
        .assert_contains("a.feature:6:5: ")
        .assert_contains("\"x; rm -rf /\" is not a service name");
}
