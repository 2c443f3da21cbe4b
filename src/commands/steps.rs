//! `shakedown steps`: the catalogue, printed from the same tables the runner uses:
//! built-in Rust steps, the shipped packs, and the user's packs (`--steps`, `./steps`).
//! Entries are grouped under the file that holds them (`## src/steps/system/mod.rs`), the
//! file their `source:` line points into; a body implemented elsewhere says where. A filter
//! selects the entries holding each of its words (any case); one that matches nothing says
//! so on stderr, suggests the nearest words, and exits 1.

use std::collections::BTreeSet;

use crate::cli::StepsArgs;
use crate::error::{BadInput, ExitStatus};
use crate::steps::{StepDef, StepLibrary};

/// Prints every sentence (or those containing the filter) with its example, doc and source;
/// or, with `--help-format`, the step pack format.
pub fn steps(args: &StepsArgs) -> Result<ExitStatus, BadInput> {
    if args.help_format {
        print!("{}", crate::packs::FORMAT_HELP);
        return Ok(ExitStatus::Ok);
    }
    let library = crate::packs::library(args.steps.as_deref()).map_err(BadInput)?;
    let shown: Vec<&StepDef> = library
        .defs()
        .filter(|def| args.filter.as_deref().is_none_or(|f| selected(def, f)))
        .collect();
    if let (Some(filter), true) = (&args.filter, shown.is_empty()) {
        eprintln!(
            "no step sentence or example contains \"{filter}\"; {}",
            suggestion(&library, filter)
        );
        return Ok(ExitStatus::Failed);
    }
    let mut file = "";
    for def in shown {
        if def.file != file {
            file = def.file;
            println!("## {file}\n");
        }
        println!("  {}", def.example);
        println!("      sentence: {}", def.sentence.replace("\\/", "/"));
        if !def.doc.is_empty() {
            println!("      {}", def.doc);
        }
        println!("      source: {}", crate::steps::location(def));
        let body = def.module.split(':').next().unwrap_or(def.module);
        if body != def.file {
            println!("      implemented in: {body}");
        }
        if def.needs_host {
            println!("      needs a current host (@hosts:)");
        }
        println!();
    }
    println!("Placeholders {{name}}, {{address}}, {{vars.KEY}} work in every quoted argument and doc string.");
    println!(
        "Parameters: {{string}} = \"text\", {{int}} = 42, {{regex}} = /pattern/, {{duration}} = 500ms | 1.5s | 2m | 2 minutes | 1h 30m (as in --timeout); {{host}} = \"db1\" and {{group}} = \"web\" are quoted inventory names that lint resolves (a group, host or glob for {{group}}, as @hosts:)."
    );
    println!(
        "Quotes: \"say \\\"hi\\\"\" or 'say \"hi\"' (and 'it\\'s'); only the enclosing quote is unescaped, other backslashes stay as written."
    );
    println!(
        "{{command}} = a quoted shell command line, run by sh -c: a placeholder in it is ONE quoted shell word, never shell syntax (write it bare: grep -- {{name}} /etc/hosts, not \"{{name}}\")."
    );
    println!("Custom steps: TOML files in ./steps or --steps DIR; `shakedown steps --help-format` shows the format.");
    Ok(ExitStatus::Ok)
}

/// Every word of the filter is in the sentence or the example, ignoring case (`mysql
/// connections` finds "MySQL should have fewer than {int} connections").
fn selected(def: &StepDef, filter: &str) -> bool {
    let text = format!("{} {}", def.sentence, def.example).to_lowercase();
    filter.to_lowercase().split_whitespace().all(|w| text.contains(w))
}

/// `did you mean "service should be running"?` when replacing each unknown word of the
/// filter by the nearest word of the catalogue finds steps; else how to see them all.
fn suggestion(library: &StepLibrary, filter: &str) -> String {
    let words: BTreeSet<String> = library
        .defs()
        .flat_map(|d| [d.sentence, d.example])
        .flat_map(|text| text.split(|c: char| !(c.is_alphanumeric() || c == '_')))
        .filter(|w| w.chars().any(char::is_alphabetic))
        .map(str::to_lowercase)
        .collect();
    let corrected: Vec<String> = filter
        .to_lowercase()
        .split_whitespace()
        .map(|w| {
            if words.iter().any(|known| known.contains(w)) {
                w.to_string()
            } else {
                crate::nearest::nearest(w, words.iter().map(String::as_str)).unwrap_or_else(|| w.to_string())
            }
        })
        .collect();
    let corrected = corrected.join(" ");
    if corrected != filter.to_lowercase() && library.defs().any(|d| selected(d, &corrected)) {
        format!("did you mean \"{corrected}\"? (`shakedown steps` with no filter lists every step)")
    } else {
        "`shakedown steps` with no filter lists every step".to_string()
    }
}
