//! What a check found, in the one form every layer above shares: [`Outcome`] (passed or
//! not, expected and found), [`Measurement`] (a value with its thresholds), [`StepResult`]
//! (what events and reports carry), and the one wording of found text ([`excerpt`]) and of
//! a command's exit ([`exit_text`]). It imports nothing of the crate: everything else may
//! depend on it.

mod range;
mod text;

pub use range::{Range, number};
pub(crate) use text::{FOUND_MAX, excerpt, exit_status, exit_text};

/// A value a step measured: response time, lag, filesystem use. Feeds the console's
/// expected/found, JUnit and Nagios perfdata alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Short label (`response time`, `filesystem / use`).
    pub label: String,
    /// The value.
    pub value: f64,
    /// Unit as Nagios spells it (`ms`, `s`, `%`, `B`, `c` or empty).
    pub unit: String,
    /// Warning threshold, if the step has one.
    pub warn: Option<Range>,
    /// Critical threshold: the values the step lets pass, in the Monitoring Plugins range
    /// syntax (`1:` at least 1, `1:8` between, `@500:` under 500).
    pub crit: Option<Range>,
}

/// What a step found: passed or not, with what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Whether the check held.
    pub passed: bool,
    /// What the step expected, in words.
    pub expected: String,
    /// What it found (truncated to a readable length by the reports).
    pub found: String,
    /// Values measured on the way.
    pub measured: Vec<Measurement>,
}

impl Outcome {
    /// A passed check.
    pub fn pass(expected: impl Into<String>, found: impl Into<String>) -> Self {
        Outcome {
            passed: true,
            expected: expected.into(),
            found: found.into(),
            measured: Vec::new(),
        }
    }

    /// A failed check.
    pub fn fail(expected: impl Into<String>, found: impl Into<String>) -> Self {
        Outcome {
            passed: false,
            expected: expected.into(),
            found: found.into(),
            measured: Vec::new(),
        }
    }

    /// Passed when `ok`.
    pub fn check(ok: bool, expected: impl Into<String>, found: impl Into<String>) -> Self {
        Outcome {
            passed: ok,
            expected: expected.into(),
            found: found.into(),
            measured: Vec::new(),
        }
    }

    /// Adds a measured value.
    pub fn with(mut self, m: Measurement) -> Self {
        self.measured.push(m);
        self
    }

    /// The one-line wording of expected/found: `expected X, found Y` (the `Failed:` list,
    /// JUnit's failure message, [`StepResult::reason`]).
    pub fn expected_then_found(&self) -> String {
        format!("expected {}, found {}", self.expected, self.found)
    }

    /// The same, found first, for a line that leads with what is wrong: `Y, expected X`
    /// (the Nagios long output).
    pub fn found_then_expected(&self) -> String {
        format!("{}, expected {}", self.found, self.expected)
    }

    /// The two-line wording, each line after `indent` and ending in a newline, the values
    /// aligned: `expected: X` / `found:    Y` (the console, JUnit's trace and step log,
    /// Cucumber JSON's error message).
    pub fn expected_found_lines(&self, indent: &str) -> String {
        format!(
            "{indent}expected: {}\n{indent}found:    {}\n",
            self.expected, self.found
        )
    }
}

/// The result of one step, as events and reports carry it.
#[derive(Debug, Clone, PartialEq)]
pub enum StepResult {
    /// Checked and held.
    Passed(Outcome),
    /// Checked and did not hold.
    Failed(Outcome),
    /// Could not check.
    Error(String),
    /// Not run (an earlier step failed, or the run stopped).
    Skipped,
}

impl StepResult {
    /// Failed or errored.
    pub fn is_failure(&self) -> bool {
        matches!(self, StepResult::Failed(_) | StepResult::Error(_))
    }

    /// Measured values, if the step ran.
    pub fn measured(&self) -> &[Measurement] {
        match self {
            StepResult::Passed(o) | StepResult::Failed(o) => &o.measured,
            _ => &[],
        }
    }

    /// One line saying why the step failed: `expected X, found Y` or the error.
    pub fn reason(&self) -> Option<String> {
        match self {
            StepResult::Failed(o) => Some(o.expected_then_found()),
            StepResult::Error(e) => Some(e.clone()),
            _ => None,
        }
    }
}
