//! The SSH transport: one OpenSSH master connection per host for the whole run (the
//! `openssh` crate, native multiplexing), opened once and shared by every step on the host.
//! A failed connect is remembered, so every later step on that host fails at once with the
//! same "cannot connect" message instead of waiting again, until the runner forgets it
//! (`--until-pass`: the next attempt connects afresh; a live master is never replaced). At the end of the run the pool
//! settles every master (no new connection, one being opened is awaited), closes it, and
//! ends whatever `ssh` process is left ([`super::SshProcesses`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use openssh::{ControlPersist, KnownHosts, Session, SessionBuilder};
use openssh_mux_client::Connection;
use tokio::sync::{OnceCell, Semaphore};

use super::{Cmd, Output, Transport, TransportError, kept};
use crate::inventory::{Host, HostKeyChecking};

/// Concurrent commands per master; below sshd's default `MaxSessions` of 10.
const SESSIONS_PER_HOST: usize = 8;

/// SSH handshakes in progress at once, per core of the controller (SHAKEDOWN_HANDSHAKES
/// sets the run-wide number instead). A handshake is key-exchange CPU plus round trips:
/// the cap must stay above a usual fleet so latency-bound handshakes overlap (8 per core
/// made 4 of 20 hosts wait for a second wave: +0.5 s at +25 ms per packet), and below the
/// point where CPU-bound ones all finish late, past their connect timeout (measured on the
/// 200-host lab, default KEX: 32 per core failed 2 runs of 3 on the 5 s connect timeout,
/// 16 per core none).
const HANDSHAKES_PER_CORE: usize = 16;

/// The run-wide cap on handshakes in progress (time waiting here is not connect time).
fn handshakes() -> &'static Semaphore {
    static CAP: std::sync::OnceLock<Semaphore> = std::sync::OnceLock::new();
    CAP.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let n = std::env::var("SHAKEDOWN_HANDSHAKES").ok().and_then(|v| v.parse().ok());
        Semaphore::new(n.filter(|&n| n > 0).unwrap_or(HANDSHAKES_PER_CORE * cores))
    })
}

/// How long a master lives once it has no client: what is left of a run killed with
/// SIGKILL ends this long after it (a run that ends any other way ends its masters itself).
/// The run holds a client on every master ([`SshMaster`]'s lease), so it is never idle while
/// the run lives, whatever the time between commands.
const IDLE_EXIT: std::num::NonZeroUsize = std::num::NonZeroUsize::new(5).expect("5 is not zero");

/// How long the end of a run waits for a connection still being opened.
const OPEN_WAIT: Duration = Duration::from_secs(1);

/// How long asking a master to stop may take.
const STOP_WAIT: Duration = Duration::from_millis(500);

/// Run-wide SSH settings.
#[derive(Debug, Clone)]
pub(crate) struct SshOptions {
    /// Directory for this run's control sockets (short path: unix sockets are limited).
    pub control_dir: PathBuf,
    /// The run's masters to jump hosts, shared by the hosts behind them.
    pub jumps: Arc<JumpMasters>,
    /// The checked directory of kept masters ([`super::kept`]), when a host keeps its
    /// connection (`keep_connections`).
    pub kept_dir: Option<PathBuf>,
}

/// Where `host`'s master is kept between runs, and for how long idle; `None`: the run's own.
fn kept_slot(
    options: &SshOptions,
    host: &Host,
    slot: fn(&std::path::Path, &Host) -> kept::Slot,
) -> Option<(Duration, kept::Slot)> {
    match (host.keep_connections, &options.kept_dir) {
        (Some(d), Some(dir)) => Some((d, slot(dir, host))),
        _ => None,
    }
}

/// `ControlPersist` for a kept master: idle this long (whole seconds, at least 1).
fn persist_for(d: Duration) -> ControlPersist {
    let secs = (d.as_secs_f64().ceil() as usize).max(1);
    ControlPersist::IdleFor(std::num::NonZeroUsize::new(secs).unwrap_or(IDLE_EXIT))
}

