//! The compiled catalogue: each [`StepDef`]'s Cucumber Expression turned into an anchored
//! regex once, and the lookup that tells the runner and `lint` which definition a step
//! text matches (exactly one, none with the nearest sentences, or several).

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use cucumber_expressions::Expression;
use regex::Regex;

use super::{Args, StepCtx, StepDef, StepOutput};
use crate::packs::PackStep;
use crate::suite::StepKind;

/// shakedown's parameter types, on top of Cucumber's defaults. Each is ONE capture group.
pub const PARAMETERS: &[(&str, &str)] = &[
    ("string", r#""([^"]*)""#),
    ("int", r"(-?\d+)"),
    ("float", r"(-?\d+(?:\.\d+)?)"),
    ("word", r"([^\s]+)"),
    ("regex", r"/(.*)/"),
    ("duration", crate::duration::PATTERN),
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

/// Every step definition, compiled; pack steps (`steps/*.toml`) carry their data.
pub struct StepLibrary {
    defs: Vec<(StepDef, Regex)>,
    packs: Vec<Option<Arc<PackStep>>>,
}

/// Compiles a Cucumber Expression with shakedown's parameter types into an anchored regex.
pub fn compile(sentence: &str) -> Result<Regex, String> {
    let mut params: HashMap<&str, &str> = PARAMETERS.iter().copied().collect();
    // `{host}` and `{group}` match as `{string}` does; lint resolves their values.
    let string = params.get("string").copied().unwrap_or_default();
    for &(name, _) in super::arguments::TARGET_PARAMETERS {
        params.insert(name, string);
    }
    Expression::regex_with_parameters(sentence, &params).map_err(|e| format!("{e}"))
}

impl StepLibrary {
    /// The built-in library: Rust steps and the packs shipped in `steps/`. Panics only if
    /// a built-in sentence or pack does not compile, which unit tests rule out.
    pub fn builtin() -> Self {
        crate::packs::builtin_library()
    }

    /// A library of the given definitions.
    pub fn from_defs(defs: Vec<StepDef>) -> Result<Self, String> {
        let mut out = Vec::with_capacity(defs.len());
        for def in defs {
            let re = compile(def.sentence).map_err(|e| format!("{}: {e}", def.sentence))?;
            out.push((def, re));
        }
        let packs = vec![None; out.len()];
        Ok(StepLibrary { defs: out, packs })
    }

    /// The anchored regex of a sentence (for packs' collision checks).
    pub fn sentence_regex(sentence: &str) -> Result<Regex, String> {
        compile(sentence)
    }

    /// Appends a pack step.
    pub fn add_pack(&mut self, def: StepDef, pack: Arc<PackStep>) -> Result<(), String> {
        let re = compile(def.sentence).map_err(|e| format!("sentence does not compile: {e}"))?;
        self.defs.push((def, re));
        self.packs.push(Some(pack));
        Ok(())
    }

    /// The pack data of `def`, when it comes from a pack.
    pub fn pack(&self, def: &StepDef) -> Option<&Arc<PackStep>> {
        let i = self.defs.iter().position(|(d, _)| std::ptr::eq(d, def))?;
        self.packs[i].as_ref()
    }

    /// Runs `def` (a built-in's fn, or a pack step with its data).
    pub fn call<'a>(&'a self, def: &'a StepDef, ctx: &'a mut StepCtx, args: Args) -> BoxFuture<'a, StepOutput> {
        match self.pack(def) {
            Some(pack) => crate::packs::action::run(pack, self, ctx, args, 0),
            None => (def.run)(ctx, args),
        }
    }

    /// Why `def` cannot be used with a keyword of `kind` (pack steps may restrict them).
    pub fn keyword_error(&self, def: &StepDef, kind: StepKind) -> Option<String> {
        let allowed = self.pack(def)?.keywords.as_ref()?;
        if kind == StepKind::Unknown || allowed.contains(&kind) {
            return None;
        }
        let names: Vec<&str> = allowed
            .iter()
            .map(|k| match k {
                StepKind::Context => "Given",
                StepKind::Action => "When",
                _ => "Then",
            })
            .collect();
        Some(format!(
            "\"{}\" ({}) is a {} step",
            def.sentence,
            def.module,
            names.join("/")
        ))
    }

    /// Whether `def` takes a doc string: a built-in sentence ending with `:` (`... with
    /// body:`); pack steps take none.
    pub fn takes_doc_string(&self, def: &StepDef) -> bool {
        self.pack(def).is_none() && def.sentence.ends_with(':')
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
