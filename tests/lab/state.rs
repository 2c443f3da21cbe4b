//! What changed since the last run, on the lab: nginx answering 500 on web2 (the fault
//! guard repairs it), then repaired, across runs that share a `--state` file: the console,
//! the Nagios long output of `check` and the mail (a real SMTP server) say new, still
//! failing (since when), and recovered; web1, which passes throughout, is never named.

use super::util::{Lab, Repair, Run, lab, suite};

use crate::servers::SmtpSink;

const WEB: &str = "@hosts:web\nFeature: Web servers\n  Scenario: Homepage\n    When I request \"http://{address}/\"\n    Then the response status should be 200\n";

/// One round: `run` (console, mail) and `check` (Nagios), each with its own state file.
fn round(lab: &Lab, dir: &std::path::Path, smtp: &str) -> (Run, Run) {
    let run = lab.shakedown_in(
        dir,
        &[
            "run",
            "web.feature",
            "--format",
            "pretty",
            "--state",
            "run.json",
            "--mail-to",
            "ops@example.com",
            "--smtp",
            smtp,
        ],
    );
    let check = lab.shakedown_in(dir, &["check", "web.feature", "--state", "check.json"]);
    (run, check)
}

fn body(mail: &serde_json::Value) -> String {
    mail["body"].as_str().expect("body").replace("\r\n", "\n")
}

#[test]
fn a_fault_on_web2_is_new_then_still_failing_then_recovered() {
    let Some(lab) = lab() else { return };
    let sink = SmtpSink::start();
    let url = sink.url();
    let dir = suite(&[("web.feature", WEB)]);
    let d = dir.path();
    // Healthy: the history starts; nothing to say, no mail.
    let (run, check) = round(&lab, d, &url);
    run.assert_exit(0);
    assert!(!run.stdout.contains("since the last run"), "{}", run.stdout);
    check.assert_exit(0);
    assert!(sink.messages().is_empty(), "no mail after a green run");

    let fault = Repair::inject(&lab, "web2", "touch /var/www/FAIL", "rm -f /var/www/FAIL");
    // 1: a new failure on web2.
    let (run, check) = round(&lab, d, &url);
    run.assert_exit(1)
        .assert_contains("  web2 web.feature:3 Homepage: ")
        .assert_contains(" [new]\n")
        .assert_contains("since the last run: 1 new failure\n");
    check
        .assert_exit(2)
        .assert_contains("; 1 new failure")
        .assert_contains("CRITICAL web2: Homepage: ")
        .assert_contains("500");
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l.starts_with("CRITICAL web2") && l.ends_with("[new]")),
        "{}",
        check.stdout
    );
    let mails = sink.wait_for(1);
    assert_eq!(mails[0]["subject"], "shakedown: 1 new failure on web2");
    assert!(body(&mails[0]).contains("[new]"), "{}", body(&mails[0]));

    // 2: still failing, since the first failing run.
    let (run, check) = round(&lab, d, &url);
    run.assert_exit(1)
        .assert_contains("  web2 web.feature:3 Homepage: ")
        .assert_contains("[still failing since 20")
        .assert_contains("since the last run: 1 still failing (since 20");
    assert!(!run.stdout.contains("[new]"), "{}", run.stdout);
    check.assert_exit(2).assert_contains("[still failing since 20");
    let mails = sink.wait_for(2);
    assert_eq!(mails[1]["subject"], "shakedown: 1 still failing on web2");
    assert!(
        body(&mails[1]).contains("[still failing since 20"),
        "{}",
        body(&mails[1])
    );

    // 3: repaired: recovered, and mailed as such.
    drop(fault);
    let (run, check) = round(&lab, d, &url);
    run.assert_exit(0)
        .assert_contains("Recovered:\n  web2 web.feature:3 Homepage (failing since 20")
        .assert_contains("since the last run: 1 recovered\n");
    check
        .assert_exit(0)
        .assert_contains("; 1 recovered")
        .assert_contains("OK web2: Homepage: recovered (failing since 20");
    let mails = sink.wait_for(3);
    assert_eq!(mails[2]["subject"], "shakedown: 1 recovered on web2");
    assert!(body(&mails[2]).contains("Recovered:\n  web2 "), "{}", body(&mails[2]));
    for r in [&run, &check] {
        assert!(!r.all().contains("web1:") && !r.all().contains(" web1 "), "{}", r.all());
    }
}
