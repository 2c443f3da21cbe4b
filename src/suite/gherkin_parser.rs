//! The Gherkin parser: the official grammar (`gherkin.berp` of cucumber/gherkin) as a
//! line-by-line state machine that builds a [`GherkinDocument`] and stops at the first
//! error, reported where the official parsers report it.
//!
//! Why our own and not the `gherkin` crate (0.16): against the official test data the crate
//! rejects 8 of 50 valid files (escaped pipes, text after a table, a step with both a table
//! and a doc string, indented `Feature:`, empty files), differs on 6 (doc string leading
//! newline and media type, U+00A0 padding), locates the first error right in 2 of 12 invalid
//! files, keeps its keyword tables private, and has no positions for tags or cells. Fixing
//! that in a wrapper needs the grammar's state machine anyway (to locate errors), and the
//! state machine is the whole parser: the official one is generated from a 30-line grammar
//! and matches one token per line. So this module follows that grammar state for state;
//! the `gherkin` crate stays for tag expressions.
//!
//! Tokens are tried in one fixed order (end of file, `# language`, blank, comment, table
//! row, doc string delimiter, Feature, Background, step, tag, Examples, Scenario, Rule,
//! other text), filtered by what the state accepts: the same choices as the generated
//! parser, whose per-state orders differ only where two token kinds cannot match one line.

use super::dialect::{Dialect, KeywordType};
use super::gherkin_ast::{DocString, GherkinDocument, Location, Step};
use super::gherkin_build::{BadRow, Block, Builder, Container, Header, Scope, row};
use super::gherkin_line::{Item, Line, lines};
use super::syntax_error::{ErrorKind, SyntaxError};

/// Parses feature text. `Ok` with no feature for an empty or comments-only file.
pub fn parse(text: &str) -> Result<GherkinDocument, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        lines: lines(text),
        dialect: Dialect::english(),
        language: "en".into(),
        doc: DocState::Closed,
        state: State::Start,
        build: Builder::default(),
    };
    for i in 0..p.lines.len() {
        p.line(i)?;
    }
    p.end()?;
    Ok(GherkinDocument { comments: p.build.comments, feature: p.build.feature })
}

/// The arguments a step has so far: a table, a doc string, or both in either order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    Table,
    TableThenDoc,
    Doc,
    DocThenTable,
}

/// Where in the grammar the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Language,
    FeatureTags,
    Header { block: Block, described: bool },
    Step { background: bool, scope: Scope, arg: Arg },
    DocString { background: bool, scope: Scope, table_first: bool },
    ScenarioTags(Scope),
    ExamplesTags(Scope),
    RuleTags,
    ExamplesTable(Scope),
}

/// The kinds of line (token types of the official grammar).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Language,
    Empty,
    Comment,
    TableRow,
    DocSeparator,
    FeatureLine,
    BackgroundLine,
    StepLine,
    TagLine,
    ExamplesLine,
    ScenarioLine,
    RuleLine,
    Other,
}

impl Kind {
    /// How an error message names it (`None`: not worth naming).
    fn words(self) -> Option<&'static str> {
        match self {
            Kind::Language | Kind::Empty | Kind::Comment | Kind::Other => None,
            Kind::TableRow => Some("a table row"),
            Kind::DocSeparator => Some("a doc string"),
            Kind::FeatureLine => Some("Feature"),
            Kind::BackgroundLine => Some("Background"),
            Kind::StepLine => Some("a step"),
            Kind::TagLine => Some("a tag"),
            Kind::ExamplesLine => Some("Examples"),
            Kind::ScenarioLine => Some("Scenario"),
            Kind::RuleLine => Some("Rule"),
        }
    }
}

/// A line read as one token kind, with what it carries.
#[derive(Debug)]
enum Token<'a> {
    Language(&'static Dialect, &'a str),
    Empty,
    Comment,
    TableRow(Vec<Item>),
    OpenDoc { delimiter: &'static str, media_type: &'a str },
    CloseDoc,
    Feature(Header),
    Background(Header),
    Step { keyword: &'static str, keyword_type: KeywordType, text: &'a str },
    Tags(Vec<Item>, State),
    Examples(Header),
    Scenario(Header),
    Rule(Header),
    Other(String),
}

