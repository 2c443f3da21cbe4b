//! Web farm against the lab: features/web.feature passes on web1, web2, lb1 and app1; then
//! each HTTP and HAProxy sentence fails for the right reason on the host where a fault was
//! made (nginx answering 500 on web2, a slow path, nginx stopped so HAProxy marks web2
//! DOWN, web1 put in MAINT through the admin socket, states read from the stats CSV URL
//! instead of the socket), while the other hosts pass.

use std::time::Duration;

use crate::util::{Lab, Repair, Run, lab, suite, wait_until};

const SHOW_STAT: &str = "echo 'show stat' | socat stdio /run/haproxy/admin.sock";

/// The status HAProxy gives a server of backend app right now.
fn haproxy_status(lab: &Lab, server: &str) -> String {
    let csv = lab.exec("lb1", SHOW_STAT);
    let prefix = format!("app,{server},");
    let line = csv
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_default()
        .to_string();
    line.split(',').nth(17).unwrap_or_default().to_string()
}

/// Waits until HAProxy sees both web servers UP (after a repair, or a test that panicked).
fn wait_backend_up(lab: &Lab) {
    wait_until("HAProxy sees web1 and web2 UP", Duration::from_secs(20), || {
        haproxy_status(lab, "web1") == "UP" && haproxy_status(lab, "web2") == "UP"
    });
}

/// Runs one feature file (in a temp dir) with extra arguments.
fn run_suite(lab: &Lab, feature: &str, extra: &[&str]) -> Run {
    let dir = suite(&[("web.feature", feature)]);
    let mut args = vec!["run", "web.feature", "--format", "pretty"];
    args.extend_from_slice(extra);
    lab.shakedown_in(dir.path(), &args)
}

/// A feature of one scenario per `(name, steps)`, all under `@hosts:TAG`.
fn feature(tag: &str, scenarios: &[(&str, &str)]) -> String {
    let mut text = format!("@hosts:{tag}\nFeature: Web faults\n");
    for (name, steps) in scenarios {
        text.push_str(&format!("\n  Scenario: {name}\n"));
        for line in steps.lines() {
            text.push_str(&format!("    {}\n", line.trim()));
        }
    }
    text
}

/// The report block of one scenario run (`FAILED: name [host]` up to the next scenario).
fn block<'a>(stdout: &'a str, head: &str) -> &'a str {
    let start = stdout.find(head).unwrap_or_else(|| panic!("no {head:?} in:\n{stdout}"));
    let rest = &stdout[start..];
    let end = rest[1..]
        .find("\n✓ ")
        .or_else(|| rest[1..].find("\n✗ "))
        .or_else(|| rest[1..].find("\nFailed:"));
    &rest[..end.map(|e| e + 1).unwrap_or(rest.len())]
}

/// `name` failed on `bad` with a found line containing `found`, and passed on `good`.
#[track_caller]
fn fails_only_on(run: &Run, name: &str, bad: &str, good: &str, found: &str) {
    let b = block(&run.stdout, &format!("FAILED: {name} [{bad}]"));
    let line = b
        .lines()
        .find(|l| l.trim_start().starts_with("found:"))
        .unwrap_or_default();
    assert!(
        line.contains(found),
        "{name} [{bad}]: found line {line:?} lacks {found:?}:\n{b}"
    );
    run.assert_contains(&format!("✓ {name} [{good}]"));
}

#[test]
fn the_web_feature_passes_on_the_lab_with_measured_response_times() {
    let Some(lab) = lab() else { return };
    wait_backend_up(&lab);
    let dir = tempfile::tempdir().expect("temp dir");
    let junit = dir.path().join("web.xml");
    let junit = junit.to_str().expect("utf-8");
    let run = lab.shakedown(&[
        "run",
        "features/web.feature",
        "-t",
        "not @deploy",
        "--format",
        "pretty",
        "--junit",
        junit,
    ]);
    run.assert_exit(0)
        .assert_contains("19 scenarios (19 passed) on 4 hosts");
    let xml = std::fs::read_to_string(junit).expect("junit written");
    for label in [
        "10.77.0.11/health response time = ",
        "10.77.0.12/ response time max = ",
        "scenario response time p95 = ",
        "10.77.0.21/health response time median = ",
        "www.shakedown.test:443 certificate days left = ",
        "requests per second = ",
        "backend app servers UP = 2",
    ] {
        assert!(
            xml.contains(label),
            "measured value {label:?} in the JUnit report:\n{xml}"
        );
    }
}

