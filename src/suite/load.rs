//! Finds `.feature` files and loads them: parsed by [`gherkin_parser`] (the official
//! Gherkin grammar, see its module doc for why not the `gherkin` crate) and compiled by
//! [`pickles`] into [`Feature`]s of runnable scenarios. Errors carry `file:line:column`
//! of the first error, where the official Cucumber parsers report it.

use std::path::{Path, PathBuf};

use super::model::Feature;
use super::{gherkin_parser, pickles};

/// A feature file that cannot be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct FeatureError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// 1-based column (0 when unknown: the end of the file, or the file is unreadable).
    pub column: usize,
    /// What was wrong.
    pub message: String,
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
    FeatureError { path: path.to_path_buf(), line: 0, column: 0, message: format!("cannot read: {e}") }
}

/// Reads and compiles one feature file; `Ok(None)` for a file with no Feature (empty or
/// only comments), which the official parsers accept.
pub fn load_file(path: &Path) -> Result<Option<Feature>, FeatureError> {
    let text = std::fs::read_to_string(path).map_err(|e| read_error(path, e))?;
    load_str(path, &text)
}

/// Parses and compiles feature text read from `path`: `Ok(None)` for a file without a
/// Feature, the first syntax error where the official parsers report it otherwise.
pub fn load_str(path: &Path, text: &str) -> Result<Option<Feature>, FeatureError> {
    let doc = gherkin_parser::parse(text).map_err(|e| FeatureError {
        path: path.to_path_buf(),
        line: e.location.line,
        column: e.location.column.unwrap_or(0),
        message: e.kind.to_string(),
    })?;
    Ok(pickles::compile(path, &doc))
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
        assert_eq!(err("not gherkin\n"), "x.feature:1:1: expected a tag or Feature, found \"not gherkin\"");
        assert_eq!(err("@tag\n"), "x.feature:2:0: unexpected end of file, expected a tag or Feature");
        assert!(err("Feature: F\n@tag").starts_with("x.feature:3:0: unexpected end of file: tags must be followed"));
        assert_eq!(err("#language:xx\nFeature: F\n"), "x.feature:1:1: language not supported: xx");
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
