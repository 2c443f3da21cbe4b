//! The local transport: commands run as plain processes on the machine running shakedown.

use std::process::Stdio;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{Cmd, Output, Transport, TransportError};

/// Runs commands on this machine.
#[derive(Debug, Default)]
pub(crate) struct Local;

impl Transport for Local {
    fn run<'a>(&'a self, cmd: &'a Cmd, timeout: Duration) -> BoxFuture<'a, Result<Output, TransportError>> {
        Box::pin(async move {
            let mut command = tokio::process::Command::new(cmd.program());
            command
                .args(cmd.arguments())
                .stdin(if cmd.input().is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .process_group(0);
            let child = match command.spawn() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Output {
                        status: Some(127),
                        stdout: Vec::new(),
                        stderr: format!("{}: command not found", cmd.program()).into_bytes(),
                    });
                }
                Err(e) => return Err(TransportError::Failed(format!("cannot start {}: {e}", cmd.program()))),
            };
            let mut child = child;
            if let (Some(line), Some(mut stdin)) = (cmd.input(), child.stdin.take()) {
                use tokio::io::AsyncWriteExt;
                // A line in a pipe's buffer: never blocks; a command that exits first is fine.
                let _ = stdin.write_all(format!("{}\n", line.expose()).as_bytes()).await;
            }
            let pid = child.id();
            match tokio::time::timeout(timeout, child.wait_with_output()).await {
                Ok(Ok(out)) => Ok(Output {
                    status: out.status.code(),
                    stdout: out.stdout,
                    stderr: out.stderr,
                }),
                Ok(Err(e)) => Err(TransportError::Failed(e.to_string())),
                Err(_) => {
                    // Kill the whole process group: `sh -c` children too.
                    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                        // SAFETY: kill(2) with a negative pid signals the process group we
                        // created for this child (process_group(0)); no memory is involved.
                        unsafe {
                            libc::kill(-pid, libc::SIGKILL);
                        }
                    }
                    Err(TransportError::Timeout(timeout))
                }
            }
        })
    }
}
