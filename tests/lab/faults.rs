//! The fault matrix (issue 9): each fault of the catalogue (fault.rs) is injected for
//! real, one at a time under the lab lock; one suite runs over every lab host with a tight
//! step timeout, as a real fleet is checked (issue 20): the lab's fleet inventory
//! (ci/lab/fleet.sh) logs in as `deploy` and reads as root with `become`, and holds the
//! systemd hosts sd1, sd2 and the hosts int1, int2 behind the bastion; the faulty host's scenarios must fail with the right message, every other
//! host must pass, and the run must end within its deadline. The table fault → detected →
//! message → time is printed and written to `$FAULTS_TABLE` (default target/faults-table.md).
//!
//! A new fault is one line of [`rows`]: a fault from the catalogue and the (scenario, host,
//! message) failures it must cause.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::fault::{self, Fault};
use crate::util::{Lab, Run, lab, suite, wait_until};

/// One suite over every lab host: each scenario reads what one family of faults breaks.
/// `reach` leaves a marker and stays busy for a second, so a fault can be made mid-run.
const SUITE: &str = r#"Feature: Fault matrix

  @hosts:web,lb,db,app,systemd,internal
  Scenario: reach
    When I run "touch /tmp/sd-reach; sleep 1; hostname"
    Then the command should succeed

  @hosts:web,lb,db,app,systemd,internal
  Scenario: files
    Then the file "/etc/app.conf" should exist

  @hosts:sd1
  Scenario: units
    Then the service "nginx" should be running

  @hosts:web1,web2,lb1,db1,app1
  Scenario: volume
    Then "/mnt/data" should be mounted

  @hosts:web
  Scenario: nginx
    Then the service "nginx" should be enabled at boot
    And the package "nginx" should be installed at version ">= 1.22"
    When I request "http://{address}/health"
    Then the response status should be 200

  @hosts:web
  Scenario: slow
    When I request "http://{address}/slow"
    Then the response should contain "slow ok"

  @hosts:lb
  Scenario: haproxy
    Then the HAProxy backend "app" should have all servers UP

  @hosts:db
  Scenario: mysql
    Then MySQL should be accepting connections
    And the query "SELECT COUNT(*) FROM app.users" should return "42"

  @hosts:replicas
  Scenario: replication
    Then replication should be running
    And replication should be less than 5 seconds behind
"#;

/// Step timeout of the matrix runs; the lab inventory's connect timeout is lowered to 2 s.
const STEP_TIMEOUT: &str = "3s";

