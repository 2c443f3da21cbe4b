//! File steps: exists, not exists, directory, contains, matches, owner, mode, modified
//! within, last N lines match. One command per step (the `stat` and `grep -F` ones are
//! sent ahead in the host's facts batch, see `facts::prefetch`); nothing is read whole onto
//! this machine: `grep -F` runs on the host, regex checks bring back at most [`READ_LIMIT`].

use futures::future::BoxFuture;
use regex::bytes::RegexBuilder;

use super::{host, path_ok};
use crate::facts::file;
use crate::host::HostHandle;
use crate::steps::expect::{self, excerpt};
use crate::steps::{Args, Measurement, Outcome, StepCtx, StepError, StepOutput};
use crate::transport::script;
use crate::transport::{Cmd, Output};

/// At most this many bytes of a file are brought back for a regex check (1 MiB).
pub(super) const READ_LIMIT: usize = 1 << 20;

/// The last `$1` lines of file `$2`, at most 1 MiB of them (a missing file makes the
/// redirection, hence the shell, fail with exit 2).
const TAIL: &str = r#"exec <"$2" && tail -n "$1" | head -c 1048576"#;

/// What `stat` said about a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FileStat {
    /// Owner uid and name.
    pub uid: u32,
    /// Owner name (`UNKNOWN` when the uid has no name).
    pub user: String,
    /// Group name.
    pub group: String,
    /// Permission bits including setuid/setgid/sticky.
    pub mode: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// Size in bytes.
    pub size: u64,
    /// `regular file`, `directory`, `symbolic link`...
    pub kind: String,
}

/// Parses one line of `stat -c '%u|%U|%g|%G|%a|%Y|%s|%F'`.
pub(super) fn parse_stat(line: &str) -> Option<FileStat> {
    let f: Vec<&str> = line.trim_end().splitn(8, '|').collect();
    let [uid, user, _gid, group, mode, mtime, size, kind] = f.as_slice() else {
        return None;
    };
    Some(FileStat {
        uid: uid.parse().ok()?,
        user: user.to_string(),
        group: group.to_string(),
        mode: u32::from_str_radix(mode, 8).ok()?,
        mtime: mtime.parse().ok()?,
        size: size.parse().ok()?,
        kind: kind.to_string(),
    })
}

/// Parses a mode argument: 3 or 4 octal digits.
pub(super) fn parse_mode(text: &str) -> Result<u32, String> {
    let ok = (3..=4).contains(&text.len()) && text.chars().all(|c| ('0'..='7').contains(&c));
    if !ok {
        return Err(format!(
            "mode \"{text}\" is not 3 or 4 octal digits (like \"0644\" or \"755\")"
        ));
    }
    u32::from_str_radix(text, 8).map_err(|e| e.to_string())
}

pub(super) fn check_mode(args: &[String]) -> Result<(), String> {
    super::check_path(args)?;
    args.get(1).map(|m| parse_mode(m).map(|_| ())).unwrap_or(Ok(()))
}

pub(super) fn check_within(args: &[String]) -> Result<(), String> {
    super::check_path(args)?;
    expect::duration(args.get(1).map(String::as_str).unwrap_or("")).map(|_| ())
}

pub(super) fn check_last_lines(args: &[String]) -> Result<(), String> {
    match args.first().and_then(|n| n.parse::<i64>().ok()) {
        Some(n) if n >= 1 => {}
        _ => {
            return Err(format!(
                "\"{}\" lines: give a number of lines of at least 1",
                args.first().map(String::as_str).unwrap_or("")
            ));
        }
    }
    path_ok(args.get(1).map(String::as_str).unwrap_or(""))?;
    expect::check_last_regex(args)
}

/// A stat answer: the file, nothing there, or a failure in words.
enum Stat {
    Present(FileStat, i64),
    Missing,
    Unreadable(String),
}

