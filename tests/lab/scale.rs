//! Scale sanity (issue 9, item 7): 200 lab hosts in one run, started with the common
//! default soft limit of 1024 open files: the run passes, its open file descriptors stay
//! under that limit (or shakedown raised it), and no host ever has more than one SSH master.
//! Ignored by default (about 1 GB and 1-2 minutes to grow the lab); ci/faults.sh runs it
//! with FAULTS_SCALE=1. The lab is grown under the lab lock and given back its previous
//! number of bench hosts afterwards, even if the test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Lab, lab, suite};

const HOSTS: usize = 200;

/// Runs `ci/lab.sh up --hosts N`.
fn lab_up(lab: &Lab, extra: usize) -> bool {
    Command::new(crate::util::root().join("ci/lab.sh"))
        .args(["up", "--hosts", &extra.to_string()])
        .env("LAB_DIR", &lab.dir)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Gives the lab back its previous number of bench hosts when dropped.
struct Shrink<'a>(&'a Lab, usize);

impl Drop for Shrink<'_> {
    fn drop(&mut self) {
        if !lab_up(self.0, self.1) {
            eprintln!("could not give the lab back its {} bench hosts", self.1);
        }
    }
}

/// The number of bench hosts (hNNN) in the lab's inventory now.
fn bench_hosts(lab: &Lab) -> usize {
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    inv.lines()
        .filter(|l| l.starts_with("[hosts.h") && l.matches('.').count() == 1)
        .count()
}

/// The SSH masters of the run with control directory prefix `control`: their pids, by
/// destination.
fn masters(control: &str) -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new("ps")
        .args(["-eo", "pid=,ppid=,args="])
        .output()
        .expect("ps");
    let text = String::from_utf8_lossy(&out.stdout);
    // (pid, ppid, destination) of every master of this run.
    let mut found = Vec::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(pid), Some(ppid)) = (words.next(), words.next()) else {
            continue;
        };
        let args: Vec<&str> = words.collect();
        if args.first() == Some(&"ssh") && args.contains(&"-M") && args.iter().any(|a| a.contains(control)) {
            let dest = args.last().copied().unwrap_or_default().to_string();
            found.push((pid.to_string(), ppid.to_string(), dest));
        }
    }
    // `ssh -f` forks into the background once authenticated: for a moment the child and
    // its exiting parent both show. A child of a master is that same master.
    let pids: BTreeSet<&str> = found.iter().map(|(p, _, _)| p.as_str()).collect();
    let mut by_host: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (pid, ppid, dest) in &found {
        if !pids.contains(ppid.as_str()) {
            by_host.entry(dest.clone()).or_default().insert(pid.clone());
        }
    }
    by_host
}

/// How many masters each host had in both of two successive samples. `ps` reads /proc
/// one process at a time, not at one instant: the parent of a forking `ssh -f` can be read
/// before it exits and its child after it was reparented, so one sample alone can show a
/// master twice; the same two pids in the next sample (50 ms later) cannot be that.
fn lasting_masters(
    before: &BTreeMap<String, BTreeSet<String>>,
    now: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<usize> {
    now.iter()
        .map(|(dest, pids)| before.get(dest).map_or(0, |b| b.intersection(pids).count()))
        .collect()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn soft_nofile(pid: u32) -> Option<u64> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[test]
#[ignore = "grows the lab to 200 hosts (about 1 GB, 1-2 min): run by ci/faults.sh (FAULTS_SCALE=1)"]
fn two_hundred_hosts_in_one_run_under_the_fd_limit_with_one_master_each() {
    let Some(lab) = lab() else { return };
    let before = bench_hosts(&lab);
    let _shrink = Shrink(&lab, before);
    let start = Instant::now();
    assert!(lab_up(&lab, HOSTS), "ci/lab.sh up --hosts {HOSTS}");
    println!("scale: lab grown to {HOSTS} bench hosts in {:?}", start.elapsed());
    let feature = "@hosts:bench\nFeature: Many\n  Scenario: one\n    When I run \"hostname\"\n    Then the output should contain \"{name}\"\n  Scenario: two\n    Then the file \"/etc/app.conf\" should exist\n    And the service \"nginx\" should be running\n  Scenario: three\n    Then port 80 should be listening\n    When I request \"http://{address}/health\"\n    Then the response status should be 200\n";
    // A long connect timeout: 200 handshakes at once are CPU-bound here (2 shared cores),
    // and this test is about descriptors and masters, not about latency.
    let inv = std::fs::read_to_string(lab.inventory())
        .expect("inventory")
        .replace("connect_timeout = \"5s\"", "connect_timeout = \"90s\"");
    let dir = suite(&[("m.feature", feature), ("inv.toml", &inv)]);
    let script = format!(
        "ulimit -Sn 1024 && exec {} run -i inv.toml m.feature --format quiet --step-timeout 100s --timeout 230s",
        env!("CARGO_BIN_EXE_shakedown"),
    );
    let started = Instant::now();
    let mut child = Command::new("sh")
        .env("XDG_STATE_HOME", crate::util::state_home())
        .args(["-c", &script])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shakedown starts");
    let pid = child.id();
    let control = format!("/tmp/sd-{pid}-");
    let (mut max_fds, mut max_masters, mut worst) = (0, 0, 0);
    let mut limit = None;
    let mut previous = BTreeMap::new();
    while child.try_wait().expect("wait").is_none() {
        max_fds = max_fds.max(open_fds(pid));
        // The last reading: the first may be the shell's, before `ulimit`.
        limit = soft_nofile(pid).or(limit);
        let m = masters(&control);
        let lasting = lasting_masters(&previous, &m);
        max_masters = max_masters.max(lasting.iter().sum());
        worst = worst.max(lasting.into_iter().max().unwrap_or(0));
        previous = m;
        if started.elapsed() > Duration::from_secs(240) {
            // SAFETY: kill(2) on our own child, not yet waited for: SIGTERM ends the run
            // with its partial report, shown in the failure below.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!(
        "scale: {HOSTS} hosts, 600 scenarios in {took:?}; open fds at most {max_fds} (soft limit {limit:?}); ssh masters at most {max_masters}, per host at most {worst}"
    );
    assert!(
        took < Duration::from_secs(240),
        "the run did not end in 4 minutes:\n{text}"
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(worst <= 1, "a host had {worst} SSH masters at once");
    assert!(max_masters <= HOSTS, "{max_masters} masters for {HOSTS} hosts");
    let limit = limit.unwrap_or(1024);
    assert!(max_fds < limit as usize, "{max_fds} open files, limit {limit}");
}
