//! Services: whether one starts at boot (systemd `systemctl is-enabled`, OpenRC
//! `rc-update show`, SysV `chkconfig --list` or the `/etc/rcN.d/S??name` links of the
//! default runlevel) and whether it runs now (`systemctl show` of the unit's load, active
//! and unit file states when systemd is PID 1,
//! `rc-service NAME status` on OpenRC, otherwise the init script's `status`, then the pid
//! file, then the process table), each answer saying which init system or method gave it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::platform::{InitSystem, Platform};
use super::reads::Alternatives;
use super::{FactError, run};
use crate::host::HostHandle;
use crate::outcome::excerpt;
use crate::transport::{Cmd, Output, Test};

/// Whether a service starts at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Enablement {
    /// Starts at boot.
    pub enabled: bool,
    /// The init system asked.
    pub init: InitSystem,
    /// What it said, in its own words (`disabled`, `static`, `masked`, `on in runlevel 3`).
    pub state: String,
}

/// Whether a service runs now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Running {
    /// It runs.
    pub running: bool,
    /// How that was found out, with what the method said.
    pub method: String,
    /// The init system knows no such unit (systemd's `LoadState=not-found`): a step says
    /// "no such unit" rather than "not running", since a typo is not a stopped service.
    pub missing: bool,
}

/// A systemd unit as `systemctl show` describes it (the properties of [`SHOW_PROPERTIES`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UnitState {
    /// The unit's own name (an alias resolves to it: `sshd` is `ssh.service`).
    pub id: String,
    /// `loaded`, `not-found`, `masked`, `bad-setting`, `error`.
    pub load: String,
    /// `active`, `reloading`, `inactive`, `failed`, `activating`, `deactivating`.
    pub active: String,
    /// The unit type's own state (`running`, `dead`, `failed`, `listening`, `waiting`).
    pub sub: String,
    /// `enabled`, `disabled`, `static`, `indirect`, `masked`... (empty when it has no file).
    pub file: String,
    /// The units that start it (a socket, a timer, a path unit).
    pub triggered_by: String,
}

/// What [`show_cmd`] asks systemd about a unit.
const SHOW_PROPERTIES: &str = "Id,LoadState,ActiveState,SubState,UnitFileState,TriggeredBy";

/// Parses `systemctl show --property=...` (`Key=value` lines); `None` without the load and
/// active states (not systemd's answer).
pub(crate) fn parse_show(text: &str) -> Option<UnitState> {
    let mut u = UnitState::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().to_string();
        match key {
            "Id" => u.id = value,
            "LoadState" => u.load = value,
            "ActiveState" => u.active = value,
            "SubState" => u.sub = value,
            "UnitFileState" => u.file = value,
            "TriggeredBy" => u.triggered_by = value,
            _ => {}
        }
    }
    (!u.load.is_empty() && !u.active.is_empty()).then_some(u)
}

impl UnitState {
    /// Running as `systemctl is-active` defines it (exit 0: active or reloading).
    pub(crate) fn running(&self) -> bool {
        matches!(self.active.as_str(), "active" | "reloading")
    }

    /// What systemd said, in its words: `lab-echo.service inactive (dead), indirect;
    /// started by lab-echo.socket`, or `no unit nosuch.service`.
    pub(crate) fn describe(&self) -> String {
        if self.load == "not-found" {
            return format!("no unit {}", self.id);
        }
        let mut text = format!("{} {} ({})", self.id, self.active, self.sub);
        if !self.file.is_empty() {
            text.push_str(", ");
            text.push_str(&self.file);
        }
        if !self.triggered_by.is_empty() {
            text.push_str("; started by ");
            text.push_str(&self.triggered_by);
        }
        text
    }
}

/// Per-service runlevel switches, from `chkconfig --list`, the rc links or `rc-update show`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BootTable {
    /// Service → runlevel → started there (SysV); OpenRC runlevel names map to `on`.
    pub services: BTreeMap<String, BTreeMap<String, bool>>,
}

/// A service name that can be passed safely to `systemctl`, `rc-service` and
/// `/etc/init.d/NAME` (no path separators, no leading `-` or `.`).
pub(crate) fn check_service_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "@._:+-\\".contains(c);
    if name.is_empty() || name.starts_with(['-', '.']) || !name.chars().all(ok_char) {
        return Err(format!(
            "\"{name}\" is not a service name (letters, digits and @ . _ : + - only)"
        ));
    }
    Ok(())
}

