//! Where the control sockets live: a short per-run directory, removed when dropped.

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
