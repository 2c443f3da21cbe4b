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

/// An inventory of web1 (a namespace host, no systemd) with sd1 and sd2, in `dir`: the lab's
/// two known_hosts files joined.
fn mixed_inventory(lab: &Lab, dir: &Path) -> PathBuf {
    let sd = std::fs::read_to_string(inventory(lab)).expect("systemd.toml");
    let mut kh = std::fs::read_to_string(lab.dir.join("known_hosts")).expect("known_hosts");
    kh.push_str(&std::fs::read_to_string(lab.dir.join("systemd_known_hosts")).expect("systemd_known_hosts"));
    let kh_path = dir.join("known_hosts");
    std::fs::write(&kh_path, kh).expect("write known_hosts");
    let sd_kh = lab.dir.join("systemd_known_hosts");
    let inv = sd.replace(
        &format!("known_hosts_file = \"{}\"", sd_kh.display()),
        &format!("known_hosts_file = \"{}\"", kh_path.display()),
    ) + "\n[hosts.web1]\naddress = \"10.77.0.11\"\ngroups = [\"web\"]\n";
    assert!(inv.contains(&*kh_path.to_string_lossy()), "{inv}");
    let path = dir.join("mixed.toml");
    std::fs::write(&path, inv).expect("write inventory");
    path
}

/// `no systemd unit should be failed`: passes on sd2, fails on sd1 listing lab-broken.service
/// (and on sd2 once a unit fails there), and fails on web1 saying systemd is not PID 1.
#[test]
fn no_failed_unit_lists_the_failed_ones_and_needs_systemd() {
    let Some(lab) = lab() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let inv = mixed_inventory(&lab, tmp.path());
    let feature = "@hosts:web1,systemd\nFeature: degraded\n  Scenario: no failed unit\n    Then no systemd unit should be failed\n";
    let (run, _dir) = run_with(&inv, feature, &[]);
    run.assert_exit(1);
    assert_failures(
        &run,
        &[
            (
                "sd1",
                &["expected no failed systemd units, found 1 failed: lab-broken.service"][..],
            ),
            (
                "web1",
                &[
                    "expected no failed systemd units, found no systemd units: systemd is not PID 1 on web1 (PID 1 is tini)",
                ][..],
            ),
        ],
        &["sd2"],
    );
    // a unit that fails on sd2 shows there too
    let _fault = Repair::inject(
        &lab,
        "sd2",
        "systemctl start lab-broken.service || true",
        "systemctl reset-failed lab-broken.service",
    );
    crate::util::wait_until("lab-broken failed on sd2", std::time::Duration::from_secs(10), || {
        lab.exec("sd2", "systemctl is-failed lab-broken.service || true").trim() == "failed"
    });
    let (run, _dir) = run_with(&inv, feature, &[]);
    run.assert_exit(1);
    assert_failures(
        &run,
        &[(
            "sd2",
            &["expected no failed systemd units, found 1 failed: lab-broken.service"][..],
        )],
        &[],
    );
}

