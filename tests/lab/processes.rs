//! No `ssh` process of a run outlives it (issue 18, items 1 and 2): whatever ended the run
//! (it passed or failed before any SSH step ran, `check`, a wrong MySQL password, SIGINT or
//! SIGTERM to `run`, `check` or `serve` while a remote `sleep 30` is in flight, the
//! `--timeout` deadline, a host still connecting), every SSH master it started (and every
//! `ssh` it started to make one) is gone within 5 s of its end. Masters idle out 5 s after
//! their last client, yet one the run leaves unused for longer still serves it; after a
//! SIGKILL, which no run can clean up after, an idle master ends by itself.
//!
//! Ours are told from other `ssh` processes on the machine by their working directory:
//! each run starts in its own temp directory, and an `ssh -f` master keeps it (it
//! daemonises without `chdir`), even after `-O stop` has renamed it `ssh: [stopped mux]`
//! and its command line no longer names the control socket.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::fault;
use crate::util::{Lab, lab, suite, wait_until};

/// How long after its end a run may still have an `ssh` process (README, Reliability).
const LEFT_WITHIN: Duration = Duration::from_secs(5);

/// A scenario that fails on its first step, before the host's SSH step runs (issue 18, 1).
const FAILS_EARLY: &str = r#"@hosts:web
Feature: Fails early
  Scenario: ports
    Then TCP port 1 on "127.0.0.1" should be open
    And port 80 should be listening
"#;

/// A remote command that leaves a marker and sleeps (issue 18, 2).
fn sleeping(marker: &str) -> String {
    format!(
        "@hosts:web\nFeature: Sleeping\n  Scenario: sleep\n    When I run \"touch {marker}; sleep 30\"\n    Then the command should succeed\n"
    )
}

/// The `ssh` processes (pid and command line) whose working directory is `dir`.
fn ssh_processes_in(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let proc_dir = entry.path();
        let is_pid = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if !is_pid {
            continue;
        }
        let comm = std::fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
        if comm.trim_end() != "ssh" {
            continue;
        }
        // Zombies and processes already gone have no readable cwd: not left running.
        let Ok(cwd) = std::fs::read_link(proc_dir.join("cwd")) else {
            continue;
        };
        if cwd == dir {
            let args = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
            let args = String::from_utf8_lossy(&args).replace('\0', " ");
            found.push(format!("{} {}", entry.file_name().to_string_lossy(), args.trim_end()));
        }
    }
    found
}

