//! The layering of `src/` (ARCHITECTURE.md "Layers"), checked: a module may use its own
//! top-level module and the layers below it, never a layer above nor a peer of its own
//! layer. Every `crate::<module>` path in code (comments and doc links aside) counts, test
//! modules included. A change that needs an upward import is a change of the design: move
//! the item down (or pass it in from above) instead, and keep ARCHITECTURE.md true.

use std::path::{Path, PathBuf};

/// The layers, lowest first. Each top-level module of `src/` is in exactly one.
const LAYERS: &[&[&str]] = &[
    // What a check found and the words for it; small leaf utilities.
    &["outcome", "duration", "nearest", "signal", "error", "quote"],
    // Inputs, read without a network: hosts and groups (with the secrets register), then
    // feature files and the plan of (scenario, host) units.
    &["inventory"],
    &["suite"],
    // Shell text, quoting, local/ssh/fake command execution.
    &["transport"],
    // Placeholders of step arguments and pack templates (quoted through transport).
    &["template"],
    // The per-host session and the pool of a run.
    &["host"],
    // What is read on a host, and what is asked of services (HTTP, MySQL, TLS, HAProxy).
    &["facts", "probes"],
    // The step language: definitions, matching, built-in bodies.
    &["steps"],
    // Step packs: steps defined in TOML.
    &["packs"],
    // What a run says happened.
    &["event"],
    // Scheduling, retries, deadlines: emits events only.
    &["runner"],
    // The pairs' history between runs (`--state`): what the reports mark as new, still
    // failing or recovered.
    &["state"],
    // Consumers of a run's results.
    &["report"],
    &["notify", "serve"],
    // The command line: clap types end here.
    &["cli"],
    &["commands"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/facts/mount.rs` -> `facts`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// Every `crate::<module>` a line of code names, with comments cut off.
fn uses(line: &str) -> Vec<String> {
    let code = match line.find("//") {
        Some(i) if !line[..i].contains('"') => &line[..i],
        Some(_) | None => line,
    };
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `crate::{a, b}` groups: each name in the braces.
        if name.is_empty() && after.starts_with('{') {
            let group = &after[1..after.find('}').unwrap_or(after.len())];
            out.extend(
                group
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or("").to_string()),
            );
        } else {
            out.push(name);
        }
        rest = after;
    }
    out.retain(|n| !n.is_empty());
    out
}

#[test]
fn every_module_imports_only_its_own_layer_and_the_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else { continue };
        let Some(mine) = layer_of(&module) else {
            wrong.push(format!(
                "{}: module `{module}` is in no layer of tests/layering.rs",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            for used in uses(line) {
                if used == module {
                    continue;
                }
                let Some(theirs) = layer_of(&used) else {
                    wrong.push(format!("{}:{}: `crate::{used}` is in no layer", file.display(), n + 1));
                    continue;
                };
                if theirs >= mine {
                    let how = if theirs == mine {
                        "a peer in its layer"
                    } else {
                        "a layer above"
                    };
                    wrong.push(format!(
                        "{}:{}: `{module}` uses `crate::{used}`, {how}",
                        file.strip_prefix(&src).unwrap_or(file).display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering:\n{}", wrong.join("\n"));
}

#[test]
fn the_layer_table_names_every_module_of_src_once() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut modules: Vec<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    modules.sort();
    modules.dedup();
    let mut listed: Vec<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    listed.sort_unstable();
    let before = listed.len();
    listed.dedup();
    assert_eq!(before, listed.len(), "a module is listed twice");
    assert_eq!(modules, listed);
}

#[test]
fn the_check_sees_an_upward_import() {
    assert_eq!(uses("use crate::runner::hosts::HostHandle;"), ["runner"]);
    assert_eq!(uses("use crate::{event, steps::Outcome};"), ["event", "steps"]);
    assert_eq!(uses("    // see crate::commands::lint"), Vec::<String>::new());
    assert_eq!(uses("/// [`crate::facts::prefetch`]"), Vec::<String>::new());
    assert!(layer_of("report") > layer_of("steps"));
}
