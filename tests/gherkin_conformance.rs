//! Gherkin conformance: shakedown against the official parser test data of the Gherkin
//! project (`../shared/gherkin-testdata`, see its README). Every `good/X.feature` must give
//! the official document (`X.feature.ast.ndjson`, ids left out) and the official scenarios
//! (`X.feature.pickles.ndjson`); every `bad/X.feature` must make `shakedown lint` exit 2
//! naming `X.feature:LINE:COL` of the first official error, in words rather than token
//! names. Where the data is absent the test says so and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value, json};
use shakedown::suite::{dialect::Dialect, gherkin_parser, load, model::StepKind};

/// Files where shakedown knowingly differs from the official parsers, with the reason.
/// The test fails when a listed file conforms (remove its row) or an unlisted one does not.
/// The table only shrinks.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/gherkin-testdata"));
    dir.is_dir().then(|| dir.to_path_buf())
}

fn features(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable test data")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "feature"))
        .collect();
    out.sort();
    out
}

fn ndjson(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("json line")).collect()
}

fn file_name(path: &Path) -> String {
    path.file_name().expect("file name").to_string_lossy().into_owned()
}

/// Drops what only identifies messages (ids, uri) and the order of a step's arguments,
/// which our model keeps as two fields (the AST comparison checks both positions).
fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for key in ["id", "astNodeId", "astNodeIds", "uri", "argumentIndex"] {
                m.remove(key);
            }
            m.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

fn official_ast(feature: &Path) -> Value {
    let mut doc = ndjson(&feature.with_file_name(format!("{}.ast.ndjson", file_name(feature))))
        .into_iter()
        .find_map(|v| v.get("gherkinDocument").cloned())
        .expect("a gherkinDocument line");
    strip(&mut doc);
    doc
}

fn our_ast(feature: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(feature).expect("readable");
    let doc = gherkin_parser::parse(&text).map_err(|e| format!("rejected: {e:?}"))?;
    Ok(serde_json::to_value(&doc).expect("serialisable"))
}

/// The official pickles, reduced to what a runner needs.
fn official_pickles(feature: &Path) -> Vec<Value> {
    let path = feature.with_file_name(format!("{}.pickles.ndjson", file_name(feature)));
    ndjson(&path)
        .into_iter()
        .filter_map(|v| v.get("pickle").cloned())
        .map(|mut p| {
            strip(&mut p);
            json!({
                "name": p["name"],
                "line": p["location"]["line"],
                "tags": p["tags"].as_array().expect("tags").iter().map(|t| t["name"].clone()).collect::<Vec<_>>(),
                "steps": p["steps"],
            })
        })
        .collect()
}

fn kind_name(k: StepKind) -> &'static str {
    match k {
        StepKind::Context => "Context",
        StepKind::Action => "Action",
        StepKind::Outcome => "Outcome",
        StepKind::Unknown => "Unknown",
    }
}

/// What shakedown would run, in the same reduced shape.
fn our_pickles(feature: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(feature).expect("readable");
    let Some(f) = load::load_str(feature, &text).map_err(|e| format!("rejected: {e}"))? else {
        return Ok(Vec::new());
    };
    let pickles = f.scenarios.iter().map(|s| {
        let steps: Vec<Value> = s
            .steps
            .iter()
            .map(|st| {
                let mut step = Map::new();
                let mut argument = Map::new();
                if let Some(d) = &st.doc_string {
                    let mut doc = Map::new();
                    doc.insert("content".into(), json!(d.content));
                    if let Some(m) = &d.media_type {
                        doc.insert("mediaType".into(), json!(m));
                    }
                    argument.insert("docString".into(), Value::Object(doc));
                }
                if let Some(t) = &st.table {
                    let rows: Vec<Value> = t
                        .iter()
                        .map(|r| json!({ "cells": r.iter().map(|c| json!({ "value": c })).collect::<Vec<_>>() }))
                        .collect();
                    argument.insert("dataTable".into(), json!({ "rows": rows }));
                }
                if !argument.is_empty() {
                    step.insert("argument".into(), Value::Object(argument));
                }
                step.insert("text".into(), json!(st.text));
                step.insert("type".into(), json!(kind_name(st.kind)));
                Value::Object(step)
            })
            .collect();
        json!({ "name": s.name, "line": s.line, "tags": s.tags, "steps": steps })
    });
    Ok(pickles.collect())
}

