//! The compiled catalogue: each [`StepDef`]'s Cucumber Expression turned into an anchored
//! regex once, and the lookup that tells the runner and `lint` which definition a step
//! text matches (exactly one, none with the nearest sentences, or several).

use std::collections::HashMap;

use cucumber_expressions::Expression;
use regex::Regex;

use super::StepDef;

/// shakedown's parameter types, on top of Cucumber's defaults. Each is ONE capture group.
pub const PARAMETERS: &[(&str, &str)] = &[
    ("string", r#""([^"]*)""#),
    ("int", r"(-?\d+)"),
    ("float", r"(-?\d+(?:\.\d+)?)"),
    ("word", r"([^\s]+)"),
    ("regex", r"/(.*)/"),
    (
        "duration",
        r"(-?\d+(?:\.\d+)? ?(?:ms|s|seconds?|minutes?|hours?|days?))",
    ),
];

/// What a step text matched.
#[derive(Debug)]
pub enum Match<'a> {
    /// Exactly one definition, with its captured arguments (before substitution).
    One(&'a StepDef, Vec<String>),
    /// No definition; the nearest sentences' examples, best first.
    None(Vec<String>),
    /// Several definitions match.
    Ambiguous(Vec<&'a StepDef>),
}

/// Every step definition, compiled.
pub struct StepLibrary {
    defs: Vec<(StepDef, Regex)>,
}

/// Compiles a Cucumber Expression with shakedown's parameter types into an anchored regex.
pub fn compile(sentence: &str) -> Result<Regex, String> {
    let params: HashMap<&str, &str> = PARAMETERS.iter().copied().collect();
    Expression::regex_with_parameters(sentence, &params).map_err(|e| format!("{e}"))
}

impl StepLibrary {
    /// The built-in library. Panics only if a built-in sentence does not compile, which
    /// a unit test rules out.
    pub fn builtin() -> Self {
        let defs = super::builtin_tables().into_iter().flatten().cloned().collect();
        Self::from_defs(defs).expect("built-in step sentences compile")
    }

    /// A library of the given definitions.
    pub fn from_defs(defs: Vec<StepDef>) -> Result<Self, String> {
        let mut out = Vec::with_capacity(defs.len());
        for def in defs {
            let re = compile(def.sentence).map_err(|e| format!("{}: {e}", def.sentence))?;
            out.push((def, re));
        }
        Ok(StepLibrary { defs: out })
    }

    /// Every definition, in catalogue order.
    pub fn defs(&self) -> impl Iterator<Item = &StepDef> {
        self.defs.iter().map(|(d, _)| d)
    }

    /// Finds the definition matching `text`.
    pub fn find(&self, text: &str) -> Match<'_> {
        let mut found: Vec<(&StepDef, Vec<String>)> = Vec::new();
        for (def, re) in &self.defs {
            if let Some(caps) = re.captures(text) {
                let args = caps.iter().skip(1).flatten().map(|m| m.as_str().to_string()).collect();
                found.push((def, args));
            }
        }
        match found.len() {
            0 => Match::None(crate::nearest::ranked(
                text,
                self.defs.iter().map(|(d, _)| d.example_text()),
                3,
            )),
            1 => {
                let (def, args) = found.remove(0);
                Match::One(def, args)
            }
            _ => Match::Ambiguous(found.into_iter().map(|(d, _)| d).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_library_builds_and_every_example_matches_its_own_sentence() {
        let lib = StepLibrary::builtin();
        for def in lib.defs() {
            match lib.find(def.example_text()) {
                Match::One(found, _) => assert_eq!(found.sentence, def.sentence, "example {:?}", def.example),
                other => panic!("example {:?} of {:?} gives {other:?}", def.example, def.sentence),
            }
        }
    }

    #[test]
    fn parameters_capture_one_group_each() {
        let re = compile(r#"the file {string} should match {regex}"#).unwrap();
        let caps = re.captures(r#"the file "/etc/a b" should match /^x = \d+$/"#).unwrap();
        let got: Vec<_> = caps.iter().skip(1).flatten().map(|m| m.as_str()).collect();
        assert_eq!(got, ["/etc/a b", r"^x = \d+$"]);
        let re = compile(r"{string} should be in \/etc\/fstab").unwrap();
        assert!(re.is_match(r#""/ebs1" should be in /etc/fstab"#));
    }

    #[test]
    fn unknown_text_suggests_nearest() {
        let lib = StepLibrary::builtin();
        match lib.find("the comand should succeed") {
            Match::None(near) => assert_eq!(near.first().map(String::as_str), Some("the command should succeed")),
            other => panic!("{other:?}"),
        }
    }
}
