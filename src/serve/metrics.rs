//! `/metrics` in the Prometheus text exposition format (version 0.0.4): per scenario ×
//! host a pass/fail gauge, a status and a duration, every measured value (as in the
//! Nagios perfdata, with its unit as a label), and the server's own run counter. Label
//! values are escaped as the format requires; secrets are redacted.

use std::fmt::Write;

use super::Snapshot;
use super::json::status_word;
use crate::event::{UnitResult, UnitStatus};
use crate::report::feature_title;
use crate::report::target::scrub;

/// What the server knows besides the last run.
#[derive(Debug, Clone, Copy)]
pub struct ServerState {
    /// Runs started since the server started.
    pub runs: u64,
    /// Whether a run is in flight now.
    pub running: bool,
}

/// The whole exposition: server metrics always, run metrics once a run has finished.
pub fn render(last: Option<&Snapshot>, server: ServerState) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "shakedown_runs_total",
        "counter",
        "Runs started since the server started.",
    );
    sample(&mut out, "shakedown_runs_total", &[], server.runs as f64);
    family(
        &mut out,
        "shakedown_run_in_progress",
        "gauge",
        "1 while a run is in flight.",
    );
    sample(
        &mut out,
        "shakedown_run_in_progress",
        &[],
        f64::from(u8::from(server.running)),
    );
    let Some(snap) = last else {
        return out;
    };
    run_metrics(&mut out, snap);
    unit_metrics(&mut out, snap);
    out
}

fn run_metrics(out: &mut String, snap: &Snapshot) {
    let s = &snap.summary;
    let finished = snap
        .finished_at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    let gauges: [(&str, &str, f64); 4] = [
        (
            "shakedown_last_run_success",
            "1 when every scenario of the last run passed.",
            f64::from(u8::from(snap.healthy())),
        ),
        (
            "shakedown_last_run_timestamp_seconds",
            "When the last run finished, Unix time.",
            finished,
        ),
        (
            "shakedown_last_run_duration_seconds",
            "Wall time of the last run.",
            s.duration.as_secs_f64(),
        ),
        (
            "shakedown_last_run_number",
            "The number of the last finished run (1 = first).",
            snap.number as f64,
        ),
    ];
    for (name, help, value) in gauges {
        family(out, name, "gauge", help);
        sample(out, name, &[], value);
    }
    family(
        out,
        "shakedown_last_run_scenarios",
        "gauge",
        "Scenario × host pairs of the last run, by status.",
    );
    for status in [
        UnitStatus::Passed,
        UnitStatus::Failed,
        UnitStatus::TimedOut,
        UnitStatus::Skipped,
    ] {
        let n = s.count(status) as f64;
        sample(
            out,
            "shakedown_last_run_scenarios",
            &[("status", status_word(status).into())],
            n,
        );
    }
}

fn unit_metrics(out: &mut String, snap: &Snapshot) {
    let results = &snap.summary.results;
    family(
        out,
        "shakedown_scenario_passed",
        "gauge",
        "1 when the scenario passed on the host in the last run, 0 otherwise.",
    );
    for r in results {
        let v = f64::from(u8::from(r.status == UnitStatus::Passed));
        sample(out, "shakedown_scenario_passed", &labels(r), v);
    }
    family(
        out,
        "shakedown_scenario_status",
        "gauge",
        "1 for the scenario's status in the last run.",
    );
    for r in results {
        let mut l = labels(r);
        l.push(("status", status_word(r.status).into()));
        sample(out, "shakedown_scenario_status", &l, 1.0);
    }
    family(
        out,
        "shakedown_scenario_duration_seconds",
        "gauge",
        "Wall time of the scenario's last attempt.",
    );
    for r in results {
        sample(
            out,
            "shakedown_scenario_duration_seconds",
            &labels(r),
            r.duration.as_secs_f64(),
        );
    }
    family(
        out,
        "shakedown_measured_value",
        "gauge",
        "A value a step measured (as in the Nagios perfdata), in its unit.",
    );
    for r in results {
        for (i, (step, _)) in r.steps.iter().enumerate() {
            for m in step.measured() {
                let mut l = labels(r);
                let line = r.unit.scenario.steps.get(i).map_or(0, |s| s.line);
                l.push(("step_line", line.to_string()));
                l.push(("label", scrub(&m.label)));
                l.push(("unit", m.unit.clone()));
                sample(out, "shakedown_measured_value", &l, m.value);
            }
        }
    }
}

/// The labels naming one unit: file and line make them unique (outline rows share names).
fn labels(r: &UnitResult) -> Vec<(&'static str, String)> {
    let unit = &r.unit;
    vec![
        ("feature", scrub(&feature_title(&unit.feature))),
        ("scenario", scrub(&unit.scenario.title())),
        ("host", unit.host.clone().unwrap_or_default()),
        ("file", unit.feature.path.display().to_string()),
        ("line", unit.scenario.line.to_string()),
    ]
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, String)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let _ = write!(out, "{{{}}}", inner.join(","));
    }
    let _ = writeln!(out, " {}", number(value));
}

/// A label value as the text format requires: `\` `"` and line feeds escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Prometheus' spelling of a float (`NaN`, `+Inf`, `-Inf`, or the number).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        crate::report::number(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut out = String::new();
        sample(&mut out, "x", &[("scenario", "say \"hi\"".into())], 0.25);
        assert_eq!(out, "x{scenario=\"say \\\"hi\\\"\"} 0.25\n");
    }

    #[test]
    fn before_the_first_run_only_server_metrics() {
        let out = render(None, ServerState { runs: 1, running: true });
        assert!(out.contains("shakedown_runs_total 1\n"), "{out}");
        assert!(out.contains("shakedown_run_in_progress 1\n"), "{out}");
        assert!(!out.contains("shakedown_scenario_passed"), "{out}");
    }
}
