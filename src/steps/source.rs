//! Where a built-in step is defined, as `src/steps/command.rs:42`: `shakedown steps` and
//! the collision errors of step packs point at the line, as they do for pack steps
//! (`steps/deploy.toml:4`). The family sources are embedded and searched for the
//! definition's `sentence:` line once per lookup (catalogue printing and errors only).

use super::StepDef;

/// The family source files, by the path their `module` field names.
const SOURCES: &[(&str, &str)] = &[
    ("src/steps/command.rs", include_str!("command.rs")),
    ("src/steps/consistency.rs", include_str!("consistency.rs")),
    ("src/steps/haproxy.rs", include_str!("haproxy.rs")),
    ("src/steps/mysql.rs", include_str!("mysql.rs")),
    ("src/steps/network.rs", include_str!("network.rs")),
    ("src/steps/http/mod.rs", include_str!("http/mod.rs")),
    ("src/steps/http/apache.rs", include_str!("http/apache.rs")),
    ("src/steps/http/tls.rs", include_str!("http/tls.rs")),
    ("src/steps/system/mod.rs", include_str!("system/mod.rs")),
    ("src/steps/system/services.rs", include_str!("system/services.rs")),
    ("src/steps/system/packages.rs", include_str!("system/packages.rs")),
    ("src/steps/system/mounts.rs", include_str!("system/mounts.rs")),
    ("src/steps/system/files.rs", include_str!("system/files.rs")),
    ("src/steps/system/accounts.rs", include_str!("system/accounts.rs")),
];

/// `file:line` of a built-in definition's `sentence:` line (in its module, else in the
/// family table that holds it, e.g. src/steps/system/mod.rs); a pack step's `module` is
/// already `file:line`, and a definition not found here is given by its module.
pub fn location(def: &StepDef) -> String {
    if !def.module.ends_with(".rs") {
        return def.module.to_string();
    }
    let needle = format!("sentence: {:?},", def.sentence);
    let own = SOURCES.iter().filter(|(file, _)| *file == def.module);
    let others = SOURCES.iter().filter(|(file, _)| *file != def.module);
    own.chain(others)
        .find_map(|(file, text)| {
            let i = text.lines().position(|l| l.trim_start().starts_with(&needle))?;
            Some(format!("{file}:{}", i + 1))
        })
        .unwrap_or_else(|| def.module.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::StepLibrary;

    #[test]
    fn every_built_in_step_is_located_at_its_sentence_line() {
        let library = StepLibrary::builtin();
        let mut seen = 0;
        for def in library.defs().filter(|d| d.module.ends_with(".rs")) {
            let at = location(def);
            let (module, line) = at.rsplit_once(':').unwrap_or_else(|| panic!("no line for {at}"));
            let line: usize = line.parse().unwrap_or_else(|_| panic!("no line for {at}"));
            let (_, text) = SOURCES.iter().find(|(m, _)| *m == module).expect("embedded");
            let source_line = text.lines().nth(line - 1).expect("line in file");
            assert!(source_line.contains("sentence:"), "{at}: {source_line}");
            seen += 1;
        }
        assert!(seen > 50, "only {seen} built-in steps");
    }

    #[test]
    fn a_pack_step_keeps_its_own_location() {
        let library = StepLibrary::builtin();
        let def = library
            .defs()
            .find(|d| d.module.starts_with("steps/"))
            .expect("shipped packs are built in");
        assert_eq!(location(def), def.module);
    }
}
