//! How commands reach a host: [`Cmd`] (a program and its arguments, never a shell string
//! built by hand), [`Output`], and the [`Transport`] trait with its `local` and `ssh`
//! implementations (and a `fake` one for tests). Quoting happens in exactly one place,
//! [`Cmd::to_shell`]; every other piece of shell text sent to a host (constant scripts,
//! the remote `timeout`, the framing of a batch of commands) is built in this module too.

mod batch;
mod r#become;
#[cfg(test)]
mod fake;
pub(crate) mod kept;
mod local;
mod shell;
mod ssh;
mod ssh_config;
mod ssh_processes;

use std::time::Duration;

use futures::future::BoxFuture;

pub(crate) use crate::quote::quote;
#[cfg(test)]
pub(crate) use batch::tests::sh;
pub(crate) use batch::{Batch, chosen, first_available, first_of};
pub(crate) use r#become::Become;
#[cfg(test)]
pub(crate) use fake::Fake;
pub(crate) use local::Local;
pub(crate) use shell::{Test, bounded, script};
pub(crate) use ssh::{JumpMasters, SshMaster, SshOptions};
pub(crate) use ssh_processes::SshProcesses;

/// A command to run on a host: a program with arguments, or (for the command steps only)
/// a shell command line run as written by `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    /// One line written to the command's standard input (a `become` password): never part
    /// of [`Cmd::to_shell`], so never on a command line nor in `--trace`.
    input: Option<crate::inventory::Secret>,
}

impl Cmd {
    /// A program, looked up on the host's PATH.
    pub fn new(program: impl Into<String>) -> Self {
        Cmd {
            program: program.into(),
            args: Vec::new(),
            input: None,
        }
    }

    /// A shell command line, run by `sh -c` on the host: only for the command steps,
    /// whose argument IS a command line by design.
    pub fn shell(line: impl Into<String>) -> Self {
        Cmd::new("sh").arg("-c").arg(line)
    }

    /// Appends one argument (quoted when the command reaches a shell).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Gives the command `line` (and a newline) on its standard input, which is empty
    /// otherwise: how a sudo password reaches the host.
    pub(crate) fn with_input(mut self, line: crate::inventory::Secret) -> Self {
        self.input = Some(line);
        self
    }

    /// The line for its standard input, if any.
    pub(crate) fn input(&self) -> Option<&crate::inventory::Secret> {
        self.input.as_ref()
    }

    /// The program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The arguments.
    pub fn arguments(&self) -> &[String] {
        &self.args
    }

    /// The command as one POSIX shell line, every word quoted.
    pub fn to_shell(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_shell())
    }
}

/// What a command did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Exit status; `None` when killed by a signal.
    pub status: Option<i32>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

impl Output {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// Standard output as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text (lossy).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Why a command could not be run at all (as opposed to running and failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// No connection to the host.
    #[error("cannot connect to {host} ({endpoint}): {reason}")]
    Connect {
        /// Inventory name.
        host: String,
        /// address:port.
        endpoint: String,
        /// What ssh said.
        reason: String,
    },
    /// The command did not finish in time.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The command could not be started or its channel broke.
    #[error("{0}")]
    Failed(String),
}

/// A way to run commands on one host. Object-safe so hosts of both kinds share a map.
pub(crate) trait Transport: Send + Sync {
    /// Runs `cmd`, giving up after `timeout` (the remote side is also bounded by `timeout`
    /// on the host, so nothing keeps running after we stop waiting).
    fn run<'a>(&'a self, cmd: &'a Cmd, timeout: Duration) -> BoxFuture<'a, Result<Output, TransportError>>;

    /// The command as this transport sends it to the host (`become` puts sudo in front), for
    /// `--trace`; its input (a password) is never part of it.
    fn sent(&self, cmd: &Cmd) -> Cmd {
        cmd.clone()
    }

    /// Opens the connection ahead of the first command (no-op for local).
    fn connect(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async { Ok(()) })
    }

    /// How a kept connection came to be (opened, or reused from an earlier run), once, for
    /// `--trace`.
    fn take_note(&self) -> Option<String> {
        None
    }

    /// Before another run on the same connection (`serve`): forgets a failed connect, and a
    /// master that no longer answers, so that the next command connects afresh.
    fn refresh(&self) -> BoxFuture<'_, ()> {
        self.forget_failed_connect();
        Box::pin(async {})
    }

    /// Forgets a failed connect so that the next command tries again (no-op for local, and
    /// while a connection is open or being opened).
    fn forget_failed_connect(&self) {}

    /// Refuses new connections from now on and waits (bounded) for one being opened, so it
    /// is there to be closed with the others (no-op for local).
    fn settle(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// Closes the connection at the end of the run.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}
