//! Consistency steps: the same command output, or the same file, on every host of a group,
//! to spot the server that is out of whack. Hosts are asked concurrently; the failure
//! groups hosts by value (`web1, web2: "3f2a…"; web3: "9c1e…"`) and names the odd ones out
//! (the hosts outside the largest group, when one group is larger than every other; one
//! against one blames neither). A host that cannot be asked is not a difference: the step
//! could not check it (see [`judge`]). The MySQL table step judges its checksums here too.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Args, Lane, Outcome, StepCtx, StepDef, StepError, StepOutput};
use crate::host::HostHandle;
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
        doc: "Runs the command line with `sh -c` on every host of the group (a group, host name or glob, as `@hosts:`) at once and compares their standard output (trailing whitespace ignored); a host where it exits non-zero has that as its value. The failure groups hosts by value and names the odd ones out: `web1, web2: \"3f2a…\"; web3: \"9c1e…\"; odd one out: web3` (one against one blames neither: `no majority`). A host that cannot be reached is not a difference: with no host reached, or the others agreeing, the step could not check, naming each host and why.",
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
        doc: "`sha256sum FILE` on every host of the group at once (only the checksum comes back); a missing file counts as its own value. The failure groups hosts by checksum and names the odd ones out, as above; unreachable hosts as above.",
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

/// One host's answer to a "same on all hosts" step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// A value to compare.
    Value(String),
    /// An answer that fails the step even when every host gives it (a non-zero exit, a
    /// missing file or table), compared like a value.
    Failing(String),
    /// No answer: the host could not be asked (unreachable, MySQL refused the login). It
    /// is neither the same nor different: the step could not check it.
    NoAnswer(String),
}

/// Turns what a host's command did into its answer.
type Value = fn(Result<Output, TransportError>) -> Said;

fn output_value(r: Result<Output, TransportError>) -> Said {
    match r {
        Ok(o) if o.success() => Said::Value(o.stdout_text().trim_end().to_string()),
        Ok(o) => Said::Failing(format!(
            "exit {}: {}",
            o.status.map(|s| s.to_string()).unwrap_or_else(|| "signal".into()),
            o.stderr_text().trim()
        )),
        Err(e) => Said::NoAnswer(e.to_string()),
    }
}

fn checksum_value(r: Result<Output, TransportError>) -> Said {
    match r {
        Ok(o) if o.success() => Said::Value(o.stdout_text().split_whitespace().next().unwrap_or("").to_string()),
        Ok(o) if o.stderr_text().contains("No such file") => Said::Failing("missing".into()),
        Ok(o) => Said::Failing(format!("error: {}", o.stderr_text().trim())),
        Err(e) => Said::NoAnswer(e.to_string()),
    }
}

/// A host's name and its answer.
pub type Answer = (String, Said);

/// Asks every host of `group` at once; answers in the group's host order.
async fn ask(ctx: &StepCtx, group: &str, cmd: Cmd, value: Value) -> Result<Vec<Answer>, StepError> {
    let hosts: Vec<Arc<HostHandle>> = ctx.pool.select(group).map_err(StepError::Other)?;
    let t = ctx.step_timeout;
    let answers = futures::future::join_all(hosts.iter().map(|h| crate::facts::read(h, &cmd, t))).await;
    Ok(hosts
        .iter()
        .zip(answers)
        .map(|(h, r)| (h.host.name.clone(), value(r)))
        .collect())
}

/// Hosts grouped by value, largest group first (ties in host order).
pub fn group_by_value<V: PartialEq + Clone>(answers: &[(String, V)]) -> Vec<(V, Vec<String>)> {
    let mut groups: Vec<(V, Vec<String>)> = Vec::new();
    for (host, value) in answers {
        match groups.iter_mut().find(|(v, _)| v == value) {
            Some((_, hosts)) => hosts.push(host.clone()),
            None => groups.push((value.clone(), vec![host.clone()])),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.1.len()));
    groups
}

