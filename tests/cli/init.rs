//! `shakedown init` (issue 7, item 5): the suite it writes lints clean as it is and
//! lint changes nothing; it never overwrites (exit 2 naming the file, nothing written).

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::shakedown_in;

/// Every file under `dir` with its content.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir").display().to_string();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

#[test]
fn init_writes_a_suite_that_lints_clean_unchanged() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = shakedown_in(tmp.path(), &["init", "suite"], &[]);
    out.assert_exit(0).assert_contains("cd suite && shakedown lint\n");
    let dir = tmp.path().join("suite");
    let before = snapshot(&dir);
    for family in ["command", "network", "system", "http", "haproxy", "mysql"] {
        assert!(
            before.contains_key(&format!("features/{family}.feature")),
            "{family}: {before:?}"
        );
    }
    for file in [
        "inventory.toml",
        "steps/example.toml",
        "ci/Jenkinsfile",
        "ci/gitlab-ci.yml",
        "ci/crontab",
        "ci/shakedown.service",
        "ci/shakedown.timer",
        "ci/nagios/shakedown.cfg",
        "ci/icinga2/shakedown.conf",
    ] {
        assert!(before.contains_key(file), "{file}: {:?}", before.keys());
    }
    // ./inventory.toml is the default inventory, ./steps the default custom steps.
    let lint = shakedown_in(&dir, &["lint"], &[]);
    lint.assert_exit(0)
        .assert_contains("steps/example.toml:4: \"the app should be at revision {string}\"")
        .assert_contains("ok: 6 features, 11 scenarios, 20 runs on 5 hosts");
    assert_eq!(snapshot(&dir), before, "lint changed nothing");
}

#[test]
fn init_into_the_current_directory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    shakedown_in(tmp.path(), &["init"], &[]).assert_exit(0);
    shakedown_in(tmp.path(), &["lint", "-i", "inventory.toml"], &[]).assert_exit(0);
    // Without ./inventory.toml only this machine is known: the @hosts: tags are errors.
    std::fs::remove_file(tmp.path().join("inventory.toml")).expect("inventory written");
    shakedown_in(tmp.path(), &["lint"], &[])
        .assert_exit(2)
        .assert_contains("unknown host or group \"web\"");
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    shakedown_in(tmp.path(), &["init", "suite"], &[]).assert_exit(0);
    let dir = tmp.path().join("suite");
    std::fs::write(dir.join("features/http.feature"), "Feature: mine\n").expect("edit");
    let before = snapshot(&dir);
    let again = shakedown_in(tmp.path(), &["init", "suite"], &[]);
    again
        .assert_exit(2)
        .assert_contains("suite/features/http.feature: already exists");
    assert_eq!(snapshot(&dir), before, "nothing overwritten");

    // One file of the user's in an otherwise empty directory: refused, nothing else written.
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("features")).expect("mkdir");
    std::fs::write(other.join("features/mysql.feature"), "Feature: mine\n").expect("write");
    let out = shakedown_in(tmp.path(), &["init", "other"], &[]);
    out.assert_exit(2)
        .assert_contains("other/features/mysql.feature: already exists");
    assert_eq!(snapshot(&other).len(), 1, "{:?}", snapshot(&other).keys());
}

#[test]
fn init_on_a_regular_file_says_the_target_is_a_file_not_a_directory() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("afile"), "mine\n").expect("write");
    let out = shakedown_in(tmp.path(), &["init", "afile"], &[]);
    out.assert_exit(2).assert_contains(
        "error: afile: is a file, not a directory: init writes a suite into a new or existing directory",
    );
    assert!(!out.all().contains("File exists"), "{}", out.all());
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("afile")).expect("kept"),
        "mine\n"
    );

    // A file where init needs a directory inside the suite: named the same way.
    std::fs::create_dir(tmp.path().join("suite")).expect("mkdir");
    std::fs::write(tmp.path().join("suite/features"), "mine\n").expect("write");
    shakedown_in(tmp.path(), &["init", "suite"], &[])
        .assert_exit(2)
        .assert_contains("error: suite/features: is a file, not a directory");
    assert_eq!(snapshot(&tmp.path().join("suite")).len(), 1, "nothing written");
}
