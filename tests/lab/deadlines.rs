//! Deadlines hold and signals end a run cleanly (issue 9, item 2): `--step-timeout`,
//! `--timeout`, the SSH connect timeout and the MySQL timeout each bound the wall time of a
//! run against a hung or unreachable host (generous margins: these are bounds, not
//! benchmarks); SIGINT and SIGTERM end a run promptly with a partial report and the right
//! exit status, and no `ssh` process of the run outlives it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fault;
use crate::util::{Lab, Run, cli_util_shakedown_in, lab, suite, wait_until};

/// A suite whose every scenario hangs on every host (after leaving a marker).
const HANGING: &str = r#"@hosts:web,lb,db,app
Feature: Hanging
  Scenario: hang
    When I run "touch /tmp/sd-hang; sleep 30"
    Then the command should succeed
  Scenario: after
    Then the file "/etc/app.conf" should exist
"#;

/// Runs `args` in `dir` and returns the run and its wall time.
fn timed(dir: &Path, args: &[&str]) -> (Run, Duration) {
    let start = Instant::now();
    let run = cli_util_shakedown_in(dir, args);
    (run, start.elapsed())
}

fn inventory(lab: &Lab) -> String {
    std::fs::read_to_string(lab.inventory())
        .expect("inventory")
        .replace("connect_timeout = \"5s\"", "connect_timeout = \"2s\"")
}

#[test]
fn the_step_timeout_ends_a_hung_command_and_the_remote_process_with_it() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("h.feature", HANGING), ("inv.toml", &inventory(&lab))]);
    let (run, took) = timed(
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "h.feature",
            "--format",
            "pretty",
            "--hosts",
            "web1",
            "--step-timeout",
            "2s",
        ],
    );
    run.assert_exit(1)
        .assert_contains("timed out after 2s")
        .assert_contains("2 scenarios (1 passed, 1 failed)");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    // The remote command runs under `timeout` on the host: it does not outlive the step.
    wait_until("sleep 37 gone from web1", Duration::from_secs(10), || {
        lab.exec("web1", "pgrep -fx 'sleep 37' || true").trim().is_empty()
    });
}

#[test]
fn the_run_timeout_ends_the_whole_run_with_what_has_not_finished_timed_out() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("h.feature", HANGING), ("inv.toml", &inventory(&lab))]);
    let (run, took) = timed(
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "h.feature",
            "--format",
            "pretty",
            "--step-timeout",
            "60s",
            "--timeout",
            "3s",
        ],
    );
    run.assert_exit(1).assert_contains("run timed out after 3s (--timeout)");
    assert!(took < Duration::from_secs(12), "took {took:?}");
    // check: UNKNOWN (3) at its deadline, with what it knew.
    let (run, took) = timed(
        dir.path(),
        &[
            "check",
            "-i",
            "inv.toml",
            "h.feature",
            "--step-timeout",
            "60s",
            "--timeout",
            "3s",
        ],
    );
    run.assert_exit(3).assert_contains("SHAKEDOWN UNKNOWN");
    assert!(took < Duration::from_secs(12), "took {took:?}");
}

#[test]
fn the_ssh_connect_timeout_and_the_mysql_timeout_hold_against_blackholed_hosts() {
    let Some(lab) = lab() else { return };
    let feature = "Feature: Black holes\n  @hosts:lb1\n  Scenario: ssh\n    When I run \"hostname\"\n  @hosts:db1\n  Scenario: mysql\n    Then MySQL should be accepting connections\n";
    let dir = suite(&[("b.feature", feature), ("inv.toml", &inventory(&lab))]);
    let _lb1 = fault::blackholed("lb1").inject(&lab);
    let drop3306 = "INPUT -p tcp --dport 3306 -s 10.77.0.1 -j DROP";
    let _db1 = fault::Fault::controller(
        "3306 blackholed",
        "db1",
        &format!("ip netns exec sdlab-db1 iptables -I {drop3306}"),
        &format!("while ip netns exec sdlab-db1 iptables -D {drop3306} 2>/dev/null; do :; done"),
    )
    .inject(&lab);
    // A long step timeout: the connect timeout (2 s) and the MySQL connect bound must fire
    // long before it.
    let (run, took) = timed(
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "b.feature",
            "--format",
            "pretty",
            "--step-timeout",
            "8s",
        ],
    );
    run.assert_exit(1)
        .assert_contains("cannot connect to lb1 (10.77.0.21:22)")
        .assert_contains("MySQL on db1 (10.77.0.31:3306)");
    assert!(took < Duration::from_secs(12), "took {took:?}");
}

/// The pids of processes whose command line mentions `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let out = Command::new("ps")
        .args(["-eo", "pid=,args="])
        .output()
        .expect("ps runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(needle))
        .map(|l| l.trim().to_string())
        .collect()
}

/// Starts a hanging run, sends `signal` once every host started, and checks the end.
fn interrupt(lab: &Lab, command: &str, signal: libc::c_int) -> (i32, String, String, Duration) {
    let dir = suite(&[("h.feature", HANGING), ("inv.toml", &inventory(lab))]);
    let junit = dir.path().join("junit.xml");
    for h in ["web1", "web2", "lb1", "db1", "db2", "app1"] {
        lab.exec(h, "rm -f /tmp/sd-hang");
    }
    let mut args = vec![
        command,
        "-i",
        "inv.toml",
        "h.feature",
        "--step-timeout",
        "60s",
        "--timeout",
        "60s",
    ];
    if command == "run" {
        args.extend(["--format", "pretty", "--junit", "junit.xml"]);
    }
    let child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .env("XDG_STATE_HOME", crate::util::state_home())
        .args(&args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shakedown starts");
    let pid = child.id();
    wait_until("every host started hanging", Duration::from_secs(20), || {
        ["web1", "db2", "app1"]
            .iter()
            .all(|h| lab.exec(h, "test -e /tmp/sd-hang && echo y || true").contains('y'))
    });
    let control = format!("/tmp/sd-{pid}-");
    assert!(
        !processes_with(&control).is_empty(),
        "ssh masters of the run exist while it runs"
    );
    let sent = Instant::now();
    // SAFETY: kill(2) on the child we spawned and still own (not yet waited for).
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
    let out = child.wait_with_output().expect("shakedown ends");
    let took = sent.elapsed();
    wait_until("no ssh process of the run left", Duration::from_secs(5), || {
        processes_with(&control).is_empty()
    });
    if command == "run" {
        let xml = std::fs::read_to_string(&junit).expect("JUnit written after a signal");
        assert!(xml.contains("<testcase"), "{xml}");
    }
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    )
}