/// Issue 18, items 6 and 8: a whole URL from `{vars.app_url}` passes lint (URLs are checked
/// after each host's values are put in, as the run does) and the run; quotes inside quoted
/// arguments, escaped in `"..."` or bare in `'...'`, match the JSON body.
#[test]
fn a_url_from_a_variable_and_quotes_in_arguments_pass_lint_and_run() {
    let Some(lab) = lab() else { return };
    let text = feature(
        "web",
        &[(
            "health from app_url",
            r#"When I request "{vars.app_url}health"
            Then the response status should be 200
            And the response should contain "\"status\":\"ok\""
            And the response should contain '"host":"{name}"'
            And the JSON at 'status' should be "ok""#,
        )],
    );
    let dir = suite(&[("web.feature", &text)]);
    lab.shakedown_in(dir.path(), &["lint", "web.feature"]).assert_exit(0);
    run_suite(&lab, &text, &[])
        .assert_exit(0)
        .assert_contains("2 scenarios (2 passed) on 2 hosts");
}

#[test]
fn nginx_answering_500_on_web2_fails_every_content_sentence_there_only() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(&lab, "web2", "touch /var/www/FAIL", "rm -f /var/www/FAIL");
    let req = "When I request \"http://{address}/\"";
    let health = "When I request \"http://{address}/health\"";
    let text = feature(
        "web",
        &[
            ("Status", &format!("{req}\nThen the response status should be 200")),
            ("Not 500", &format!("{req}\nThen the response status should not be 500")),
            (
                "Contains",
                &format!("{req}\nThen the response should contain \"Welcome to {{name}}\""),
            ),
            (
                "Matches",
                &format!("{req}\nThen the response should match /Welcome to web[0-9]/"),
            ),
            (
                "No error page",
                &format!("{req}\nThen the response should not contain \"500 Internal Server Error\""),
            ),
            (
                "Header",
                &format!("{health}\nThen the response header \"Content-Type\" should contain \"json\""),
            ),
            (
                "JSON",
                &format!("{health}\nThen the JSON at \"data.items.0.name\" should be \"a\""),
            ),
            (
                "Redirect",
                "When I request \"http://{address}/old\"\nThen the response should redirect to \"http://{address}/new\"",
            ),
            (
                "Post",
                "When I send a POST request to \"http://{address}/api\" with body:\n\"\"\"\n{\"ping\": true}\n\"\"\"\nThen the JSON at \"method\" should be \"POST\"",
            ),
            (
                "Accept header",
                "When I request \"http://{address}/health\" with header \"Accept: application/json\"\nThen the response status should be 200",
            ),
            (
                "Via",
                "When I request \"http://www.shakedown.test/health\" via \"{address}\"\nThen the response status should be 200",
            ),
            (
                "Repeated",
                "When I request \"http://{address}/health\" 5 times\nThen the response status should be 200",
            ),
        ],
    );
    let run = run_suite(&lab, &text, &[]);
    run.assert_exit(1)
        .assert_contains("24 scenarios (12 passed, 12 failed) on 2 hosts");
    let ise = "500 Internal Server Error";
    fails_only_on(&run, "Status", "web2", "web1", &format!("{ise}, body \"<html>"));
    fails_only_on(&run, "Not 500", "web2", "web1", ise);
    fails_only_on(
        &run,
        "Contains",
        "web2",
        "web1",
        "<center><h1>500 Internal Server Error</h1></center>",
    );
    fails_only_on(&run, "Matches", "web2", "web1", "500 Internal Server Error");
    fails_only_on(&run, "No error page", "web2", "web1", "500 Internal Server Error");
    fails_only_on(&run, "Header", "web2", "web1", "Content-Type: text/html");
    fails_only_on(
        &run,
        "JSON",
        "web2",
        "web1",
        "a body that is not JSON (expected value at line 1 column 1), first bytes: \"<html>",
    );
    fails_only_on(
        &run,
        "Redirect",
        "web2",
        "web1",
        "500 Internal Server Error, no Location header",
    );
    fails_only_on(&run, "Post", "web2", "web1", "a body that is not JSON");
    fails_only_on(&run, "Accept header", "web2", "web1", ise);
    fails_only_on(&run, "Via", "web2", "web1", ise);
    fails_only_on(
        &run,
        "Repeated",
        "web2",
        "web1",
        "500 Internal Server Error (all 5: 500 ×5)",
    );
    run.assert_contains("expected: status 200 from GET http://10.77.0.12/")
        .assert_contains("expected: a redirect (3xx) from GET http://10.77.0.12/old to http://10.77.0.12/new")
        .assert_contains("expected: status 200 from GET http://10.77.0.12/health (last of 5)");
}

