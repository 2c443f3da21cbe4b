//! Command steps: run a shell command line on the current host and check its exit status
//! and output. The command argument (`{command}`) IS a shell command line by design
//! (STEPS.md), run by `sh -c` on the host; a `{name}`, `{address}` or `{vars.KEY}` inside it
//! is one quoted shell word (`StepLibrary::substitute_args`). "output" means stdout followed
//! by stderr.

use futures::future::BoxFuture;

use super::expect::{check_last_regex, contains, matches};
use super::{Args, CommandRun, Lane, Outcome, StepCtx, StepDef, StepError, StepOutput};
use crate::transport::Cmd;

const MODULE: &str = "src/steps/command.rs";

/// The command family.
pub const STEPS: &[StepDef] = &[
    StepDef {
        line: line!(),
        sentence: "I run {command}",
        example: r#"When I run "uptime""#,
        doc: "Runs the command line with `sh -c` on the current host and keeps its exit status and output for the steps below. Passes whatever the exit status; the Then steps check it. A {name}, {address} or {vars.KEY} in it is one quoted shell word (write it bare, not inside quotes).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Barrier,
        facts: &[],
        needs_host: true,
        check: None,
        run: run_command,
    },
    StepDef {
        line: line!(),
        sentence: "the command should succeed",
        example: "Then the command should succeed",
        doc: "The last command exited 0. The failure shows the exit status and the end of its output.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Barrier,
        facts: &[],
        needs_host: true,
        check: None,
        run: should_succeed,
    },
    StepDef {
        line: line!(),
        sentence: "the command should fail",
        example: "Then the command should fail",
        doc: "The last command exited non-zero.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Barrier,
        facts: &[],
        needs_host: true,
        check: None,
        run: should_fail,
    },
    StepDef {
        line: line!(),
        sentence: "the exit status should be {int}",
        example: "Then the exit status should be 3",
        doc: "The last command exited with exactly this status.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Barrier,
        facts: &[],
        needs_host: true,
        check: None,
        run: exit_status,
    },
    StepDef {
        line: line!(),
        sentence: "the output should contain {string}",
        example: r#"Then the output should contain "load average""#,
        doc: "The last command's output (stdout then stderr) contains the text.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Barrier,
        facts: &[],
        needs_host: true,
        check: None,
        run: output_contains,
    },
    StepDef {
        line: line!(),
        sentence: "the output should not contain {string}",
        example: r#"Then the output should not contain "ERROR""#,
        doc: "The last command's output (stdout then stderr) does not contain the text.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Barrier,
        facts: &[],
        needs_host: true,
        check: None,
        run: output_not_contains,
    },
    StepDef {
        line: line!(),
        sentence: "the output should match {regex}",
        example: r"Then the output should match /load average: \d/",
        doc: "The last command's output matches the regular expression (multi-line: ^ and $ match at each line).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Barrier,
        facts: &[],
        needs_host: true,
        check: Some(check_last_regex),
        run: output_matches,
    },
    StepDef {
        line: line!(),
        sentence: "the command {command} should succeed",
        example: r#"Then the command "test -d /srv/app/current" should succeed"#,
        doc: "Runs the command line with `sh -c` on the current host; it must exit 0. The failure shows the exit status and output.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: command_should_succeed,
    },
    StepDef {
        line: line!(),
        sentence: "the output of {command} should contain {string}",
        example: r#"Then the output of "php -v" should contain "8.2""#,
        doc: "Runs the command line with `sh -c` on the current host; its output (stdout then stderr) must contain the text.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: output_of_contains,
    },
];

/// Runs `line` with `sh -c` on the current host.
pub async fn run_line(ctx: &StepCtx, line: &str) -> Result<CommandRun, StepError> {
    let host = ctx.host()?;
    let output = crate::facts::read(&host, &Cmd::shell(line), ctx.step_timeout).await?;
    Ok(CommandRun {
        line: line.to_string(),
        output,
    })
}

fn combined(run: &CommandRun) -> String {
    let mut text = run.output.stdout_text();
    text.push_str(&run.output.stderr_text());
    text
}

fn status_text(run: &CommandRun) -> String {
    crate::outcome::exit_text(run.output.status, &combined(run))
}

fn run_command(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let run = run_line(ctx, a.get(0)).await?;
        let found = status_text(&run);
        ctx.last_command = Some(run);
        Ok(Outcome::pass("the command to run", found))
    })
}

fn should_succeed(ctx: &mut StepCtx, _: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let run = ctx.last_command()?;
        Ok(Outcome::check(
            run.output.success(),
            format!("`{}` to exit 0", run.line),
            status_text(run),
        ))
    })
}

fn should_fail(ctx: &mut StepCtx, _: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let run = ctx.last_command()?;
        Ok(Outcome::check(
            !run.output.success(),
            format!("`{}` to exit non-zero", run.line),
            status_text(run),
        ))
    })
}

fn exit_status(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let want = a.int(0)?;
        let run = ctx.last_command()?;
        Ok(Outcome::check(
            run.output.status.map(i64::from) == Some(want),
            format!("`{}` to exit {want}", run.line),
            status_text(run),
        ))
    })
}

fn output_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { last_output_contains(ctx, a.get(0), false) })
}

fn output_not_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { last_output_contains(ctx, a.get(0), true) })
}

fn last_output_contains(ctx: &StepCtx, needle: &str, negate: bool) -> StepOutput {
    let run = ctx.last_command()?;
    Ok(contains(
        &format!("output of `{}`", run.line),
        &combined(run),
        needle,
        negate,
    ))
}

fn output_matches(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let run = ctx.last_command()?;
        matches(&format!("output of `{}`", run.line), &combined(run), a.get(0))
    })
}

fn command_should_succeed(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let run = run_line(ctx, a.get(0)).await?;
        Ok(Outcome::check(
            run.output.success(),
            format!("`{}` to exit 0", run.line),
            status_text(&run),
        ))
    })
}

fn output_of_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let run = run_line(ctx, a.get(0)).await?;
        Ok(contains(
            &format!("output of `{}`", run.line),
            &combined(&run),
            a.get(1),
            false,
        ))
    })
}