/// One master connection per run to each jump host (per chain of hops), opened by the first
/// host behind it and shared by all of them: each host's hop is then a channel of that
/// connection (`ssh -W` over its control socket) rather than a login of its own, so a
/// bastion sees one handshake per run, not one per host (20 hosts behind one bastion: 20
/// handshakes on it at once, beyond the `MaxStartups 10` of a default sshd). The master is
/// detached from the openssh crate: it ends 5 s after its last channel (`IDLE_EXIT`), and
/// the pool ends it with the run's other ssh processes (its `-S` is in the control dir).
#[derive(Debug, Default)]
pub(crate) struct JumpMasters {
    /// By chain of hops and whether kept between runs (a kept one is never stopped here).
    masters: std::sync::Mutex<Vec<(JumpKey, Arc<JumpCell>)>>,
    /// Masters opened or tried so far: names each one's ssh options file and alias.
    opened: std::sync::atomic::AtomicUsize,
}

/// A chain of hops, and whether its master is kept between runs.
type JumpKey = (Vec<crate::inventory::JumpHost>, bool);

/// The control socket of one shared jump master, or why it could not be opened.
type JumpCell = OnceCell<Result<PathBuf, String>>;

impl JumpMasters {
    /// Asks every shared jump master to stop (after the hosts' masters, whose hops are its
    /// channels): it exits as soon as its last channel is gone, rather than an idle
    /// timeout later.
    pub(crate) async fn close(&self) {
        let cells: Vec<Arc<JumpCell>> = {
            let masters = self.masters.lock().unwrap_or_else(|e| e.into_inner());
            masters
                .iter()
                .filter(|((_, kept), _)| !kept)
                .map(|(_, cell)| cell.clone())
                .collect()
        };
        for cell in cells {
            if let Some(Ok(socket)) = cell.get() {
                let stop = async { Connection::connect(socket).await?.request_stop_listening().await };
                let _ = tokio::time::timeout(STOP_WAIT, stop).await;
            }
        }
    }

    /// The control socket of the shared master to `host`'s last jump host, opened now if
    /// it is not yet; the error is ssh's, as for the host's own connection.
    async fn socket(&self, options: &SshOptions, host: &Host) -> Result<PathBuf, String> {
        let keep = kept_slot(options, host, kept::jump_slot);
        let key = (host.proxy_jump.clone(), keep.is_some());
        let cell = {
            let mut masters = self.masters.lock().unwrap_or_else(|e| e.into_inner());
            match masters.iter().find(|(k, _)| *k == key) {
                Some((_, cell)) => cell.clone(),
                None => {
                    let cell = Arc::new(JumpCell::new());
                    masters.push((key, cell.clone()));
                    cell
                }
            }
        };
        let open = || {
            let n = self.opened.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            open_jump(&options.control_dir, n, host, keep)
        };
        cell.get_or_init(open).await.clone()
    }

    /// Forgets a failed connect to `host`'s jump host, so that the next host behind it
    /// tries again; a master that is open or being opened is kept (one per jump host).
    fn forget_failure(&self, host: &Host) {
        let mut masters = self.masters.lock().unwrap_or_else(|e| e.into_inner());
        for (_, cell) in masters.iter_mut().filter(|((hops, _), _)| *hops == host.proxy_jump) {
            if matches!(cell.get(), Some(Err(_))) {
                *cell = Arc::new(JumpCell::new());
            }
        }
    }
}

/// Opens the shared master to the last of `host`'s jump hosts (through the ones before it);
/// a kept one (`keep`) is resumed when live, else opened in its slot to outlive the run.
async fn open_jump(
    dir: &std::path::Path,
    n: usize,
    host: &Host,
    keep: Option<(Duration, kept::Slot)>,
) -> Result<PathBuf, String> {
    if let Some((_, slot)) = &keep {
        if let Some(session) = slot.resume().await {
            slot.used();
            return Ok(session.detach().0.into());
        }
        slot.create()
            .map_err(|e| format!("cannot create {}: {e}", slot.path.display()))?;
    }
    let (dir, name) = match &keep {
        Some((_, slot)) => (slot.path.as_path(), "jump".to_string()),
        None => (dir, format!("jump-{n}")),
    };
    let (config, alias) = super::ssh_config::write_jump(dir, &name, host)
        .map_err(|e| format!("cannot write the jump host's ssh options: {e}"))?;
    let last = host.proxy_jump.last().ok_or("no jump host")?;
    let timeout: Duration = host.proxy_jump.iter().map(|j| j.connect_timeout).sum();
    let mut b = SessionBuilder::default();
    b.control_directory(dir)
        .control_persist(
            keep.as_ref()
                .map_or(ControlPersist::IdleFor(IDLE_EXIT), |(d, _)| persist_for(*d)),
        )
        .connect_timeout(Duration::from_secs(timeout.as_secs_f64().ceil().max(1.0) as u64))
        .server_alive_interval(Duration::from_secs(5))
        .known_hosts_check(known_hosts(last.host_key_checking))
        .config_file(config);
    let session = b.connect_mux(&alias).await.map_err(|e| describe(&e))?;
    let (socket, _log) = session.detach();
    if let Some((_, slot)) = &keep {
        slot.opened();
    }
    Ok(socket.into())
}