/// The doc string delimiter in effect, and the indentation its content loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocState {
    Closed,
    Open { delimiter: &'static str, indent: usize, line: usize },
}

const DELIMITERS: [&str; 2] = ["\"\"\"", "```"];

/// The order in which token kinds are tried (those a state accepts).
const ORDER: [Kind; 13] = [
    Kind::Language,
    Kind::Empty,
    Kind::Comment,
    Kind::TableRow,
    Kind::DocSeparator,
    Kind::FeatureLine,
    Kind::BackgroundLine,
    Kind::StepLine,
    Kind::TagLine,
    Kind::ExamplesLine,
    Kind::ScenarioLine,
    Kind::RuleLine,
    Kind::Other,
];

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    dialect: &'static Dialect,
    language: String,
    doc: DocState,
    state: State,
    build: Builder,
}

impl State {
    /// The kinds of line accepted here, besides the end of file.
    fn accepts(self) -> &'static [Kind] {
        use Kind::*;
        match self {
            State::Start => &[Language, TagLine, FeatureLine, Comment, Empty],
            State::Language | State::FeatureTags => &[TagLine, FeatureLine, Comment, Empty],
            State::ScenarioTags(_) => &[TagLine, ScenarioLine, Comment, Empty],
            State::ExamplesTags(_) => &[TagLine, ExamplesLine, Comment, Empty],
            State::RuleTags => &[TagLine, RuleLine, Comment, Empty],
            State::DocString { .. } => &[DocSeparator, Other],
            State::Header { block, described } => header_accepts(block, described),
            State::Step { background: true, arg, .. } => match arg {
                Arg::None | Arg::Table => {
                    &[TableRow, DocSeparator, StepLine, Empty, Comment, TagLine, ScenarioLine, RuleLine]
                }
                Arg::Doc | Arg::DocThenTable => &[TableRow, StepLine, Empty, Comment, TagLine, ScenarioLine, RuleLine],
                Arg::TableThenDoc => &[StepLine, Empty, Comment, TagLine, ScenarioLine, RuleLine],
            },
            State::Step { background: false, arg, .. } => match arg {
                Arg::None | Arg::Table => {
                    &[TableRow, DocSeparator, StepLine, Empty, Comment, TagLine, ExamplesLine, ScenarioLine, RuleLine]
                }
                Arg::Doc | Arg::DocThenTable => {
                    &[TableRow, StepLine, Empty, Comment, TagLine, ExamplesLine, ScenarioLine, RuleLine]
                }
                Arg::TableThenDoc => &[StepLine, Empty, Comment, TagLine, ExamplesLine, ScenarioLine, RuleLine],
            },
            State::ExamplesTable(_) => &[TableRow, Empty, Comment, TagLine, ExamplesLine, ScenarioLine, RuleLine],
        }
    }

    /// Whether the file may end here.
    fn accepts_end(self) -> bool {
        !matches!(
            self,
            State::Language
                | State::FeatureTags
                | State::ScenarioTags(_)
                | State::ExamplesTags(_)
                | State::RuleTags
                | State::DocString { .. }
        )
    }

    /// Where a scenario started here goes.
    fn scope(self) -> Scope {
        match self {
            State::Header { block: Block::Feature, .. } | State::Start | State::Language | State::FeatureTags => {
                Scope::Feature
            }
            State::Header { block: Block::Rule, .. } | State::RuleTags => Scope::Rule,
            State::Header { block: Block::Background(s) | Block::Scenario(s) | Block::Examples(s), .. }
            | State::Step { scope: s, .. }
            | State::DocString { scope: s, .. }
            | State::ScenarioTags(s)
            | State::ExamplesTags(s)
            | State::ExamplesTable(s) => s,
        }
    }

    /// Inside a scenario (where a tag line may start Examples).
    fn in_scenario(self) -> bool {
        matches!(
            self,
            State::Header { block: Block::Scenario(_) | Block::Examples(_), .. }
                | State::Step { background: false, .. }
                | State::ExamplesTable(_)
        )
    }
}