/// The first official error: line and, except at the end of the file, column.
fn official_error(feature: &Path) -> (usize, Option<usize>) {
    let errors = ndjson(&feature.with_file_name(format!("{}.errors.ndjson", file_name(feature))));
    let loc = &errors.first().expect("an error")["parseError"]["source"]["location"];
    let line = loc["line"].as_u64().expect("line") as usize;
    (line, loc["column"].as_u64().map(|c| c as usize))
}

/// Runs `shakedown lint` on a bad file: the problem when it does not report the official
/// first error in words.
fn lint_bad_file(feature: &Path) -> Option<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_shakedown")).arg("lint").arg(feature).output().expect("runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let (line, column) = official_error(feature);
    let want = match column {
        Some(c) => format!("{}:{line}:{c}: ", file_name(feature)),
        None => format!("{}:{line}:", file_name(feature)),
    };
    if out.status.code() != Some(2) {
        return Some(format!("exit {:?}, output {text}", out.status.code()));
    }
    if !text.contains(&want) {
        return Some(format!("wanted {want}, got {text}"));
    }
    if text.contains("#EOF") || text.contains("#TagLine") || text.contains("Error at") {
        return Some(format!("token names instead of words: {text}"));
    }
    None
}

#[test]
fn official_gherkin_test_data() {
    let Some(dir) = data_dir() else {
        eprintln!("skipped: ../shared/gherkin-testdata is absent (the Gherkin conformance data)");
        return;
    };
    let mut failures: Vec<(String, String)> = Vec::new();
    let good = features(&dir.join("good"));
    let (mut ast_ok, mut pickles_ok) = (0, 0);
    for f in &good {
        match our_ast(f) {
            Ok(v) if v == official_ast(f) => ast_ok += 1,
            Ok(v) => failures.push((file_name(f), format!("AST differs:\n ours {v}\n official {}", official_ast(f)))),
            Err(e) => failures.push((file_name(f), e)),
        }
        match our_pickles(f) {
            Ok(v) if v == official_pickles(f) => pickles_ok += 1,
            Ok(v) => failures
                .push((file_name(f), format!("pickles differ:\n ours {v:?}\n official {:?}", official_pickles(f)))),
            Err(e) => failures.push((file_name(f), e)),
        }
    }
    let bad = features(&dir.join("bad"));
    let mut bad_ok = 0;
    for f in &bad {
        match lint_bad_file(f) {
            None => bad_ok += 1,
            Some(problem) => failures.push((file_name(f), problem)),
        }
    }
    println!(
        "gherkin conformance: good files matching the AST {ast_ok}/{n}, matching the pickles {pickles_ok}/{n}; \
         bad files at the official line {bad_ok}/{m}; known differences {k}",
        n = good.len(),
        m = bad.len(),
        k = KNOWN_DIFFERENCES.len(),
    );
    let unexpected: Vec<&(String, String)> =
        failures.iter().filter(|(name, _)| !KNOWN_DIFFERENCES.iter().any(|(k, _)| k == name)).collect();
    let stale: Vec<&str> =
        KNOWN_DIFFERENCES.iter().map(|(k, _)| *k).filter(|k| !failures.iter().any(|(name, _)| name == k)).collect();
    for (name, problem) in &unexpected {
        eprintln!("{name}: {problem}");
    }
    assert!(unexpected.is_empty(), "{} conformance failures (see above)", unexpected.len());
    assert!(stale.is_empty(), "these now conform; remove them from KNOWN_DIFFERENCES: {stale:?}");
}

