//! Malformed input corpus (issue 9, item 5): every file under `fixtures/bad/` (broken
//! Gherkin, one case per error kind of cucumber/gherkin's testdata/bad; suites with undefined
//! steps, bad tags and bad arguments; bad TOML, INI and YAML inventories; bad step packs in
//! `./steps`) and every line of
//! `fixtures/bad/options.txt` must end `run` and `lint` with exit 2 and `check` with 3, with
//! `file:line:column` and a message (the `# expect:` regex on the case's first lines), before
//! any host is contacted: the only host they could reach is a TCP listener this test owns,
//! and it must see no connection.
//!
//! A new case is a new file with its `# expect:` line (PORT stands for the listener's port).

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::util::{Run, root, shakedown_in, suite};

/// A feature that would contact the probe host (SSH for the command, HTTP for the request).
const OK_FEATURE: &str =
    "@hosts:probe\nFeature: F\n  Scenario: S\n    When I run \"true\"\n    When I request \"http://127.0.0.1:PORT/\"\n";

/// An inventory whose only host is the listener.
const OK_INVENTORY: &str = "[hosts.probe]\naddress = \"127.0.0.1\"\nport = PORT\nconnect_timeout = \"2s\"\n";

/// The listener standing in for every host; `contacted` says whether anything connected.
struct Probe(TcpListener);

impl Probe {
    fn new() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").expect("listener");
        l.set_nonblocking(true).expect("nonblocking");
        Probe(l)
    }

    fn port(&self) -> String {
        self.0.local_addr().expect("addr").port().to_string()
    }

    fn contacted(&self) -> bool {
        self.0.accept().is_ok()
    }
}

