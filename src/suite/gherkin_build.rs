//! Builds the [`GherkinDocument`] while `gherkin_parser` reads lines: every new element is
//! appended to the last open one (a step to the last scenario of the last rule, ...), as the
//! official AST builder does. The parser decides what is allowed; this only assembles.

use super::gherkin_ast::{
    Background, Comment, DataTable, DocString, Examples, Feature, FeatureChild, Location, Rule, RuleChild, Scenario,
    Step, TableRow, Tag,
};
use super::gherkin_line::{Item, Line};

/// Whether scenarios and backgrounds go into the Feature or into its last Rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// Directly in the Feature.
    Feature,
    /// In the Feature's last Rule.
    Rule,
}

/// What a header (and the description under it) belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    /// The Feature.
    Feature,
    /// The last Rule.
    Rule,
    /// The last Background in a scope.
    Background(Scope),
    /// The last Scenario in a scope.
    Scenario(Scope),
    /// The last Examples of the last Scenario in a scope.
    Examples(Scope),
}

/// Where steps go: the last Background or the last Scenario of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Container {
    /// A Background (else a Scenario).
    pub background: bool,
    /// Feature or Rule.
    pub scope: Scope,
}

/// A keyword line's parts.
#[derive(Debug, Clone)]
pub(super) struct Header {
    /// Where the keyword is.
    pub location: Location,
    /// The keyword as written.
    pub keyword: String,
    /// The name after the colon.
    pub name: String,
}

/// The document under construction.
#[derive(Debug, Default)]
pub(super) struct Builder {
    /// Comment lines so far.
    pub comments: Vec<Comment>,
    /// The Feature, once its line is read.
    pub feature: Option<Feature>,
    tags: Vec<Tag>,
    description: Vec<String>,
    doc_lines: Vec<String>,
}

/// A table row with a cell count different from the first row's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BadRow {
    /// Where the row is.
    pub location: Location,
    /// Cells in the row.
    pub found: usize,
    /// Cells in the first row.
    pub expected: usize,
}

/// A table row from a line.
pub(super) fn row(line: &Line<'_>, cells: Vec<Item>) -> TableRow {
    TableRow {
        location: Location::at(line.number, line.indent + 1),
        cells: cells
            .into_iter()
            .map(|c| super::gherkin_ast::Cell {
                location: Location::at(line.number, c.column),
                value: c.text,
            })
            .collect(),
    }
}

fn check_rows<'r>(rows: impl IntoIterator<Item = &'r TableRow>) -> Result<(), BadRow> {
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else { return Ok(()) };
    let expected = first.cells.len();
    match rows.find(|r| r.cells.len() != expected) {
        Some(r) => Err(BadRow {
            location: r.location,
            found: r.cells.len(),
            expected,
        }),
        None => Ok(()),
    }
}

impl Builder {
    /// Records a comment line.
    pub(super) fn comment(&mut self, line: &Line<'_>) {
        self.comments.push(Comment {
            location: Location::at(line.number, 1),
            text: line.raw.to_string(),
        });
    }

    /// Adds the tags of a tag line to those waiting for the next element.
    pub(super) fn tags(&mut self, line: &Line<'_>, items: Vec<Item>) {
        let located = items.into_iter().map(|i| Tag {
            location: Location::at(line.number, i.column),
            name: i.text,
        });
        self.tags.extend(located);
    }

    /// Starts the Feature.
    pub(super) fn feature(&mut self, h: Header, language: &str) {
        self.feature = Some(Feature {
            tags: std::mem::take(&mut self.tags),
            location: h.location,
            language: language.to_string(),
            keyword: h.keyword,
            name: h.name,
            description: String::new(),
            children: Vec::new(),
        });
    }

    /// Starts a Rule.
    pub(super) fn rule(&mut self, h: Header) {
        let tags = std::mem::take(&mut self.tags);
        let rule = Rule {
            tags,
            location: h.location,
            keyword: h.keyword,
            name: h.name,
            description: String::new(),
            children: Vec::new(),
        };
        if let Some(f) = &mut self.feature {
            f.children.push(FeatureChild::Rule(rule));
        }
    }

    /// Starts a Background.
    pub(super) fn background(&mut self, scope: Scope, h: Header) {
        let bg = Background {
            location: h.location,
            keyword: h.keyword,
            name: h.name,
            description: String::new(),
            steps: Vec::new(),
        };
        match scope {
            Scope::Feature => self.feature_children(|c| c.push(FeatureChild::Background(bg))),
            Scope::Rule => self.rule_children(|c| c.push(RuleChild::Background(bg))),
        }
    }

    /// Starts a Scenario (or outline).
    pub(super) fn scenario(&mut self, scope: Scope, h: Header) {
        let tags = std::mem::take(&mut self.tags);
        let s = Scenario {
            tags,
            location: h.location,
            keyword: h.keyword,
            name: h.name,
            description: String::new(),
            steps: Vec::new(),
            examples: Vec::new(),
        };
        match scope {
            Scope::Feature => self.feature_children(|c| c.push(FeatureChild::Scenario(s))),
            Scope::Rule => self.rule_children(|c| c.push(RuleChild::Scenario(s))),
        }
    }

    /// Starts an Examples section of the current scenario.
    pub(super) fn examples(&mut self, scope: Scope, h: Header) {
        let tags = std::mem::take(&mut self.tags);
        let ex = Examples {
            tags,
            location: h.location,
            keyword: h.keyword,
            name: h.name,
            description: String::new(),
            table_header: None,
            table_body: Vec::new(),
        };
        if let Some(s) = self.scenario_mut(scope) {
            s.examples.push(ex);
        }
    }

