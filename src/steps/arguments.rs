//! What a step's arguments mean beyond their text, so `lint` can check them before any
//! host is contacted: which quoted arguments name inventory hosts (`{host}`) or host
//! patterns (`{group}`), and whether the step takes a doc string (its sentence ends with
//! `:`). No built-in step takes a data table.

use super::StepDef;
use crate::inventory::Inventory;
use crate::suite::Step;

/// An argument that names hosts of the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `{host}`: one inventory host name (`MySQL on "db1" ...`).
    Host,
    /// `{group}`: a host pattern as in `@hosts:` (group, host name, glob, comma list).
    Group,
}

/// Parameter types that are `{string}`s naming hosts: they match exactly what `{string}`
/// matches, and `lint` resolves their value (after placeholders) against the inventory.
pub const TARGET_PARAMETERS: &[(&str, Target)] = &[("host", Target::Host), ("group", Target::Group)];

/// The parameter type names of a Cucumber Expression, in order (one per capture group):
/// `the table {string} ... in group {group}` gives `["string", "group"]`.
pub fn parameter_names(sentence: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut chars = sentence.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => {
                let end = sentence[i..].find('}').map_or(sentence.len(), |e| i + e);
                out.push(&sentence[i + 1..end]);
                while chars.next().is_some_and(|(j, _)| j < end) {}
            }
            _ => {}
        }
    }
    out
}

/// The arguments of `def` that name hosts, as (index among its captures, kind).
pub fn targets(def: &StepDef) -> Vec<(usize, Target)> {
    parameter_names(def.sentence)
        .into_iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let (_, t) = TARGET_PARAMETERS.iter().find(|(n, _)| *n == name)?;
            Some((i, *t))
        })
        .collect()
}

/// Why `value` (placeholders already replaced) does not name what `target` wants, with the
/// nearest name; `None` when it does.
pub fn resolve(target: Target, value: &str, inventory: &Inventory) -> Option<String> {
    let no_inventory = || {
        if inventory.is_implicit() {
            " (no inventory given: -i FILE)"
        } else {
            ""
        }
    };
    match target {
        Target::Host if inventory.hosts.contains_key(value) => None,
        Target::Host => {
            if let Some(first) = inventory.groups.get(value).and_then(|m| m.iter().next()) {
                return Some(format!(
                    "\"{value}\" is a group; this step takes one host name, e.g. \"{first}\""
                ));
            }
            let near = crate::nearest::nearest(value, inventory.hosts.keys().map(String::as_str));
            let hint = match near {
                Some(n) if !inventory.is_implicit() => format!(" (did you mean \"{n}\"?)"),
                _ => no_inventory().to_string(),
            };
            Some(format!("unknown host \"{value}\"{hint}"))
        }
        // As the run reads it (`HostPool::select`): one matcher for both.
        Target::Group => inventory
            .select_argument(value)
            .err()
            .map(|e| format!("{e}{}", no_inventory())),
    }
}

/// Why the doc string or data table under `step` does not fit its definition, if it does
/// not: the step needs a doc string it lacks, or has one (or a table) it would ignore.
pub fn block_error(takes_doc_string: bool, step: &Step) -> Option<&'static str> {
    match (takes_doc_string, step.doc_string.is_some()) {
        (true, false) => Some("needs a doc string: the text to send, in a \"\"\" block under the step"),
        (false, true) => Some("takes no doc string: the \"\"\" block under it would be ignored"),
        _ => step
            .table
            .is_some()
            .then_some("takes no data table: the | table | under it would be ignored"),
    }
}

/// The 1-based column in the file of `def`'s `index`-th argument in `step` (its opening
/// quote), or the step's column when it cannot be found (an outline row changed the text).
pub fn column(def: &StepDef, step: &Step, index: usize) -> usize {
    let Ok(re) = super::library::compile(def.sentence) else {
        return step.column;
    };
    let Some(m) = re.captures(&step.text).and_then(|c| c.get(index + 1)) else {
        return step.column;
    };
    let before = &step.text[..m.start()];
    let quote = usize::from(before.ends_with(['"', '\'']));
    step.column + step.keyword.chars().count() + before.chars().count() - quote
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_skip_escapes_and_keep_order() {
        assert_eq!(
            parameter_names(r"the table {string} in \{x} group {group} at {}"),
            ["string", "group", ""]
        );
        assert_eq!(parameter_names(r"{string} should be in \/etc\/fstab"), ["string"]);
    }

    #[test]
    fn built_in_host_arguments_are_typed() {
        let lib = crate::steps::StepLibrary::builtin_steps();
        let typed: Vec<(&str, Vec<(usize, Target)>)> = lib
            .defs()
            .map(|d| (d.sentence, targets(d)))
            .filter(|(_, t)| !t.is_empty())
            .collect();
        assert_eq!(
            typed,
            [
                (
                    "MySQL on {host} should be accepting connections",
                    vec![(0, Target::Host)]
                ),
                (
                    "the table {string} should be the same on all hosts in group {group}",
                    vec![(1, Target::Group)]
                ),
                (
                    "the output of {string} should be the same on all hosts in group {group}",
                    vec![(1, Target::Group)]
                ),
                (
                    "the file {string} should be the same on all hosts in group {group}",
                    vec![(1, Target::Group)]
                ),
            ]
        );
    }
}
