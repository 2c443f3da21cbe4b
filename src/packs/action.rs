//! Running a pack step: render its templates with the step's captures (each escaped for
//! where it lands), run the command on the current host through the same transport as
//! built-ins (or send the request, or run the macro's steps), then judge expectations and
//! the measured value into an [`Outcome`] worded like the built-in steps'.

use futures::future::BoxFuture;

use super::compile::{Action, Expectation, HttpAction, Limit, Measure, MeasureSource, PackStep, Stream};
use super::template::{Context, Template};
use crate::inventory::Host;
use crate::probes::mysql::parse::TextRows;
use crate::steps::expect::{contains, excerpt, matches};
use crate::steps::{Args, Match, Measurement, Outcome, StepCtx, StepDef, StepError, StepLibrary, StepOutput};
use crate::suite::StepKind;
use crate::transport::Cmd;

/// How deep macro steps may nest (a deeper chain is a cycle).
const MAX_DEPTH: usize = 8;

/// The `run` of a pack's [`StepDef`]: packs run through [`StepLibrary::call`], which
/// knows their data; reaching this means a caller bypassed the library.
pub fn unbound(_: &mut StepCtx, _: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async { Err(StepError::Other("pack step called outside its library".into())) })
}

/// Runs `step` with `args` (captures after `{name}`/`{vars.KEY}` substitution).
pub fn run<'a>(
    step: &'a PackStep,
    library: &'a StepLibrary,
    ctx: &'a mut StepCtx,
    args: Args,
    depth: usize,
) -> BoxFuture<'a, StepOutput> {
    Box::pin(async move {
        let host = ctx.host.as_ref().map(|h| h.host.clone());
        let seen = match &step.action {
            Action::Command(t) => command(ctx, t, &args.values).await?,
            Action::Http(h) => match http(ctx, h, &args.values).await? {
                Ok(seen) => seen,
                Err(outcome) => return Ok(outcome),
            },
            Action::Mysql(sql, binds) => match mysql(ctx, sql, binds, &args.values).await? {
                Ok(seen) => seen,
                Err(outcome) => return Ok(outcome),
            },
            Action::Steps(list) => return macro_steps(step, library, ctx, list, &args.values, depth).await,
        };
        let mut outcome = judge(step, &seen, &args.values, host.as_ref())?;
        if let (Some(t), false) = (&step.expected, outcome.passed) {
            outcome.expected = render(t, Context::Raw, &args.values, host.as_ref())?;
        }
        Ok(outcome)
    })
}

/// What an action produced, for the expectations.
struct Seen {
    /// `` `crontab -l -u deploy` `` or `GET http://...`.
    what: String,
    exit: Option<i32>,
    stdout: String,
    stderr: String,
    status: Option<u16>,
    status_line: String,
    body: String,
    raw_body: Vec<u8>,
    rows: Option<TextRows>,
}

fn render(t: &Template, ctx: Context, caps: &[String], host: Option<&Host>) -> Result<String, StepError> {
    t.render(ctx, caps, host).map_err(StepError::Other)
}

async fn command(ctx: &StepCtx, t: &Template, caps: &[String]) -> Result<Seen, StepError> {
    let handle = ctx.host()?;
    let line = render(t, Context::Shell, caps, Some(&handle.host))?;
    let out = handle.run(&Cmd::shell(line.clone()), ctx.step_timeout).await?;
    Ok(Seen {
        what: format!("`{line}`"),
        exit: out.status,
        stdout: out.stdout_text(),
        stderr: out.stderr_text(),
        status: None,
        status_line: String::new(),
        body: String::new(),
        raw_body: Vec::new(),
        rows: None,
    })
}

async fn mysql(
    ctx: &StepCtx,
    sql: &str,
    binds: &[Template],
    caps: &[String],
) -> Result<Result<Seen, Outcome>, StepError> {
    let handle = ctx.host()?;
    let mut values = Vec::new();
    for b in binds {
        values.push(render(b, Context::Raw, caps, Some(&handle.host))?);
    }
    let deadline = tokio::time::Instant::now() + ctx.step_timeout;
    let what = if values.is_empty() {
        format!("query {sql:?}")
    } else {
        format!("query {sql:?} with {values:?}")
    };
    let rows = match handle.mysql.query_with(&handle.host, sql, &values, deadline).await {
        Ok(rows) => rows,
        Err(e) => return Ok(Err(Outcome::fail(format!("an answer to {what}"), e.to_string()))),
    };
    let first = rows
        .first_value()
        .map(|v| v.unwrap_or("NULL").to_string())
        .unwrap_or_default();
    Ok(Ok(Seen {
        what,
        exit: None,
        stdout: first,
        stderr: String::new(),
        status: None,
        status_line: String::new(),
        body: String::new(),
        raw_body: Vec::new(),
        rows: Some(rows),
    }))
}