    /// Adds a step.
    pub(super) fn step(&mut self, at: Container, step: Step) {
        if let Some(steps) = self.steps_mut(at) {
            steps.push(step);
        }
    }

    /// A description line of the current header.
    pub(super) fn description_line(&mut self, text: &str) {
        self.description.push(text.to_string());
    }

    /// The header's description is complete: trailing blank lines dropped, stored.
    pub(super) fn end_description(&mut self, block: Block) {
        let mut lines = std::mem::take(&mut self.description);
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        let text = lines.join("\n");
        let slot = match block {
            Block::Feature => self.feature.as_mut().map(|f| &mut f.description),
            Block::Rule => self.rule_mut().map(|r| &mut r.description),
            Block::Background(scope) => self.background_mut(scope).map(|b| &mut b.description),
            Block::Scenario(scope) => self.scenario_mut(scope).map(|s| &mut s.description),
            Block::Examples(scope) => self.examples_mut(scope).map(|e| &mut e.description),
        };
        if let Some(slot) = slot {
            *slot = text;
        }
    }

    /// Adds a row to the current step's data table.
    pub(super) fn step_row(&mut self, at: Container, row: TableRow) {
        if let Some(step) = self.steps_mut(at).and_then(|s| s.last_mut()) {
            let table = step.data_table.get_or_insert_with(|| DataTable {
                location: row.location,
                rows: Vec::new(),
            });
            table.rows.push(row);
        }
    }

    /// Adds a row to the current Examples: the header first, then the body.
    pub(super) fn examples_row(&mut self, scope: Scope, row: TableRow) {
        if let Some(ex) = self.examples_mut(scope) {
            if ex.table_header.is_none() {
                ex.table_header = Some(row);
            } else {
                ex.table_body.push(row);
            }
        }
    }

    /// Checks the current step's data table (when it ends).
    pub(super) fn check_step_table(&mut self, at: Container) -> Result<(), BadRow> {
        let table = self
            .steps_mut(at)
            .and_then(|s| s.last_mut())
            .and_then(|s| s.data_table.as_ref());
        table.map_or(Ok(()), |t| check_rows(&t.rows))
    }

    /// Checks the current Examples table (when it ends).
    pub(super) fn check_examples_table(&mut self, scope: Scope) -> Result<(), BadRow> {
        match self.examples_mut(scope) {
            Some(ex) => check_rows(ex.table_header.iter().chain(&ex.table_body)),
            None => Ok(()),
        }
    }

    /// Opens a doc string on the current step.
    pub(super) fn open_doc_string(&mut self, at: Container, doc: DocString) {
        self.doc_lines.clear();
        if let Some(step) = self.steps_mut(at).and_then(|s| s.last_mut()) {
            step.doc_string = Some(doc);
        }
    }

    /// A content line of the open doc string.
    pub(super) fn doc_line(&mut self, text: String) {
        self.doc_lines.push(text);
    }

    /// Closes the doc string: its content is its lines.
    pub(super) fn close_doc_string(&mut self, at: Container) {
        let content = std::mem::take(&mut self.doc_lines).join("\n");
        if let Some(doc) = self
            .steps_mut(at)
            .and_then(|s| s.last_mut())
            .and_then(|s| s.doc_string.as_mut())
        {
            doc.content = content;
        }
    }

    fn feature_children(&mut self, f: impl FnOnce(&mut Vec<FeatureChild>)) {
        if let Some(feature) = &mut self.feature {
            f(&mut feature.children);
        }
    }

    fn rule_children(&mut self, f: impl FnOnce(&mut Vec<RuleChild>)) {
        if let Some(rule) = self.rule_mut() {
            f(&mut rule.children);
        }
    }

    fn rule_mut(&mut self) -> Option<&mut Rule> {
        match self.feature.as_mut()?.children.last_mut()? {
            FeatureChild::Rule(r) => Some(r),
            _ => None,
        }
    }

    fn background_mut(&mut self, scope: Scope) -> Option<&mut Background> {
        match scope {
            Scope::Feature => match self.feature.as_mut()?.children.last_mut()? {
                FeatureChild::Background(b) => Some(b),
                _ => None,
            },
            Scope::Rule => match self.rule_mut()?.children.last_mut()? {
                RuleChild::Background(b) => Some(b),
                RuleChild::Scenario(_) => None,
            },
        }
    }

    fn scenario_mut(&mut self, scope: Scope) -> Option<&mut Scenario> {
        match scope {
            Scope::Feature => match self.feature.as_mut()?.children.last_mut()? {
                FeatureChild::Scenario(s) => Some(s),
                _ => None,
            },
            Scope::Rule => match self.rule_mut()?.children.last_mut()? {
                RuleChild::Scenario(s) => Some(s),
                RuleChild::Background(_) => None,
            },
        }
    }

    fn examples_mut(&mut self, scope: Scope) -> Option<&mut Examples> {
        self.scenario_mut(scope)?.examples.last_mut()
    }

    fn steps_mut(&mut self, at: Container) -> Option<&mut Vec<Step>> {
        if at.background {
            self.background_mut(at.scope).map(|b| &mut b.steps)
        } else {
            self.scenario_mut(at.scope).map(|s| &mut s.steps)
        }
    }
}