/// An answer as shown in a failure: a value cut to [`SHOWN`] characters and quoted (when
/// two different values would look the same, a short hash of each is added); a failing
/// answer in full, since it says why.
fn shown(said: &Said, all: &[(Said, Vec<String>)]) -> String {
    let value = match said {
        Said::Value(v) => v,
        Said::Failing(why) | Said::NoAnswer(why) => return why.clone(),
    };
    let cut = |v: &str| {
        let first = v.lines().next().unwrap_or("");
        if first.chars().count() > SHOWN || v.lines().count() > 1 {
            format!("{}…", first.chars().take(SHOWN).collect::<String>())
        } else {
            first.to_string()
        }
    };
    let mine = cut(value);
    let lookalike = all
        .iter()
        .any(|(v, _)| matches!(v, Said::Value(v) if v != value && cut(v) == mine));
    if lookalike {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        format!("{mine:?} (#{:08x})", h.finish() as u32)
    } else {
        format!("{mine:?}")
    }
}

/// The verdict on the hosts' answers. Every host says the same value: passed. Hosts that
/// answered differently: failed, listing each value with its hosts; the hosts outside the
/// largest group are named the odd ones out only when that group is larger than every
/// other (one against one blames neither: `no majority`). A host that could not be asked
/// is not a difference: when no host answered, or the ones that did agree, the step could
/// not check (an error naming each host and why).
pub fn judge(what: &str, group: &str, answers: &[Answer]) -> StepOutput {
    let expected = format!("{what} the same on all hosts in group {group}");
    let (silent, spoke): (Vec<&Answer>, Vec<&Answer>) =
        answers.iter().partition(|(_, s)| matches!(s, Said::NoAnswer(_)));
    let unasked: Vec<String> = silent.iter().map(|(h, s)| format!("{h}: {}", shown(s, &[]))).collect();
    if spoke.is_empty() {
        return Err(StepError::Other(format!(
            "no host of group {group} could be asked: {}",
            unasked.join("; ")
        )));
    }
    let spoke: Vec<Answer> = spoke.into_iter().cloned().collect();
    let failing = spoke.iter().any(|(_, s)| matches!(s, Said::Failing(_)));
    let groups = group_by_value(&spoke);
    let listed: Vec<String> = groups
        .iter()
        .map(|(v, hosts)| format!("{}: {}", hosts.join(", "), shown(v, &groups)))
        .collect();
    if groups.len() == 1 && !failing {
        let (value, hosts) = &groups[0];
        let value = shown(value, &groups);
        if silent.is_empty() {
            return Ok(Outcome::pass(
                expected,
                format!("the same on all {} hosts: {value}", hosts.len()),
            ));
        }
        let names: Vec<&str> = silent.iter().map(|(h, _)| h.as_str()).collect();
        let reasons: Vec<String> = silent.iter().map(|(_, s)| shown(s, &[])).collect();
        let agree = match hosts.len() {
            1 => format!("{} answered", hosts[0]),
            _ => format!("{} agree", hosts.join(", ")),
        };
        return Err(StepError::Other(format!(
            "{} could not be asked ({}); {agree}: {value}",
            names.join(", "),
            reasons.join("; "),
        )));
    }
    let not_asked = if unasked.is_empty() {
        String::new()
    } else {
        format!("; could not be asked: {}", unasked.join("; "))
    };
    if groups.len() == 1 {
        return Ok(Outcome::fail(
            expected,
            format!("no host has a value: {}{not_asked}", listed.join("; ")),
        ));
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
    Ok(Outcome::fail(
        expected,
        format!("{}; {odd}{not_asked}", listed.join("; ")),
    ))
}

fn output_same(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (line, group) = (a.get(0), a.get(1));
        // The command steps' argument IS a shell command line (STEPS.md).
        let answers = ask(ctx, group, Cmd::shell(line), output_value).await?;
        judge(&format!("output of `{line}`"), group, &answers)
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
        judge(&format!("file {path}"), group, &answers)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(v: &[(&str, &str)]) -> Vec<Answer> {
        v.iter()
            .map(|(h, x)| {
                let said = match *x {
                    "missing" => Said::Failing(x.to_string()),
                    x if x.starts_with("unreachable") => Said::NoAnswer(x.to_string()),
                    x => Said::Value(x.to_string()),
                };
                (h.to_string(), said)
            })
            .collect()
    }

    fn found(o: StepOutput) -> String {
        o.expect("checked").found
    }

    #[test]
    fn missing_everywhere_fails_and_missing_somewhere_is_odd() {
        let o = judge("file /x", "web", &answers(&[("web1", "missing"), ("web2", "missing")])).unwrap();
        assert!(!o.passed);
        assert_eq!(o.found, "no host has a value: web1, web2: missing");
        let o = judge(
            "file /x",
            "web",
            &answers(&[("web1", "3f2a"), ("web2", "missing"), ("web3", "3f2a")]),
        );
        assert_eq!(found(o), "web1, web3: \"3f2a\"; web2: missing; odd one out: web2");
    }

    #[test]
    fn all_the_same_passes() {
        let o = judge(
            "file /etc/app.conf",
            "web",
            &answers(&[("web1", "3f2a"), ("web2", "3f2a")]),
        )
        .unwrap();
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
        let o = judge("file /etc/app.conf", "web", &a).unwrap();
        assert!(!o.passed);
        assert_eq!(
            o.found,
            "web1, web3: \"3f2a9c1e0b7d3f2a9c1e0b7d…\"; web2: \"9c1e0b7d\"; odd one out: web2"
        );
    }

    #[test]
    fn a_tie_has_no_majority_and_lookalikes_get_a_hash() {
        let a = answers(&[("db1", "x".repeat(30).as_str()), ("db2", &("x".repeat(30) + "y"))]);
        let o = found(judge("output of `uname -r`", "db", &a));
        assert!(o.ends_with("no majority"), "{o}");
        assert!(o.contains("(#"), "{o}");
        // One against one: both values, neither host blamed.
        let o = found(judge("file /x", "db", &answers(&[("db1", "11"), ("db2", "22")])));
        assert_eq!(o, "db1: \"11\"; db2: \"22\"; no majority");
    }

    #[test]
    fn a_host_that_cannot_be_asked_is_not_a_difference() {
        let none = judge(
            "file /x",
            "db",
            &answers(&[("db1", "unreachable: refused"), ("db2", "unreachable: timed out")]),
        );
        assert_eq!(
            none.unwrap_err().to_string(),
            "no host of group db could be asked: db1: unreachable: refused; db2: unreachable: timed out"
        );
        let rest_agree = judge(
            "file /x",
            "web",
            &answers(&[("web1", "11"), ("web2", "unreachable: refused"), ("web3", "11")]),
        );
        assert_eq!(
            rest_agree.unwrap_err().to_string(),
            "web2 could not be asked (unreachable: refused); web1, web3 agree: \"11\""
        );
        let rest_differ = found(judge(
            "file /x",
            "web",
            &answers(&[("web1", "11"), ("web2", "unreachable: refused"), ("web3", "22")]),
        ));
        assert_eq!(
            rest_differ,
            "web1: \"11\"; web3: \"22\"; no majority; could not be asked: web2: unreachable: refused"
        );
    }

    #[test]
    fn values_of_answers() {
        let ok = Output {
            status: Some(0),
            stdout: b"3f2a  /etc/app.conf\n".to_vec(),
            stderr: vec![],
        };
        assert_eq!(checksum_value(Ok(ok.clone())), Said::Value("3f2a".into()));
        assert_eq!(output_value(Ok(ok)), Said::Value("3f2a  /etc/app.conf".into()));
        let missing = Output {
            status: Some(1),
            stdout: vec![],
            stderr: b"sha256sum: /x: No such file or directory".to_vec(),
        };
        assert_eq!(checksum_value(Ok(missing)), Said::Failing("missing".into()));
    }
}