/// Asserts that no `ssh` process started from `dir` is left within [`LEFT_WITHIN`] of now.
#[track_caller]
fn assert_no_ssh_left(dir: &Path, what: &str) {
    let start = Instant::now();
    loop {
        let left = ssh_processes_in(dir);
        if left.is_empty() {
            return;
        }
        if start.elapsed() > LEFT_WITHIN {
            panic!(
                "{what}: {} ssh process(es) of the run still running {LEFT_WITHIN:?} after it ended:\n{}",
                left.len(),
                left.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `shakedown ARGS` started in `dir` with the lab's secrets (`env` added last).
fn spawn(lab: &Lab, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shakedown"));
    cmd.env("XDG_STATE_HOME", crate::util::state_home())
        .args(args)
        .current_dir(dir)
        .env_remove("SHAKEDOWN_INVENTORY")
        .env("NO_COLOR", "1")
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("shakedown starts")
}

/// Runs `shakedown ARGS` in `dir` to its end; returns (exit code, stdout and stderr).
fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().expect("shakedown ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The lab inventory, in `dir`.
fn inventory(lab: &Lab) -> String {
    std::fs::read_to_string(lab.inventory()).expect("inventory")
}

/// A marker path unique to this test process and `what`, removed from the web hosts.
fn marker(lab: &Lab, what: &str) -> String {
    let path = format!("/tmp/sd-proc-{}-{what}", std::process::id());
    for h in ["web1", "web2"] {
        lab.exec(h, &format!("rm -f {path}"));
    }
    path
}

/// Waits until both web hosts run the sleeping command (its marker exists) and the run's
/// masters are seen here (so the count after the end is a real count of ours).
fn wait_sleeping(lab: &Lab, dir: &Path, marker: &str) {
    wait_until(
        "the remote sleep started on both web hosts",
        Duration::from_secs(30),
        || {
            ["web1", "web2"].iter().all(|h| {
                lab.exec(h, &format!("test -e {marker} && echo y || true"))
                    .contains('y')
            })
        },
    );
    assert!(
        !ssh_processes_in(dir).is_empty(),
        "the run's ssh masters are seen while it runs"
    );
}

/// Sends `signal` to the child.
fn kill(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) on the child we spawned and have not waited for yet.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

fn signal_name(signal: libc::c_int) -> &'static str {
    if signal == libc::SIGINT { "SIGINT" } else { "SIGTERM" }
}

#[test]
fn a_run_failing_before_its_ssh_steps_leaves_no_ssh_process() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("f.feature", FAILS_EARLY), ("inv.toml", &inventory(&lab))]);
    // Repeated: leftovers used to pile up, one master per host and run.
    for n in 1..=3 {
        let child = spawn(
            &lab,
            dir.path(),
            &["run", "-i", "inv.toml", "f.feature", "--format", "pretty"],
            &[],
        );
        let (code, text) = finish(child);
        assert_eq!(code, 1, "{text}");
        assert!(text.contains("TCP port 1 on 127.0.0.1 open"), "{text}");
        assert_no_ssh_left(dir.path(), &format!("run {n}"));
    }
}

#[test]
fn check_leaves_no_ssh_process() {
    let Some(lab) = lab() else { return };
    let passing = "@hosts:web\nFeature: Passes\n  Scenario: nginx\n    Then port 80 should be listening\n    When I run \"hostname\"\n    Then the command should succeed\n";
    let dir = suite(&[
        ("fails/f.feature", FAILS_EARLY),
        ("passes/p.feature", passing),
        ("inv.toml", &inventory(&lab)),
    ]);
    for (suite_dir, state) in [("fails", "SHAKEDOWN CRITICAL"), ("passes", "SHAKEDOWN OK")] {
        let child = spawn(&lab, dir.path(), &["check", "-i", "inv.toml", suite_dir], &[]);
        let (_, text) = finish(child);
        assert!(text.starts_with(state), "{text}");
        assert_no_ssh_left(dir.path(), &format!("check of {suite_dir}"));
    }
}

#[test]
fn a_run_with_a_wrong_mysql_password_leaves_no_ssh_process() {
    let Some(lab) = lab() else { return };
    // The steps after the MySQL one read facts: their read is still in flight when the
    // MySQL step has failed and the run ends.
    let feature = "@hosts:db\nFeature: MySQL\n  Scenario: up\n    Then MySQL should be accepting connections\n    And the service \"mariadb\" should be running\n    And the package \"mariadb-server\" should be installed\n    And port 3306 should be listening\n";
    let dir = suite(&[("m.feature", feature), ("inv.toml", &inventory(&lab))]);
    let child = spawn(
        &lab,
        dir.path(),
        &["run", "-i", "inv.toml", "m.feature", "--format", "pretty"],
        &[("SHAKEDOWN_MYSQL_PASSWORD", "not-the-password")],
    );
    let (code, text) = finish(child);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("Access denied"), "{text}");
    assert_no_ssh_left(dir.path(), "run with a wrong MySQL password");
}

