//! One line of a feature file and what it can be read as: the official Gherkin token
//! matcher (`gherkin_line.py` / `token_matcher.py` of cucumber/gherkin), line by line.
//! Positions are in characters (Unicode scalar values), 1-based, as the official AST.

use super::dialect::{Dialect, KeywordType};

/// A line without its line terminator.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The line as written, without `\n` or trailing `\r`.
    pub raw: &'a str,
    /// The line without its leading whitespace.
    pub trimmed: &'a str,
    /// How many whitespace characters precede the text.
    pub indent: usize,
}

/// A table cell or tag found on a line: its 1-based column and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// 1-based column.
    pub column: usize,
    /// The cell value or tag name.
    pub text: String,
}

/// Splits a file into lines as the official scanner does: on `\n`, with a trailing `\r`
/// dropped; a final line terminator does not start another line.
pub fn lines(text: &str) -> Vec<Line<'_>> {
    text.split_inclusive('\n').enumerate().map(|(i, l)| Line::new(i + 1, l.trim_end_matches(['\n', '\r']))).collect()
}

impl<'a> Line<'a> {
    /// A line from its text (terminator already removed).
    pub fn new(number: usize, raw: &'a str) -> Line<'a> {
        let trimmed = raw.trim_start();
        let indent = raw.chars().count() - trimmed.chars().count();
        Line { number, raw, trimmed, indent }
    }

    /// Blank or only whitespace.
    pub fn is_empty(&self) -> bool {
        self.trimmed.is_empty()
    }

    /// Starts (after indentation) with `prefix`.
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.trimmed.starts_with(prefix)
    }

    /// What follows the first `chars` characters of the trimmed line, trimmed.
    pub fn rest_trimmed(&self, chars: usize) -> &'a str {
        let at = self.trimmed.char_indices().nth(chars).map_or(self.trimmed.len(), |(i, _)| i);
        self.trimmed[at..].trim()
    }

    /// The line with up to `indent` leading characters removed: all of them when the line
    /// is indented less (doc string content keeps what is deeper than its delimiter).
    pub fn text_without_indent(&self, indent: usize) -> &'a str {
        if indent > self.indent {
            return self.trimmed;
        }
        let at = self.raw.char_indices().nth(indent).map_or(self.raw.len(), |(i, _)| i);
        &self.raw[at..]
    }

    /// `# language: xx` (only meaningful before the Feature): the language code.
    pub fn language(&self) -> Option<&'a str> {
        let rest = self.trimmed.strip_prefix('#')?.trim_start();
        let rest = rest.strip_prefix("language")?.trim_start();
        let code = rest.strip_prefix(':')?.trim();
        let valid = !code.is_empty() && code.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_');
        valid.then_some(code)
    }

    /// `Keyword: name` for one of `keywords` (first match in list order): the keyword and
    /// the trimmed name.
    pub fn title<'k>(&self, keywords: &'k [String]) -> Option<(&'k str, &'a str)> {
        keywords.iter().find_map(|k| {
            let after = self.trimmed.strip_prefix(k.as_str())?;
            after.starts_with(':').then(|| (k.as_str(), self.rest_trimmed(k.chars().count() + 1)))
        })
    }

    /// A step: its keyword (with trailing space, if the language has one), keyword type and
    /// trimmed text.
    pub fn step<'d>(&self, dialect: &'d Dialect) -> Option<(&'d str, KeywordType, &'a str)> {
        dialect.step_keywords().iter().find_map(|(k, ty)| {
            self.trimmed.starts_with(k.as_str()).then(|| (k.as_str(), *ty, self.rest_trimmed(k.chars().count())))
        })
    }

    /// The cells of a table row: `|` separated, each trimmed, with `\|`, `\\` and `\n`
    /// unescaped; text before the first and after the last `|` is not part of the table.
    pub fn table_cells(&self) -> Vec<Item> {
        let row = self.trimmed.trim();
        let mut cells = Vec::new();
        let mut chars = row.chars();
        let (mut col, mut start_col, mut first) = (0usize, 1usize, true);
        let mut cell = String::new();
        while let Some(c) = chars.next() {
            col += 1;
            match c {
                '|' => {
                    if !first {
                        cells.push(trimmed_cell(&cell, start_col + self.indent));
                    }
                    first = false;
                    cell.clear();
                    start_col = col + 1;
                }
                '\\' => {
                    let next = chars.next();
                    col += usize::from(next.is_some());
                    match next {
                        Some('n') => cell.push('\n'),
                        Some(n @ ('|' | '\\')) => cell.push(n),
                        Some(n) => {
                            cell.push('\\');
                            cell.push(n);
                        }
                        None => cell.push('\\'),
                    }
                }
                _ => cell.push(c),
            }
        }
        cells
    }

    /// The tags of a tag line, or the column of the first tag containing whitespace. A
    /// ` #` ends the tags (a comment).
    pub fn tags(&self) -> Result<Vec<Item>, usize> {
        let text = self.trimmed.trim();
        let uncommented = text
            .char_indices()
            .zip(text.chars().skip(1))
            .find(|((_, c), next)| c.is_whitespace() && *next == '#')
            .map_or(text, |((i, _), _)| &text[..i]);
        let mut column = self.indent + 1;
        let mut tags = Vec::new();
        for item in uncommented.trim().split('@').skip(1) {
            let name = format!("@{}", item.trim());
            if name.chars().any(char::is_whitespace) {
                return Err(column);
            }
            tags.push(Item { column, text: name });
            column += item.chars().count() + 1;
        }
        Ok(tags)
    }
}

