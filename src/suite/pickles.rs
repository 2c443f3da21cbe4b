//! Compiles a [`GherkinDocument`] into the scenarios shakedown runs, exactly as the official
//! pickle compiler (`pickles/compiler.py` of cucumber/gherkin): outlines expanded once per
//! Examples row, background steps (Feature's, then Rule's) prepended to scenarios that have
//! steps, tags inherited Feature → Rule → Scenario → Examples, step types resolved
//! (`And`/`But` take the type before; `*` is of unknown type). Beyond the pickles: an
//! outline's rows that would share one name are numbered (`Scenario::row`), so that every
//! row has its own name in the reports.

use std::path::Path;

use super::dialect::KeywordType;
use super::gherkin_ast::{self as ast, FeatureChild, GherkinDocument, RuleChild};
use super::model::{DocString, Feature, Scenario, Step, StepKind};

/// The compiled feature, or `None` for a document without one.
pub fn compile(path: &Path, doc: &GherkinDocument) -> Option<Feature> {
    let f = doc.feature.as_ref()?;
    let feature_tags = tag_names(&f.tags);
    let mut scenarios = Vec::new();
    let mut background: Vec<&ast::Step> = Vec::new();
    for child in &f.children {
        match child {
            FeatureChild::Background(b) => background.extend(&b.steps),
            FeatureChild::Scenario(s) => {
                let ctx = Context {
                    tags: &feature_tags,
                    rule: None,
                    background: &background,
                };
                ctx.scenario(s, &mut scenarios);
            }
            FeatureChild::Rule(r) => compile_rule(r, &feature_tags, &background, &mut scenarios),
        }
    }
    Some(Feature {
        path: path.to_path_buf(),
        name: f.name.clone(),
        keyword: f.keyword.clone(),
        line: f.location.line,
        tags: feature_tags,
        description: f.description.clone(),
        scenarios,
    })
}

fn compile_rule(r: &ast::Rule, feature_tags: &[String], feature_bg: &[&ast::Step], out: &mut Vec<Scenario>) {
    let mut tags = feature_tags.to_vec();
    tags.extend(tag_names(&r.tags));
    let mut background = feature_bg.to_vec();
    for child in &r.children {
        match child {
            RuleChild::Background(b) => background.extend(&b.steps),
            RuleChild::Scenario(s) => {
                let ctx = Context {
                    tags: &tags,
                    rule: Some(&r.name),
                    background: &background,
                };
                ctx.scenario(s, out);
            }
        }
    }
}

fn tag_names(tags: &[ast::Tag]) -> Vec<String> {
    tags.iter().map(|t| t.name.clone()).collect()
}

/// What a scenario inherits.
struct Context<'a> {
    tags: &'a [String],
    rule: Option<&'a str>,
    background: &'a [&'a ast::Step],
}

/// An outline's parameter names and one row's values.
type Row<'a> = (&'a [ast::Cell], &'a [ast::Cell]);

impl Context<'_> {
    fn scenario(&self, s: &ast::Scenario, out: &mut Vec<Scenario>) {
        let mut tags = self.tags.to_vec();
        tags.extend(tag_names(&s.tags));
        if s.examples.is_empty() {
            out.push(self.pickle(s, tags, None, s.location.line));
            return;
        }
        let first = out.len();
        for ex in &s.examples {
            let Some(header) = &ex.table_header else { continue };
            let mut ex_tags = tags.clone();
            ex_tags.extend(tag_names(&ex.tags));
            for row in &ex.table_body {
                let values = (header.cells.as_slice(), row.cells.as_slice());
                out.push(self.pickle(s, ex_tags.clone(), Some(values), row.location.line));
            }
        }
        // Rows whose names are not all distinct (no placeholder in the name, or rows with
        // the same values) are numbered, every one of them: the numbers depend on the file
        // only, so a row keeps its name (and its perfdata labels) whatever the results.
        let rows = &mut out[first..];
        let distinct: std::collections::HashSet<&str> = rows.iter().map(|p| p.name.as_str()).collect();
        if distinct.len() < rows.len() {
            for (n, p) in rows.iter_mut().enumerate() {
                p.row = Some(n + 1);
            }
        }
    }

    fn pickle(&self, s: &ast::Scenario, tags: Vec<String>, row: Option<Row<'_>>, line: usize) -> Scenario {
        let mut steps = Vec::new();
        if !s.steps.is_empty() {
            let mut last = StepKind::Unknown;
            let background = self.background.iter().map(|st| (*st, None));
            for (st, values) in background.chain(s.steps.iter().map(|st| (st, row))) {
                last = match st.keyword_type {
                    KeywordType::Conjunction => last,
                    KeywordType::Context => StepKind::Context,
                    KeywordType::Action => StepKind::Action,
                    KeywordType::Outcome => StepKind::Outcome,
                    KeywordType::Unknown => StepKind::Unknown,
                };
                steps.push(step(st, last, values));
            }
        }
        Scenario {
            name: interpolate(&s.name, row),
            keyword: s.keyword.clone(),
            line,
            column: s.location.column.unwrap_or(1),
            tags,
            rule: self.rule.map(str::to_string),
            steps,
            row: None,
        }
    }
}

