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
