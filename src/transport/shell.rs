//! Shell text beyond one quoted word ([`super::quote`]): a constant script run with its
//! arguments, the remote `timeout` wrapper every bounded command goes through, and the
//! tests a command sent ahead is chosen by on the host ([`Test`]).

use super::{Cmd, quote};

/// A constant POSIX shell script run with `sh -c`, its arguments passed as `$1`, `$2`...
/// (each quoted by [`Cmd::to_shell`]): used where one round trip replaces several. The
/// script text is always a constant of this crate, never built from input.
pub(crate) fn script(text: &'static str, args: &[&str]) -> Cmd {
    Cmd::new("sh").arg("-c").arg(text).arg("sh").args(args.iter().copied())
}

/// `inner` (shell text) bounded by `secs` seconds on the host when the host has `timeout`
/// (killed 1 s after its TERM), run as is otherwise; with `exec`, the shell is replaced
/// by it. The one remote timeout: the SSH transport bounds every command with it, the
/// facts batch its section of steps' reads.
pub(crate) fn bounded(inner: &str, secs: u64, exec: bool) -> String {
    let exec = if exec { "exec " } else { "" };
    format!("if command -v timeout >/dev/null 2>&1; then {exec}timeout -k 1 {secs} {inner}; else {exec}{inner}; fi")
}

/// A test made on the host before sending a command that depends on it (which init
/// system, which package manager): what [`crate::facts`] decide here, said in shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Test {
    /// Always holds.
    Always,
    /// Never holds.
    #[cfg_attr(not(test), allow(dead_code))]
    Never,
    /// The host has this program on its PATH.
    Has(&'static str),
    /// This directory exists.
    Dir(&'static str),
    /// Every one of these holds.
    All(&'static [Test]),
}

impl Test {
    /// The test as shell text.
    pub(crate) fn to_shell(self) -> String {
        match self {
            Test::Always => "true".into(),
            Test::Never => "false".into(),
            Test::Has(tool) => format!("command -v {} >/dev/null 2>&1", quote(tool)),
            Test::Dir(dir) => format!("[ -d {} ]", quote(dir)),
            Test::All(tests) => tests.iter().map(|t| t.to_shell()).collect::<Vec<_>>().join(" && "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_read_as_the_shell_text_they_replace() {
        assert_eq!(
            Test::Has("systemctl").to_shell(),
            "command -v systemctl >/dev/null 2>&1"
        );
        assert_eq!(
            Test::All(&[Test::Dir("/run/systemd/system"), Test::Has("systemctl")]).to_shell(),
            "[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1"
        );
        assert_eq!(
            bounded("ls", 3, true),
            "if command -v timeout >/dev/null 2>&1; then exec timeout -k 1 3 ls; else exec ls; fi"
        );
    }
}
