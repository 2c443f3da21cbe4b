//! `--mail-to/--mail-from/--smtp`: a mail after a failed run only, with the subject, the
//! console failure report as body and the JUnit XML attached; option errors before any
//! host is contacted; delivery errors on stderr without changing a failed run's status;
//! the SMTP password never printed.

use crate::servers::{CANARY, SmtpSink, closed_port, test_certificates};
use crate::util::{Run, shakedown_in, suite};

const FAILING: &str = "Feature: Local config\n  Scenario: Greeting\n    When I run \"echo hello\"\n    Then the output should contain \"bye\"\n  Scenario: Kernel\n    When I run \"uname -s\"\n    Then the output should contain \"Linux\"\n";
const PASSING: &str = "Feature: Local config\n  Scenario: Kernel\n    When I run \"uname -s\"\n    Then the output should contain \"Linux\"\n";

/// `run f.feature --format quiet --mail-to ops@example.com --smtp URL` in `dir`, with `env`.
pub(crate) fn mail_run(dir: &std::path::Path, smtp: &str, env: &[(&str, &str)]) -> Run {
    let args = [
        "run",
        "f.feature",
        "--format",
        "quiet",
        "--mail-to",
        "ops@example.com",
        "--smtp",
        smtp,
    ];
    shakedown_in(dir, &args, env)
}

#[test]
fn a_failed_run_mails_the_failure_report_with_the_junit_attached() {
    let sink = SmtpSink::start();
    let dir = suite(&[("f.feature", FAILING)]);
    let url = sink.url();
    let args = [
        "run",
        "f.feature",
        "--format",
        "quiet",
        "--mail-to",
        "ops@example.com",
        "--mail-to",
        "Oncall <oncall@example.com>",
        "--mail-from",
        "shakedown@ci.example.com",
        "--smtp",
        &url,
    ];
    let run = shakedown_in(dir.path(), &args, &[]);
    run.assert_exit(1);
    assert_eq!(run.stderr, "", "nothing on stderr when the mail went");
    let mails = sink.wait_for(1);
    assert_eq!(mails.len(), 1, "one mail per run");
    let m = &mails[0];
    assert_eq!(m["subject"], "shakedown: 1 of 2 scenarios failed on localhost");
    assert_eq!(m["mail_from"], "shakedown@ci.example.com");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["ops@example.com", "oncall@example.com"])
    );
    // Mail lines end in CRLF (RFC 5322).
    let body = m["body"].as_str().expect("a text/plain body").replace("\r\n", "\n");
    // The body is exactly what the quiet console report printed: host, step, expected, found.
    assert_eq!(body, run.stdout);
    for part in [
        "FAILED: Greeting [localhost] f.feature:2",
        "host: localhost",
        "Then the output should contain \"bye\" f.feature:4",
        "expected: output of `echo hello` containing \"bye\"",
        "found:    \"hello\"",
        "2 scenarios (1 passed, 1 failed) on 1 host",
    ] {
        assert!(body.contains(part), "{part:?} in the body:\n{body}");
    }
    assert!(!body.contains('\u{1b}'), "no colours in the mail:\n{body}");
    let attachments = m["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    assert_eq!(attachments[0]["filename"], "shakedown-junit.xml");
    let junit = &attachments[0]["junit"];
    assert!(junit.get("error").is_none(), "the JUnit attachment parses: {junit}");
    let s = &junit["suites"][0];
    assert_eq!(
        (s["name"].as_str(), s["tests"].as_i64(), s["failures"].as_i64()),
        (Some("Local config"), Some(2), Some(1))
    );
    let failed: Vec<_> = s["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| !c["failure"].is_null())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "Greeting [localhost]");
    assert!(
        failed[0]["failure"]
            .as_str()
            .unwrap_or_default()
            .contains("found \"hello\""),
        "{failed:?}"
    );
}

/// RFC 5322 3.6.4: `msg-id = "<" id-left "@" id-right ">"`, one per message, never reused
/// (mail clients thread and deduplicate by it; some relays reject mail without one).
#[test]
fn each_failure_mail_has_its_own_message_id() {
    let sink = SmtpSink::start();
    let dir = suite(&[("f.feature", FAILING)]);
    let url = sink.url();
    mail_run(dir.path(), &url, &[]).assert_exit(1);
    mail_run(dir.path(), &url, &[]).assert_exit(1);
    let mails = sink.wait_for(2);
    let ids: Vec<&str> = mails
        .iter()
        .map(|m| {
            m["message_id"]
                .as_str()
                .unwrap_or_else(|| panic!("no Message-ID in:\n{}", m["raw"]))
        })
        .collect();
    for id in &ids {
        let inner = id
            .strip_prefix('<')
            .and_then(|i| i.strip_suffix('>'))
            .unwrap_or_else(|| panic!("{id:?} is not <id-left@id-right>"));
        let (left, right) = inner.split_once('@').unwrap_or_else(|| panic!("{id:?} has no @"));
        let atext = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|atom| {
                    !atom.is_empty()
                        && atom
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
                })
        };
        assert!(
            atext(left) && atext(right),
            "{id:?}: id-left and id-right are dot-atoms"
        );
    }
    assert_ne!(ids[0], ids[1], "two mails, two ids");
    assert!(mails.iter().all(|m| m["date"].is_string()), "a Date header too");
}

