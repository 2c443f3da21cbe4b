//! `shakedown steps`: the catalogue, printed from the same tables the runner uses.

use crate::cli::StepsArgs;
use crate::error::ExitStatus;
use crate::steps::StepLibrary;

/// Prints every sentence (or those containing the filter) with its example, doc and source.
pub fn steps(args: &StepsArgs) -> ExitStatus {
    let library = StepLibrary::builtin();
    let mut module = "";
    for def in library.defs() {
        if let Some(f) = &args.filter {
            if !def.sentence.contains(f.as_str()) && !def.example.contains(f.as_str()) {
                continue;
            }
        }
        if def.module != module {
            module = def.module;
            println!("## {module}\n");
        }
        println!("  {}", def.example);
        println!("      sentence: {}", def.sentence.replace("\\/", "/"));
        println!("      {}", def.doc);
        if def.needs_host {
            println!("      needs a current host (@hosts:)");
        }
        println!();
    }
    println!("Placeholders {{name}}, {{address}}, {{vars.KEY}} work in every quoted argument and doc string.");
    println!(
        "Parameters: {{string}} = \"text\", {{int}} = 42, {{regex}} = /pattern/, {{duration}} = 500 ms | 5 s | 2 minutes | 25 hours."
    );
    ExitStatus::Ok
}
