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
    let out = shakedown_in(
        dir.path(),
        &["serve", "f.feature", "--listen", "nowhere.invalid:7979"],
        &[],
    );
    out.assert_exit(2).assert_contains("nowhere.invalid:7979");
    assert!(!out.stderr.contains("listening on"), "{}", out.stderr);
    let out = shakedown_in(dir.path(), &["serve", "f.feature", "--listen", "localhost"], &[]);
    out.assert_exit(2).assert_contains("HOST:PORT");
}

/// Starts `serve` on a free port in `dir`; returns the child and its address.
fn start_serve(
    dir: &std::path::Path,
    feature: &str,
) -> (
    std::process::Child,
    String,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["serve", feature, "--listen", "127.0.0.1:0"])
        .current_dir(dir)
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
    (child, addr, lines)
}

#[test]
fn a_method_other_than_get_or_head_is_405_with_allow() {
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I run \"true\"\n")]);
    let (mut child, addr, _lines) = start_serve(dir.path(), "f.feature");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    for (method, path) in [
        (reqwest::Method::POST, "/healthz"),
        (reqwest::Method::DELETE, "/metrics"),
    ] {
        let (status, allow) = rt.block_on(async {
            let resp = client
                .request(method.clone(), format!("http://{addr}{path}"))
                .send()
                .await
                .expect("request");
            let allow = resp
                .headers()
                .get("allow")
                .map(|v| v.to_str().expect("ascii").to_string());
            (resp.status().as_u16(), allow)
        });
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(allow.as_deref(), Some("GET, HEAD"), "{method} {path}");
    }
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}

#[test]
fn sigint_during_a_run_is_named_sigint() {
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: Stuck\n    When I run \"touch started; sleep 30\"\n",
    )]);
    let (mut child, addr, lines) = start_serve(dir.path(), "f.feature");
    let waiting = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
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
        })
    });
    let started = dir.path().join("started");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the run never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let (status, body) = waiting.join().expect("the request ends");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with("SHAKEDOWN UNKNOWN - run interrupted (SIGINT)"),
        "{body}"
    );
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "stopped (SIGINT)"), "{rest:?}");
}

#[test]
fn the_json_says_what_changed_since_the_servers_last_run() {
    let dir = suite(&[(
        "f.feature",
        "Feature: F\n  Scenario: Toggle\n    Then the command \"test ! -f broken\" should succeed\n",
    )]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args(["serve", "f.feature", "--listen", "127.0.0.1:0", "--cache", "0s"])
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
    let client = reqwest::Client::builder().no_proxy().build().expect("client");
    let history = || -> serde_json::Value {
        rt.block_on(async {
            let body = client
                .get(format!("http://{addr}/healthz"))
                .header("Accept", "application/json")
                .send()
                .await
                .expect("GET /healthz")
                .text()
                .await
                .expect("body");
            let doc: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            doc["results"][0]["history"].clone()
        })
    };
    assert!(history().is_null(), "the server's first run has no last run");
    assert_eq!(history()["change"], "passing");
    std::fs::write(dir.path().join("broken"), "").expect("break");
    let h = history();
    assert_eq!(
        (h["change"].as_str(), h["since"].is_null()),
        (Some("new_failure"), true),
        "{h}"
    );
    let h = history();
    assert_eq!(h["change"], "still_failing", "{h}");
    assert!(h["since"].as_str().is_some_and(|s| s.starts_with("20")), "{h}");
    std::fs::remove_file(dir.path().join("broken")).expect("repair");
    assert_eq!(history()["change"], "recovered");
    assert_eq!(history()["change"], "passing");
    // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let _ = child.wait();
}
