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
use std::time::Duration;

use super::fact::{Fact, WholeHost};
use super::reads::{Alternatives, reads_of};
use super::service;
use crate::host::HostHandle;
use crate::transport::{Batch, Output, chosen, first_of};

/// Reads the host's planned facts in one command and fills their cells (the ones whose
/// part succeeded) and the outputs kept for steps' reads. Returns at once when nothing is planned; a
/// transport error leaves every fact to its own read.
pub(crate) async fn run(host: &HostHandle, timeout: Duration) {
    let mut wanted: BTreeSet<Fact> = super::of(host).planned();
    let needed: Vec<Fact> = wanted
        .iter()
        .filter_map(|f| f.host_fact())
        .flat_map(|f| f.needs().iter().copied())
        .collect();
    wanted.extend(needed);
    let facts: Vec<&dyn WholeHost> = wanted.into_iter().filter_map(Fact::host_fact).collect();
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
    for (fact, part) in facts.iter().zip(parts) {
        if part.status == Some(0) {
            fact.fill(&part.stdout_text(), f);
        }
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
    use std::sync::Arc;

    use super::super::{PackageManager, file, platform, ports, process};
    use super::*;
    use crate::inventory::Host;
    use crate::transport::{Cmd, Fake, Test, sh};

    #[test]
    fn the_package_part_picks_the_manager_the_platform_would() {
        let part = Fact::Packages.host_fact().expect("a whole-host fact").part();
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
            "systemctl show --property=Id,LoadState,ActiveState,SubState,UnitFileState,TriggeredBy -- cron"
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
    async fn with_become_the_batch_is_one_sudo_not_one_per_fact() {
        let t = Duration::from_secs(5);
        let parts = vec![
            ok(fixture("rhel9/platform.txt")),
            ok(fixture("lab/ss-ltn-web1.txt")),
            ok(fixture("lab/ps-web1.txt")),
        ];
        let fake = Arc::new(Fake::new().responding(move |cmd| {
            // sudo -n -u root -- sh -c MARK sh sh -c SCRIPT (the mark: transport/become.rs)
            let a = cmd.arguments();
            let sudo = cmd.program() == "sudo" && a.len() == 11 && a[..4] == ["-n", "-u", "root", "--"];
            let script = a.get(10).filter(|_| sudo && a[8..10] == ["sh", "-c"])?;
            let mut out = Batch::replay(script, &parts)?;
            out.stderr
                .splice(0..0, b"shakedown: become started the command\n".iter().copied());
            Some(out)
        }));
        let mut web1 = Host::local("web1");
        web1.become_as = Some(crate::inventory::Become {
            method: crate::inventory::BecomeMethod::Sudo,
            user: "root".into(),
            password: None,
        });
        let host = HostHandle::new(web1.clone(), crate::transport::Become::wrap(fake.clone(), &web1));
        super::super::of(&host).plan([Fact::Processes, Fact::Ports, Fact::Platform]);
        let procs = super::super::processes(&host, t).await.expect("from the batch");
        assert!(process::named(&procs, "nginx").count() > 0);
        assert_eq!(super::super::ports(&host, t).await.expect("from the batch").len(), 4);
        assert_eq!(fake.ran().len(), 1, "one sudo for the three facts: {:?}", fake.ran());
        assert!(
            fake.ran()[0].starts_with("sudo -n -u root -- sh -c "),
            "{:?}",
            fake.ran()
        );
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
