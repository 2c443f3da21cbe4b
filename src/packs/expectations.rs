//! The checking half of a pack step: `expect` (each key checked against the action it
//! reads: `status` only for http, `exit` only for a command...) and `measure` (one source,
//! one limit), compiled into [`Expectation`]s and a [`Measure`] with templates whose regexes
//! compile.

use std::ops::Range;

use toml::Spanned;

use super::PackError;
use super::compile::{Action, Errors, Expectation, Limit, Measure, MeasureSource, Stream, tpl};
use super::format::{ExpectSpec, MeasureSpec, Status};
use crate::template::{self, Template};

/// The expectations of a step, each checked against its action (`status` only for http...).
pub(super) fn expectations(
    e: &ExpectSpec,
    action: &Action,
    params: &[String],
    errors: &mut Errors,
) -> Vec<Expectation> {
    let fits = Fits(action);
    let mut out = Vec::new();
    if let Some(x) = &e.exit
        && fits.cmd(x.span(), "exit", errors)
    {
        out.push(Expectation::Exit(*x.get_ref()));
    }
    if let Some(x) = &e.status
        && fits.http(x.span(), "status", errors)
    {
        out.extend(status(x, params, errors).map(Expectation::Status));
    }
    out.extend(texts(e, &fits, params, errors));
    out.extend(sql_and_json(e, &fits, params, errors));
    if fits.is_cmd() && !out.iter().any(|x| matches!(x, Expectation::Exit(_))) {
        out.insert(0, Expectation::Exit(0));
    }
    out
}

/// `expect.status`: a code, or text with placeholders that must give one when rendered;
/// text without placeholders must be a code now.
fn status(x: &Spanned<Status>, params: &[String], errors: &mut Errors) -> Option<Template> {
    let text = match x.get_ref() {
        Status::Code(n) => n.to_string(),
        Status::Text(t) => t.clone(),
    };
    let t = tpl(&Spanned::new(x.span(), text.clone()), params, errors)?;
    if !t.has_placeholders() && text.trim().parse::<u16>().is_err() {
        errors.push(PackError::at(
            x.span(),
            format!("`expect.status` {text:?} is not a status code or a placeholder (200, \"{{code}}\")"),
        ));
        return None;
    }
    Some(t)
}

/// Says when an expectation key does not apply to the step's action.
struct Fits<'a>(&'a Action);

impl Fits<'_> {
    fn is_cmd(&self) -> bool {
        matches!(self.0, Action::Command(_))
    }

    fn check(&self, ok: bool, span: Range<usize>, key: &str, errors: &mut Errors) -> bool {
        if !ok {
            let what = match self.0 {
                Action::Command(_) => "a `command`",
                Action::Http(_) => "an `http` request",
                Action::Mysql(..) => "a `mysql` query",
                Action::Steps(_) => "a macro step",
            };
            errors.push(PackError::at(span, format!("`expect.{key}` does not apply to {what}")));
        }
        ok
    }

    fn cmd(&self, span: Range<usize>, key: &str, errors: &mut Errors) -> bool {
        self.check(self.is_cmd(), span, key, errors)
    }

    fn http(&self, span: Range<usize>, key: &str, errors: &mut Errors) -> bool {
        self.check(matches!(self.0, Action::Http(_)), span, key, errors)
    }

    fn sql(&self, span: Range<usize>, key: &str, errors: &mut Errors) -> bool {
        self.check(matches!(self.0, Action::Mysql(..)), span, key, errors)
    }
}

fn texts(e: &ExpectSpec, fits: &Fits, params: &[String], errors: &mut Errors) -> Vec<Expectation> {
    let mut out = Vec::new();
    let texts: [(&Option<Spanned<String>>, &str, Stream, u8); 9] = [
        (&e.stdout_equals, "stdout_equals", Stream::Stdout, b'='),
        (&e.stdout_contains, "stdout_contains", Stream::Stdout, b'c'),
        (&e.stdout_not_contains, "stdout_not_contains", Stream::Stdout, b'n'),
        (&e.stdout_matches, "stdout_matches", Stream::Stdout, b'm'),
        (&e.stderr_contains, "stderr_contains", Stream::Stderr, b'c'),
        (&e.stderr_matches, "stderr_matches", Stream::Stderr, b'm'),
        (&e.body_contains, "body_contains", Stream::Body, b'c'),
        (&e.body_not_contains, "body_not_contains", Stream::Body, b'n'),
        (&e.body_matches, "body_matches", Stream::Body, b'm'),
    ];
    for (value, key, stream, kind) in texts {
        let Some(v) = value else { continue };
        let ok = if stream == Stream::Body {
            fits.http(v.span(), key, errors)
        } else {
            fits.cmd(v.span(), key, errors)
        };
        if !ok {
            continue;
        }
        let Some(t) = tpl(v, params, errors) else { continue };
        out.push(match kind {
            b'=' => Expectation::Equals(stream, t),
            b'c' => Expectation::Contains(stream, t, false),
            b'n' => Expectation::Contains(stream, t, true),
            _ => {
                check_regex(&t, v.span(), errors);
                Expectation::Matches(stream, t)
            }
        });
    }
    out
}

