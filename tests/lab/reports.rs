//! Reports against the lab: JUnit, Cucumber JSON and `shakedown check` from real SSH runs,
//! passing on both web hosts, then with a fault on web2 only: every report names web2, its
//! failing step, expected and found, and shows web1 passing; perfdata carries each host's
//! measured SSH connect time with the limit the step checked.

use std::time::Duration;

use crate::fault::{At, Fault, backend_up};
use crate::util::{Repair, group_hosts, lab, suite, wait_until};

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
        let label = format!("'{host} SSH answers quickly: {address} port 22 connect'=");
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
        testcase(&xml, "SSH answers quickly [web2]").contains("10.77.0.12 port 22 connect = "),
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

// ---------------------------------------------------------------- perfdata (issue 18, 4 and 5)

/// A pack for a number a host prints, between two limits (the suite's `./steps`).
const NUMBER_PACK: &str = r#"
[[step]]
sentence = "the number {int} should be between {int} and {int}"
params = ["n", "lo", "hi"]
example = "Then the number 5 should be between 1 and 8"
command = "echo {n}"
measure = { label = "number", regex = '(\d+)', between = ["{lo}", "{hi}"] }
"#;

/// Every step that measures a value, each alone in its scenario, once passing and once
/// failing by its own limit (the lab healthy).
const MEASURED: &str = r#"Feature: Measured
  @hosts:web
  Scenario: Health in time
    When I request "http://{address}/health"
    Then the response time should be under 5000 ms

  @hosts:web
  Scenario: Repeated health in time
    When I request "http://{address}/health" 5 times
    Then the response time should be under 5000 ms
    And the 95th percentile response time should be under 5000 ms

  @hosts:web
  Scenario: Certificate lasts
    Then the TLS certificate for "{address}:443" should be valid for at least 30 days

  @hosts:web
  Scenario: Short certificate lasts
    Then the TLS certificate for "short.shakedown.test:443" via "{address}" should be valid for at least 30 days

  @hosts:web
  Scenario: SSH answers
    Then TCP port 22 on "{address}" should be open within 5000 ms

  @hosts:web
  Scenario: Disk has room
    Then the filesystem "/" should be less than 99% full

  @hosts:web
  Scenario: Disk is empty
    Then the filesystem "/" should be less than 1% full

  @hosts:web
  Scenario: sshd runs
    Then at least 1 processes named "sshd" should be running

  @hosts:web
  Scenario: sshd runs a thousand times
    Then at least 1000 processes named "sshd" should be running

  @hosts:web
  Scenario: Hostname written this decade
    Then the file "/etc/hostname" should have been modified within 3650 days

  @hosts:web
  Scenario: Hostname written this second
    Then the file "/etc/hostname" should have been modified within 1 second

  @hosts:web
  Scenario: Five is in range
    Then the number 5 should be between 1 and 8

  @hosts:web
  Scenario: Five is out of range
    Then the number 5 should be between 6 and 8

  @hosts:lb
  Scenario: Enough backends
    Then the HAProxy backend "app" should have at least 2 servers UP

  @hosts:lb
  Scenario: Too few backends
    Then the HAProxy backend "app" should have at least 3 servers UP

  @hosts:lb
  Scenario: Every backend
    Then the HAProxy backend "app" should have all servers UP

  @hosts:db
  Scenario: Few connections
    Then MySQL should have fewer than 500 connections

  @hosts:db
  Scenario: No connections
    Then MySQL should have fewer than 1 connections

  @hosts:replicas
  Scenario: Replica close
    Then replication should be less than 30 seconds behind

  @hosts:app
  Scenario: Apache calm
    Then Apache on "{address}" should be serving between 0 and 500 requests per second

  @hosts:app
  Scenario: Apache busy
    Then Apache on "{address}" should be serving between 1000 and 2000 requests per second
"#;

/// `shakedown check` output: the measured perfdata items (after the five counts) and the
/// failed units as `host: scenario` (from the long output `STATE host: scenario: why`).
fn measured_and_failed(stdout: &str) -> (Vec<shakedown::report::perfdata::Perf>, Vec<String>) {
    let first = stdout.lines().next().unwrap_or_default();
    assert!(!stdout.contains("perfdata values left out"), "{stdout}");
    let perf = first.split_once(" | ").map(|(_, p)| p).unwrap_or_default();
    let items = shakedown::report::perfdata::parse_perfdata(perf).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let failed = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest))
        .filter_map(|rest| {
            rest.split_once(": ")
                .and_then(|(h, r)| r.split_once(": ").map(|(s, _)| format!("{h}: {s}")))
        })
        .collect();
    (items.into_iter().skip(5).collect(), failed)
}

