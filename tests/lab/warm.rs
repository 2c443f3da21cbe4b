//! Warm runs (issue 22): `--keep-connections` keeps each host's SSH master between runs,
//! and the next run reuses it without a key exchange (`--trace` says "reused" or "opened"
//! per host, and no ssh master process is added). A dead kept master, a host whose sshd
//! restarted, a frozen host, two runs at once on the same masters, another identity file,
//! `shakedown connections [--close]`, `serve` between two requests, and the secrets warm.
//!
//! Every test keeps its masters in a runtime directory of its own (`XDG_RUNTIME_DIR`) and
//! closes them when it ends, even on a panic ([`Warm`]'s drop): the other lab tests count
//! the connections to the hosts (the bastion's) and must find none left.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fault;
use crate::util::{Lab, Run, lab, shakedown_with_env, suite, wait_until};

const REACH: &str = "@hosts:web,lb,db,app\nFeature: Warm\n  Scenario: reach\n    When I run \"hostname\"\n    Then the command should succeed\n";

/// Kept masters of one test, in a runtime directory of its own; closed on drop.
struct Warm {
    rt: tempfile::TempDir,
}

impl Warm {
    fn new() -> Warm {
        let rt = tempfile::tempdir().expect("runtime dir");
        std::fs::set_permissions(rt.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");
        Warm { rt }
    }

    fn rt(&self) -> &str {
        self.rt.path().to_str().expect("utf-8")
    }

    /// Runs shakedown in `dir` with this runtime directory and the lab's secrets.
    fn shakedown(&self, lab: &Lab, dir: &Path, args: &[&str]) -> Run {
        let mysql = lab.mysql_password();
        let become_pw = lab.become_password();
        shakedown_with_env(
            dir,
            args,
            &[
                ("XDG_RUNTIME_DIR", self.rt()),
                ("SHAKEDOWN_MYSQL_PASSWORD", mysql.as_str()),
                ("SHAKEDOWN_BECOME_PASSWORD", become_pw.as_str()),
            ],
        )
    }

    /// `run` of f.feature with the lab inventory, kept masters, and a trace (returned).
    fn run(&self, lab: &Lab, dir: &Path, trace: &str) -> (Run, Vec<(String, String)>) {
        let inv = lab.inventory();
        let args = [
            "run",
            "-i",
            inv.to_str().expect("utf-8"),
            "f.feature",
            "--format",
            "pretty",
            "--keep-connections",
            "2m",
            "--trace",
            trace,
        ];
        let run = self.shakedown(lab, dir, &args);
        (run, connections(&dir.join(trace)))
    }

    /// The pids of the ssh master processes kept here.
    fn masters(&self) -> Vec<u32> {
        ssh_processes(self.rt())
            .into_iter()
            .filter(|(_, args)| args.iter().any(|a| a == "-M"))
            .map(|(pid, _)| pid)
            .collect()
    }
}

impl Drop for Warm {
    fn drop(&mut self) {
        let _ = Command::new(env!("CARGO_BIN_EXE_shakedown"))
            .args(["connections", "--close"])
            .env("XDG_RUNTIME_DIR", self.rt())
            .stdout(Stdio::null())
            .status();
        let start = Instant::now();
        while !ssh_processes(self.rt()).is_empty() && start.elapsed() < Duration::from_secs(3) {
            std::thread::sleep(Duration::from_millis(50));
        }
        // What did not stop (a master still carrying a channel): this test's own, by pid.
        for (pid, _) in ssh_processes(self.rt()) {
            // SAFETY: kill(2) on a pid found a moment ago with this test's directory on its
            // command line.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

/// The `ssh` processes naming `path` on their command line, with their arguments.
fn ssh_processes(path: &str) -> Vec<(u32, Vec<String>)> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        if comm.trim() != "ssh" {
            continue;
        }
        let args: Vec<String> = std::fs::read(e.path().join("cmdline"))
            .unwrap_or_default()
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.iter().any(|a| a.contains(path)) {
            found.push((pid, args));
        }
    }
    found
}

/// The trace's connection lines: (host, "reused kept master ..." / "opened ...").
fn connections(trace: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(trace).unwrap_or_default();
    let mut lines: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            (f.len() == 5 && f[3] == "connection").then(|| (f[1].to_string(), f[4].to_string()))
        })
        .collect();
    lines.sort();
    lines
}

