//! `--partition K/N` (issue 7, item 4): for N in {1, 2, 3, 5} the N shards of a suite on
//! seven local hosts are pairwise disjoint and their union is exactly the full run; a
//! pair's shard is the same on every run and at any `--concurrency`; bad values are bad
//! input (exit 2). Each run writes a JUnit file, read back with quick-xml: one testcase per
//! (feature file, scenario, host).

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{shakedown_in, suite};

/// Seven hosts reached with the local transport, all in group `fleet`, some in `web`.
fn inventory() -> String {
    let mut text = String::new();
    for i in 1..=7 {
        let groups = if i <= 3 { r#"["fleet", "web"]"# } else { r#"["fleet"]"# };
        text.push_str(&format!(
            "[hosts.node{i}]\ntransport = \"local\"\ngroups = {groups}\n\n"
        ));
    }
    text
}

const FLEET: &str = r#"@hosts:fleet
Feature: Fleet basics

  Scenario: The shell answers
    When I run "true"
    Then the command should succeed

  Scenario: The name is set
    When I run "echo {name}"
    Then the output should contain "{name}"

  Scenario Outline: Directory <dir> exists
    Then the command "test -d <dir>" should succeed

    Examples:
      | dir  |
      | /tmp |
      | /etc |
"#;

const WEB: &str = r#"Feature: Web nodes

  @hosts:web
  Scenario: The web nodes answer
    When I run "true"
    Then the command should succeed

  @hosts:node7
  Scenario: One node is special
    When I run "true"
    Then the command should succeed
"#;

/// (file, testcase name = `Scenario [host]`) of every testcase in a JUnit file.
fn pairs(junit: &Path) -> BTreeSet<(String, String)> {
    use quick_xml::events::Event;
    let xml = std::fs::read_to_string(junit).expect("JUnit file written");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = BTreeSet::new();
    loop {
        match reader.read_event().expect("well-formed JUnit") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let attr = |key: &[u8]| {
                    e.attributes()
                        .filter_map(Result::ok)
                        .find(|a| a.key.as_ref() == key)
                        .map(|a| {
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("attribute")
                                .into_owned()
                        })
                        .unwrap_or_default()
                };
                assert!(out.insert((attr(b"file"), attr(b"name"))), "a pair twice in one run");
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

/// Runs the suite (with `--partition` when given) and returns its pairs.
fn run(dir: &Path, partition: Option<&str>, concurrency: &str) -> BTreeSet<(String, String)> {
    let junit = dir.join(format!(
        "shard-{}-{concurrency}.xml",
        partition.unwrap_or("all").replace('/', "of")
    ));
    let junit_arg = junit.to_str().expect("utf-8");
    let mut args = vec![
        "run",
        "-i",
        "inventory.toml",
        "features",
        "--format",
        "quiet",
        "--junit",
        junit_arg,
    ];
    args.extend(["--concurrency", concurrency]);
    if let Some(p) = partition {
        args.extend(["--partition", p]);
    }
    let out = shakedown_in(dir, &args, &[]);
    out.assert_exit(0);
    pairs(&junit)
}

#[test]
fn shards_are_disjoint_and_their_union_is_the_full_run() {
    let inv = inventory();
    let dir = suite(&[
        ("inventory.toml", &inv),
        ("features/fleet.feature", FLEET),
        ("features/web.feature", WEB),
    ]);
    let full = run(dir.path(), None, "64");
    assert_eq!(full.len(), 7 * 4 + 3 + 1, "{full:?}");
    for n in [1, 2, 3, 5] {
        let shards: Vec<BTreeSet<(String, String)>> = (1..=n)
            .map(|k| run(dir.path(), Some(&format!("{k}/{n}")), "64"))
            .collect();
        for (i, a) in shards.iter().enumerate() {
            for b in &shards[i + 1..] {
                assert!(
                    a.is_disjoint(b),
                    "N={n}: shards overlap: {:?}",
                    a.intersection(b).collect::<Vec<_>>()
                );
            }
        }
        let union: BTreeSet<_> = shards.iter().flatten().cloned().collect();
        assert_eq!(union, full, "N={n}: the union of the shards is the full run");
        let sizes: Vec<usize> = shards.iter().map(BTreeSet::len).collect();
        eprintln!("N={n}: shard sizes {sizes:?} of {}", full.len());
    }
}

#[test]
fn a_pairs_shard_is_stable_across_runs_and_concurrency() {
    let inv = inventory();
    let dir = suite(&[
        ("inventory.toml", &inv),
        ("features/fleet.feature", FLEET),
        ("features/web.feature", WEB),
    ]);
    for k in 1..=3 {
        let p = format!("{k}/3");
        let first = run(dir.path(), Some(&p), "64");
        assert_eq!(run(dir.path(), Some(&p), "1"), first, "shard {p} at --concurrency 1");
        assert_eq!(
            run(dir.path(), Some(&p), "7"),
            first,
            "shard {p} again at --concurrency 7"
        );
    }
}

#[test]
fn bad_partition_values_are_bad_input() {
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I run \"true\"\n")]);
    for bad in ["0/3", "4/3", "x", "1/0", "2", "1/x", "-1/3"] {
        let out = shakedown_in(dir.path(), &["run", "f.feature", &format!("--partition={bad}")], &[]);
        out.assert_exit(2).assert_contains("--partition");
        assert!(out.stdout.is_empty(), "{bad}: nothing run: {}", out.stdout);
    }
}
