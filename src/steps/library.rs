//! The compiled catalogue: each [`StepDef`]'s Cucumber Expression turned into an anchored
//! regex once, and the lookup that tells the runner and `lint` which definition a step
//! text matches (exactly one, none with the nearest sentences, or several), with its
//! arguments unquoted; and how those arguments take the current host's values.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;

use cucumber_expressions::Expression;
use regex::Regex;

use super::{Args, StepCtx, StepDef, StepOutput};
use crate::inventory::Host;
use crate::suite::StepKind;

/// A quoted argument, as Cucumber's `{string}`: `"..."` in which `\"` writes a double quote,
/// or `'...'` in which `\'` writes a single quote. ONE capture group, quotes included (the
/// `regex` crate has no backreference to tell the two forms apart): [`StepLibrary::find`]
/// strips them with [`unquote`].
const QUOTED: &str = r#"("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"#;

/// A quoted argument as a user may mistype it, with bare quotes inside (`""a":"b""`): only
/// to suggest the escaped form ([`StepLibrary::quote_hint`]).
const LOOSE_QUOTED: &str = r#"(".*"|'.*')"#;

/// shakedown's parameter types, on top of Cucumber's defaults. Each is ONE capture group.
/// `{command}` is a quoted argument that is a shell command line (the command steps): its
/// placeholders are inserted as one quoted shell word ([`StepLibrary::substitute_args`]).
pub(super) const PARAMETERS: &[(&str, &str)] = &[
    ("string", QUOTED),
    ("command", QUOTED),
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

/// A step body defined above the steps layer (a pack step, `steps/*.toml`): the library
/// holds and calls it without knowing what it is. A built-in's body is its `StepDef::run`.
pub trait StepBody: Send + Sync {
    /// Runs the step (it may run other steps of `library`: a macro step).
    fn call<'a>(&'a self, library: &'a StepLibrary, ctx: &'a mut StepCtx, args: Args) -> BoxFuture<'a, StepOutput>;
    /// The keyword kinds it may be used with; `None`: any.
    fn keywords(&self) -> Option<&[StepKind]> {
        None
    }
    /// Whether it takes a doc string.
    fn takes_doc_string(&self) -> bool {
        false
    }
    /// Itself, for the layer that defined it to read its own data back.
    fn as_any(&self) -> &dyn Any;
}

/// Why a step text has no one definition to run: undefined (with the nearest sentences,
/// or how to escape a bare quote) or ambiguous. The one wording of both, for lint, the
/// runner and pack macro steps alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// No sentence matches `text`; `hint` says what might have been meant.
    Undefined {
        /// The step text.
        text: String,
        /// `did you mean "..."?`, the escaped-quote form, or where to list the sentences.
        hint: String,
    },
    /// Several sentences match `text`: each `"sentence" (source)`.
    Ambiguous {
        /// The step text.
        text: String,
        /// The matching sentences with their sources.
        candidates: Vec<String>,
    },
}

impl std::fmt::Display for Unmatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unmatched::Undefined { text, hint } => write!(f, "undefined step \"{text}\"; {hint}"),
            Unmatched::Ambiguous { text, candidates } => {
                write!(f, "ambiguous step \"{text}\" matches {}", candidates.join(" and "))
            }
        }
    }
}

/// A step text resolved to its definition in one library ([`StepLibrary::def`]), with its
/// raw arguments (placeholders not yet filled: that is per host).
#[derive(Debug, Clone)]
pub struct Resolved {
    def: usize,
    /// The captured arguments, unquoted.
    pub raw: Vec<String>,
}

/// The nearest known sentences as a hint for an undefined step.
fn nearest_hint(nearest: &[String]) -> String {
    if nearest.is_empty() {
        "no step matches; `shakedown steps` lists them all".to_string()
    } else {
        let list: Vec<String> = nearest.iter().map(|n| format!("\"{n}\"")).collect();
        format!("did you mean {}?", list.join(" or "))
    }
}