fn known_hosts(policy: HostKeyChecking) -> KnownHosts {
    match policy {
        HostKeyChecking::Strict => KnownHosts::Strict,
        HostKeyChecking::AcceptNew => KnownHosts::Add,
        HostKeyChecking::Off => KnownHosts::Accept,
    }
}

/// The outcome of one connect of a host's master.
type ConnectCell = OnceCell<Result<(), TransportError>>;

/// One host's master connection, opened on first use (or early by [`Transport::connect`]).
pub(crate) struct SshMaster {
    host: Host,
    options: SshOptions,
    /// The connect's outcome, once known; replaced by an empty cell when a failed one is
    /// forgotten ([`Transport::forget_failed_connect`]).
    session: std::sync::Mutex<Arc<ConnectCell>>,
    /// The same session, taken out at close so it can be closed cleanly.
    live: std::sync::Mutex<Option<Arc<Session>>>,
    sessions: Semaphore,
    /// A control connection held open for the whole run: a master with a client is never
    /// idle, so its short `ControlPersist` ([`IDLE_EXIT`]) runs only once this is closed,
    /// by us or by the kernel when shakedown dies (even by SIGKILL).
    lease: std::sync::Mutex<Option<Connection>>,
    /// Set when the run ends: no connection is opened after it.
    closed: std::sync::atomic::AtomicBool,
    /// Where the master is kept between runs and how long idle (`keep_connections`).
    kept: Option<(Duration, kept::Slot)>,
    /// How a kept master came to be ("opened kept master", "reused kept master"), for `--trace`.
    note: std::sync::Mutex<Option<String>>,
}

impl SshMaster {
    /// A master for `host`, not yet connected.
    pub(crate) fn new(host: Host, options: SshOptions) -> Self {
        let kept = kept_slot(&options, &host, kept::host_slot);
        SshMaster {
            kept,
            note: Default::default(),
            host,
            options,
            session: Default::default(),
            live: Default::default(),
            sessions: Semaphore::new(SESSIONS_PER_HOST),
            lease: Default::default(),
            closed: Default::default(),
        }
    }

    /// A connect error; behind jump hosts it names them, so every host behind a dead
    /// bastion says which bastion.
    fn connect_error(&self, reason: impl Into<String>) -> TransportError {
        let mut endpoint = self.host.endpoint();
        for (i, hop) in self.host.proxy_jump.iter().enumerate() {
            let sep = if i == 0 { " through jump host " } else { ", then " };
            endpoint.push_str(&format!("{sep}{} ({})", hop.name, hop.endpoint()));
        }
        TransportError::Connect {
            host: self.host.name.clone(),
            endpoint,
            reason: reason.into(),
        }
    }

