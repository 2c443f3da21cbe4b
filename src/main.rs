//! The `shakedown` binary: parse the command line, run the command, map to an exit status.

use std::process::ExitCode;

use clap::Parser;
use shakedown::cli::{Cli, Command};
use shakedown::commands;
use shakedown::error::{BadInput, ExitStatus};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
            Command::Steps(args) => Ok(commands::steps::steps(args)),
        }
    });
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            let text = shakedown::inventory::secret::redact(&format!("{e:#}"));
            for line in text.lines() {
                eprintln!("error: {line}");
            }
            let bad_input = e.downcast_ref::<BadInput>().is_some();
            ExitCode::from(if bad_input { ExitStatus::BadInput } else { ExitStatus::BadInput } as u8)
        }
    }
}
