//! The commands of the file steps that can be read ahead in a host's facts batch (see
//! [`super::Fact::FileStat`]): the step sends the same command when the batch did not
//! answer it, so both are built here, once.

use crate::transport::{Cmd, script};

/// The host's clock, then the file's metadata, in one round trip.
const STAT: &str = r#"date +%s && exec stat -L -c '%u|%U|%g|%G|%a|%Y|%s|%F' -- "$1""#;

/// `stat` of `path` after the host's clock: `now` on the first line, then
/// `uid|user|gid|group|mode|mtime|size|kind`.
pub(crate) fn stat_command(path: &str) -> Cmd {
    script(STAT, &[path])
}

/// Exits 0 when a line of `path` contains `text` (a fixed string), 1 when none does.
pub(crate) fn contains_command(path: &str, text: &str) -> Cmd {
    Cmd::new("grep").args(["-q", "-F", "-e", text, "--", path])
}
