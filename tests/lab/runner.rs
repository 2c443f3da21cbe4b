//! The runner's policies against real hosts (issue 18): a retry reads the host again
//! (facts included, one read per attempt, counted in `--trace`) after a pause that grows,
//! so a fault repaired between attempts passes; `--fail-fast` starts no work on other hosts
//! after the first failure.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::fault;
use crate::util::{Repair, lab, suite};

/// One `--trace` line: (seconds since the run started, host, command).
fn trace(dir: &Path) -> Vec<(f64, String, String)> {
    let text = std::fs::read_to_string(dir.join("trace.tsv")).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            let [at, host, _, _, cmd] = f.as_slice() else {
                return None;
            };
            Some((at.parse().ok()?, host.to_string(), cmd.to_string()))
        })
        .collect()
}

/// The times of the trace lines whose command contains every one of `needles`.
fn reads(dir: &Path, needles: &[&str]) -> Vec<f64> {
    trace(dir)
        .into_iter()
        .filter(|(_, _, c)| needles.iter().all(|n| c.contains(n)))
        .map(|(t, _, _)| t)
        .collect()
}

/// The documented pause before attempt `n + 1` (n >= 1): 0.5 s doubling, at most 8 s.
fn pause(n: usize) -> f64 {
    (0.5 * f64::from(1u32 << (n - 1).min(4))).min(8.0)
}

/// Asserts that consecutive reads are at least the documented pauses apart (the trace
/// prints milliseconds: 2 ms of rounding allowed). Minimum gaps only: a slow host may
/// take longer, never less.
#[track_caller]
fn assert_paused(times: &[f64], what: &str) {
    for (k, w) in times.windows(2).enumerate() {
        let gap = w[1] - w[0];
        assert!(
            gap >= pause(k + 1) - 0.002,
            "{what}: attempt {} read {gap:.3}s after attempt {}, expected at least {}s: {times:?}",
            k + 2,
            k + 1,
            pause(k + 1)
        );
    }
}

const WARMING_UP: &str = r#"@hosts:web2
Feature: warming up
  Scenario: configured
    Then the file "/etc/app.conf" should contain "max_conn = 100"
    And port 80 should be listening
"#;

const BREAK: &str = "sed -i 's/^max_conn = 100$/max_conn = 99/' /etc/app.conf";
const MEND: &str = "sed -i 's/^max_conn = 99$/max_conn = 100/' /etc/app.conf";

/// /etc/app.conf is wrong on web2 when the run starts and mended (from here) as soon as
/// the first attempt's read is in the trace: with `--retries` the scenario passes, and every
/// attempt read the file and the listening ports again, in one command each, after a pause
/// at least as long as documented.
#[test]
fn a_fault_repaired_between_attempts_passes_with_retries_each_attempt_reading_again() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(&lab, "web2", BREAK, MEND);
    let dir = suite(&[("w.feature", WARMING_UP)]);
    let done = AtomicBool::new(false);
    let (run, mended) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let start = Instant::now();
            while !done.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(60) {
                if !reads(dir.path(), &["grep -q -F"]).is_empty() {
                    lab.exec("web2", MEND);
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        });
        let run = lab.shakedown_in(
            dir.path(),
            &[
                "run",
                "w.feature",
                "--format",
                "pretty",
                "--retries",
                "5",
                "--trace",
                "trace.tsv",
                "--junit",
                "junit.xml",
            ],
        );
        done.store(true, Ordering::SeqCst);
        (run, watcher.join().expect("watcher"))
    });
    assert!(
        mended,
        "the first attempt's read never showed in the trace:\n{}",
        run.all()
    );
    run.assert_exit(0).assert_contains("1 scenario (1 passed)");
    let all = trace(dir.path());
    let file = reads(dir.path(), &["grep -q -F", "/etc/app.conf"]);
    let both = reads(dir.path(), &["grep -q -F", "/etc/app.conf", "ss -ltn"]);
    let ports = reads(dir.path(), &["ss -ltn"]);
    let attempts = file.len();
    assert!(attempts >= 2, "one read for every attempt, and more than one: {all:#?}");
    // One read per attempt, the file and the ports in the same command.
    assert_eq!(both, file, "{all:#?}");
    assert_eq!(ports, file, "{all:#?}");
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit written");
    assert!(
        xml.contains(&format!("attempts: {attempts} (this report shows the last)")),
        "{attempts} reads for the attempts of:\n{xml}"
    );
    assert_paused(&file, "the file");
}