#[test]
fn nothing_is_sent_after_a_green_run() {
    let sink = SmtpSink::start();
    let dir = suite(&[("f.feature", PASSING)]);
    let url = sink.url();
    let run = mail_run(dir.path(), &url, &[]);
    run.assert_exit(0);
    assert_eq!(
        (run.stdout.as_str(), run.stderr.as_str()),
        ("", ""),
        "quiet and green: no output at all"
    );
    // The mail would have been accepted before the process exited.
    assert!(sink.messages().is_empty(), "{:?}", sink.messages());
    // A green run contacts no SMTP server at all: a dead one changes nothing.
    let dead = format!("smtp://127.0.0.1:{}", closed_port());
    let run = mail_run(dir.path(), &dead, &[]);
    run.assert_exit(0);
    assert_eq!(run.stderr, "");
}

#[test]
fn a_dead_smtp_server_is_reported_and_a_failed_run_stays_1() {
    let dir = suite(&[("f.feature", FAILING)]);
    let port = closed_port();
    let dead = format!("smtp://127.0.0.1:{port}");
    let run = mail_run(dir.path(), &dead, &[]);
    run.assert_exit(1);
    assert!(
        run.stdout.contains("FAILED: Greeting [localhost]"),
        "the report is still printed:\n{}",
        run.stdout
    );
    let expected = format!("error: mail through smtp://127.0.0.1:{port} not sent: ");
    assert!(run.stderr.starts_with(&expected), "{}", run.stderr);
    assert!(run.stderr.contains("Connection refused"), "{}", run.stderr);
}

#[test]
fn the_smtp_password_never_appears_in_any_output() {
    let dir = suite(&[("f.feature", FAILING)]);
    let sink = SmtpSink::start();
    let env = [("SHAKEDOWN_SMTP_PASSWORD", CANARY)];
    // smtps:// to a server that speaks plain SMTP: the TLS handshake fails.
    let plain = format!("smtps://alert@127.0.0.1:{}", sink.port);
    // smtps:// to nothing at all.
    let dead = format!("smtps://alert@127.0.0.1:{}", closed_port());
    for url in [&plain, &dead] {
        let run = shakedown_in(
            dir.path(),
            &[
                "run",
                "f.feature",
                "--format",
                "pretty",
                "--mail-to",
                "ops@example.com",
                "--smtp",
                url,
            ],
            &env,
        );
        run.assert_exit(1);
        assert!(
            run.stderr.contains(&format!("error: mail through {url} not sent")),
            "{}",
            run.stderr
        );
        assert!(!run.all().contains(CANARY), "the password leaked:\n{}", run.all());
    }
    assert!(sink.messages().is_empty());
    // A password written into the URL is refused without being repeated.
    let inline = format!("smtps://alert:{CANARY}@127.0.0.1:465");
    let run = shakedown_in(
        dir.path(),
        &["run", "f.feature", "--mail-to", "ops@example.com", "--smtp", &inline],
        &[],
    );
    run.assert_exit(2).assert_contains("set SHAKEDOWN_SMTP_PASSWORD");
    assert!(!run.all().contains(CANARY), "the password leaked:\n{}", run.all());
}

