//! From a parsed pack to checked [`PackStep`]s: the sentence compiles, `params` name every
//! capture, exactly one action, expectations that fit the action, templates whose
//! placeholders exist and land safely, regexes that compile. Every error carries the span
//! of the value at fault. Also turns a step into the [`StepDef`] the library holds.

use std::ops::Range;

use reqwest::Method;
use toml::Spanned;

use super::expectations::{expectations, measure};
use super::format::{HttpSpec, MysqlSpec, StepSpec, parse_pack};
use super::{PackError, PackSource};
use crate::steps::{Lane, Match, StepDef, StepLibrary};
use crate::suite::StepKind;
use crate::template::{self, Context, Template};

/// One pack step, checked and ready to run.
#[derive(Debug)]
pub struct PackStep {
    /// The pack file as shown in messages (`steps/deploy.toml`).
    pub file: String,
    /// Line of its `[[step]]`.
    pub line: usize,
    /// Line and column of its example's value.
    pub example_at: (usize, usize),
    /// Line and column of its sentence's value (where a collision is reported).
    pub sentence_at: (usize, usize),
    /// Shipped with shakedown.
    pub builtin: bool,
    /// The Cucumber Expression.
    pub sentence: String,
    /// The example, with its keyword.
    pub example: String,
    /// The doc text.
    pub doc: String,
    /// Allowed keyword kinds; `None` = any.
    pub keywords: Option<Vec<StepKind>>,
    /// Capture names.
    pub params: Vec<String>,
    /// What it does.
    pub action: Action,
    /// How failures name the thing checked.
    pub what: Option<Template>,
    /// What failures say was expected (replaces the generated text).
    pub expected: Option<Template>,
    /// Expectations, checked in order.
    pub expect: Vec<Expectation>,
    /// A measured value.
    pub measure: Option<Measure>,
}

/// The one action of a step.
#[derive(Debug)]
pub enum Action {
    /// A shell command line on the current host; placeholders shell-quoted.
    Command(Template),
    /// An HTTP request from the controller.
    Http(HttpAction),
    /// A statement on the current host's MySQL, values bound to its `?` markers.
    Mysql(String, Vec<Template>),
    /// Other sentences, in order (a macro step).
    Steps(Vec<Template>),
}

/// An HTTP request template.
#[derive(Debug)]
pub struct HttpAction {
    /// Method.
    pub method: Method,
    /// URL (a capture escaped for the part it lands in; never the scheme or host).
    pub url: Template,
    /// Extra headers.
    pub headers: Vec<(String, Template)>,
    /// Body and how captures are escaped in it.
    pub body: Option<(Template, Context)>,
}

/// Which text an expectation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Command stdout.
    Stdout,
    /// Command stderr.
    Stderr,
    /// HTTP response body.
    Body,
}

/// One expectation.
#[derive(Debug)]
pub enum Expectation {
    /// Exit status of the command.
    Exit(i64),
    /// HTTP status: a number, or a placeholder that gives one (`"{code}"`).
    Status(Template),
    /// Trimmed text equals.
    Equals(Stream, Template),
    /// Text contains (or not).
    Contains(Stream, Template, bool),
    /// Text matches a regex.
    Matches(Stream, Template),
    /// JSON at a path equals.
    Json(Template, Template),
    /// First value of a MySQL result equals.
    Value(Template),
    /// A MySQL result has at least this many rows.
    Rows(u64),
}

/// Where a measured number comes from.
#[derive(Debug)]
pub enum MeasureSource {
    /// First group of a regex over stdout or the body.
    Regex(Template),
    /// A JSON path in the body.
    Json(Template),
}

/// A comparison of the measured value with its limit(s).
#[derive(Debug)]
pub enum Limit {
    /// `<`
    LessThan(Template),
    /// `<=`
    AtMost(Template),
    /// `>`
    MoreThan(Template),
    /// `>=`
    AtLeast(Template),
    /// `==`
    Equals(Template),
    /// `low <= v <= high`
    Between(Template, Template),
}