fn header_accepts(block: Block, described: bool) -> &'static [Kind] {
    use Kind::*;
    match (block, described) {
        (Block::Feature | Block::Rule, false) => {
            &[Empty, Comment, BackgroundLine, TagLine, ScenarioLine, RuleLine, Other]
        }
        (Block::Feature | Block::Rule, true) => &[Comment, BackgroundLine, TagLine, ScenarioLine, RuleLine, Other],
        (Block::Background(_), false) => &[Empty, Comment, StepLine, TagLine, ScenarioLine, RuleLine, Other],
        (Block::Background(_), true) => &[Comment, StepLine, TagLine, ScenarioLine, RuleLine, Other],
        (Block::Scenario(_), false) => {
            &[Empty, Comment, StepLine, TagLine, ExamplesLine, ScenarioLine, RuleLine, Other]
        }
        (Block::Scenario(_), true) => &[Comment, StepLine, TagLine, ExamplesLine, ScenarioLine, RuleLine, Other],
        (Block::Examples(_), false) => {
            &[Empty, Comment, TableRow, TagLine, ExamplesLine, ScenarioLine, RuleLine, Other]
        }
        (Block::Examples(_), true) => &[Comment, TableRow, TagLine, ExamplesLine, ScenarioLine, RuleLine, Other],
    }
}

impl<'a> Parser<'a> {
    /// Reads line `i` in the current state.
    fn line(&mut self, i: usize) -> Result<(), SyntaxError> {
        let line = self.lines[i];
        let accepts = self.state.accepts();
        match self.classify(i, accepts)? {
            Some(token) => self.apply(&line, token),
            None => Err(SyntaxError {
                location: Location::at(line.number, line.indent + 1),
                kind: ErrorKind::UnexpectedLine { expected: expected(accepts), found: line.trimmed.trim().to_string() },
            }),
        }
    }

    /// The end of the file.
    fn end(&mut self) -> Result<(), SyntaxError> {
        let location = Location { line: self.lines.len() + 1, column: None };
        if let State::DocString { .. } = self.state {
            let opened = self.open_doc_line();
            return Err(SyntaxError { location, kind: ErrorKind::UnclosedDocString { opened } });
        }
        if let State::ScenarioTags(_) | State::ExamplesTags(_) | State::RuleTags = self.state {
            return Err(SyntaxError { location, kind: ErrorKind::DanglingTags });
        }
        if !self.state.accepts_end() {
            let expected = expected(self.state.accepts());
            return Err(SyntaxError { location, kind: ErrorKind::UnexpectedEnd { expected } });
        }
        self.leave_state(None)
    }

    fn open_doc_line(&self) -> usize {
        match self.doc {
            DocState::Open { line, .. } => line,
            DocState::Closed => 0,
        }
    }

