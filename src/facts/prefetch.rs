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
use std::sync::Arc;
use std::time::Duration;

use super::{PackageManager, file, mount, package, platform, ports, process, service};
use crate::host::HostHandle;
use crate::transport::{Batch, Cmd, Output, Test, chosen, first_available, first_of};

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
            Fact::Packages => first_available(PackageManager::PREFERENCE.map(|m| (m.tool(), m.list_command()))),
            Fact::PhpModules => package::php_command().to_shell(),
            Fact::Mounts => mount::mounts_command().to_shell(),
            Fact::Fstab => mount::fstab_command().to_shell(),
            Fact::Ports => ports::command().to_shell(),
            Fact::Processes => process::command().to_shell(),
            f => unreachable!("{f:?} is read by the step's own command, not a whole-host part"),
        }
    }
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
    let b = Batch::new();
    let parts: Vec<String> = facts.iter().map(|f| f.part()).collect();
    let mut script = b.script(&parts);
    if !reads.is_empty() {
        let parts: Vec<String> = reads.iter().map(|alts| first_of(alts)).collect();
        script.push_str(&b.bounded_section(&parts, (timeout.as_secs() / 3).max(1)));
    }
    let Ok(out) = host.run(&Batch::command(script), timeout).await else {
        return;
    };
    let mut parts = b.split(&out);
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
pub(crate) type Alternatives = Vec<(Test, Option<Cmd>)>;

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
        Fact::FileStat if path_ok() => Some(vec![(Test::Always, Some(file::stat_command(first)))]),
        Fact::FileContains if path_ok() => {
            Some(vec![(Test::Always, Some(file::contains_command(first, args.get(1)?)))])
        }
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
        .filter(|alts| seen.insert(first_of(alts)))
        .collect();
    if reads.iter().any(|(f, _)| *f == Fact::ServiceEnabled) {
        all.push(service::boot_table_reads());
    }
    all
}

