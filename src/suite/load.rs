//! Reads `.feature` files with the `gherkin` crate (the parser cucumber-rs uses) and
//! compiles them into [`Feature`]s of runnable scenarios (pickles). Errors carry
//! `file:line:column`. Outline expansion and doc-string normalisation live here.

use std::path::{Path, PathBuf};

use super::model::{DocString, Feature, Scenario, Step, StepKind};

/// A feature file that cannot be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct FeatureError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// 1-based column.
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

/// Compiles feature text read from `path`.
pub fn load_str(path: &Path, text: &str) -> Result<Option<Feature>, FeatureError> {
    let has_feature = text.lines().any(|l| {
        let t = l.trim_start();
        !t.is_empty() && !t.starts_with('#')
    });
    if !has_feature {
        return Ok(None);
    }
    let parsed = gherkin::Feature::parse(text, gherkin::GherkinEnv::default()).map_err(|e| {
        let msg = e.to_string();
        let (line, column) = parse_position(&msg).unwrap_or((1, 1));
        FeatureError { path: path.to_path_buf(), line, column, message: describe_error(text, line) }
    })?;
    Ok(Some(compile(path, &parsed)))
}

fn parse_position(msg: &str) -> Option<(usize, usize)> {
    let rest = msg.strip_prefix("Error at ")?;
    let (pos, _) = rest.split_once(": ")?;
    let (l, c) = pos.split_once(':')?;
    Some((l.parse().ok()?, c.parse().ok()?))
}

fn describe_error(text: &str, line: usize) -> String {
    let found = text.lines().nth(line.saturating_sub(1)).unwrap_or("").trim();
    if found.is_empty() {
        "unexpected end of file or blank line: expected a step, a tag, Scenario, Rule or Examples".into()
    } else {
        format!("expected a step, a tag, a comment, Scenario, Rule or Examples, found \"{found}\"")
    }
}

fn tags(raw: &[String]) -> Vec<String> {
    raw.iter().map(|t| if t.starts_with('@') { t.clone() } else { format!("@{t}") }).collect()
}

fn text_of(d: &Option<String>) -> String {
    d.as_deref().map(str::trim).unwrap_or_default().to_string()
}

fn compile(path: &Path, f: &gherkin::Feature) -> Feature {
    let feature_tags = tags(&f.tags);
    let mut scenarios = Vec::new();
    let bg = f.background.as_ref().map(|b| b.steps.as_slice()).unwrap_or_default();
    for s in &f.scenarios {
        expand(s, &feature_tags, None, bg, &mut scenarios);
    }
    for r in &f.rules {
        let mut rule_tags = feature_tags.clone();
        rule_tags.extend(tags(&r.tags));
        let mut rule_bg: Vec<gherkin::Step> = bg.to_vec();
        if let Some(b) = &r.background {
            rule_bg.extend(b.steps.iter().cloned());
        }
        for s in &r.scenarios {
            expand(s, &rule_tags, Some(&r.name), &rule_bg, &mut scenarios);
        }
    }
    Feature {
        path: path.to_path_buf(),
        name: f.name.clone(),
        keyword: f.keyword.clone(),
        line: f.position.line,
        tags: feature_tags,
        description: text_of(&f.description),
        scenarios,
    }
}

fn expand(
    s: &gherkin::Scenario,
    parent_tags: &[String],
    rule: Option<&str>,
    background: &[gherkin::Step],
    out: &mut Vec<Scenario>,
) {
    let mut base_tags = parent_tags.to_vec();
    base_tags.extend(tags(&s.tags));
    if s.examples.is_empty() {
        if s.steps.is_empty() && background.is_empty() {
            // The official compiler still yields a pickle for an empty scenario.
        }
        let steps = background.iter().chain(&s.steps).map(|st| step(st, &[])).collect();
        out.push(Scenario {
            name: s.name.clone(),
            keyword: s.keyword.clone(),
            line: s.position.line,
            column: s.position.col,
            tags: base_tags,
            rule: rule.map(str::to_string),
            steps: resolve_kinds(steps),
        });
        return;
    }
    for ex in &s.examples {
        let Some(table) = &ex.table else { continue };
        let Some((header, rows)) = table.rows.split_first() else { continue };
        let mut tags_here = base_tags.clone();
        tags_here.extend(tags(&ex.tags));
        for (i, row) in rows.iter().enumerate() {
            let subst: Vec<(&str, &str)> = header.iter().map(String::as_str).zip(row.iter().map(String::as_str)).collect();
            let mut steps: Vec<Step> = background.iter().map(|st| step(st, &[])).collect();
            steps.extend(s.steps.iter().map(|st| step(st, &subst)));
            out.push(Scenario {
                name: substitute(&s.name, &subst),
                keyword: s.keyword.clone(),
                line: table.position.line + 1 + i,
                column: s.position.col,
                tags: tags_here.clone(),
                rule: rule.map(str::to_string),
                steps: resolve_kinds(steps),
            });
        }
    }
}

fn substitute(text: &str, subst: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (k, v) in subst {
        out = out.replace(&format!("<{k}>"), v);
    }
    out
}

fn step(st: &gherkin::Step, subst: &[(&str, &str)]) -> Step {
    let kind = match st.ty {
        gherkin::StepType::Given => StepKind::Context,
        gherkin::StepType::When => StepKind::Action,
        gherkin::StepType::Then => StepKind::Outcome,
    };
    let kw = st.keyword.trim();
    let conj = matches!(kw, "And" | "But" | "*");
    Step {
        keyword: format!("{kw} "),
        kind: if conj { StepKind::Unknown } else { kind },
        text: substitute(&st.value, subst),
        line: st.position.line,
        column: st.position.col,
        doc_string: st.docstring.as_ref().map(|d| doc_string(&substitute(d, subst))),
        table: st.table.as_ref().map(|t| {
            t.rows.iter().map(|r| r.iter().map(|c| substitute(c.trim(), subst)).collect()).collect()
        }),
    }
}

fn resolve_kinds(mut steps: Vec<Step>) -> Vec<Step> {
    let mut last = StepKind::Unknown;
    for s in &mut steps {
        if s.kind == StepKind::Unknown {
            s.kind = last;
        } else {
            last = s.kind;
        }
    }
    steps
}

fn doc_string(raw: &str) -> DocString {
    let content = raw.strip_prefix('\n').unwrap_or(raw);
    DocString { content: content.to_string(), media_type: None }
}
