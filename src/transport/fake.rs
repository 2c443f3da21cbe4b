//! The fake transport, for tests: canned outputs replayed per command (matched on the
//! command's shell text, [`Cmd::to_shell`], as the real transports send it), and a loud
//! failure on any command it was not given: the step or fact under test gets a
//! [`TransportError::Failed`] naming the command, and [`Fake::unexpected`] lists it, so a
//! test sees a command it did not expect even where the code under test swallows the error
//! (the facts batch does).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{Cmd, Output, Transport, TransportError};

/// Answers a command the canned outputs do not name (the facts batch, whose text holds a
/// random boundary): `None` leaves it unexpected.
type Responder = Box<dyn Fn(&Cmd) -> Option<Output> + Send + Sync>;

/// A transport that replays canned outputs and records every command it is sent.
#[derive(Default)]
pub(crate) struct Fake {
    replies: Mutex<HashMap<String, Output>>,
    responder: Option<Responder>,
    ran: Mutex<Vec<String>>,
    unexpected: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Fake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fake").field("ran", &self.ran()).finish_non_exhaustive()
    }
}

impl Fake {
    /// A fake with no canned output: every command is unexpected.
    pub(crate) fn new() -> Self {
        Fake::default()
    }

    /// Answers the command whose shell text is `shell` with `output`, every time it is sent.
    pub(crate) fn on(self, shell: impl Into<String>, output: Output) -> Self {
        self.replies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(shell.into(), output);
        self
    }

    /// Answers `cmd` with `output`.
    pub(crate) fn on_cmd(self, cmd: &Cmd, output: Output) -> Self {
        self.on(cmd.to_shell(), output)
    }

    /// Answers the command whose shell text is `shell` with exit `status` and `stdout`.
    pub(crate) fn reply(self, shell: impl Into<String>, status: i32, stdout: impl Into<Vec<u8>>) -> Self {
        self.on(shell, Fake::output(status, stdout, ""))
    }

    /// Answers the commands no canned output names with `respond` (when it gives one).
    pub(crate) fn responding(mut self, respond: impl Fn(&Cmd) -> Option<Output> + Send + Sync + 'static) -> Self {
        self.responder = Some(Box::new(respond));
        self
    }

    /// An output: exit `status`, `stdout` and `stderr`.
    pub(crate) fn output(status: i32, stdout: impl Into<Vec<u8>>, stderr: impl Into<Vec<u8>>) -> Output {
        Output {
            status: Some(status),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    /// Every command sent so far, as shell text, in order.
    pub(crate) fn ran(&self) -> Vec<String> {
        self.ran.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The commands sent that had no canned output.
    pub(crate) fn unexpected(&self) -> Vec<String> {
        self.unexpected.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn answer(&self, cmd: &Cmd) -> Result<Output, TransportError> {
        let shell = cmd.to_shell();
        self.ran.lock().unwrap_or_else(|e| e.into_inner()).push(shell.clone());
        let canned = self
            .replies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&shell)
            .cloned();
        if let Some(out) = canned.or_else(|| self.responder.as_ref().and_then(|r| r(cmd))) {
            return Ok(out);
        }
        self.unexpected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(shell.clone());
        Err(TransportError::Failed(format!(
            "fake transport: unexpected command: {shell}"
        )))
    }
}

impl Transport for Fake {
    fn run<'a>(&'a self, cmd: &'a Cmd, _timeout: Duration) -> BoxFuture<'a, Result<Output, TransportError>> {
        Box::pin(async move { self.answer(cmd) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replays_canned_output_and_refuses_anything_else() {
        let fake = Fake::new().reply("uptime", 0, "up 3 days\n");
        let out = fake
            .run(&Cmd::new("uptime"), Duration::from_secs(1))
            .await
            .expect("canned");
        assert_eq!((out.status, out.stdout_text().as_str()), (Some(0), "up 3 days\n"));
        let err = fake
            .run(&Cmd::new("rm").arg("-rf").arg("/tmp/x y"), Duration::from_secs(1))
            .await
            .expect_err("not canned");
        assert_eq!(err.to_string(), "fake transport: unexpected command: rm -rf '/tmp/x y'");
        assert_eq!(fake.ran(), ["uptime", "rm -rf '/tmp/x y'"]);
        assert_eq!(fake.unexpected(), ["rm -rf '/tmp/x y'"]);
    }
}