/// What each completed part for a step's read says: the command it ran (as
/// `Cmd::to_shell` sends it) and that command's output.
fn read_outputs(alts: &[Alternatives], parts: Vec<Output>) -> HashMap<String, Output> {
    let mut outputs = HashMap::new();
    for (alts, part) in alts.iter().zip(parts) {
        let Some((index, output)) = chosen(part) else {
            continue;
        };
        if let Some((_, Some(cmd))) = alts.get(index) {
            outputs.insert(cmd.to_shell(), output);
        }
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Host;
    use crate::transport::Fake;

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

    #[test]
    fn the_package_part_picks_the_manager_the_platform_would() {
        let part = Fact::Packages.part();
        let order: Vec<usize> = PackageManager::PREFERENCE
            .iter()
            .map(|m| part.find(&format!("command -v {} ", m.tool())).expect("each manager"))
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{part}");
        let b = Batch::new();
        let parts = b.split(&sh(&b.script(&[part])));
        // This machine is Debian: dpkg-query answers.
        assert_eq!(parts[0].status, Some(0));
        assert!(parts[0].stdout_text().contains("\tii"), "dpkg-query output");
    }

    /// Runs the section of steps' reads for `alts` with the local shell; what it kept.
    fn run_reads_local(alts: &[Alternatives], secs: u64) -> HashMap<String, Output> {
        let parts: Vec<String> = alts.iter().map(|a| first_of(a)).collect();
        let b = Batch::new();
        read_outputs(alts, b.split(&sh(&b.bounded_section(&parts, secs))))
    }

    #[test]
    fn the_service_parts_run_what_the_reads_would_send_on_this_machine() {
        let p = platform::parse_platform(&sh(&platform::command().to_shell()).stdout_text());
        let services: BTreeSet<(Fact, Vec<String>)> = [Fact::ServiceRunning, Fact::ServiceEnabled]
            .into_iter()
            .map(|f| (f, vec!["cron".to_string()]))
            .collect();
        let kept = run_reads_local(&step_reads(&services), 5);
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
            (Test::Never, None),
            (Test::Always, Some(Cmd::new("sh").arg("-c").arg("echo hi; exit 3"))),
        ];
        let none: Alternatives = vec![(Test::Never, Some(Cmd::new("echo").arg("no")))];
        let quiet: Alternatives = vec![(Test::Always, None)];
        let slow: Alternatives = vec![(Test::Always, Some(Cmd::new("sleep").arg("30")))];
        let after: Alternatives = vec![(Test::Always, Some(Cmd::new("echo").arg("late")))];
        let started = std::time::Instant::now();
        let kept = run_reads_local(&[fast, none, quiet, slow, after], 1);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the section's bound did not hold"
        );
        assert_eq!(kept.len(), 1, "{kept:?}");
        let hi = &kept["sh -c 'echo hi; exit 3'"];
        assert_eq!((hi.status, hi.stdout_text().as_str()), (Some(3), "hi\n"));
    }

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/captured/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
    }

    fn ok(stdout: impl Into<Vec<u8>>) -> Output {
        Fake::output(0, stdout, "")
    }

    /// A fake host answering its facts batch with `parts` (in the batch's order), and
    /// nothing else but `fake`'s canned outputs.
    fn batch_host(fake: Fake, parts: Vec<Output>) -> (Arc<Fake>, HostHandle) {
        let fake = Arc::new(fake.responding(move |cmd| {
            let script = cmd.arguments().get(1).filter(|_| cmd.program() == "sh")?;
            Batch::replay(script, &parts)
        }));
        (fake.clone(), HostHandle::new(Host::local("web1"), fake))
    }

    #[tokio::test]
    async fn the_batch_fills_the_planned_facts_in_one_command_and_a_failed_part_is_read_alone() {
        let t = Duration::from_secs(5);
        let (fake, host) = batch_host(
            Fake::new().on_cmd(&ports::command(), ok(fixture("lab/ss-ltn-web1.txt"))),
            vec![
                ok(fixture("rhel9/platform.txt")),
                Fake::output(127, "", "sh: ss: not found\n"),
                ok(fixture("lab/ps-web1.txt")),
            ],
        );
        super::super::of(&host).plan([Fact::Processes, Fact::Ports, Fact::Platform]);
        let procs = super::super::processes(&host, t).await.expect("from the batch");
        assert!(process::named(&procs, "nginx").count() > 0);
        assert!(
            super::super::platform(&host, t)
                .await
                .expect("from the batch")
                .systemd_booted
        );
        assert_eq!(fake.ran().len(), 1, "one command for the three facts: {:?}", fake.ran());
        assert!(fake.ran()[0].starts_with("sh -c "), "{:?}", fake.ran());
        // The ports part failed: the fact is read by its own command, as without the batch.
        let ports = super::super::ports(&host, t).await.expect("read alone");
        assert_eq!(ports.len(), 4);
        assert_eq!(&fake.ran()[1..], ["ss -ltn"]);
        assert!(fake.unexpected().is_empty(), "{:?}", fake.unexpected());
    }

    #[tokio::test]
    async fn a_step_s_read_is_answered_from_the_batch_and_not_sent_again() {
        let t = Duration::from_secs(5);
        let stat = file::stat_command("/etc/app.conf");
        let (fake, host) = batch_host(
            Fake::new(),
            vec![ok("0\n1700000000\n0|root|0|root|644|1699990000|120|regular file\n")],
        );
        super::super::of(&host).plan_read(Fact::FileStat, &["/etc/app.conf".to_string()]);
        let out = super::super::read(&host, &stat, t).await.expect("from the batch");
        assert_eq!(
            out.stdout_text(),
            "1700000000\n0|root|0|root|644|1699990000|120|regular file\n"
        );
        assert_eq!(fake.ran().len(), 1);
        assert!(fake.ran()[0].contains("stat -L"), "the batch runs the step's command");
        // A command the batch did not run goes to the host, and an unexpected one fails loudly.
        let other = file::stat_command("/etc/other.conf");
        let err = super::super::read(&host, &other, t).await.expect_err("not canned");
        assert!(
            err.to_string().starts_with("fake transport: unexpected command: sh -c"),
            "{err}"
        );
    }
}