/// Item 4 of issue 18: on real hosts, every value a passing step measured lies inside its
/// critical range and every value a failing step measured outside, read with a parser of
/// the Monitoring Plugins range syntax (`at least 2 servers UP` is `2:`, a certificate's
/// days left `30:`, a pack's `between = [1, 8]` `1:8`).
#[test]
fn perfdata_thresholds_of_lab_steps_alert_exactly_when_the_step_failed() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("m.feature", MEASURED), ("steps/number.toml", NUMBER_PACK)]);
    let mut seen = 0;
    let mut failed_seen = 0;
    for host in ["web1", "web2", "lb1", "db1", "db2", "app1"] {
        let check = lab.shakedown_in(dir.path(), &["check", "m.feature", "--hosts", host]);
        check.assert_exit(2);
        let (items, failed) = measured_and_failed(&check.stdout);
        assert!(!items.is_empty(), "{}", check.stdout);
        for p in &items {
            let (who, _) = p.label.split_once(": ").unwrap_or_else(|| panic!("{p:?}"));
            let (h, scenario) = who.split_once(' ').unwrap_or_else(|| panic!("{p:?}"));
            assert_eq!(h, host, "{p:?}");
            let Some(crit) = p.crit else {
                // Only a request's own times carry no limit (the median of 5 requests).
                assert!(p.label.ends_with("response time median"), "no threshold: {p}");
                continue;
            };
            let step_failed = failed.contains(&format!("{host}: {scenario}"));
            assert_eq!(
                crit.alerts(p.value),
                step_failed,
                "{p}: {} is {} {crit}, but the step {}\n{}",
                p.value,
                if crit.alerts(p.value) { "outside" } else { "inside" },
                if step_failed { "failed" } else { "passed" },
                check.stdout
            );
            seen += 1;
            failed_seen += usize::from(step_failed);
        }
    }
    // web: 14 with a limit each; lb1: 3; db1, db2: 2 each, db2 1 more; app1: 2.
    assert_eq!(
        (seen, failed_seen),
        (2 * 14 + 3 + 2 + 3 + 2, 2 * 5 + 1 + 2 + 1),
        "measured and failed"
    );
}

const HAPROXY_STABLE: &str = r#"@hosts:lb
Feature: Balancer
  Scenario: web2 in the pool
    Then the server "web2" in HAProxy backend "app" should be UP
    And the HAProxy backend "app" should have at least 1 servers UP

  Scenario: Capacity
    Then the HAProxy backend "app" should have at least 2 servers UP
"#;

const WEB_STABLE: &str = r#"@hosts:web
Feature: Web
  Scenario: Slow page in time
    When I request "http://{address}/slow"
    Then the response time should be under 1000 ms

  Scenario Outline: Health answers
    When I request "http://{address}/<path>"
    Then the response time should be under 5000 ms

    Examples:
      | path   |
      | health |
      | health |

  Scenario: Health answers twice
    When I request "http://{address}/health"
    Then the response time should be under 5000 ms
    When I request "http://{address}/health"
    Then the response time should be under 5000 ms
"#;

/// `check` of both files: the measured labels, sorted.
fn labels(lab: &crate::util::Lab, dir: &std::path::Path) -> (Vec<String>, String) {
    let check = lab.shakedown_in(dir, &["check", "lb.feature", "web.feature"]);
    let (items, _) = measured_and_failed(&check.stdout);
    let mut labels: Vec<String> = items.into_iter().map(|p| p.label).collect();
    labels.sort();
    (labels, check.stdout)
}

/// Item 5 of issue 18: the same suite, healthy and with faults (web2 in MAINT in HAProxy,
/// web2's /slow answering after 2 s), names every value it measured in both runs the same:
/// a label never depends on what else passed or was measured. Outline rows get `#1`, `#2`
/// (not `... 2`); a request and its "response time should be under" step give one value,
/// not two; a second request to the same URL in one scenario gets its step's line.
#[test]
fn perfdata_labels_are_the_same_healthy_and_failing() {
    let Some(lab) = lab() else { return };
    wait_until("HAProxy sees web1 and web2 UP", Duration::from_secs(20), || {
        backend_up(&lab)
    });
    let dir = suite(&[("lb.feature", HAPROXY_STABLE), ("web.feature", WEB_STABLE)]);
    let (healthy, ok) = labels(&lab, dir.path());
    assert!(ok.starts_with("SHAKEDOWN OK - "), "{ok}");
    let faults = Fault {
        name: "web2 in MAINT and slow",
        host: "web2",
        inject: vec![
            (
                At::Host("lb1"),
                "echo 'set server app/web2 state maint' | socat stdio /run/haproxy/admin.sock".into(),
            ),
            (At::Host("web2"), "echo 2 > /var/www/DELAY".into()),
        ],
        repair: vec![
            (
                At::Host("lb1"),
                "echo 'set server app/web2 state ready' | socat stdio /run/haproxy/admin.sock".into(),
            ),
            (At::Host("web2"), "rm -f /var/www/DELAY".into()),
        ],
        injected: None,
        healed: Some(backend_up),
    };
    let (failing, out) = {
        let _injected = faults.inject(&lab);
        labels(&lab, dir.path())
    };
    assert!(
        out.starts_with("SHAKEDOWN CRITICAL - 3 of 10 scenarios failed: "),
        "{out}"
    );
    assert!(out.contains("\nCRITICAL web2: Slow page in time: "), "{out}");
    let new: Vec<&String> = failing.iter().filter(|l| !healthy.contains(l)).collect();
    assert!(
        new.is_empty(),
        "labels that only the failing run has: {new:?}\nhealthy: {ok}\nfailing: {out}"
    );
    // The one value not measured: the step after web2's failed MAINT check was not run.
    let missing: Vec<&String> = healthy.iter().filter(|l| !failing.contains(l)).collect();
    assert_eq!(missing, ["lb1 web2 in the pool: backend app servers UP"], "{out}");
    assert_eq!(
        healthy,
        [
            "lb1 Capacity: backend app servers UP",
            "lb1 web2 in the pool: backend app servers UP",
            "web1 Health answers #1: 10.77.0.11/health response time",
            "web1 Health answers #2: 10.77.0.11/health response time",
            "web1 Health answers twice: 10.77.0.11/health response time",
            "web1 Health answers twice: 10.77.0.11/health response time (line 19)",
            "web1 Slow page in time: 10.77.0.11/slow response time",
            "web2 Health answers #1: 10.77.0.12/health response time",
            "web2 Health answers #2: 10.77.0.12/health response time",
            "web2 Health answers twice: 10.77.0.12/health response time",
            "web2 Health answers twice: 10.77.0.12/health response time (line 19)",
            "web2 Slow page in time: 10.77.0.12/slow response time",
        ],
        "{ok}"
    );
}

