//! Where a report's text goes, and the one redaction every text leaving shakedown passes.
//!
//! A [`Target`] is a report's output: stdout or a file opened when the report is made
//! (before any host is contacted, so a bad path is bad input). Its one way out,
//! [`Target::write`], redacts the whole text with [`scrub`], so a report cannot write a
//! secret by forgetting to redact: it never holds the file, only the target.
//!
//! [`scrub`] is the one function texts go through when they leave by another way than a
//! target: serve's HTTP bodies (every body passes it in `serve::http`, where responses are
//! made) and notify's messages (delivery problems, the mail, passive results). A function
//! rather than a sink there, because those texts are handed to libraries (hyper, lettre,
//! reqwest) that own the writing. Writers whose format escapes text (XML, JSON, Prometheus
//! labels) and the Nagios writer (which cuts lines to a length) also scrub each value
//! before escaping or cutting: an escaped or cut secret no longer matches, so the target's
//! scrub of the finished text could not find it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::ReportError;

/// Every known secret in `text` replaced by `***` ([`crate::inventory::secret::redact`]).
pub(crate) fn scrub(text: &str) -> String {
    crate::inventory::secret::redact(text)
}

/// A report's output: stdout, or a file opened when the report was made.
#[derive(Debug)]
pub(crate) struct Target {
    /// The report writing here (named in errors: `cannot write the JUnit report to ...`).
    report: &'static str,
    place: Place,
}

#[derive(Debug)]
enum Place {
    Stdout,
    File { path: PathBuf, file: File },
}

impl Target {
    /// Standard output.
    pub(crate) fn stdout(report: &'static str) -> Self {
        Target {
            report,
            place: Place::Stdout,
        }
    }

    /// Creates (or empties) `path` now, before any host is contacted, so a bad path is bad
    /// input.
    pub(crate) fn file(report: &'static str, path: &Path) -> Result<Self, ReportError> {
        let file = File::create(path).map_err(|source| ReportError {
            report,
            target: path.display().to_string(),
            source,
        })?;
        Ok(Target {
            report,
            place: Place::File {
                path: path.to_path_buf(),
                file,
            },
        })
    }

    /// Writes `text` with every secret redacted, and flushes. A closed stdout (a pipe whose
    /// reader left, `| head`) is not an error.
    pub(crate) fn write(&mut self, text: &str) -> Result<(), ReportError> {
        let text = scrub(text);
        let (result, target) = match &mut self.place {
            Place::Stdout => {
                let mut out = std::io::stdout().lock();
                let r = out.write_all(text.as_bytes()).and_then(|()| out.flush());
                (r.or_else(ignore_broken_pipe), "stdout".to_string())
            }
            Place::File { path, file } => (
                file.write_all(text.as_bytes()).and_then(|()| file.flush()),
                path.display().to_string(),
            ),
        };
        result.map_err(|source| ReportError {
            report: self.report,
            target,
            source,
        })
    }
}

fn ignore_broken_pipe(e: std::io::Error) -> std::io::Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, RunSummary};
    use crate::inventory::secret::Secret;
    use crate::report::{Report, Reports};

    /// A report written without a thought for secrets: it writes what it saw, raw.
    struct Careless {
        target: Target,
        seen: String,
    }

    impl Report for Careless {
        fn on_event(&mut self, _event: &Event) {
            self.seen.push_str("token=toy-report-canary-41c7\n");
        }

        fn finish(mut self: Box<Self>, _summary: &RunSummary) -> Result<(), ReportError> {
            let text = std::mem::take(&mut self.seen);
            self.target.write(&text)
        }
    }

    #[test]
    fn a_report_that_never_redacts_cannot_leak_a_secret() {
        let _secret = Secret::new("toy-report-canary-41c7".into());
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("toy.txt");
        let toy = Careless {
            target: Target::file("toy", &path).expect("open"),
            seen: String::new(),
        };
        let mut reports = Reports::new(vec![Box::new(toy)]);
        reports.on_event(&Event::RunStarted { total: 1 });
        reports.finish(&RunSummary::default()).expect("written");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "token=***\n");
    }

    #[test]
    fn a_bad_path_fails_when_the_target_is_opened() {
        let e = Target::file("JUnit", Path::new("/nonexistent-dir/r.xml")).expect_err("no dir");
        assert!(
            e.to_string()
                .starts_with("cannot write the JUnit report to /nonexistent-dir/r.xml: "),
            "{e}"
        );
    }
}