const HOSTS: [&str; 6] = ["app1", "db1", "db2", "lb1", "web1", "web2"];

#[track_caller]
fn assert_every_host(conns: &[(String, String)], how: &str) {
    let hosts: Vec<&str> = conns.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, HOSTS, "{conns:?}");
    for (h, note) in conns {
        assert!(note.starts_with(how), "{h}: {note} (expected {how})");
    }
}

#[test]
fn a_warm_run_reuses_every_master_and_connections_lists_and_closes_them() {
    let Some(lab) = lab() else { return };
    let warm = Warm::new();
    let dir = suite(&[("f.feature", REACH)]);
    let (cold, conns) = warm.run(&lab, dir.path(), "cold.tsv");
    cold.assert_exit(0);
    assert_every_host(&conns, "opened kept master");
    let masters = warm.masters();
    assert_eq!(masters.len(), 6, "one kept master per host after the cold run");
    let (again, conns) = warm.run(&lab, dir.path(), "warm.tsv");
    again.assert_exit(0);
    assert_every_host(&conns, "reused kept master");
    assert_eq!(warm.masters(), masters, "the warm run added or replaced no master");
    let listed = warm.shakedown(&lab, dir.path(), &["connections"]);
    listed.assert_exit(0);
    for h in HOSTS {
        assert!(
            listed.stdout.lines().any(|l| l.starts_with(h) && l.ends_with("live")),
            "{h} listed live:\n{}",
            listed.stdout
        );
    }
    warm.shakedown(&lab, dir.path(), &["connections", "--close"])
        .assert_exit(0);
    wait_until("the kept masters closed", Duration::from_secs(3), || {
        warm.masters().is_empty()
    });
    warm.shakedown(&lab, dir.path(), &["connections"])
        .assert_exit(0)
        .assert_contains("no kept connection");
    // Closed: the next run opens them afresh.
    let (next, conns) = warm.run(&lab, dir.path(), "next.tsv");
    next.assert_exit(0);
    assert_every_host(&conns, "opened kept master");
}

#[test]
fn a_dead_kept_master_is_replaced_and_the_run_passes() {
    let Some(lab) = lab() else { return };
    let warm = Warm::new();
    let dir = suite(&[("f.feature", REACH)]);
    warm.run(&lab, dir.path(), "cold.tsv").0.assert_exit(0);
    // web1's master killed: its socket is left behind, nobody listening.
    let web1 = ssh_processes(warm.rt())
        .into_iter()
        .find(|(_, a)| a.iter().any(|x| x == "-M") && a.iter().any(|x| x == "10.77.0.11"))
        .expect("web1's kept master");
    // SAFETY: kill(2) on the kept master this test opened.
    unsafe { libc::kill(web1.0 as i32, libc::SIGKILL) };
    wait_until("web1's master gone", Duration::from_secs(3), || {
        !Path::new(&format!("/proc/{}", web1.0)).exists()
    });
    let (run, conns) = warm.run(&lab, dir.path(), "warm.tsv");
    run.assert_exit(0);
    for (h, note) in &conns {
        let how = if h == "web1" {
            "opened kept master"
        } else {
            "reused kept master"
        };
        assert!(note.starts_with(how), "{h}: {note}");
    }
    assert_eq!(warm.masters().len(), 6);
}

