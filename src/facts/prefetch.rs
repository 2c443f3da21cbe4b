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
//!
//! Facts named by a step's arguments (a service's state, a file's `stat`, a `grep -F`)
//! come last in the same batch: the batch runs the command the step's read would send, and
//! keeps its output under that command for the read that sends it ([`super::read_ahead`]).
//! A service read's command depends on the platform, so its part picks it on the host with
//! the same tests the platform detection makes ([`Alternatives`]). These parts run after
//! the process table (an init script's own process would show in it otherwise), in a shell
//! bounded by a third of the step timeout, so that a hung init script or a `stat` on a dead
//! mount holds up the whole-host facts that long at most; the parts it cut are read by
//! their steps alone. Commands a user wrote are never run ahead: they run once, in order.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use super::{PackageManager, file, mount, package, platform, ports, process, service};
use crate::host::HostHandle;
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
    /// Whether the service named by the step's first argument runs ([`super::running`]).
    ServiceRunning,
    /// Whether the service named by the step's first argument starts at boot
    /// ([`super::enablement`]).
    ServiceEnabled,
    /// `stat` of the path that is the step's first argument ([`super::file::stat_command`]).
    FileStat,
    /// Whether the file (first argument) has a line containing the text (second argument)
    /// ([`super::file::contains_command`]).
    FileContains,
}

impl Fact {
    /// Whether this is a fact about what the step's arguments name (a service, a file),
    /// not about the whole host: the batch runs the step's own first command for it.
    pub fn from_args(self) -> bool {
        matches!(
            self,
            Fact::ServiceRunning | Fact::ServiceEnabled | Fact::FileStat | Fact::FileContains
        )
    }

    /// The shell text of this whole-host fact's part: the same command its own read sends.
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
            f => unreachable!("{f:?} is read by the step's own command, not a whole-host part"),
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
/// part succeeded) and the outputs kept for steps' reads. Returns at once when nothing is planned; a
/// transport error leaves every fact to its own read.
pub(crate) async fn run(host: &HostHandle, timeout: Duration) {
    let mut wanted: BTreeSet<Fact> = super::of(host).planned();
    if wanted.contains(&Fact::Packages) {
        wanted.insert(Fact::Platform);
    }
    let facts: Vec<Fact> = wanted.into_iter().filter(|f| !f.from_args()).collect();
    let reads = step_reads(&super::of(host).planned_reads());
    if facts.is_empty() && reads.is_empty() {
        return;
    }
    let b = boundary();
    let parts: Vec<String> = facts.iter().map(|f| f.part()).collect();
    let mut script = batch_script(&parts, &b);
    if !reads.is_empty() {
        let parts: Vec<String> = reads.iter().map(read_part).collect();
        script.push_str(&reads_section(&parts, &b, (timeout.as_secs() / 3).max(1)));
    }
    let Ok(out) = host.run(&Cmd::new("sh").arg("-c").arg(script), timeout).await else {
        return;
    };
    let mut parts = split(&out, &b);
    let read_parts = parts.split_off(parts.len().min(facts.len()));
    super::of(host).keep_outputs(read_outputs(&reads, read_parts));
    let f = &*super::of(host);
    let mut detected = None;
    for (fact, part) in facts.iter().zip(parts) {
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
            _ => Ok(()),
        };
    }
}