/// Every step definition, compiled; pack steps (`steps/*.toml`) carry their body.
pub struct StepLibrary {
    defs: Vec<(StepDef, Regex)>,
    bodies: Vec<Option<Arc<dyn StepBody>>>,
    /// Each sentence with quoted arguments that may hold bare quotes (built on the first
    /// undefined step).
    loose: OnceLock<Vec<Option<Regex>>>,
}

/// Compiles a Cucumber Expression with shakedown's parameter types into an anchored regex.
pub(super) fn compile(sentence: &str) -> Result<Regex, String> {
    compile_with(sentence, QUOTED)
}

fn compile_with(sentence: &str, quoted: &str) -> Result<Regex, String> {
    let mut params: HashMap<&str, &str> = PARAMETERS.iter().copied().collect();
    params.insert("string", quoted);
    params.insert("command", quoted);
    // `{host}` and `{group}` match as `{string}` does; lint resolves their values.
    for &(name, _) in super::arguments::TARGET_PARAMETERS {
        params.insert(name, quoted);
    }
    Expression::regex_with_parameters(sentence, &params).map_err(|e| format!("{e}"))
}

/// How a captured parameter becomes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `{string}`: unquoted; placeholders take the host's values as they are.
    Quoted,
    /// `{command}`: unquoted; a shell command line, placeholders one quoted shell word each.
    Command,
    /// Every other type: as captured.
    Plain,
}

/// The kinds of a sentence's parameters, in order (the order of its capture groups).
fn kinds(sentence: &str) -> Vec<Kind> {
    use cucumber_expressions::SingleExpression;
    let Ok(expr) = Expression::parse(sentence) else {
        return Vec::new();
    };
    expr.0
        .iter()
        .filter_map(|e| match e {
            SingleExpression::Parameter(p) => Some(match *p.input.fragment() {
                "string" => Kind::Quoted,
                "command" => Kind::Command,
                name if super::arguments::TARGET_PARAMETERS.iter().any(|(n, _)| *n == name) => Kind::Quoted,
                _ => Kind::Plain,
            }),
            _ => None,
        })
        .collect()
}

/// The text of a quoted argument as captured (quotes included): without its quotes, with
/// `\"` in `"..."` (`\'` in `'...'`) written as the quote itself. Every other backslash is
/// kept as written, so shell and regex escapes (`\d`, `\$`, `\\`) pass through.
pub(super) fn unquote(captured: &str) -> String {
    let Some(q) = captured.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return captured.to_string();
    };
    let inner = captured
        .strip_prefix(q)
        .and_then(|s| s.strip_suffix(q))
        .unwrap_or(captured);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(n) if n == q => out.push(q),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `value` as a quoted argument in quote `q`: `q` escaped unless it already is.