#[test]
fn another_identity_file_never_rides_on_a_kept_master() {
    let Some(lab) = lab() else { return };
    let warm = Warm::new();
    let key = lab.dir.join("id_ed25519");
    let copy = tempfile::tempdir().expect("dir");
    let other = copy.path().join("other_key");
    std::fs::copy(&key, &other).expect("copy the key");
    let inventory = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let moved = inventory.replace(key.to_str().expect("utf-8"), other.to_str().expect("utf-8"));
    assert_ne!(moved, inventory);
    let dir = suite(&[("f.feature", REACH), ("other.toml", &moved)]);
    warm.run(&lab, dir.path(), "cold.tsv").0.assert_exit(0);
    let run = warm.shakedown(
        &lab,
        dir.path(),
        &[
            "run",
            "-i",
            "other.toml",
            "f.feature",
            "--keep-connections",
            "2m",
            "--trace",
            "t.tsv",
        ],
    );
    run.assert_exit(0);
    assert_every_host(&connections(&dir.path().join("t.tsv")), "opened kept master");
    assert_eq!(warm.masters().len(), 12, "a master of its own per host and key");
}

#[test]
fn two_warm_runs_at_once_both_pass() {
    let Some(lab) = lab() else { return };
    let warm = Warm::new();
    let dir = suite(&[("f.feature", REACH)]);
    warm.run(&lab, dir.path(), "cold.tsv").0.assert_exit(0);
    let masters = warm.masters();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| warm.run(&lab, dir.path(), "a.tsv"));
        let b = s.spawn(|| warm.run(&lab, dir.path(), "b.tsv"));
        (a.join().expect("a"), b.join().expect("b"))
    });
    a.0.assert_exit(0);
    b.0.assert_exit(0);
    assert_every_host(&a.1, "reused kept master");
    assert_every_host(&b.1, "reused kept master");
    assert_eq!(warm.masters(), masters);
}

#[test]
fn a_host_whose_sshd_restarted_passes_warm_and_a_frozen_one_fails_within_the_deadline() {
    let Some(lab) = lab() else { return };
    let warm = Warm::new();
    let dir = suite(&[("f.feature", REACH)]);
    warm.run(&lab, dir.path(), "cold.tsv").0.assert_exit(0);
    // sshd restarted on db2 (the listener: what a reboot of sshd does; its sessions stay).
    {
        let _down = fault::sshd_stopped("db2").inject(&lab);
    }
    wait_until("db2's sshd back", Duration::from_secs(10), || {
        std::net::TcpStream::connect_timeout(&"10.77.0.32:22".parse().expect("addr"), Duration::from_secs(1)).is_ok()
    });
    let (run, _) = warm.run(&lab, dir.path(), "restarted.tsv");
    run.assert_exit(0);
    // Every sshd process of app1 frozen, its kept master included: app1 fails within the
    // step deadline, the other hosts pass.
    let frozen = fault::sshd_frozen_now("app1").inject(&lab);
    let start = Instant::now();
    let inv = lab.inventory();
    let run = warm.shakedown(
        &lab,
        dir.path(),
        &[
            "run",
            "-i",
            inv.to_str().expect("utf-8"),
            "f.feature",
            "--format",
            "pretty",
            "--keep-connections",
            "2m",
            "--step-timeout",
            "3s",
        ],
    );
    let took = start.elapsed();
    drop(frozen);
    run.assert_exit(1);
    let failed = crate::util::failures(&run, "app1");
    assert!(!failed.is_empty(), "app1 fails:\n{}", run.all());
    for h in ["web1", "web2", "lb1", "db1", "db2"] {
        assert!(crate::util::failures(&run, h).is_empty(), "{h} passes:\n{}", run.all());
    }
    assert!(took < Duration::from_secs(15), "took {took:?}\n{}", run.all());
}

