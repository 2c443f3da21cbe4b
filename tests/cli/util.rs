//! Helpers for the integration tests: run the real binary, write temp suites.
#![allow(dead_code, reason = "shared test helpers: each test binary uses a subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What a run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code, printing the output when it differs.
    #[track_caller]
    pub fn assert_exit(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the output contains `text`.
    #[track_caller]
    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(
            self.all().contains(text),
            "expected {text:?} in output:\n{}",
            self.all()
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `shakedown ARGS` from the crate root with no inherited inventory.
pub fn shakedown(args: &[&str]) -> Run {
    shakedown_in(&root(), args, &[])
}

/// Runs `shakedown ARGS` in `dir` with extra environment variables.
pub fn shakedown_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shakedown"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SHAKEDOWN_INVENTORY")
        .env("NO_COLOR", "1");
    // Each run its own default state (`--state`): a first run, whatever other tests ran
    // on the same suite before (and never the machine's own ~/.local/state).
    let state_home = tempfile::tempdir().expect("state home");
    cmd.env("XDG_STATE_HOME", state_home.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the shakedown binary runs").into()
}

/// A default state directory (`XDG_STATE_HOME`) of its own for one run started by hand
/// (`Command`): under the target directory, never the machine's ~/.local/state, and new
/// each call, so every run is a first run (see [`shakedown_in`]).
pub fn state_home() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("state-home/{}-{n}", std::process::id()))
}

/// A temp dir holding the given files (path, content).
pub fn suite(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    dir
}
