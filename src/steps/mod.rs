//! The step library: every sentence shakedown understands, as tables of [`StepDef`]s (one
//! table per family file), compiled once into a [`StepLibrary`] that the runner, `lint` and
//! `shakedown steps` all use. Step bodies get a fact or probe, compare, and return an
//! [`Outcome`]; they never format failure text themselves beyond expected/found.

pub mod arguments;
pub mod command;
pub mod consistency;
mod context;
pub mod expect;
#[cfg(test)]
mod fake_tests;
pub mod haproxy;
pub mod http;
mod library;
pub mod mysql;
pub mod network;
mod source;
pub mod system;

pub use source::location;

use std::time::Duration;

use futures::future::BoxFuture;

pub use crate::outcome::{Measurement, Outcome, Range, StepResult};

pub use context::{CommandRun, StepCtx};
pub use library::{Match, Resolved, StepBody, StepLibrary, Unmatched};

/// A step that could not check at all (as opposed to checking and finding it wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The step's own deadline fired.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The transport could not run a command.
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    /// The step needs a current host and the scenario has none.
    #[error("this step needs a current host: tag the scenario or feature with @hosts:GROUP")]
    NoHost,
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

impl From<crate::facts::FactError> for StepError {
    fn from(e: crate::facts::FactError) -> Self {
        match e {
            crate::facts::FactError::Transport(t) => StepError::Transport(t),
            other => StepError::Other(other.to_string()),
        }
    }
}

/// The arguments a step was matched with, after `{name}`/`{address}`/`{vars.KEY}`
/// substitution, plus its doc string and table.
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// Captured parameters, in sentence order.
    pub values: Vec<String>,
    /// Doc string content.
    pub doc_string: Option<String>,
    /// Data table rows.
    pub table: Option<Vec<Vec<String>>>,
}

impl Args {
    /// The i-th captured parameter ("" when absent: the sentence's regex guarantees it).
    pub fn get(&self, i: usize) -> &str {
        self.values.get(i).map(String::as_str).unwrap_or("")
    }

    /// The i-th parameter as an integer.
    pub fn int(&self, i: usize) -> Result<i64, StepError> {
        self.get(i)
            .parse()
            .map_err(|_| StepError::Other(format!("\"{}\" is not a whole number", self.get(i))))
    }
}

/// What a step function returns.
pub type StepOutput = Result<Outcome, StepError>;

/// A built-in step body.
pub type StepFn = for<'a> fn(&'a mut StepCtx, Args) -> BoxFuture<'a, StepOutput>;

/// A lint-time check of a step's arguments (bad regex, mode "999", negative duration).
pub type ArgCheck = fn(&[String]) -> Result<(), String>;

/// How a step may be scheduled inside its scenario (see `runner::pipeline`). Every
/// [`StepDef`] states its own: a family's steps only read hosts, or keep scenario state, or
/// act; a new family has to choose (there is no default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Reads hosts only and uses no scenario state (never touches `StepCtx::last_command` or
    /// `StepCtx::http`): starts with its segment, side by side.
    Ahead,
    /// Reads hosts only but reads or writes the scenario's state (the HTTP steps): runs in
    /// order with the other ordered steps, without waiting for the `Ahead` ones.
    Chain,
    /// Anything else: waits for every earlier step to pass; later steps wait for it.
    Barrier,
}

/// One sentence of the step language: its Cucumber Expression, documentation and body.
#[derive(Clone)]
pub struct StepDef {
    /// Where the entry is in `file` (`line: line!()` as its first field, so the sentence is
    /// on the next line): `shakedown steps` and pack collision errors point there.
    pub line: u32,
    /// The Cucumber Expression, with shakedown's parameter types (`{string}`, `{int}`,
    /// `{float}`, `{word}`, `{regex}`, `{duration}`, and `{host}`/`{group}` for quoted host
    /// names and patterns, see [`arguments`]); `/` written as `\/`.
    pub sentence: &'static str,
    /// An example as a user writes it (the catalogue shows it; tests match it).
    pub example: &'static str,
    /// What it checks, how, and what its failure says.
    pub doc: &'static str,
    /// The source file that implements it.
    pub module: &'static str,
    /// The source file whose table holds the entry (with `line`, its location): the same as
    /// `module` except for the system family, tabled in src/steps/system/mod.rs; a pack step's
    /// TOML file.
    pub file: &'static str,
    /// How the runner may schedule it beside the scenario's other steps.
    pub lane: Lane,
    /// The whole-host facts its body reads: the runner reads all of a host's planned facts
    /// in one command as soon as the host is connected (see [`crate::facts::prefetch`]).
    pub facts: &'static [crate::facts::Fact],
    /// Whether it needs a current host (`@hosts:`).
    pub needs_host: bool,
    /// Argument checks run by `lint`.
    pub check: Option<ArgCheck>,
    /// The body.
    pub run: StepFn,
}

impl StepDef {
    /// The example without its leading keyword: the step text a user writes.
    pub fn example_text(&self) -> &'static str {
        self.example.split_once(' ').map(|(_, t)| t).unwrap_or(self.example)
    }
}

impl std::fmt::Debug for StepDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepDef").field("sentence", &self.sentence).finish()
    }
}

/// Every built-in family's table, in catalogue order.
pub fn builtin_tables() -> Vec<&'static [StepDef]> {
    vec![
        system::STEPS,
        command::STEPS,
        network::STEPS,
        http::STEPS,
        haproxy::STEPS,
        mysql::STEPS,
        consistency::STEPS,
    ]
}
