//! The first error in a feature file, located where the official Gherkin parsers locate it
//! and said in words (`expected a step, a tag or Scenario, found "..."`) rather than as the
//! official token names.

use std::fmt;

use super::gherkin_ast::Location;

/// The first error in a feature file, where the official parsers put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where (no column for an unexpected end of file, as the official parsers).
    pub location: Location,
    /// What.
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A line that the grammar does not allow here.
    UnexpectedLine {
        /// What would have been accepted, in words (`a step`, `Scenario`).
        expected: Vec<&'static str>,
        /// The offending line, trimmed.
        found: String,
    },
    /// The file ends where more is required.
    UnexpectedEnd {
        /// What would have been accepted, in words.
        expected: Vec<&'static str>,
    },
    /// The file ends after tags (of a Scenario, Rule or Examples that never comes).
    DanglingTags,
    /// A doc string is never closed.
    UnclosedDocString {
        /// Line of its opening delimiter.
        opened: usize,
    },
    /// A table row with another number of cells than the table's first row.
    InconsistentCells {
        /// Cells in this row.
        found: usize,
        /// Cells in the first row.
        expected: usize,
    },
    /// `@tag with space`.
    TagWithWhitespace,
    /// `# language: xx` for a language the official keyword list does not have.
    NoSuchLanguage(String),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::UnexpectedLine { expected, found } if found.contains('"') => {
                write!(f, "expected {}, found '{found}'", words(expected))
            }
            ErrorKind::UnexpectedLine { expected, found } => {
                write!(f, "expected {}, found \"{found}\"", words(expected))
            }
            ErrorKind::UnexpectedEnd { expected } => write!(f, "unexpected end of file, expected {}", words(expected)),
            ErrorKind::DanglingTags => {
                write!(f, "unexpected end of file: tags must be followed by Scenario, Rule or Examples")
            }
            ErrorKind::UnclosedDocString { opened } => {
                write!(f, "unexpected end of file: the doc string opened on line {opened} is not closed")
            }
            ErrorKind::InconsistentCells { found, expected } => {
                write!(
                    f,
                    "inconsistent cell count within the table: this row has {found} cells, the first row {expected}"
                )
            }
            ErrorKind::TagWithWhitespace => write!(f, "a tag may not contain whitespace"),
            ErrorKind::NoSuchLanguage(code) => write!(f, "language not supported: {code}"),
        }
    }
}

fn words(items: &[&str]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => (*one).into(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