/// A measured value.
#[derive(Debug)]
pub struct Measure {
    /// Label (placeholders substituted as they are: `count of {what}`).
    pub label: Template,
    /// Source.
    pub source: MeasureSource,
    /// Unit.
    pub unit: String,
    /// Limit.
    pub limit: Option<Limit>,
}

impl PackStep {
    /// `steps/deploy.toml:12`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// Where the sentence is (`file:line:col` of its value), for collision errors.
    pub fn sentence_location(&self) -> String {
        format!("{}:{}:{}", self.file, self.sentence_at.0, self.sentence_at.1)
    }

    /// Where the example is (`file:line:col` of its value), for example errors.
    pub fn example_location(&self) -> String {
        format!("{}:{}:{}", self.file, self.example_at.0, self.example_at.1)
    }

    /// The example without its keyword.
    pub fn example_text(&self) -> &str {
        self.example.split_once(' ').map(|(_, t)| t).unwrap_or(&self.example)
    }

    /// A command or query runs on the current host; a request whose URL, headers or body
    /// use `{name}`, `{address}` or `{vars.KEY}` needs one too (lint says so).
    pub fn needs_host(&self) -> bool {
        match &self.action {
            Action::Command(_) | Action::Mysql(..) => true,
            Action::Http(h) => std::iter::once(&h.url)
                .chain(h.headers.iter().map(|(_, t)| t))
                .chain(h.body.iter().map(|(t, _)| t))
                .any(Template::uses_inventory),
            Action::Steps(_) => false,
        }
    }

    /// The library entry. Pack text lives as long as the process (the catalogue is built
    /// once per command), so it is leaked into `&'static str`.
    pub fn def(&self) -> StepDef {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        StepDef {
            line: u32::try_from(self.line).unwrap_or(u32::MAX),
            sentence: leak(self.sentence.clone()),
            example: leak(self.example.clone()),
            doc: leak(self.doc.clone()),
            module: leak(self.location()),
            file: leak(self.file.clone()),
            // A pack step runs commands of its own: it waits for the steps before it.
            lane: Lane::Barrier,
            facts: &[],
            needs_host: self.needs_host(),
            check: None,
            run: super::action::unbound,
        }
    }
}

/// Errors found while compiling, each at its span.
pub(super) type Errors = Vec<PackError>;