    /// What line `i` is, trying token kinds in the official order among those accepted.
    fn classify(&self, i: usize, accepts: &[Kind]) -> Result<Option<Token<'a>>, SyntaxError> {
        for kind in ORDER.into_iter().filter(|k| accepts.contains(k)) {
            if let Some(token) = self.read_as(kind, i)? {
                return Ok(Some(token));
            }
        }
        Ok(None)
    }

    /// Line `i` read as a `kind` token, if it is one.
    fn read_as(&self, kind: Kind, i: usize) -> Result<Option<Token<'a>>, SyntaxError> {
        let line = self.lines[i];
        let d = self.dialect;
        let header = |(keyword, name): (&str, &str)| Header {
            location: Location::at(line.number, line.indent + 1),
            keyword: keyword.to_string(),
            name: name.to_string(),
        };
        Ok(match kind {
            Kind::Language => match line.language() {
                Some(code) => Some(Token::Language(dialect(&line, code)?, code)),
                None => None,
            },
            Kind::Empty => line.is_empty().then_some(Token::Empty),
            Kind::Comment => line.starts_with("#").then_some(Token::Comment),
            Kind::TableRow => line.starts_with("|").then(|| Token::TableRow(line.table_cells())),
            Kind::DocSeparator => self.doc_separator(&line),
            Kind::FeatureLine => line.title(&d.feature).map(|t| Token::Feature(header(t))),
            Kind::BackgroundLine => line.title(&d.background).map(|t| Token::Background(header(t))),
            Kind::StepLine => {
                line.step(d).map(|(keyword, keyword_type, text)| Token::Step { keyword, keyword_type, text })
            }
            Kind::TagLine if line.starts_with("@") => Some(Token::Tags(tag_items(&line)?, self.after_tags(i)?)),
            Kind::TagLine => None,
            Kind::ExamplesLine => line.title(&d.examples).map(|t| Token::Examples(header(t))),
            Kind::ScenarioLine => {
                line.title(&d.scenario).or_else(|| line.title(&d.scenario_outline)).map(|t| Token::Scenario(header(t)))
            }
            Kind::RuleLine => line.title(&d.rule).map(|t| Token::Rule(header(t))),
            Kind::Other => Some(Token::Other(self.other_text(&line))),
        })
    }

    /// An opening delimiter (either kind) or, in a doc string, the one that closes it.
    fn doc_separator(&self, line: &Line<'a>) -> Option<Token<'a>> {
        match self.doc {
            DocState::Closed => DELIMITERS.into_iter().find(|d| line.starts_with(d)).map(|delimiter| {
                let media_type = line.rest_trimmed(delimiter.len());
                Token::OpenDoc { delimiter, media_type }
            }),
            DocState::Open { delimiter, .. } => line.starts_with(delimiter).then_some(Token::CloseDoc),
        }
    }

    /// A description or doc string line: as written, less the doc string's indentation,
    /// with escaped delimiters unescaped.
    fn other_text(&self, line: &Line<'_>) -> String {
        match self.doc {
            DocState::Closed => line.raw.to_string(),
            DocState::Open { delimiter, indent, .. } => {
                let escaped: String = delimiter.chars().flat_map(|c| ['\\', c]).collect();
                line.text_without_indent(indent).replace(&escaped, delimiter)
            }
        }
    }

    /// What the tag line `i` starts: the tags of the next Examples or Scenario if one
    /// follows (past blank, comment and tag lines), else of a Rule.
    fn after_tags(&self, i: usize) -> Result<State, SyntaxError> {
        let scope = self.state.scope();
        Ok(match self.state {
            State::FeatureTags | State::Start | State::Language => State::FeatureTags,
            s @ (State::ScenarioTags(_) | State::ExamplesTags(_) | State::RuleTags) => s,
            s if s.in_scenario() && self.lookahead(i, Kind::ExamplesLine)? => State::ExamplesTags(scope),
            _ if self.lookahead(i, Kind::ScenarioLine)? => State::ScenarioTags(scope),
            _ => State::RuleTags,
        })
    }

    /// Whether a `want` line follows line `i`, past blank, comment and tag lines.
    fn lookahead(&self, i: usize, want: Kind) -> Result<bool, SyntaxError> {
        let d = self.dialect;
        for line in &self.lines[i + 1..] {
            let hit = match want {
                Kind::ExamplesLine => line.title(&d.examples).is_some(),
                _ => line.title(&d.scenario).or_else(|| line.title(&d.scenario_outline)).is_some(),
            };
            if hit {
                return Ok(true);
            }
            if line.is_empty() || line.starts_with("#") {
                continue;
            }
            if !line.starts_with("@") {
                return Ok(false);
            }
            tag_items(line)?;
        }
        Ok(false)
    }

    /// Builds what `token` adds and moves to the next state.
    fn apply(&mut self, line: &Line<'_>, token: Token<'_>) -> Result<(), SyntaxError> {
        self.leave_state(Some(&token))?;
        let at = self.state_container();
        let scope = self.state.scope();
        self.state = match (self.state, token) {
            (_, Token::Language(dialect, code)) => {
                self.dialect = dialect;
                self.language = code.to_string();
                State::Language
            }
            (s, Token::Empty) => s,
            (s, Token::Comment) => {
                self.build.comment(line);
                described(s)
            }
            (s, Token::Other(text)) if !matches!(s, State::DocString { .. }) => {
                self.build.description_line(&text);
                described(s)
            }
            (s, t @ (Token::Other(_) | Token::TableRow(_) | Token::OpenDoc { .. } | Token::CloseDoc)) => {
                self.apply_argument(line, s, t)
            }
            (_, Token::Feature(h)) => {
                self.build.feature(h, &self.language);
                State::Header { block: Block::Feature, described: false }
            }
            (_, Token::Background(h)) => {
                self.build.background(scope, h);
                State::Header { block: Block::Background(scope), described: false }
            }
            (_, Token::Step { keyword, keyword_type, text }) => {
                let location = Location::at(line.number, line.indent + 1);
                let (keyword, text) = (keyword.to_string(), text.to_string());
                let step = Step { location, keyword, keyword_type, text, doc_string: None, data_table: None };
                self.build.step(at, step);
                State::Step { background: at.background, scope, arg: Arg::None }
            }
            (_, Token::Tags(items, next)) => {
                self.build.tags(line, items);
                next
            }
            (_, Token::Examples(h)) => {
                self.build.examples(scope, h);
                State::Header { block: Block::Examples(scope), described: false }
            }
            (_, Token::Scenario(h)) => {
                self.build.scenario(scope, h);
                State::Header { block: Block::Scenario(scope), described: false }
            }
            (_, Token::Rule(h)) => {
                self.build.rule(h);
                State::Header { block: Block::Rule, described: false }
            }
        };
        Ok(())
    }

    /// Builds what a table row or doc string line adds; the next state.
    fn apply_argument(&mut self, line: &Line<'_>, state: State, token: Token<'_>) -> State {
        let at = self.state_container();
        let scope = state.scope();
        match (state, token) {
            (s @ State::DocString { .. }, Token::Other(text)) => {
                self.build.doc_line(text);
                s
            }
            (State::Header { block: Block::Examples(_), .. } | State::ExamplesTable(_), Token::TableRow(cells)) => {
                self.build.examples_row(scope, row(line, cells));
                State::ExamplesTable(scope)
            }
            (State::Step { background, scope, arg }, Token::TableRow(cells)) => {
                self.build.step_row(at, row(line, cells));
                let arg = match arg {
                    Arg::Doc | Arg::DocThenTable => Arg::DocThenTable,
                    _ => Arg::Table,
                };
                State::Step { background, scope, arg }
            }
            (State::Step { background, scope, arg }, Token::OpenDoc { delimiter, media_type }) => {
                let location = Location::at(line.number, line.indent + 1);
                let media_type = (!media_type.is_empty()).then(|| media_type.to_string());
                let doc = DocString { location, content: String::new(), delimiter: delimiter.into(), media_type };
                self.build.open_doc_string(at, doc);
                self.doc = DocState::Open { delimiter, indent: line.indent, line: line.number };
                State::DocString { background, scope, table_first: arg == Arg::Table }
            }
            (State::DocString { background, scope, table_first }, Token::CloseDoc) => {
                self.build.close_doc_string(at);
                self.doc = DocState::Closed;
                let arg = if table_first { Arg::TableThenDoc } else { Arg::Doc };
                State::Step { background, scope, arg }
            }
            (s, _) => s,
        }
    }

    fn state_container(&self) -> Container {
        let background = matches!(
            self.state,
            State::Header { block: Block::Background(_), .. }
                | State::Step { background: true, .. }
                | State::DocString { background: true, .. }
        );
        Container { background, scope: self.state.scope() }
    }

    /// Leaving the current state for a `next` token (`None`: the end of the file): a table
    /// or description that ends is completed (tables checked, as the official builder does).
    fn leave_state(&mut self, next: Option<&Token<'_>>) -> Result<(), SyntaxError> {
        let stays = matches!(next, Some(Token::Empty | Token::Comment));
        let bad_row = match self.state {
            State::Step { arg: Arg::Table | Arg::DocThenTable, .. }
                if !matches!(next, Some(Token::TableRow(_))) && !stays =>
            {
                self.build.check_step_table(self.state_container())
            }
            State::ExamplesTable(scope) if !matches!(next, Some(Token::TableRow(_))) && !stays => {
                self.build.check_examples_table(scope)
            }
            State::Header { block, .. } if !matches!(next, Some(Token::Other(_))) && !stays => {
                self.build.end_description(block);
                Ok(())
            }
            _ => Ok(()),
        };
        bad_row.map_err(|b: BadRow| SyntaxError {
            location: b.location,
            kind: ErrorKind::InconsistentCells { found: b.found, expected: b.expected },
        })
    }
}