/// A cell's value without surrounding whitespace (an escaped `\n` is kept), and the column
/// where the value starts.
fn trimmed_cell(cell: &str, start_col: usize) -> Item {
    let is_pad = |c: char| c.is_whitespace() && c != '\n';
    let start = cell.trim_start_matches(is_pad);
    let column = start_col + cell.chars().count() - start.chars().count();
    Item { column, text: start.trim_end_matches(is_pad).to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(s: &str) -> Vec<(usize, String)> {
        Line::new(1, s).table_cells().into_iter().map(|i| (i.column, i.text)).collect()
    }

    #[test]
    fn lines_follow_the_official_scanner() {
        let l = lines("a\r\nb\n");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].raw, "a");
        assert_eq!(lines("a\nb").len(), 2);
        assert!(lines("").is_empty());
    }

    #[test]
    fn cells_are_trimmed_unescaped_and_located() {
        assert_eq!(cells("  | a |  bb|"), vec![(5, "a".into()), (10, "bb".into())]);
        assert_eq!(cells(r"| \|x\\ | a\nb | \o |"), vec![(3, r"|x\".into()), (11, "a\nb".into()), (18, r"\o".into())]);
        assert_eq!(cells("|\u{a0}x\u{a0}|"), vec![(3, "x".into())]);
        assert_eq!(cells("| a | b \\"), vec![(3, "a".into())]);
        assert_eq!(cells("| |"), vec![(3, String::new())]);
    }

    #[test]
    fn tags_are_located_and_stop_at_a_comment() {
        let tags = Line::new(1, "  @a  @b #c @d").tags().expect("valid");
        let got: Vec<_> = tags.into_iter().map(|i| (i.column, i.text)).collect();
        assert_eq!(got, vec![(3, "@a".into()), (7, "@b".into())]);
        assert_eq!(Line::new(1, "  @a tag").tags(), Err(3));
        assert_eq!(Line::new(1, "@a@b").tags().map(|t| t.len()), Ok(2));
    }

    #[test]
    fn language_header() {
        assert_eq!(Line::new(1, "#language:fr").language(), Some("fr"));
        assert_eq!(Line::new(1, "  # language : zh-CN  ").language(), Some("zh-CN"));
        assert_eq!(Line::new(1, "# language: fr x").language(), None);
        assert_eq!(Line::new(1, "# comment").language(), None);
    }

    #[test]
    fn titles_and_steps() {
        let en = Dialect::english();
        assert_eq!(
            Line::new(1, "  Scenario Outline:  x ").title(&en.scenario_outline),
            Some(("Scenario Outline", "x"))
        );
        assert_eq!(Line::new(1, "Scenarios: x").title(&en.scenario), None);
        assert_eq!(Line::new(1, "    And  it  ").step(en), Some(("And ", KeywordType::Conjunction, "it")));
        assert_eq!(Line::new(1, "Andy").step(en), None);
    }

    #[test]
    fn doc_string_lines_keep_deeper_indentation() {
        let l = Line::new(1, "      deeper");
        assert_eq!(l.text_without_indent(4), "  deeper");
        assert_eq!(l.text_without_indent(8), "deeper");
    }
}
