//! Where a step is defined, as `src/steps/command.rs:42`: `shakedown steps` and the
//! collision errors of step packs point at the line, as they do for pack steps
//! (`steps/deploy.toml:4`). Every [`StepDef`] carries its own `file` and `line` (`line!()` in
//! the family tables), so nothing is searched.

use super::StepDef;

/// `file:line` of a definition: a built-in one's table entry (its `line: line!()` field,
/// just above the sentence), a pack step's `[[step]]`.
pub fn location(def: &StepDef) -> String {
    format!("{}:{}", def.file, def.line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::StepLibrary;

    #[test]
    fn every_built_in_step_is_located_at_its_entry_just_above_its_sentence() {
        let library = StepLibrary::builtin_steps();
        let mut seen = 0;
        for def in library.defs().filter(|d| d.file.ends_with(".rs")) {
            let at = location(def);
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(def.file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{at}: {e}"));
            let mut lines = text.lines().skip(def.line as usize - 1);
            assert_eq!(lines.next().map(str::trim), Some("line: line!(),"), "{at}");
            let sentence = format!("sentence: {:?},", def.sentence);
            assert_eq!(lines.next().map(str::trim), Some(sentence.as_str()), "{at}");
            seen += 1;
        }
        assert!(seen > 50, "only {seen} built-in steps");
    }
}
