//! One passive service result per (host, feature): what `shakedown check` would say about
//! that host's scenarios of that feature alone (state, status line, perfdata, long output,
//! all from the structured [`crate::report::nagios::result`]), for NSCA and the Icinga 2 API.

use std::sync::Arc;
use std::time::Duration;

use crate::event::RunSummary;
use crate::report::nagios::{self, State};

/// The result of one service (feature) on one host.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServiceResult {
    /// Host name as in the inventory.
    pub host: String,
    /// Service name: the feature's name (its file name when it has none).
    pub service: String,
    /// The plugin state.
    pub state: State,
    /// The status line as `check` prints it (`SHAKEDOWN CRITICAL - ...`), without perfdata.
    pub status: String,
    /// Long output lines (one per failed scenario).
    pub long: Vec<String>,
    /// Perfdata items, each as written on the status line.
    pub perfdata: Vec<String>,
}

impl ServiceResult {
    /// Plugin output as Nagios stores it: status line, ` | ` perfdata, then long output
    /// on the following lines.
    pub(crate) fn plugin_output(&self) -> String {
        let mut out = self.status.clone();
        if !self.perfdata.is_empty() {
            out.push_str(" | ");
            out.push_str(&self.perfdata.join(" "));
        }
        for line in &self.long {
            out.push('\n');
            out.push_str(line);
        }
        out
    }
}

/// The results per (host, feature), in plan order. Units without a host count as
/// `localhost` (the local transport).
pub(crate) fn service_results(summary: &RunSummary, timeout: Option<Duration>) -> Vec<ServiceResult> {
    let mut groups: Vec<(String, RunSummary)> = Vec::new();
    for r in &summary.results {
        let host = r.unit.host.clone().unwrap_or_else(|| "localhost".into());
        let same =
            |(h, s): &&mut (String, RunSummary)| *h == host && Arc::ptr_eq(&s.results[0].unit.feature, &r.unit.feature);
        match groups.iter_mut().find(|g| same(g)) {
            Some((_, s)) => s.results.push(r.clone()),
            None => groups.push((
                host,
                RunSummary {
                    results: vec![r.clone()],
                    ..summary.clone()
                },
            )),
        }
    }
    groups
        .into_iter()
        .map(|(host, part)| {
            let service = crate::report::feature_title(&part.results[0].unit.feature);
            let plugin = nagios::result(&part, timeout, &[]);
            ServiceResult {
                host,
                service,
                state: plugin.state,
                status: plugin.status,
                long: plugin.long,
                perfdata: plugin.perfdata,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{UnitResult, UnitStatus};
    use crate::outcome::{Measurement, Outcome, Range, StepResult};
    use crate::suite::{Feature, Scenario, Step, StepKind, Unit};

    /// A run of one feature on web2: a pass, and a failure with a measured value.
    fn web2_run() -> RunSummary {
        let step = |text: &str, line| Step {
            keyword: "Then ".into(),
            kind: StepKind::Unknown,
            text: text.into(),
            line,
            column: 5,
            doc_string: None,
            table: None,
        };
        let scenario = |name: &str, line| Scenario {
            name: name.into(),
            keyword: "Scenario".into(),
            line,
            column: 3,
            tags: Vec::new(),
            rule: None,
            steps: vec![step("the page | loads fast", line + 1)],
            row: None,
        };
        let feature = Arc::new(Feature {
            path: "features/web.feature".into(),
            name: "Web".into(),
            keyword: "Feature".into(),
            line: 1,
            tags: Vec::new(),
            description: String::new(),
            scenarios: vec![scenario("Home", 3), scenario("Login", 6)],
        });
        let result = |i: usize, r: StepResult| {
            let status = if r.is_failure() {
                UnitStatus::Failed
            } else {
                UnitStatus::Passed
            };
            Arc::new(UnitResult {
                unit: Arc::new(Unit {
                    id: format!("u{i}"),
                    feature: feature.clone(),
                    scenario: Arc::new(feature.scenarios[i].clone()),
                    host: Some("web2".into()),
                }),
                status,
                steps: vec![(r, Duration::from_millis(5))],
                attempts: 1,
                duration: Duration::from_millis(5),
                earlier: Vec::new(),
                converging: None,
                since: None,
            })
        };
        let time = Measurement {
            label: "home time".into(),
            value: 812.0,
            unit: "ms".into(),
            warn: None,
            crit: Some(Range::under(500.0, false)),
        };
        RunSummary {
            results: vec![
                result(
                    0,
                    StepResult::Failed(Outcome::fail("under 500 ms", "812 ms").with(time)),
                ),
                result(1, StepResult::Passed(Outcome::pass("200", "200"))),
            ],
            duration: Duration::from_millis(1200),
            ..RunSummary::default()
        }
    }

    #[test]
    fn a_service_result_is_the_check_output_of_its_host_and_feature_read_as_data() {
        let summary = web2_run();
        let timeout = Some(Duration::from_secs(50));
        let results = service_results(&summary, timeout);
        assert_eq!(results.len(), 1);
        let r = &results[0];
        let (state, text) = nagios::output(&summary, timeout, &[]);
        assert_eq!((r.host.as_str(), r.service.as_str(), r.state), ("web2", "Web", state));
        assert_eq!(format!("{}\n", r.plugin_output()), text);
        // What the text once was parsed back into, item by item.
        let first = text.lines().next().unwrap_or_default();
        let (status, perf) = first.split_once(" | ").unwrap_or((first, ""));
        let parsed: Vec<String> = crate::report::perfdata::parse_perfdata(perf)
            .map(|items| items.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        assert_eq!(r.status, status);
        assert_eq!(r.perfdata, parsed);
        assert_eq!(r.long, text.lines().skip(1).collect::<Vec<_>>());
    }

    #[test]
    fn plugin_output_is_the_nagios_text_without_its_last_newline() {
        let r = ServiceResult {
            host: "web2".into(),
            service: "Web".into(),
            state: State::Critical,
            status: "SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: Home [web2]".into(),
            long: vec!["CRITICAL web2: Home: slow".into()],
            perfdata: vec!["scenarios=2".into(), "'web2 home time'=812ms;;500".into()],
        };
        let text = "SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: Home [web2] | scenarios=2 'web2 home time'=812ms;;500\nCRITICAL web2: Home: slow\n";
        assert_eq!(r.plugin_output(), text.trim_end());
        let plugin = nagios::PluginResult {
            state: r.state,
            status: r.status.clone(),
            perfdata: r.perfdata.clone(),
            long: r.long.clone(),
        };
        assert_eq!(plugin.render(), text);
    }
}
