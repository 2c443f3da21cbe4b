use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::suite::sample;

fn unit(path: &str, name: &str, line: usize, host: &str) -> Arc<Unit> {
    let one = sample::scenario(name, line, Vec::new());
    sample::unit(&sample::feature(path, "Web", vec![one]), 0, host)
}

fn result(unit: &Arc<Unit>, status: UnitStatus) -> Arc<UnitResult> {
    Arc::new(UnitResult {
        unit: unit.clone(),
        status,
        steps: Vec::new(),
        attempts: 1,
        duration: Duration::ZERO,
        earlier: Vec::new(),
        converging: None,
        since: None,
    })
}

fn at(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

#[test]
fn compare_says_new_still_failing_recovered_and_passing() {
    let (s, e) = compare(None, false, at(100));
    assert_eq!(s, Since::NewFailure);
    assert_eq!((e.passed, e.since), (false, 100));
    let (s, e) = compare(Some(&e), false, at(200));
    assert_eq!(s, Since::StillFailing { since: at(100) });
    assert_eq!((e.since, e.seen), (100, 200));
    let (s, e) = compare(Some(&e), true, at(300));
    assert_eq!(s, Since::Recovered { failing_since: at(100) });
    assert_eq!((e.passed, e.since), (true, 300));
    let (s, _) = compare(Some(&e), true, at(400));
    assert_eq!(s, Since::Passing { since: at(300) });
    assert_eq!(compare(None, true, at(5)).0, Since::Passing { since: at(5) });
}

#[test]
fn the_key_ignores_the_line_but_not_the_title_nor_the_host() {
    let a = key(&unit("web.feature", "nginx runs", 3, "web1"));
    assert_eq!(a, key(&unit("web.feature", "nginx runs", 12, "web1")), "a line moved");
    assert_ne!(a, key(&unit("web.feature", "nginx runs", 3, "web2")));
    assert_ne!(a, key(&unit("web.feature", "haproxy runs", 3, "web1")));
    assert_ne!(a, key(&unit("db.feature", "nginx runs", 3, "web1")));
}

#[test]
fn a_file_keeps_history_across_runs_and_pairs_outside_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.json");
    let web1 = unit("web.feature", "nginx runs", 3, "web1");
    let web2 = unit("web.feature", "nginx runs", 3, "web2");
    let (mut l, w) = Ledger::open(&file);
    assert!(w.is_empty(), "{w:?}");
    let run1 = [result(&web1, UnitStatus::Failed), result(&web2, UnitStatus::Passed)];
    assert_eq!(l.since(&run1[0], at(10)), None, "the first run has no last run");
    assert!(l.record(&run1, at(10)).is_empty());
    // A second run of web1 only (a --hosts run): web2's history stays.
    let (mut l, _) = Ledger::open(&file);
    let run2 = [result(&web1, UnitStatus::Failed)];
    assert_eq!(l.since(&run2[0], at(20)), Some(Since::StillFailing { since: at(10) }));
    l.record(&run2, at(20));
    let (l, _) = Ledger::open(&file);
    assert_eq!(
        l.since(&result(&web2, UnitStatus::Passed), at(30)),
        Some(Since::Passing { since: at(10) })
    );
    assert_eq!(
        l.since(&result(&web1, UnitStatus::Passed), at(30)),
        Some(Since::Recovered { failing_since: at(10) })
    );
    // A pair added to a suite with a history is new when it fails.
    let web3 = unit("web.feature", "nginx runs", 3, "web3");
    assert_eq!(
        l.since(&result(&web3, UnitStatus::Failed), at(30)),
        Some(Since::NewFailure)
    );
    // A unit not run says nothing and changes nothing.
    assert_eq!(l.since(&result(&web1, UnitStatus::Skipped), at(30)), None);
    let text = std::fs::read_to_string(&file).expect("written");
    assert!(text.contains("\"version\": 1"), "{text}");
}

#[test]
fn a_corrupt_file_is_set_aside_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.json");
    std::fs::write(&file, "{\"version\": 1, \"pairs\": {\"x\": ").expect("write");
    let (mut l, w) = Ledger::open(&file);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("not valid JSON") && w[0].contains("s.json.corrupt"),
        "{w:?}"
    );
    assert!(dir.path().join("s.json.corrupt").is_file());
    let web1 = unit("web.feature", "nginx runs", 3, "web1");
    let r = [result(&web1, UnitStatus::Failed)];
    assert_eq!(l.since(&r[0], at(1)), None, "a new history");
    assert!(l.record(&r, at(1)).is_empty());
    let (_, w) = Ledger::open(&file);
    assert!(w.is_empty(), "the new file is valid: {w:?}");
}

#[test]
fn another_version_is_set_aside_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.json");
    std::fs::write(&file, "{\"version\": 99, \"pairs\": {}}").expect("write");
    let (_, w) = Ledger::open(&file);
    assert!(w[0].contains("version 99"), "{w:?}");
    assert!(!file.exists() && dir.path().join("s.json.corrupt").is_file());
}

#[test]
fn an_unwritable_directory_is_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").expect("write");
    let file = blocker.join("s.json");
    let (mut l, w) = Ledger::open(&file);
    assert!(w.iter().all(|w| w.contains("cannot read")), "{w:?}");
    let web1 = unit("web.feature", "nginx runs", 3, "web1");
    let w = l.record(&[result(&web1, UnitStatus::Failed)], at(1));
    assert!(w.len() == 1 && w[0].contains("not saved"), "{w:?}");
}

#[test]
fn concurrent_writers_leave_a_valid_file_with_every_pair() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.json");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let file = file.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let u = unit("web.feature", &format!("scenario {t}"), 3, &format!("web{i}"));
                    let (mut l, w) = Ledger::open(&file);
                    assert!(w.is_empty(), "{w:?}");
                    let w = l.record(&[result(&u, UnitStatus::Failed)], at(1));
                    assert!(w.is_empty(), "{w:?}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no panic");
    }
    let stored: Stored = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("valid");
    assert_eq!(stored.pairs.len(), 80, "no run's pairs lost");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_default_file_is_named_from_the_suite_the_inventory_and_the_shard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let feats = dir.path().join("features");
    std::fs::create_dir(&feats).expect("mkdir");
    let inv = dir.path().join("prod.toml");
    let home = std::env::var_os("XDG_STATE_HOME");
    let a = default_path(std::slice::from_ref(&feats), Some(&inv), None);
    let b = default_path(std::slice::from_ref(&feats), None, None);
    let c = default_path(std::slice::from_ref(&feats), Some(&inv), Some("2/4"));
    let (Some(a), Some(b), Some(c)) = (a, b, c) else {
        assert!(home.is_none() && std::env::var_os("HOME").is_none());
        return;
    };
    assert_ne!(a, b);
    assert_ne!(a, c);
    let name = a.file_name().expect("name").to_string_lossy().into_owned();
    assert!(name.starts_with("features-prod-") && name.ends_with(".json"), "{name}");
    assert!(c.to_string_lossy().contains("part2-4"), "{}", c.display());
    assert_eq!(a.parent().and_then(|p| p.file_name()), Some("shakedown".as_ref()));
}
