//! Reads named by a step's arguments (a service's state, a file's `stat` or `grep -F`),
//! apart from whole-host facts: which command the facts batch runs ahead for them, the one
//! the step's read would send first ([`reads_of`]).

use super::fact::{ArgRead, Fact};
use super::{file, service};
use crate::transport::{Cmd, Test};

#[allow(non_upper_case_globals)]
impl Fact {
    /// Whether the service named by the step's first argument runs ([`super::running`]).
    pub const ServiceRunning: Fact = Fact::arg_read(7, "ServiceRunning", ArgRead::ServiceRunning);
    /// Whether the service named by the step's first argument starts at boot
    /// ([`super::enablement`]).
    pub const ServiceEnabled: Fact = Fact::arg_read(8, "ServiceEnabled", ArgRead::ServiceEnabled);
    /// `stat` of the path that is the step's first argument ([`super::file::stat_command`]).
    pub const FileStat: Fact = Fact::arg_read(9, "FileStat", ArgRead::FileStat);
    /// Whether the file (first argument) has a line containing the text (second argument)
    /// ([`super::file::contains_command`]).
    pub const FileContains: Fact = Fact::arg_read(10, "FileContains", ArgRead::FileContains);
}

/// A read whose command may depend on the host: tests made on the host in order, each with
/// the command the read sends first when the test holds (none: nothing to read ahead). The
/// tests say on the host what [`super::Platform`] says here, so the batch runs the command
/// the read would; when they disagree, the read simply sends its own.
pub(crate) type Alternatives = Vec<(Test, Option<Cmd>)>;

/// What the batch runs for a read named by a step's arguments: the step's own first
/// command, or the alternatives of a service read; `None` for arguments its step would
/// refuse (a bad service name, a relative path) or a whole-host fact.
pub(crate) fn reads_of(fact: Fact, args: &[String]) -> Option<Alternatives> {
    let first = args.first()?;
    let path_ok = || first.starts_with('/');
    match fact.arg_read_kind()? {
        ArgRead::ServiceRunning | ArgRead::ServiceEnabled if service::check_service_name(first).is_err() => None,
        ArgRead::ServiceRunning => Some(service::running_reads(first)),
        ArgRead::ServiceEnabled => Some(service::enablement_reads(first)),
        ArgRead::FileStat if path_ok() => Some(vec![(Test::Always, Some(file::stat_command(first)))]),
        ArgRead::FileContains if path_ok() => {
            Some(vec![(Test::Always, Some(file::contains_command(first, args.get(1)?)))])
        }
        _ => None,
    }
}