/// Without a repair, every attempt fails, and each one read the host again (the facts in
/// one command, the user's command itself) after a pause that grows: 0.5 s, 1 s, 2 s.
#[test]
fn without_a_repair_every_attempt_reads_again_after_a_growing_pause() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[(
        "n.feature",
        r#"@hosts:web2
Feature: never ready
  Scenario: facts
    Then the file "/etc/no-such.conf" should exist
    And port 8099 should be listening
  Scenario: command
    When I run "test -e /etc/no-such.conf"
    Then the command should succeed
"#,
    )]);
    let run = lab.shakedown_in(
        dir.path(),
        &[
            "run",
            "n.feature",
            "--format",
            "pretty",
            "--retries",
            "3",
            "--trace",
            "trace.tsv",
        ],
    );
    run.assert_exit(1).assert_contains("2 scenarios (0 passed, 2 failed)");
    assert_eq!(run.stdout.matches("attempts: 4").count(), 2, "{}", run.all());
    let all = trace(dir.path());
    let stats = reads(dir.path(), &["exec stat -L", "/etc/no-such.conf", "ss -ltn"]);
    let ports = reads(dir.path(), &["ss -ltn"]);
    assert_eq!(stats.len(), 4, "one read of the facts per attempt: {all:#?}");
    assert_eq!(ports, stats, "{all:#?}");
    let commands = reads(dir.path(), &["test -e /etc/no-such.conf"]);
    assert_eq!(commands.len(), 4, "the command once per attempt: {all:#?}");
    assert_paused(&stats, "the facts");
    assert_paused(&commands, "the command");
}

/// A scenario that fails at once (nothing listens on 127.0.0.1:1) with `--fail-fast` at the
/// default concurrency: the scenarios on the six hosts, all started with it and still waiting
/// for their host's connection, are not run, and no command reaches any host (not even the
/// facts batch). Without `--fail-fast` the same suite runs them all.
#[test]
fn fail_fast_starts_no_work_on_other_hosts_after_the_first_failure() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[(
        "f.feature",
        r#"Feature: stop early
  Scenario: fails at once
    Then TCP port 1 on "127.0.0.1" should be open
  @hosts:web,lb,db,app
  Scenario: everywhere
    When I run "hostname"
    Then the command should succeed
    And port 22 should be listening
"#,
    )]);
    let args = ["run", "f.feature", "--format", "pretty", "--trace", "trace.tsv"];
    let run = lab.shakedown_in(dir.path(), &args);
    run.assert_exit(1).assert_contains("7 scenarios (6 passed, 1 failed)");
    let hosts: std::collections::BTreeSet<String> = trace(dir.path()).into_iter().map(|(_, h, _)| h).collect();
    assert_eq!(hosts.len(), 6, "without --fail-fast every host is asked: {hosts:?}");

    std::fs::remove_file(dir.path().join("trace.tsv")).expect("trace written");
    let run = lab.shakedown_in(dir.path(), &[&args[..], &["--fail-fast"]].concat());
    run.assert_exit(1)
        .assert_contains("7 scenarios (0 passed, 1 failed, 6 not run)");
    for host in ["web1", "web2", "lb1", "db1", "db2", "app1"] {
        run.assert_contains(&format!("- everywhere [{host}] (not run)"));
    }
    let sent = trace(dir.path());
    assert!(sent.is_empty(), "commands sent after the failure: {sent:#?}");
}

/// Packets the REJECT rule of [`fault::mysql_port_refused`] on `host` has refused.
fn mysql_refused(host: &str) -> u64 {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &format!("sdlab-{host}"), "iptables", "-nvxL", "INPUT"])
        .output()
        .expect("iptables runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("REJECT") && l.contains("dpt:3306"))
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// MySQL refused on db2 when the run starts, let through again (from here) once the first
/// attempt has been refused: the retry connects again instead of repeating the first
/// attempt's error, and passes.
#[test]
fn a_mysql_server_back_between_attempts_passes_with_retries() {
    let Some(lab) = lab() else { return };
    let refused = fault::mysql_port_refused("db2");
    let _fault = refused.inject(&lab);
    let dir = suite(&[(
        "m.feature",
        "@hosts:db2\nFeature: database warming up\n  Scenario: up\n    Then MySQL should be accepting connections\n",
    )]);
    let done = AtomicBool::new(false);
    let (run, mended) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let start = Instant::now();
            while !done.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(60) {
                if mysql_refused("db2") > 0 {
                    for (_, script) in &refused.repair {
                        let ok = std::process::Command::new("sh").args(["-c", script]).status();
                        assert!(ok.is_ok_and(|s| s.success()), "repair: {script}");
                    }
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        });
        let run = lab.shakedown_in(
            dir.path(),
            &[
                "run",
                "m.feature",
                "--format",
                "pretty",
                "--retries",
                "5",
                "--junit",
                "junit.xml",
            ],
        );
        done.store(true, Ordering::SeqCst);
        (run, watcher.join().expect("watcher"))
    });
    assert!(mended, "the first attempt was never refused:\n{}", run.all());
    run.assert_exit(0).assert_contains("1 scenario (1 passed)");
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit written");
    assert!(
        xml.contains("attempt 1 failed: Then MySQL should be accepting connections"),
        "{xml}"
    );
}