/// The journal of nginx on sd1 holds the request just made (access log to syslog, so in
/// the unit's journal), both ways; deploy without become on sd2 gets a permission message,
/// web1 (no systemd) a "no journal" one.
#[test]
fn the_journal_of_a_unit_holds_what_it_logged_within_the_window() {
    let Some(lab) = lab() else { return };
    let marker = format!("shakedown-marker-{}", std::process::id());
    let url = format!("http://10.77.0.51/{marker}");
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-m", "5", &url])
        .status()
        .expect("curl runs");
    assert!(out.success(), "curl {url}");
    crate::util::wait_until(
        "the request in sd1's journal",
        std::time::Duration::from_secs(10),
        || {
            lab.exec(
                "sd1",
                &format!("journalctl -u nginx --since=-10min -o cat | grep -c {marker} || true"),
            )
            .trim()
                != "0"
        },
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let inv = mixed_inventory(&lab, tmp.path());
    let feature = format!(
        r#"Feature: journal
  @hosts:sd1
  Scenario: logged
    Then the journal of "nginx" should contain /GET \/{marker} HTTP/ within the last 10 minutes
    And the journal of "nginx" should not contain /never-requested-{marker}/ within the last 10 minutes
  @hosts:sd1
  Scenario: logged, the other way
    Then the journal of "nginx" should not contain /GET \/{marker}/ within the last 10 minutes
  @hosts:sd1
  Scenario: never logged
    Then the journal of "nginx" should contain /never-requested-{marker}/ within the last 10 minutes
  @hosts:sd2
  Scenario: deploy cannot read the system journal
    Then the journal of "ssh" should contain /./ within the last 10 minutes
  @hosts:web1
  Scenario: no systemd, no journal
    Then the journal of "nginx" should not contain /error/ within the last 10 minutes
"#
    );
    let (run, _dir) = run_with(&inv, &feature, &[]);
    run.assert_exit(1).assert_contains("5 scenarios (1 passed, 4 failed)");
    let expected =
        |how: &str, re: &str| format!("expected journal of nginx {how} /{re}/ within the last 10 minutes, found ");
    assert_failures(
        &run,
        &[
            (
                "sd1",
                &[
                    format!(
                        "{}matched in \"10.77.0.1 - - [",
                        expected("not containing", &format!("GET \\/{marker}"))
                    )
                    .as_str(),
                    format!(
                        "{}no match in ",
                        expected("containing", &format!("never-requested-{marker}"))
                    )
                    .as_str(),
                ][..],
            ),
            (
                "sd2",
                &[
                    "expected journal of ssh containing /./ within the last 10 minutes, found permission denied reading the journal of ssh as deploy: journalctl shows deploy only its own messages (set become = true, or add deploy to group systemd-journal)",
                ][..],
            ),
            (
                "web1",
                &["found no journal: systemd is not PID 1 on web1 (PID 1 is tini)"][..],
            ),
        ],
        &[],
    );
    let sd1 = failures(&run, "sd1");
    assert!(sd1[0].contains(&format!("GET /{marker} HTTP/1.1\\\" 404")), "{sd1:?}");
}

/// One facts batch per host when systemd and non-systemd hosts share a run: the service
/// parts pick `systemctl show` on sd1/sd2 and the init script on web1, in the same command.
#[test]
fn one_facts_batch_per_host_on_systemd_and_namespace_hosts_alike() {
    let Some(lab) = lab() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let inv = mixed_inventory(&lab, tmp.path());
    let feature = r#"@hosts:web1,systemd
Feature: facts
  Scenario: one batch
    Then the service "ssh" should be enabled at boot
    And the service "ssh" should be running
    And the service "cron" should be enabled at boot
    And the package "openssh-server" should be installed
    And port 22 should be listening
    And a process named "sshd" should be running
    And "/" should be mounted
"#;
    let (run, dir) = run_with(&inv, feature, &["--trace", "trace.tsv"]);
    run.assert_exit(1).assert_contains("3 scenarios (1 passed, 2 failed)");
    // cron is enabled on web1 only
    assert_failures(
        &run,
        &[
            (
                "sd1",
                &["expected service cron enabled at boot, found disabled at boot (systemd: disabled)"][..],
            ),
            (
                "sd2",
                &["expected service cron enabled at boot, found disabled at boot (systemd: disabled)"][..],
            ),
        ],
        &["web1"],
    );
    let trace = std::fs::read_to_string(dir.path().join("trace.tsv")).expect("trace written");
    for host in ["web1", "sd1", "sd2"] {
        // time, host, seconds, status, command
        let commands: Vec<&str> = trace
            .lines()
            .filter(|l| l.split('\t').nth(1) == Some(host))
            .filter_map(|l| l.splitn(5, '\t').nth(4))
            .collect();
        assert_eq!(commands.len(), 1, "{host}: {} commands:\n{trace}", commands.len());
        assert!(commands[0].contains("systemctl show --property="), "{host}: {trace}");
        assert!(commands[0].contains("/etc/init.d/ssh status"), "{host}: {trace}");
    }
}

/// The hosts themselves: systemd is PID 1 on both (sd2 `running`, sd1 `degraded` by its
/// failed unit), `ci/lab.sh exec` and `addr` know them, sd2 refuses root and takes deploy.
#[test]
fn the_systemd_hosts_run_systemd_as_pid1_and_sd2_takes_deploy_only() {
    let Some(lab) = lab() else { return };
    for (host, state) in [("sd1", "degraded"), ("sd2", "running")] {
        assert_eq!(lab.exec(host, "cat /proc/1/comm").trim(), "systemd", "{host}");
        let s = lab.exec(host, "systemctl is-system-running || true");
        assert_eq!(s.trim(), state, "{host}");
    }
    let addr = std::process::Command::new(crate::util::root().join("ci/lab.sh"))
        .args(["addr", "sd2"])
        .output()
        .expect("ci/lab.sh addr");
    assert_eq!(String::from_utf8_lossy(&addr.stdout).trim(), "10.77.0.52");
    let feature = "@hosts:sd2\nFeature: login\n  Scenario: in\n    Then the service \"ssh\" should be running\n";
    let (run, _dir) = run_with(&inventory(&lab), feature, &[]);
    run.assert_exit(0).assert_contains("1 scenario (1 passed) on 1 host");
    // the same host as root: refused by sshd (PermitRootLogin no), the key is the same
    let tmp = tempfile::tempdir().expect("tempdir");
    let inv = std::fs::read_to_string(inventory(&lab)).expect("systemd.toml");
    assert!(inv.contains("user = \"deploy\""), "{inv}");
    let as_root = tmp.path().join("root.toml");
    std::fs::write(&as_root, inv.replace("user = \"deploy\"", "user = \"root\"")).expect("write");
    let (run, _dir) = run_with(&as_root, feature, &[]);
    run.assert_exit(1);
    assert_failures(
        &run,
        &[(
            "sd2",
            &[
                "cannot connect to sd2 (10.77.0.52:22): failed to connect to the remote host: root@10.77.0.52: Permission denied (publickey",
            ][..],
        )],
        &[],
    );
}
