//! What shakedown refuses in a valid Gherkin document: a scenario without steps (it would
//! check nothing and pass; often a misspelt keyword turned the steps into description
//! text), and two `@hosts:` tags on one element (one would win silently). The parser and
//! pickles stay those of the official Gherkin; these checks come after them.

use std::path::Path;

use super::dialect::Dialect;
use super::gherkin_ast::{FeatureChild, GherkinDocument, RuleChild, Scenario, Tag};
use super::load::FeatureError;

/// Every refusal in `doc` (parsed from `text`, read from `path`), in file order.
pub fn refusals(path: &Path, text: &str, doc: &GherkinDocument) -> Vec<FeatureError> {
    let Some(feature) = &doc.feature else {
        return Vec::new();
    };
    let dialect = Dialect::get(&feature.language).unwrap_or_else(Dialect::english);
    let mut out = Vec::new();
    let mut tags = |element: &str, list: &[Tag]| out.extend(two_hosts_tags(path, element, list));
    tags(&feature.keyword, &feature.tags);
    let mut scenarios: Vec<&Scenario> = Vec::new();
    for child in &feature.children {
        match child {
            FeatureChild::Scenario(s) => scenarios.push(s),
            FeatureChild::Rule(r) => {
                tags(&r.keyword, &r.tags);
                scenarios.extend(r.children.iter().filter_map(|c| match c {
                    RuleChild::Scenario(s) => Some(s),
                    RuleChild::Background(_) => None,
                }));
            }
            FeatureChild::Background(_) => {}
        }
    }
    for s in &scenarios {
        tags(&s.keyword, &s.tags);
        for ex in &s.examples {
            tags(&ex.keyword, &ex.tags);
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    for s in scenarios.into_iter().filter(|s| s.steps.is_empty()) {
        let mut message = format!("{} \"{}\" has no steps", s.keyword, s.name);
        if let Some((line, keyword, written)) = misspelt_step(s, &lines, dialect) {
            message.push_str(&format!("; line {line} looks like `{keyword}`: \"{written}\""));
        } else {
            message.push_str(": a scenario checks nothing without Given/When/Then steps");
        }
        out.push(FeatureError {
            path: path.to_path_buf(),
            line: s.location.line,
            column: s.location.column.unwrap_or(1),
            message,
        });
    }
    out.sort_by_key(|e| (e.line, e.column));
    out
}

/// An error at the second `@hosts:` tag of an element that has several.
fn two_hosts_tags(path: &Path, element: &str, tags: &[Tag]) -> Option<FeatureError> {
    let hosts: Vec<&Tag> = tags.iter().filter(|t| t.name.starts_with("@hosts:")).collect();
    let second = hosts.get(1)?;
    let names: Vec<&str> = hosts.iter().map(|t| t.name.as_str()).collect();
    let mut patterns: Vec<&str> = Vec::new();
    for p in names.iter().map(|n| n.trim_start_matches("@hosts:")) {
        if !patterns.contains(&p) {
            patterns.push(p);
        }
    }
    let fix = match patterns.len() {
        1 => "keep one".to_string(),
        _ => format!("keep one, or write @hosts:{} to run on all of them", patterns.join(",")),
    };
    Some(FeatureError {
        path: path.to_path_buf(),
        line: second.location.line,
        column: second.location.column.unwrap_or(1),
        message: format!("two @hosts: tags on one {element} ({}): {fix}", names.join(" and ")),
    })
}

/// The first description line of `s` whose first word is one or two edits from a step
/// keyword (one for keywords of three letters or less): (line number, keyword, line).
fn misspelt_step<'a>(s: &Scenario, lines: &[&'a str], dialect: &Dialect) -> Option<(usize, String, &'a str)> {
    // The description's lines are the file's lines after the header, in order, with
    // comments (and blank lines before the first) left out: find each one's number.
    let mut wanted = s.description.lines().filter(|l| !l.trim().is_empty()).peekable();
    let keywords: Vec<&str> = dialect
        .step_keywords()
        .iter()
        .filter(|(k, _)| k.ends_with(' ') && k.trim() != "*")
        .map(|(k, _)| k.trim())
        .collect();
    for (i, line) in lines.iter().enumerate().skip(s.location.line) {
        let next = wanted.peek()?;
        if line.trim() != next.trim() {
            continue;
        }
        wanted.next();
        let word = line.split_whitespace().next().unwrap_or("");
        let nearest = keywords
            .iter()
            .map(|k| (strsim::damerau_levenshtein(word, k), *k))
            .filter(|(d, k)| *d <= if k.chars().count() <= 3 { 1 } else { 2 })
            .min_by_key(|(d, _)| *d);
        if let Some((_, keyword)) = nearest {
            return Some((i + 1, keyword.to_string(), line.trim()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::gherkin_parser::parse;

    fn refused(text: &str) -> Vec<String> {
        let doc = parse(text).expect("valid Gherkin");
        refusals(Path::new("x.feature"), text, &doc)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn misspelt_keywords_are_named_and_prose_is_not() {
        assert_eq!(
            refused("Feature: F\n  Scenario: S\n    Thenn port 80 should be listening\n"),
            [
                "x.feature:2:3: Scenario \"S\" has no steps; line 3 looks like `Then`: \"Thenn port 80 should be listening\""
            ]
        );
        assert_eq!(
            refused("Feature: F\n  Scenario: S\n    Checks nothing yet.\n\n    Ad more\n"),
            ["x.feature:2:3: Scenario \"S\" has no steps; line 5 looks like `And`: \"Ad more\""]
        );
        assert_eq!(
            refused("Feature: F\n  Scenario: S\n    Describes the world.\n"),
            ["x.feature:2:3: Scenario \"S\" has no steps: a scenario checks nothing without Given/When/Then steps"]
        );
        // In the document's language.
        assert_eq!(
            refused("# language: fr\nFonctionnalité: F\n  Scénario: S\n    Alor le port 80\n"),
            ["x.feature:3:3: Scénario \"S\" has no steps; line 4 looks like `Alors`: \"Alor le port 80\""]
        );
    }

    #[test]
    fn scenarios_with_steps_and_single_hosts_tags_pass() {
        let text = "@hosts:web\nFeature: F\n  Background:\n  @hosts:db @x\n  Rule: R\n    @hosts:db1\n    Scenario: S\n      Given x\n";
        assert!(refused(text).is_empty(), "{:?}", refused(text));
    }

    #[test]
    fn two_hosts_tags_on_any_element_are_refused() {
        assert_eq!(
            refused("@hosts:a\n@hosts:b\nFeature: F\n"),
            [
                "x.feature:2:1: two @hosts: tags on one Feature (@hosts:a and @hosts:b): keep one, or write @hosts:a,b to run on all of them"
            ]
        );
        let examples = "Feature: F\n  Scenario Outline: S\n    Given <x>\n    @hosts:a @hosts:b\n    Examples:\n      | x |\n      | 1 |\n";
        assert_eq!(refused(examples).len(), 1);
        assert!(refused(examples)[0].starts_with("x.feature:4:14: two @hosts: tags on one Examples"));
    }
}