/// A read whose command may depend on the host: shell tests in order, each with the
/// command the read sends first when the test holds (none: nothing to read ahead). The
/// tests say on the host what [`super::Platform`] says here, so the batch runs the command
/// the read would; when they disagree, the read simply sends its own.
pub(crate) type Alternatives = Vec<(&'static str, Option<Cmd>)>;

/// What the batch runs for a fact named by a step's arguments: the step's own first
/// command, or the alternatives of a service read; `None` for arguments its step would
/// refuse (a bad service name, a relative path) or a whole-host fact.
pub(crate) fn reads_of(fact: Fact, args: &[String]) -> Option<Alternatives> {
    let first = args.first()?;
    let path_ok = || first.starts_with('/');
    match fact {
        Fact::ServiceRunning | Fact::ServiceEnabled if service::check_service_name(first).is_err() => None,
        Fact::ServiceRunning => Some(service::running_reads(first)),
        Fact::ServiceEnabled => Some(service::enablement_reads(first)),
        Fact::FileStat if path_ok() => Some(vec![("true", Some(file::stat_command(first)))]),
        Fact::FileContains if path_ok() => Some(vec![("true", Some(file::contains_command(first, args.get(1)?)))]),
        _ => None,
    }
}

/// The alternatives the batch runs for the planned `reads` (fact, arguments), in order
/// (services first, then files); the boot table once when any enablement is asked.
fn step_reads(reads: &BTreeSet<(Fact, Vec<String>)>) -> Vec<Alternatives> {
    // Steps that send the same command (a file's existence and its owner) share one part.
    let mut seen = std::collections::HashSet::new();
    let mut all: Vec<Alternatives> = reads
        .iter()
        .filter_map(|(f, a)| reads_of(*f, a))
        .filter(|alts| seen.insert(read_part(alts)))
        .collect();
    if reads.iter().any(|(f, _)| *f == Fact::ServiceEnabled) {
        all.push(service::boot_table_reads());
    }
    all
}

/// One part for a step's read: the first alternative whose test holds prints its index on
/// a line of its own, then runs its command; `-` when none holds or it has no command.
fn read_part(alts: &Alternatives) -> String {
    let mut text = String::new();
    for (i, (test, cmd)) in alts.iter().enumerate() {
        let keyword = if i == 0 { "if" } else { "elif" };
        match cmd {
            Some(cmd) => text.push_str(&format!("{keyword} {test}; then echo {i}; {}\n", cmd.to_shell())),
            None => text.push_str(&format!("{keyword} {test}; then echo -\n")),
        }
    }
    text.push_str("else echo -; fi");
    text
}

/// The parts for steps' reads, framed like the others, in a shell of their own bounded by
/// `secs` when the host has `timeout` (as the transport bounds a command); a cut leaves the
/// parts that completed before it.
fn reads_section(parts: &[String], b: &str, secs: u64) -> String {
    let text = Cmd::new(batch_script(parts, b)).to_shell();
    format!(
        "reads={text}\nif command -v timeout >/dev/null 2>&1; then timeout -k 1 {secs} sh -c \"$reads\"; else sh -c \"$reads\"; fi\n"
    )
}

/// What each completed part for a step's read says: the command it ran (as
/// `Cmd::to_shell` sends it) and that command's output.
fn read_outputs(alts: &[Alternatives], parts: Vec<Output>) -> HashMap<String, Output> {
    let mut outputs = HashMap::new();
    for (alts, part) in alts.iter().zip(parts) {
        let Some(eol) = part.stdout.iter().position(|&c| c == b'\n') else {
            continue;
        };
        let chosen = std::str::from_utf8(&part.stdout[..eol])
            .ok()
            .and_then(|i| i.parse::<usize>().ok());
        let Some((_, Some(cmd))) = chosen.and_then(|i| alts.get(i)) else {
            continue;
        };
        outputs.insert(
            cmd.to_shell(),
            Output {
                status: part.status,
                stdout: part.stdout[eol + 1..].to_vec(),
                stderr: part.stderr,
            },
        );
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `script` with the local shell, as a host's shell would.
    fn sh(script: &str) -> Output {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .expect("sh");
        Output {
            status: out.status.code(),
            stdout: out.stdout,
            stderr: out.stderr,
        }
    }

    /// Runs a batch script with the local shell.
    fn run_local(parts: &[&str]) -> (Vec<Output>, String) {
        let b = boundary();
        let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        (split(&sh(&batch_script(&parts, &b)), &b), b)
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

    /// Runs the services section for `services` with the local shell; what it kept.
    fn run_services_local(services: &[(Fact, &str)], secs: u64) -> HashMap<String, Output> {
        let services: BTreeSet<(Fact, Vec<String>)> = services.iter().map(|(f, n)| (*f, vec![n.to_string()])).collect();
        let alts = step_reads(&services);
        let parts: Vec<String> = alts.iter().map(read_part).collect();
        let b = boundary();
        read_outputs(&alts, split(&sh(&reads_section(&parts, &b, secs)), &b))
    }

    #[test]
    fn the_service_parts_run_what_the_reads_would_send_on_this_machine() {
        let p = platform::parse_platform(&sh(&platform::command().to_shell()).stdout_text());
        let kept = run_services_local(&[(Fact::ServiceRunning, "cron"), (Fact::ServiceEnabled, "cron")], 5);
        // read_running's first choice, and read_enablement's (or the boot table's).
        let running = if p.systemd_booted && p.has("systemctl") {
            "systemctl is-active -- cron"
        } else if p.has("rc-service") {
            "rc-service cron status"
        } else {
            "/etc/init.d/cron status"
        };
        let enabled = if p.has("systemctl") {
            "systemctl is-enabled -- cron"
        } else {
            "ls -1 /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rc6.d /etc/rcS.d"
        };
        let mut keys: Vec<&str> = kept.keys().map(String::as_str).collect();
        keys.sort();
        let mut want = vec![running, enabled];
        want.sort();
        assert_eq!(keys, want, "platform {p:?}");
        // The output is the command's own, without the index line.
        let direct = sh(running);
        assert_eq!(kept[running].status, direct.status);
        assert_eq!(kept[running].stdout_text(), direct.stdout_text());
    }

    #[test]
    fn a_hung_service_part_cuts_the_section_and_keeps_what_came_before() {
        let fast: Alternatives = vec![
            ("false", None),
            ("true", Some(Cmd::new("sh").arg("-c").arg("echo hi; exit 3"))),
        ];
        let none: Alternatives = vec![("false", Some(Cmd::new("echo").arg("no")))];
        let quiet: Alternatives = vec![("true", None)];
        let slow: Alternatives = vec![("true", Some(Cmd::new("sleep").arg("30")))];
        let after: Alternatives = vec![("true", Some(Cmd::new("echo").arg("late")))];
        let alts = vec![fast, none, quiet, slow, after];
        let parts: Vec<String> = alts.iter().map(read_part).collect();
        let b = boundary();
        let started = std::time::Instant::now();
        let out = sh(&reads_section(&parts, &b, 1));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the section's bound did not hold"
        );
        let kept = read_outputs(&alts, split(&out, &b));
        assert_eq!(kept.len(), 1, "{kept:?}");
        let hi = &kept["sh -c 'echo hi; exit 3'"];
        assert_eq!((hi.status, hi.stdout_text().as_str()), (Some(3), "hi\n"));
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(boundary(), boundary());
    }
}