    async fn open(&self) -> Result<(), TransportError> {
        let started = std::time::Instant::now();
        if let Some((_, slot)) = &self.kept
            && let Some(session) = slot.resume().await
            && let Ok(lease) = Connection::connect(session.control_socket()).await
        {
            // A live master of the same settings: no handshake. Resumed, so dropping it
            // never stops it: it ends on its own ControlPersist.
            if self.is_closed() {
                return Err(self.ended());
            }
            self.noted(format!("reused kept master {}", slot.path.display()), started);
            *self.live.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(session));
            *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Some(lease);
            return Ok(());
        }
        let _handshake = handshakes()
            .acquire()
            .await
            .map_err(|e| self.connect_error(e.to_string()))?;
        if self.is_closed() {
            return Err(self.ended());
        }
        let h = &self.host;
        let dir = match &self.kept {
            Some((_, slot)) => {
                slot.create()
                    .map_err(|e| self.connect_error(format!("cannot create {}: {e}", slot.path.display())))?;
                slot.path.as_path()
            }
            None => self.options.control_dir.as_path(),
        };
        let persist = self
            .kept
            .as_ref()
            .map_or(ControlPersist::IdleFor(IDLE_EXIT), |(d, _)| persist_for(*d));
        let mut b = SessionBuilder::default();
        b.port(h.port)
            .control_directory(dir)
            .control_persist(persist)
            // openssh passes whole seconds: round up so 900 ms does not become "no timeout".
            .connect_timeout(Duration::from_secs(
                h.connect_timeout.as_secs_f64().ceil().max(1.0) as u64
            ))
            .server_alive_interval(Duration::from_secs(5))
            .known_hosts_check(known_hosts(h.host_key_checking));
        if let Some(user) = &h.user {
            b.user(user.clone());
        }
        if let Some(key) = &h.identity_file {
            b.keyfile(key);
        }
        if let Some(kh) = &h.known_hosts_file {
            b.user_known_hosts_file(kh);
        }
        // Through jump hosts, each hop's handshake comes first, within its own timeout.
        let hops: Duration = h.proxy_jump.iter().map(|j| j.connect_timeout).sum();
        let deadline = h.connect_timeout + hops + Duration::from_secs(3);
        let connect = async {
            let jump = match h.proxy_jump.is_empty() {
                true => None,
                false => Some(self.options.jumps.socket(&self.options, h).await?),
            };
            let config = super::ssh_config::write(dir, h, jump.as_deref());
            if let Some(file) = config.map_err(|e| format!("cannot write its ssh options: {e}"))? {
                b.config_file(file);
            }
            // The inventory validated the address (no leading '-', no spaces), so it can
            // only be a destination, never an option.
            let mut session = b.connect_mux(&h.address).await.map_err(|e| describe(&e))?;
            if let Some((_, slot)) = &self.kept {
                // Detached and resumed: dropping it never stops the master.
                let (ctl, log) = session.detach();
                session = Session::resume_mux(ctl, log);
                slot.opened();
            }
            match Connection::connect(session.control_socket()).await {
                Ok(lease) => Ok((session, lease)),
                Err(e) => {
                    let _ = tokio::time::timeout(STOP_WAIT, session.close()).await;
                    Err(format!("the master ended before its first use: {e}"))
                }
            }
        };
        match tokio::time::timeout(deadline, connect).await {
            Ok(Ok((session, lease))) if self.is_closed() => {
                // The run ended while this master was being opened: nothing else will close it.
                drop(lease);
                if self.kept.is_none() {
                    let _ = tokio::time::timeout(STOP_WAIT, session.close()).await;
                }
                Err(self.ended())
            }
            Ok(Ok((session, lease))) => {
                // Only kept masters are noted: a run without them opens every master (and
                // the trace keeps one line per command).
                if let Some((_, slot)) = &self.kept {
                    self.noted(format!("opened kept master {}", slot.path.display()), started);
                }
                let session = Arc::new(session);
                *self.live.lock().unwrap_or_else(|e| e.into_inner()) = Some(session);
                *self.lease.lock().unwrap_or_else(|e| e.into_inner()) = Some(lease);
                Ok(())
            }
            Ok(Err(e)) => Err(self.connect_error(e)),
            Err(_) => Err(self.connect_error(format!("timed out after {}", humantime::format_duration(deadline)))),
        }
    }

    /// Records how the master came to be, for `--trace`.
    fn noted(&self, how: String, started: std::time::Instant) {
        let line = format!("{how} in {:.3}s", started.elapsed().as_secs_f64());
        *self.note.lock().unwrap_or_else(|e| e.into_inner()) = Some(line);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn ended(&self) -> TransportError {
        self.connect_error("the run has ended")
    }

    /// The current connect's cell.
    fn cell(&self) -> Arc<ConnectCell> {
        self.session.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Connects unless a connect has already ended (its outcome) or is under way (awaited).
    async fn connected(&self) -> Result<(), TransportError> {
        self.cell().get_or_init(|| self.open()).await.clone()
    }

    async fn session(&self) -> Result<Arc<Session>, TransportError> {
        self.connected().await?;
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| self.connect_error("connection already closed"))
    }
}

fn describe(e: &openssh::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    clean_ssh_message(&text)
}