#[test]
fn sigint_and_sigterm_to_run_during_a_remote_sleep_leave_no_ssh_process() {
    let Some(lab) = lab() else { return };
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let name = signal_name(signal);
        let mark = marker(&lab, &format!("run-{name}"));
        let dir = suite(&[("s.feature", &sleeping(&mark)), ("inv.toml", &inventory(&lab))]);
        // A long step timeout: the remote sleep (30 s) outlives the run by far.
        let child = spawn(
            &lab,
            dir.path(),
            &[
                "run",
                "-i",
                "inv.toml",
                "s.feature",
                "--format",
                "pretty",
                "--step-timeout",
                "60s",
            ],
            &[],
        );
        wait_sleeping(&lab, dir.path(), &mark);
        kill(&child, signal);
        let (code, text) = finish(child);
        assert_eq!(code, 1, "{name}: {text}");
        assert!(text.contains("run interrupted (SIGINT/SIGTERM)"), "{name}: {text}");
        assert_no_ssh_left(dir.path(), &format!("run ended by {name}"));
    }
}

#[test]
fn run_and_check_ended_by_their_timeout_during_a_remote_sleep_leave_no_ssh_process() {
    let Some(lab) = lab() else { return };
    for command in ["run", "check"] {
        let mark = marker(&lab, &format!("timeout-{command}"));
        let dir = suite(&[("s.feature", &sleeping(&mark)), ("inv.toml", &inventory(&lab))]);
        let child = spawn(
            &lab,
            dir.path(),
            &[
                command,
                "-i",
                "inv.toml",
                "s.feature",
                "--timeout",
                "3s",
                "--step-timeout",
                "60s",
            ],
            &[],
        );
        let (code, text) = finish(child);
        if command == "check" {
            assert_eq!(code, 3, "{text}");
            assert!(text.starts_with("SHAKEDOWN UNKNOWN"), "{text}");
        } else {
            assert_eq!(code, 1, "{text}");
            assert!(text.contains("run timed out after 3s (--timeout)"), "{text}");
        }
        // The sleep did start: the masters had a command in flight when the deadline hit.
        for h in ["web1", "web2"] {
            assert!(
                lab.exec(h, &format!("test -e {mark} && echo y || true")).contains('y'),
                "{command}: the remote sleep never started on {h}: {text}"
            );
        }
        assert_no_ssh_left(dir.path(), &format!("{command} ended by --timeout 3s"));
    }
}

#[test]
fn serve_stopped_by_sigint_or_sigterm_during_a_run_leaves_no_ssh_process() {
    let Some(lab) = lab() else { return };
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let name = signal_name(signal);
        let mark = marker(&lab, &format!("serve-{name}"));
        let dir = suite(&[("s.feature", &sleeping(&mark)), ("inv.toml", &inventory(&lab))]);
        let mut child = spawn(
            &lab,
            dir.path(),
            &[
                "serve",
                "-i",
                "inv.toml",
                "s.feature",
                "--listen",
                "127.0.0.1:0",
                "--step-timeout",
                "60s",
            ],
            &[],
        );
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = rx.recv_timeout(Duration::from_secs(30)).expect("serve prints a line");
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first stderr line: {first:?}"))
            .to_string();
        // A request starts a run; it stays open, waiting for that run.
        let mut client = std::net::TcpStream::connect(&addr).expect("connect to serve");
        client
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: shakedown\r\n\r\n")
            .expect("request sent");
        wait_sleeping(&lab, dir.path(), &mark);
        kill(&child, signal);
        let status = wait_exit(&mut child, Duration::from_secs(15));
        let stderr: Vec<String> = rx.try_iter().collect();
        assert_eq!(status, Some(0), "{name}: serve's exit; stderr: {stderr:?}");
        drop(client);
        assert_no_ssh_left(dir.path(), &format!("serve stopped by {name}"));
    }
}

