//! `shakedown serve` against the lab: the real binary on an ephemeral port, a real HTTP
//! client (reqwest), the Prometheus text parsed by `prometheus-parse`, the Pingdom XML by
//! `quick-xml`. A passing run answers 200 in every format; a fault on web2 answers 503 and
//! every format names web2, the scenario, what was expected and what was found, while web1
//! passes; concurrent requests share one run; a slow run blocks neither `/metrics` nor the
//! listener; `--timeout` bounds a run; SIGTERM stops the server with exit 0.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{Lab, Repair, lab, suite};

const WEB: &str = r#"@hosts:web
Feature: Web health

  Scenario: The home page answers fast
    When I request "http://{address}/"
    Then the response status should be 200
    And the response time should be under 2000 ms

  Scenario: The application config is deployed
    When I run "cat /etc/app.conf"
    Then the output should contain "max_conn = 100"
"#;

const SLOW: &str = r#"@hosts:web1
Feature: Slow check

  Scenario: A slow command
    When I run "sleep 3"
    Then the command should succeed
"#;

/// A `shakedown serve` process and a client for it.
struct Server {
    child: Child,
    base: String,
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    stderr: mpsc::Receiver<String>,
}

/// A response: status, content type, body.
struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

impl Server {
    /// Starts `shakedown serve -i LAB --listen 127.0.0.1:0 ARGS` in `dir` and waits for
    /// its `listening on ADDR` line.
    fn start(lab: &Lab, dir: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shakedown"))
            .arg("serve")
            .arg("-i")
            .arg(lab.inventory())
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(dir)
            .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("shakedown serve starts");
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let first = rx.recv_timeout(Duration::from_secs(30)).expect("serve prints a line");
        let addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first stderr line: {first:?}"))
            .to_string();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Server {
            child,
            base: format!("http://{addr}"),
            rt: tokio::runtime::Runtime::new().expect("runtime"),
            client,
            stderr: rx,
        }
    }

    fn get(&self, path: &str, accept: Option<&str>) -> Reply {
        self.rt
            .block_on(fetch(self.client.clone(), format!("{}{path}", self.base), accept))
    }

    /// `/metrics`, parsed.
    fn metrics(&self) -> prometheus_parse::Scrape {
        let reply = self.get("/metrics", None);
        assert_eq!(reply.status, 200);
        assert!(
            reply.content_type.starts_with("text/plain; version=0.0.4"),
            "{}",
            reply.content_type
        );
        let lines = reply.body.lines().map(|l| Ok(l.to_string()));
        prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text")
    }

    /// Sends SIGTERM and returns the exit code (within 10 s) and the rest of stderr.
    fn stop(mut self) -> (i32, String) {
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let rest: Vec<String> = self.stderr.try_iter().collect();
                return (status.code().unwrap_or(-1), rest.join("\n"));
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn fetch(client: reqwest::Client, url: String, accept: Option<&str>) -> Reply {
    let mut req = client.get(&url);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let resp = req.send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = resp.text().await.expect("body");
    Reply {
        status,
        content_type,
        body,
    }
}

/// The value of the sample `name` whose labels include every `(key, value)` of `want`.
fn value(scrape: &prometheus_parse::Scrape, name: &str, want: &[(&str, &str)]) -> f64 {
    let found: Vec<&prometheus_parse::Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && want.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert_eq!(found.len(), 1, "one sample {name} {want:?} in {:#?}", scrape.samples);
    match found[0].value {
        prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Untyped(v) => v,
        ref other => panic!("{name}: unexpected value {other:?}"),
    }
}

/// The text of each element of a small XML document, by element name (quick-xml).
fn xml_fields(xml: &str) -> Vec<(String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut out, mut current) = (Vec::new(), String::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => current = String::from_utf8_lossy(e.name().as_ref()).into_owned(),
            Event::Text(t) => {
                let text = t.decode().expect("text").into_owned();
                let text = quick_xml::escape::unescape(&text).expect("entities").into_owned();
                if !text.trim().is_empty() {
                    out.push((current.clone(), text));
                }
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no <{name}> in {fields:?}"))
}

#[test]
fn healthz_metrics_and_pingdom_pass_then_name_the_failing_host() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("web.feature", WEB)]);
    let secret = lab.mysql_password();

