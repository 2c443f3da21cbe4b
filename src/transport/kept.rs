//! Kept masters (`keep_connections`, `--keep-connections`): SSH masters that outlive the
//! run (OpenSSH's `ControlPersist`), so that the next run to the same host with the same
//! connection settings skips the key exchange.
//!
//! A control socket is a shell on its host for whoever can open it, so kept sockets live in
//! one directory of the running user, mode 0700 (`$XDG_RUNTIME_DIR/shakedown/`, else
//! `~/.cache/shakedown/`), never in a shared `/tmp` path; a directory with a wider mode or
//! another owner is refused ([`socket_dir`]). Each connection gets a slot there, named by a
//! hash of every connection setting ([`slot_name`]): a run with another key, user, port,
//! jump chain, host-key policy, known-hosts file or ssh_config never finds a master
//! authenticated otherwise. `become` is not part of it: it is applied per command, on top
//! of the connection. A slot holds the master's socket (in the openssh crate's
//! `.ssh-connection*` directory), its ssh options file and a sidecar `info` (host name,
//! settings summary, when opened: never a secret) for `shakedown connections`.
//!
//! Kept masters live outside the run's control directory, so the run's end cleanup
//! ([`super::SshProcesses`]) never finds them; they end on their own `DURATION` idle.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use openssh::Session;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::inventory::Host;

/// How long checking that a kept master is alive may take (a local socket round trip).
const CHECK_WAIT: Duration = Duration::from_secs(1);

/// The directory of kept sockets, created 0700 if missing; refused (with what to do) when
/// it is a symlink, not a directory, not owned by the running user, or open to group or
/// others.
pub(crate) fn socket_dir() -> Result<PathBuf, String> {
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d).join("shakedown"),
        _ => {
            let home = std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .ok_or("cannot keep connections: neither XDG_RUNTIME_DIR nor HOME is set")?;
            PathBuf::from(home).join(".cache/shakedown")
        }
    };
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot keep connections: cannot create {}: {e}", parent.display()))?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot keep connections: cannot create {}: {e}", dir.display())),
    }
    check_private(&dir)?;
    Ok(dir)
}

/// `dir` is a real directory of the running user that nobody else can enter.
fn check_private(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("cannot keep connections: {shown}: {e}"))?;
    if !meta.file_type().is_dir() {
        return Err(format!(
            "cannot keep connections: {shown} is not a directory (a symlink or a file): remove it, shakedown creates it with mode 0700"
        ));
    }
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "cannot keep connections: {shown} is owned by uid {}, not by you (uid {me}): its control sockets would be a shell on your hosts for another user; remove it, shakedown creates it with mode 0700",
            meta.uid()
        ));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "cannot keep connections: {shown} has mode {mode:04o}: group or others could open its control sockets, each a shell on its host; make it 0700 (chmod 700 {shown})"
        ));
    }
    Ok(())
}

/// Every connection setting of `host`, in one line: what a kept master must match to be
/// reused (never a secret: paths, names, numbers).
fn settings(host: &Host) -> String {
    format!(
        "v1 user={:?} address={:?} port={} identity_file={:?} known_hosts_file={:?} host_key_checking={:?} ssh_config={:?} ssh_options={:?} proxy_jump={:?}",
        host.user,
        host.address,
        host.port,
        host.identity_file,
        host.known_hosts_file,
        host.host_key_checking,
        host.ssh_config,
        host.ssh_options,
        host.proxy_jump,
    )
}

/// The slot name of a connection: 24 hex digits of the SHA-256 of its settings (short, as
/// unix socket paths are limited to about 100 bytes).
fn slot_name(kind: &str, settings: &str) -> String {
    let digest = sha2::Sha256::digest(format!("{kind}\n{settings}").as_bytes());
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// The slot of `host`'s own master.
pub(crate) fn host_slot(dir: &Path, host: &Host) -> Slot {
    let settings = settings(host);
    Slot {
        path: dir.join(slot_name("host", &settings)),
        info: Info {
            host: host.name.clone(),
            endpoint: host.endpoint(),
            kind: "host".into(),
            settings,
            opened: 0,
        },
    }
}

/// The slot of the master to `host`'s last jump host (through the ones before it).
pub(crate) fn jump_slot(dir: &Path, host: &Host) -> Slot {
    let settings = format!("{:?}", host.proxy_jump);
    let last = host.proxy_jump.last();
    Slot {
        path: dir.join(slot_name("jump", &settings)),
        info: Info {
            host: last.map(|j| j.name.clone()).unwrap_or_default(),
            endpoint: last.map(|j| j.endpoint()).unwrap_or_default(),
            kind: "jump host".into(),
            settings,
            opened: 0,
        },
    }
}

/// The sidecar of a slot: what `shakedown connections` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Info {
    /// The inventory host (or jump host) name.
    pub host: String,
    /// `address:port`.
    pub endpoint: String,
    /// "host" or "jump host".
    pub kind: String,
    /// The connection settings the slot's name is the hash of.
    pub settings: String,
    /// When its master was opened (seconds since the epoch).
    pub opened: u64,
}

