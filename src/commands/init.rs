//! `shakedown init [DIR]`: placeholder, filled below.
use crate::cli::InitArgs;
use crate::error::{BadInput, ExitStatus};

/// Writes the starter suite.
pub fn init(_args: &InitArgs) -> Result<ExitStatus, BadInput> {
    Ok(ExitStatus::Ok)
}
