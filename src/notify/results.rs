//! One passive service result per (host, feature): what `shakedown check` would say about
//! that host's scenarios of that feature alone (state, status line, perfdata, long output,
//! all from the structured [`crate::report::nagios::result`]), for NSCA and the Icinga 2 API.

use std::sync::Arc;
use std::time::Duration;

use crate::event::RunSummary;
use crate::report::nagios::{self, State};

/// The result of one service (feature) on one host.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceResult {
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
    pub fn plugin_output(&self) -> String {
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
pub fn service_results(summary: &RunSummary, timeout: Option<Duration>) -> Vec<ServiceResult> {
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
