//! A host's planned facts, read in one command. Before a run starts, the runner tells each
//! host which whole-host facts its steps read ([`crate::steps::StepDef::facts`]). The first
//! reader of any fact (the runner as soon as the host is connected, or a step) sends ONE
//! command that prints them all, each part followed by a random boundary line, and fills
//! the fact cells from it. A part that failed leaves its fact unread: the step that needs
//! it reads it alone and reports its own error, exactly as without the batch.
//!
//! Why: after the handshake, what a run costs on a host is one channel, one shell and one
//! `timeout` per command, and a round trip per dependent command (packages wait for the
//! platform). One batch replaces up to seven commands and two rounds with one of each.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use super::{PackageManager, mount, package, platform, ports, process};
use crate::runner::hosts::HostHandle;
use crate::transport::{Cmd, Output};

/// A whole-host fact a step declares that it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    /// The init system and package manager ([`super::platform`]); first in a batch, since
    /// the package part is parsed by the manager it names.
    Platform,
    /// The package database ([`super::packages`]); brings [`Fact::Platform`] along.
    Packages,
    /// `php -m` ([`super::php_modules`]).
    PhpModules,
    /// The mount table ([`super::mounts`]).
    Mounts,
    /// `/etc/fstab` ([`super::fstab`]).
    Fstab,
    /// The listening TCP sockets ([`super::ports`]).
    Ports,
    /// The process table ([`super::processes`]).
    Processes,
}

impl Fact {
    /// The shell text of this fact's part: the same command its own read sends.
    fn part(self) -> String {
        match self {
            Fact::Platform => platform::command().to_shell(),
            // The manager chosen on the host as `Platform::package_manager` chooses it.
            Fact::Packages => {
                let mut text = String::new();
                for m in PackageManager::PREFERENCE {
                    text.push_str(&format!(
                        "if command -v {} >/dev/null 2>&1; then {}\nel",
                        m.tool(),
                        m.list_command().to_shell()
                    ));
                }
                text.push_str("se (exit 127); fi");
                text
            }
            Fact::PhpModules => package::php_command().to_shell(),
            Fact::Mounts => mount::mounts_command().to_shell(),
            Fact::Fstab => mount::fstab_command().to_shell(),
            Fact::Ports => ports::command().to_shell(),
            Fact::Processes => process::command().to_shell(),
        }
    }
}

/// A boundary no command output contains by chance: 32 random hex digits.
fn boundary() -> String {
    let word = || std::collections::hash_map::RandomState::new().build_hasher().finish();
    format!("sd-{:016x}{:016x}", word(), word())
}