/// Parses `chkconfig --list` (SysV services; the xinetd section is skipped).
pub(crate) fn parse_chkconfig(text: &str) -> BootTable {
    let mut table = BootTable::default();
    for line in text.lines() {
        if line.starts_with(char::is_whitespace) || line.trim_end().ends_with(':') {
            continue; // xinetd section and its header
        }
        let mut words = line.split_whitespace();
        let Some(name) = words.next() else { continue };
        let levels: BTreeMap<String, bool> = words
            .filter_map(|w| w.split_once(':'))
            .map(|(level, state)| (level.to_string(), state == "on"))
            .collect();
        if !levels.is_empty() {
            table.services.insert(name.to_string(), levels);
        }
    }
    table
}

/// Parses `ls -1 /etc/rc0.d ... /etc/rcS.d` (sections headed `/etc/rc2.d:`; entries
/// `S01nginx` start, `K01nginx` stop).
pub(crate) fn parse_rc_links(text: &str) -> BootTable {
    let mut table = BootTable::default();
    let mut level: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(dir) = line.strip_suffix(':') {
            level = dir
                .strip_prefix("/etc/rc")
                .and_then(|d| d.strip_suffix(".d"))
                .map(str::to_string);
            continue;
        }
        let Some(level) = &level else { continue };
        let (kind, rest) = line.split_at(line.len().min(1));
        let name = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        if (kind == "S" || kind == "K") && name.len() < rest.len() && !name.is_empty() {
            table
                .services
                .entry(name.to_string())
                .or_default()
                .insert(level.clone(), kind == "S");
        }
    }
    table
}

/// Parses `rc-update show`: `   sshd |      default` lines.
pub(crate) fn parse_rc_update(text: &str) -> BootTable {
    let mut table = BootTable::default();
    for line in text.lines() {
        let Some((name, levels)) = line.split_once('|') else {
            continue;
        };
        let entry = table.services.entry(name.trim().to_string()).or_default();
        for level in levels.split_whitespace() {
            entry.insert(level.to_string(), true);
        }
    }
    table
}

/// The state word `systemctl is-enabled`/`is-active` printed (`not-found` for an unknown
/// unit, whose message goes to stderr).
pub(crate) fn parse_systemctl_state(out: &Output) -> String {
    let stdout = out.stdout_text();
    match stdout.lines().map(str::trim).find(|l| !l.is_empty()) {
        Some(word) => word.to_string(),
        None if out.stderr_text().contains("No such file") || out.stderr_text().contains("not found") => {
            "not-found".into()
        }
        None => format!("no answer ({})", excerpt(out.stderr_text().trim())),
    }
}

/// Whether `service` starts at boot in `table` under SysV rules: in the default runlevel
/// when known, else in any of 2-5. Returns the verdict and the evidence in words.
pub(crate) fn sysv_enabled(table: &BootTable, service: &str, runlevel: Option<char>) -> (bool, String) {
    let Some(levels) = table.services.get(service) else {
        return (false, "no start links".into());
    };
    if let Some(r) = runlevel {
        let on = levels.get(&r.to_string()).copied().unwrap_or(false);
        return (on, format!("{} in default runlevel {r}", if on { "on" } else { "off" }));
    }
    let on: Vec<&str> = levels
        .iter()
        .filter(|(l, on)| **on && ["2", "3", "4", "5"].contains(&l.as_str()))
        .map(|(l, _)| l.as_str())
        .collect();
    if on.is_empty() {
        (false, "off in runlevels 2-5".into())
    } else {
        (true, format!("on in runlevels {}", on.join(" ")))
    }
}

/// Reads the whole-host boot table for SysV or OpenRC hosts.
pub(crate) async fn read_sysv(host: &HostHandle, p: &Platform, timeout: Duration) -> Result<BootTable, FactError> {
    match p.init() {
        Some(InitSystem::OpenRc) => {
            let out = run(host, &rc_update_cmd(), timeout).await?;
            Ok(parse_rc_update(&out.stdout_text()))
        }
        Some(InitSystem::SysvChkconfig) => {
            let out = run(host, &chkconfig_cmd(), timeout).await?;
            Ok(parse_chkconfig(&out.stdout_text()))
        }
        _ => {
            // Missing directories make ls exit 2; the ones present are still listed.
            let out = run(host, &rc_links_cmd(), timeout).await?;
            Ok(parse_rc_links(&out.stdout_text()))
        }
    }
}

