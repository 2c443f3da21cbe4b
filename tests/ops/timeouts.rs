//! A server that accepts the connection and then says nothing costs a bounded time: the
//! NSCA exchange and each Icinga API request 10 s, the whole SMTP exchange 30 s; the
//! problem is reported on stderr and the exit status follows the usual rule.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::mail::mail_run;
use crate::servers::CANARY;
use crate::util::{shakedown_in, suite};

/// Accepts every connection and keeps it open without a byte (in a background thread).
fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    port
}

#[test]
fn a_silent_server_costs_at_most_the_timeout() {
    let port = silent_server();
    let green = suite(&[(
        "f.feature",
        "Feature: Fine\n  Scenario: Kernel\n    When I run \"uname -s\"\n    Then the output should contain \"Linux\"\n",
    )]);
    let red = suite(&[(
        "f.feature",
        "Feature: Broken\n  Scenario: Greeting\n    When I run \"echo hello\"\n    Then the output should contain \"bye\"\n",
    )]);
    let smtp = format!("smtp://127.0.0.1:{port}");
    let mail = std::thread::spawn(move || {
        let start = Instant::now();
        let run = mail_run(red.path(), &smtp, &[]);
        (run, start.elapsed())
    });
    let (nsca, api) = (
        format!("127.0.0.1:{port}"),
        format!("https://shakedown@127.0.0.1:{port}"),
    );
    let start = Instant::now();
    let env = [
        ("SHAKEDOWN_ICINGA_PASSWORD", CANARY),
        ("SHAKEDOWN_NSCA_PASSWORD", CANARY),
    ];
    let run = shakedown_in(
        green.path(),
        &[
            "run",
            "f.feature",
            "--format",
            "quiet",
            "--nsca",
            &nsca,
            "--icinga-api",
            &api,
        ],
        &env,
    );
    let took = start.elapsed();
    run.assert_exit(2);
    assert!(
        run.stderr
            .contains(&format!("error: NSCA {nsca}: no answer within 10s")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("not accepted: no answer within 10s"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains(CANARY));
    assert!(took < Duration::from_secs(25), "NSCA and the API took {took:?}");
    let (run, took) = mail.join().expect("mail thread");
    run.assert_exit(1);
    assert!(run.stderr.contains("not sent: no answer within 30s"), "{}", run.stderr);
    assert!(took < Duration::from_secs(40), "the mail took {took:?}");
}
