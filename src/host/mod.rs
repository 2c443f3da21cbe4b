//! The hosts of a run: one [`HostHandle`] per inventory host, each with its transport
//! (one SSH master, opened once) and two scopes of per-host state that the layers above
//! keep there without this one knowing them (the facts cache per attempt, the MySQL session
//! per run: [`Scope`]). Every command any step sends goes through [`HostHandle::run`], which
//! is also where `--trace` records it. Host patterns are read by the inventory's one
//! matcher ([`crate::inventory::pattern`]).

mod control_dir;
mod scope;

pub(crate) use control_dir::ControlDir;
pub(crate) use scope::{Resource, Scope};

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::inventory::{Host, Inventory, TransportKind};
use crate::transport::{Become, Cmd, Local, Output, SshMaster, SshOptions, SshProcesses, Transport, TransportError};

/// One host of the run.
pub struct HostHandle {
    /// Its inventory entry.
    pub host: Host,
    transport: Arc<dyn Transport>,
    /// State kept for one attempt of the host's scenarios (the facts cache): a retry starts
    /// with an empty one ([`HostHandle::afresh`]).
    pub attempt: Scope,
    /// State kept for the whole run (the MySQL session), closed with the pool.
    pub run_scope: Arc<Scope>,
    trace: Option<Arc<Mutex<std::fs::File>>>,
    started: Instant,
}

impl HostHandle {
    /// A session on `host` through `transport` (any: a test passes a fake one), with empty
    /// scopes and no trace; outside a pool, for steps and facts that need one host only.
    pub(crate) fn new(host: Host, transport: Arc<dyn Transport>) -> Self {
        HostHandle {
            host,
            transport,
            attempt: Scope::default(),
            run_scope: Default::default(),
            trace: None,
            started: Instant::now(),
        }
    }