fn rc_update_cmd() -> Cmd {
    Cmd::new("rc-update").arg("show")
}

fn chkconfig_cmd() -> Cmd {
    Cmd::new("chkconfig").arg("--list")
}

fn rc_links_cmd() -> Cmd {
    let dirs = ["0", "1", "2", "3", "4", "5", "6", "S"].map(|l| format!("/etc/rc{l}.d"));
    Cmd::new("ls").arg("-1").args(dirs)
}

fn is_enabled_cmd(name: &str) -> Cmd {
    Cmd::new("systemctl").arg("is-enabled").arg("--").arg(name)
}

/// One command for everything a step says about a unit's state: `is-active` alone cannot
/// tell a missing unit from a stopped one, nor name the socket that starts it.
fn show_cmd(name: &str) -> Cmd {
    Cmd::new("systemctl")
        .arg("show")
        .arg(format!("--property={SHOW_PROPERTIES}"))
        .arg("--")
        .arg(name)
}

fn rc_service_cmd(name: &str) -> Cmd {
    Cmd::new("rc-service").arg(name).arg("status")
}

fn init_script_cmd(name: &str) -> Cmd {
    Cmd::new(format!("/etc/init.d/{name}")).arg("status")
}

/// The shell test for `Platform::has("systemctl")`.
const HAS_SYSTEMCTL: Test = Test::Has("systemctl");

/// What [`read_enablement`] sends first for `name` (`Platform::init` picks systemd first).
pub(crate) fn enablement_reads(name: &str) -> Alternatives {
    vec![(HAS_SYSTEMCTL, Some(is_enabled_cmd(name)))]
}

/// What [`read_sysv`] sends, on the hosts where [`read_enablement`] needs it.
pub(crate) fn boot_table_reads() -> Alternatives {
    vec![
        (HAS_SYSTEMCTL, None),
        (Test::Has("rc-update"), Some(rc_update_cmd())),
        (Test::Has("chkconfig"), Some(chkconfig_cmd())),
        (Test::Dir("/etc/init.d"), Some(rc_links_cmd())),
    ]
}

/// What [`read_running`] sends first for `name`.
pub(crate) fn running_reads(name: &str) -> Alternatives {
    vec![
        (
            Test::All(&[Test::Dir("/run/systemd/system"), HAS_SYSTEMCTL]),
            Some(show_cmd(name)),
        ),
        (Test::Has("rc-service"), Some(rc_service_cmd(name))),
        (Test::Dir("/etc/init.d"), Some(init_script_cmd(name))),
    ]
}

/// Asks the host's init system whether `name` starts at boot.
pub(crate) async fn read_enablement(
    host: &HostHandle,
    p: &Platform,
    name: &str,
    timeout: Duration,
) -> Result<Enablement, FactError> {
    check_service_name(name).map_err(FactError::Unsupported)?;
    let Some(init) = p.init() else {
        return Err(FactError::Unsupported(
            "cannot tell what starts at boot: no systemctl, rc-update, chkconfig or /etc/init.d on the host".into(),
        ));
    };
    if init == InitSystem::Systemd {
        let out = run(host, &is_enabled_cmd(name), timeout).await?;
        // systemd's own rule: exit 0 for enabled, enabled-runtime, static, alias, indirect,
        // generated, transient; non-zero for disabled, masked, linked, not-found...
        return Ok(Enablement {
            enabled: out.success(),
            init,
            state: parse_systemctl_state(&out),
        });
    }
    let table = super::sysv_table(host, p, timeout).await?;
    let (enabled, state) = match init {
        InitSystem::OpenRc => match table.services.get(name).filter(|l| !l.is_empty()) {
            Some(levels) => (
                true,
                format!("in runlevel {}", levels.keys().cloned().collect::<Vec<_>>().join(", ")),
            ),
            None => (false, "not in any runlevel".into()),
        },
        _ => sysv_enabled(&table, name, p.runlevel),
    };
    Ok(Enablement { enabled, init, state })
}

fn said(out: &Output) -> String {
    let mut text = out.stdout_text();
    text.push_str(&out.stderr_text());
    let text = text.trim();
    let status = out
        .status
        .map(|s| format!("exit {s}"))
        .unwrap_or_else(|| "killed".into());
    if text.is_empty() {
        status
    } else {
        format!("{status}, {}", excerpt(text))
    }
}

