//! The `shakedown` binary: parse the command line, run the command, map to an exit status.

use std::process::ExitCode;

use clap::Parser;
use shakedown::cli::{Cli, Command};
use shakedown::commands;
use shakedown::error::ExitStatus;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return bad_options(e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(ExitStatus::BadInput as u8);
        }
    };
    let result: anyhow::Result<ExitStatus> = runtime.block_on(async {
        match &cli.command {
            Command::Run(args) => commands::run::run(args).await,
            Command::Lint(args) => Ok(commands::lint::lint(args)?),
            Command::Steps(args) => Ok(commands::steps::steps(args)?),
            Command::Check(args) => Ok(commands::check::check(args).await),
            Command::Serve(args) => commands::serve::serve(args).await,
            Command::Init(args) => Ok(commands::init::init(args)?),
            Command::Connections(args) => Ok(commands::connections::connections(args).await?),
            Command::Manual(args) => commands::manual::manual(args),
        }
    });
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            let text = shakedown::inventory::secret::redact(&format!("{e:#}"));
            for line in text.lines() {
                eprintln!("error: {line}");
            }
            // Bad input and anything else that stops a command before a verdict (an
            // unwritable report) are both exit 2: CLI.md has no other status for them.
            ExitCode::from(ExitStatus::BadInput as u8)
        }
    }
}

/// Bad options: clap's message and exit 2, except for `check`, whose caller is a
/// monitoring system: plugin output, UNKNOWN (3).
fn bad_options(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let is_check = std::env::args().nth(1).as_deref() == Some("check");
    if !is_check || matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let text = e.render().to_string();
    let problems: Vec<String> = text
        .lines()
        .map(|l| l.trim().trim_start_matches("error: ").to_string())
        .filter(|l| !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .collect();
    let _ = shakedown::report::nagios::print(&shakedown::report::nagios::bad_input(&problems));
    ExitCode::from(ExitStatus::Unknown as u8)
}
