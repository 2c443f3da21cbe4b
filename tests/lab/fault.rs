//! Shared fault injection for lab tests: a [`Fault`] is a list of inject actions, a list of
//! repair actions (run in order when the guard drops, even on panic), and optional probes
//! that say when the fault has taken effect and when the lab has healed. The catalogue
//! below names every fault the matrix (faults.rs) injects, so another family's test can
//! take one instead of repeating its inject/repair block.
#![allow(dead_code, reason = "shared test helpers: each test uses a subset")]

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::Lab;

/// Where an action runs.
#[derive(Clone, Copy, Debug)]
pub enum At {
    /// Inside a lab host (`ci/lab.sh exec HOST -- sh -c SCRIPT`), as its root.
    Host(&'static str),
    /// On this machine (the controller), as root: links and the hosts' network namespaces.
    Controller,
}

/// A condition polled after inject or repair.
pub type Probe = fn(&Lab) -> bool;

/// One fault: what to do, how to undo it, how to know either took effect.
#[derive(Clone)]
pub struct Fault {
    /// Short name for tables and messages.
    pub name: &'static str,
    /// The host the fault is made on (the one that should be blamed).
    pub host: &'static str,
    pub inject: Vec<(At, String)>,
    pub repair: Vec<(At, String)>,
    /// True once the fault is visible (e.g. HAProxy marked the server DOWN).
    pub injected: Option<Probe>,
    /// True once the lab is healthy again (e.g. the replica caught up).
    pub healed: Option<Probe>,
}

impl Fault {
    /// A fault made and repaired by one script each inside `host`.
    pub fn on(name: &'static str, host: &'static str, inject: &str, repair: &str) -> Self {
        Fault {
            name,
            host,
            inject: vec![(At::Host(host), inject.to_string())],
            repair: vec![(At::Host(host), repair.to_string())],
            injected: None,
            healed: None,
        }
    }

    /// A fault made and repaired by shell scripts on the controller.
    pub fn controller(name: &'static str, host: &'static str, inject: &str, repair: &str) -> Self {
        Fault {
            name,
            host,
            inject: vec![(At::Controller, inject.to_string())],
            repair: vec![(At::Controller, repair.to_string())],
            injected: None,
            healed: None,
        }
    }

    /// Waits for `probe` after injecting.
    pub fn once(mut self, probe: Probe) -> Self {
        self.injected = Some(probe);
        self
    }

    /// Waits for `probe` after repairing.
    pub fn healed_when(mut self, probe: Probe) -> Self {
        self.healed = Some(probe);
        self
    }

    /// Injects the fault (waiting until it shows) and returns the guard that repairs it.
    #[track_caller]
    pub fn inject<'a>(&self, lab: &'a Lab) -> Injected<'a> {
        let guard = Injected {
            lab,
            fault: self.clone(),
        };
        for (at, script) in &self.inject {
            let (ok, err) = act(lab, *at, script);
            assert!(ok, "inject {} on {at:?}: {script}: {err}", self.name);
        }
        if let Some(p) = self.injected {
            crate::util::wait_until(&format!("fault {} visible", self.name), Duration::from_secs(30), || {
                p(lab)
            });
        }
        guard
    }
}

/// Runs one action; (success, stderr).
fn act(lab: &Lab, at: At, script: &str) -> (bool, String) {
    let out = match at {
        At::Host(h) => Command::new(crate::util::root().join("ci/lab.sh"))
            .args(["exec", h, "--", "sh", "-c", script])
            .env("LAB_DIR", &lab.dir)
            .output(),
        At::Controller => Command::new("sh").args(["-c", script]).output(),
    };
    match out {
        Ok(o) => (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned()),
        Err(e) => (false, e.to_string()),
    }
}

/// An injected fault; dropping it repairs the lab and waits (bounded) until it has healed.
pub struct Injected<'a> {
    lab: &'a Lab,
    fault: Fault,
}

