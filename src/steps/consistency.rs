//! Consistency steps: the same command output, or the same file, on every host of a group,
//! to spot the server that is out of whack. Hosts are asked concurrently; the failure
//! groups hosts by value (`web1, web2: "3f2a…"; web3: "9c1e…"`) and names the odd ones out
//! (the hosts outside the largest group, when one group is larger than every other).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Args, Lane, Outcome, StepCtx, StepDef, StepError, StepOutput};
use crate::runner::hosts::HostHandle;
use crate::transport::{Cmd, Output, TransportError};

const MODULE: &str = "src/steps/consistency.rs";

/// The longest value shown whole in a failure; longer ones are cut with `…`.
const SHOWN: usize = 24;

/// The consistency family.
pub const STEPS: &[StepDef] = &[
    StepDef {
        line: line!(),
        sentence: "the output of {string} should be the same on all hosts in group {group}",
        example: r#"Then the output of "md5sum /etc/app.conf" should be the same on all hosts in group "web""#,
        doc: "Runs the command line with `sh -c` on every host of the group (a group, host name or glob, as `@hosts:`) at once and compares their standard output (trailing whitespace ignored); a host where it exits non-zero or cannot be reached has that as its value. The failure groups hosts by value and names the odd ones out: `web1, web2: \"3f2a…\"; web3: \"9c1e…\"; odd one out: web3`.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: false,
        check: None,
        run: output_same,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should be the same on all hosts in group {group}",
        example: r#"Then the file "/etc/app.conf" should be the same on all hosts in group "web""#,
        doc: "`sha256sum FILE` on every host of the group at once (only the checksum comes back); a missing file counts as its own value. The failure groups hosts by checksum and names the odd ones out.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: false,
        check: Some(check_file),
        run: file_same,
    },
];

fn check_file(args: &[String]) -> Result<(), String> {
    match args.first() {
        Some(p) if p.starts_with('/') || p.starts_with('{') => Ok(()),
        p => Err(format!(
            "\"{}\" is not an absolute path (start it with /)",
            p.map(String::as_str).unwrap_or("")
        )),
    }
}

/// A host's answer as a comparable value; `Err` when the host gave none (the command
/// failed, the file is missing, the host cannot be reached), which fails the step even
/// when every host says the same.
type Value = fn(Result<Output, TransportError>) -> Result<String, String>;

fn output_value(r: Result<Output, TransportError>) -> Result<String, String> {
    match r {
        Ok(o) if o.success() => Ok(o.stdout_text().trim_end().to_string()),
        Ok(o) => Err(format!(
            "exit {}: {}",
            o.status.map(|s| s.to_string()).unwrap_or_else(|| "signal".into()),
            o.stderr_text().trim()
        )),
        Err(e) => Err(format!("error: {e}")),
    }
}

fn checksum_value(r: Result<Output, TransportError>) -> Result<String, String> {
    match r {
        Ok(o) if o.success() => Ok(o.stdout_text().split_whitespace().next().unwrap_or("").to_string()),
        Ok(o) if o.stderr_text().contains("No such file") => Err("missing".into()),
        Ok(o) => Err(format!("error: {}", o.stderr_text().trim())),
        Err(e) => Err(format!("error: {e}")),
    }
}

/// A host's name and its answer.
type Answer = (String, Result<String, String>);

/// Asks every host of `group` at once; answers in the group's host order.
async fn ask(ctx: &StepCtx, group: &str, cmd: Cmd, value: Value) -> Result<Vec<Answer>, StepError> {
    let hosts: Vec<Arc<HostHandle>> = ctx.pool.select(group).map_err(StepError::Other)?;
    let t = ctx.step_timeout;
    let answers = futures::future::join_all(hosts.iter().map(|h| h.run(&cmd, t))).await;
    Ok(hosts
        .iter()
        .zip(answers)
        .map(|(h, r)| (h.host.name.clone(), value(r)))
        .collect())
}