fn sql_and_json(e: &ExpectSpec, fits: &Fits, params: &[String], errors: &mut Errors) -> Vec<Expectation> {
    let mut out = Vec::new();
    if let Some(v) = &e.value_equals
        && fits.sql(v.span(), "value_equals", errors)
    {
        out.extend(tpl(v, params, errors).map(Expectation::Value));
    }
    if let Some(n) = &e.rows_at_least
        && fits.sql(n.span(), "rows_at_least", errors)
    {
        out.push(Expectation::Rows(*n.get_ref()));
    }
    match (&e.json_path, &e.json_equals) {
        (Some(p), Some(v)) if fits.http(p.span(), "json_path", errors) => {
            if let (Some(p), Some(v)) = (tpl(p, params, errors), tpl(v, params, errors)) {
                out.push(Expectation::Json(p, v));
            }
        }
        (Some(p), None) => errors.push(PackError::at(p.span(), "`json_path` needs `json_equals`")),
        (None, Some(v)) => errors.push(PackError::at(v.span(), "`json_equals` needs `json_path`")),
        _ => {}
    }
    out
}

/// A regex field must compile with any capture value (they are escaped): try it with one.
pub(super) fn check_regex(t: &Template, span: Range<usize>, errors: &mut Errors) {
    let text = t.pieces.iter().fold(String::new(), |mut acc, p| {
        match p {
            template::Piece::Text(s) => acc.push_str(s),
            _ => acc.push('x'),
        }
        acc
    });
    if let Err(e) = regex::Regex::new(&text) {
        let text = e.to_string();
        let why = text.lines().last().unwrap_or("").trim_start_matches("error: ");
        errors.push(PackError::at(span, format!("bad regular expression: {why}")));
    }
}

/// The measured value of a step: where the number comes from, its unit, its one limit.
pub(super) fn measure(
    m: &MeasureSpec,
    span: Range<usize>,
    action: Option<&Action>,
    params: &[String],
    errors: &mut Errors,
) -> Option<Measure> {
    let source = match (&m.regex, &m.json_path) {
        (Some(r), None) => {
            let t = tpl(r, params, errors)?;
            check_regex(&t, r.span(), errors);
            MeasureSource::Regex(t)
        }
        (None, Some(j)) if matches!(action, Some(Action::Http(_))) => MeasureSource::Json(tpl(j, params, errors)?),
        _ => {
            errors.push(PackError::at(
                span,
                "`measure` needs `regex` (command or http) or `json_path` (http only), one of them",
            ));
            return None;
        }
    };
    if matches!(action, Some(Action::Steps(_))) {
        errors.push(PackError::at(span.clone(), "a macro step cannot measure: its steps do"));
    }
    Some(Measure {
        label: tpl(&m.label, params, errors)?,
        source,
        unit: m.unit.as_ref().map(|u| u.get_ref().clone()).unwrap_or_default(),
        limit: limit(m, span, params, errors),
    })
}

fn limit(m: &MeasureSpec, span: Range<usize>, params: &[String], errors: &mut Errors) -> Option<Limit> {
    let given = [&m.less_than, &m.at_most, &m.more_than, &m.at_least, &m.equals]
        .iter()
        .filter(|x| x.is_some())
        .count()
        + usize::from(m.between.is_some());
    if given > 1 {
        errors.push(PackError::at(
            span,
            "give one limit: less_than, at_most, more_than, at_least, equals or between",
        ));
    }
    let mut t = |s: &Spanned<String>| tpl(s, params, errors);
    if let Some(x) = &m.less_than {
        t(x).map(Limit::LessThan)
    } else if let Some(x) = &m.at_most {
        t(x).map(Limit::AtMost)
    } else if let Some(x) = &m.more_than {
        t(x).map(Limit::MoreThan)
    } else if let Some(x) = &m.at_least {
        t(x).map(Limit::AtLeast)
    } else if let Some(x) = &m.equals {
        t(x).map(Limit::Equals)
    } else if let Some(b) = &m.between {
        let [lo, hi] = b.get_ref();
        let lo = Spanned::new(b.span(), lo.clone());
        let hi = Spanned::new(b.span(), hi.clone());
        Some(Limit::Between(t(&lo)?, t(&hi)?))
    } else {
        None
    }
}
