//! The framing of a batch: several commands sent as ONE shell command, each part followed
//! by a random boundary line on stdout (with its exit status) and on stderr, and split
//! back into one [`Output`] per part that completed. Used by the facts batch
//! ([`crate::facts`]), which chooses the parts; the shell text of the framing, of a
//! section bounded by the remote `timeout`, and of a part choosing its command on the host
//! ([`first_of`], [`first_available`]) is all here.

use std::hash::{BuildHasher, Hasher};

use super::shell::{Test, bounded};
use super::{Cmd, Output};

/// One batch's boundary: a line no command output contains by chance.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    boundary: String,
}

impl Batch {
    /// A batch with a fresh boundary: 32 random hex digits.
    pub(crate) fn new() -> Self {
        let word = || std::collections::hash_map::RandomState::new().build_hasher().finish();
        Batch {
            boundary: format!("sd-{:016x}{:016x}", word(), word()),
        }
    }

    /// The script: each part in turn, with no input; after it, `\n<B> <status>\n` on
    /// stdout and `\n<B>\n` on stderr. The boundary is hex digits: safe unquoted.
    pub(crate) fn script(&self, parts: &[String]) -> String {
        let b = &self.boundary;
        parts
            .iter()
            .map(|p| format!("{{ {p}\n}} </dev/null; printf '\\n%s %d\\n' {b} \"$?\"; printf '\\n%s\\n' {b} >&2\n"))
            .collect()
    }

    /// The parts framed like the others, in a shell of their own bounded by `secs` when
    /// the host has `timeout` (as the transport bounds a command); a cut leaves the parts
    /// that completed before it.
    pub(crate) fn bounded_section(&self, parts: &[String], secs: u64) -> String {
        let text = Cmd::new(self.script(parts)).to_shell();
        format!("reads={text}\n{}\n", bounded("sh -c \"$reads\"", secs, false))
    }

    /// The command that runs `script` (made of [`Batch::script`] and
    /// [`Batch::bounded_section`]).
    pub(crate) fn command(script: String) -> Cmd {
        Cmd::new("sh").arg("-c").arg(script)
    }

    /// Splits a batch's output into the parts that completed, in order.
    pub(crate) fn split(&self, out: &Output) -> Vec<Output> {
        let b = &self.boundary;
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

    /// What a host would print for a batch script whose parts gave `parts` (for a fake
    /// transport): the boundary is read from the script.
    #[cfg(test)]
    pub(crate) fn replay(script: &str, parts: &[Output]) -> Option<Output> {
        let at = script.find("sd-")?;
        let b = script.get(at..at + 35)?;
        let mut out = Output {
            status: Some(0),
            ..Default::default()
        };
        for p in parts {
            out.stdout.extend_from_slice(&p.stdout);
            out.stdout
                .extend_from_slice(format!("\n{b} {}\n", p.status.unwrap_or(137)).as_bytes());
            out.stderr.extend_from_slice(&p.stderr);
            out.stderr.extend_from_slice(format!("\n{b}\n").as_bytes());
        }
        Some(out)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A part that picks its command on the host: the first alternative whose test holds
/// prints its index on a line of its own, then runs its command; `-` when none holds or
/// it has no command. [`chosen`] reads the index back.
pub(crate) fn first_of(alts: &[(Test, Option<Cmd>)]) -> String {
    let mut text = String::new();
    for (i, (test, cmd)) in alts.iter().enumerate() {
        let keyword = if i == 0 { "if" } else { "elif" };
        let test = test.to_shell();
        match cmd {
            Some(cmd) => text.push_str(&format!("{keyword} {test}; then echo {i}; {}\n", cmd.to_shell())),
            None => text.push_str(&format!("{keyword} {test}; then echo -\n")),
        }
    }
    text.push_str("else echo -; fi");
    text
}

/// Which alternative of a [`first_of`] part ran, and that command's own output (without
/// the index line); `None` when none did.
pub(crate) fn chosen(part: Output) -> Option<(usize, Output)> {
    let eol = part.stdout.iter().position(|&c| c == b'\n')?;
    let index = std::str::from_utf8(&part.stdout[..eol]).ok()?.parse::<usize>().ok()?;
    Some((
        index,
        Output {
            status: part.status,
            stdout: part.stdout[eol + 1..].to_vec(),
            stderr: part.stderr,
        },
    ))
}

/// A part that runs the command of the first tool the host has, in order; exit 127
/// (command not found) when it has none.
pub(crate) fn first_available(choices: impl IntoIterator<Item = (&'static str, Cmd)>) -> String {
    let mut text = String::new();
    for (tool, cmd) in choices {
        text.push_str(&format!(
            "if {}; then {}\nel",
            Test::Has(tool).to_shell(),
            cmd.to_shell()
        ));
    }
    text.push_str("se (exit 127); fi");
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs `script` with the local shell, as a host's shell would.
    pub(crate) fn sh(script: &str) -> Output {
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
    fn run_local(parts: &[&str]) -> Vec<Output> {
        let b = Batch::new();
        let parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        b.split(&sh(&b.script(&parts)))
    }

    #[test]
    fn each_part_keeps_its_own_output_error_and_status() {
        let parts = run_local(&[
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
        let parts = run_local(&["exit 5", "read x; echo \"got:$x\"", "echo after"]);
        // `exit` in a part ends the batch shell: parts are commands, never shell text from
        // input (each is a `Cmd::to_shell`), so this only shows what the framing reports.
        assert_eq!(parts.len(), 0);
        let parts = run_local(&["read x; echo \"got:$x\"", "echo after"]);
        assert_eq!(parts[0].stdout_text(), "got:\n");
        assert_eq!(parts[1].stdout_text(), "after\n");
    }

    #[test]
    fn a_cut_batch_gives_the_parts_that_completed() {
        let b = Batch::new();
        let out = Output {
            status: None,
            stdout: format!("one\n\n{} 0\ntwo, cut", b.boundary).into_bytes(),
            stderr: Vec::new(),
        };
        let parts = b.split(&out);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].stdout_text(), "one\n");
    }

    #[test]
    fn a_replayed_batch_splits_as_the_host_s_would() {
        let b = Batch::new();
        let script = b.script(&["true".into(), "false".into()]);
        let parts = [
            Output {
                status: Some(0),
                stdout: b"x\n".to_vec(),
                stderr: Vec::new(),
            },
            Output {
                status: Some(1),
                stdout: Vec::new(),
                stderr: b"no\n".to_vec(),
            },
        ];
        let out = Batch::replay(&script, &parts).expect("a batch");
        assert_eq!(b.split(&out), parts);
        assert_eq!(b.split(&sh(&script)).len(), 2);
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(Batch::new().boundary, Batch::new().boundary);
    }
}