/// The keyword type the official AST gives a step keyword of `d`.
fn official_keyword_type(d: &Dialect, keyword: &str) -> &'static str {
    let lists = [(&d.given, "Context"), (&d.when, "Action"), (&d.then, "Outcome"), (&d.and, "Conjunction")];
    let lists = lists.into_iter().chain([(&d.but, "Conjunction")]);
    let kinds: Vec<&str> = lists.filter(|(l, _)| l.iter().any(|k| k == keyword)).map(|(_, t)| t).collect();
    if kinds.len() == 1 { kinds[0] } else { "Unknown" }
}

/// A feature using every keyword of a language (`feature` names the Feature keyword).
fn every_keyword_feature(code: &str, d: &Dialect, feature: &str) -> String {
    let steps: Vec<&String> = [&d.given, &d.when, &d.then, &d.and, &d.but].into_iter().flatten().collect();
    let mut text = format!("# language: {code}\n{feature}: F\n  {}: B\n    {}<b>\n", d.background[0], d.given[0]);
    for kw in d.scenario.iter().chain(&d.scenario_outline) {
        text += &format!("\n  {kw}: S\n");
        for step in &steps {
            text += &format!("    {step}<step>\n");
        }
        for ex in &d.examples {
            text += &format!("    {ex}: E\n      | step |\n      | 1 |\n");
        }
    }
    for rule in &d.rule {
        text += &format!("\n  {rule}: R\n    {}: S\n      {}<x>\n", d.scenario[0], d.when[0]);
    }
    text
}

#[test]
fn every_official_language_reads_all_its_keywords() {
    let codes = Dialect::codes();
    assert!(codes.len() >= 77, "the gherkin crate lists 77 languages, got {}", codes.len());
    for code in codes {
        let d = Dialect::get(code).expect("listed");
        for feature_kw in &d.feature {
            let text = every_keyword_feature(code, d, feature_kw);
            let doc = gherkin_parser::parse(&text).unwrap_or_else(|e| panic!("{code}: {e:?}\n{text}"));
            let ast = serde_json::to_value(&doc).expect("serialisable");
            let feature = &ast["feature"];
            assert_eq!(feature["language"], json!(code));
            assert_eq!(feature["keyword"], json!(feature_kw));
            let children = feature["children"].as_array().expect("children");
            let scenarios: Vec<&Value> = children.iter().filter_map(|c| c.get("scenario")).collect();
            let rules = children.iter().filter(|c| c.get("rule").is_some()).count();
            assert_eq!(scenarios.len(), d.scenario.len() + d.scenario_outline.len(), "{code}");
            assert_eq!(rules, d.rule.len(), "{code}");
            let written: Vec<&String> = [&d.given, &d.when, &d.then, &d.and, &d.but].into_iter().flatten().collect();
            for s in &scenarios {
                assert_eq!(s["examples"].as_array().map(Vec::len), Some(d.examples.len()), "{code}");
                for (step, kw) in s["steps"].as_array().expect("steps").iter().zip(&written) {
                    assert_eq!(step["keyword"], json!(kw), "{code}");
                    assert_eq!(step["keywordType"], json!(official_keyword_type(d, kw)), "{code} {kw}");
                    assert_eq!(step["text"], json!("<step>"), "{code} {kw}");
                }
            }
            let f = load::load_str(Path::new("x.feature"), &text).expect("valid").expect("a feature");
            let outlines = d.scenario.len() + d.scenario_outline.len();
            assert_eq!(f.scenarios.len(), outlines * d.examples.len() + d.rule.len(), "{code}");
        }
    }
}

/// `shakedown run` on a feature in another language: exit 0, every scenario passed.
#[test]
fn french_german_and_spanish_features_run_real_steps() {
    for lang in ["fr", "de", "es"] {
        let out = Command::new(env!("CARGO_BIN_EXE_shakedown"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("SHAKEDOWN_INVENTORY")
            .args(["run", &format!("fixtures/gherkin/i18n/{lang}.feature"), "--format", "pretty"])
            .output()
            .expect("runs");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{lang}: {text}");
        assert!(text.contains("4 scenarios (4 passed)"), "{lang}: {text}");
    }
}
