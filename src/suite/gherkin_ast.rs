//! The Gherkin document as the official parsers build it (the `gherkinDocument` message of
//! cucumber/messages, without ids): what `gherkin_parser` produces and `pickles` compiles.
//! Serialises to the official JSON shape (camelCase, absent options omitted), which the
//! conformance test compares with `X.feature.ast.ndjson`.

use serde::Serialize;

/// A 1-based position in the file. The column is absent only for the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters), where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Location {
    /// A position with both line and column.
    pub fn at(line: usize, column: usize) -> Location {
        Location { line, column: Some(column) }
    }
}

/// A parsed feature file.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GherkinDocument {
    /// Every comment line, in file order.
    pub comments: Vec<Comment>,
    /// The feature, absent for an empty or comments-only file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<Feature>,
}

/// A `#` comment line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    /// Where it is (column 1).
    pub location: Location,
    /// The whole line, leading whitespace included.
    pub text: String,
}

/// A tag (`@name`) with its position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tag {
    /// Where the `@` is.
    pub location: Location,
    /// The tag with its `@`.
    pub name: String,
}

/// The Feature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feature {
    /// Tags above the Feature line.
    pub tags: Vec<Tag>,
    /// Where the keyword is.
    pub location: Location,
    /// The `# language:` in effect (`en` by default).
    pub language: String,
    /// The keyword as written (`Feature`, `Fonctionnalité`).
    pub keyword: String,
    /// The text after the colon, trimmed.
    pub name: String,
    /// Free text under the header, lines kept as written, trailing blank lines dropped.
    pub description: String,
    /// Background, scenarios and rules, in file order.
    pub children: Vec<FeatureChild>,
}

/// What a Feature contains.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FeatureChild {
    /// Its Background (first, at most one).
    Background(Background),
    /// A Scenario or Scenario Outline.
    Scenario(Scenario),
    /// A Rule.
    Rule(Rule),
}

/// A Rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// Tags above the Rule line.
    pub tags: Vec<Tag>,
    /// Where the keyword is.
    pub location: Location,
    /// The keyword as written.
    pub keyword: String,
    /// The text after the colon, trimmed.
    pub name: String,
    /// Free text under the header.
    pub description: String,
    /// Background and scenarios, in file order.
    pub children: Vec<RuleChild>,
}

/// What a Rule contains.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleChild {
    /// Its Background (first, at most one).
    Background(Background),
    /// A Scenario or Scenario Outline.
    Scenario(Scenario),
}

/// A Background.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Background {
    /// Where the keyword is.
    pub location: Location,
    /// The keyword as written.
    pub keyword: String,
    /// The text after the colon, trimmed.
    pub name: String,
    /// Free text under the header.
    pub description: String,
    /// Its steps.
    pub steps: Vec<Step>,
}

/// A Scenario or Scenario Outline (an outline is a scenario with Examples).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Tags above the Scenario line.
    pub tags: Vec<Tag>,
    /// Where the keyword is.
    pub location: Location,
    /// The keyword as written (`Scenario`, `Scenario Outline`, `Example`, ...).
    pub keyword: String,
    /// The text after the colon, trimmed.
    pub name: String,
    /// Free text under the header.
    pub description: String,
    /// Its steps.
    pub steps: Vec<Step>,
    /// Its Examples sections.
    pub examples: Vec<Examples>,
}

/// An Examples section of an outline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Examples {
    /// Tags above the Examples line.
    pub tags: Vec<Tag>,
    /// Where the keyword is.
    pub location: Location,
    /// The keyword as written.
    pub keyword: String,
    /// The text after the colon, trimmed.
    pub name: String,
    /// Free text under the header.
    pub description: String,
    /// The first row: the parameter names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_header: Option<TableRow>,
    /// The other rows: one scenario each.
    pub table_body: Vec<TableRow>,
}

/// A step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Where the keyword is.
    pub location: Location,
    /// The keyword as written, with its trailing space where the language has one.
    pub keyword: String,
    /// What the keyword says.
    #[serde(serialize_with = "keyword_type")]
    pub keyword_type: super::dialect::KeywordType,
    /// The text after the keyword, trimmed.
    pub text: String,
    /// A doc string argument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_string: Option<DocString>,
    /// A data table argument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_table: Option<DataTable>,
}

fn keyword_type<S: serde::Serializer>(t: &super::dialect::KeywordType, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.as_str())
}

/// A doc string argument.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocString {
    /// Where the opening delimiter is.
    pub location: Location,
    /// The text between the delimiters, indentation of the opening delimiter removed,
    /// escaped delimiters unescaped.
    pub content: String,
    /// `"""` or the backtick fence.
    pub delimiter: String,
    /// What follows the opening delimiter (`xml`, `json`), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// A data table argument.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataTable {
    /// Where the first row is.
    pub location: Location,
    /// Its rows, all with the same number of cells.
    pub rows: Vec<TableRow>,
}

/// One row of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableRow {
    /// Where the row's first `|` is.
    pub location: Location,
    /// Its cells.
    pub cells: Vec<Cell>,
}

/// One cell of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// Where the cell's text starts.
    pub location: Location,
    /// The text, trimmed, `\|`, `\\` and `\n` unescaped.
    pub value: String,
}