    /// Runs a command on this host (bounded by `timeout`), recording it in the trace.
    pub async fn run(&self, cmd: &Cmd, timeout: Duration) -> Result<Output, TransportError> {
        let start = Instant::now();
        let result = self.transport.run(cmd, timeout).await;
        self.trace_note();
        if let Some(trace) = &self.trace {
            let status = match &result {
                Ok(o) => o.status.map(|s| s.to_string()).unwrap_or_else(|| "signal".into()),
                Err(e) => format!("error: {e}"),
            };
            let line = format!(
                "{:.3}\t{}\t{:.3}\t{}\t{}\n",
                self.started.elapsed().as_secs_f64(),
                self.host.name,
                start.elapsed().as_secs_f64(),
                status,
                crate::inventory::secret::redact(&self.transport.sent(cmd).to_shell()).replace('\n', "\\n"),
            );
            if let Ok(mut f) = trace.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
        result
    }

    /// Opens the connection now (the runner does this early, in parallel).
    pub async fn connect(&self) -> Result<(), TransportError> {
        let result = self.transport.connect().await;
        self.trace_note();
        result
    }

    /// Writes to the trace how the host's connection came to be (opened, or a kept master
    /// reused), once: `TIME HOST 0.000 connection reused kept master SLOT in 0.002s`.
    fn trace_note(&self) {
        let Some(trace) = &self.trace else { return };
        if let Some(note) = self.transport.take_note() {
            let line = format!(
                "{:.3}\t{}\t0.000\tconnection\t{note}\n",
                self.started.elapsed().as_secs_f64(),
                self.host.name,
            );
            if let Ok(mut f) = trace.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }

    /// Forgets a failed connect, so that the next command connects again (`--until-pass`:
    /// a rebooting host is reached once it is back); a connection that is open, or being
    /// opened, is kept: never a second master to one host.
    pub(crate) fn forget_failed_connect(&self) {
        self.transport.forget_failed_connect();
    }

    /// The same host, connection and MySQL session, with no fact read yet: a retry's steps
    /// read through it, so they see the host as it is now rather than as the run's first
    /// read found it, while every other scenario keeps the run's facts.
    pub(crate) fn afresh(&self) -> HostHandle {
        HostHandle {
            host: self.host.clone(),
            transport: self.transport.clone(),
            attempt: Scope::default(),
            run_scope: self.run_scope.clone(),
            trace: self.trace.clone(),
            started: self.started,
        }
    }
}

/// Every host of the inventory, by name.
pub struct HostPool {
    handles: BTreeMap<String, Arc<HostHandle>>,
    inventory: Inventory,
    /// The run's SSH control directory (removed at the end).
    pub control_dir: Option<ControlDir>,
    /// The run's shared masters to jump hosts, stopped at close after the hosts' own.
    jumps: Option<Arc<crate::transport::JumpMasters>>,
    /// Whether closing this pool closes the connections (false for [`HostPool::next_run`]'s
    /// pools: the server's own pool closes them when it stops).
    owns_connections: bool,
}

impl HostPool {
    /// Handles for every host of `inventory`; nothing is contacted yet.
    pub fn new(inventory: &Inventory, trace: Option<PathBuf>) -> std::io::Result<Self> {
        // Checked before anything else (commands check it earlier, as bad input).
        let keeps = inventory
            .hosts
            .values()
            .any(|h| h.transport == TransportKind::Ssh && h.keep_connections.is_some());
        let kept_dir = match keeps {
            true => Some(crate::transport::kept::socket_dir().map_err(std::io::Error::other)?),
            false => None,
        };
        let trace = match trace {
            Some(p) => Some(Arc::new(Mutex::new(std::fs::File::create(p)?))),
            None => None,
        };
        let needs_ssh = inventory.hosts.values().any(|h| h.transport == TransportKind::Ssh);
        let control_dir = if needs_ssh { Some(ControlDir::create()?) } else { None };
        let options = SshOptions {
            control_dir: control_dir.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default(),
            jumps: Default::default(),
            kept_dir,
        };
        let jumps = options.jumps.clone();
        let mut pool = HostPool::build(inventory, trace, |host| match host.transport {
            TransportKind::Local => Arc::new(Local),
            TransportKind::Ssh => Arc::new(SshMaster::new(host.clone(), options.clone())),
        });
        pool.control_dir = control_dir;
        pool.jumps = Some(jumps);
        Ok(pool)
    }

    /// Handles for every host of `inventory`, each reaching its host through the transport
    /// `transport_of` gives it (a fake one in tests), with no trace and no control directory.
    #[cfg(test)]
    pub(crate) fn with_transports(inventory: &Inventory, transport_of: impl Fn(&Host) -> Arc<dyn Transport>) -> Self {
        HostPool::build(inventory, None, transport_of)
    }

    fn build(
        inventory: &Inventory,
        trace: Option<Arc<Mutex<std::fs::File>>>,
        transport_of: impl Fn(&Host) -> Arc<dyn Transport>,
    ) -> Self {
        let started = Instant::now();
        let handles = inventory
            .hosts
            .iter()
            .map(|(name, host)| {
                // `become` wraps whatever transport reaches the host: every command goes under it.
                let transport = Become::wrap(transport_of(host), host);
                let mut handle = HostHandle::new(host.clone(), transport);
                handle.trace = trace.clone();
                handle.started = started;
                (name.clone(), Arc::new(handle))
            })
            .collect();
        HostPool {
            handles,
            inventory: inventory.clone(),
            control_dir: None,
            jumps: None,
            owns_connections: true,
        }
    }

    /// A pool for one more run on this pool's connections (`serve` keeps its masters for
    /// the life of the server): new scopes (no fact and no MySQL session of an earlier run),
    /// a failed connect forgotten and a master that no longer answers replaced; closing it
    /// closes its scopes only.
    pub(crate) async fn next_run(&self) -> HostPool {
        futures::future::join_all(self.handles.values().map(|h| h.transport.refresh())).await;
        let started = Instant::now();
        let handles = self
            .handles
            .iter()
            .map(|(name, h)| {
                let mut handle = HostHandle::new(h.host.clone(), h.transport.clone());
                handle.trace = h.trace.clone();
                handle.started = started;
                (name.clone(), Arc::new(handle))
            })
            .collect();
        HostPool {
            handles,
            inventory: self.inventory.clone(),
            control_dir: None,
            jumps: None,
            owns_connections: false,
        }
    }

    /// The handle of an inventory host.
    pub fn get(&self, name: &str) -> Option<Arc<HostHandle>> {
        self.handles.get(name).cloned()
    }

    /// The hosts selected by a step's host or group argument, read by the inventory's one
    /// matcher ([`Inventory::select_argument`]), as lint reads it.
    pub fn select(&self, pattern: &str) -> Result<Vec<Arc<HostHandle>>, String> {
        match self.inventory.select_argument(pattern) {
            Ok(names) => Ok(names.iter().filter_map(|n| self.get(n)).collect()),
            Err(_) => Err(format!("no host or group \"{pattern}\" in the inventory")),
        }
    }

    /// The address to reach `name_or_address` at: the inventory address of a host of
    /// that name, else the text itself.
    pub fn address_of(&self, name_or_address: &str) -> String {
        self.handles
            .get(name_or_address)
            .map(|h| h.host.address.clone())
            .unwrap_or_else(|| name_or_address.to_string())
    }

    /// Closes every open connection, and ends every `ssh` process of the run: within
    /// about 2 s (a master being opened: up to 1 s; asking masters to stop and their exit:
    /// 0.5 s; SIGTERM, then SIGKILL: 0.3 s), and at once if this future is dropped first.
    pub async fn close(&self) {
        if !self.owns_connections {
            futures::future::join_all(self.handles.values().map(|h| h.run_scope.close())).await;
            return;
        }
        // No connection is opened from now on; one being opened is waited for (bounded).
        futures::future::join_all(self.handles.values().map(|h| h.transport.settle())).await;
        // Found before any stop: a stopped master no longer shows its socket path.
        let left = self
            .control_dir
            .as_ref()
            .map_or_else(SshProcesses::none, |d| SshProcesses::find(d.path()));
        let stopped = async {
            futures::future::join_all(self.handles.values().map(|h| h.transport.close())).await;
            if let Some(jumps) = &self.jumps {
                jumps.close().await;
            }
            left.exited().await;
        };
        let _ = tokio::time::timeout(STOP_GRACE, stopped).await;
        // A master still carrying a command we stopped waiting for, an ssh still connecting.
        left.end().await;
        futures::future::join_all(self.handles.values().map(|h| h.run_scope.close())).await;
    }
}

/// How long masters asked to stop have to exit before they are sent SIGTERM.
const STOP_GRACE: Duration = Duration::from_millis(500);

impl Drop for HostPool {
    /// Whatever `ssh` process of the run is still there (the pool dropped without
    /// [`HostPool::close`], e.g. a run's task cancelled at exit) is killed, before the
    /// masters' own drop asks them to stop and so hides their socket path.
    fn drop(&mut self) {
        if let Some(dir) = &self.control_dir {
            SshProcesses::kill(dir.path());
        }
    }
}
