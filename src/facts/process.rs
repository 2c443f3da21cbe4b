//! The process table: `ps -eo pid=,stat=,comm=` (pid, state, the kernel's process name),
//! read once per host per run, in the host's PID namespace. A process is *named* X when its
//! kernel name (`comm`, at most 15 characters) is exactly X, or X cut to 15 characters.

use std::time::Duration;

use futures::future::BoxFuture;

use super::{FactError, run_ok};
use crate::host::HostHandle;
use crate::transport::Cmd;

/// The kernel keeps at most this many characters of a process name.
pub(crate) const COMM_MAX: usize = 15;

/// One process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Process {
    /// Its pid.
    pub pid: u32,
    /// `ps` state letters (`S`, `R`, `Z`, `Ss`...).
    pub stat: String,
    /// The kernel's process name.
    pub comm: String,
}

impl Process {
    /// An exited process not yet reaped.
    pub(crate) fn zombie(&self) -> bool {
        self.stat.starts_with('Z')
    }
}

/// Parses `ps -eo pid=,stat=,comm=` (the name is the rest of the line: it may hold spaces).
pub(crate) fn parse_ps(text: &str) -> Vec<Process> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let Some((pid, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        let Some((stat, comm)) = rest.trim_start().split_once(char::is_whitespace) else {
            continue;
        };
        if let Ok(pid) = pid.parse() {
            out.push(Process {
                pid,
                stat: stat.to_string(),
                comm: comm.trim().to_string(),
            });
        }
    }
    out
}

/// The live (not zombie) processes named `name`.
pub(crate) fn named<'a>(procs: &'a [Process], name: &'a str) -> impl Iterator<Item = &'a Process> + 'a {
    let short: String = name.chars().take(COMM_MAX).collect();
    procs
        .iter()
        .filter(move |p| !p.zombie() && (p.comm == name || p.comm == short))
}

/// Names that contain `name` but are not it (`php-fpm8.2` for `php-fpm`), with counts:
/// shown when no process has the exact name.
pub(crate) fn similar(procs: &[Process], name: &str) -> Vec<(String, usize)> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    let lower = name.to_lowercase();
    for p in procs
        .iter()
        .filter(|p| !p.zombie() && p.comm != name && p.comm.to_lowercase().contains(&lower))
    {
        *counts.entry(p.comm.as_str()).or_default() += 1;
    }
    counts.into_iter().map(|(n, c)| (n.to_string(), c)).collect()
}

/// The command that lists the process table.
pub(crate) fn command() -> Cmd {
    Cmd::new("ps").args(["-eo", "pid=,stat=,comm="])
}

/// Reads the process table.
pub(crate) async fn read(host: &HostHandle, timeout: Duration) -> Result<Vec<Process>, FactError> {
    let out = run_ok(host, &command(), timeout).await?;
    Ok(parse_ps(&out.stdout_text()))
}

/// The process table as a whole-host fact ([`super::HostFact`]).
pub(crate) struct ProcessesFact;

#[allow(non_upper_case_globals)]
impl super::Fact {
    /// The process table ([`super::processes`]).
    pub const Processes: super::Fact = super::Fact::whole_host(6, "Processes", &ProcessesFact);
}

impl super::HostFact for ProcessesFact {
    type Value = Vec<Process>;

    fn part(&self) -> String {
        command().to_shell()
    }

    fn parse(&self, text: &str, _: &super::HostFacts) -> Option<Vec<Process>> {
        Some(parse_ps(text))
    }

    fn read<'a>(&'a self, host: &'a HostHandle, timeout: Duration) -> BoxFuture<'a, Result<Vec<Process>, FactError>> {
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
    fn ps_of_this_machine() {
        let text = fixture("debian12/ps.txt");
        let p = parse_ps(&text);
        assert_eq!(p.len(), text.lines().count());
        assert_eq!(p[0].pid, 1);
        assert_eq!(named(&p, "kthreadd").count(), 1);
    }

    #[test]
    fn lab_hosts_process_tables() {
        let web1 = parse_ps(&fixture("lab/ps-web1.txt"));
        assert_eq!(web1[0].comm, "tini");
        assert_eq!(named(&web1, "nginx").count(), 2);
        assert_eq!(named(&web1, "cron").count(), 1);
        let db1 = parse_ps(&fixture("lab/ps-db1.txt"));
        assert_eq!(named(&db1, "cron").count(), 0);
        assert_eq!(named(&db1, "nginx").count(), 0);
    }

    #[test]
    fn names_with_spaces_zombies_and_truncation() {
        let p = parse_ps(
            "  10 Ss   nginx\n  11 S    nginx\n  12 Z    nginx\n  13 Sl   Web Content\n  14 S php-fpm8.2\n 15 S systemd-journal\n",
        );
        assert_eq!(named(&p, "nginx").count(), 2, "zombies do not count");
        assert_eq!(named(&p, "Web Content").count(), 1);
        assert_eq!(named(&p, "php-fpm").count(), 0);
        assert_eq!(similar(&p, "php-fpm"), vec![("php-fpm8.2".to_string(), 1)]);
        assert_eq!(named(&p, "systemd-journald").count(), 1, "cut to 15 characters");
    }
}
