//! Facts about a host that many steps need (platform, services, packages, PHP modules,
//! mounts, fstab, listening ports, processes), each read at most once per host per run
//! behind a `OnceCell`, so concurrent steps share one read in flight. A retry reads them
//! again, through a fresh cache of its own (`HostHandle::afresh`). Each whole-host fact is
//! one file implementing [`HostFact`] (its command, which is also its part in the host's
//! facts batch, a pure parse tested on captured output, and its own read) and naming it
//! with a [`Fact`] constant for the step tables; reads named by a step's arguments (a
//! service, a file) are kept apart ([`reads`]). Which commands run is decided here; their
//! shell text and the batch's framing are the transport's ([`crate::transport`]). A read
//! that fails is not cached: the next step tries again.

mod fact;
pub(crate) mod file;
pub(crate) mod mount;
pub(crate) mod package;
pub(crate) mod platform;
pub(crate) mod ports;
mod prefetch;
pub(crate) mod process;
mod reads;
pub(crate) mod service;

use std::any::{Any, TypeId};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::host::HostHandle;
use crate::transport::{Cmd, Output, TransportError};

pub(crate) use fact::Fact;
pub(crate) use fact::HostFact;
pub(crate) use mount::{FstabEntry, Mount};
pub(crate) use package::{PackageDb, PackageManager};
pub(crate) use platform::Platform;
pub(crate) use ports::Listener;
pub(crate) use process::Process;
pub(crate) use service::{Enablement, Running};

/// Why a fact could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    /// The transport could not run the command.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The command ran and failed.
    #[error("`{cmd}` failed: {why}")]
    Command {
        /// The command, as sent.
        cmd: String,
        /// Exit status and stderr, in words.
        why: String,
    },
    /// The host lacks what the fact needs.
    #[error("{0}")]
    Unsupported(String),
}

type Cell<T> = OnceCell<Arc<T>>;
type Keyed<T> = Mutex<HashMap<String, Arc<Cell<T>>>>;

/// The per-host fact cache: one cell per whole-host fact (by its type, [`HostFacts::cell`]),
/// one per service name, and the facts the run's steps will read on the host (read
/// together, see [`prefetch`]).
#[derive(Debug, Default)]
pub(crate) struct HostFacts {
    planned: Mutex<BTreeSet<Fact>>,
    prefetched: OnceCell<()>,
    /// The facts named by steps' arguments ([`Fact::named_by_args`]), with those arguments.
    planned_reads: Mutex<BTreeSet<(Fact, Vec<String>)>>,
    /// Every command the batch may run for them (any alternative), as `Cmd::to_shell`.
    read_commands: Mutex<HashSet<String>>,
    /// What the batch printed for them, by command, for the reads that send it.
    read_outputs: Mutex<HashMap<String, Output>>,
    /// A `Cell<F::Value>` per whole-host fact `F` read or planned.
    cells: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    sysv: Cell<service::BootTable>,
    enablement: Keyed<Enablement>,
    running: Keyed<Running>,
}

impl HostFacts {
    /// Adds facts that steps of this run will read on the host (before the run starts).
    pub(crate) fn plan(&self, facts: impl IntoIterator<Item = Fact>) {
        self.planned.lock().unwrap_or_else(|e| e.into_inner()).extend(facts);
    }

    /// The cell of the whole-host fact `F`.
    pub(crate) fn cell<F: HostFact>(&self) -> Arc<Cell<F::Value>> {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        let cell = cells
            .entry(TypeId::of::<F>())
            .or_insert_with(|| Arc::new(Cell::<F::Value>::new()))
            .clone();
        cell.downcast()
            .unwrap_or_else(|_| unreachable!("a cell is keyed by its fact's type"))
    }

