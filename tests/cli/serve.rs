//! `shakedown serve` without the lab: bad input is exit 2 before the port opens, and a
//! local suite is served and stopped by SIGTERM. The lab tests (tests/lab/serve.rs) cover
//! failures on real hosts, every format, single flight and slow runs.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{shakedown_in, suite};

#[test]
fn bad_input_is_exit_2_before_listening() {
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I frobnicate\n")]);
    let out = shakedown_in(dir.path(), &["serve", "f.feature", "--listen", "127.0.0.1:0"], &[]);
    out.assert_exit(2).assert_contains("undefined step");
    assert!(!out.stderr.contains("listening on"), "{}", out.stderr);
}

#[test]
fn a_port_in_use_is_exit_2_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I run \"true\"\n")]);
    let out = shakedown_in(dir.path(), &["serve", "f.feature", "--listen", &addr], &[]);
    out.assert_exit(2).assert_contains(&format!("--listen {addr}"));
}

#[test]
fn serves_a_local_suite_and_stops_on_sigterm() {
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: S\n    When I run \"true\"\n    Then the command should succeed\n",
    )]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["serve", "f.feature", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let addr = first
        .strip_prefix("listening on ")
        .expect("listening on ADDR")
        .to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (status, body) = rt.block_on(async {
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
            .get(format!("http://{addr}/healthz"))
            .header("Accept", "text/plain")
            .send()
            .await
            .expect("GET /healthz");
        (resp.status().as_u16(), resp.text().await.expect("body"))
    });
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("SHAKEDOWN OK - 1 scenario passed on 1 host"), "{body}");
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let start = Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
}

#[test]
fn listen_takes_a_host_name_and_resolves_it() {
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I run \"true\"\n")]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["serve", "f.feature", "--listen", "localhost:0"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().expect("wait");
    let addr = first.strip_prefix("listening on ").unwrap_or_else(|| panic!("{first}"));
    let addr: std::net::SocketAddr = addr.parse().expect("an address");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_eq!(status.code(), Some(0));

    // A name that does not resolve: exit 2 naming the option, before listening.
    let out = shakedown_in(dir.path(), &["serve", "f.feature", "--listen", "nowhere.invalid:7979"], &[]);
    out.assert_exit(2).assert_contains("nowhere.invalid:7979");
    assert!(!out.stderr.contains("listening on"), "{}", out.stderr);
    let out = shakedown_in(dir.path(), &["serve", "f.feature", "--listen", "localhost"], &[]);
    out.assert_exit(2).assert_contains("HOST:PORT");
}
