//! Reports against the lab: JUnit, Cucumber JSON and `shakedown check` from real SSH runs,
//! passing on both web hosts, then with a fault on web2 only: every report names web2, its
//! failing step, expected and found, and shows web1 passing; perfdata carries each host's
//! measured SSH connect time with the limit the step checked.

use crate::util::{Repair, lab, suite};

const FEATURE: &str = "@hosts:web
Feature: Web hosts v1.0
  Scenario: The application config is deployed
    Then the command \"test -f /etc/app.conf\" should succeed

  Scenario: SSH answers quickly
    Then TCP port 22 on \"{address}\" should be open within 1000 ms
";

/// The `<testcase ...>...</testcase>` (or self-closed) element named `name`.
fn testcase<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = xml
        .find(&format!("<testcase name=\"{name}\""))
        .unwrap_or_else(|| panic!("no testcase {name}:\n{xml}"));
    let rest = &xml[start..];
    let end = rest.find("</testcase>").map(|e| e + 11).unwrap_or(rest.len());
    let next = rest[1..].find("<testcase ").map(|n| n + 1).unwrap_or(rest.len());
    &rest[..end.min(next)]
}

#[test]
fn reports_of_a_passing_lab_run() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("web.feature", FEATURE)]);
    let run = lab.shakedown_in(
        dir.path(),
        &["check", "web.feature", "--junit", "r.xml", "--json", "r.json"],
    );
    run.assert_exit(0);
    assert!(
        run.stdout
            .starts_with("SHAKEDOWN OK - 4 scenarios passed on 2 hosts in "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(" | scenarios=4 passed=4 failed=0 skipped=0 time="),
        "{}",
        run.stdout
    );
    for (host, address) in [("web1", "10.77.0.11"), ("web2", "10.77.0.12")] {
        let label = format!("'{host} {address} port 22 connect'=");
        assert!(run.stdout.contains(&label), "{label} in {}", run.stdout);
    }
    assert_eq!(
        run.stdout.lines().count(),
        1,
        "no long output when all passed:\n{}",
        run.stdout
    );
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit");
    assert!(xml.contains("tests=\"4\" errors=\"0\" failures=\"0\""), "{xml}");
    assert!(
        testcase(&xml, "SSH answers quickly [web2]").contains("web2 port 22 connect = "),
        "{xml}"
    );
}

#[test]
fn reports_of_a_lab_run_failing_on_one_host() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("web.feature", FEATURE)]);
    let _fault = Repair::inject(
        &lab,
        "web2",
        "mv /etc/app.conf /etc/app.conf.reports-test",
        "mv /etc/app.conf.reports-test /etc/app.conf",
    );
    let run = lab.shakedown_in(
        dir.path(),
        &[
            "run",
            "web.feature",
            "--format",
            "quiet",
            "--junit",
            "r.xml",
            "--json",
            "r.json",
        ],
    );
    run.assert_exit(1);
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).expect("junit");
    assert!(xml.contains("tests=\"4\" errors=\"0\" failures=\"1\""), "{xml}");
    let web2 = testcase(&xml, "The application config is deployed [web2]");
    assert!(web2.contains("<failure type=\"check failed\" message=\"Then the command &quot;test -f /etc/app.conf&quot; should succeed (web.feature:4): expected "), "{web2}");
    assert!(
        web2.contains("classname=\"Web hosts v1_0\"") && web2.contains("file=\"web.feature\""),
        "{web2}"
    );
    assert!(
        !testcase(&xml, "The application config is deployed [web1]").contains("<failure"),
        "{xml}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("json")).expect("JSON");
    let elements = json[0]["elements"].as_array().expect("elements");
    let status = |name: &str| {
        let e = elements
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("no element {name}"));
        e["steps"][0]["result"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(status("The application config is deployed [web2]"), "failed");
    assert_eq!(status("The application config is deployed [web1]"), "passed");
    assert_eq!(status("SSH answers quickly [web2]"), "passed");

    let check = lab.shakedown_in(dir.path(), &["check", "web.feature"]);
    check.assert_exit(2);
    assert!(
        check.stdout.starts_with("SHAKEDOWN CRITICAL - 1 of 4 scenarios failed: The application config is deployed [web2] | scenarios=4 passed=3 failed=1 skipped=0 time="),
        "{}",
        check.stdout
    );
    let long: Vec<&str> = check.stdout.lines().skip(1).collect();
    assert_eq!(long.len(), 1, "{}", check.stdout);
    assert!(
        long[0].starts_with("CRITICAL web2: The application config is deployed: "),
        "{}",
        long[0]
    );
    assert!(
        long[0].ends_with("(web.feature:4: Then the command \"test -f /etc/app.conf\" should succeed)"),
        "{}",
        long[0]
    );
    assert_eq!(check.stdout.matches('|').count(), 1);
}
