//! What a step can see while it runs: the current host, every other host of the
//! inventory, the step timeout, and what earlier steps of the same scenario left behind
//! (the last command's output, later the last HTTP responses).

use std::sync::Arc;
use std::time::Duration;

use super::StepError;
use crate::host::{HostHandle, HostPool};
use crate::suite::Unit;
use crate::transport::Output;

/// The result of `When I run "..."`, kept for the `Then the output ...` steps.
#[derive(Debug, Clone)]
pub struct CommandRun {
    /// The command line as written.
    pub line: String,
    /// What it did.
    pub output: Output,
}

/// Per-scenario state handed to every step of one unit, in order.
pub struct StepCtx {
    /// The unit being run.
    pub unit: Arc<Unit>,
    /// The current host, when the scenario has one.
    pub host: Option<Arc<HostHandle>>,
    /// Every host of the inventory, for steps that name their hosts.
    pub pool: Arc<HostPool>,
    /// The per-step deadline (`--step-timeout`).
    pub step_timeout: Duration,
    /// The last `When I run` result.
    pub last_command: Option<CommandRun>,
    /// What the HTTP steps have seen so far.
    pub http: super::http::HttpState,
}

impl StepCtx {
    /// The current host, or the "add @hosts:" error.
    pub fn host(&self) -> Result<Arc<HostHandle>, StepError> {
        self.host.clone().ok_or(StepError::NoHost)
    }

    /// The last command, or an error saying a `When I run` step must come first.
    pub fn last_command(&self) -> Result<&CommandRun, StepError> {
        self.last_command.as_ref().ok_or_else(|| {
            StepError::Other("no command has run yet: add a step like When I run \"uptime\" before this one".into())
        })
    }
}
