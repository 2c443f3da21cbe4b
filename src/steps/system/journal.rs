//! systemd's own view of a host: no unit failed (`systemctl list-units --state=failed`), and
//! a unit's journal holding (or not) a pattern within the last N minutes (`journalctl -u`,
//! bounded in lines, bytes and time). Both need systemd as PID 1: on other hosts they fail
//! saying so, without sending anything (the platform fact tells).

use futures::future::BoxFuture;

use super::host;
use crate::facts::{self, service::check_service_name};
use crate::steps::expect::{self, excerpt};
use crate::steps::{Args, Outcome, StepCtx, StepOutput};
use crate::transport::{Cmd, Output, script};

/// At most this many journal lines are read (the newest of the window).
const JOURNAL_LINES: usize = 10_000;

/// Whether this user may read the system journal (`journal readable: yes|no|none` on
/// stderr: journalctl itself says nothing with `--output=cat` and shows such a user only
/// their own messages, an empty journal), then `journalctl` of unit `$1` since `$2` minutes
/// ago, newest [`JOURNAL_LINES`] messages only, at most 1 MiB of them; its exit status on
/// stderr after its messages (the pipe to `head` would hide it).
const JOURNAL: &str = r#"r=
for f in /run/log/journal/*/system.journal /var/log/journal/*/system.journal; do
  if [ -e "$f" ]; then r=${r:-no}; if [ -r "$f" ]; then r=yes; fi; fi
done
echo "journal readable: ${r:-none}" >&2
{ journalctl --unit="$1" --since="-$2min" --lines=10000 --output=cat --no-pager; echo "journalctl exit $?" >&2; } | head -c 1048576"#;

/// Lint: a unit name, a regex, a number of minutes that is at least 1.
pub(super) fn check_journal(args: &[String]) -> Result<(), String> {
    if let Some(n) = args.first().filter(|n| !n.contains('{')) {
        check_service_name(n)?;
    }
    expect::check_last_regex(&args[..args.len().min(2)])?;
    match args.get(2).map(|m| m.parse::<u32>()) {
        Some(Ok(0)) => Err("within the last 0 minutes is no time at all (give 1 or more)".into()),
        Some(Err(_)) => Err(format!("\"{}\" is not a number of minutes", args[2])),
        _ => Ok(()),
    }
}

/// Why systemd's view cannot be read on this host (systemd not PID 1), or `None`.
async fn no_systemd(ctx: &StepCtx, what: &str) -> Result<Option<String>, crate::steps::StepError> {
    let (host, t) = host(ctx)?;
    let p = facts::platform(&host, t).await?;
    Ok((!p.systemd_booted).then(|| {
        format!(
            "{what}: systemd is not PID 1 on {} (PID 1 is {})",
            host.host.name,
            if p.pid1.is_empty() { "unknown" } else { &p.pid1 }
        )
    }))
}

/// The failed units in `systemctl list-units --plain --no-legend` output.
pub(super) fn failed_units(text: &str) -> Vec<&str> {
    text.lines().filter_map(|l| l.split_whitespace().next()).collect()
}

pub(super) fn no_failed_units(ctx: &mut StepCtx, _a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let expected = "no failed systemd units".to_string();
        if let Some(why) = no_systemd(ctx, "no systemd units").await? {
            return Ok(Outcome::fail(expected, why));
        }
        let (host, t) = host(ctx)?;
        let cmd = Cmd::new("systemctl").args([
            "list-units",
            "--state=failed",
            "--all",
            "--plain",
            "--no-legend",
            "--full",
            "--no-pager",
        ]);
        let out = facts::read(&host, &cmd, t).await?;
        if !out.success() {
            return Ok(Outcome::fail(expected, said(&out)));
        }
        let text = out.stdout_text();
        let failed = failed_units(&text);
        Ok(match failed.len() {
            0 => Outcome::pass(expected, "none failed"),
            n => Outcome::fail(expected, format!("{n} failed: {}", failed.join(", "))),
        })
    })
}

fn said(out: &Output) -> String {
    let err = out.stderr_text();
    format!("{}: {}", crate::outcome::exit_status(out.status), excerpt(err.trim()))
}

async fn journal(ctx: &StepCtx, a: &Args, want: bool) -> StepOutput {
    let (unit, pattern, minutes) = (a.get(0), a.get(1), a.get(2));
    let expected = format!(
        "journal of {unit} {} /{pattern}/ within the last {minutes} minutes",
        if want { "containing" } else { "not containing" }
    );
    if let Err(e) = check_journal(&a.values) {
        return Ok(Outcome::fail(expected, e));
    }
    let re = expect::regex(pattern)?;
    if let Some(why) = no_systemd(ctx, "no journal").await? {
        return Ok(Outcome::fail(expected, why));
    }
    let (host, t) = host(ctx)?;
    let out = facts::read(&host, &script(JOURNAL, &[unit, minutes]), t).await?;
    let err = out.stderr_text();
    if err.contains("journal readable: none") {
        return Ok(Outcome::fail(
            expected,
            "no journal: no system journal file in /run/log/journal or /var/log/journal",
        ));
    }
    if err.contains("journal readable: no") {
        let user = host.host.user.as_deref().unwrap_or("this user");
        return Ok(Outcome::fail(
            expected,
            format!(
                "permission denied reading the journal of {unit} as {user}: journalctl shows {user} only its own messages (set become = true, or add {user} to group systemd-journal)"
            ),
        ));
    }
    if !err.contains("journalctl exit 0") {
        let why = err
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with("journal readable:"))
            .unwrap_or("no answer");
        return Ok(Outcome::fail(expected, format!("no journal: {}", excerpt(why.trim()))));
    }
    let text = out.stdout_text();
    let text = text.trim_end();
    let text = if text == "-- No entries --" { "" } else { text };
    let n = text.lines().count();
    let found = match re.find(text) {
        Some(m) => {
            let line = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
            let end = text[m.end()..].find('\n').map_or(text.len(), |i| m.end() + i);
            format!("matched in {}", excerpt(&text[line..end]))
        }
        None if n == 0 => format!("no messages of {unit} in the last {minutes} minutes"),
        None => format!(
            "no match in {n} messages{}; the last: {}",
            if n >= JOURNAL_LINES {
                format!(" (the newest {JOURNAL_LINES})")
            } else {
                String::new()
            },
            excerpt(text.lines().last().unwrap_or(""))
        ),
    };
    let matched = found.starts_with("matched");
    Ok(Outcome::check(matched == want, expected, found))
}

pub(super) fn journal_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { journal(ctx, &a, true).await })
}

pub(super) fn journal_not_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { journal(ctx, &a, false).await })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_units_of_list_units() {
        // captured on the lab's sd1
        let text = "lab-broken.service loaded failed failed Lab unit whose start fails\n";
        assert_eq!(failed_units(text), ["lab-broken.service"]);
        assert!(failed_units("").is_empty());
    }

    #[test]
    fn journal_arguments_are_checked() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(check_journal(&s(&["nginx", "GET /x", "10"])).is_ok());
        assert!(
            check_journal(&s(&["nginx", "GET /x", "0"]))
                .unwrap_err()
                .contains("1 or more")
        );
        assert!(check_journal(&s(&["x; rm -rf /", "a", "10"])).is_err());
        assert!(check_journal(&s(&["nginx", "(", "10"])).is_err());
        assert!(check_journal(&s(&["{unit}", "a", "10"])).is_ok());
    }
}
