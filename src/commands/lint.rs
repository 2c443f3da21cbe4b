//! `shakedown lint`: the run pipeline stopped after the plan. Parses every feature,
//! matches every step to exactly one definition, resolves every `@hosts:` pattern and
//! placeholder; contacts no host.

use crate::cli::SelectArgs;
use crate::error::{BadInput, ExitStatus};

/// Runs lint; prints a summary on success.
pub fn lint(args: &SelectArgs) -> Result<ExitStatus, BadInput> {
    let prepared = super::prepare::prepare(args)?;
    super::prepare::print_warnings(&prepared);
    let review = crate::packs::review(&prepared.library);
    if !review.is_empty() {
        println!("custom steps (what each may run or send; placeholders are quoted or escaped):");
        for line in review {
            println!("  {line}");
        }
    }
    let plan = &prepared.plan;
    let scenarios: usize = plan.features.iter().map(|f| f.scenarios.len()).sum();
    let mut hosts: Vec<&str> = plan.units.iter().filter_map(|u| u.host.as_deref()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    println!(
        "ok: {} features, {} scenarios, {} runs on {} hosts; every step defined",
        plan.features.len(),
        scenarios,
        plan.units.len(),
        hosts.len()
    );
    Ok(ExitStatus::Ok)
}