#[test]
fn serve_answers_its_second_request_on_the_same_masters() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("f.feature", REACH)]);
    let inv = lab.inventory();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["serve", "-i", inv.to_str().expect("utf-8"), "f.feature"])
        .args(["--listen", "127.0.0.1:0", "--cache", "0s"])
        .env("XDG_STATE_HOME", crate::util::state_home())
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    // Ended even if an assertion below fails (it holds the test's pipes and masters).
    struct Stop(u32);
    impl Drop for Stop {
        fn drop(&mut self) {
            // SAFETY: kill(2) on the server this test started (a no-op once it has ended).
            unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
        }
    }
    let stop = Stop(serve.id());
    let mut err = std::io::BufReader::new(serve.stderr.take().expect("stderr"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).expect("listening line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening on ADDR")
        .to_string();
    let own = format!("/sd-{}-", serve.id());
    let get = || {
        let out = Command::new("curl")
            .args(["-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://{addr}/healthz"))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let masters = || {
        let mut m: Vec<u32> = ssh_processes(&own)
            .into_iter()
            .filter(|(_, a)| a.iter().any(|x| x == "-M"))
            .map(|(p, _)| p)
            .collect();
        m.sort();
        m
    };
    assert_eq!(get(), "200");
    let first = masters();
    assert_eq!(first.len(), 6, "one master per host after the first request");
    assert_eq!(get(), "200");
    assert_eq!(masters(), first, "the second request opened no master");
    // SAFETY: kill(2) on the server this test started.
    unsafe { libc::kill(serve.id() as i32, libc::SIGTERM) };
    assert!(serve.wait().expect("serve ends").success());
    std::mem::forget(stop); // reaped: its pid may be another process now
    assert!(masters().is_empty(), "the masters end with the server");
}

#[test]
fn secrets_stay_out_of_warm_runs_and_their_kept_files() {
    let Some(lab) = lab() else { return };
    let warm = Warm::new();
    // The fleet: db2's sudo password on stdin, int1/int2 through a kept jump master.
    let feature = "@hosts:web,lb,db,app,systemd,internal\nFeature: Warm\n  Scenario: reach\n    When I run \"id -un\"\n    Then the output should contain \"root-or-deploy\"\n";
    let dir = suite(&[("f.feature", feature)]);
    let fleet = lab.fleet_inventory();
    let args = |trace: &'static str| {
        vec![
            "run".to_string(),
            "-i".into(),
            fleet.display().to_string(),
            "f.feature".into(),
            "--format".into(),
            "pretty".into(),
            "--keep-connections".into(),
            "2m".into(),
            "--trace".into(),
            trace.into(),
        ]
    };
    let mut outputs = String::new();
    for trace in ["cold.tsv", "warm.tsv"] {
        let a = args(trace);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let run = warm.shakedown(&lab, dir.path(), &a);
        run.assert_exit(1);
        outputs.push_str(&run.all());
        outputs.push_str(&std::fs::read_to_string(dir.path().join(trace)).unwrap_or_default());
    }
    let conns = connections(&dir.path().join("warm.tsv"));
    assert!(
        conns.iter().all(|(_, n)| n.starts_with("reused kept master")),
        "{conns:?}"
    );
    let listed = warm.shakedown(&lab, dir.path(), &["connections"]);
    assert!(
        listed.stdout.contains("bastion") && listed.stdout.contains("jump host"),
        "{}",
        listed.stdout
    );
    outputs.push_str(&listed.all());
    // Every file kept between runs (sidecars, ssh options, master logs).
    for e in walk(warm.rt.path()) {
        outputs.push_str(&String::from_utf8_lossy(&std::fs::read(&e).unwrap_or_default()));
    }
    for secret in [lab.become_password(), lab.mysql_password()] {
        assert!(!secret.is_empty());
        assert!(
            !outputs.contains(&secret),
            "a secret in the warm runs' output or kept files"
        );
    }
}

/// Every regular file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let t = e.file_type().expect("type");
        if t.is_dir() {
            files.extend(walk(&e.path()));
        } else if t.is_file() {
            files.push(e.path());
        }
    }
    files
}