/// Finds out whether `name` runs, by the best method the host allows.
pub(crate) async fn read_running(
    host: &HostHandle,
    p: &Platform,
    name: &str,
    timeout: Duration,
) -> Result<Running, FactError> {
    check_service_name(name).map_err(FactError::Unsupported)?;
    if p.systemd_booted && p.has("systemctl") {
        let cmd = show_cmd(name);
        let out = run(host, &cmd, timeout).await?;
        let Some(unit) = parse_show(&out.stdout_text()) else {
            return Err(super::failed(&cmd, &out));
        };
        return Ok(Running {
            running: unit.running(),
            method: format!("systemd: {}", unit.describe()),
            missing: unit.load == "not-found",
        });
    }
    let why_not_systemd = if p.has("systemctl") {
        format!(
            "; systemd is installed but not PID 1 (PID 1 is {}), so systemctl is-active cannot answer",
            p.pid1
        )
    } else {
        String::new()
    };
    if p.has("rc-service") {
        let out = run(host, &rc_service_cmd(name), timeout).await?;
        if !out.stderr_text().contains("does not exist") {
            return Ok(Running {
                running: out.success(),
                method: format!("OpenRC: rc-service {name} status: {}", said(&out)),
                missing: false,
            });
        }
    }
    if p.has("/etc/init.d") {
        let script = format!("/etc/init.d/{name}");
        let out = run(host, &init_script_cmd(name), timeout).await?;
        // LSB: 0 running; 1, 2, 3 not running; 4 unknown; 126/127 no such script.
        if let Some(code @ 0..=3) = out.status {
            return Ok(Running {
                running: code == 0,
                method: format!("init script: {script} status: {}{why_not_systemd}", said(&out)),
                missing: false,
            });
        }
    }
    let mut found = by_pid_file(host, name, timeout).await?;
    found.method.push_str(&why_not_systemd);
    Ok(found)
}

/// The pid file, then the process table.
async fn by_pid_file(host: &HostHandle, name: &str, timeout: Duration) -> Result<Running, FactError> {
    let files = [
        format!("/run/{name}.pid"),
        format!("/run/{name}/{name}.pid"),
        format!("/var/run/{name}.pid"),
    ];
    let out = run(
        host,
        &Cmd::new("grep")
            .args(["-s", "-H", "-m", "1", "-e", ".", "--"])
            .args(files),
        timeout,
    )
    .await?;
    let procs = super::processes(host, timeout).await?;
    if let Some((file, pid)) = parse_pid_files(&out.stdout_text()).into_iter().next() {
        let alive = procs.iter().find(|p| p.pid == pid && !p.zombie());
        return Ok(Running {
            running: alive.is_some(),
            method: match alive {
                Some(p) => format!("pid file {file}: pid {pid} is alive ({})", p.comm),
                None => format!("pid file {file}: pid {pid} is not running"),
            },
            missing: false,
        });
    }
    let n = super::process::named(&procs, name).count();
    Ok(Running {
        running: n > 0,
        method: format!("no init script or pid file; process table: {n} processes named {name}"),
        missing: false,
    })
}

