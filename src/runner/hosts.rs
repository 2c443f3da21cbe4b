//! The hosts of a run: one [`HostHandle`] per inventory host, each with its transport
//! (one SSH master, opened once) and its fact cache. Every command any step sends goes
//! through [`HostHandle::run`], which is also where `--trace` records it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::facts::HostFacts;
use crate::inventory::{Host, Inventory, TransportKind};
use crate::transport::{Cmd, Local, Output, SshMaster, SshOptions, SshProcesses, Transport, TransportError};

/// One host of the run.
pub struct HostHandle {
    /// Its inventory entry.
    pub host: Host,
    transport: Arc<dyn Transport>,
    /// Facts read at most once per run (per attempt for a retry, see [`HostHandle::afresh`]).
    pub facts: HostFacts,
    /// The host's MySQL connection, opened once per run.
    pub mysql: Arc<crate::probes::mysql::MysqlCache>,
    trace: Option<Arc<Mutex<std::fs::File>>>,
    started: Instant,
}

impl HostHandle {
    /// Runs a command on this host (bounded by `timeout`), recording it in the trace.
    /// A command the host's facts batch already ran for a step answers from its output.
    pub async fn run(&self, cmd: &Cmd, timeout: Duration) -> Result<Output, TransportError> {
        if let Some(out) = crate::facts::read_ahead(self, cmd, timeout).await {
            return Ok(out);
        }
        self.send(cmd, timeout).await
    }

    /// Sends a command to this host (bounded by `timeout`), recording it in the trace: the
    /// facts batch itself goes this way.
    pub(crate) async fn send(&self, cmd: &Cmd, timeout: Duration) -> Result<Output, TransportError> {
        let start = Instant::now();
        let result = self.transport.run(cmd, timeout).await;
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
                crate::inventory::secret::redact(&cmd.to_shell()).replace('\n', "\\n"),
            );
            if let Ok(mut f) = trace.lock() {
                let _ = f.write_all(line.as_bytes());
            }
        }
        result
    }

    /// Opens the connection now (the runner does this early, in parallel).
    pub async fn connect(&self) -> Result<(), TransportError> {
        self.transport.connect().await
    }

    /// The same host, connection and MySQL session, with no fact read yet: a retry's steps
    /// read through it, so they see the host as it is now rather than as the run's first
    /// read found it, while every other scenario keeps the run's facts.
    pub(crate) fn afresh(&self) -> HostHandle {
        HostHandle {
            host: self.host.clone(),
            transport: self.transport.clone(),
            facts: HostFacts::default(),
            mysql: self.mysql.clone(),
            trace: self.trace.clone(),
            started: self.started,
        }
    }
}

/// Every host of the inventory, by name.
pub struct HostPool {
    handles: BTreeMap<String, Arc<HostHandle>>,
    groups: BTreeMap<String, Vec<String>>,
    /// The run's SSH control directory (removed at the end).
    pub control_dir: Option<tempfile_dir::ControlDir>,
}

/// Where the control sockets live: a short per-run directory, removed when dropped.
pub mod tempfile_dir {
    use std::path::{Path, PathBuf};

    /// A per-run directory for SSH control sockets.
    #[derive(Debug)]
    pub struct ControlDir(PathBuf);

    impl ControlDir {
        /// Creates `/tmp/shakedown-<pid>-<n>` (short: unix socket paths are limited).
        pub fn create() -> std::io::Result<Self> {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let dir = std::env::temp_dir().join(format!(
                "sd-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir)?;
            Ok(ControlDir(dir))
        }

        /// The path.
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for ControlDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl HostPool {
    /// Handles for every host of `inventory`; nothing is contacted yet.
    pub fn new(inventory: &Inventory, trace: Option<PathBuf>) -> std::io::Result<Self> {
        let trace = match trace {
            Some(p) => Some(Arc::new(Mutex::new(std::fs::File::create(p)?))),
            None => None,
        };
        let needs_ssh = inventory.hosts.values().any(|h| h.transport == TransportKind::Ssh);
        let control_dir = if needs_ssh {
            Some(tempfile_dir::ControlDir::create()?)
        } else {
            None
        };
        let started = Instant::now();
        let mut handles = BTreeMap::new();
        for (name, host) in &inventory.hosts {
            let transport: Arc<dyn Transport> = match host.transport {
                TransportKind::Local => Arc::new(Local),
                TransportKind::Ssh => Arc::new(SshMaster::new(
                    host.clone(),
                    SshOptions {
                        control_dir: control_dir.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default(),
                    },
                )),
            };
            handles.insert(
                name.clone(),
                Arc::new(HostHandle {
                    host: host.clone(),
                    transport,
                    facts: HostFacts::default(),
                    mysql: Default::default(),
                    trace: trace.clone(),
                    started,
                }),
            );
        }
        let groups = inventory
            .groups
            .iter()
            .map(|(g, m)| (g.clone(), m.iter().cloned().collect()))
            .collect();
        Ok(HostPool {
            handles,
            groups,
            control_dir,
        })
    }

    /// The handle of an inventory host.
    pub fn get(&self, name: &str) -> Option<Arc<HostHandle>> {
        self.handles.get(name).cloned()
    }

    /// The hosts selected by a group name, host name or glob (as `@hosts:`), in order; a
    /// pattern that selects nothing as a whole is read as a comma list of such patterns
    /// (as lint reads it: `steps::arguments::resolve`).
    pub fn select(&self, pattern: &str) -> Result<Vec<Arc<HostHandle>>, String> {
        let mut names = self.select_whole(pattern);
        if names.is_empty() && pattern.contains(',') {
            for part in pattern.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                for name in self.select_whole(part) {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
        if names.is_empty() {
            return Err(format!("no host or group \"{pattern}\" in the inventory"));
        }
        Ok(names.iter().filter_map(|n| self.get(n)).collect())
    }

    fn select_whole(&self, pattern: &str) -> Vec<String> {
        if let Some(members) = self.groups.get(pattern) {
            members.clone()
        } else if self.handles.contains_key(pattern) {
            vec![pattern.to_string()]
        } else if let Ok(glob) = globset::Glob::new(pattern) {
            let m = glob.compile_matcher();
            self.handles
                .keys()
                .filter(|h| m.is_match(h.as_str()))
                .cloned()
                .collect()
        } else {
            Vec::new()
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
        // No connection is opened from now on; one being opened is waited for (bounded).
        futures::future::join_all(self.handles.values().map(|h| h.transport.settle())).await;
        // Found before any stop: a stopped master no longer shows its socket path.
        let left = self
            .control_dir
            .as_ref()
            .map_or_else(SshProcesses::none, |d| SshProcesses::find(d.path()));
        let stopped = async {
            futures::future::join_all(self.handles.values().map(|h| h.transport.close())).await;
            left.exited().await;
        };
        let _ = tokio::time::timeout(STOP_GRACE, stopped).await;
        // A master still carrying a command we stopped waiting for, an ssh still connecting.
        left.end().await;
        futures::future::join_all(self.handles.values().map(|h| h.mysql.close())).await;
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