async fn stat(ctx: &StepCtx, path: &str) -> Result<Stat, StepError> {
    path_ok(path).map_err(StepError::Other)?;
    let (host, t) = host(ctx)?;
    let out = crate::facts::read(&host, &file::stat_command(path), t).await?;
    let text = out.stdout_text();
    let mut lines = text.lines();
    let now = lines.next().and_then(|l| l.trim().parse::<i64>().ok());
    match (now, lines.next().and_then(parse_stat)) {
        (Some(now), Some(st)) if out.success() => Ok(Stat::Present(st, now)),
        _ if out.stderr_text().contains("No such file") => Ok(Stat::Missing),
        _ => Ok(Stat::Unreadable(format!(
            "stat failed: {}",
            excerpt(&out.stderr_text())
        ))),
    }
}

fn summary(st: &FileStat) -> String {
    format!(
        "{}, {} bytes, owner {}:{}, mode {:04o}",
        st.kind, st.size, st.user, st.group, st.mode
    )
}

/// Runs a per-file check: fails with what stat said when the file is missing or unreadable.
async fn with_stat(
    ctx: &StepCtx,
    path: &str,
    expected: String,
    check: impl FnOnce(&FileStat, i64, String) -> Outcome,
) -> StepOutput {
    if let Err(e) = path_ok(path) {
        return Ok(Outcome::fail(expected, e));
    }
    Ok(match stat(ctx, path).await? {
        Stat::Present(st, now) => check(&st, now, expected),
        Stat::Missing => Outcome::fail(expected, format!("no such file: {path}")),
        Stat::Unreadable(why) => Outcome::fail(expected, why),
    })
}

pub(super) fn file_exists(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let path = a.get(0);
        with_stat(ctx, path, format!("file {path} to exist"), |st, _, exp| {
            Outcome::check(st.kind != "directory", exp, summary(st))
        })
        .await
    })
}

pub(super) fn dir_exists(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let path = a.get(0);
        with_stat(ctx, path, format!("directory {path} to exist"), |st, _, exp| {
            Outcome::check(st.kind == "directory", exp, summary(st))
        })
        .await
    })
}

pub(super) fn file_absent(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let path = a.get(0);
        let expected = format!("nothing at {path}");
        if let Err(e) = path_ok(path) {
            return Ok(Outcome::fail(expected, e));
        }
        Ok(match stat(ctx, path).await? {
            Stat::Missing => Outcome::pass(expected, format!("no such file: {path}")),
            Stat::Present(st, _) => Outcome::fail(expected, format!("exists: {}", summary(&st))),
            Stat::Unreadable(why) => Outcome::fail(expected, why),
        })
    })
}

pub(super) fn owned_by(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, want) = (a.get(0), a.get(1));
        with_stat(ctx, path, format!("{path} owned by {want}"), |st, _, exp| {
            let ok = st.user == want || want.parse::<u32>().is_ok_and(|u| u == st.uid);
            Outcome::check(ok, exp, format!("owned by {} (uid {})", st.user, st.uid))
        })
        .await
    })
}

pub(super) fn has_mode(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, want) = (a.get(0), a.get(1));
        let expected = format!("{path} with mode {want}");
        let mode = match parse_mode(want) {
            Ok(m) => m,
            Err(e) => return Ok(Outcome::fail(expected, e)),
        };
        with_stat(ctx, path, expected, |st, _, exp| {
            Outcome::check(st.mode == mode, exp, format!("mode {:04o}", st.mode))
        })
        .await
    })
}

pub(super) fn modified_within(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let path = a.get(0);
        let limit = expect::duration(a.get(1)).map_err(StepError::Other)?;
        let expected = format!("{path} modified within {}", a.get(1));
        with_stat(ctx, path, expected, |st, now, exp| {
            let age = now - st.mtime;
            let shown = human(age.unsigned_abs());
            let found = if age >= 0 {
                format!("modified {shown} ago")
            } else {
                format!("modified {shown} in the future (clock skew?)")
            };
            let m = Measurement {
                label: format!("{path} age"),
                value: age as f64,
                unit: "s".into(),
                warn: None,
                crit: Some(crate::steps::Range::at_most(limit.as_secs_f64())),
            };
            Outcome::check(age as f64 <= limit.as_secs_f64(), exp, found).with(m)
        })
        .await
    })
}

