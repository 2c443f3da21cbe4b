//! Reports: consumers of the run's [`Event`] stream. Streaming ones (the console) write as
//! events arrive; aggregating ones (JUnit, JSON, Nagios) collect and write in `finish`.
//! Reports never schedule and never decide exit statuses.

pub mod console;

use crate::event::{Event, RunSummary};

/// A report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the {report} report to {target}: {source}")]
pub struct ReportError {
    /// Which report.
    pub report: &'static str,
    /// Where it was going.
    pub target: String,
    /// Why.
    pub source: std::io::Error,
}

/// One consumer of the event stream.
pub trait Report: Send {
    /// Sees every event, in order.
    fn on_event(&mut self, event: &Event);
    /// Called once at the end with the summary.
    fn finish(self: Box<Self>, summary: &RunSummary) -> Result<(), ReportError>;
}

/// Every report of a run, fed the same events.
pub struct Reports {
    reports: Vec<Box<dyn Report>>,
}

impl Reports {
    /// The reports of this run, targets already opened.
    pub fn new(reports: Vec<Box<dyn Report>>) -> Self {
        Reports { reports }
    }

    /// Passes an event to every report.
    pub fn on_event(&mut self, event: &Event) {
        for r in &mut self.reports {
            r.on_event(event);
        }
    }

    /// Finishes every report; the first error is returned after all have been tried.
    pub fn finish(self, summary: &RunSummary) -> Result<(), ReportError> {
        let mut first = None;
        for r in self.reports {
            if let Err(e) = r.finish(summary) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}
