//! `shakedown steps`: the catalogue, printed from the same tables the runner uses:
//! built-in Rust steps, the shipped packs, and the user's packs (`--steps`, `./steps`).

use crate::cli::StepsArgs;
use crate::error::{BadInput, ExitStatus};

/// Prints every sentence (or those containing the filter) with its example, doc and source;
/// or, with `--help-format`, the step pack format.
pub fn steps(args: &StepsArgs) -> Result<ExitStatus, BadInput> {
    if args.help_format {
        print!("{}", crate::packs::FORMAT_HELP);
        return Ok(ExitStatus::Ok);
    }
    let library = crate::packs::library(args.steps.as_deref()).map_err(BadInput)?;
    let mut file = "";
    for def in library.defs() {
        if let Some(f) = &args.filter {
            if !def.sentence.contains(f.as_str()) && !def.example.contains(f.as_str()) {
                continue;
            }
        }
        let this_file = def.module.split(':').next().unwrap_or(def.module);
        if this_file != file {
            file = this_file;
            println!("## {file}\n");
        }
        println!("  {}", def.example);
        println!("      sentence: {}", def.sentence.replace("\\/", "/"));
        if !def.doc.is_empty() {
            println!("      {}", def.doc);
        }
        println!("      source: {}", crate::steps::location(def));
        if def.needs_host {
            println!("      needs a current host (@hosts:)");
        }
        println!();
    }
    println!("Placeholders {{name}}, {{address}}, {{vars.KEY}} work in every quoted argument and doc string.");
    println!(
        "Parameters: {{string}} = \"text\", {{int}} = 42, {{regex}} = /pattern/, {{duration}} = 500 ms | 5 s | 2 minutes | 25 hours."
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
