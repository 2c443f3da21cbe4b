//! Errors that end a command before or instead of a run, and the one map from them to the
//! exit statuses of CLI.md.

/// Exit statuses (CLI.md): `run`/`lint` use 0, 1, 2; `check` uses the Nagios 0..3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// All passed.
    Ok = 0,
    /// Some scenario failed (`check`: WARNING).
    Failed = 1,
    /// Bad input, nothing run (`check`: CRITICAL).
    BadInput = 2,
    /// `check` only: UNKNOWN.
    Unknown = 3,
}

/// Bad input found before any host was contacted: printed as `error: ...`, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct BadInput(pub Vec<String>);

impl BadInput {
    /// One problem.
    pub fn one(message: impl Into<String>) -> Self {
        BadInput(vec![message.into()])
    }
}
