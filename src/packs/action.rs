//! Running a pack step: render its templates with the step's captures (each escaped for
//! where it lands), run the command on the current host through the same transport as
//! built-ins (or send the request, or run the macro's steps), then judge expectations and
//! the measured value into an [`Outcome`] worded like the built-in steps'.

use futures::future::BoxFuture;

use super::compile::{Action, HttpAction, PackStep};
use super::judge::{Judge, Seen};
use crate::inventory::Host;
use crate::steps::{Args, Outcome, StepCtx, StepDef, StepError, StepLibrary, StepOutput};
use crate::suite::StepKind;
use crate::template::{Context, Template};
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
        let mut outcome = Judge::new(step, &seen, &args.values, host.as_ref()).outcome()?;
        if let (Some(t), false) = (&step.expected, outcome.passed) {
            outcome.expected = render(t, Context::Raw, &args.values, host.as_ref())?;
        }
        Ok(outcome)
    })
}

fn render(t: &Template, ctx: Context, caps: &[String], host: Option<&Host>) -> Result<String, StepError> {
    t.render(ctx, caps, host).map_err(StepError::Other)
}

async fn command(ctx: &StepCtx, t: &Template, caps: &[String]) -> Result<Seen, StepError> {
    let handle = ctx.host()?;
    let line = render(t, Context::Shell, caps, Some(&handle.host))?;
    let out = crate::facts::read(&handle, &Cmd::shell(line.clone()), ctx.step_timeout).await?;
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
    let rows = match crate::probes::mysql::session(&handle)
        .query_with(&handle.host, sql, &values, deadline)
        .await
    {
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
    let (def, raw) = library.resolve(text).map_err(|e| e.to_string())?;
    if let Some(e) = library.keyword_error(def, kind) {
        return Err(e);
    }
    let shell_line = def.sentence.contains("{command}");
    if shell_line
        && sub
            .pieces
            .iter()
            .any(|p| matches!(p, crate::template::Piece::Capture(_)))
    {
        return Err(
            "a capture cannot go into a command step's command line (it runs as written by sh -c); use `command =`, where captures are shell-quoted".into(),
        );
    }
    if let Some(inner) = super::pack_of(library, def)
        && let Action::Steps(list) = &inner.action
    {
        for s in list {
            resolve(library, s, &raw, None, depth + 1)?;
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
        let values = library
            .substitute_args(def, &raw, host.as_ref())
            .map_err(StepError::Other)?;
        if def.needs_host && ctx.host.is_none() {
            return Err(StepError::NoHost);
        }
        let args = Args {
            values,
            doc_string: None,
            table: None,
        };
        let outcome = match super::pack_of(library, def) {
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