/// Every host of `.lab/fleet.toml`.
const FLEET: [&str; 10] = [
    "web1", "web2", "lb1", "db1", "db2", "app1", "sd1", "sd2", "int1", "int2",
];

/// A release marker no lab host has: the same finding on every host, each host's address
/// in its found text (set aside when grouping).
const MARKER: &str = r#"@hosts:web,lb,db,app,systemd,internal
Feature: Release
  Scenario: The release marker is deployed
    Then the command "echo on {address}; cat /etc/shakedown-release" should succeed
"#;

#[test]
fn failures_alike_on_the_fleet_are_said_once_and_the_odd_host_stands_out() {
    let Some(lab) = lab() else { return };
    let inv = lab.fleet_inventory();
    let inv = inv.to_str().expect("utf-8 path");
    let dir = suite(&[("release.feature", MARKER)]);
    // db1 fails differently: the marker is a directory there.
    let _dir_db1 = Repair::inject(
        &lab,
        "db1",
        "mkdir -p /etc/shakedown-release",
        "rmdir /etc/shakedown-release",
    );
    let run = lab.shakedown_as_fleet_in(dir.path(), &["run", "-i", inv, "release.feature", "--format", "pretty"]);
    run.assert_exit(1);
    let list: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| *l != "Failed:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(list.len(), 2, "one line for nine hosts, one for db1:\n{}", run.all());
    let mut grouped = group_hosts(list[0]);
    grouped.sort();
    let mut others: Vec<String> = FLEET.iter().filter(|h| **h != "db1").map(|h| h.to_string()).collect();
    others.sort();
    assert_eq!(grouped, others, "{}", run.all());
    assert!(
        list[0].contains("(9 hosts) release.feature:3 The release marker is deployed: expected "),
        "{}",
        run.all()
    );
    assert!(
        list[0].contains(r#"output "on <address>\ncat: /etc/shakedown-release: No such file or directory""#),
        "{}",
        run.all()
    );
    assert!(list[1].starts_with("  db1 release.feature:3 "), "{}", run.all());
    assert!(list[1].contains("Is a directory"), "{}", run.all());
    // Every host's own result stays in the details above the list.
    for host in FLEET {
        run.assert_contains(&format!("FAILED: The release marker is deployed [{host}]"));
    }

    let check = lab.shakedown_as_fleet_in(dir.path(), &["check", "-i", inv, "release.feature"]);
    check.assert_exit(2);
    let status = check.stdout.lines().next().unwrap_or_default();
    assert!(
        status.starts_with("SHAKEDOWN CRITICAL - 10 of 10 scenarios failed: The release marker is deployed [")
            && status.contains(" (9 hosts)], The release marker is deployed [db1] | "),
        "{}",
        check.all()
    );
    let long: Vec<&str> = check.stdout.lines().skip(1).collect();
    assert_eq!(long.len(), 2, "{}", check.all());
    assert!(long[0].starts_with("CRITICAL "), "{}", check.all());
    assert!(
        long[0].contains(" (9 hosts): The release marker is deployed: exit status 1, output "),
        "{}",
        check.all()
    );
    assert!(
        long[1].starts_with("CRITICAL db1: The release marker is deployed: "),
        "{}",
        check.all()
    );
    assert!(long[1].contains("Is a directory"), "{}", check.all());
}