    // Passing run: 200 in every format.
    let server = Server::start(&lab, dir.path(), &["web.feature", "--cache", "60s"]);
    let reply = server.get("/healthz", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.content_type, "application/json");
    let doc: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(doc["status"], "pass");
    assert_eq!(doc["counts"]["scenarios"], 4);
    assert_eq!(doc["counts"]["passed"], 4);
    assert!(
        doc["summary"]
            .as_str()
            .unwrap_or_default()
            .starts_with("4 scenarios passed on 2 hosts"),
        "{doc}"
    );
    let xml = server.get("/healthz", Some("application/xml"));
    assert_eq!(
        (xml.status, xml.content_type.as_str()),
        (200, "application/xml; charset=utf-8")
    );
    assert!(
        xml.body.contains("<testsuite ") && !xml.body.contains("<failure"),
        "{}",
        xml.body
    );
    let nagios = server.get("/healthz", Some("text/plain"));
    assert_eq!(nagios.status, 200);
    assert!(
        nagios.body.starts_with("SHAKEDOWN OK - 4 scenarios passed on 2 hosts"),
        "{}",
        nagios.body
    );
    let scrape = server.metrics();
    for (host, address) in [("web1", "10.77.0.11"), ("web2", "10.77.0.12")] {
        for scenario in ["The home page answers fast", "The application config is deployed"] {
            let labels = [("host", host), ("scenario", scenario)];
            assert_eq!(value(&scrape, "shakedown_scenario_passed", &labels), 1.0);
        }
        let label = format!("{address}/ response time");
        let ms = value(
            &scrape,
            "shakedown_measured_value",
            &[("host", host), ("label", &label), ("unit", "ms"), ("step_line", "7")],
        );
        assert!(ms > 0.0 && ms < 2000.0, "{host} response time {ms}");
    }
    assert_eq!(
        value(&scrape, "shakedown_runs_total", &[]),
        1.0,
        "the cache answered every request"
    );
    assert_eq!(value(&scrape, "shakedown_last_run_success", &[]), 1.0);
    let pingdom = server.get("/pingdom", None);
    assert_eq!(pingdom.status, 200);
    let fields = xml_fields(&pingdom.body);
    assert_eq!(field(&fields, "status"), "OK");
    let ms: f64 = field(&fields, "response_time").parse().expect("a number");
    assert!(ms > 0.0, "{ms}");
    let (code, stderr) = server.stop();
    assert_eq!(code, 0, "SIGTERM stops serve cleanly: {stderr}");