/// Hosts grouped by value, largest group first (ties in host order).
pub fn group_by_value(answers: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (host, value) in answers {
        match groups.iter_mut().find(|(v, _)| v == value) {
            Some((_, hosts)) => hosts.push(host.clone()),
            None => groups.push((value.clone(), vec![host.clone()])),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
    groups
}

/// A value as shown in a failure: cut to [`SHOWN`] characters; when two different values
/// would look the same, a short hash of each is added.
fn shown(value: &str, all: &[(String, Vec<String>)]) -> String {
    let cut = |v: &str| {
        let first = v.lines().next().unwrap_or("");
        if first.chars().count() > SHOWN || v.lines().count() > 1 {
            format!("{}…", first.chars().take(SHOWN).collect::<String>())
        } else {
            first.to_string()
        }
    };
    let mine = cut(value);
    if all.iter().any(|(v, _)| v != value && cut(v) == mine) {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        format!("{mine:?} (#{:08x})", h.finish() as u32)
    } else {
        format!("{mine:?}")
    }
}

/// The verdict on the hosts' answers.
pub fn judge(what: &str, group: &str, answers: &[Answer]) -> Outcome {
    let expected = format!("{what} the same on all hosts in group {group}");
    let failed = answers.iter().any(|(_, v)| v.is_err());
    let answers: Vec<(String, String)> = answers
        .iter()
        .map(|(h, v)| (h.clone(), v.clone().unwrap_or_else(|e| e)))
        .collect();
    let groups = group_by_value(&answers);
    if groups.len() <= 1 && !failed {
        let value = groups.first().map(|(v, _)| shown(v, &groups)).unwrap_or_default();
        return Outcome::pass(expected, format!("the same on all {} hosts: {value}", answers.len()));
    }
    let listed: Vec<String> = groups
        .iter()
        .map(|(v, hosts)| format!("{}: {}", hosts.join(", "), shown(v, &groups)))
        .collect();
    if groups.len() == 1 {
        return Outcome::fail(expected, format!("no answer from any host: {}", listed.join("; ")));
    }
    let odd = if groups[0].1.len() > groups[1].1.len() {
        let odd: Vec<&str> = groups[1..]
            .iter()
            .flat_map(|(_, h)| h.iter().map(String::as_str))
            .collect();
        format!(
            "odd one{} out: {}",
            if odd.len() > 1 { "s" } else { "" },
            odd.join(", ")
        )
    } else {
        "no majority".to_string()
    };
    Outcome::fail(expected, format!("{}; {odd}", listed.join("; ")))
}

fn output_same(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (line, group) = (a.get(0), a.get(1));
        // The command steps' argument IS a shell command line (STEPS.md).
        let answers = ask(ctx, group, Cmd::shell(line), output_value).await?;
        Ok(judge(&format!("output of `{line}`"), group, &answers))
    })
}

fn file_same(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, group) = (a.get(0), a.get(1));
        if let Err(e) = check_file(&a.values) {
            return Ok(Outcome::fail(
                format!("{path} the same on all hosts in group {group}"),
                e,
            ));
        }
        let answers = ask(ctx, group, Cmd::new("sha256sum").args(["--", path]), checksum_value).await?;
        Ok(judge(&format!("file {path}"), group, &answers))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(v: &[(&str, &str)]) -> Vec<Answer> {
        v.iter()
            .map(|(h, x)| {
                (
                    h.to_string(),
                    if *x == "missing" {
                        Err(x.to_string())
                    } else {
                        Ok(x.to_string())
                    },
                )
            })
            .collect()
    }

    #[test]
    fn missing_everywhere_fails_and_missing_somewhere_is_odd() {
        let o = judge("file /x", "web", &answers(&[("web1", "missing"), ("web2", "missing")]));
        assert!(!o.passed);
        assert_eq!(o.found, "no answer from any host: web1, web2: \"missing\"");
        let o = judge(
            "file /x",
            "web",
            &answers(&[("web1", "3f2a"), ("web2", "missing"), ("web3", "3f2a")]),
        );
        assert_eq!(o.found, "web1, web3: \"3f2a\"; web2: \"missing\"; odd one out: web2");
    }

    #[test]
    fn all_the_same_passes() {
        let o = judge(
            "file /etc/app.conf",
            "web",
            &answers(&[("web1", "3f2a"), ("web2", "3f2a")]),
        );
        assert!(o.passed);
        assert_eq!(o.found, "the same on all 2 hosts: \"3f2a\"");
    }

    #[test]
    fn the_odd_one_out_is_named() {
        let a = answers(&[
            ("web1", "3f2a9c1e0b7d3f2a9c1e0b7d3f2a9c1e0b7d"),
            ("web2", "9c1e0b7d"),
            ("web3", "3f2a9c1e0b7d3f2a9c1e0b7d3f2a9c1e0b7d"),
        ]);
        let o = judge("file /etc/app.conf", "web", &a);
        assert!(!o.passed);
        assert_eq!(
            o.found,
            "web1, web3: \"3f2a9c1e0b7d3f2a9c1e0b7d…\"; web2: \"9c1e0b7d\"; odd one out: web2"
        );
    }

    #[test]
    fn a_tie_has_no_majority_and_lookalikes_get_a_hash() {
        let a = answers(&[("db1", "x".repeat(30).as_str()), ("db2", &("x".repeat(30) + "y"))]);
        let o = judge("output of `uname -r`", "db", &a);
        assert!(o.found.ends_with("no majority"), "{}", o.found);
        assert!(o.found.contains("(#"), "{}", o.found);
    }

    #[test]
    fn values_of_answers() {
        let ok = Output {
            status: Some(0),
            stdout: b"3f2a  /etc/app.conf\n".to_vec(),
            stderr: vec![],
        };
        assert_eq!(checksum_value(Ok(ok.clone())), Ok("3f2a".into()));
        assert_eq!(output_value(Ok(ok)), Ok("3f2a  /etc/app.conf".into()));
        let missing = Output {
            status: Some(1),
            stdout: vec![],
            stderr: b"sha256sum: /x: No such file or directory".to_vec(),
        };
        assert_eq!(checksum_value(Ok(missing)), Err("missing".into()));
    }
}