async fn http(ctx: &mut StepCtx, h: &HttpAction, caps: &[String]) -> Result<Result<Seen, Outcome>, StepError> {
    let host = ctx.host.as_ref().map(|h| h.host.clone());
    let host = host.as_ref();
    let url = render(&h.url, Context::Url, caps, host)?;
    let mut headers = Vec::new();
    for (name, value) in &h.headers {
        headers.push((name.clone(), render(value, Context::Header, caps, host)?));
    }
    let body = match &h.body {
        Some((t, c)) => {
            if *c == Context::Json && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(render(t, *c, caps, host)?)
        }
        None => None,
    };
    let request = crate::probes::http::Request {
        method: h.method.clone(),
        url: url.clone(),
        headers,
        body,
        via: None,
        timeout: ctx.step_timeout,
    };
    let what = format!("{} {url}", h.method);
    let response = match crate::probes::http::send(&request).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(Outcome::fail(format!("a response to {what}"), e.to_string()))),
    };
    let seen = Seen {
        what: what.clone(),
        exit: None,
        stdout: String::new(),
        stderr: String::new(),
        status: Some(response.status),
        status_line: response.status_line(),
        body: response.text(),
        raw_body: response.body.clone(),
        rows: None,
    };
    ctx.http.request = what;
    ctx.http.times_ms.push(response.millis());
    ctx.http.responses = vec![response];
    Ok(Ok(seen))
}

fn status_text(seen: &Seen) -> String {
    let status = match seen.exit {
        Some(s) => format!("exit status {s}"),
        None => "killed by a signal".into(),
    };
    let out = format!("{}{}", seen.stdout, seen.stderr);
    if out.trim().is_empty() {
        status
    } else {
        format!("{status}, output {}", excerpt(&out))
    }
}

fn judge(step: &PackStep, seen: &Seen, caps: &[String], host: Option<&Host>) -> StepOutput {
    let what = |stream: Stream| -> Result<String, StepError> {
        if let Some(w) = &step.what {
            return render(w, Context::Raw, caps, host);
        }
        Ok(match stream {
            Stream::Stdout => format!("output of {}", seen.what),
            Stream::Stderr => format!("stderr of {}", seen.what),
            Stream::Body => format!("response to {}", seen.what),
        })
    };
    let text = |stream: Stream| match stream {
        Stream::Stdout => seen.stdout.as_str(),
        Stream::Stderr => seen.stderr.as_str(),
        Stream::Body => seen.body.as_str(),
    };
    let mut last = Outcome::pass(format!("{} to succeed", seen.what), "it did");
    for e in &step.expect {
        let outcome = match e {
            Expectation::Exit(n) => {
                let named = match &step.what {
                    Some(w) => format!("{} ({})", render(w, Context::Raw, caps, host)?, seen.what),
                    None => seen.what.clone(),
                };
                Outcome::check(
                    seen.exit.map(i64::from) == Some(*n),
                    format!("{named} to exit {n}"),
                    status_text(seen),
                )
            }
            Expectation::Status(n) => Outcome::check(
                seen.status == Some(*n),
                format!("{} to answer status {n}", seen.what),
                format!("status {}", seen.status_line),
            ),
            Expectation::Equals(s, t) => {
                let want = render(t, Context::Raw, caps, host)?;
                let found = text(*s).trim();
                Outcome::check(found == want, format!("{} to be {want:?}", what(*s)?), excerpt(found))
            }
            Expectation::Contains(s, t, negate) => {
                contains(&what(*s)?, text(*s), &render(t, Context::Raw, caps, host)?, *negate)
            }
            Expectation::Matches(s, t) => matches(&what(*s)?, text(*s), &render(t, Context::Regex, caps, host)?)?,
            Expectation::Value(t) => {
                let want = render(t, Context::Raw, caps, host)?;
                let expected = format!("{} returning {want:?}", seen.what);
                match seen.rows.as_ref().and_then(TextRows::first_value) {
                    None => Outcome::fail(expected, "no rows"),
                    Some(v) => Outcome::check(
                        v.unwrap_or("NULL") == want,
                        expected,
                        format!("{:?}", v.unwrap_or("NULL")),
                    ),
                }
            }
            Expectation::Rows(n) => {
                let got = seen.rows.as_ref().map(|r| r.rows.len()).unwrap_or(0);
                Outcome::check(
                    got as u64 >= *n,
                    format!("{} returning at least {n} row(s)", seen.what),
                    format!("{got} row(s)"),
                )
            }
            Expectation::Json(p, v) => json(
                seen,
                &render(p, Context::Raw, caps, host)?,
                &render(v, Context::Raw, caps, host)?,
            ),
        };
        if !outcome.passed {
            return Ok(outcome);
        }
        last = outcome;
    }
    match &step.measure {
        Some(m) => measure(m, seen, caps, host),
        None => Ok(last),
    }
}