#[test]
fn sigint_and_sigterm_end_a_run_promptly_with_a_partial_report_and_no_ssh_left() {
    let Some(lab) = lab() else { return };
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let (code, stdout, stderr, took) = interrupt(&lab, "run", signal);
        assert_eq!(code, 1, "signal {signal}: {stdout}{stderr}");
        assert!(stdout.contains("run interrupted (SIGINT/SIGTERM)"), "{stdout}{stderr}");
        assert!(stdout.contains("12 scenarios ("), "partial summary: {stdout}");
        assert!(
            took < Duration::from_secs(5),
            "signal {signal}: ended {took:?} after it"
        );
    }
    // check, as Icinga stops it at its own timeout: UNKNOWN with what it knew.
    let (code, stdout, stderr, took) = interrupt(&lab, "check", libc::SIGTERM);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.starts_with("SHAKEDOWN UNKNOWN"), "{stdout}");
    assert!(took < Duration::from_secs(5), "ended {took:?} after SIGTERM");
}

/// The seconds at the end of the console line holding `head` (`✗ TIMED OUT: hang [web1]
/// h.feature:3 3.01s`).
fn console_secs(stdout: &str, head: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.contains(head))
        .unwrap_or_else(|| panic!("no line with {head:?} in:\n{stdout}"));
    let last = line.split_whitespace().last().unwrap_or("");
    last.trim_end_matches('s')
        .parse()
        .unwrap_or_else(|_| panic!("no seconds at the end of {line:?}"))
}

/// The `time` of the JUnit testcase named `name`, and the seconds of its step log's line
/// starting with `step`.
fn junit_secs(xml: &str, name: &str, step: &str) -> (f64, f64) {
    let at = xml
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no testcase {name:?} in:\n{xml}"));
    let open = xml[..at].rfind("<testcase").expect("testcase tag");
    let tag = &xml[open..open + xml[open..].find('>').expect("tag end")];
    let time = tag
        .split("time=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time in {tag}"));
    let end = open + xml[open..].find("</testcase>").expect("testcase end");
    let log = xml[open..end]
        .lines()
        .find(|l| l.trim_start().starts_with(step))
        .unwrap_or_else(|| panic!("no step line {step:?} in:\n{}", &xml[open..end]));
    let secs = log
        .rsplit('(')
        .next()
        .and_then(|t| t.trim_end_matches(")").trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {log:?}"));
    (time, secs)
}

/// A scenario cut by `--timeout` or by SIGINT reports the time it ran, not 0 s: in the
/// console line, in JUnit's `time`, and for the step that was cut (minimum bounds only).
#[test]
fn a_timed_out_or_interrupted_scenario_reports_the_time_it_ran() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("h.feature", HANGING), ("inv.toml", &inventory(&lab))]);
    let args = [
        "run",
        "-i",
        "inv.toml",
        "h.feature",
        "--format",
        "pretty",
        "--hosts",
        "web1",
        "--step-timeout",
        "60s",
        "--junit",
        "junit.xml",
    ];
    let (run, _) = timed(dir.path(), &[&args[..], &["--timeout", "3s"]].concat());
    run.assert_exit(1).assert_contains("run timed out after 3s (--timeout)");
    // It ran from its start (after the connection, well under a second) to the deadline.
    let shown = console_secs(&run.stdout, "TIMED OUT: hang [web1]");
    assert!(shown >= 2.0, "the timed-out scenario shows {shown}s:\n{}", run.stdout);
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit written");
    let (time, step) = junit_secs(&xml, "hang [web1]", "ERROR   When I run");
    assert!(
        time >= 2.0 && step >= 2.0,
        "JUnit time {time}s, cut step {step}s:\n{xml}"
    );

    // Interrupted once it has run at least a second.
    lab.exec("web1", "rm -f /tmp/sd-hang");
    let child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .env("XDG_STATE_HOME", crate::util::state_home())
        .args(&args[..])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shakedown starts");
    wait_until("the hang started on web1", Duration::from_secs(20), || {
        lab.exec("web1", "test -e /tmp/sd-hang && echo y || true").contains('y')
    });
    // Not synchronisation: the least time the scenario will have run when interrupted.
    std::thread::sleep(Duration::from_secs(1));
    // SAFETY: kill(2) on the child we spawned and still own (not yet waited for).
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let out = child.wait_with_output().expect("shakedown ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("run interrupted (SIGINT/SIGTERM)"), "{stdout}");
    let shown = console_secs(&stdout, "TIMED OUT: hang [web1]");
    assert!(shown >= 1.0, "the interrupted scenario shows {shown}s:\n{stdout}");
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit written");
    let (time, step) = junit_secs(&xml, "hang [web1]", "ERROR   When I run");
    assert!(
        time >= 1.0 && step >= 1.0,
        "JUnit time {time}s, cut step {step}s:\n{xml}"
    );
}