/// The batch script: each part in turn, with no input; after it, `\n<B> <status>\n` on
/// stdout and `\n<B>\n` on stderr. `b` is hex digits: safe unquoted.
fn batch_script(parts: &[String], b: &str) -> String {
    parts
        .iter()
        .map(|p| format!("{{ {p}\n}} </dev/null; printf '\\n%s %d\\n' {b} \"$?\"; printf '\\n%s\\n' {b} >&2\n"))
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Splits a batch's output into the parts that completed, in order.
fn split(out: &Output, b: &str) -> Vec<Output> {
    let (out_mark, err_mark) = (format!("\n{b} "), format!("\n{b}\n"));
    let (mut stdout, mut stderr) = (&out.stdout[..], &out.stderr[..]);
    let mut parts = Vec::new();
    while let Some(at) = find(stdout, out_mark.as_bytes()) {
        let rest = &stdout[at + out_mark.len()..];
        let Some(eol) = rest.iter().position(|&c| c == b'\n') else {
            break;
        };
        let status = std::str::from_utf8(&rest[..eol]).ok().and_then(|s| s.parse().ok());
        let part_err = match find(stderr, err_mark.as_bytes()) {
            Some(e) => {
                let part = stderr[..e].to_vec();
                stderr = &stderr[e + err_mark.len()..];
                part
            }
            None => Vec::new(),
        };
        parts.push(Output {
            status,
            stdout: stdout[..at].to_vec(),
            stderr: part_err,
        });
        stdout = &rest[eol + 1..];
    }
    parts
}

/// Reads the host's planned facts in one command and fills their cells (the ones whose
/// part succeeded). Returns at once when nothing is planned; a transport error leaves
/// every cell to its own read.
pub(crate) async fn run(host: &HostHandle, timeout: Duration) {
    let mut wanted: BTreeSet<Fact> = host.facts.planned();
    if wanted.contains(&Fact::Packages) {
        wanted.insert(Fact::Platform);
    }
    if wanted.is_empty() {
        return;
    }
    let facts: Vec<Fact> = wanted.into_iter().collect();
    let parts: Vec<String> = facts.iter().map(|f| f.part()).collect();
    let b = boundary();
    let cmd = Cmd::new("sh").arg("-c").arg(batch_script(&parts, &b));
    let Ok(out) = host.run(&cmd, timeout).await else {
        return;
    };
    let f = &host.facts;
    let mut detected = None;
    for (fact, part) in facts.iter().zip(split(&out, &b)) {
        if part.status != Some(0) {
            continue;
        }
        let text = part.stdout_text();
        let _ = match fact {
            Fact::Platform => {
                let p = Arc::new(platform::parse_platform(&text));
                detected = Some(p.clone());
                f.platform.set(p).map_err(drop)
            }
            Fact::Packages => match detected.as_ref().and_then(|p| p.package_manager()) {
                Some(m) => f.packages.set(Arc::new(m.parse_list(&text))).map_err(drop),
                None => Ok(()),
            },
            Fact::PhpModules => f
                .php_modules
                .set(Arc::new(Some(package::parse_php_modules(&text))))
                .map_err(drop),
            Fact::Mounts => f.mounts.set(Arc::new(mount::parse_mountinfo(&text))).map_err(drop),
            Fact::Fstab => f.fstab.set(Arc::new(mount::parse_fstab(&text))).map_err(drop),
            Fact::Ports => f.ports.set(Arc::new(ports::parse_ss(&text))).map_err(drop),
            Fact::Processes => f.processes.set(Arc::new(process::parse_ps(&text))).map_err(drop),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a batch script with the local shell, as a host's shell would.
    fn run_local(parts: &[&str]) -> (Vec<Output>, String) {
        let b = boundary();
        let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(batch_script(&parts, &b))
            .output()
            .expect("sh");
        let out = Output {
            status: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        };
        (split(&out, &b), b)
    }

    #[test]
    fn each_part_keeps_its_own_output_error_and_status() {
        let (parts, _) = run_local(&[
            "printf 'a\\nb\\n'",
            "printf 'no newline'; echo oops >&2; (exit 3)",
            "printf ''",
            "cat /nonexistent/file",
        ]);
        assert_eq!(parts.len(), 4);
        assert_eq!((parts[0].status, parts[0].stdout_text().as_str()), (Some(0), "a\nb\n"));
        assert_eq!(parts[1].status, Some(3));
        assert_eq!(parts[1].stdout_text(), "no newline");
        assert_eq!(parts[1].stderr_text(), "oops\n");
        assert_eq!((parts[2].status, parts[2].stdout_text().as_str()), (Some(0), ""));
        assert_eq!(parts[3].status, Some(1));
        assert!(parts[3].stderr_text().contains("/nonexistent/file"));
    }

    #[test]
    fn a_part_cannot_end_the_batch_or_read_its_input() {
        let (parts, _) = run_local(&["exit 5", "read x; echo \"got:$x\"", "echo after"]);
        // `exit` in a part ends the batch shell: parts are commands, never shell text from
        // input (each is a `Cmd::to_shell`), so this only shows what the framing reports.
        assert_eq!(parts.len(), 0);
        let (parts, _) = run_local(&["read x; echo \"got:$x\"", "echo after"]);
        assert_eq!(parts[0].stdout_text(), "got:\n");
        assert_eq!(parts[1].stdout_text(), "after\n");
    }

    #[test]
    fn a_cut_batch_gives_the_parts_that_completed() {
        let b = boundary();
        let out = Output {
            status: None,
            stdout: format!("one\n\n{b} 0\ntwo, cut").into_bytes(),
            stderr: Vec::new(),
        };
        let parts = split(&out, &b);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].stdout_text(), "one\n");
    }

    #[test]
    fn the_package_part_picks_the_manager_the_platform_would() {
        let part = Fact::Packages.part();
        let order: Vec<usize> = PackageManager::PREFERENCE
            .iter()
            .map(|m| part.find(&format!("command -v {} ", m.tool())).expect("each manager"))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{part}");
        let (parts, _) = run_local(&[&part]);
        // This machine is Debian: dpkg-query answers.
        assert_eq!(parts[0].status, Some(0));
        assert!(parts[0].stdout_text().contains("\tii"), "dpkg-query output");
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(boundary(), boundary());
    }
}