/// The `# expect: REGEX` of a case file.
fn expectation(text: &str) -> regex::Regex {
    let line = text
        .lines()
        .take(3)
        .find_map(|l| l.split_once("# expect: ").map(|(_, e)| e.trim_end()))
        .expect("a # expect: line in the first lines");
    regex::Regex::new(line).expect("expect regex")
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/bad").join(dir))
        .expect("fixtures/bad")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

/// Checks one invocation: exit code, message, no contact. Returns a problem, if any.
fn check_run(what: &str, run: &Run, code: i32, re: &regex::Regex, probe: &Probe) -> Option<String> {
    let all = run.all();
    if all.contains("panicked") {
        return Some(format!("{what}: panic:\n{all}"));
    }
    if run.code != code {
        return Some(format!("{what}: exit {} instead of {code}:\n{all}", run.code));
    }
    if !re.is_match(&all) {
        return Some(format!("{what}: no match for /{}/ in:\n{all}", re.as_str()));
    }
    if probe.contacted() {
        return Some(format!("{what}: a host was contacted"));
    }
    None
}

/// Runs `run`, `lint` and `check` on a case (a feature, an inventory, or a step pack loaded
/// from `./steps`) in a fresh dir.
fn run_case(path: &Path, probe: &Probe, problems: &mut Vec<String>) {
    let port = probe.port();
    let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_string();
    let text = std::fs::read_to_string(path).expect("case").replace("PORT", &port);
    let re = expectation(&text);
    let is_pack = path.parent().is_some_and(|p| p.ends_with("packs"));
    let (feature, inventory, file) = if name.ends_with(".feature") {
        (name.clone(), "inv.toml".to_string(), name.clone())
    } else if is_pack {
        (
            "ok.feature".to_string(),
            "inv.toml".to_string(),
            format!("steps/{name}"),
        )
    } else {
        ("ok.feature".to_string(), name.clone(), name.clone())
    };
    let dir = suite(&[
        (file.as_str(), text.as_str()),
        ("ok.feature", &OK_FEATURE.replace("PORT", &port)),
        ("inv.toml", &OK_INVENTORY.replace("PORT", &port)),
    ]);
    for (command, code) in [("run", 2), ("lint", 2), ("check", 3)] {
        let args = [command, "-i", inventory.as_str(), feature.as_str()];
        let run = shakedown_in(dir.path(), &args, &[]);
        if let Some(p) = check_run(&format!("{name} ({command})"), &run, code, &re, probe) {
            problems.push(p);
        }
    }
}

#[test]
fn every_malformed_file_is_bad_input_with_its_position_and_contacts_nothing() {
    let probe = Probe::new();
    let mut problems = Vec::new();
    let mut count = 0;
    for dir in ["gherkin", "suite", "inventory", "packs"] {
        for path in cases(dir) {
            run_case(&path, &probe, &mut problems);
            count += 1;
        }
    }
    println!(
        "malformed input: {count} files x run/lint/check, {} problems",
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Splits on spaces; "double quotes" keep spaces (`""` is an empty argument).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut started) = (false, false);
    for c in line.chars() {
        match c {
            '"' => (quoted, started) = (!quoted, true),
            ' ' if !quoted => {
                if started {
                    out.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            c => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(cur);
    }
    out
}

#[test]
fn every_bad_option_is_bad_input_and_contacts_nothing() {
    let probe = Probe::new();
    let port = probe.port();
    let dir = suite(&[
        ("ok.feature", &OK_FEATURE.replace("PORT", &port)),
        ("inv.toml", &OK_INVENTORY.replace("PORT", &port)),
    ]);
    let list = std::fs::read_to_string(root().join("fixtures/bad/options.txt")).expect("options.txt");
    let mut problems = Vec::new();
    let mut count = 0;
    for line in list.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (args, expect) = line.split_once('\t').expect("ARGS<TAB>REGEX");
        let re = regex::Regex::new(expect).expect("regex");
        let args = words(args);
        let commands: &[&str] = if args[0] == "any" { &["run", "check"] } else { &["run"] };
        for &command in commands {
            let mut args = args.clone();
            args[0] = command.to_string();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = shakedown_in(dir.path(), &refs, &[]);
            let code = if command == "check" { 3 } else { 2 };
            if let Some(p) = check_run(&args.join(" "), &run, code, &re, &probe) {
                problems.push(p);
            }
        }
        count += 1;
    }
    println!("bad options: {count} cases x run/check, {} problems", problems.len());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Local hosts `db1` (group `db`) and `web1` (group `web`): nothing here is ever contacted.
const LOCAL_INVENTORY: &str = "[hosts.db1]\ntransport = \"local\"\ngroups = [\"db\"]\n\n[hosts.web1]\ntransport = \"local\"\ngroups = [\"web\"]\n";

/// `lint`, `run` and `check` of `feature` (with [`LOCAL_INVENTORY`]): each refuses it with
/// exit 2 (3 for `check`) and prints every `expected` text.
#[track_caller]
fn refused(feature: &str, expected: &[&str]) {
    let dir = suite(&[("inv.toml", LOCAL_INVENTORY), ("f.feature", feature)]);
    for (command, code) in [("lint", 2), ("run", 2), ("check", 3)] {
        let run = shakedown_in(dir.path(), &[command, "-i", "inv.toml", "f.feature"], &[]);
        run.assert_exit(code);
        for text in expected {
            run.assert_contains(text);
        }
    }
}

/// Issue 18, item 9: a host or group named in a step's argument is resolved at lint like
/// an `@hosts:` tag (after placeholders), at the argument's column, with the nearest name.
#[test]
fn host_and_group_names_in_step_arguments_are_checked_with_the_nearest_name() {
    refused(
        concat!(
            "Feature: H\n  Scenario: S\n",
            "    Then the file \"/etc/hosts\" should be the same on all hosts in group \"webb\"\n",
            "    Then MySQL on \"db9\" should be accepting connections\n",
            "    Then the output of \"true\" should be the same on all hosts in group \"web*,dbb\"\n",
            "    Then MySQL on \"db\" should be accepting connections\n",
            "  @hosts:web\n  Scenario: T\n",
            "    Then the table \"a.b\" should be the same on all hosts in group \"{vars.missing}\"\n",
            "    Then the table \"a.b\" should be the same on all hosts in group \"{name}\"\n",
            "    Then MySQL on \"db1\" should be accepting connections\n",
        ),
        &[
            "f.feature:3:73: Then the file \"/etc/hosts\" should be the same on all hosts in group \"webb\": unknown host or group \"webb\" (did you mean \"web\"?)",
            "f.feature:4:19: Then MySQL on \"db9\" should be accepting connections: unknown host \"db9\" (did you mean \"db1\"?)",
            "f.feature:5:72: Then the output of \"true\" should be the same on all hosts in group \"web*,dbb\": unknown host or group \"dbb\" (did you mean \"db\"?)",
            "f.feature:6:19: Then MySQL on \"db\" should be accepting connections: \"db\" is a group; this step takes one host name, e.g. \"db1\"",
            "f.feature:9:5: host web1 has no variable \"missing\"",
        ],
    );
    let dir = suite(&[
        ("inv.toml", LOCAL_INVENTORY),
        (
            "ok.feature",
            "@hosts:web\nFeature: F\n  Scenario: S\n    Then MySQL on \"db1\" should be accepting connections\n    Then the file \"/etc/hostname\" should be the same on all hosts in group \"{name},db*\"\n",
        ),
    ]);
    shakedown_in(dir.path(), &["lint", "-i", "inv.toml", "ok.feature"], &[]).assert_exit(0);
    // Without an inventory, the message says so.
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: S\n    Then MySQL on \"db1\" should be accepting connections\n",
    )]);
    shakedown_in(dir.path(), &["lint", "f.feature"], &[])
        .assert_exit(2)
        .assert_contains("f.feature:3:19: Then MySQL on \"db1\" should be accepting connections: unknown host \"db1\" (no inventory given: -i FILE)");
}

/// Issue 18, item 10: a step that needs a doc string must have one; a doc string or data
/// table under a step that takes none is an error, not silently ignored.
#[test]
fn doc_strings_and_tables_must_match_what_the_step_takes() {
    refused(
        concat!(
            "@hosts:web1\nFeature: D\n  Scenario: S\n",
            "    When I send a POST request to \"http://127.0.0.1:9/\" with body:\n",
            "    Then the response status should be 200\n",
            "    When I run \"true\"\n      \"\"\"\n      unused\n      \"\"\"\n",
            "    Then the command should succeed\n      | a | b |\n",
        ),
        &[
            "f.feature:4:5: When I send a POST request to \"http://127.0.0.1:9/\" with body: needs a doc string",
            "f.feature:6:5: When I run \"true\": takes no doc string",
            "f.feature:10:5: Then the command should succeed: takes no data table",
        ],
    );
}

/// Issue 18, item 11: a scenario without steps is refused by lint, run and check, at its
/// line, with the description line that looks like a misspelt keyword; the document itself
/// is valid Gherkin (tests/gherkin_conformance.rs still accepts such files).
#[test]
fn a_scenario_without_steps_is_refused_and_a_misspelt_keyword_is_named() {
    refused(
        concat!(
            "@hosts:web1\nFeature: E\n  Background:\n    When I run \"true\"\n\n",
            "  Scenario: Typo\n    Thenn port 8080 should be listening\n",
            "  Scenario: Empty\n\n",
            "  Scenario: Two edits\n    # a comment\n    Some words first\n    Wen I run \"true\"\n",
            "  Scenario: Fine\n    When I run \"true\"\n",
        ),
        &[
            "f.feature:6:3: Scenario \"Typo\" has no steps; line 7 looks like `Then`: \"Thenn port 8080 should be listening\"",
            "f.feature:8:3: Scenario \"Empty\" has no steps",
            "f.feature:10:3: Scenario \"Two edits\" has no steps; line 13 looks like `When`: \"Wen I run \"true\"\"",
        ],
    );
}

/// Issue 18, item 11: a run that selects nothing (no feature file, `-n` or `-t` matching
/// no scenario) is bad input: exit 2 (`check`: UNKNOWN, as before), saying why. An empty
/// `--partition` shard is not an error (a small suite split N ways).
#[test]
fn a_run_that_selects_nothing_is_refused_with_the_reason() {
    let dir = suite(&[
        ("empty/README", "no features here"),
        (
            "f.feature",
            "Feature: F\n  @smoke\n  Scenario: Ping\n    When I run \"true\"\n",
        ),
    ]);
    let cases: &[(&[&str], &str)] = &[
        (&["empty"], "no scenario selected: no .feature file in empty"),
        (
            &["f.feature", "-n", "zzz"],
            "no scenario selected: --name \"zzz\" matches none of 1 scenario",
        ),
        (
            &["f.feature", "-t", "@slow"],
            "no scenario selected: --tags \"@slow\" matches none of 1 scenario",
        ),
    ];
    for (args, message) in cases {
        for (command, code) in [("run", 2), ("lint", 2), ("check", 3)] {
            let mut all = vec![command];
            all.extend_from_slice(args);
            let run = shakedown_in(dir.path(), &all, &[]);
            run.assert_exit(code).assert_contains(message);
        }
    }
    let check = shakedown_in(dir.path(), &["check", "f.feature", "-n", "zzz"], &[]);
    assert!(
        check.stdout.starts_with("SHAKEDOWN UNKNOWN - no scenario selected"),
        "{}",
        check.stdout
    );
    // One pair split five ways: four empty shards, each a run of nothing that passes.
    for k in 1..=5 {
        let shard = format!("{k}/5");
        shakedown_in(dir.path(), &["run", "f.feature", "--partition", &shard], &[]).assert_exit(0);
    }
}

/// Issue 18, item 12: two `@hosts:` tags on one element are refused at the second one; an
/// inner element's tag still wins over the feature's.
#[test]
fn two_hosts_tags_on_one_element_are_refused_and_the_innermost_wins() {
    refused(
        concat!(
            "@hosts:web\nFeature: T\n  @hosts:web1 @hosts:db1\n  Scenario: S\n    When I run \"true\"\n",
            "  @hosts:db1\n  @smoke @hosts:web1\n  Scenario: T\n    When I run \"true\"\n",
        ),
        &[
            "f.feature:3:15: two @hosts: tags on one Scenario (@hosts:web1 and @hosts:db1): keep one, or write @hosts:web1,db1",
            "f.feature:7:10: two @hosts: tags on one Scenario (@hosts:db1 and @hosts:web1)",
        ],
    );
    let dir = suite(&[
        ("inv.toml", LOCAL_INVENTORY),
        (
            "f.feature",
            "@hosts:web\nFeature: T\n  @hosts:db1\n  Scenario: S\n    When I run \"true\"\n",
        ),
    ]);
    let run = shakedown_in(
        dir.path(),
        &["run", "-i", "inv.toml", "f.feature", "--format", "pretty"],
        &[],
    );
    run.assert_exit(0).assert_contains("S [db1]");
    assert!(!run.all().contains("[web1]"), "{}", run.all());
}

/// Issue 18, item 19 (locations): an option's error names the option, a file-level error
/// names the file without a made-up `:0:0`, and a feature file that is not UTF-8 says so
/// at its first bad byte.
#[test]
fn file_and_option_errors_carry_no_made_up_location() {
    let dir = suite(&[
        ("inv.toml", LOCAL_INVENTORY),
        ("ok.feature", "Feature: F\n  Scenario: S\n    When I run \"true\"\n"),
    ]);
    std::fs::write(
        dir.path().join("latin1.feature"),
        b"Feature: L\n  Scenario: caf\xe9\n    When I run \"true\"\n",
    )
    .expect("write");
    let cases: &[(&[&str], &str)] = &[
        (
            &["-i", "inv.toml", "ok.feature", "--hosts", "nowhere"],
            "--hosts \"nowhere\": unknown host or group \"nowhere\"",
        ),
        (&["-i", "inv.toml"], "features: no such file or directory"),
        (
            &["-i", "inv.toml", "missing.feature"],
            "missing.feature: no such file or directory",
        ),
        (
            &["-i", "inv.toml", "latin1.feature"],
            "latin1.feature:2:16: not UTF-8: byte 0xE9",
        ),
    ];
    for (args, message) in cases {
        for (command, code) in [("run", 2), ("lint", 2), ("check", 3)] {
            let mut all = vec![command];
            all.extend_from_slice(args);
            let run = shakedown_in(dir.path(), &all, &[]);
            run.assert_exit(code).assert_contains(message);
            assert!(!run.all().contains(":0:"), "{command} {args:?}: {}", run.all());
        }
    }
}
