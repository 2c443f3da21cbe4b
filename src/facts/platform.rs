//! What kind of host this is: which init system decides what starts at boot, whether
//! systemd is actually running as PID 1, which package manager holds the package
//! database, and the default runlevel. Read once per host by one detection script.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{FactError, run_ok};
use crate::host::HostHandle;
use crate::transport::script;

/// Prints `key=value` lines: PID 1's name, whether systemd is booted (`sd_booted()`'s
/// test), the tools present, the default runlevel. Always exits 0.
const DETECT: &str = r#"echo "pid1=$(cat /proc/1/comm 2>/dev/null)"
[ -d /run/systemd/system ] && echo systemd_booted=yes
for c in systemctl rc-update rc-service chkconfig dpkg-query rpm apk; do
  command -v "$c" >/dev/null 2>&1 && echo "has=$c"
done
[ -d /etc/init.d ] && echo has=/etc/init.d
echo "initdefault=$(sed -n 's/^[^#:]*:\([0-9Ss]\):initdefault:.*/\1/p' /etc/inittab 2>/dev/null | head -n 1)"
echo "runlevel=$(runlevel 2>/dev/null)"
exit 0"#;

/// The system that decides what starts at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InitSystem {
    /// systemd (`systemctl is-enabled` works even when systemd is not PID 1).
    Systemd,
    /// OpenRC (`rc-update`).
    OpenRc,
    /// SysV init with `chkconfig` (RHEL/CentOS 6 and alike).
    SysvChkconfig,
    /// SysV init with `/etc/rcN.d` links only (Debian without systemd).
    SysvLinks,
}

impl std::fmt::Display for InitSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InitSystem::Systemd => "systemd",
            InitSystem::OpenRc => "OpenRC",
            InitSystem::SysvChkconfig => "SysV chkconfig",
            InitSystem::SysvLinks => "SysV /etc/rcN.d links",
        })
    }
}

/// The detected platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Platform {
    /// PID 1's process name (`systemd`, `init`, `tini`...).
    pub pid1: String,
    /// `/run/systemd/system` exists: systemd is running, `systemctl is-active` answers.
    pub systemd_booted: bool,
    /// Tools found on the PATH (and `/etc/init.d` when that directory exists).
    pub tools: BTreeSet<String>,
    /// The default runlevel (from `runlevel` or `/etc/inittab`), when known.
    pub runlevel: Option<char>,
}

/// Parses the output of the detection script.
pub(crate) fn parse_platform(text: &str) -> Platform {
    let mut p = Platform::default();
    let mut initdefault = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key {
            "pid1" => p.pid1 = value.to_string(),
            "systemd_booted" => p.systemd_booted = value == "yes",
            "has" => {
                p.tools.insert(value.to_string());
            }
            "initdefault" => initdefault = value.chars().next(),
            // `runlevel` prints "N 5" (previous, current) or "unknown".
            "runlevel" => p.runlevel = value.split_whitespace().nth(1).and_then(|r| r.chars().next()),
            _ => {}
        }
    }
    p.runlevel = p.runlevel.filter(|c| c.is_ascii_digit()).or(initdefault);
    p
}

impl Platform {
    /// Whether a tool is on the host.
    pub(crate) fn has(&self, tool: &str) -> bool {
        self.tools.contains(tool)
    }

    /// The init system that decides what starts at boot, when one is found.
    pub(crate) fn init(&self) -> Option<InitSystem> {
        if self.has("systemctl") {
            Some(InitSystem::Systemd)
        } else if self.has("rc-update") {
            Some(InitSystem::OpenRc)
        } else if self.has("chkconfig") {
            Some(InitSystem::SysvChkconfig)
        } else if self.has("/etc/init.d") {
            Some(InitSystem::SysvLinks)
        } else {
            None
        }
    }

    /// The package manager, when one is found.
    pub(crate) fn package_manager(&self) -> Option<super::PackageManager> {
        super::PackageManager::PREFERENCE
            .into_iter()
            .find(|m| self.has(m.tool()))
    }
}

/// The detection script, as a command.
pub(crate) fn command() -> crate::transport::Cmd {
    script(DETECT, &[])
}

/// Runs the detection script on the host.
pub(crate) async fn read(host: &HostHandle, timeout: Duration) -> Result<Platform, FactError> {
    let out = run_ok(host, &command(), timeout).await?;
    Ok(parse_platform(&out.stdout_text()))
}

/// The platform as a whole-host fact ([`super::HostFact`]).
pub(crate) struct PlatformFact;

#[allow(non_upper_case_globals)]
impl super::Fact {
    /// The init system and package manager ([`super::platform`]); first in a batch, since
    /// the package part is parsed by the manager it names.
    pub const Platform: super::Fact = super::Fact::whole_host(0, "Platform", &PlatformFact);
}

impl super::HostFact for PlatformFact {
    type Value = Platform;

    fn part(&self) -> String {
        command().to_shell()
    }

    fn parse(&self, text: &str, _: &super::HostFacts) -> Option<Platform> {
        Some(parse_platform(text))
    }

    fn read<'a>(&'a self, host: &'a HostHandle, timeout: Duration) -> BoxFuture<'a, Result<Platform, FactError>> {
        Box::pin(read(host, timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/captured/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
    }

    #[test]
    fn debian_without_systemd_as_pid1() {
        let p = parse_platform(&fixture("debian12/platform.txt"));
        assert!(!p.systemd_booted);
        assert_eq!(p.init(), Some(InitSystem::Systemd));
        assert_eq!(p.package_manager(), Some(super::super::PackageManager::Dpkg));
    }

    #[test]
    fn centos6_is_sysv_with_chkconfig_and_runlevel_3() {
        let p = parse_platform(&fixture("centos6/platform.txt"));
        assert_eq!(p.init(), Some(InitSystem::SysvChkconfig));
        assert_eq!(p.runlevel, Some('3'));
        assert_eq!(p.package_manager(), Some(super::super::PackageManager::Rpm));
    }

    #[test]
    fn alpine_is_openrc_with_apk() {
        let p = parse_platform(&fixture("alpine3/platform.txt"));
        assert_eq!(p.init(), Some(InitSystem::OpenRc));
        assert_eq!(p.package_manager(), Some(super::super::PackageManager::Apk));
    }

    #[test]
    fn booted_systemd_and_runlevel_from_inittab() {
        let p = parse_platform("pid1=systemd\nsystemd_booted=yes\nhas=systemctl\ninitdefault=\nrunlevel=N 5\n");
        assert!(p.systemd_booted);
        assert_eq!(p.runlevel, Some('5'));
        let p = parse_platform("pid1=init\nhas=/etc/init.d\ninitdefault=2\nrunlevel=unknown\n");
        assert_eq!(p.runlevel, Some('2'));
        assert_eq!(p.init(), Some(InitSystem::SysvLinks));
    }
}