fn requote(value: &str, q: char) -> String {
    let mut out = String::from(q);
    let mut escaped = false;
    for c in value.chars() {
        if c == q && !escaped {
            out.push('\\');
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    if escaped {
        // A trailing backslash would escape the closing quote.
        out.push('\\');
    }
    out.push(q);
    out
}

impl StepLibrary {
    /// The built-in Rust steps alone (the packs shipped in `steps/` are added by
    /// `packs::builtin_library`). Panics only if a built-in sentence does not compile, which
    /// unit tests rule out.
    pub fn builtin_steps() -> Self {
        Self::from_defs(super::builtin_tables().into_iter().flatten().cloned().collect())
            .expect("built-in sentences compile")
    }

    /// A library of the given definitions.
    pub fn from_defs(defs: Vec<StepDef>) -> Result<Self, String> {
        let mut out = Vec::with_capacity(defs.len());
        for def in defs {
            let re = compile(def.sentence).map_err(|e| format!("{}: {e}", def.sentence))?;
            out.push((def, re));
        }
        let bodies = vec![None; out.len()];
        Ok(StepLibrary {
            defs: out,
            bodies,
            loose: OnceLock::new(),
        })
    }

    /// The anchored regex of a sentence (for packs' collision checks).
    pub fn sentence_regex(sentence: &str) -> Result<Regex, String> {
        compile(sentence)
    }

    /// Appends a step whose body is defined above this layer (a pack step).
    pub fn add_body(&mut self, def: StepDef, body: Arc<dyn StepBody>) -> Result<(), String> {
        let re = compile(def.sentence).map_err(|e| format!("sentence does not compile: {e}"))?;
        self.defs.push((def, re));
        self.bodies.push(Some(body));
        self.loose = OnceLock::new();
        Ok(())
    }

    /// The body of `def`, when it is not a built-in's fn.
    pub fn body(&self, def: &StepDef) -> Option<&Arc<dyn StepBody>> {
        let i = self.defs.iter().position(|(d, _)| std::ptr::eq(d, def))?;
        self.bodies[i].as_ref()
    }

    /// Runs `def` (a built-in's fn, or its body).
    pub fn call<'a>(&'a self, def: &'a StepDef, ctx: &'a mut StepCtx, args: Args) -> BoxFuture<'a, StepOutput> {
        match self.body(def) {
            Some(body) => body.call(self, ctx, args),
            None => (def.run)(ctx, args),
        }
    }

    /// The one definition `text` (a step without its keyword) names, with its raw
    /// arguments, or why there is none: the matching every caller uses (lint, the runner,
    /// pack macro steps), so all word a problem alike. The keyword is checked apart
    /// ([`keyword_error`](Self::keyword_error)).
    pub fn resolve(&self, text: &str) -> Result<(&StepDef, Vec<String>), Unmatched> {
        let found = self.resolve_step(text)?;
        Ok((self.def(&found), found.raw))
    }

    /// As [`resolve`](Self::resolve), as a value that outlives the borrow of the library
    /// (the runner resolves each scenario's steps once and carries them to every unit).
    pub fn resolve_step(&self, text: &str) -> Result<Resolved, Unmatched> {
        match self.find(text) {
            Match::One(def, raw) => Ok(Resolved {
                def: self
                    .defs
                    .iter()
                    .position(|(d, _)| std::ptr::eq(d, def))
                    .unwrap_or_default(),
                raw,
            }),
            Match::None(near) => Err(Unmatched::Undefined {
                text: text.to_string(),
                hint: self.quote_hint(text).unwrap_or_else(|| nearest_hint(&near)),
            }),
            Match::Ambiguous(defs) => Err(Unmatched::Ambiguous {
                text: text.to_string(),
                candidates: defs
                    .iter()
                    .map(|d| format!("\"{}\" ({})", d.sentence, d.module))
                    .collect(),
            }),
        }
    }

    /// The definition a step was resolved to.
    pub fn def(&self, resolved: &Resolved) -> &StepDef {
        &self.defs[resolved.def].0
    }

    /// Why `def` cannot be used with a keyword of `kind` (pack steps may restrict them).
    pub fn keyword_error(&self, def: &StepDef, kind: StepKind) -> Option<String> {
        let allowed = self.body(def)?.keywords()?;
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
        match self.body(def) {
            Some(body) => body.takes_doc_string(),
            None => def.sentence.ends_with(':'),
        }
    }

    /// Every definition, in catalogue order.
    pub fn defs(&self) -> impl Iterator<Item = &StepDef> {
        self.defs.iter().map(|(d, _)| d)
    }

    /// Finds the definition matching `text`; quoted arguments come unquoted ([`unquote`]).
    pub fn find(&self, text: &str) -> Match<'_> {
        let mut found: Vec<(&StepDef, Vec<String>)> = Vec::new();
        for (def, re) in &self.defs {
            if let Some(caps) = re.captures(text) {
                let kinds = kinds(def.sentence);
                let args = caps
                    .iter()
                    .skip(1)
                    .flatten()
                    .enumerate()
                    .map(|(i, m)| match kinds.get(i) {
                        Some(Kind::Quoted | Kind::Command) => unquote(m.as_str()),
                        _ => m.as_str().to_string(),
                    })
                    .collect();
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

    /// The arguments `raw` of `def` (as [`find`](Self::find) gave them) with `{name}`,
    /// `{address}` and `{vars.KEY}` replaced by `host`'s values: as they are in a
    /// `{string}`; as one quoted shell word each in a `{command}`, so an inventory value can
    /// never add shell syntax to a command line ([`crate::template::substitute_command`]).
    pub fn substitute_args(&self, def: &StepDef, raw: &[String], host: Option<&Host>) -> Result<Vec<String>, String> {
        let kinds = kinds(def.sentence);
        raw.iter()
            .enumerate()
            .map(|(i, value)| match kinds.get(i) {
                Some(Kind::Command) => crate::template::substitute_command(value, host),
                _ => crate::template::substitute(value, host).map_err(|e| e.to_string()),
            })
            .collect()
    }

    /// Why `text` is undefined when the reason is a bare quote inside a quoted argument
    /// (`"say "hi""` ends after `say `): the step written with the quote escaped, and with
    /// the other kind of quotes, each checked to match. `None` for any other reason.
    pub fn quote_hint(&self, text: &str) -> Option<String> {
        let loose = self.loose.get_or_init(|| {
            self.defs
                .iter()
                .map(|(def, _)| match kinds(def.sentence).iter().any(|k| *k != Kind::Plain) {
                    true => compile_with(def.sentence, LOOSE_QUOTED).ok(),
                    false => None,
                })
                .collect()
        });
        let strict = Regex::new(&format!("^{QUOTED}$")).expect("constant regex compiles");
        for (i, re) in loose.iter().enumerate() {
            let Some(caps) = re.as_ref().and_then(|re| re.captures(text)) else {
                continue;
            };
            let kinds = kinds(self.defs[i].0.sentence);
            let (mut escaped, mut other, mut at) = (String::new(), String::new(), 0);
            for (j, m) in caps.iter().skip(1).flatten().enumerate() {
                escaped.push_str(&text[at..m.start()]);
                other.push_str(&text[at..m.start()]);
                at = m.end();
                let arg = m.as_str();
                if kinds.get(j) == Some(&Kind::Plain) || strict.is_match(arg) {
                    escaped.push_str(arg);
                    other.push_str(arg);
                    continue;
                }
                let q = arg.chars().next().unwrap_or('"');
                let inner = &arg[1..arg.len() - 1];
                escaped.push_str(&requote(inner, q));
                let value = unquote(&requote(inner, q));
                let o = if q == '"' { '\'' } else { '"' };
                other.push_str(&requote(&value, o));
            }
            escaped.push_str(&text[at..]);
            other.push_str(&text[at..]);
            let fits = |t: &str| matches!(self.find(t), Match::One(d, _) if std::ptr::eq(d, &self.defs[i].0));
            if escaped == text || !fits(&escaped) {
                continue;
            }
            let alternative = match other != escaped && fits(&other) {
                true => format!(" or `{other}`"),
                false => String::new(),
            };
            return Some(format!(
                "a quote inside a quoted argument ends it: write \\\" inside \"...\" and \\' inside '...', or quote with the other kind: `{escaped}`{alternative}"
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_library_builds_and_every_example_matches_its_own_sentence() {
        let lib = StepLibrary::builtin_steps();
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
        // A quoted argument's group holds its quotes; `find` takes them off.
        assert_eq!(got, ["\"/etc/a b\"", r"^x = \d+$"]);
        assert_eq!(unquote(got[0]), "/etc/a b");
        let re = compile(r"{string} should be in \/etc\/fstab").unwrap();
        assert!(re.is_match(r#""/ebs1" should be in /etc/fstab"#));
    }

    #[test]
    fn quoted_arguments_take_escaped_quotes_and_single_quotes() {
        let lib = StepLibrary::builtin_steps();
        let args = |text: &str| match lib.find(text) {
            Match::One(_, args) => args,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(args(r#"I run "echo say \"hi\"""#), [r#"echo say "hi""#]);
        assert_eq!(
            args(r#"the output should contain "\"status\":\"ok\"""#),
            [r#""status":"ok""#]
        );
        assert_eq!(
            args(r#"the output should contain '"status":"ok"'"#),
            [r#""status":"ok""#]
        );
        assert_eq!(args(r"the output should contain 'it\'s'"), ["it's"]);
        // Only the enclosing quote is unescaped; every other backslash is kept as written.
        assert_eq!(args(r#"the output should contain "it\'s \d \\""#), [r"it\'s \d \\"]);
        assert_eq!(args(r#"the output should contain 'say \"hi\"'"#), [r#"say \"hi\""#]);
        assert_eq!(
            args(r#"the output of 'echo "x"' should contain "\"x\"""#),
            ["echo \"x\"", "\"x\""]
        );
        assert_eq!(args(r#"the service "" should be running"#), [""]);
        assert_eq!(args("the service '' should be running"), [""]);
    }

    #[test]
    fn an_unescaped_quote_suggests_the_escaped_form() {
        let lib = StepLibrary::builtin_steps();
        let text = r#"the output should contain ""status":"ok"""#;
        assert!(matches!(lib.find(text), Match::None(_)));
        let hint = lib.quote_hint(text).expect("a hint");
        assert!(
            hint.contains(r#"`the output should contain "\"status\":\"ok\""`"#),
            "{hint}"
        );
        assert!(
            hint.contains(r#"`the output should contain '"status":"ok"'`"#),
            "{hint}"
        );
        // Each suggestion is a step that matches.
        assert!(matches!(
            lib.find(r#"the output should contain "\"status\":\"ok\"""#),
            Match::One(..)
        ));
        let hint = lib.quote_hint(r#"I run "echo "a b"""#).expect("a hint");
        assert!(hint.contains(r#"`I run "echo \"a b\""`"#), "{hint}");
        let hint = lib.quote_hint(r"the output should contain 'it's'").expect("a hint");
        assert!(hint.contains(r#"`the output should contain 'it\'s'`"#), "{hint}");
        assert!(hint.contains(r#"`the output should contain "it's"`"#), "{hint}");
        assert_eq!(lib.quote_hint("the comand should succeed"), None);
        assert_eq!(lib.quote_hint(r#"the servise "x" should be running"#), None);
    }

    #[test]
    fn command_lines_quote_placeholders_other_arguments_take_them_as_written() {
        let lib = StepLibrary::builtin_steps();
        let mut h = crate::inventory::Host::local("web1");
        h.vars.insert("v".into(), "a b;c".into());
        let sub = |text: &str| match lib.find(text) {
            Match::One(def, raw) => lib.substitute_args(def, &raw, Some(&h)),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(sub(r#"I run "echo {vars.v}""#).unwrap(), ["echo 'a b;c'"]);
        assert_eq!(
            sub(r#"the command "test -n {vars.v}" should succeed"#).unwrap(),
            ["test -n 'a b;c'"]
        );
        assert_eq!(
            sub(r#"the output of "echo {vars.v}" should contain "{vars.v}""#).unwrap(),
            ["echo 'a b;c'", "a b;c"]
        );
        assert_eq!(sub(r#"the output should contain "{vars.v}""#).unwrap(), ["a b;c"]);
        assert!(sub(r#"I run "echo '{vars.v}'""#).unwrap_err().contains("inside quotes"));
    }

    #[test]
    fn unknown_text_suggests_nearest() {
        let lib = StepLibrary::builtin_steps();
        match lib.find("the comand should succeed") {
            Match::None(near) => assert_eq!(near.first().map(String::as_str), Some("the command should succeed")),
            other => panic!("{other:?}"),
        }
    }
}
