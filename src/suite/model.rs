//! The scenarios shakedown runs, as the official Gherkin "pickles" define them: outlines
//! expanded, backgrounds prepended, tags inherited. Built by `load.rs`, consumed by the
//! plan, lint and reports. Plain data, no parsing here.

use std::path::PathBuf;

/// One feature file, compiled into runnable scenarios.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// The file, as given on the command line (relative paths stay relative).
    pub path: PathBuf,
    /// Feature name (may be empty).
    pub name: String,
    /// Localised keyword (`Feature`, `Fonctionnalité`, ...).
    pub keyword: String,
    /// 1-based line of the Feature keyword.
    pub line: usize,
    /// Tags on the Feature, with their `@`.
    pub tags: Vec<String>,
    /// Free text under the Feature line.
    pub description: String,
    /// Compiled scenarios, in file order.
    pub scenarios: Vec<Scenario>,
}

/// One runnable scenario (a pickle): an outline gives one per Examples row.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Name after outline substitution.
    pub name: String,
    /// Localised keyword of the scenario.
    pub keyword: String,
    /// Line of the Scenario keyword, or of the Examples row for an outline.
    pub line: usize,
    /// Column of the Scenario keyword.
    pub column: usize,
    /// Tags after inheritance (feature, rule, scenario, examples), with `@`, in that order.
    pub tags: Vec<String>,
    /// The Rule it is under, if any.
    pub rule: Option<String>,
    /// Background steps first, then the scenario's.
    pub steps: Vec<Step>,
    /// For an outline whose Examples rows would share one name: this row's number (1-based,
    /// over all the outline's Examples tables, in file order). See [`Scenario::title`].
    pub row: Option<usize>,
}

impl Scenario {
    /// The name reports show (console, JUnit, Cucumber JSON, Nagios and its perfdata
    /// labels): the name, with ` #N` for an outline row whose name its other rows share,
    /// as Cucumber-JVM numbers them. `name` stays the pickle's name (Gherkin conformance).
    pub fn title(&self) -> String {
        match self.row {
            Some(n) => format!("{} #{n}", self.name),
            None => self.name.clone(),
        }
    }
}

/// What kind of step a keyword makes it (And/But take the kind of the step before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Given: context.
    Context,
    /// When: action.
    Action,
    /// Then: outcome.
    Outcome,
    /// `*` or a conjunction with no step before it.
    Unknown,
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Keyword as written, with its trailing space (`Given `, `And `, `* `).
    pub keyword: String,
    /// The keyword's kind, conjunctions resolved.
    pub kind: StepKind,
    /// Step text after outline substitution.
    pub text: String,
    /// 1-based line of the step in the file.
    pub line: usize,
    /// 1-based column of the keyword.
    pub column: usize,
    /// Doc string argument.
    pub doc_string: Option<DocString>,
    /// Data table argument, cells trimmed.
    pub table: Option<Vec<Vec<String>>>,
}

/// A doc string argument, normalised as the official parsers do.
#[derive(Debug, Clone, PartialEq)]
pub struct DocString {
    /// Content without the delimiters' lines, indentation removed.
    pub content: String,
    /// The media type written after the opening delimiter, if any.
    pub media_type: Option<String>,
}

impl Scenario {
    /// The value of the innermost `@hosts:` tag, if any.
    pub fn hosts_pattern(&self) -> Option<&str> {
        self.tags.iter().rev().find_map(|t| t.strip_prefix("@hosts:"))
    }
}