    // A fault on web2: 503, and each format names web2, the check, expected and found.
    let _fault = Repair::inject(
        &lab,
        "web2",
        "sed -i 's/^max_conn = 100/max_conn = 5/' /etc/app.conf",
        "sed -i 's/^max_conn = 5/max_conn = 100/' /etc/app.conf",
    );
    let server = Server::start(&lab, dir.path(), &["web.feature", "--cache", "60s"]);
    let reply = server.get("/healthz", None);
    assert_eq!(reply.status, 503, "{}", reply.body);
    let doc: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["counts"]["failed"], 1);
    let results = doc["results"].as_array().expect("results");
    let failed: Vec<&serde_json::Value> = results.iter().filter(|r| r["status"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{doc}");
    assert_eq!(failed[0]["host"], "web2");
    assert_eq!(failed[0]["scenario"], "The application config is deployed");
    let failure = &failed[0]["failure"];
    assert!(
        failure["expected"]
            .as_str()
            .unwrap_or_default()
            .contains("max_conn = 100"),
        "{failure}"
    );
    assert!(
        failure["found"].as_str().unwrap_or_default().contains("max_conn = 5"),
        "{failure}"
    );
    assert!(
        failure["step"].as_str().unwrap_or_default().contains("web.feature:11"),
        "{failure}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r["host"] == "web1")
            .all(|r| r["status"] == "passed"),
        "web1 passes: {doc}"
    );
    let nagios = server.get("/healthz", Some("text/plain"));
    assert_eq!(nagios.status, 503);
    assert!(
        nagios.body.starts_with("SHAKEDOWN CRITICAL - 1 of 4 scenarios failed"),
        "{}",
        nagios.body
    );
    assert!(
        nagios
            .body
            .contains("CRITICAL web2: The application config is deployed"),
        "{}",
        nagios.body
    );
    let xml = server.get("/healthz", Some("application/xml"));
    assert_eq!(xml.status, 503);
    assert!(
        xml.body.contains("<failure") && xml.body.contains("max_conn = 5"),
        "{}",
        xml.body
    );
    let scrape = server.metrics();
    let config = "The application config is deployed";
    assert_eq!(
        value(
            &scrape,
            "shakedown_scenario_passed",
            &[("host", "web2"), ("scenario", config)]
        ),
        0.0
    );
    assert_eq!(
        value(
            &scrape,
            "shakedown_scenario_passed",
            &[("host", "web1"), ("scenario", config)]
        ),
        1.0
    );
    assert_eq!(value(&scrape, "shakedown_last_run_success", &[]), 0.0);
    assert_eq!(
        value(&scrape, "shakedown_last_run_scenarios", &[("status", "failed")]),
        1.0
    );
    let pingdom = server.get("/pingdom", None);
    assert_eq!(pingdom.status, 503);
    let status = field(&xml_fields(&pingdom.body), "status").to_string();
    assert!(
        status.starts_with("1 of 4 scenarios failed") && status.contains("[web2]"),
        "{status}"
    );
    for body in [&reply.body, &nagios.body, &xml.body, &pingdom.body] {
        assert!(secret.is_empty() || !body.contains(&secret), "a secret in a response");
    }
    let (code, _) = server.stop();
    assert_eq!(code, 0);
}

#[test]
fn concurrent_requests_share_one_run_and_a_slow_run_blocks_nothing() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("slow.feature", SLOW)]);
    let server = Server::start(&lab, dir.path(), &["slow.feature", "--cache", "60s"]);
    let started = Instant::now();
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let url = format!("{}/healthz", server.base);
            server.rt.spawn(fetch(server.client.clone(), url, None))
        })
        .collect();
    // While the run is in flight, /metrics answers at once and says so.
    let mut in_flight = None;
    let deadline = Duration::from_secs(3);
    while in_flight.is_none() && started.elapsed() < deadline {
        let asked = Instant::now();
        let scrape = server.metrics();
        let took = asked.elapsed();
        if value(&scrape, "shakedown_run_in_progress", &[]) == 1.0 {
            in_flight = Some((took, value(&scrape, "shakedown_runs_total", &[])));
        }
    }
    let (took, runs) = in_flight.expect("a run in flight within 3 s");
    assert!(took < Duration::from_millis(500), "/metrics took {took:?} during a run");
    assert_eq!(runs, 1.0);
    // A request arriving now joins the run in flight.
    let late = server.get("/healthz", None);
    let mut numbers = vec![serde_json::from_str::<serde_json::Value>(&late.body).expect("JSON")["run"].clone()];
    for r in requests {
        let reply = server.rt.block_on(r).expect("request task");
        assert_eq!(reply.status, 200, "{}", reply.body);
        numbers.push(serde_json::from_str::<serde_json::Value>(&reply.body).expect("JSON")["run"].clone());
    }
    let total = started.elapsed();
    assert!(numbers.iter().all(|n| n == 1), "every request got run 1: {numbers:?}");
    assert!(
        total < Duration::from_secs(8),
        "9 requests on a 3 s suite took {total:?}"
    );
    eprintln!("9 concurrent /healthz on a 3 s suite: {total:?}; /metrics during the run: {took:?}");
    let scrape = server.metrics();
    assert_eq!(value(&scrape, "shakedown_runs_total", &[]), 1.0, "exactly one run");
    assert_eq!(value(&scrape, "shakedown_run_in_progress", &[]), 0.0);
}

#[test]
fn a_run_is_bounded_by_timeout() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("slow.feature", SLOW)]);
    let server = Server::start(&lab, dir.path(), &["slow.feature", "--timeout", "1s"]);
    let asked = Instant::now();
    let reply = server.get("/healthz", None);
    let took = asked.elapsed();
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(took < Duration::from_millis(2900), "the 1 s deadline fired: {took:?}");
    let doc: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(doc["results"][0]["status"], "timed_out", "{doc}");
    assert!(
        doc["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("run timed out after 1s"),
        "{doc}"
    );
}

#[test]
fn sigterm_during_a_run_ends_it_answers_503_and_exits_0() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("slow.feature", SLOW)]);
    let server = Server::start(&lab, dir.path(), &["slow.feature"]);
    let waiting = server.rt.spawn(fetch(
        server.client.clone(),
        format!("{}/healthz", server.base),
        Some("text/plain"),
    ));
    let started = Instant::now();
    while value(&server.metrics(), "shakedown_run_in_progress", &[]) != 1.0 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "no run in flight within 3 s"
        );
    }
    let reply_rt = tokio::runtime::Runtime::new().expect("runtime");
    let asked = Instant::now();
    let handle = std::thread::spawn(move || server.stop());
    let reply = reply_rt.block_on(waiting).expect("request task");
    let (code, _) = handle.join().expect("stop");
    let took = asked.elapsed();
    assert_eq!(code, 0);
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(
        reply.body.starts_with("SHAKEDOWN UNKNOWN - run interrupted"),
        "{}",
        reply.body
    );
    assert!(
        took < Duration::from_millis(2500),
        "stopped in {took:?}, before the 3 s step ended"
    );
}