    fn planned(&self) -> BTreeSet<Fact> {
        self.planned.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Adds a fact named by a step's arguments ([`Fact::named_by_args`]) that the step will read
    /// on the host (before the run starts; arguments its step would refuse are left to it).
    pub(crate) fn plan_read(&self, fact: Fact, args: &[String]) {
        let Some(mut alternatives) = reads::reads_of(fact, args) else {
            return;
        };
        if fact == Fact::ServiceEnabled {
            alternatives.extend(service::boot_table_reads());
        }
        self.planned_reads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((fact, args.to_vec()));
        let commands = alternatives
            .into_iter()
            .filter_map(|(_, cmd)| cmd.map(|c| c.to_shell()));
        self.read_commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(commands);
    }

    fn planned_reads(&self) -> BTreeSet<(Fact, Vec<String>)> {
        self.planned_reads.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn keep_outputs(&self, outputs: HashMap<String, Output>) {
        self.read_outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(outputs);
    }
}

impl crate::host::Resource for HostFacts {}

/// The host's fact cache for this attempt (a retry's host has its own: `HostHandle::afresh`).
pub(crate) fn of(host: &HostHandle) -> Arc<HostFacts> {
    host.attempt.get::<HostFacts>()
}

/// Reads the host's planned facts in one command, once: the runner calls it as soon as
/// the host is connected; every fact read waits for it first.
pub(crate) async fn prefetch(host: &HostHandle, timeout: Duration) {
    of(host).prefetched.get_or_init(|| prefetch::run(host, timeout)).await;
}

/// Runs `cmd` on `host`, mapping a transport error.
pub(crate) async fn run(host: &HostHandle, cmd: &Cmd, timeout: Duration) -> Result<Output, FactError> {
    Ok(read(host, cmd, timeout).await?)
}

/// Runs a reading command on `host`, answered from the host's facts batch when the batch
/// ran it for a step ([`read_ahead`]): every step that reads a host sends its commands here.
pub(crate) async fn read(host: &HostHandle, cmd: &Cmd, timeout: Duration) -> Result<Output, TransportError> {
    if let Some(out) = read_ahead(host, cmd, timeout).await {
        return Ok(out);
    }
    host.run(cmd, timeout).await
}

/// The output of `cmd` when the host's facts batch ran it for a step (waiting for the
/// batch first); `None` when it did not, or cut it: the caller sends it then. Steps that
/// send the same command share its output, as they share a fact.
pub(crate) async fn read_ahead(host: &HostHandle, cmd: &Cmd, timeout: Duration) -> Option<Output> {
    let key = cmd.to_shell();
    let facts = of(host);
    let planned = facts
        .read_commands
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&key);
    if !planned {
        return None;
    }
    prefetch(host, timeout).await;
    facts
        .read_outputs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .cloned()
}

/// Runs `cmd` and requires exit 0.
pub(crate) async fn run_ok(host: &HostHandle, cmd: &Cmd, timeout: Duration) -> Result<Output, FactError> {
    let out = run(host, cmd, timeout).await?;
    if out.success() { Ok(out) } else { Err(failed(cmd, &out)) }
}

/// A [`FactError::Command`] describing `out`.
pub(crate) fn failed(cmd: &Cmd, out: &Output) -> FactError {
    let status = crate::outcome::exit_status(out.status);
    let err = out.stderr_text();
    let err = err.trim();
    let why = if err.is_empty() {
        status
    } else {
        format!("{status}: {}", crate::outcome::excerpt(err))
    };
    FactError::Command {
        cmd: cmd.to_shell(),
        why,
    }
}

/// The cell's value, read by `read` unless the host's batch (or an earlier read) filled it.
async fn cached<T, F, Fut>(host: &HostHandle, cell: &Cell<T>, timeout: Duration, read: F) -> Result<Arc<T>, FactError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, FactError>>,
{
    if cell.get().is_none() {
        prefetch(host, timeout).await;
    }
    cell.get_or_try_init(|| async { read().await.map(Arc::new) })
        .await
        .cloned()
}

fn keyed<T>(map: &Keyed<T>, key: &str) -> Arc<Cell<T>> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(key.to_string()).or_default().clone()
}

/// The whole-host fact `F`, read by `fact`'s own command unless the host's batch (or an
/// earlier read) filled its cell.
pub(crate) async fn get<F: HostFact>(
    host: &HostHandle,
    fact: &F,
    timeout: Duration,
) -> Result<Arc<F::Value>, FactError> {
    let cell = of(host).cell::<F>();
    cached(host, &cell, timeout, || fact.read(host, timeout)).await
}

/// The host's init system and package manager (one detection script).
pub(crate) async fn platform(host: &HostHandle, timeout: Duration) -> Result<Arc<Platform>, FactError> {
    get(host, &platform::PlatformFact, timeout).await
}

/// The installed packages, from the host's package manager.
pub(crate) async fn packages(host: &HostHandle, timeout: Duration) -> Result<Arc<PackageDb>, FactError> {
    platform(host, timeout).await?;
    get(host, &package::PackagesFact, timeout).await
}

/// The PHP modules `php -m` lists; `None` when the host has no `php`.
pub(crate) async fn php_modules(host: &HostHandle, timeout: Duration) -> Result<Arc<Option<Vec<String>>>, FactError> {
    get(host, &package::PhpModulesFact, timeout).await
}

/// The mount table (`/proc/self/mountinfo`).
pub(crate) async fn mounts(host: &HostHandle, timeout: Duration) -> Result<Arc<Vec<Mount>>, FactError> {
    get(host, &mount::MountsFact, timeout).await
}

/// The entries of `/etc/fstab`.
pub(crate) async fn fstab(host: &HostHandle, timeout: Duration) -> Result<Arc<Vec<FstabEntry>>, FactError> {
    get(host, &mount::FstabFact, timeout).await
}

/// The listening TCP sockets.
pub(crate) async fn ports(host: &HostHandle, timeout: Duration) -> Result<Arc<Vec<Listener>>, FactError> {
    get(host, &ports::PortsFact, timeout).await
}

/// The process table.
pub(crate) async fn processes(host: &HostHandle, timeout: Duration) -> Result<Arc<Vec<Process>>, FactError> {
    get(host, &process::ProcessesFact, timeout).await
}

/// Whether a service starts at boot, by the host's init system.
pub(crate) async fn enablement(host: &HostHandle, name: &str, timeout: Duration) -> Result<Arc<Enablement>, FactError> {
    let p = platform(host, timeout).await?;
    let cell = keyed(&of(host).enablement, name);
    cached(host, &cell, timeout, || {
        service::read_enablement(host, &p, name, timeout)
    })
    .await
}

/// Whether a service is running, and how that was found out.
pub(crate) async fn running(host: &HostHandle, name: &str, timeout: Duration) -> Result<Arc<Running>, FactError> {
    let p = platform(host, timeout).await?;
    let cell = keyed(&of(host).running, name);
    cached(host, &cell, timeout, || service::read_running(host, &p, name, timeout)).await
}

/// The SysV start links or `chkconfig --list` table (hosts without systemd or OpenRC).
pub(crate) async fn sysv_table(
    host: &HostHandle,
    p: &Platform,
    timeout: Duration,
) -> Result<Arc<service::BootTable>, FactError> {
    cached(host, &of(host).sysv, timeout, || service::read_sysv(host, p, timeout)).await
}