impl Drop for Injected<'_> {
    fn drop(&mut self) {
        for (at, script) in &self.fault.repair {
            let (ok, err) = act(self.lab, *at, script);
            if !ok {
                eprintln!("repair of {} failed: {script}: {err}", self.fault.name);
            }
        }
        if let Some(p) = self.fault.healed {
            let start = Instant::now();
            while !p(self.lab) {
                if start.elapsed() > Duration::from_secs(60) {
                    eprintln!("lab not healed 60 s after repairing {}", self.fault.name);
                    break;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

// ---- probes -------------------------------------------------------------------------

const SHOW_STAT: &str = "echo 'show stat' | socat stdio /run/haproxy/admin.sock";

/// HAProxy's status of `server` in backend app (UP, DOWN, MAINT...).
pub fn haproxy_status(lab: &Lab, server: &str) -> String {
    let csv = lab.exec("lb1", SHOW_STAT);
    let prefix = format!("app,{server},");
    let line = csv.lines().find(|l| l.starts_with(&prefix)).unwrap_or_default();
    line.split(',').nth(17).unwrap_or_default().to_string()
}

/// HAProxy sees web1 and web2 UP.
pub fn backend_up(lab: &Lab) -> bool {
    haproxy_status(lab, "web1") == "UP" && haproxy_status(lab, "web2") == "UP"
}

/// HAProxy sees web2 DOWN.
pub fn web2_down(lab: &Lab) -> bool {
    haproxy_status(lab, "web2").starts_with("DOWN")
}

/// db2 replicates with both threads running and no lag.
pub fn replica_healthy(lab: &Lab) -> bool {
    let s = lab.exec("db2", "mariadb -e 'SHOW SLAVE STATUS\\G'");
    s.contains("Slave_IO_Running: Yes")
        && s.contains("Slave_SQL_Running: Yes")
        && s.contains("Seconds_Behind_Master: 0")
}

/// db2 is at least 6 s behind db1 (beyond the suite's 5 s limit).
pub fn replica_behind(lab: &Lab) -> bool {
    let s = lab.exec(
        "db2",
        "mariadb -e 'SHOW SLAVE STATUS\\G' | sed -n 's/^ *Seconds_Behind_Master: //p'",
    );
    s.trim().parse::<u64>().is_ok_and(|n| n >= 6)
}

/// web2's /slow answers at once again.
pub fn slow_backend_fast(_lab: &Lab) -> bool {
    Command::new("curl")
        .args(["-s", "-m", "2", "http://10.77.0.12/slow"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("slow ok"))
}

/// Every sshd process of `host` is stopped (state T).
pub fn sshd_frozen(lab: &Lab, host: &str) -> bool {
    lab.exec(host, "ps -o stat= -C sshd | grep -vc T || true").trim() == "0"
}

// ---- the catalogue ------------------------------------------------------------------

/// The host key of `host` replaced by a new one (sshd restarted with it); the old key is
/// put back on repair.
pub fn host_key_changed(host: &'static str) -> Fault {
    let restart = "kill $(cat /run/sshd.pid); while [ -e /proc/$(cat /run/sshd.pid 2>/dev/null || echo 0) ]; do sleep 0.1; done; /usr/sbin/sshd -f /etc/ssh/sshd_config_lab";
    Fault::on(
        "host key changed",
        host,
        &format!(
            "mkdir -p /root/.sdfault && cp -p /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub /root/.sdfault/ && rm -f /etc/ssh/ssh_host_ed25519_key /etc/ssh/ssh_host_ed25519_key.pub && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && {restart}"
        ),
        &format!("cp -p /root/.sdfault/ssh_host_ed25519_key* /etc/ssh/ && rm -rf /root/.sdfault && {restart}"),
    )
}

/// sshd killed on `host`.
pub fn sshd_stopped(host: &'static str) -> Fault {
    Fault::on(
        "sshd stopped",
        host,
        "kill $(cat /run/sshd.pid)",
        "[ -e /proc/$(cat /run/sshd.pid)/status ] || /usr/sbin/sshd -f /etc/ssh/sshd_config_lab",
    )
}

/// A systemd unit stopped on a systemd host (sd1, sd2), started again on repair.
pub fn unit_stopped(host: &'static str, unit: &str) -> Fault {
    Fault::on(
        "systemd unit stopped",
        host,
        &format!("systemctl stop {unit}"),
        &format!("systemctl start {unit}"),
    )
}

/// Every sshd process of `host` (listener and the open connections) frozen with SIGSTOP.
pub fn sshd_frozen_now(host: &'static str) -> Fault {
    Fault::on(
        "sshd frozen (SIGSTOP) mid-run",
        host,
        "for p in $(pgrep -x sshd); do kill -STOP $p; done",
        "for p in $(pgrep -x sshd); do kill -CONT $p; done",
    )
}

/// The host side of `host`'s link set down on the lab bridge.
pub fn link_down(host: &'static str) -> Fault {
    Fault::controller(
        "namespace link down",
        host,
        &format!("ip link set sdl-{host} down"),
        &format!("ip link set sdl-{host} up"),
    )
}

/// Every packet from the controller to `host` dropped (inside the host's namespace).
pub fn blackholed(host: &'static str) -> Fault {
    Fault::controller(
        "blackholed address (100% loss)",
        host,
        &format!("ip netns exec sdlab-{host} iptables -I INPUT -s 10.77.0.1 -j DROP"),
        &format!("while ip netns exec sdlab-{host} iptables -D INPUT -s 10.77.0.1 -j DROP 2>/dev/null; do :; done"),
    )
}

/// TCP 3306 on `host` refused to the controller (MariaDB itself keeps running).
pub fn mysql_port_refused(host: &'static str) -> Fault {
    let rule = "INPUT -p tcp --dport 3306 -s 10.77.0.1 -j REJECT --reject-with tcp-reset";
    Fault::controller(
        "3306 refused",
        host,
        &format!("ip netns exec sdlab-{host} iptables -I {rule}"),
        &format!("while ip netns exec sdlab-{host} iptables -D {rule} 2>/dev/null; do :; done"),
    )
}

/// A lab service (`/etc/lab/svc` name) stopped on `host`.
pub fn service_stopped(name: &'static str, host: &'static str, svc: &str) -> Fault {
    Fault::on(
        name,
        host,
        &format!("/etc/lab/svc stop {svc}"),
        &format!("/etc/lab/svc start {svc}"),
    )
}

/// db2's SQL thread stopped.
pub fn sql_thread_stopped() -> Fault {
    Fault::on(
        "replica SQL thread stopped",
        "db2",
        "mariadb -e 'STOP SLAVE SQL_THREAD'",
        "mariadb -e 'START SLAVE'",
    )
    .healed_when(replica_healthy)
}

/// db2 held 60 s behind db1 (MASTER_DELAY) with a fresh write on db1.
pub fn replica_lagging() -> Fault {
    Fault {
        name: "replica lagging",
        host: "db2",
        inject: vec![
            (
                At::Host("db2"),
                "mariadb -e 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=60; START SLAVE'".into(),
            ),
            (
                At::Host("db1"),
                "mariadb -e 'CREATE TABLE IF NOT EXISTS app.shakedown_lag (id INT PRIMARY KEY, at DATETIME); REPLACE INTO app.shakedown_lag VALUES (1, NOW())'".into(),
            ),
        ],
        repair: vec![
            (
                At::Host("db2"),
                "mariadb -e 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE'".into(),
            ),
            (At::Host("db1"), "mariadb -e 'DROP TABLE IF EXISTS app.shakedown_lag'".into()),
        ],
        injected: Some(replica_behind),
        healed: Some(replica_healthy),
    }
}

/// nginx on `host` answering 500 to every URL.
pub fn nginx_500(host: &'static str) -> Fault {
    Fault::on(
        "nginx answering 500",
        host,
        "touch /var/www/FAIL",
        "rm -f /var/www/FAIL",
    )
}

/// web2's /slow backend answering after 30 s.
pub fn slow_backend_30s() -> Fault {
    Fault::on(
        "backend answering after 30 s",
        "web2",
        "echo 30 > /var/www/DELAY",
        "rm -f /var/www/DELAY",
    )
    .healed_when(slow_backend_fast)
}

/// HAProxy's health checks of web2 dropped (web2 itself healthy): web2 DOWN in lb1.
pub fn haproxy_server_down() -> Fault {
    let rule = "INPUT -s 10.77.0.21 -j DROP";
    Fault::controller(
        "HAProxy server DOWN",
        "lb1",
        &format!("ip netns exec sdlab-web2 iptables -I {rule}"),
        &format!("while ip netns exec sdlab-web2 iptables -D {rule} 2>/dev/null; do :; done"),
    )
    .once(web2_down)
    .healed_when(backend_up)
}

/// /mnt/data unmounted on `host`.
pub fn volume_unmounted(host: &'static str) -> Fault {
    Fault::on(
        "volume unmounted",
        host,
        "umount /mnt/data",
        "mountpoint -q /mnt/data || mount -t tmpfs -o noatime,size=16m tmpfs /mnt/data",
    )
}

/// nginx's enable-at-boot link removed on `host`.
pub fn service_disabled(host: &'static str) -> Fault {
    let link = "/etc/systemd/system/multi-user.target.wants/nginx.service";
    Fault::on(
        "service disabled",
        host,
        &format!("rm {link}"),
        &format!("ln -sf /lib/systemd/system/nginx.service {link}"),
    )
}

const DPKG_SAVE: &str = "cp -p /var/lib/dpkg/status /root/.sdfault-dpkg-status";
const DPKG_RESTORE: &str = "mv /root/.sdfault-dpkg-status /var/lib/dpkg/status";

/// nginx's version in `host`'s package database set to 1.18.0-1.
pub fn package_downgraded(host: &'static str) -> Fault {
    Fault::on(
        "package downgraded",
        host,
        &format!(
            "{DPKG_SAVE} && sed -i '/^Package: nginx$/,/^$/ s/^Version: .*/Version: 1.18.0-1/' /var/lib/dpkg/status"
        ),
        DPKG_RESTORE,
    )
}

/// nginx's stanza removed from `host`'s package database.
pub fn package_removed(host: &'static str) -> Fault {
    Fault::on(
        "package removed",
        host,
        &format!("{DPKG_SAVE} && sed -i '/^Package: nginx$/,/^$/d' /var/lib/dpkg/status"),
        DPKG_RESTORE,
    )
}

/// `stat` on `host` replaced (a bind mount in the host's own mount namespace) by a program
/// that never answers, as stat on a dead NFS or FUSE mount does.
pub fn stat_hangs(host: &'static str) -> Fault {
    Fault::on(
        "file system hanging on stat",
        host,
        "printf '#!/bin/sh\\nexec sleep 600\\n' > /root/.sdfault-stat && chmod 755 /root/.sdfault-stat && mount --bind /root/.sdfault-stat /usr/bin/stat",
        "while umount /usr/bin/stat 2>/dev/null; do :; done; rm -f /root/.sdfault-stat",
    )
}
