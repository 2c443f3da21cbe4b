//! `--keep-connections DURATION` (issue 22, point 1) on this machine, without hosts: the
//! option parses like the other durations on `run`, `check` and `serve`; the kept sockets'
//! directory is created 0700, and one open to others (or not a directory) is refused with a
//! clear message before anything runs (exit 2; `check`: UNKNOWN); `keep_connections` in an
//! inventory is read and checked; `shakedown connections` lists nothing in an empty one.

use std::os::unix::fs::PermissionsExt;

use crate::util::{shakedown_in, suite};

const PASSING: &str = "Feature: F\n  Scenario: S\n    When I run \"true\"\n    Then the command should succeed\n";

/// A runtime directory of its own (`XDG_RUNTIME_DIR`), 0700 as systemd makes it.
fn runtime() -> tempfile::TempDir {
    let rt = tempfile::tempdir().expect("runtime dir");
    std::fs::set_permissions(rt.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    rt
}

#[test]
fn keep_connections_parses_and_creates_a_private_socket_directory() {
    let dir = suite(&[("f.feature", PASSING)]);
    let rt = runtime();
    let env = [("XDG_RUNTIME_DIR", rt.path().to_str().expect("utf-8"))];
    shakedown_in(dir.path(), &["run", "f.feature", "--keep-connections", "10m"], &env).assert_exit(0);
    let mode = std::fs::metadata(rt.path().join("shakedown"))
        .expect("created")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    shakedown_in(dir.path(), &["check", "f.feature", "--keep-connections", "30s"], &env)
        .assert_exit(0)
        .assert_contains("SHAKEDOWN OK");
    for bad in ["soon", "0s"] {
        let option = format!("--keep-connections={bad}");
        shakedown_in(dir.path(), &["run", "f.feature", &option], &env)
            .assert_exit(2)
            .assert_contains("--keep-connections <DURATION>");
        shakedown_in(dir.path(), &["serve", "f.feature", &option], &env).assert_exit(2);
    }
    shakedown_in(dir.path(), &["connections"], &env)
        .assert_exit(0)
        .assert_contains("no kept connection in");
}

#[test]
fn a_socket_directory_open_to_others_is_refused_before_anything_runs() {
    // The scenario would leave a file behind: it never runs.
    let feature = "Feature: F\n  Scenario: S\n    When I run \"touch ran\"\n";
    let dir = suite(&[("f.feature", feature)]);
    let rt = runtime();
    let sockets = rt.path().join("shakedown");
    std::fs::create_dir(&sockets).expect("mkdir");
    std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let env = [("XDG_RUNTIME_DIR", rt.path().to_str().expect("utf-8"))];
    let refused = format!("{} has mode 0755", sockets.display());
    shakedown_in(dir.path(), &["run", "f.feature", "--keep-connections", "10m"], &env)
        .assert_exit(2)
        .assert_contains(&refused)
        .assert_contains("chmod 700");
    shakedown_in(dir.path(), &["check", "f.feature", "--keep-connections", "10m"], &env)
        .assert_exit(3)
        .assert_contains(&refused);
    shakedown_in(
        dir.path(),
        &[
            "serve",
            "f.feature",
            "--keep-connections",
            "10m",
            "--listen",
            "127.0.0.1:0",
        ],
        &env,
    )
    .assert_exit(2)
    .assert_contains(&refused);
    shakedown_in(dir.path(), &["connections", "--close"], &env)
        .assert_exit(2)
        .assert_contains(&refused);
    assert!(!dir.path().join("ran").exists(), "nothing ran");
    // Another owner (checkable where the test runs as root, as in the lab's CI).
    // SAFETY: geteuid(2) cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        std::os::unix::fs::chown(&sockets, Some(65534), Some(65534)).expect("chown");
        shakedown_in(dir.path(), &["run", "f.feature", "--keep-connections", "10m"], &env)
            .assert_exit(2)
            .assert_contains("is owned by uid 65534, not by you (uid 0)");
    }
    // A symlink in its place (to a directory of someone else, say) is refused too.
    std::fs::remove_dir(&sockets).expect("rmdir");
    std::os::unix::fs::symlink("/tmp", &sockets).expect("symlink");
    shakedown_in(dir.path(), &["run", "f.feature", "--keep-connections", "10m"], &env)
        .assert_exit(2)
        .assert_contains("is not a directory");
    // Without the option (and no keep_connections) the directory is never looked at.
    shakedown_in(dir.path(), &["run", "f.feature"], &env).assert_exit(0);
}

#[test]
fn keep_connections_in_the_inventory_is_read_and_checked() {
    let rt = runtime();
    let env = [("XDG_RUNTIME_DIR", rt.path().to_str().expect("utf-8"))];
    let good = "[defaults]\nkeep_connections = \"10m\"\n\n[hosts.web1]\naddress = \"10.0.0.1\"\n";
    let bad = "[hosts.web1]\naddress = \"10.0.0.1\"\nkeep_connections = \"ten\"\n";
    let feature = "@hosts:web1\nFeature: F\n  Scenario: S\n    When I run \"true\"\n";
    let dir = suite(&[("f.feature", feature), ("good.toml", good), ("bad.toml", bad)]);
    shakedown_in(dir.path(), &["lint", "-i", "good.toml", "f.feature"], &env).assert_exit(0);
    shakedown_in(dir.path(), &["lint", "-i", "bad.toml", "f.feature"], &env)
        .assert_exit(2)
        .assert_contains("bad.toml:3:20: invalid keep_connections in [hosts.web1]");
    // An SSH host keeping its master: the directory is checked before it is contacted.
    let sockets = rt.path().join("shakedown");
    std::fs::create_dir(&sockets).expect("mkdir");
    std::fs::set_permissions(&sockets, std::fs::Permissions::from_mode(0o750)).expect("chmod");
    shakedown_in(dir.path(), &["run", "-i", "good.toml", "f.feature"], &env)
        .assert_exit(2)
        .assert_contains("has mode 0750");
}