/// A failure a fault must cause: (scenario, host, text in its message).
type Expect = (&'static str, &'static str, &'static str);

/// One row of the matrix.
struct Row {
    fault: Fault,
    /// Made while the suite runs (after `reach` started on the host), not before.
    mid_run: bool,
    failing: &'static [Expect],
    /// The whole run must end within this.
    deadline: Duration,
}

fn row(fault: Fault, failing: &'static [Expect]) -> Row {
    Row {
        fault,
        mid_run: false,
        failing,
        deadline: Duration::from_secs(20),
    }
}

/// The matrix: every fault of issue 9 and what it must break.
fn rows() -> Vec<Row> {
    const DOWN: &str = "cannot connect to";
    vec![
        row(
            fault::link_down("app1"),
            &[
                ("reach", "app1", "cannot connect to app1 (10.77.0.41:22)"),
                ("files", "app1", DOWN),
                ("volume", "app1", DOWN),
            ],
        ),
        row(
            fault::blackholed("lb1"),
            &[
                ("reach", "lb1", "cannot connect to lb1 (10.77.0.21:22)"),
                ("files", "lb1", DOWN),
                ("haproxy", "lb1", DOWN),
            ],
        ),
        row(
            fault::sshd_stopped("db2"),
            &[
                ("reach", "db2", "cannot connect to db2 (10.77.0.32:22)"),
                ("files", "db2", DOWN),
            ],
        ),
        Row {
            mid_run: true,
            ..row(
                fault::sshd_frozen_now("app1"),
                &[("reach", "app1", "timed out after 3s")],
            )
        },
        row(
            fault::host_key_changed("web1"),
            &[
                ("reach", "web1", "cannot connect to web1 (10.77.0.11:22)"),
                ("files", "web1", "REMOTE HOST IDENTIFICATION HAS CHANGED"),
            ],
        ),
        row(fault::mysql_port_refused("db1"), &[("mysql", "db1", "refused")]),
        row(
            fault::service_stopped("MariaDB stopped", "db2", "mariadb"),
            &[("mysql", "db2", "10.77.0.32:3306"), ("replication", "db2", "")],
        ),
        row(fault::sql_thread_stopped(), &[("replication", "db2", "SQL thread")]),
        row(fault::replica_lagging(), &[("replication", "db2", "s behind")]),
        row(
            fault::nginx_500("web2")
                .once(fault::web2_down)
                .healed_when(fault::backend_up),
            &[
                ("nginx", "web2", "found 500 Internal Server Error"),
                ("slow", "web2", "slow ok"),
                ("haproxy", "lb1", "web2"),
            ],
        ),
        row(fault::slow_backend_30s(), &[("slow", "web2", "timed out after 3s")]),
        row(fault::haproxy_server_down(), &[("haproxy", "lb1", "web2 DOWN")]),
        row(
            fault::volume_unmounted("web2"),
            &[("volume", "web2", "found not mounted")],
        ),
        row(
            fault::service_disabled("web2"),
            &[("nginx", "web2", "disabled at boot (systemd: disabled)")],
        ),
        row(
            fault::package_downgraded("web2"),
            &[("nginx", "web2", "version 1.18.0-1")],
        ),
        row(fault::package_removed("web1"), &[("nginx", "web1", "not installed")]),
        row(fault::stat_hangs("web1"), &[("files", "web1", "timed out after 3s")]),
        row(
            fault::unit_stopped("sd1", "nginx"),
            &[(
                "units",
                "sd1",
                "found not running (systemd: nginx.service inactive (dead)",
            )],
        ),
        row(
            fault::unit_stopped("sd2", "ssh"),
            &[
                ("reach", "sd2", "cannot connect to sd2 (10.77.0.52:22)"),
                ("files", "sd2", DOWN),
            ],
        ),
        row(
            fault::link_down("int1"),
            &[
                (
                    "reach",
                    "int1",
                    "cannot connect to int1 (10.77.200.11:22 through jump host bastion",
                ),
                ("files", "int1", DOWN),
            ],
        ),
        row(
            fault::sshd_stopped("bastion"),
            &[
                ("reach", "int1", "bastion"),
                ("files", "int1", "bastion"),
                ("reach", "int2", "bastion"),
                ("files", "int2", "bastion"),
            ],
        ),
    ]
}

/// Each failure as (host, scenario, message), read from the per-host details of the
/// pretty report (`✗ FAILED: name [host] ...`, then the failing step's `expected:` /
/// `found:` or `error:`), so a finding the `Failed:` list says once for several hosts is
/// still each host's own words.
fn failures(run: &Run) -> Vec<(String, String, String)> {
    let head = regex::Regex::new(r"^✗ (?:FAILED|TIMED OUT): (\S+) \[(\S+)\] ").expect("regex");
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut expected = None;
    for line in run.stdout.lines() {
        if let Some(c) = head.captures(line) {
            out.push((c[2].to_string(), c[1].to_string(), "timed out".into()));
            expected = None;
            continue;
        }
        if line.starts_with("Failed:") {
            break;
        }
        let Some(last) = out.last_mut() else { continue };
        let text = line.trim_start();
        if let Some(e) = text.strip_prefix("expected: ") {
            expected = Some(e.to_string());
        } else if let (Some(f), Some(e)) = (text.strip_prefix("found:    "), expected.take()) {
            last.2 = format!("expected {e}, found {f}");
        } else if let Some(e) = text.strip_prefix("error: ") {
            last.2 = e.to_string();
        }
    }
    out
}

/// What one row gave.
struct Outcome {
    fault: &'static str,
    host: &'static str,
    detected: bool,
    /// Why not, or the faulty host's first message.
    message: String,
    took: Duration,
}

/// Runs the matrix suite once (from `dir`: matrix.feature and inv.toml), with the fleet's
/// secrets (MySQL, db2's sudo password) in the environment.
fn run_suite(lab: &Lab, dir: &Path) -> Run {
    lab.shakedown_as_fleet_in(
        dir,
        &[
            "run",
            "-i",
            "inv.toml",
            "matrix.feature",
            "--format",
            "pretty",
            "--step-timeout",
            STEP_TIMEOUT,
        ],
    )
}

/// Injects one row's fault, runs the suite, judges the result, repairs.
fn run_row(lab: &Lab, dir: &Path, row: &Row) -> Outcome {
    let start = Instant::now();
    let (run, took) = if row.mid_run {
        let host = row.fault.host;
        lab.exec(host, "rm -f /tmp/sd-reach");
        std::thread::scope(|s| {
            let runner = s.spawn(|| {
                let start = Instant::now();
                let run = run_suite(lab, dir);
                (run, start.elapsed())
            });
            wait_until("reach started on the host", Duration::from_secs(15), || {
                lab.exec(host, "test -e /tmp/sd-reach && echo yes || true")
                    .contains("yes")
            });
            let _guard = row.fault.inject(lab);
            runner.join().expect("runner thread")
        })
    } else {
        let _guard = row.fault.inject(lab);
        let start = Instant::now();
        let run = run_suite(lab, dir);
        (run, start.elapsed())
    };
    let _ = start;
    judge(row, &run, took)
}

/// Detected = every expected failure with its message, no failure on a healthy host,
/// exit 1, within the deadline.
fn judge(row: &Row, run: &Run, took: Duration) -> Outcome {
    let failed = failures(run);
    let blamed: Vec<&str> = row.failing.iter().map(|f| f.1).collect();
    let mut problems = Vec::new();
    if run.code != 1 {
        problems.push(format!("exit {} (expected 1)", run.code));
    }
    if took > row.deadline {
        problems.push(format!("took {took:?} > {:?}", row.deadline));
    }
    for (scenario, host, text) in row.failing {
        match failed.iter().find(|f| f.0 == *host && f.1 == *scenario) {
            None => problems.push(format!("{scenario} [{host}] did not fail")),
            Some(f) if !f.2.contains(text) => problems.push(format!("{scenario} [{host}]: {:?} lacks {text:?}", f.2)),
            Some(_) => {}
        }
    }
    for (host, scenario, message) in &failed {
        if !blamed.contains(&host.as_str()) {
            problems.push(format!("healthy host failed: {scenario} [{host}]: {message}"));
        }
    }
    let first = row.failing.first().map(|f| (f.0, f.1));
    let message = if problems.is_empty() {
        failed
            .iter()
            .find(|f| Some((f.1.as_str(), f.0.as_str())) == first)
            .map(|f| format!("{} [{}]: {}", f.1, f.0, f.2))
            .unwrap_or_default()
    } else {
        eprintln!("--- {} output:\n{}\n{}", row.fault.name, run.stdout, run.stderr);
        problems.join("; ")
    };
    Outcome {
        fault: row.fault.name,
        host: row.fault.host,
        detected: problems.is_empty(),
        message,
        took,
    }
}

/// The table as Markdown.
fn table(outcomes: &[Outcome]) -> String {
    let detected = outcomes.iter().filter(|o| o.detected).count();
    let mut t = format!(
        "Fault matrix: {detected} of {} faults detected (one suite over the 6 lab hosts, --step-timeout {STEP_TIMEOUT}, connect timeout 2s)\n\n| fault | host | detected | message | time |\n| --- | --- | --- | --- | --- |\n",
        outcomes.len()
    );
    for o in outcomes {
        let mut msg = o.message.replace('|', "\\|");
        if msg.chars().count() > 170 {
            msg = msg.chars().take(167).collect::<String>() + "...";
        }
        t.push_str(&format!(
            "| {} | {} | {} | {} | {:.1}s |\n",
            o.fault,
            o.host,
            if o.detected { "yes" } else { "NO" },
            msg,
            o.took.as_secs_f64()
        ));
    }
    t
}

/// The lab's fleet inventory with a 2 s connect timeout.
fn inventory(lab: &Lab) -> String {
    std::fs::read_to_string(lab.fleet_inventory())
        .expect("inventory")
        .replace("connect_timeout = \"5s\"", "connect_timeout = \"2s\"")
}

#[test]
fn fault_matrix_every_fault_is_detected_on_its_host_only() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("matrix.feature", SUITE), ("inv.toml", &inventory(&lab))]);
    wait_until("lab healthy before the matrix", Duration::from_secs(60), || {
        fault::backend_up(&lab) && fault::replica_healthy(&lab)
    });
    let healthy = run_suite(&lab, dir.path());
    healthy
        .assert_exit(0)
        .assert_contains("34 scenarios (34 passed) on 10 hosts");
    let only = std::env::var("FAULTS_ONLY").unwrap_or_default();
    let outcomes: Vec<Outcome> = rows()
        .iter()
        .filter(|r| only.is_empty() || r.fault.name.contains(only.as_str()))
        .map(|r| run_row(&lab, dir.path(), r))
        .collect();
    let text = table(&outcomes);
    println!("\n{text}");
    let path = std::env::var_os("FAULTS_TABLE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::util::root().join("target/faults-table.md"));
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    std::fs::write(&path, &text).expect("write the fault table");
    let missed: Vec<&str> = outcomes.iter().filter(|o| !o.detected).map(|o| o.fault).collect();
    assert!(missed.is_empty(), "not detected: {missed:?}\n{text}");
}