/// `3d 2h`, `5h 12m`, `4m 10s`, `12s`: an age an operator reads at a glance.
fn human(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// The first word of `text` (up to a space, `=` or `:`), to show the lines that hold it.
fn key_of(text: &str) -> &str {
    text.trim()
        .split(|c: char| c.is_whitespace() || c == '=' || c == ':')
        .next()
        .unwrap_or("")
}

pub(super) fn contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, text) = (a.get(0), a.get(1));
        let expected = format!("{path} containing {text:?}");
        if let Err(e) = path_ok(path) {
            return Ok(Outcome::fail(expected, e));
        }
        let (host, t) = host(ctx)?;
        let out = crate::facts::read(&host, &file::contains_command(path, text), t).await?;
        match out.status {
            Some(0) => return Ok(Outcome::pass(expected, "contains it")),
            Some(1) => {}
            _ => return Ok(Outcome::fail(expected, unreadable(&host, path, &out))),
        }
        let key = key_of(text);
        if key.is_empty() || key == text {
            return Ok(Outcome::fail(expected, "no line contains it"));
        }
        // Without -a: a binary file answers "binary file matches", never its bytes.
        let near = host
            .run(
                &Cmd::new("grep").args(["-n", "-m", "3", "-F", "-e", key, "--", path]),
                t,
            )
            .await?;
        let found = match near.stdout_text().trim() {
            "" => format!("no line contains it, nor {key:?}"),
            lines => format!("no line contains it; lines with {key:?}: {}", excerpt(lines)),
        };
        Ok(Outcome::fail(expected, found))
    })
}

/// Matches `pattern` against bytes brought back from the host (multi-line, binary-safe).
fn match_bytes(pattern: &str, bytes: &[u8]) -> Result<Option<String>, StepError> {
    let re = RegexBuilder::new(pattern).multi_line(true).build().map_err(|e| {
        StepError::Other(format!(
            "bad regular expression /{pattern}/: {}",
            expect::regex_problem(pattern, &e)
        ))
    })?;
    Ok(re
        .find(bytes)
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned()))
}

/// The end of `text`, for failures about the end of a log.
fn tail_excerpt(text: &str) -> String {
    let text = text.trim_end();
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= expect::FOUND_MAX {
        return format!("{text:?}");
    }
    let tail: String = chars[chars.len() - expect::FOUND_MAX..].iter().collect();
    format!("...{tail:?}")
}

fn read_failure(host: &HostHandle, path: &str, out: &Output) -> Option<String> {
    let err = out.stderr_text();
    (!out.success() || (out.stdout.is_empty() && !err.trim().is_empty())).then(|| unreadable(host, path, out))
}

/// Why a read of `path` failed: a file the login user may not read says so, and how to read
/// it (`become`); anything else is the command's own error text.
fn unreadable(host: &HostHandle, path: &str, out: &Output) -> String {
    let err = out.stderr_text();
    if !err.contains("Permission denied") {
        return excerpt(err.trim());
    }
    match &host.host.become_as {
        Some(b) => format!("permission denied reading {path} as {}", b.user),
        None => {
            let user = host.host.user.as_deref().unwrap_or("the login user");
            format!("permission denied reading {path} as {user} (set become = true)")
        }
    }
}

