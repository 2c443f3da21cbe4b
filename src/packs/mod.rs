//! Declarative step packs: sentences defined in TOML (`steps/*.toml`) instead of Rust.
//! The packs shipped in the project's `steps/` are compiled into the binary; a user's
//! `./steps/*.toml` (or `--steps DIR`) are read at run time. Both compile to the same
//! [`StepDef`](crate::steps::StepDef) as built-in Rust steps, so the runner, `lint` and
//! `shakedown steps` see one catalogue. This module reads, checks and loads packs; the
//! schema is in [`format`], meaning and checks in [`compile`], running in [`action`].

pub mod action;
mod builtin;
pub mod compile;
mod expectations;
pub mod format;
mod judge;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use compile::PackStep;

use crate::steps::{Match, StepDef, StepLibrary};

/// The format documentation printed by `shakedown steps --help-format`.
pub const FORMAT_HELP: &str = include_str!("FORMAT.md");

/// A problem in a pack, at a byte span of its text (turned into `file:line:col` by
/// [`PackError::located`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackError {
    /// Byte range in the pack's text.
    pub span: Range<usize>,
    /// What is wrong, and what to write instead.
    pub message: String,
}

impl PackError {
    /// An error at `span`.
    pub fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        PackError {
            span,
            message: message.into(),
        }
    }

    /// `file:line:col: message`.
    pub fn located(&self, file: &str, text: &str) -> String {
        let (line, col) = line_col(text, self.span.start);
        format!("{file}:{line}:{col}: {}", self.message)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// The pack step behind `def`, when `def` is one.
pub fn pack_of<'a>(library: &'a StepLibrary, def: &StepDef) -> Option<&'a PackStep> {
    library.body(def)?.as_any().downcast_ref::<PackStep>()
}

impl crate::steps::StepBody for PackStep {
    fn call<'a>(
        &'a self,
        library: &'a StepLibrary,
        ctx: &'a mut crate::steps::StepCtx,
        args: crate::steps::Args,
    ) -> futures::future::BoxFuture<'a, crate::steps::StepOutput> {
        action::run(self, library, ctx, args, 0)
    }

    fn keywords(&self) -> Option<&[crate::suite::StepKind]> {
        self.keywords.as_deref()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// One pack file to load: its name as shown in messages, and its text.
#[derive(Debug, Clone)]
pub struct PackSource {
    /// `steps/deploy.toml` (built-in) or the path as found.
    pub file: String,
    /// The TOML text.
    pub text: String,
    /// Shipped with shakedown.
    pub builtin: bool,
}

/// The built-in Rust steps plus the built-in packs. Panics only if a shipped pack is
/// broken, which a unit test rules out.
pub fn builtin_library() -> StepLibrary {
    add_packs(StepLibrary::builtin_steps(), builtin::sources()).expect("the shipped step packs compile")
}

/// The full library of a command: built-ins, built-in packs, and the user's packs from
/// `dir` (`--steps`) or `./steps` when it exists. Errors are `file:line:col: message`.
pub fn library(dir: Option<&Path>) -> Result<StepLibrary, Vec<String>> {
    let user = user_sources(dir)?;
    add_packs(builtin_library(), user)
}

/// The user's pack files: every `*.toml` of `dir`, or of `./steps` when `dir` is `None`
/// and it exists. A file identical to a shipped pack (the project's own `steps/`) is
/// skipped: it is already loaded.
pub fn user_sources(dir: Option<&Path>) -> Result<Vec<PackSource>, Vec<String>> {
    let dir: PathBuf = match dir {
        Some(d) if !d.is_dir() => return Err(vec![format!("--steps {}: not a directory", d.display())]),
        Some(d) => d.to_path_buf(),
        None if Path::new("steps").is_dir() => PathBuf::from("steps"),
        None => return Ok(Vec::new()),
    };
    let entries = std::fs::read_dir(&dir).map_err(|e| vec![format!("{}: {e}", dir.display())])?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let shipped: Vec<String> = builtin::sources().into_iter().map(|s| s.text).collect();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| vec![format!("{}: {e}", path.display())])?;
        if shipped.contains(&text) {
            continue;
        }
        out.push(PackSource {
            file: path.display().to_string(),
            text,
            builtin: false,
        });
    }
    Ok(out)
}

/// Compiles `sources` and appends them to `library`, rejecting collisions with what is
/// already there (or with each other) and examples that do not match their own sentence.
pub fn add_packs(mut library: StepLibrary, sources: Vec<PackSource>) -> Result<StepLibrary, Vec<String>> {
    let mut problems = Vec::new();
    for source in &sources {
        let steps = match compile::compile_pack(source) {
            Ok(steps) => steps,
            Err(errors) => {
                problems.extend(errors.iter().map(|e| e.located(&source.file, &source.text)));
                continue;
            }
        };
        for step in steps {
            let at = step.sentence_location();
            if let Some(clash) = collision(&library, &step) {
                problems.push(format!("{at}: {clash}"));
                continue;
            }
            let def = step.def();
            if let Err(e) = library.add_body(def, Arc::new(step)) {
                problems.push(format!("{at}: {e}"));
            }
        }
    }
    problems.extend(check_examples(&library, &sources));
    if problems.is_empty() {
        Ok(library)
    } else {
        Err(problems)
    }
}

/// Why `step` cannot join `library`: its example matches a sentence already there, or an
/// existing example matches its sentence.
fn collision(library: &StepLibrary, step: &PackStep) -> Option<String> {
    let re = StepLibrary::sentence_regex(&step.sentence).ok()?;
    let mine = step.example_text();
    let other = match library.find(mine) {
        Match::One(def, _) => Some(def),
        Match::Ambiguous(defs) => defs.into_iter().next(),
        Match::None(_) => library.defs().find(|d| re.is_match(d.example_text())),
    }?;
    Some(format!(
        "sentence \"{}\" collides with \"{}\" ({}): both match \"{}\"; reword one of them",
        step.sentence,
        other.sentence,
        crate::steps::location(other),
        if re.is_match(other.example_text()) {
            other.example_text()
        } else {
            mine
        }
    ))
}

/// Every pack step's example must match exactly its own sentence (as built-ins are tested).
fn check_examples(library: &StepLibrary, sources: &[PackSource]) -> Vec<String> {
    let mut problems = Vec::new();
    for def in library.defs() {
        let Some(step) = pack_of(library, def) else { continue };
        if !sources.iter().any(|s| s.file == step.file) {
            continue;
        }
        let ok = matches!(library.find(def.example_text()), Match::One(d, _) if std::ptr::eq(d, def));
        if !ok {
            problems.push(format!(
                "{}: example \"{}\" does not match the step's own sentence \"{}\"",
                step.example_location(),
                def.example,
                def.sentence
            ));
        }
    }
    problems.extend(compile::check_macros(library, sources));
    problems
}

/// `lint`'s review list: for each user pack step, what it may run or send.
pub fn review(library: &StepLibrary) -> Vec<String> {
    let mut out = Vec::new();
    for def in library.defs() {
        let Some(step) = pack_of(library, def) else { continue };
        if step.builtin {
            continue;
        }
        out.push(format!(
            "{}: \"{}\" {}",
            step.location(),
            def.sentence,
            step.action.describe()
        ));
    }
    out
}

/// A step definition's source as `shakedown steps` prints it: `file:line`.
pub fn source_of(def: &StepDef) -> String {
    crate::steps::location(def)
}

#[cfg(test)]
mod tests;