/// Parses `grep -H` output of pid files: `(file, pid)` pairs.
pub(crate) fn parse_pid_files(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|l| l.rsplit_once(':'))
        .filter_map(|(f, p)| p.trim().parse().ok().map(|pid| (f.to_string(), pid)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/captured/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
    }

    fn out(stdout: &str, stderr: &str, status: i32) -> Output {
        Output {
            status: Some(status),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn chkconfig_default_runlevel_decides() {
        let t = parse_chkconfig(&fixture("centos6/chkconfig-list.txt"));
        assert_eq!(
            sysv_enabled(&t, "httpd", Some('3')),
            (false, "off in default runlevel 3".into())
        );
        assert!(sysv_enabled(&t, "nginx", Some('3')).0);
        assert!(sysv_enabled(&t, "mysqld", Some('3')).0);
        assert!(!sysv_enabled(&t, "mysqld", Some('2')).0);
        assert_eq!(sysv_enabled(&t, "mysqld", None), (true, "on in runlevels 3 5".into()));
        assert!(
            !t.services.contains_key("rsync"),
            "xinetd services are not SysV services"
        );
        assert!(!sysv_enabled(&t, "nosuch", Some('3')).0);
    }

    #[test]
    fn rc_links_of_debian() {
        let t = parse_rc_links(&fixture("debian12/ls-rc.d.txt"));
        assert!(sysv_enabled(&t, "nginx", Some('2')).0);
        assert!(!sysv_enabled(&t, "nginx", Some('0')).0);
        assert!(!sysv_enabled(&t, "apache-htcacheclean", None).0);
        let t = parse_rc_links("/etc/rc2.d:\nREADME\nS01nginx\nK01cron\n\n/etc/rc3.d:\nS02nginx\n");
        assert_eq!(t.services["nginx"].len(), 2);
        assert!(!t.services["cron"]["2"]);
        assert!(!t.services.contains_key("EADME"));
    }

    #[test]
    fn lab_rc_links_differ_per_host() {
        let web1 = parse_rc_links(&fixture("lab/ls-rc.d-web1.txt"));
        let db1 = parse_rc_links(&fixture("lab/ls-rc.d-db1.txt"));
        assert!(sysv_enabled(&web1, "nginx", Some('2')).0);
        assert_eq!(sysv_enabled(&db1, "nginx", Some('2')), (false, "no start links".into()));
        assert!(sysv_enabled(&db1, "mariadb", None).0);
    }

    #[test]
    fn openrc_runlevels() {
        let t = parse_rc_update(&fixture("alpine3/rc-update-show.txt"));
        assert!(t.services["sshd"].contains_key("default"));
        assert!(t.services["bootmisc"].contains_key("boot"));
        assert!(t.services["mdev"].contains_key("sysinit"));
        assert!(!t.services.contains_key("httpd"));
    }

    #[test]
    fn systemctl_states_and_exit_codes() {
        for (file, n) in [
            ("debian12/systemctl-is-enabled.txt", 6),
            ("rhel9/systemctl-is-enabled.txt", 5),
        ] {
            let text = fixture(file);
            assert_eq!(text.lines().count(), n);
            for line in text.lines() {
                let f: Vec<&str> = line.split('\t').collect();
                let (stdout, stderr) = if f[1].starts_with("Failed") {
                    ("", f[1])
                } else {
                    (f[1], "")
                };
                let state = parse_systemctl_state(&out(stdout, stderr, f[2].parse().unwrap()));
                let want = if f[1].starts_with("Failed") { "not-found" } else { f[1] };
                assert_eq!(state, want);
            }
        }
        let not_booted = fixture("debian12/systemctl-is-active-not-booted.txt");
        assert!(parse_systemctl_state(&out("", &not_booted, 1)).starts_with("no answer"));
    }

    #[test]
    fn systemctl_show_of_each_state() {
        // captured on the lab's sd1 (systemd 252)
        let u = parse_show(
            "Id=lab-echo.service\nTriggeredBy=lab-echo.socket\nLoadState=loaded\nActiveState=inactive\nSubState=dead\nUnitFileState=indirect\n",
        )
        .expect("parsed");
        assert!(!u.running());
        assert_eq!(
            u.describe(),
            "lab-echo.service inactive (dead), indirect; started by lab-echo.socket"
        );
        let u =
            parse_show("Id=ssh.service\nLoadState=loaded\nActiveState=reloading\nSubState=reload\n").expect("parsed");
        assert!(u.running());
        let u =
            parse_show("Id=nosuch.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\n")
                .expect("parsed");
        assert_eq!(u.describe(), "no unit nosuch.service");
        assert_eq!(
            parse_show("System has not been booted with systemd as init system (PID 1).\n"),
            None
        );
    }

    #[test]
    fn service_names_are_checked() {
        assert!(check_service_name("getty@tty1").is_ok());
        assert!(check_service_name("php8.2-fpm").is_ok());
        assert!(check_service_name("../../bin/sh").is_err());
        assert!(check_service_name("-x").is_err());
        assert!(check_service_name("x; touch /tmp/pwned").is_err());
        assert!(check_service_name("").is_err());
    }

    #[test]
    fn pid_files() {
        assert_eq!(
            parse_pid_files("/run/nginx.pid:123\n"),
            vec![("/run/nginx.pid".to_string(), 123)]
        );
        assert!(parse_pid_files("/run/x.pid:garbage\n").is_empty());
    }
}
