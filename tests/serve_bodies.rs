//! The bodies of `shakedown serve` from hand-built runs (no clock, no hosts): golden files
//! for the JSON, the Prometheus text and the Pingdom XML of a failing, a passing and a
//! timed-out run (`UPDATE_GOLDEN=1` rewrites them), the metrics read back by
//! `prometheus-parse`, and the HTTP status of each run.

#[path = "cli/util.rs"]
mod util;

#[path = "reports/events.rs"]
mod events;

use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

use shakedown::event::RunSummary;
use shakedown::serve::metrics::ServerState;
use shakedown::serve::{Snapshot, json, metrics, pingdom};

fn snapshot(summary: RunSummary) -> Snapshot {
    Snapshot {
        summary,
        problems: Vec::new(),
        timeout: Duration::from_secs(50),
        number: 7,
        started: junit_report::OffsetDateTime::UNIX_EPOCH,
        finished_at: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        finished: Instant::now(),
    }
}

fn golden_dir() -> PathBuf {
    util::root().join("fixtures/golden")
}

/// Compares `actual` with the golden file (rewritten under `UPDATE_GOLDEN=1`).
#[track_caller]
fn golden(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(
        actual,
        expected,
        "{} differs (UPDATE_GOLDEN=1 rewrites it)",
        path.display()
    );
}

/// Every body of one run as golden files; the metrics must parse.
fn bodies(name: &str, snap: &Snapshot) -> prometheus_parse::Scrape {
    golden(&format!("serve-{name}.json"), &json::render(snap));
    golden(&format!("serve-{name}.pingdom.xml"), &pingdom::render(snap));
    let text = metrics::render(
        Some(snap),
        ServerState {
            runs: 7,
            running: false,
        },
    );
    golden(&format!("serve-{name}.metrics.txt"), &text);
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("valid Prometheus text")
}

fn sample(scrape: &prometheus_parse::Scrape, name: &str, want: &[(&str, &str)]) -> Vec<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && want.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Counter(v) => v,
            ref other => panic!("{name}: {other:?}"),
        })
        .collect()
}

#[test]
fn a_failing_run_is_unhealthy_and_every_body_says_where() {
    let (_, summary) = events::failing_run();
    let snap = snapshot(summary);
    assert!(!snap.healthy());
    let scrape = bodies("failing", &snap);
    let doc: serde_json::Value = serde_json::from_str(&json::render(&snap)).expect("JSON");
    assert_eq!(doc["status"], "fail");
    let failed: Vec<&serde_json::Value> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["failure"]["expected"].is_string())
        .collect();
    assert!(!failed.is_empty(), "{doc}");
    assert!(
        failed
            .iter()
            .all(|r| r["host"].is_string() && r["failure"]["found"].is_string())
    );
    assert_eq!(sample(&scrape, "shakedown_runs_total", &[]), vec![7.0]);
    assert_eq!(sample(&scrape, "shakedown_last_run_success", &[]), vec![0.0]);
    let passed = sample(&scrape, "shakedown_scenario_passed", &[]);
    assert_eq!(
        passed.len(),
        snap.summary.results.len(),
        "one gauge per scenario × host"
    );
    assert!(!sample(&scrape, "shakedown_measured_value", &[]).is_empty());
    assert!(!pingdom::render(&snap).contains("<status>OK</status>"));
}

#[test]
fn a_passing_run_is_healthy() {
    let (_, summary) = events::subset(|r| r.status == shakedown::event::UnitStatus::Passed);
    let snap = snapshot(summary);
    assert!(snap.healthy());
    let scrape = bodies("passing", &snap);
    assert_eq!(sample(&scrape, "shakedown_last_run_success", &[]), vec![1.0]);
    assert!(pingdom::render(&snap).contains("<status>OK</status>"));
}

#[test]
fn a_timed_out_run_is_unhealthy_and_says_so() {
    let (_, summary) = events::timeout_run();
    let snap = snapshot(summary);
    assert!(!snap.healthy());
    bodies("timeout", &snap);
    assert!(
        snap.summary_line().starts_with("run timed out after 50s (--timeout)"),
        "{}",
        snap.summary_line()
    );
}

#[test]
fn secrets_never_reach_a_body() {
    use shakedown::inventory::secret::Secret;
    use shakedown::steps::{Outcome, StepResult};
    let secret = Secret::new("hunter2-serve-bodies".into());
    let (_, mut summary) = events::failing_run();
    let mut first = (*summary.results[1]).clone();
    let index = first.failure().map(|(i, _)| i).expect("a failed step");
    first.steps[index].0 = StepResult::Failed(Outcome {
        passed: false,
        expected: format!("password {}", secret.expose()),
        found: format!("login as monitor:{} refused", secret.expose()),
        measured: Vec::new(),
    });
    summary.results[1] = std::sync::Arc::new(first);
    let mut snap = snapshot(summary);
    snap.problems.push(format!("cannot write: {}", secret.expose()));
    let metrics = metrics::render(
        Some(&snap),
        ServerState {
            runs: 1,
            running: false,
        },
    );
    let nagios = shakedown::report::nagios::output(&snap.summary, Some(snap.timeout), &snap.problems).1;
    let meta = shakedown::report::junit::Meta {
        started: snap.started,
        hostname: "ci-runner".into(),
    };
    let junit = shakedown::report::junit::render(&snap.summary, &meta);
    for body in [json::render(&snap), pingdom::render(&snap), metrics, nagios, junit] {
        assert!(!body.contains(secret.expose()), "{body}");
    }
    assert!(json::render(&snap).contains("login as monitor:*** refused"));
}