/// ssh's error text on one line, without its banner lines of `@` (a changed host key
/// prints three of them around "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!").
fn clean_ssh_message(text: &str) -> String {
    text.lines()
        .map(|l| l.trim_matches(|c: char| c == '@' || c.is_whitespace()))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The remote command line: `cmd` bounded by `timeout` on the host when the host has it,
/// so a command we stopped waiting for does not keep running there.
fn remote_line(cmd: &Cmd, timeout: Duration) -> String {
    let secs = timeout.as_secs_f64().ceil().max(1.0) as u64;
    super::bounded(&cmd.to_shell(), secs, true)
}

impl Transport for SshMaster {
    fn run<'a>(&'a self, cmd: &'a Cmd, timeout: Duration) -> BoxFuture<'a, Result<Output, TransportError>> {
        Box::pin(async move {
            let session = self.session().await?;
            let _permit = self
                .sessions
                .acquire()
                .await
                .map_err(|e| TransportError::Failed(e.to_string()))?;
            let line = remote_line(cmd, timeout);
            let run = async {
                let Some(input) = cmd.input() else {
                    return session.raw_command(&line).stdin(openssh::Stdio::null()).output().await;
                };
                let mut child = session
                    .raw_command(&line)
                    .stdin(openssh::Stdio::piped())
                    .stdout(openssh::Stdio::piped())
                    .stderr(openssh::Stdio::piped())
                    .spawn()
                    .await?;
                if let Some(mut stdin) = child.stdin().take() {
                    use tokio::io::AsyncWriteExt;
                    // One line; the pipe closes when `stdin` drops (end of input).
                    let _ = stdin.write_all(format!("{}\n", input.expose()).as_bytes()).await;
                }
                child.wait_with_output().await
            };
            match tokio::time::timeout(timeout, run).await {
                Ok(Ok(out)) => Ok(Output {
                    status: out.status.code(),
                    stdout: out.stdout,
                    stderr: out.stderr,
                }),
                Ok(Err(openssh::Error::Remote(e))) if e.kind() == std::io::ErrorKind::NotFound => Ok(Output {
                    status: Some(127),
                    stdout: Vec::new(),
                    stderr: format!("{}: command not found", cmd.program()).into_bytes(),
                }),
                Ok(Err(e)) => Err(TransportError::Failed(format!(
                    "ssh to {}: {}",
                    self.host.name,
                    describe(&e)
                ))),
                Err(_) => Err(TransportError::Timeout(timeout)),
            }
        })
    }

    fn connect(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(self.connected())
    }

    fn refresh(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.forget_failed_connect();
            let live = self.live.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let Some(session) = live else { return };
            if matches!(tokio::time::timeout(STOP_WAIT, session.check()).await, Ok(Ok(()))) {
                return;
            }
            // The master is gone (killed, or its host rebooted): the next command opens a
            // fresh one.
            drop(self.lease.lock().unwrap_or_else(|e| e.into_inner()).take());
            drop(self.live.lock().unwrap_or_else(|e| e.into_inner()).take());
            *self.session.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(ConnectCell::new());
        })
    }

    fn take_note(&self) -> Option<String> {
        self.note.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn forget_failed_connect(&self) {
        if self.is_closed() {
            return;
        }
        let mut cell = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(cell.get(), Some(Err(_))) {
            // Failed: no master is live (a live one is only ever kept after a success).
            *cell = Arc::new(ConnectCell::new());
            if !self.host.proxy_jump.is_empty() {
                self.options.jumps.forget_failure(&self.host);
            }
        }
    }

    fn settle(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
            // Not opened yet: never will be. Being opened: wait for it (bounded).
            let never = async { Err(self.ended()) };
            let _ = tokio::time::timeout(OPEN_WAIT, self.cell().get_or_init(|| never)).await;
        })
    }

    /// Asks the master to stop (an idle one exits at once). A master still carrying a
    /// command we stopped waiting for only stops listening: the pool ends it afterwards.
    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
            // Released first: a stopped master waits for every client, this one included.
            drop(self.lease.lock().unwrap_or_else(|e| e.into_inner()).take());
            if let Some((_, slot)) = &self.kept {
                // Kept: left to its ControlPersist (the resumed session's drop never stops it).
                if self.live.lock().unwrap_or_else(|e| e.into_inner()).take().is_some() {
                    slot.used();
                }
                return;
            }
            let taken = self.live.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(session) = taken {
                // Shared: a command future not dropped yet still holds it (its drop then
                // asks the master to stop; the pool ends the master anyway).
                if let Ok(s) = Arc::try_unwrap(session) {
                    let _ = tokio::time::timeout(STOP_WAIT, s.close()).await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_key_banner_is_dropped_and_the_message_kept_on_one_line() {
        let text = "failed to connect to the remote host: @@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@@@@@@\nIT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\nHost key verification failed.\n";
        assert_eq!(
            super::clean_ssh_message(text),
            "failed to connect to the remote host: WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY! Host key verification failed."
        );
    }
}
