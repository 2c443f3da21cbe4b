//! The `ssh` processes of one run, so that none outlives it. Asking a master to stop over
//! its socket (what `openssh`'s `Session::close` and its `Drop` do, `-O stop`) is not
//! enough: a master still carrying a channel (a command we stopped waiting for at a
//! deadline or a signal) only stops listening, renames itself `ssh: [stopped mux]` and lives
//! until the remote command ends; an `ssh` still connecting when the run ends is no master
//! yet; and a master whose socket directory is gone cannot be asked at all.
//!
//! So the pool finds the run's processes by the control directory on their command line
//! (every `ssh` the run starts has `-S DIR/...`), before any stop hides it, pins each (a
//! pidfd on Linux: a signal can never reach a later process that reused the pid), gives
//! them a moment to exit after the stop, then sends SIGTERM and, if need be, SIGKILL. A
//! [`SshProcesses`] set dropped early (its future cut by a bound) kills what is left at once.
//! Finding processes reads `/proc`; where there is none, nothing is found and only the
//! stop applies.

use std::path::Path;
use std::time::Duration;

/// How long a master has to exit after SIGTERM before SIGKILL.
const TERM_WAIT: Duration = Duration::from_millis(300);

/// How often an exit is polled while waiting.
const POLL: Duration = Duration::from_millis(10);

/// One process of the run.
struct Proc {
    pid: libc::pid_t,
    /// A pidfd: signals and liveness go to this very process, never to a reused pid.
    fd: Option<std::os::fd::OwnedFd>,
}

impl Proc {
    fn alive(&self) -> bool {
        match &self.fd {
            Some(fd) => {
                let mut p = libc::pollfd {
                    fd: std::os::fd::AsRawFd::as_raw_fd(fd),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: poll(2) on one pollfd we own, timeout 0; a pidfd turns readable
                // when its process has exited.
                let n = unsafe { libc::poll(&mut p, 1, 0) };
                n == 0
            }
            // SAFETY: kill(2) with signal 0 only checks that the pid exists.
            None => (unsafe { libc::kill(self.pid, 0) }) == 0,
        }
    }

    fn signal(&self, sig: libc::c_int) {
        match &self.fd {
            #[cfg(target_os = "linux")]
            Some(fd) => {
                // SAFETY: pidfd_send_signal(2) on a pidfd we own, no siginfo, no flags.
                unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        std::os::fd::AsRawFd::as_raw_fd(fd),
                        sig,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    );
                }
            }
            _ => {
                // SAFETY: kill(2) on a pid found a moment ago with the run's control
                // directory on its command line; no memory is involved.
                unsafe {
                    libc::kill(self.pid, sig);
                }
            }
        }
    }
}

/// The run's `ssh` processes found at one moment; whatever is still alive when the set is
/// dropped is killed (SIGKILL).
pub(crate) struct SshProcesses(Vec<Proc>);

impl SshProcesses {
    /// Every `ssh` process whose command line names a path under `dir` (the run's control
    /// directory), pinned.
    pub(crate) fn find(dir: &Path) -> SshProcesses {
        let mut needle = dir.as_os_str().as_encoded_bytes().to_vec();
        needle.push(b'/');
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return SshProcesses(Vec::new());
        };
        let mut procs = Vec::new();
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<libc::pid_t>().ok()) else {
                continue;
            };
            if !names_dir(pid, &needle) {
                continue;
            }
            let fd = pidfd_open(pid);
            // Checked again once pinned: the pid may have been reused in between.
            if fd.is_some() && !names_dir(pid, &needle) {
                continue;
            }
            procs.push(Proc { pid, fd });
        }
        SshProcesses(procs)
    }

    /// No process (a run without SSH hosts).
    pub(crate) fn none() -> SshProcesses {
        SshProcesses(Vec::new())
    }

    /// How many processes were found.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none was found.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Resolves once every pinned process has exited.
    pub(crate) async fn exited(&self) {
        while self.0.iter().any(Proc::alive) {
            tokio::time::sleep(POLL).await;
        }
    }

    /// Ends what is still alive: SIGTERM, then SIGKILL after [`TERM_WAIT`].
    pub(crate) async fn end(self) {
        let alive: Vec<&Proc> = self.0.iter().filter(|p| p.alive()).collect();
        if alive.is_empty() {
            return;
        }
        for p in &alive {
            p.signal(libc::SIGTERM);
        }
        let _ = tokio::time::timeout(TERM_WAIT, self.exited()).await;
        // Drop kills whatever SIGTERM did not end.
    }

    /// Kills (SIGKILL) every `ssh` process of `dir` now; for paths that cannot wait.
    pub(crate) fn kill(dir: &Path) {
        drop(SshProcesses::find(dir));
    }
}

impl Drop for SshProcesses {
    fn drop(&mut self) {
        for p in self.0.iter().filter(|p| p.alive()) {
            p.signal(libc::SIGKILL);
        }
    }
}

/// Whether `pid` is an `ssh` process with an argument that starts with `needle`.
fn names_dir(pid: libc::pid_t, needle: &[u8]) -> bool {
    let base = Path::new("/proc").join(pid.to_string());
    let comm = std::fs::read(base.join("comm")).unwrap_or_default();
    if comm.strip_suffix(b"\n").unwrap_or(&comm) != b"ssh" {
        return false;
    }
    let args = std::fs::read(base.join("cmdline")).unwrap_or_default();
    args.split(|&b| b == 0).any(|a| a.starts_with(needle))
}

#[cfg(target_os = "linux")]
fn pidfd_open(pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open(2) with no flags; on success it returns a new descriptor that we
    // then own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: `fd` was just returned by the kernel and is owned by nobody else.
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
    None
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    use super::SshProcesses;

    /// A process named `ssh` (a copy of `sleep`) whose command line names the directory is
    /// found and ended; another `ssh` is left alone.
    #[tokio::test]
    async fn the_ssh_processes_naming_the_directory_are_found_and_ended() {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path().join("ssh");
        std::fs::copy("/bin/sleep", &ssh).unwrap();
        let control = dir.path().join("ctl");
        // argv[0] carries the path, as `-S DIR/master` does for a real master.
        let mut ours = Command::new(&ssh)
            .arg0(control.join("master"))
            .arg("30")
            .spawn()
            .unwrap();
        let mut other = Command::new(&ssh).arg("30").spawn().unwrap();
        let found = SshProcesses::find(&control);
        assert_eq!(found.len(), 1);
        found.end().await;
        assert!(!ours.wait().unwrap().success(), "ended by a signal");
        assert!(SshProcesses::find(&control).is_empty());
        assert!(other.try_wait().unwrap().is_none(), "another ssh is left alone");
        other.kill().unwrap();
        other.wait().unwrap();
    }
}