/// Parses and checks one pack file.
pub fn compile_pack(source: &PackSource) -> Result<Vec<PackStep>, Errors> {
    let file = parse_pack(&source.text).map_err(|e| vec![e])?;
    let mut steps = Vec::new();
    let mut errors = Vec::new();
    for spec in file.step {
        let line = super::line_col(&source.text, spec.span().start).0;
        match compile_step(spec.get_ref(), spec.span(), source, line) {
            Ok(step) => steps.push(step),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(steps) } else { Err(errors) }
}

fn compile_step(spec: &StepSpec, span: Range<usize>, source: &PackSource, line: usize) -> Result<PackStep, Errors> {
    let mut errors = Vec::new();
    let params = check_sentence(spec, &mut errors);
    let keywords = spec.keywords.as_ref().and_then(|k| keywords(k, &mut errors));
    let what = spec.what.as_ref().and_then(|s| tpl(s, &params, &mut errors));
    let expected = spec.expected.as_ref().and_then(|s| tpl(s, &params, &mut errors));
    let action = action(spec, span, &params, &mut errors);
    let expect = match (&spec.expect, &action) {
        (Some(e), Some(a)) => expectations(e.get_ref(), a, &params, &mut errors),
        (None, Some(Action::Command(_))) => vec![Expectation::Exit(0)],
        _ => Vec::new(),
    };
    let measure = spec
        .measure
        .as_ref()
        .and_then(|m| measure(m.get_ref(), m.span(), action.as_ref(), &params, &mut errors));
    let (Some(action), true) = (action, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(PackStep {
        file: source.file.clone(),
        line,
        example_at: super::line_col(&source.text, spec.example.span().start),
        sentence_at: super::line_col(&source.text, spec.sentence.span().start),
        builtin: source.builtin,
        sentence: spec.sentence.get_ref().clone(),
        example: spec.example.get_ref().trim().to_string(),
        doc: spec.doc.clone().unwrap_or_default().trim().to_string(),
        keywords,
        params,
        action,
        what,
        expected,
        expect,
        measure,
    })
}

/// The span of a byte `offset` inside a quoted TOML string value (after its opening quote).
fn value_span(span: Range<usize>, offset: usize) -> Range<usize> {
    let start = span.start + 1 + offset;
    start..start.max(span.end)
}

fn check_sentence(spec: &StepSpec, errors: &mut Errors) -> Vec<String> {
    let sentence = &spec.sentence;
    let groups = match StepLibrary::sentence_regex(sentence.get_ref()) {
        Ok(re) => re.captures_len() - 1,
        Err(e) => {
            errors.push(PackError::at(
                sentence.span(),
                format!("sentence does not compile: {e}"),
            ));
            return Vec::new();
        }
    };
    let params = spec.params.as_ref().map(|p| p.get_ref().clone()).unwrap_or_default();
    let span = spec.params.as_ref().map(|p| p.span()).unwrap_or(sentence.span());
    if params.len() != groups {
        errors.push(PackError::at(
            span.clone(),
            format!(
                "the sentence has {groups} parameter(s) but `params` names {}: give one name per {{string}}/{{int}}/{{float}}/{{word}}, in order",
                params.len()
            ),
        ));
    }
    for p in &params {
        let reserved = p == "name" || p == "address" || p.starts_with("vars.");
        let ident = p.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if reserved || !ident {
            errors.push(PackError::at(
                span.clone(),
                format!("param name \"{p}\" must be a plain identifier other than name, address, vars.*"),
            ));
        }
    }
    params
}

fn keywords(k: &Spanned<Vec<String>>, errors: &mut Errors) -> Option<Vec<StepKind>> {
    let mut out = Vec::new();
    for word in k.get_ref() {
        match word.as_str() {
            "Given" => out.push(StepKind::Context),
            "When" => out.push(StepKind::Action),
            "Then" => out.push(StepKind::Outcome),
            other => errors.push(PackError::at(
                k.span(),
                format!(
                    "unknown keyword \"{other}\"{}: use Given, When, Then",
                    crate::nearest::nearest(other, ["Given", "When", "Then"])
                        .map(|n| format!(" (did you mean \"{n}\"?)"))
                        .unwrap_or_default()
                ),
            )),
        }
    }
    Some(out)
}

pub(super) fn tpl(s: &Spanned<String>, params: &[String], errors: &mut Errors) -> Option<Template> {
    template::parse(s.get_ref(), params)
        .map_err(|(off, msg)| errors.push(PackError::at(value_span(s.span(), off), msg)))
        .ok()
}

fn action(spec: &StepSpec, span: Range<usize>, params: &[String], errors: &mut Errors) -> Option<Action> {
    let count = [
        spec.command.is_some(),
        spec.http.is_some(),
        spec.mysql.is_some(),
        spec.steps.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if count != 1 {
        errors.push(PackError::at(
            span.start..span.start + 8,
            format!("a step needs exactly one action: `command`, `http`, `mysql` or `steps` (found {count})"),
        ));
        return None;
    }
    if let Some(c) = &spec.command {
        let t = tpl(c, params, errors)?;
        if let Err(e) = template::check_shell(&t) {
            errors.push(PackError::at(c.span(), e));
            return None;
        }
        return Some(Action::Command(t));
    }
    if let Some(h) = &spec.http {
        return http(h.get_ref(), params, errors).map(Action::Http);
    }
    if let Some(m) = &spec.mysql {
        return mysql(m.get_ref(), params, errors);
    }
    let steps = spec.steps.as_ref()?;
    let list: Vec<Template> = steps.get_ref().iter().filter_map(|s| tpl(s, params, errors)).collect();
    Some(Action::Steps(list))
}

fn mysql(m: &MysqlSpec, params: &[String], errors: &mut Errors) -> Option<Action> {
    let query = tpl(&m.query, params, errors)?;
    if query.has_placeholders() {
        errors.push(PackError::at(
            m.query.span(),
            "placeholders are never spliced into SQL: write ? in the query and list the values in `args` (bound parameters)",
        ));
        return None;
    }
    let markers = m.query.get_ref().matches('?').count();
    if markers != m.args.len() {
        errors.push(PackError::at(
            m.query.span(),
            format!(
                "the query has {markers} ? marker(s) but `args` gives {} value(s)",
                m.args.len()
            ),
        ));
    }
    let args = m.args.iter().filter_map(|a| tpl(a, params, errors)).collect();
    Some(Action::Mysql(m.query.get_ref().clone(), args))
}

fn http(h: &HttpSpec, params: &[String], errors: &mut Errors) -> Option<HttpAction> {
    let method = match &h.method {
        None => Method::GET,
        Some(m) => match m.get_ref().to_ascii_uppercase().as_str() {
            "GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "PATCH" | "OPTIONS" => {
                Method::from_bytes(m.get_ref().to_ascii_uppercase().as_bytes()).ok()?
            }
            other => {
                errors.push(PackError::at(m.span(), format!("unknown HTTP method \"{other}\"")));
                return None;
            }
        },
    };
    let url = tpl(&h.url, params, errors)?;
    if let Err((off, msg)) = template::check_url(h.url.get_ref(), params) {
        errors.push(PackError::at(value_span(h.url.span(), off), msg));
        return None;
    }
    let headers = h
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), tpl(v, params, errors)?)))
        .collect();
    let body = match (&h.body, &h.json) {
        (Some(_), Some(j)) => {
            errors.push(PackError::at(j.span(), "give `body` or `json`, not both"));
            None
        }
        (Some(b), None) => tpl(b, params, errors).map(|t| (t, Context::Raw)),
        (None, Some(j)) => tpl(j, params, errors).map(|t| (t, Context::Json)),
        (None, None) => None,
    };
    Some(HttpAction {
        method,
        url,
        headers,
        body,
    })
}

