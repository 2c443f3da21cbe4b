//! The part of every command that needs no host: read the inventory, read and compile
//! the features, match every step, check arguments and placeholders, build the plan.
//! Anything wrong here is bad input (exit 2) and nothing has been contacted.

use std::path::{Path, PathBuf};

use crate::cli::SelectArgs;
use crate::error::BadInput;
use crate::inventory::Inventory;
use crate::steps::StepLibrary;
use crate::suite::{Feature, Plan, load, plan};

/// Everything a run needs, checked.
pub struct Prepared {
    /// The inventory.
    pub inventory: Inventory,
    /// The plan.
    pub plan: Plan,
    /// The step library.
    pub library: StepLibrary,
}

/// The inventory read when no `-i`/`SHAKEDOWN_INVENTORY` is given and this file exists.
pub const DEFAULT_INVENTORY: &str = "inventory.toml";

/// Reads and checks everything; the error lists every problem found, one per line.
pub fn prepare(args: &SelectArgs) -> Result<Prepared, BadInput> {
    let inventory = match &args.inventory {
        Some(p) => Inventory::load(p).map_err(|e| BadInput::one(crate::inventory::secret::redact(&e.to_string())))?,
        // Where the spec is silent: `./inventory.toml`, as `shakedown init` writes it, is the
        // default inventory (like `./steps` for custom steps); without it, this machine only.
        None if Path::new(DEFAULT_INVENTORY).is_file() => Inventory::load(Path::new(DEFAULT_INVENTORY))
            .map_err(|e| BadInput::one(crate::inventory::secret::redact(&e.to_string())))?,
        None => Inventory::localhost_only(),
    };
    let selection = selection(args)?;
    let library = crate::packs::library(args.steps.as_deref()).map_err(BadInput)?;
    let paths: Vec<PathBuf> = args.paths.clone();
    let files = load::discover(&paths).map_err(|e| BadInput::one(e.to_string()))?;
    if files.is_empty() {
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(BadInput::one(format!(
            "no scenario selected: no .feature file in {}",
            paths.join(", ")
        )));
    }
    let mut features: Vec<Feature> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for file in files {
        match load::load_file(&file) {
            Ok(loaded) => {
                problems.extend(loaded.refused.iter().map(ToString::to_string));
                features.extend(loaded.feature);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let plan = match plan::build(features, &inventory, &selection) {
        Ok(p) => p,
        Err(e) => {
            problems.push(e.to_string());
            return Err(BadInput(problems));
        }
    };
    if plan.selected == 0 && problems.is_empty() {
        return Err(BadInput::one(nothing_selected(&plan, &selection, args)));
    }
    problems.extend(check_steps(&plan, &library, &inventory));
    problems.extend(unusable_hosts(&plan, &library, &inventory));
    problems.extend(check_targets(&plan, &library, &inventory));
    if problems.is_empty() {
        Ok(Prepared {
            inventory,
            plan,
            library,
        })
    } else {
        Err(BadInput(problems))
    }
}

/// Prints the inventory's warnings (Ansible variables shakedown ignores) on stderr, for
/// `lint` and `run` (not `check`, whose output is a monitoring plugin's).
pub fn print_warnings(prepared: &Prepared) {
    for w in &prepared.inventory.warnings {
        eprintln!("warning: {w}");
    }
}

/// What makes a host the run uses unusable (an unset secret, a missing key file), one
/// message per problem. A run uses the hosts its scenarios run on and the hosts its steps
/// name (`MySQL on "db1"`, `... on all hosts in group "db"`): a host outside the run needs
/// none of its secrets.
fn unusable_hosts(plan: &Plan, library: &StepLibrary, inventory: &Inventory) -> Vec<String> {
    let mut used = std::collections::BTreeSet::new();
    for unit in &plan.units {
        let host = unit.host.as_deref().and_then(|h| inventory.hosts.get(h));
        used.extend(unit.host.clone());
        for step in &unit.scenario.steps {
            let Ok((def, args)) = library.resolve(&step.text) else {
                continue;
            };
            let names_a_group = def.sentence.contains("group {string}");
            for arg in &args {
                let Ok(value) = crate::template::substitute(arg, host) else {
                    continue;
                };
                if inventory.hosts.contains_key(&value) {
                    used.insert(value);
                } else if let (true, Ok(names)) = (names_a_group, inventory.select(&value)) {
                    used.extend(names);
                }
            }
        }
    }
    let mut problems: Vec<String> = used
        .iter()
        .filter_map(|h| inventory.hosts.get(h))
        .flat_map(|h| h.unusable())
        .map(|e| crate::inventory::secret::redact(&e.to_string()))
        .collect();
    // A setting of [defaults] or a group is one problem, whichever hosts share it.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    problems
}

fn selection(args: &SelectArgs) -> Result<plan::Selection, BadInput> {
    let tags = match &args.tags {
        Some(t) => Some(t.parse::<gherkin::tagexpr::TagOperation>().map_err(|e| {
            BadInput::one(format!(
                "--tags {t:?}: not a tag expression ({e}); example: \"@smoke and not @slow\""
            ))
        })?),
        None => None,
    };
    let name = match &args.name {
        Some(n) => Some(regex::Regex::new(n).map_err(|e| {
            BadInput::one(format!(
                "--name {n:?}: bad regular expression: {}",
                crate::steps::expect::regex_problem(n, &e)
            ))
        })?),
        None => None,
    };
    let partition = match &args.partition {
        Some(p) => Some(
            parse_partition(p)
                .ok_or_else(|| BadInput::one(format!("--partition {p:?}: expected K/N with 1 <= K <= N, e.g. 2/4")))?,
        ),
        None => None,
    };
    Ok(plan::Selection {
        tags,
        name,
        hosts: args.hosts.clone(),
        partition,
    })
}

/// Why the paths and options selected no scenario (an empty `--partition` shard is not
/// this: the other shards hold the scenarios).
fn nothing_selected(plan: &Plan, selection: &plan::Selection, args: &SelectArgs) -> String {
    let all: Vec<_> = plan.features.iter().flat_map(|f| &f.scenarios).collect();
    let count = match all.len() {
        0 => return "no scenario selected: the features have no scenarios".into(),
        1 => "1 scenario".to_string(),
        n => format!("{n} scenarios"),
    };
    let mut filters = Vec::new();
    if let Some(t) = &args.tags {
        filters.push(format!("--tags {t:?}"));
    }
    if let Some(n) = &args.name {
        filters.push(format!("--name {n:?}"));
    }
    match &args.hosts {
        Some(h) if all.iter().any(|s| plan::selected(s, selection)) => {
            format!("no scenario selected: --hosts {h:?} matches no host of the {count} selected")
        }
        _ => format!(
            "no scenario selected: {} matches none of {count}",
            filters.join(" with ")
        ),
    }
}

fn parse_partition(p: &str) -> Option<(u64, u64)> {
    let (k, n) = p.split_once('/')?;
    let (k, n): (u64, u64) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (k >= 1 && k <= n).then_some((k, n))
}

/// Matches every step of every planned unit; returns one message per problem, each with
/// `file:line:column`.
fn check_steps(plan: &Plan, library: &StepLibrary, inventory: &Inventory) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for feature in &plan.features {
        for scenario in &feature.scenarios {
            for step in &scenario.steps {
                let at = format!("{}:{}:{}", feature.path.display(), step.line, step.column);
                if !seen.insert((at.clone(), step.text.clone())) {
                    continue;
                }
                match library.resolve(&step.text) {
                    Ok((def, args)) => {
                        if let Some(e) = library.keyword_error(def, step.kind) {
                            problems.push(format!("{at}: {}{}: {e}", step.keyword, step.text));
                        }
                        let doc_string = library.takes_doc_string(def);
                        if let Some(e) = crate::steps::arguments::block_error(doc_string, step) {
                            let text = step.text.strip_suffix(':').unwrap_or(&step.text);
                            problems.push(format!("{at}: {}{text}: {e}", step.keyword));
                        }
                        // Arguments with placeholders are checked per host, below.
                        if let (Some(check), Ok(args)) = (def.check, library.substitute_args(def, &args, None))
                            && let Err(e) = check(&args)
                        {
                            problems.push(format!("{at}: {}{}: {e}", step.keyword, step.text));
                        }
                    }
                    Err(unmatched) => problems.push(format!("{at}: {unmatched}")),
                }
            }
        }
    }
    // Placeholders and host needs, per unit (each host has its own vars).
    for unit in &plan.units {
        let host = unit.host.as_deref().and_then(|h| inventory.hosts.get(h));
        for step in &unit.scenario.steps {
            let at = format!("{}:{}:{}", unit.feature.path.display(), step.line, step.column);
            let Ok((def, args)) = library.resolve(&step.text) else {
                continue;
            };
            if def.needs_host && host.is_none() {
                problems.push(format!(
                    "{at}: \"{}\" needs a current host: tag the scenario or feature with @hosts:GROUP",
                    step.text
                ));
                continue;
            }
            // As the run does: this host's values in, then the step's own checks on them
            // (`"{vars.app_url}health"` is a URL only once app_url is in).
            match library.substitute_args(def, &args, host) {
                Err(e) => problems.push(format!("{at}: {e}")),
                Ok(values) if library.substitute_args(def, &args, None).is_err() => {
                    if let Some(Err(e)) = def.check.map(|check| check(&values)) {
                        let on = unit.host.as_deref().unwrap_or("no host");
                        problems.push(format!("{at}: {}{}: on {on}: {e}", step.keyword, step.text));
                    }
                }
                Ok(_) => {}
            }
            if let Some(Err(e)) = step
                .doc_string
                .as_ref()
                .map(|d| crate::template::substitute(&d.content, host))
            {
                problems.push(format!("{at}: {e}"));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    problems
}

/// Resolves every `{host}` and `{group}` argument (after placeholders, per unit) against
/// the inventory, as `@hosts:` tags are: one message per problem, at the argument's column.
fn check_targets(plan: &Plan, library: &StepLibrary, inventory: &Inventory) -> Vec<String> {
    use crate::steps::arguments;
    let mut problems = Vec::new();
    // Steps with host arguments, by text: a scenario's steps are matched once, not per host.
    let mut matched = std::collections::HashMap::new();
    for unit in &plan.units {
        let host = unit.host.as_deref().and_then(|h| inventory.hosts.get(h));
        for step in &unit.scenario.steps {
            let found = matched
                .entry(step.text.as_str())
                .or_insert_with(|| match library.resolve(&step.text) {
                    Ok((def, args)) if !arguments::targets(def).is_empty() => Some((def, args)),
                    _ => None,
                });
            let Some((def, args)) = found else {
                continue;
            };
            for (index, target) in arguments::targets(def) {
                let Some(Ok(value)) = args.get(index).map(|a| crate::template::substitute(a, host)) else {
                    continue; // a bad placeholder is reported by check_steps
                };
                if let Some(e) = arguments::resolve(target, &value, inventory) {
                    let column = arguments::column(def, step, index);
                    let at = format!("{}:{}:{column}", unit.feature.path.display(), step.line);
                    problems.push(format!("{at}: {}{}: {e}", step.keyword, step.text));
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert(p.clone()));
    problems
}