/// Waits (bounded) for the child to exit; its exit code, killing it if it does not.
fn wait_exit(child: &mut Child, bound: Duration) -> Option<i32> {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        if start.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("did not exit within {bound:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigint_while_a_host_is_still_connecting_leaves_no_ssh_process() {
    let Some(lab) = lab() else { return };
    // lb1 black-holed with a long connect timeout: its ssh is still connecting at SIGINT.
    let inv = inventory(&lab).replace("connect_timeout = \"5s\"", "connect_timeout = \"30s\"");
    let feature = "@hosts:lb1\nFeature: Connecting\n  Scenario: ssh\n    When I run \"hostname\"\n";
    let dir = suite(&[("c.feature", feature), ("inv.toml", &inv)]);
    let _lb1 = fault::blackholed("lb1").inject(&lab);
    let child = spawn(
        &lab,
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "c.feature",
            "--format",
            "pretty",
            "--step-timeout",
            "60s",
        ],
        &[],
    );
    wait_until("the run's ssh is connecting to lb1", Duration::from_secs(20), || {
        !ssh_processes_in(dir.path()).is_empty()
    });
    kill(&child, libc::SIGINT);
    let (code, text) = finish(child);
    assert_eq!(code, 1, "{text}");
    assert_no_ssh_left(dir.path(), "run interrupted while connecting");
}

/// Masters exit 5 s after their last client (so what a SIGKILLed run leaves does not
/// linger), yet a master the run leaves unused for longer still serves it: the run holds
/// a client on it.
#[test]
fn a_master_unused_for_longer_than_its_idle_exit_still_serves_the_run() {
    let Some(lab) = lab() else { return };
    // One scenario at a time: web1's master, opened at the start, waits 8 s unused.
    let feature = "Feature: Idle master\n  @hosts:lb1\n  Scenario: busy elsewhere\n    When I run \"sleep 8\"\n    Then the command should succeed\n  @hosts:web1\n  Scenario: later\n    When I run \"hostname\"\n    Then the output should contain \"web1\"\n";
    let dir = suite(&[("i.feature", feature), ("inv.toml", &inventory(&lab))]);
    let child = spawn(
        &lab,
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "i.feature",
            "--format",
            "pretty",
            "--concurrency",
            "1",
        ],
        &[],
    );
    let (code, text) = finish(child);
    assert_eq!(code, 0, "{text}");
    assert_no_ssh_left(dir.path(), "run with an idle master");
}

/// Killed with SIGKILL, a run can end nothing itself: its masters end on their own, an idle
/// one 5 s after the run's client on it is gone (`ControlPersist`), one carrying a command
/// when that command's own timeout ends it on the host (the step timeout).
#[test]
fn after_sigkill_an_idle_master_ends_by_itself_within_seconds() {
    let Some(lab) = lab() else { return };
    let mark = marker(&lab, "sigkill");
    lab.exec("lb1", &format!("rm -f {mark}"));
    // One scenario at a time: web1's master is idle while lb1 runs its command.
    let feature = format!(
        "Feature: Killed\n  @hosts:web1\n  Scenario: first\n    When I run \"hostname\"\n  @hosts:lb1\n  Scenario: then\n    When I run \"touch {mark}; sleep 30\"\n"
    );
    let dir = suite(&[("k.feature", &feature), ("inv.toml", &inventory(&lab))]);
    let child = spawn(
        &lab,
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "k.feature",
            "--concurrency",
            "1",
            "--step-timeout",
            "6s",
        ],
        &[],
    );
    wait_until("lb1 runs its command", Duration::from_secs(30), || {
        lab.exec("lb1", &format!("test -e {mark} && echo y || true"))
            .contains('y')
    });
    let web1 = || {
        ssh_processes_in(dir.path())
            .into_iter()
            .filter(|p| p.contains("10.77.0.11"))
            .count()
    };
    assert_eq!(
        web1(),
        1,
        "web1's master is there, idle: {:?}",
        ssh_processes_in(dir.path())
    );
    kill(&child, libc::SIGKILL);
    let killed = Instant::now();
    let _ = finish(child);
    wait_until("web1's idle master ended by itself", Duration::from_secs(8), || {
        web1() == 0
    });
    eprintln!("web1's master ended {:?} after SIGKILL", killed.elapsed());
    // lb1's ends when `timeout 6` ends its command on the host.
    wait_until("lb1's master ended with its command", Duration::from_secs(15), || {
        ssh_processes_in(dir.path()).is_empty()
    });
}