/// Where one connection's kept master lives.
pub(crate) struct Slot {
    /// The slot directory (0700, in the socket directory).
    pub path: PathBuf,
    info: Info,
}

impl Slot {
    /// Creates the slot directory (0700) if missing.
    pub(crate) fn create(&self) -> std::io::Result<()> {
        match std::fs::DirBuilder::new().mode(0o700).create(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    }

    /// A live master of this slot, resumed (its socket answers within a second); dead ones
    /// (a socket nobody listens on: the master was killed, or ended) are removed.
    pub(crate) async fn resume(&self) -> Option<Session> {
        for dir in master_dirs(&self.path) {
            let socket = dir.join("master");
            if !socket.exists() {
                // Being opened by another run, or ended on its idle timeout: an old one goes.
                if modified_before(&dir.join("log"), Duration::from_secs(60)) {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                continue;
            }
            let session = Session::resume_mux(socket.into(), Some(dir.join("log").into()));
            match tokio::time::timeout(CHECK_WAIT, session.check()).await {
                Ok(Ok(())) => return Some(session),
                // Refused: nobody listens (the master is dead).
                Ok(Err(_)) => {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                // Slow to answer (a loaded machine): neither used nor removed, as another
                // run may be using it.
                Err(_) => {}
            }
        }
        None
    }

    /// Records the sidecar once a master is opened.
    pub(crate) fn opened(&self) {
        let mut info = self.info.clone();
        info.opened = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Ok(text) = serde_json::to_string(&info) {
            let _ = std::fs::write(self.path.join("info"), text);
        }
    }

    /// Marks the slot used now (the idle time `shakedown connections` shows).
    pub(crate) fn used(&self) {
        let info = self.path.join("info");
        if let Ok(f) = std::fs::File::options().append(true).open(&info) {
            let _ = f.set_modified(SystemTime::now());
        }
    }
}

/// The openssh crate's master directories (`.ssh-connection*`) in a slot.
fn master_dirs(slot: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(slot) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".ssh-connection"))
        .map(|e| e.path())
        .collect()
}

fn modified_before(path: &Path, age: Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|e| e > age)
}

/// One kept master, as `shakedown connections` lists it.
#[derive(Debug)]
pub(crate) struct Kept {
    /// Its sidecar.
    pub info: Info,
    /// Since its last use by a run.
    pub idle: Duration,
    /// Whether its master answered.
    pub live: bool,
    slot: PathBuf,
}

/// Every slot of the socket directory, with whether its master is live.
pub(crate) async fn list(dir: &Path) -> Vec<Kept> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut kept = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let Some(info) = std::fs::read_to_string(path.join("info"))
            .ok()
            .and_then(|t| serde_json::from_str::<Info>(&t).ok())
        else {
            continue;
        };
        let idle = std::fs::metadata(path.join("info"))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        let slot = Slot {
            path: path.clone(),
            info: info.clone(),
        };
        let live = slot.resume().await.is_some();
        if !live && master_dirs(&path).is_empty() {
            // Ended on its idle timeout: listed once more as gone, and its slot removed.
            let _ = std::fs::remove_dir_all(&path);
        }
        kept.push(Kept {
            info,
            idle,
            live,
            slot: path,
        });
    }
    kept.sort_by(|a, b| (&a.info.host, &a.info.kind).cmp(&(&b.info.host, &b.info.kind)));
    kept
}

impl Kept {
    /// Asks its master to stop (it exits once the runs using it are done) and removes the slot.
    pub(crate) async fn close(&self) {
        for dir in master_dirs(&self.slot) {
            let stop = async {
                openssh_mux_client::Connection::connect(&dir.join("master"))
                    .await?
                    .request_stop_listening()
                    .await
            };
            let _ = tokio::time::timeout(CHECK_WAIT, stop).await;
        }
        let _ = std::fs::remove_dir_all(&self.slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_key_port_or_jump_is_another_slot_and_become_is_not() {
        let mut h = Host::local("web1");
        h.address = "10.0.0.1".into();
        let dir = Path::new("/d");
        let base = host_slot(dir, &h).path;
        let mut key = h.clone();
        key.identity_file = Some("/k2".into());
        assert_ne!(host_slot(dir, &key).path, base);
        let mut port = h.clone();
        port.port = 2222;
        assert_ne!(host_slot(dir, &port).path, base);
        let mut kh = h.clone();
        kh.known_hosts_file = Some("/kh".into());
        assert_ne!(host_slot(dir, &kh).path, base);
        let mut b = h.clone();
        b.become_as = Some(crate::inventory::Become {
            method: crate::inventory::BecomeMethod::Sudo,
            user: "root".into(),
            password: None,
        });
        b.name = "other-name".into();
        assert_eq!(host_slot(dir, &b).path, base);
    }

    #[test]
    fn a_directory_open_to_others_is_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = check_private(d.path()).unwrap_err();
        assert!(e.contains("mode 0755") && e.contains("chmod 700"), "{e}");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        check_private(d.path()).unwrap();
    }
}