pub(super) fn matches(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, pattern) = (a.get(0), a.get(1));
        let expected = format!("{path} matching /{pattern}/");
        if let Err(e) = path_ok(path) {
            return Ok(Outcome::fail(expected, e));
        }
        let (host, t) = host(ctx)?;
        let limit = (READ_LIMIT + 1).to_string();
        let out = crate::facts::read(&host, &Cmd::new("head").args(["-c", &limit, "--", path]), t).await?;
        if let Some(why) = read_failure(&host, path, &out) {
            return Ok(Outcome::fail(expected, why));
        }
        let cut = out.stdout.len() > READ_LIMIT;
        let bytes = &out.stdout[..out.stdout.len().min(READ_LIMIT)];
        Ok(match match_bytes(pattern, bytes)? {
            Some(m) => Outcome::pass(expected, format!("matched {}", excerpt(&m))),
            None if cut => Outcome::fail(
                expected,
                format!(
                    "no match in the first 1 MiB read (the file is longer): {}",
                    excerpt(&String::from_utf8_lossy(bytes))
                ),
            ),
            None => Outcome::fail(expected, excerpt(&String::from_utf8_lossy(bytes))),
        })
    })
}

pub(super) fn last_lines_match(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (n, path, pattern) = (a.get(0), a.get(1), a.get(2));
        let expected = format!("last {n} lines of {path} matching /{pattern}/");
        if let Err(e) = check_last_lines(&a.values) {
            return Ok(Outcome::fail(expected, e));
        }
        let (host, t) = host(ctx)?;
        let out = crate::facts::read(&host, &script(TAIL, &[n, path]), t).await?;
        if let Some(why) = read_failure(&host, path, &out) {
            return Ok(Outcome::fail(expected, why));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(match match_bytes(pattern, &out.stdout)? {
            Some(m) => Outcome::pass(expected, format!("matched {}", excerpt(&m))),
            None if text.trim().is_empty() => Outcome::fail(expected, "the file is empty"),
            None => Outcome::fail(expected, tail_excerpt(&text)),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_captured_here() {
        let st = parse_stat("0|root|0|root|644|1795423432|1536|regular file").unwrap();
        assert_eq!(
            (st.mode, st.user.as_str(), st.kind.as_str()),
            (0o644, "root", "regular file")
        );
        let st = parse_stat("0|root|0|root|4755|1|2|regular file\n").unwrap();
        assert_eq!(st.mode, 0o4755);
        assert_eq!(
            parse_stat("0|root|0|root|755|1795424083|4096|directory").unwrap().kind,
            "directory"
        );
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0644"), Ok(0o644));
        assert_eq!(parse_mode("644"), Ok(0o644));
        assert_eq!(parse_mode("4755"), Ok(0o4755));
        assert!(parse_mode("999").unwrap_err().contains("octal"));
        assert!(parse_mode("64").is_err());
        assert!(parse_mode("00644").is_err());
    }

    #[test]
    fn lint_checks() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(check_mode(&s(&["/etc/app.conf", "999"])).is_err());
        assert!(
            check_within(&s(&["/var/log/x", "-5 hours"]))
                .unwrap_err()
                .contains("negative")
        );
        assert!(check_within(&s(&["/var/log/x", "25 hours"])).is_ok());
        assert!(check_last_lines(&s(&["0", "/x", "a"])).is_err());
        assert!(check_last_lines(&s(&["5", "/x", "a("])).is_err());
        assert!(check_last_lines(&s(&["5", "/x", "backup (done|finished)"])).is_ok());
    }

    #[test]
    fn regex_on_bytes_is_multiline_and_binary_safe() {
        let bytes = b"\x00\xffjunk\nmax_conn = 100\nenv = production\n";
        assert_eq!(
            match_bytes(r"^max_conn = \d+$", bytes).unwrap().as_deref(),
            Some("max_conn = 100")
        );
        assert!(match_bytes(r"^env = staging$", bytes).unwrap().is_none());
        assert!(match_bytes("(", bytes).is_err());
    }

    #[test]
    fn helpers() {
        assert_eq!(human(3 * 86400 + 64), "3d 0h");
        assert_eq!(human(5 * 3600 + 720), "5h 12m");
        assert_eq!(human(250), "4m 10s");
        assert_eq!(human(12), "12s");
        assert_eq!(key_of("max_conn = 100"), "max_conn");
        assert_eq!(key_of("Listen: 80"), "Listen");
        let long = "a".repeat(1000) + "END";
        assert!(tail_excerpt(&long).ends_with("END\""));
    }
}
