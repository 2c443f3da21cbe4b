//! What a step declares it reads ([`Fact`]), in two kinds kept apart: a whole-host fact,
//! read by one command and parsed ([`HostFact`]: one file per fact implements it and
//! names it with a `Fact` constant of its own), and a read named by the step's arguments
//! (a service's state, a file's `stat`: [`ArgRead`], see [`super::reads`]), for which the
//! batch runs the step's own first command.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{FactError, HostFacts};
use crate::host::HostHandle;

/// A fact about the whole host: the command its read sends (also its part in the host's
/// facts batch) and the parse of that command's output. Adding one is one file: a unit
/// struct implementing this trait, and a `Fact` constant naming it for the step tables.
pub(crate) trait HostFact: Send + Sync + 'static {
    /// What the fact is once read.
    type Value: Send + Sync + 'static;

    /// The shell text of the fact's part in the batch: the command its own read sends.
    fn part(&self) -> String;

    /// The fact from its part's output (`facts` holds the batch's earlier parts: the
    /// platform); `None` when it cannot be told from it.
    fn parse(&self, text: &str, facts: &HostFacts) -> Option<Self::Value>;

    /// Reads the fact alone, when the batch did not.
    fn read<'a>(&'a self, host: &'a HostHandle, timeout: Duration) -> BoxFuture<'a, Result<Self::Value, FactError>>;

    /// The facts the batch must read before this one for [`HostFact::parse`].
    fn needs(&self) -> &'static [Fact] {
        &[]
    }
}

/// A [`HostFact`] with its value type erased: what the batch needs of it.
pub(crate) trait WholeHost: Sync {
    /// [`HostFact::part`].
    fn part(&self) -> String;
    /// Parses a part's output into the fact's cell of `facts`.
    fn fill(&self, text: &str, facts: &HostFacts);
    /// [`HostFact::needs`].
    fn needs(&self) -> &'static [Fact];
}

impl<F: HostFact> WholeHost for F {
    fn part(&self) -> String {
        HostFact::part(self)
    }

    fn fill(&self, text: &str, facts: &HostFacts) {
        if let Some(value) = self.parse(text, facts) {
            let _ = facts.cell::<F>().set(Arc::new(value));
        }
    }

    fn needs(&self) -> &'static [Fact] {
        HostFact::needs(self)
    }
}

/// A read named by a step's arguments: the batch runs the command the step's read would
/// send for them ([`super::reads::reads_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgRead {
    /// Whether the service named by the step's first argument runs ([`super::running`]).
    ServiceRunning,
    /// Whether the service named by the step's first argument starts at boot
    /// ([`super::enablement`]).
    ServiceEnabled,
    /// `stat` of the path that is the step's first argument ([`super::file::stat_command`]).
    FileStat,
    /// Whether the file (first argument) has a line containing the text (second argument)
    /// ([`super::file::contains_command`]).
    FileContains,
}

#[derive(Clone, Copy)]
enum Kind {
    Host(&'static dyn WholeHost),
    Args(ArgRead),
}

/// A fact a step declares that it reads ([`crate::steps::StepDef::facts`]): a whole-host
/// fact or a read named by its arguments. Named by constants (`Fact::Platform`,
/// `Fact::FileStat`), each defined beside what it names; ordered by rank, the order of the
/// batch's parts (the platform first: the package part is parsed by the manager it names).
#[derive(Clone, Copy)]
pub struct Fact {
    rank: u8,
    name: &'static str,
    kind: Kind,
}

impl Fact {
    /// A whole-host fact of batch rank `rank`.
    pub(crate) const fn whole_host(rank: u8, name: &'static str, fact: &'static dyn WholeHost) -> Fact {
        Fact {
            rank,
            name,
            kind: Kind::Host(fact),
        }
    }

    /// A read named by a step's arguments.
    pub(crate) const fn arg_read(rank: u8, name: &'static str, read: ArgRead) -> Fact {
        Fact {
            rank,
            name,
            kind: Kind::Args(read),
        }
    }

    /// Whether this is a fact about what the step's arguments name (a service, a file),
    /// not about the whole host: the batch runs the step's own first command for it.
    pub fn named_by_args(self) -> bool {
        matches!(self.kind, Kind::Args(_))
    }

    /// The whole-host fact, if it is one.
    pub(crate) fn host_fact(self) -> Option<&'static dyn WholeHost> {
        match self.kind {
            Kind::Host(f) => Some(f),
            Kind::Args(_) => None,
        }
    }

    /// The argument read, if it is one.
    pub(crate) fn arg_read_kind(self) -> Option<ArgRead> {
        match self.kind {
            Kind::Args(r) => Some(r),
            Kind::Host(_) => None,
        }
    }
}

impl std::fmt::Debug for Fact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Fact {
    fn eq(&self, other: &Self) -> bool {
        (self.rank, self.name) == (other.rank, other.name)
    }
}

impl Eq for Fact {}

impl PartialOrd for Fact {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fact {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank, self.name).cmp(&(other.rank, other.name))
    }
}

impl std::hash::Hash for Fact {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.rank, self.name).hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Host;
    use crate::transport::{Batch, Cmd, Fake, Output};

    /// A whole-host fact added as a new file would add it: this struct, its trait impl and
    /// its `Fact` constant, and nothing else anywhere.
    struct Uptime;

    const UPTIME: Fact = Fact::whole_host(11, "Uptime", &Uptime);

    fn uptime_command() -> Cmd {
        Cmd::new("cat").arg("/proc/uptime")
    }

    impl HostFact for Uptime {
        type Value = String;

        fn part(&self) -> String {
            uptime_command().to_shell()
        }

        fn parse(&self, text: &str, _: &HostFacts) -> Option<String> {
            text.split_whitespace().next().map(str::to_string)
        }

        fn read<'a>(&'a self, host: &'a HostHandle, timeout: Duration) -> BoxFuture<'a, Result<String, FactError>> {
            Box::pin(async move {
                let out = super::super::run_ok(host, &uptime_command(), timeout).await?;
                self.parse(&out.stdout_text(), &HostFacts::default())
                    .ok_or_else(|| FactError::Unsupported("empty /proc/uptime".into()))
            })
        }
    }

    #[tokio::test]
    async fn a_new_fact_is_read_in_the_batch_when_planned_and_alone_otherwise() {
        let t = Duration::from_secs(5);
        let batch = Arc::new(
            Fake::new()
                .responding(|cmd| Batch::replay(cmd.arguments().get(1)?, &[Fake::output(0, "4242.5 100.0\n", "")])),
        );
        let host = HostHandle::new(Host::local("web1"), batch.clone());
        super::super::of(&host).plan([UPTIME]);
        assert_eq!(
            *super::super::get(&host, &Uptime, t).await.expect("from the batch"),
            "4242.5"
        );
        assert_eq!(batch.ran().len(), 1);
        assert!(batch.ran()[0].contains("cat /proc/uptime"), "{:?}", batch.ran());

        let alone = Arc::new(Fake::new().on_cmd(
            &uptime_command(),
            Output {
                status: Some(0),
                stdout: b"7.0 1.0\n".to_vec(),
                stderr: Vec::new(),
            },
        ));
        let host = HostHandle::new(Host::local("web1"), alone.clone());
        assert_eq!(*super::super::get(&host, &Uptime, t).await.expect("read alone"), "7.0");
        assert_eq!(alone.ran(), ["cat /proc/uptime"]);
    }
}
