//! Host-state steps that are not files or packages: processes (a measured count), listening
//! ports, users and groups (`getent`), kernel parameters (`sysctl -n`).

use futures::future::BoxFuture;

use super::{host, name_ok};
use crate::facts::{self, process};
use crate::steps::expect::excerpt;
use crate::steps::{Args, Measurement, Outcome, StepCtx, StepOutput};
use crate::transport::Cmd;

pub(super) fn check_count(args: &[String]) -> Result<(), String> {
    match args.first().and_then(|n| n.parse::<i64>().ok()) {
        Some(n) if n >= 1 => Ok(()),
        _ => Err(format!(
            "at least {} processes: give a count of at least 1",
            args.first().map(String::as_str).unwrap_or("")
        )),
    }
}

pub(super) fn check_port(args: &[String]) -> Result<(), String> {
    match args.first().and_then(|p| p.parse::<u16>().ok()) {
        Some(p) if p > 0 => Ok(()),
        _ => Err(format!(
            "port {} is not between 1 and 65535",
            args.first().map(String::as_str).unwrap_or("")
        )),
    }
}

/// Lint: a sysctl name (`net.core.somaxconn`, `kernel/pid_max`).
pub(super) fn check_sysctl(args: &[String]) -> Result<(), String> {
    let name = args.first().map(String::as_str).unwrap_or("");
    let ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        && !name.contains("..");
    if ok || name.contains('{') {
        Ok(())
    } else {
        Err(format!(
            "\"{name}\" is not a kernel parameter name (like net.core.somaxconn)"
        ))
    }
}

/// Counts the live processes named `name`, with the failure's hints.
async fn count(ctx: &StepCtx, name: &str) -> Result<(usize, String), crate::steps::StepError> {
    let (host, t) = host(ctx)?;
    let procs = facts::processes(&host, t).await?;
    let pids: Vec<String> = process::named(&procs, name).map(|p| p.pid.to_string()).collect();
    let found = if pids.is_empty() {
        let similar: Vec<String> = process::similar(&procs, name)
            .iter()
            .map(|(n, c)| format!("{n} ×{c}"))
            .collect();
        if similar.is_empty() {
            format!("no process named {name}")
        } else {
            format!("no process named exactly {name} (similar: {})", similar.join(", "))
        }
    } else {
        format!(
            "{} processes named {name} (pids {})",
            pids.len(),
            excerpt(&pids.join(" ")).trim_matches('"')
        )
    };
    Ok((pids.len(), found))
}

pub(super) fn process_running(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let name = a.get(0);
        let (n, found) = count(ctx, name).await?;
        Ok(Outcome::check(n > 0, format!("a process named {name}"), found))
    })
}

pub(super) fn processes_at_least(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let min = a.int(0)?;
        let name = a.get(1);
        let (n, found) = count(ctx, name).await?;
        let m = Measurement {
            label: format!("processes {name}"),
            value: n as f64,
            unit: String::new(),
            warn: None,
            crit: Some(crate::steps::Range::at_least(min as f64)),
        };
        Ok(Outcome::check(n as i64 >= min, format!("at least {min} processes named {name}"), found).with(m))
    })
}

async fn listening(ctx: &StepCtx, port: u16, want: bool) -> StepOutput {
    let (host, t) = host(ctx)?;
    let all = facts::ports(&host, t).await?;
    let on: Vec<String> = all.iter().filter(|l| l.port == port).map(ToString::to_string).collect();
    let expected = format!("TCP port {port} {}listening", if want { "" } else { "not " });
    let found = if on.is_empty() {
        let mut ports: Vec<u16> = all.iter().map(|l| l.port).collect();
        ports.sort_unstable();
        ports.dedup();
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        format!("nothing listens on {port} (listening: {})", ports.join(", "))
    } else {
        format!("listening on {}", on.join(", "))
    };
    Ok(Outcome::check(on.is_empty() != want, expected, found))
}