/// A header state once its description has started (a comment starts it too).
fn described(s: State) -> State {
    match s {
        State::Header { block, .. } => State::Header { block, described: true },
        s => s,
    }
}

/// The dialect of a `# language:` line, or the official error for an unknown one.
fn dialect(line: &Line<'_>, code: &str) -> Result<&'static Dialect, SyntaxError> {
    Dialect::get(code).ok_or_else(|| SyntaxError {
        location: Location::at(line.number, line.indent + 1),
        kind: ErrorKind::NoSuchLanguage(code.to_string()),
    })
}

/// The tags of a tag line, or the official error for one with whitespace.
fn tag_items(line: &Line<'_>) -> Result<Vec<Item>, SyntaxError> {
    line.tags().map_err(|column| SyntaxError {
        location: Location::at(line.number, column),
        kind: ErrorKind::TagWithWhitespace,
    })
}

fn expected(accepts: &[Kind]) -> Vec<&'static str> {
    accepts.iter().filter_map(|k| k.words()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::gherkin_ast::{FeatureChild, RuleChild};

    fn error_at(text: &str) -> (usize, Option<usize>, String) {
        let e = parse(text).expect_err("invalid");
        (e.location.line, e.location.column, e.kind.to_string())
    }

    #[test]
    fn tags_go_to_examples_scenarios_or_rules_by_lookahead() {
        let text = concat!(
            "@f\nFeature: F\n  Scenario: S\n    Given x\n  @e\n  # c\n  Examples:\n    | a |\n",
            "  @s\n\n  Scenario: T\n  @r\n  Rule: R\n    @s2\n    Example: U\n",
        );
        let doc = parse(text).expect("valid");
        let f = doc.feature.expect("feature");
        let [FeatureChild::Scenario(s), FeatureChild::Scenario(t), FeatureChild::Rule(r)] = f.children.as_slice()
        else {
            panic!("children: {:?}", f.children)
        };
        assert_eq!(s.examples[0].tags[0].name, "@e");
        assert_eq!(t.tags[0].name, "@s");
        assert_eq!(r.tags[0].name, "@r");
        let [RuleChild::Scenario(u)] = r.children.as_slice() else { panic!("rule: {r:?}") };
        assert_eq!((u.tags[0].name.as_str(), u.keyword.as_str()), ("@s2", "Example"));
        assert_eq!(doc.comments[0].text, "  # c");
    }

    #[test]
    fn errors_are_where_the_official_parsers_put_them() {
        let (line, col, msg) = error_at("Feature: F\n  Scenario: S\n    Given x\n\n  @tag\n");
        assert_eq!((line, col), (6, None));
        assert_eq!(msg, "unexpected end of file: tags must be followed by Scenario, Rule or Examples");
        let (line, col, msg) = error_at("Feature: F\n  Scenario: S\n    Examples:\n      | a |\n    Given x\n");
        assert_eq!((line, col), (5, Some(5)));
        assert!(msg.starts_with("expected a table row, a tag, Examples, Scenario or Rule, found \"Given x\""), "{msg}");
        // Under a scenario header it would be description text; after a step it is an error.
        assert_eq!(error_at("Feature: F\n  Scenario: S\n    Given x\n  Background: B\n").0, 4);
        let (line, col, msg) = error_at("Feature: F\n  Scenario: S\n    Given x\n      \"\"\"\n      text\n");
        assert_eq!((line, col), (6, None));
        assert!(msg.contains("doc string opened on line 4"), "{msg}");
        let (line, col, msg) =
            error_at("Feature: F\n  Scenario: S\n    Given x\n      | a | b |\n      | c |\n  @bad tag\n");
        assert_eq!((line, col), (6, Some(3)), "the tag is read before the table ends: {msg}");
    }

    #[test]
    fn indentation_bom_and_crlf_are_accepted() {
        let doc = parse("\u{feff}  \t Feature: F\r\n\r\n  Scenario: S\r\n    Given x\r\n").expect("valid");
        let f = doc.feature.expect("feature");
        assert_eq!((f.location.line, f.location.column), (1, Some(5)));
        assert_eq!(f.name, "F");
    }
}