fn step(st: &ast::Step, kind: StepKind, row: Option<Row<'_>>) -> Step {
    Step {
        keyword: st.keyword.clone(),
        kind,
        text: interpolate(&st.text, row),
        line: st.location.line,
        column: st.location.column.unwrap_or(1),
        doc_string: st.doc_string.as_ref().map(|d| DocString {
            content: interpolate(&d.content, row),
            media_type: d.media_type.as_deref().map(|m| interpolate(m, row)),
        }),
        table: st.data_table.as_ref().map(|t| {
            t.rows
                .iter()
                .map(|r| r.cells.iter().map(|c| interpolate(&c.value, row)).collect())
                .collect()
        }),
    }
}

/// Replaces each `<name>` with the row's value, parameter by parameter in header order.
fn interpolate(text: &str, row: Option<Row<'_>>) -> String {
    let mut out = text.to_string();
    if let Some((names, values)) = row {
        for (name, value) in names.iter().zip(values) {
            out = out.replace(&format!("<{}>", name.value), &value.value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::gherkin_parser::parse;

    fn compiled(text: &str) -> Feature {
        let doc = parse(text).expect("valid");
        compile(Path::new("t.feature"), &doc).expect("a feature")
    }

    #[test]
    fn outlines_expand_per_row_with_inherited_tags_in_order() {
        let f = compiled(concat!(
            "@f\nFeature: F\n  Background:\n    Given bg\n  @r\n  Rule: R\n    @s\n    Scenario Outline: <a>\n",
            "      When <a> and <b>\n        | <b> |\n    @e @hosts:web\n    Examples:\n",
            "      | a | b |\n      | 1 | 2 |\n      | 3 | 4 |\n",
        ));
        assert_eq!(f.scenarios.len(), 2);
        let s = &f.scenarios[1];
        assert_eq!(s.name, "3");
        assert_eq!(s.line, 15);
        assert_eq!(s.tags, ["@f", "@r", "@s", "@e", "@hosts:web"]);
        assert_eq!(s.hosts_pattern(), Some("web"));
        assert_eq!(s.rule.as_deref(), Some("R"));
        assert_eq!(s.steps[0].text, "bg");
        assert_eq!(s.steps[1].text, "3 and 4");
        assert_eq!(s.steps[1].table, Some(vec![vec!["4".to_string()]]));
    }

    #[test]
    fn outline_rows_that_share_a_name_are_numbered_in_file_order() {
        let f = compiled(concat!(
            "Feature: F\n  Scenario Outline: Port is open\n    Then port <p> should be listening\n",
            "    Examples:\n      | p |\n      | 80 |\n      | 443 |\n",
            "    @more\n    Examples:\n      | p |\n      | 22 |\n",
            "  Scenario Outline: Port <p>\n    Then port <p> should be listening\n",
            "    Examples:\n      | p |\n      | 80 |\n      | 443 |\n",
            "  Scenario Outline: Same <p>\n    Then port <p> should be listening\n",
            "    Examples:\n      | p |\n      | 1 |\n      | 1 |\n",
            "  Scenario: Plain\n    Then port 1 should be listening\n",
        ));
        let titles: Vec<String> = f.scenarios.iter().map(Scenario::title).collect();
        assert_eq!(
            titles,
            [
                "Port is open #1",
                "Port is open #2",
                "Port is open #3",
                "Port 80",
                "Port 443",
                "Same 1 #1",
                "Same 1 #2",
                "Plain"
            ]
        );
        // The pickle's own name is untouched (what the Gherkin conformance data expects).
        assert_eq!(f.scenarios[1].name, "Port is open");
    }

    #[test]
    fn hosts_on_a_rule_reach_its_scenarios_and_inner_tags_win() {
        let f = compiled(concat!(
            "@hosts:all\nFeature: F\n  @hosts:db\n  Rule: R\n    Scenario: in the rule\n      Given x\n",
            "    @hosts:db1\n    Scenario: narrowed\n      Given x\n",
        ));
        let hosts: Vec<Option<&str>> = f.scenarios.iter().map(|s| s.hosts_pattern()).collect();
        assert_eq!(hosts, [Some("db"), Some("db1")]);
    }

    #[test]
    fn step_kinds_follow_the_pickles() {
        let f = compiled("Feature: F\n  Scenario: S\n    And a\n    Given b\n    But c\n    * d\n    When e\n");
        let kinds: Vec<StepKind> = f.scenarios[0].steps.iter().map(|s| s.kind).collect();
        use StepKind::*;
        assert_eq!(kinds, [Unknown, Context, Context, Unknown, Action]);
    }

    #[test]
    fn a_scenario_without_steps_gets_no_background() {
        let f = compiled("Feature: F\n  Background:\n    Given bg\n  Scenario: empty\n");
        assert!(f.scenarios[0].steps.is_empty());
    }

    #[test]
    fn no_feature_means_nothing_to_run() {
        let doc = parse("# only a comment\n").expect("valid");
        assert!(compile(Path::new("t.feature"), &doc).is_none());
    }
}