pub(super) fn port_listening(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let port = a
            .get(0)
            .parse()
            .map_err(|_| crate::steps::StepError::Other(format!("bad port {}", a.get(0))))?;
        listening(ctx, port, true).await
    })
}

pub(super) fn port_not_listening(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let port = a
            .get(0)
            .parse()
            .map_err(|_| crate::steps::StepError::Other(format!("bad port {}", a.get(0))))?;
        listening(ctx, port, false).await
    })
}

/// `getent DB NAME`: the entry's fields, `None` when there is no such entry.
async fn getent(
    ctx: &StepCtx,
    db: &str,
    name: &str,
) -> Result<Result<Option<Vec<String>>, String>, crate::steps::StepError> {
    let (host, t) = host(ctx)?;
    let out = crate::facts::read(&host, &Cmd::new("getent").args([db, name]), t).await?;
    Ok(match out.status {
        Some(0) => Ok(out
            .stdout_text()
            .lines()
            .next()
            .map(|l| l.split(':').map(str::to_string).collect())),
        Some(2) => Ok(None),
        _ => Err(format!(
            "getent {db} {name} failed: {}",
            excerpt(out.stderr_text().trim())
        )),
    })
}

pub(super) fn user_exists(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let name = a.get(0);
        let expected = format!("user {name}");
        if let Err(e) = name_ok(name) {
            return Ok(Outcome::fail(expected, e));
        }
        Ok(match getent(ctx, "passwd", name).await? {
            Ok(Some(f)) if f.len() >= 7 => {
                Outcome::pass(expected, format!("uid {}, home {}, shell {}", f[2], f[5], f[6]))
            }
            Ok(_) => Outcome::fail(expected, format!("no user {name} (getent passwd)")),
            Err(why) => Outcome::fail(expected, why),
        })
    })
}

pub(super) fn group_exists(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let name = a.get(0);
        let expected = format!("group {name}");
        if let Err(e) = name_ok(name) {
            return Ok(Outcome::fail(expected, e));
        }
        Ok(match getent(ctx, "group", name).await? {
            Ok(Some(f)) if f.len() >= 4 => {
                let members = if f[3].is_empty() {
                    "no members".to_string()
                } else {
                    format!("members {}", f[3])
                };
                Outcome::pass(expected, format!("gid {}, {members}", f[2]))
            }
            Ok(_) => Outcome::fail(expected, format!("no group {name} (getent group)")),
            Err(why) => Outcome::fail(expected, why),
        })
    })
}

/// Runs of spaces and tabs as one space, ends trimmed.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn kernel_parameter(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (name, want) = (a.get(0), a.get(1));
        let expected = format!("kernel parameter {name} = {want:?}");
        if let Err(e) = check_sysctl(&a.values) {
            return Ok(Outcome::fail(expected, e));
        }
        let (host, t) = host(ctx)?;
        let mut out = crate::facts::read(&host, &Cmd::new("sysctl").args(["-n", name]), t).await?;
        if out.status == Some(127) {
            let path = format!("/proc/sys/{}", name.replace('.', "/"));
            out = crate::facts::read(&host, &Cmd::new("cat").arg(path), t).await?;
        }
        if !out.success() {
            return Ok(Outcome::fail(
                expected,
                format!("cannot read it: {}", excerpt(out.stderr_text().trim())),
            ));
        }
        let have = squash(&out.stdout_text());
        Ok(Outcome::check(have == squash(want), expected, format!("{have:?}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let s = |v: &str| vec![v.to_string()];
        assert!(check_sysctl(&s("net.core.somaxconn")).is_ok());
        assert!(check_sysctl(&s("-a")).is_err());
        assert!(check_sysctl(&s("../../etc/shadow")).is_err());
        assert!(check_port(&s("0")).is_err());
        assert!(check_port(&s("80")).is_ok());
        assert!(check_count(&s("0")).is_err());
        assert_eq!(squash(" 32768\t60999\n"), "32768 60999");
    }
}
