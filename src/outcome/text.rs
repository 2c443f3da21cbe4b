//! The one wording of what was found: long text cut to a readable length, and a
//! command's exit.

/// Longest `found` text shown before truncation.
pub(crate) const FOUND_MAX: usize = 400;

/// Shortens `text` for a failure message, keeping its start and saying how much was cut.
pub(crate) fn excerpt(text: &str) -> String {
    let text = text.trim_end();
    if text.chars().count() <= FOUND_MAX {
        return format!("{text:?}");
    }
    let head: String = text.chars().take(FOUND_MAX).collect();
    format!("{head:?}... ({} more bytes)", text.len() - head.len())
}

/// `exit status 1` or `killed by a signal`: how every failure names a command's exit.
pub(crate) fn exit_status(status: Option<i32>) -> String {
    match status {
        Some(s) => format!("exit status {s}"),
        None => "killed by a signal".into(),
    }
}

/// `exit status 1, output "..."`: a command's exit and the start of its output (stdout
/// then stderr), or the exit alone when it printed nothing.
pub(crate) fn exit_text(status: Option<i32>, output: &str) -> String {
    let status = exit_status(status);
    if output.trim().is_empty() {
        status
    } else {
        format!("{status}, output {}", excerpt(output))
    }
}
