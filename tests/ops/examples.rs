//! The cron and systemd examples in ci/examples/ work as written: every shakedown line of
//! the crontab and the service's ExecStart run (paths and servers swapped for a temp suite,
//! the test's SMTP server and nsca daemon) and deliver; the timer and service pass
//! `systemd-analyze verify`.

use std::path::Path;

use crate::servers::{Nsca, SmtpSink};
use crate::util::{root, shakedown_in, suite};

const FAILING: &str = "Feature: Local config\n  Scenario: Greeting\n    When I run \"echo hello\"\n    Then the output should contain \"bye\"\n";

/// The shakedown command lines of an example: crontab lines (commented or not) and
/// `ExecStart=`, as argument lists after the `shakedown` word.
fn command_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.trim_start_matches(['#', ' ']))
        .map(|l| l.strip_prefix("ExecStart=").unwrap_or(l))
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words
                .iter()
                .position(|w| w.ends_with("shakedown") && !w.contains('.'))?;
            (words.get(at + 1) == Some(&"run")).then(|| words[at + 1..].iter().map(|w| w.to_string()).collect())
        })
        .collect()
}

#[test]
fn the_crontab_and_service_lines_run_as_written() {
    let sink = SmtpSink::start();
    let nsca = Nsca::start(None);
    let dir = suite(&[("features/local.feature", FAILING)]);
    let mut lines = command_lines(&std::fs::read_to_string(root().join("ci/examples/crontab")).expect("crontab"));
    assert_eq!(lines.len(), 3, "the crontab's three shakedown lines: {lines:?}");
    lines.extend(command_lines(
        &std::fs::read_to_string(root().join("ci/examples/shakedown.service")).expect("service"),
    ));
    assert_eq!(lines.len(), 4, "and the service's ExecStart");
    let (smtp, target) = (sink.url(), nsca.target());
    let junit = dir.path().join("last.xml");
    let (mut mails, mut results) = (0, 0);
    for words in &lines {
        let args: Vec<String> = words
            .iter()
            .filter(|w| *w != "-i" && *w != "/etc/shakedown/inventory.toml")
            .map(|w| match w.as_str() {
                "/etc/shakedown/features" => "features".to_string(),
                "smtp://mail.example.com:25" => smtp.clone(),
                "nagios.example.com:5667" => target.clone(),
                "/var/lib/shakedown/last.xml" => junit.display().to_string(),
                _ => w.clone(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = shakedown_in(dir.path(), &args, &[]);
        run.assert_exit(1).assert_contains("FAILED: Greeting [localhost]");
        assert_eq!(run.stderr, "", "{args:?}");
        mails += usize::from(words.iter().any(|w| w == "--mail-to"));
        results += usize::from(words.iter().any(|w| w == "--nsca"));
        assert_eq!(sink.wait_for(mails).len(), mails, "{args:?}");
        assert_eq!(nsca.wait_lines(results).len(), results, "{args:?}");
    }
    assert_eq!((mails, results), (2, 1));
    assert!(junit.exists(), "the service's --junit file");
}

#[test]
fn the_systemd_units_verify() {
    if !Path::new("/usr/bin/systemd-analyze").exists() {
        eprintln!("skipped: no systemd-analyze");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = env!("CARGO_BIN_EXE_shakedown");
    for unit in ["shakedown.service", "shakedown.timer"] {
        let text = std::fs::read_to_string(root().join("ci/examples").join(unit)).expect("unit");
        std::fs::write(dir.path().join(unit), text.replace("/usr/local/bin/shakedown", bin)).expect("write");
    }
    let out = std::process::Command::new("/usr/bin/systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("shakedown.timer"))
        .arg(dir.path().join("shakedown.service"))
        .output()
        .expect("systemd-analyze runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // It may warn about the User= that does not exist here; nothing else.
    let problems: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("User") && !l.trim().is_empty())
        .collect();
    assert!(
        out.status.success() && problems.is_empty(),
        "systemd-analyze verify:\n{text}"
    );
}