fn json(seen: &Seen, path: &str, want: &str) -> Outcome {
    let expected = format!("JSON at \"{path}\" of {} to be {want:?}", seen.what);
    match crate::probes::http::json_at(&seen.raw_body, path) {
        Ok(v) => {
            let found = crate::probes::http::json_text(&v);
            Outcome::check(found == want, expected, format!("{found:?}"))
        }
        Err(e) => Outcome::fail(expected, e),
    }
}

fn measure(m: &Measure, seen: &Seen, caps: &[String], host: Option<&Host>) -> StepOutput {
    let haystack = if seen.status.is_some() {
        &seen.body
    } else {
        &seen.stdout
    };
    let (how, number) = match &m.source {
        MeasureSource::Regex(t) => {
            let pattern = render(t, Context::Regex, caps, host)?;
            let re = crate::steps::expect::regex(&pattern)?;
            let got = re
                .captures(haystack)
                .and_then(|c| c.get(1).or_else(|| c.get(0)))
                .map(|m| m.as_str().trim().to_string());
            (format!("/{pattern}/ in the output of {}", seen.what), got)
        }
        MeasureSource::Json(t) => {
            let path = render(t, Context::Raw, caps, host)?;
            let got = crate::probes::http::json_at(&seen.raw_body, &path)
                .ok()
                .map(|v| crate::probes::http::json_text(&v));
            (format!("JSON at \"{path}\" of {}", seen.what), got)
        }
    };
    let value = match number.as_deref().map(str::parse::<f64>) {
        Some(Ok(v)) => v,
        _ => {
            return Ok(Outcome::fail(
                format!("{}: a number from {how}", m.label),
                number
                    .map(|n| format!("{n:?}"))
                    .unwrap_or_else(|| format!("no match in {}", excerpt(haystack))),
            ));
        }
    };
    let limit =
        |t: &Template| -> Result<f64, StepError> { limit_value(&render(t, Context::Raw, caps, host)?, &m.unit) };
    let unit = &m.unit;
    let show = |v: f64| format!("{v}{}{unit}", if unit.is_empty() || unit == "%" { "" } else { " " });
    let (ok, expected, crit) = match &m.limit {
        None => (true, format!("{} measured", m.label), None),
        Some(Limit::LessThan(t)) => limit(t).map(|l| (value < l, format!("{} under {}", m.label, show(l)), Some(l)))?,
        Some(Limit::AtMost(t)) => {
            limit(t).map(|l| (value <= l, format!("{} at most {}", m.label, show(l)), Some(l)))?
        }
        Some(Limit::MoreThan(t)) => limit(t).map(|l| (value > l, format!("{} over {}", m.label, show(l)), Some(l)))?,
        Some(Limit::AtLeast(t)) => {
            limit(t).map(|l| (value >= l, format!("{} at least {}", m.label, show(l)), Some(l)))?
        }
        Some(Limit::Equals(t)) => limit(t).map(|l| (value == l, format!("{} of {}", m.label, show(l)), Some(l)))?,
        Some(Limit::Between(lo, hi)) => {
            let (lo, hi) = (limit(lo)?, limit(hi)?);
            (
                (lo..=hi).contains(&value),
                format!("{} between {} and {}", m.label, show(lo), show(hi)),
                Some(hi),
            )
        }
    };
    Ok(Outcome::check(ok, expected, show(value)).with(Measurement {
        label: m.label.clone(),
        value,
        unit: unit.clone(),
        warn: None,
        crit,
    }))
}