#[test]
fn bad_mail_options_stop_the_run_before_any_host_is_contacted() {
    // The scenario would leave a marker behind if it ran.
    let dir = suite(&[(
        "f.feature",
        "Feature: Marker\n  Scenario: Touch\n    When I run \"touch ran\"\n    Then the command should succeed\n",
    )]);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--mail-to", "ops@example.com"],
            "--mail-to and --mail-from need --smtp URL",
        ),
        (
            &["--smtp", "smtp://127.0.0.1:25"],
            "--smtp needs at least one --mail-to ADDR",
        ),
        (
            &["--mail-to", "ops@example.com", "--smtp", "ftp://mail.example.com"],
            "scheme \"ftp\" is not smtp:// or smtps://",
        ),
        (
            &["--mail-to", "ops@example.com", "--smtp", "mail.example.com:25"],
            "--smtp:",
        ),
        (
            &["--mail-to", "not an address", "--smtp", "smtp://127.0.0.1:25"],
            "--mail-to: \"not an address\" is not a mail address",
        ),
        (
            &["--mail-to", "ops@example.com", "--smtp", "smtps://alert@127.0.0.1:465"],
            "set SHAKEDOWN_SMTP_PASSWORD",
        ),
        (
            &["--mail-to", "ops@example.com", "--smtp", "smtp://alert@127.0.0.1:25"],
            "a login needs smtps://",
        ),
    ];
    for (opts, message) in cases {
        let mut args = vec!["run", "f.feature"];
        args.extend_from_slice(opts);
        let run = shakedown_in(dir.path(), &args, &[("SHAKEDOWN_SMTP_PASSWORD", "")]);
        run.assert_exit(2).assert_contains(message);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        assert!(!dir.path().join("ran").exists(), "the scenario ran despite {opts:?}");
        // `check` reports the same problem as plugin output, UNKNOWN.
        args[0] = "check";
        let run = shakedown_in(dir.path(), &args, &[("SHAKEDOWN_SMTP_PASSWORD", "")]);
        run.assert_exit(3)
            .assert_contains("SHAKEDOWN UNKNOWN - ")
            .assert_contains(message);
        assert!(!dir.path().join("ran").exists(), "the check ran despite {opts:?}");
    }
}

#[test]
fn check_mails_a_critical_run_too() {
    let sink = SmtpSink::start();
    let dir = suite(&[("f.feature", FAILING)]);
    let url = sink.url();
    let run = shakedown_in(
        dir.path(),
        &["check", "f.feature", "--mail-to", "ops@example.com", "--smtp", &url],
        &[],
    );
    run.assert_exit(2)
        .assert_contains("SHAKEDOWN CRITICAL - 1 of 2 scenarios failed");
    let mails = sink.wait_for(1);
    assert_eq!(mails[0]["subject"], "shakedown: 1 of 2 scenarios failed on localhost");
    assert!(
        mails[0]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("found:    \"hello\"")
    );
}

#[test]
fn smtps_logs_in_with_the_password_from_the_environment() {
    let certs = tempfile::tempdir().expect("temp dir");
    test_certificates(certs.path());
    let (cert, key) = (certs.path().join("localhost.crt"), certs.path().join("localhost.key"));
    let sink = SmtpSink::start_tls(&cert, &key, CANARY);
    let dir = suite(&[("f.feature", FAILING)]);
    let url = format!("smtps://alert@localhost:{}", sink.port);
    // The system roots: the test CA is added through SSL_CERT_FILE, as an operator would
    // for a private CA.
    let ca = certs.path().join("ca.crt");
    let ca = ca.to_str().expect("utf-8 path");
    let run = mail_run(
        dir.path(),
        &url,
        &[("SHAKEDOWN_SMTP_PASSWORD", CANARY), ("SSL_CERT_FILE", ca)],
    );
    run.assert_exit(1);
    assert_eq!(run.stderr, "", "the mail went over TLS with the login");
    let mails = sink.wait_for(1);
    assert_eq!(mails[0]["auth_login"], "alert");
    assert_eq!(mails[0]["subject"], "shakedown: 1 of 2 scenarios failed on localhost");
    assert!(!run.all().contains(CANARY));
    // A wrong password: refused by the server, reported, the run stays 1, no mail.
    let run = mail_run(
        dir.path(),
        &url,
        &[("SHAKEDOWN_SMTP_PASSWORD", "wrong-password"), ("SSL_CERT_FILE", ca)],
    );
    run.assert_exit(1);
    assert!(
        run.stderr.contains(&format!("error: mail through {url} not sent: ")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("535"), "the server's refusal: {}", run.stderr);
    // A certificate that the roots do not know (no SSL_CERT_FILE): refused, no login sent.
    let run = mail_run(
        dir.path(),
        &url,
        &[
            ("SHAKEDOWN_SMTP_PASSWORD", CANARY),
            ("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"),
        ],
    );
    run.assert_exit(1);
    assert!(
        run.stderr.contains("certificate") || run.stderr.contains("Certificate"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains(CANARY), "the password leaked:\n{}", run.all());
    assert_eq!(sink.messages().len(), 1);
}