#[test]
fn a_slow_path_on_web2_fails_the_time_limits_there_and_the_step_timeout_says_so() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(&lab, "web2", "echo 0.6 > /var/www/DELAY", "rm -f /var/www/DELAY");
    let text = feature(
        "web",
        &[
            (
                "Under",
                "When I request \"http://{address}/slow\"\nThen the response time should be under 400 ms",
            ),
            (
                "Each",
                "When I request \"http://{address}/slow\" 3 times\nThen the response time should be under 400 ms",
            ),
            (
                "P95",
                "When I request \"http://{address}/health\" 2 times\nAnd I request \"http://{address}/slow\"\nThen the 95th percentile response time should be under 400 ms",
            ),
        ],
    );
    let run = run_suite(&lab, &text, &[]);
    run.assert_exit(1)
        .assert_contains("6 scenarios (3 passed, 3 failed) on 2 hosts");
    fails_only_on(&run, "Under", "web2", "web1", " ms");
    fails_only_on(&run, "Each", "web2", "web1", "3 of 3 too slow: #1 6");
    fails_only_on(&run, "P95", "web2", "web1", " ms over 3 requests of this scenario");
    run.assert_contains("expected: GET http://10.77.0.12/slow answered in under 400 ms")
        .assert_contains("expected: each of the 3 requests GET http://10.77.0.12/slow answered in under 400 ms")
        .assert_contains("expected: 95th percentile response time under 400 ms");
    let under = block(&run.stdout, "FAILED: Under [web2]");
    let ms: f64 = under
        .lines()
        .find_map(|l| l.trim().strip_prefix("found:"))
        .and_then(|f| f.trim().strip_suffix(" ms"))
        .and_then(|n| n.parse().ok())
        .expect("found: N ms");
    assert!((600.0..2000.0).contains(&ms), "the 0.6 s delay is measured: {ms} ms");

    // A request slower than the step timeout is cut at the timeout, and says so.
    let _longer = Repair::inject(&lab, "web2", "echo 3 > /var/www/DELAY", "rm -f /var/www/DELAY");
    let text = feature(
        "web",
        &[(
            "Timeout",
            "When I request \"http://{address}/slow\"\nThen the response status should be 200",
        )],
    );
    let run = run_suite(&lab, &text, &["--step-timeout", "1s"]);
    run.assert_exit(1);
    fails_only_on(
        &run,
        "Timeout",
        "web2",
        "web1",
        "no response: timed out after 1s (GET http://10.77.0.12/slow)",
    );
}

