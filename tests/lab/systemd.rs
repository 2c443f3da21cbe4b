//! The systemd hosts of the lab (sd1, sd2: systemd 252 as PID 1, ci/lab/systemd.sh): every
//! service state a real systemd has, read by the existing service sentences both ways
//! (active, inactive, failed, masked, static, indirect, alias, template instance,
//! socket-activated, timer, no such unit); the sentences on failed units and the journal;
//! and one facts batch per host when systemd and non-systemd hosts share a run.

use std::path::{Path, PathBuf};

use crate::util::{Lab, Repair, Run, assert_failures, cli_util_shakedown_in, failures, lab, suite};

/// `$LAB_DIR/systemd.toml` (sd1 as root, sd2 as deploy), written by ci/lab/systemd.sh.
fn inventory(lab: &Lab) -> PathBuf {
    let inv = lab.dir.join("systemd.toml");
    assert!(
        inv.exists(),
        "no {} (ci/lab.sh up brings the systemd hosts up)",
        inv.display()
    );
    inv
}

/// Runs one feature in a temp dir against `inv`, with extra arguments.
fn run_with(inv: &Path, feature: &str, extra: &[&str]) -> (Run, tempfile::TempDir) {
    let dir = suite(&[("s.feature", feature)]);
    let inv = inv.to_str().expect("utf-8 path");
    let mut args = vec!["run", "-i", inv, "s.feature", "--format", "pretty"];
    args.extend_from_slice(extra);
    (cli_util_shakedown_in(dir.path(), &args), dir)
}

fn run_sd(lab: &Lab, feature: &str) -> Run {
    run_with(&inventory(lab), feature, &[]).0
}

/// Every state passes the way it is, on sd1 (root) and sd2 (deploy, no sudo needed).
#[test]
fn every_unit_state_reads_right_on_real_systemd() {
    let Some(lab) = lab() else { return };
    let run = run_sd(
        &lab,
        r#"@hosts:systemd
Feature: the state matrix, as it is
  Scenario: active
    Then the service "ssh" should be running
    And the service "ssh" should be enabled at boot
  Scenario: inactive
    Then the service "cron" should not be running
    And the service "cron" should not be enabled at boot
  Scenario: masked
    Then the service "apache2" should not be running
    And the service "apache2" should not be enabled at boot
  Scenario: static
    Then the service "lab-tick" should not be running
    And the service "lab-tick" should be enabled at boot
  Scenario: indirect
    Then the service "lab-echo" should not be running
    And the service "lab-echo" should be enabled at boot
  Scenario: alias
    Then the service "sshd" should be running
    And the service "sshd.service" should be enabled at boot
  Scenario: template instance
    Then the service "lab-worker@one" should be running
    And the service "lab-worker@one" should be enabled at boot
    And the service "lab-worker@two" should not be running
    And the service "lab-worker@two" should not be enabled at boot
  Scenario: socket
    Then the service "lab-echo.socket" should be running
    And the service "lab-echo.socket" should be enabled at boot
  Scenario: timer
    Then the service "lab-tick.timer" should be running
    And the service "lab-tick.timer" should be enabled at boot
  Scenario: no such unit
    Then the service "nosuch-unit" should not be running
    And the service "nosuch-unit" should not be enabled at boot

  @hosts:sd1
  Scenario: nginx active, lab-broken failed (sd1 only)
    Then the service "nginx" should be running
    And the service "nginx" should be enabled at boot
    And the service "lab-broken" should not be running
    And the service "lab-broken" should be enabled at boot
"#,
    );
    run.assert_exit(0)
        .assert_contains("21 scenarios (21 passed) on 2 hosts");
}

/// Every state fails the other way, saying what systemd said.
#[test]
fn every_unit_state_fails_the_other_way_with_what_systemd_said() {
    let Some(lab) = lab() else { return };
    let run = run_sd(
        &lab,
        r#"@hosts:sd1
Feature: the state matrix, the other way
  Scenario: active
    Then the service "nginx" should not be running
  Scenario: inactive
    Then the service "cron" should be running
  Scenario: failed
    Then the service "lab-broken" should be running
  Scenario: masked running
    Then the service "apache2" should be running
  Scenario: masked enabled
    Then the service "apache2" should be enabled at boot
  Scenario: static
    Then the service "lab-tick" should not be enabled at boot
  Scenario: indirect
    Then the service "lab-echo" should be running
  Scenario: alias
    Then the service "sshd" should not be running
  Scenario: template instance
    Then the service "lab-worker@two" should be running
  Scenario: socket
    Then the service "lab-echo.socket" should not be running
  Scenario: timer
    Then the service "lab-tick.timer" should not be enabled at boot
  Scenario: no such unit running
    Then the service "nosuch-unit" should be running
  Scenario: no such unit enabled
    Then the service "nosuch-unit" should be enabled at boot
"#,
    );
    run.assert_exit(1)
        .assert_contains("13 scenarios (0 passed, 13 failed) on 1 host");
    assert_failures(
        &run,
        &[(
            "sd1",
            &[
                "expected service nginx not running, found running (systemd: nginx.service active (running), enabled)",
                "expected service cron running, found not running (systemd: cron.service inactive (dead), disabled)",
                "expected service lab-broken running, found not running (systemd: lab-broken.service failed (failed), enabled)",
                "expected service apache2 running, found not running (systemd: apache2.service inactive (dead), masked)",
                "expected service apache2 enabled at boot, found disabled at boot (systemd: masked)",
                "expected service lab-tick not enabled at boot, found enabled at boot (systemd: static)",
                "expected service lab-echo running, found not running (systemd: lab-echo.service inactive (dead), indirect; started by lab-echo.socket)",
                "expected service sshd not running, found running (systemd: ssh.service active (running), enabled)",
                "expected service lab-worker@two running, found not running (systemd: lab-worker@two.service inactive (dead), disabled)",
                "expected service lab-echo.socket not running, found running (systemd: lab-echo.socket active (listening), enabled)",
                "expected service lab-tick.timer not enabled at boot, found enabled at boot (systemd: enabled)",
                "expected service nosuch-unit running, found no such unit (systemd: no unit nosuch-unit.service)",
                "expected service nosuch-unit enabled at boot, found no such unit (systemd: no unit file nosuch-unit)",
            ][..],
        )],
        &[],
    );
}
