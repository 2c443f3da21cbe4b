//! The lab harness: finds the lab that `ci/lab.sh up` made, serialises lab tests (they
#![allow(dead_code, reason = "shared test helpers: each test binary uses a subset")]
//! inject faults into shared hosts) with a file lock across processes, and runs the real
//! binary with the lab inventory and secrets.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../cli/util.rs"]
mod cli_util;
pub use cli_util::{Run, root, shakedown_in as shakedown_with_env, state_home, suite};

/// Runs the binary in `dir` without the lab inventory flag (the test gives its own),
/// with the lab's secrets in the environment.
pub fn cli_util_shakedown_in(dir: &Path, args: &[&str]) -> Run {
    let lab_dir = std::env::var_os("LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cli_util::root().join(".lab"));
    let pw = std::fs::read_to_string(lab_dir.join("mysql_password"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    cli_util::shakedown_in(dir, args, &[("SHAKEDOWN_MYSQL_PASSWORD", pw.as_str())])
}

/// The running lab.
pub struct Lab {
    pub dir: PathBuf,
    _lock: File,
}

/// The lab, locked for this test; `None` (test skipped) when no lab is up, unless
/// `SHAKEDOWN_LAB=required` (as in ci/test.sh), where a missing lab fails the test.
pub fn lab() -> Option<Lab> {
    let root = cli_util::root();
    let dir = std::env::var_os("LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".lab"));
    if !dir.join("inventory.toml").exists() {
        if std::env::var("SHAKEDOWN_LAB").as_deref() == Ok("required") {
            panic!(
                "SHAKEDOWN_LAB=required but no lab at {} (run ci/lab.sh up)",
                dir.display()
            );
        }
        eprintln!("skipped: no lab at {} (run ci/lab.sh up)", dir.display());
        return None;
    }
    let lock = File::create(std::env::temp_dir().join("shakedown-lab.lock")).expect("lock file");
    // SAFETY: flock(2) on a file descriptor we own; blocks until the other test is done.
    let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock");
    Some(Lab { dir, _lock: lock })
}

impl Lab {
    /// The native inventory.
    pub fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.toml")
    }

    /// The Ansible INI inventory.
    pub fn inventory_ini(&self) -> PathBuf {
        self.dir.join("inventory.ini")
    }

    /// The MySQL monitor password.
    pub fn mysql_password(&self) -> String {
        std::fs::read_to_string(self.dir.join("mysql_password"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// The whole lab as a real fleet (ci/lab/fleet.sh): every host logged in as deploy,
    /// reading as root with become, int1 and int2 through the bastion.
    pub fn fleet_inventory(&self) -> PathBuf {
        self.dir.join("fleet.toml")
    }

    /// db2's sudo password (deploy's password there; ci/lab/become.sh).
    pub fn become_password(&self) -> String {
        std::fs::read_to_string(self.dir.join("deploy_sudo_password"))
            .expect("deploy_sudo_password (ci/lab/become.sh up)")
            .trim()
            .to_string()
    }

    /// Runs `shakedown ARGS` from `dir` with the lab's secrets for the fleet inventory
    /// (MySQL and db2's sudo password) in the environment; ARGS name their own inventory.
    pub fn shakedown_as_fleet_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mysql = self.mysql_password();
        let become_pw = self.become_password();
        cli_util::shakedown_in(
            dir,
            args,
            &[
                ("SHAKEDOWN_MYSQL_PASSWORD", mysql.as_str()),
                ("SHAKEDOWN_BECOME_PASSWORD", become_pw.as_str()),
            ],
        )
    }

    /// Runs a shell command inside a lab host (fault injection and repair), as root.
    #[track_caller]
    pub fn exec(&self, host: &str, script: &str) -> String {
        let out = Command::new(cli_util::root().join("ci/lab.sh"))
            .args(["exec", host, "--", "sh", "-c", script])
            .env("LAB_DIR", &self.dir)
            .output()
            .expect("ci/lab.sh runs");
        assert!(
            out.status.success(),
            "lab exec on {host}: {script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `shakedown ARGS` from `dir` with the lab inventory (`-i` added after the
    /// command word) and the lab's secrets in the environment.
    pub fn shakedown_in(&self, dir: &Path, args: &[&str]) -> Run {
        let inv = self.inventory();
        let inv = inv.to_str().expect("utf-8 path");
        let mut full: Vec<&str> = vec![args[0], "-i", inv];
        full.extend_from_slice(&args[1..]);
        let pw = self.mysql_password();
        cli_util::shakedown_in(dir, &full, &[("SHAKEDOWN_MYSQL_PASSWORD", pw.as_str())])
    }

    /// Runs `shakedown ARGS` from the crate root with the lab inventory.
    pub fn shakedown(&self, args: &[&str]) -> Run {
        self.shakedown_in(&cli_util::root(), args)
    }
}

/// Polls `f` until it returns true or `deadline` passes (no sleeps as synchronisation).
#[track_caller]
pub fn wait_until(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what}: not true within {deadline:?}");
}

/// Restores a fault when dropped, even if the test panics.
pub struct Repair<'a> {
    lab: &'a Lab,
    host: &'a str,
    script: &'a str,
}

impl<'a> Repair<'a> {
    /// Injects `fault` on `host` now and runs `repair` on drop.
    pub fn inject(lab: &'a Lab, host: &'a str, fault: &str, repair: &'a str) -> Self {
        lab.exec(host, fault);
        Repair {
            lab,
            host,
            script: repair,
        }
    }
}

impl Drop for Repair<'_> {
    fn drop(&mut self) {
        let _ = Command::new(cli_util::root().join("ci/lab.sh"))
            .args(["exec", self.host, "--", "sh", "-c", self.script])
            .env("LAB_DIR", &self.lab.dir)
            .status();
    }
}

/// Runs one temp feature file with the lab inventory.
pub fn run(lab: &Lab, feature: &str) -> Run {
    let dir = suite(&[("s.feature", feature)]);
    lab.shakedown_in(dir.path(), &["run", "s.feature", "--format", "pretty"])
}

/// The `Failed:` summary lines of `host`: its own, and those of findings it shares with
/// other hosts (`  web1, web2 (2 hosts) ...`: see [`group_hosts`]).
pub fn failures<'a>(run: &'a Run, host: &str) -> Vec<&'a str> {
    let prefix = format!("  {host} ");
    run.stdout
        .lines()
        .skip_while(|l| *l != "Failed:")
        // The list ends at its blank line (a `Recovered:` list may follow).
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with(&prefix) || group_hosts(l).iter().any(|h| h == host))
        .collect()
}

/// The hosts of a `Failed:` line that says one finding for several hosts
/// (`  web1-web3, db1 (4 hosts) f.feature:3 name: ...`: web1, web2, web3, db1); empty for
/// a line of one host.
pub fn group_hosts(line: &str) -> Vec<String> {
    let re = regex::Regex::new(r"^  (.+?) \(\d+ hosts\) \S+:\d+ ").expect("regex");
    let Some(c) = re.captures(line) else {
        return Vec::new();
    };
    let numbered = |s: &str| {
        let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (prefix, n) = s.split_at(s.len() - digits);
        n.parse::<u32>().ok().map(|n| (prefix.to_string(), n))
    };
    c[1].split(", ")
        .flat_map(|item| {
            if let Some((a, b)) = item.split_once('-')
                && let (Some((pa, na)), Some((pb, nb))) = (numbered(a), numbered(b))
                && pa == pb
            {
                return (na..=nb).map(|n| format!("{pa}{n}")).collect();
            }
            vec![item.to_string()]
        })
        .collect()
}

/// Asserts each `(host, texts)`: the host's failures hold every text (in one line each;
/// in any order, since findings shared with other hosts are listed first), and every host
/// of `passing` has no failure at all.
#[track_caller]
pub fn assert_failures(run: &Run, failing: &[(&str, &[&str])], passing: &[&str]) {
    for (host, texts) in failing {
        let lines = failures(run, host);
        assert_eq!(
            lines.len(),
            texts.len(),
            "failures of {host}: {lines:#?}\n{}",
            run.all()
        );
        let mut unused = lines.clone();
        for text in texts.iter() {
            let at = unused.iter().position(|line| line.contains(text));
            assert!(
                at.is_some(),
                "{host}: expected {text:?} in one of {unused:#?}\n{}",
                run.all()
            );
            if let Some(i) = at {
                unused.remove(i);
            }
        }
    }
    for host in passing {
        assert!(failures(run, host).is_empty(), "{host} should pass:\n{}", run.all());
    }
}