#[test]
fn nginx_stopped_on_web2_is_refused_and_haproxy_marks_it_down() {
    let Some(lab) = lab() else { return };
    wait_backend_up(&lab);
    let lb = feature(
        "lb",
        &[
            ("All UP", "Then the HAProxy backend \"app\" should have all servers UP"),
            (
                "At least 2",
                "Then the HAProxy backend \"app\" should have at least 2 servers UP",
            ),
            (
                "At least 1",
                "Then the HAProxy backend \"app\" should have at least 1 servers UP",
            ),
            (
                "web1 UP",
                "Then the server \"web1\" in HAProxy backend \"app\" should be UP",
            ),
            (
                "web2 UP",
                "Then the server \"web2\" in HAProxy backend \"app\" should be UP",
            ),
        ],
    );
    run_suite(&lab, &lb, &[])
        .assert_exit(0)
        .assert_contains("5 scenarios (5 passed) on 1 host");
    {
        let _fault = Repair::inject(&lab, "web2", "/etc/lab/svc stop nginx", "/etc/lab/svc start nginx");
        wait_until("HAProxy marks web2 DOWN", Duration::from_secs(20), || {
            haproxy_status(&lab, "web2") == "DOWN"
        });
        let run_lb = run_suite(&lab, &lb, &[]);
        run_lb
            .assert_exit(1)
            .assert_contains("5 scenarios (2 passed, 3 failed) on 1 host");
        // ": Connection refused" follows unless HAProxy's next check is in progress.
        let down = "web2 DOWN (L4CON Layer4 connection problem";
        for name in ["All UP", "At least 2", "web2 UP"] {
            let b = block(&run_lb.stdout, &format!("FAILED: {name} [lb1]"));
            assert!(b.contains(down), "{name}: {b}");
        }
        run_lb
            .assert_contains("found:    1 of 2 UP: web1 UP; web2 DOWN (L4CON")
            .assert_contains("expected: server web2 in HAProxy backend app UP")
            .assert_contains("✓ At least 1 [lb1]")
            .assert_contains("✓ web1 UP [lb1]");
        let web = feature(
            "web",
            &[(
                "Home",
                "When I request \"http://{address}/\"\nThen the response status should be 200",
            )],
        );
        let run_web = run_suite(&lab, &web, &[]);
        run_web.assert_exit(1);
        fails_only_on(
            &run_web,
            "Home",
            "web2",
            "web1",
            "no response: connection failed (GET http://10.77.0.12/)",
        );
        fails_only_on(&run_web, "Home", "web2", "web1", "Connection refused");
    }
    wait_backend_up(&lab);
}

#[test]
fn web1_put_in_maint_through_the_admin_socket_is_seen_in_maint() {
    let Some(lab) = lab() else { return };
    wait_backend_up(&lab);
    let deploy = ["-t", "@deploy"];
    let before = lab.shakedown(&[
        "run",
        "features/web.feature",
        "--format",
        "pretty",
        deploy[0],
        deploy[1],
    ]);
    before
        .assert_exit(1)
        .assert_contains("FAILED: web1 is drained for its deploy and web2 carries the traffic [lb1]")
        .assert_contains("expected: server web1 in HAProxy backend app in MAINT")
        .assert_contains("found:    web1 UP; others: web2 UP");
    {
        let _fault = Repair::inject(
            &lab,
            "lb1",
            "echo 'set server app/web1 state maint' | socat stdio /run/haproxy/admin.sock",
            "echo 'set server app/web1 state ready' | socat stdio /run/haproxy/admin.sock",
        );
        let during = lab.shakedown(&[
            "run",
            "features/web.feature",
            "--format",
            "pretty",
            deploy[0],
            deploy[1],
        ]);
        during.assert_exit(0).assert_contains("1 scenario (1 passed) on 1 host");
        let all = run_suite(
            &lab,
            &feature(
                "lb",
                &[
                    ("All UP", "Then the HAProxy backend \"app\" should have all servers UP"),
                    (
                        "web1 UP",
                        "Then the server \"web1\" in HAProxy backend \"app\" should be UP",
                    ),
                    (
                        "No such server",
                        "Then the server \"web3\" in HAProxy backend \"app\" should be UP",
                    ),
                    (
                        "No such backend",
                        "Then the HAProxy backend \"api\" should have all servers UP",
                    ),
                ],
            ),
            &[],
        );
        all.assert_exit(1)
            .assert_contains("found:    1 of 2 UP: web1 MAINT; web2 UP")
            .assert_contains("found:    web1 MAINT; others: web2 UP")
            .assert_contains("found:    no server web3 in backend app (servers: web1, web2)")
            .assert_contains("no backend \"api\" with servers (backends: app, stats)");
    }
    wait_backend_up(&lab);
}