/// Lint checks of macro steps, with the example's captures: every step matches exactly one
/// definition, keywords fit, no capture lands in a command step's shell line.
pub fn check_macros(library: &StepLibrary, sources: &[PackSource]) -> Vec<String> {
    let mut problems = Vec::new();
    for def in library.defs() {
        let Some(step) = super::pack_of(library, def) else {
            continue;
        };
        let Action::Steps(list) = &step.action else { continue };
        if !sources.iter().any(|s| s.file == step.file) {
            continue;
        }
        let Match::One(_, captures) = library.find(def.example_text()) else {
            continue;
        };
        for sub in list {
            if let Err(e) = super::action::resolve(library, sub, &captures, None, 0) {
                problems.push(format!("{}: step \"{}\": {e}", step.location(), sub.shown()));
            }
        }
    }
    problems
}

impl Action {
    /// What the step may run or send, as `lint` shows a reviewer (placeholders as written).
    pub fn describe(&self) -> String {
        match self {
            Action::Command(t) => format!("runs on the current host: {}", t.shown()),
            Action::Http(h) => {
                let body = h
                    .body
                    .as_ref()
                    .map(|(b, _)| format!(" with body {}", b.shown()))
                    .unwrap_or_default();
                format!("sends from this machine: {} {}{body}", h.method, h.url.shown())
            }
            Action::Mysql(sql, args) => {
                let args: Vec<&str> = args.iter().map(Template::shown).collect();
                format!("queries the current host's MySQL: {sql} with [{}]", args.join(", "))
            }
            Action::Steps(list) => {
                let steps: Vec<&str> = list.iter().map(Template::shown).collect();
                format!("runs the steps: {}", steps.join(" / "))
            }
        }
    }
}
