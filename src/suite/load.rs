//! Finds `.feature` files and loads them: parsed by [`gherkin_parser`] (the official
//! Gherkin grammar, see its module doc for why not the `gherkin` crate) and compiled by
//! [`pickles`] into [`Feature`]s of runnable scenarios. Errors carry `file:line:column`
//! of the first error, where the official Cucumber parsers report it.

use std::path::{Path, PathBuf};

use super::gherkin_ast::GherkinDocument;
use super::model::Feature;
use super::{gherkin_parser, pickles, refusals};

/// A feature file that cannot be read or parsed. Shown as `file:line:column: message`, or
/// `file: message` for what concerns the whole file (missing, unreadable): line 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), position(*line, *column))]
pub struct FeatureError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 for the whole file: it could not be found or read).
    pub line: usize,
    /// 1-based column (0 when unknown: the end of the file, or the file is unreadable).
    pub column: usize,
    /// What was wrong.
    pub message: String,
}

/// `:line:column`, or nothing for an error about the whole file.
fn position(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

/// Every `.feature` file under `paths` (files as given, directories searched recursively,
/// sorted), or an error for a path that does not exist.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FeatureError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out).map_err(|e| read_error(path, e))?;
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(FeatureError {
                path: path.clone(),
                line: 0,
                column: 0,
                message: "no such file or directory".into(),
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "feature") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_error(path: &Path, e: std::io::Error) -> FeatureError {
    FeatureError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read: {e}"),
    }
}

/// A feature file read: its compiled Feature (`None` for a file without one: empty or only
/// comments, which the official parsers accept) and what shakedown refuses in it although
/// it is valid Gherkin ([`refusals`]).
#[derive(Debug)]
pub struct Loaded {
    /// The compiled feature.
    pub feature: Option<Feature>,
    /// Refusals, in file order; the file is bad input when there is any.
    pub refused: Vec<FeatureError>,
}

/// Reads, compiles and checks one feature file. The error is the first syntax error, where
/// the official parsers report it; a file that is not UTF-8 is refused at its first bad byte.
pub fn load_file(path: &Path) -> Result<Loaded, FeatureError> {
    let bytes = std::fs::read(path).map_err(|e| read_error(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(path, e.as_bytes(), e.utf8_error()))?;
    let doc = parse(path, &text)?;
    Ok(Loaded {
        refused: refusals::refusals(path, &text, &doc),
        feature: pickles::compile(path, &doc),
    })
}

/// Where the first byte that is not UTF-8 is, and which byte it is.
fn not_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> FeatureError {
    let good = String::from_utf8_lossy(&bytes[..e.valid_up_to()]);
    let line_start = good.rfind('\n').map_or(0, |i| i + 1);
    FeatureError {
        path: path.to_path_buf(),
        line: good.matches('\n').count() + 1,
        column: good[line_start..].chars().count() + 1,
        message: format!(
            "not UTF-8: byte 0x{:02X} here; feature files are UTF-8 (convert one written in another encoding, e.g. `iconv -f ISO-8859-1 -t UTF-8`)",
            bytes[e.valid_up_to()]
        ),
    }
}

/// Parses and compiles feature text read from `path`: `Ok(None)` for a file without a
/// Feature, the first syntax error where the official parsers report it otherwise.
pub fn load_str(path: &Path, text: &str) -> Result<Option<Feature>, FeatureError> {
    Ok(pickles::compile(path, &parse(path, text)?))
}

fn parse(path: &Path, text: &str) -> Result<GherkinDocument, FeatureError> {
    gherkin_parser::parse(text).map_err(|e| FeatureError {
        path: path.to_path_buf(),
        line: e.location.line,
        column: e.location.column.unwrap_or(0),
        message: e.kind.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match load_str(Path::new("x.feature"), text) {
            Err(e) => e.to_string(),
            Ok(f) => panic!("accepted: {f:?}"),
        }
    }

    #[test]
    fn empty_and_comment_only_files_have_no_feature() {
        assert_eq!(load_str(Path::new("x.feature"), ""), Ok(None));
        assert_eq!(load_str(Path::new("x.feature"), "# rien\n\n  # encore\n"), Ok(None));
        // As the official parsers: a `# language:` header promises a Feature.
        assert!(load_str(Path::new("x.feature"), "# language: fr\n").is_err());
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        assert_eq!(
            err("Feature: F\n  Scenario: S\n    Given x\nnonsense\n"),
            concat!(
                "x.feature:4:1: expected a table row, a doc string, a step, a tag, Examples, Scenario or Rule, ",
                "found \"nonsense\""
            )
        );
        assert_eq!(
            err("not gherkin\n"),
            "x.feature:1:1: expected a tag or Feature, found \"not gherkin\""
        );
        assert_eq!(
            err("@tag\n"),
            "x.feature:2:0: unexpected end of file, expected a tag or Feature"
        );
        assert!(err("Feature: F\n@tag").starts_with("x.feature:3:0: unexpected end of file: tags must be followed"));
        assert_eq!(
            err("#language:xx\nFeature: F\n"),
            "x.feature:1:1: language not supported: xx"
        );
    }

    #[test]
    fn doc_strings_are_normalised() {
        let f = load_str(
            Path::new("x.feature"),
            "Feature: F\n  Scenario: S\n    Given x\n      ```json\n      {\n        \\`\\`\\`\n      ```\n",
        )
        .expect("valid")
        .expect("feature");
        let doc = f.scenarios[0].steps[0].doc_string.clone().expect("doc string");
        assert_eq!(doc.content, "{\n  ```");
        assert_eq!(doc.media_type.as_deref(), Some("json"));
    }
}