#[test]
fn certificates_are_read_even_self_signed_and_the_short_one_fails() {
    let Some(lab) = lab() else { return };
    let text = feature(
        "web",
        &[
            (
                "By address",
                "Then the TLS certificate for \"{address}:443\" should be valid for at least 30 days",
            ),
            (
                "By name",
                "Then the TLS certificate for \"www.shakedown.test:443\" via \"{address}\" should be valid for at least 30 days",
            ),
            (
                "Short",
                "Then the TLS certificate for \"short.shakedown.test:443\" via \"{address}\" should be valid for at least 30 days",
            ),
            (
                "Not TLS",
                "Then the TLS certificate for \"{address}:80\" should be valid for at least 30 days",
            ),
            (
                "Closed",
                "Then the TLS certificate for \"{address}:8443\" should be valid for at least 30 days",
            ),
            (
                "Verified HTTPS",
                "When I request \"https://www.shakedown.test/\" via \"{address}\"",
            ),
        ],
    );
    let run = run_suite(&lab, &text, &[]);
    run.assert_exit(1)
        .assert_contains("12 scenarios (4 passed, 8 failed) on 2 hosts");
    for host in ["web1", "web2"] {
        run.assert_contains(&format!("✓ By address [{host}]"))
            .assert_contains(&format!("✓ By name [{host}]"));
        let short = block(&run.stdout, &format!("FAILED: Short [{host}]"));
        assert!(
            short.contains("days left (CN=short.shakedown.test, self-signed)"),
            "{short}"
        );
        assert!(short.contains("found:    expires 20"), "the expiry date: {short}");
        let not_tls = block(&run.stdout, &format!("FAILED: Not TLS [{host}]"));
        assert!(not_tls.contains("TLS handshake with 10.77.0.1"), "{not_tls}");
        let closed = block(&run.stdout, &format!("FAILED: Closed [{host}]"));
        assert!(closed.contains(":8443: Connection refused"), "{closed}");
        let https = block(&run.stdout, &format!("FAILED: Verified HTTPS [{host}]"));
        assert!(
            https.contains("TLS handshake failed") && https.contains("CA certificate"),
            "an HTTPS request verifies: {https}"
        );
    }
}

#[test]
fn a_request_via_a_backend_names_that_backend_in_its_failure() {
    let Some(lab) = lab() else { return };
    let text = feature(
        "web1",
        &[
            (
                "By name",
                "When I request \"http://www.shakedown.test/health\" via \"web2\"\nThen the response status should be 201",
            ),
            (
                "By address",
                "When I request \"http://www.shakedown.test/health\" via \"{address}\"\nThen the JSON at \"host\" should be \"web2\"",
            ),
            (
                "Refused",
                "When I request \"http://www.shakedown.test:8443/\" via \"{address}\"",
            ),
        ],
    );
    let run = run_suite(&lab, &text, &[]);
    run.assert_exit(1)
        .assert_contains("3 scenarios (0 passed, 3 failed) on 1 host")
        .assert_contains("expected: status 201 from GET http://www.shakedown.test/health via web2 (10.77.0.12)")
        .assert_contains(
            "expected: JSON at \"host\" of GET http://www.shakedown.test/health via web1 (10.77.0.11) = \"web2\"",
        )
        .assert_contains("expected: a response to GET http://www.shakedown.test:8443/ via web1 (10.77.0.11)")
        .assert_contains(
            "found:    no response: connection failed (GET http://www.shakedown.test:8443/ via 10.77.0.11:8443): ",
        );
}

#[test]
fn tls_failures_read_as_sentences_not_rust_debug_text() {
    let Some(lab) = lab() else { return };
    let text = feature(
        "web1",
        &[
            (
                "Verified HTTPS",
                "When I request \"https://www.shakedown.test/\" via \"{address}\"",
            ),
            (
                "Not TLS",
                "Then the TLS certificate for \"{address}:80\" should be valid for at least 30 days",
            ),
        ],
    );
    let run = run_suite(&lab, &text, &[]);
    run.assert_exit(1)
        .assert_contains("2 scenarios (0 passed, 2 failed) on 1 host")
        .assert_contains(
            "found:    no response: TLS handshake failed (GET https://www.shakedown.test/ via 10.77.0.11:443): the certificate is a CA certificate used as the server's own (end-entity) certificate",
        )
        .assert_contains("found:    TLS handshake with 10.77.0.11:80 failed: the server did not answer in TLS");
    for debug in ["Other(", "OtherError", "CaUsedAsEndEntity", "InvalidContentType"] {
        assert!(!run.all().contains(debug), "{debug:?} in:\n{}", run.all());
    }
}