/// A limit: a number, or a duration (`10 minutes`) in the measure's unit (`ms` or seconds).
pub fn limit_value(text: &str, unit: &str) -> Result<f64, StepError> {
    if let Ok(n) = text.trim().parse::<f64>() {
        return Ok(n);
    }
    let d = crate::steps::expect::duration(text)
        .map_err(|e| StepError::Other(format!("limit \"{text}\" is neither a number nor a duration: {e}")))?;
    Ok(if unit == "ms" {
        d.as_secs_f64() * 1000.0
    } else {
        d.as_secs_f64()
    })
}

/// A macro's sub-step, matched: its definition, raw arguments (placeholders still to be
/// substituted) and keyword kind. Checks keywords, nesting, and that no capture reaches
/// a command step's shell line.
pub fn resolve<'a>(
    library: &'a StepLibrary,
    sub: &Template,
    caps: &[String],
    host: Option<&Host>,
    depth: usize,
) -> Result<(&'a StepDef, Vec<String>), String> {
    if depth >= MAX_DEPTH {
        return Err(format!(
            "macro steps nest deeper than {MAX_DEPTH}: is one calling itself?"
        ));
    }
    let text = sub.render(Context::Step, caps, host)?;
    let (kind, text) = split_keyword(&text);
    let (def, raw) = match library.find(text) {
        Match::One(def, raw) => (def, raw),
        Match::None(near) => return Err(crate::commands::lint::undefined_message(&near)),
        Match::Ambiguous(defs) => return Err(format!("ambiguous: matches {} definitions", defs.len())),
    };
    if let Some(e) = library.keyword_error(def, kind) {
        return Err(e);
    }
    let shell_line = ["run {string}", "command {string}", "output of {string}"]
        .iter()
        .any(|m| def.sentence.contains(m));
    if shell_line
        && sub
            .pieces
            .iter()
            .any(|p| matches!(p, super::template::Piece::Capture(_)))
    {
        return Err(
            "a capture cannot go into a command step's command line (it runs as written by sh -c); use `command =`, where captures are shell-quoted".into(),
        );
    }
    if let Some(inner) = library.pack(def) {
        if let Action::Steps(list) = &inner.action {
            for s in list {
                resolve(library, s, &raw, None, depth + 1)?;
            }
        }
    }
    Ok((def, raw))
}

fn split_keyword(text: &str) -> (StepKind, &str) {
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    let kind = match word {
        "Given" => StepKind::Context,
        "When" => StepKind::Action,
        "Then" => StepKind::Outcome,
        "And" | "But" | "*" => StepKind::Unknown,
        _ => return (StepKind::Unknown, text),
    };
    (kind, rest.trim_start())
}

async fn macro_steps(
    step: &PackStep,
    library: &StepLibrary,
    ctx: &mut StepCtx,
    list: &[Template],
    caps: &[String],
    depth: usize,
) -> StepOutput {
    let host = ctx.host.as_ref().map(|h| h.host.clone());
    let mut measured = Vec::new();
    let mut last = Outcome::pass(format!("{} steps to pass", list.len()), "all passed");
    for (i, sub) in list.iter().enumerate() {
        let (def, raw) = resolve(library, sub, caps, host.as_ref(), depth).map_err(StepError::Other)?;
        let mut values = Vec::new();
        for v in raw {
            values.push(crate::steps::substitute(&v, host.as_ref()).map_err(|e| StepError::Other(e.to_string()))?);
        }
        if def.needs_host && ctx.host.is_none() {
            return Err(StepError::NoHost);
        }
        let args = Args {
            values,
            doc_string: None,
            table: None,
        };
        let outcome = match library.pack(def) {
            Some(inner) => run(inner, library, ctx, args, depth + 1).await,
            None => (def.run)(ctx, args).await,
        }
        .map_err(|e| {
            StepError::Other(format!(
                "step {} of {} ({}): {e}",
                i + 1,
                step.location(),
                def.example_text()
            ))
        })?;
        measured.extend(outcome.measured.iter().cloned());
        if !outcome.passed {
            return Ok(Outcome { measured, ..outcome });
        }
        last = outcome;
    }
    last.measured = measured;
    Ok(last)
}