#[test]
fn apache_request_rate_is_read_from_mod_status() {
    let Some(lab) = lab() else { return };
    let text = feature(
        "app",
        &[
            (
                "Band",
                "Then Apache on \"{address}\" should be serving between 0 and 500 requests per second",
            ),
            (
                "Busy",
                "Then Apache on \"{address}\" should be serving between 5 and 500 requests per second",
            ),
            (
                "Not Apache",
                "Then Apache on \"web1\" should be serving between 0 and 500 requests per second",
            ),
        ],
    );
    let run = run_suite(&lab, &text, &[]);
    run.assert_exit(1)
        .assert_contains("✓ Band [app1]")
        .assert_contains(
            "expected: Apache at http://10.77.0.41/server-status?auto serving between 5 and 500 requests per second",
        )
        .assert_contains("requests per second (ReqPerSec, Apache's average since it started")
        .assert_contains("found:    http://10.77.0.11/server-status?auto answered 404 Not Found");
    let _fault = Repair::inject(&lab, "app1", "/etc/lab/svc stop apache2", "/etc/lab/svc start apache2");
    let stopped = run_suite(&lab, &text, &[]);
    stopped
        .assert_exit(1)
        .assert_contains("FAILED: Band [app1]")
        .assert_contains("Connection refused");
}

/// The lab inventory with lb1 reading HAProxy's stats CSV over HTTP (`haproxy_stats_url`)
/// instead of the admin socket over SSH.
fn inventory_with_stats_url(lab: &Lab, url: &str) -> String {
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let from = r#"vars = { haproxy_socket = "/run/haproxy/admin.sock" }"#;
    assert!(inv.contains(from), "lb1 vars changed in the lab inventory:\n{inv}");
    inv.replace(from, &format!("vars = {{ haproxy_stats_url = {url:?} }}"))
}

#[test]
fn haproxy_states_are_read_from_the_stats_csv_url_when_the_host_sets_it() {
    let Some(lab) = lab() else { return };
    wait_backend_up(&lab);
    let text = feature(
        "lb",
        &[
            ("All UP", "Then the HAProxy backend \"app\" should have all servers UP"),
            (
                "web1 UP",
                "Then the server \"web1\" in HAProxy backend \"app\" should be UP",
            ),
            (
                "No such backend",
                "Then the HAProxy backend \"api\" should have all servers UP",
            ),
        ],
    );
    let dir = suite(&[("web.feature", &text)]);
    let run_with = |url: &str| {
        std::fs::write(dir.path().join("inv.toml"), inventory_with_stats_url(&lab, url)).expect("write inventory");
        crate::util::cli_util_shakedown_in(
            dir.path(),
            &["run", "-i", "inv.toml", "web.feature", "--format", "pretty"],
        )
    };
    let good = "http://{address}:8404/stats;csv";
    let healthy = run_with(good);
    healthy
        .assert_exit(1)
        .assert_contains("3 scenarios (2 passed, 1 failed) on 1 host")
        .assert_contains("✓ All UP [lb1]")
        .assert_contains("✓ web1 UP [lb1]")
        .assert_contains("(read from stats CSV http://10.77.0.21:8404/stats;csv)");
    {
        let _fault = Repair::inject(
            &lab,
            "lb1",
            "echo 'set server app/web1 state maint' | socat stdio /run/haproxy/admin.sock",
            "echo 'set server app/web1 state ready' | socat stdio /run/haproxy/admin.sock",
        );
        let maint = run_with(good);
        maint
            .assert_exit(1)
            .assert_contains("3 scenarios (0 passed, 3 failed) on 1 host")
            .assert_contains("found:    1 of 2 UP: web1 MAINT; web2 UP")
            .assert_contains("found:    web1 MAINT; others: web2 UP");
    }
    let wrong = run_with("http://{address}:8404/nope");
    wrong
        .assert_exit(1)
        .assert_contains("3 scenarios (0 passed, 3 failed) on 1 host")
        .assert_contains("error: stats CSV http://10.77.0.21:8404/nope answered 503 Service Unavailable");
    wait_backend_up(&lab);
}
