//! Judging what a pack step's action produced: each expectation in order (the first that
//! does not hold is the failure), then the measured value against its limit, worded like
//! the built-in steps ("expected crontab of deploy containing "backup", found ...").
//! Pure: no host, no network, so every wording is unit-tested here.

use super::compile::{Expectation, Limit, Measure, MeasureSource, PackStep, Stream};
use crate::inventory::Host;
use crate::probes::http::{json_at, json_text};
use crate::probes::mysql::parse::TextRows;
use crate::steps::expect::{contains, excerpt, matches};
use crate::steps::{Measurement, Outcome, Range, StepError, StepOutput};
use crate::template::{Context, Template};

/// What an action produced, for the expectations.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// `` `crontab -l -u deploy` ``, `GET http://...` or `query "..."`.
    pub what: String,
    /// Exit status of a command (`None`: killed by a signal, or not a command).
    pub exit: Option<i32>,
    /// Command stdout (MySQL: the first value).
    pub stdout: String,
    /// Command stderr.
    pub stderr: String,
    /// HTTP status.
    pub status: Option<u16>,
    /// `200 OK`.
    pub status_line: String,
    /// Response body as text.
    pub body: String,
    /// Response body as received (for JSON).
    pub raw_body: Vec<u8>,
    /// MySQL result.
    pub rows: Option<TextRows>,
}

/// One judgement: the step, what it saw, its captures and host.
pub(super) struct Judge<'a> {
    step: &'a PackStep,
    seen: &'a Seen,
    caps: &'a [String],
    host: Option<&'a Host>,
}

impl<'a> Judge<'a> {
    /// A judgement of `seen` by `step`'s expectations.
    pub(super) fn new(step: &'a PackStep, seen: &'a Seen, caps: &'a [String], host: Option<&'a Host>) -> Self {
        Judge { step, seen, caps, host }
    }

    fn render(&self, t: &Template, ctx: Context) -> Result<String, StepError> {
        t.render(ctx, self.caps, self.host).map_err(StepError::Other)
    }

    /// How failures name a stream: the step's `what`, or a generated name.
    fn what(&self, stream: Stream) -> Result<String, StepError> {
        if let Some(w) = &self.step.what {
            return self.render(w, Context::Raw);
        }
        Ok(match stream {
            Stream::Stdout => format!("output of {}", self.seen.what),
            Stream::Stderr => format!("stderr of {}", self.seen.what),
            Stream::Body => format!("response to {}", self.seen.what),
        })
    }

    fn text(&self, stream: Stream) -> &str {
        match stream {
            Stream::Stdout => &self.seen.stdout,
            Stream::Stderr => &self.seen.stderr,
            Stream::Body => &self.seen.body,
        }
    }

    /// The verdict: the first expectation that fails, else the measured value's check.
    pub(super) fn outcome(&self) -> StepOutput {
        let mut last = Outcome::pass(format!("{} to succeed", self.seen.what), "it did");
        for e in &self.step.expect {
            let outcome = self.one(e)?;
            if !outcome.passed {
                return Ok(outcome);
            }
            last = outcome;
        }
        match &self.step.measure {
            Some(m) => self.measure(m),
            None => Ok(last),
        }
    }

    fn one(&self, e: &Expectation) -> StepOutput {
        let seen = self.seen;
        Ok(match e {
            Expectation::Exit(n) => {
                let named = match &self.step.what {
                    Some(w) => format!("{} ({})", self.render(w, Context::Raw)?, seen.what),
                    None => seen.what.clone(),
                };
                let ok = seen.exit.map(i64::from) == Some(*n);
                Outcome::check(ok, format!("{named} to exit {n}"), status_text(seen))
            }
            Expectation::Status(t) => {
                let text = self.render(t, Context::Raw)?;
                let n: u16 = text
                    .trim()
                    .parse()
                    .map_err(|_| StepError::Other(format!("expect.status {text:?} is not a status code")))?;
                Outcome::check(
                    seen.status == Some(n),
                    format!("{} to answer status {n}", seen.what),
                    format!("status {}", seen.status_line),
                )
            }
            Expectation::Equals(s, t) => {
                // Both sides trimmed: a TOML multi-line string ends with a line break too.
                let rendered = self.render(t, Context::Raw)?;
                let want = rendered.trim();
                let found = self.text(*s).trim();
                Outcome::check(
                    found == want,
                    format!("{} to be {want:?}", self.what(*s)?),
                    excerpt(found),
                )
            }
            Expectation::Contains(s, t, negate) => {
                contains(&self.what(*s)?, self.text(*s), &self.render(t, Context::Raw)?, *negate)
            }
            Expectation::Matches(s, t) => matches(&self.what(*s)?, self.text(*s), &self.render(t, Context::Regex)?)?,
            Expectation::Value(t) => self.value(&self.render(t, Context::Raw)?),
            Expectation::Rows(n) => {
                let got = seen.rows.as_ref().map(|r| r.rows.len()).unwrap_or(0);
                let expected = format!("{} returning at least {n} row(s)", seen.what);
                Outcome::check(got as u64 >= *n, expected, format!("{got} row(s)"))
            }
            Expectation::Json(p, v) => self.json(&self.render(p, Context::Raw)?, &self.render(v, Context::Raw)?),
        })
    }

    fn value(&self, want: &str) -> Outcome {
        let expected = format!("{} returning {want:?}", self.seen.what);
        match self.seen.rows.as_ref().and_then(TextRows::first_value) {
            None => Outcome::fail(expected, "no rows"),
            Some(v) => {
                let got = v.unwrap_or("NULL");
                Outcome::check(got == want, expected, format!("{got:?}"))
            }
        }
    }

    fn json(&self, path: &str, want: &str) -> Outcome {
        let expected = format!("JSON at \"{path}\" of {} to be {want:?}", self.seen.what);
        match json_at(&self.seen.raw_body, path) {
            Ok(v) => {
                let found = json_text(&v);
                Outcome::check(found == want, expected, format!("{found:?}"))
            }
            Err(e) => Outcome::fail(expected, e),
        }
    }

    /// The measured number: `Ok(Err(outcome))` when none could be read.
    fn number(&self, m: &Measure) -> Result<Result<f64, Outcome>, StepError> {
        let seen = self.seen;
        let haystack = if seen.status.is_some() {
            &seen.body
        } else {
            &seen.stdout
        };
        let label = self.render(&m.label, Context::Raw)?;
        let (how, number) = match &m.source {
            MeasureSource::Regex(t) => {
                let pattern = self.render(t, Context::Regex)?;
                let re = crate::steps::expect::regex(&pattern)?;
                let got = re
                    .captures(haystack)
                    .and_then(|c| c.get(1).or_else(|| c.get(0)))
                    .map(|m| m.as_str().trim().to_string());
                (format!("/{pattern}/ in the output of {}", seen.what), got)
            }
            MeasureSource::Json(t) => {
                let path = self.render(t, Context::Raw)?;
                let got = json_at(&seen.raw_body, &path).ok().map(|v| json_text(&v));
                (format!("JSON at \"{path}\" of {}", seen.what), got)
            }
        };
        Ok(match number.as_deref().map(str::parse::<f64>) {
            Some(Ok(v)) => Ok(v),
            _ => Err(Outcome::fail(
                format!("{label}: a number from {how}"),
                number
                    .map(|n| format!("{n:?}"))
                    .unwrap_or_else(|| format!("no match in {}", excerpt(haystack))),
            )),
        })
    }

    fn measure(&self, m: &Measure) -> StepOutput {
        let value = match self.number(m)? {
            Ok(v) => v,
            Err(outcome) => return Ok(outcome),
        };
        let unit = &m.unit;
        let show = |v: f64| format!("{v}{}{unit}", if unit.is_empty() || unit == "%" { "" } else { " " });
        let limit = |t: &Template| limit_value(&self.render(t, Context::Raw)?, unit);
        let label = &self.render(&m.label, Context::Raw)?;
        let (ok, expected, crit) = match &m.limit {
            None => (true, format!("{label} measured"), None),
            Some(Limit::Between(lo, hi)) => {
                let (lo, hi) = (limit(lo)?, limit(hi)?);
                let expected = format!("{label} between {} and {}", show(lo), show(hi));
                ((lo..=hi).contains(&value), expected, Some(Range::between(lo, hi)))
            }
            Some(one) => {
                // The range holds exactly the values that pass (a pack's number may be
                // negative or fractional: `~:` and `@` forms, never a plain `0..` range).
                type Rule = (fn(f64, f64) -> bool, fn(f64) -> Range);
                let (t, words, (ok, range)): (&Template, &str, Rule) = match one {
                    Limit::LessThan(t) => (t, "under", (|v, l| v < l, |l| Range::under(l, false))),
                    Limit::AtMost(t) => (t, "at most", (|v, l| v <= l, Range::at_most)),
                    Limit::MoreThan(t) => (t, "over", (|v, l| v > l, Range::over)),
                    Limit::AtLeast(t) => (t, "at least", (|v, l| v >= l, Range::at_least)),
                    Limit::Equals(t) | Limit::Between(t, _) => (t, "of", (|v, l| v == l, Range::exactly)),
                };
                let l = limit(t)?;
                (ok(value, l), format!("{label} {words} {}", show(l)), Some(range(l)))
            }
        };
        Ok(Outcome::check(ok, expected, show(value)).with(Measurement {
            label: label.clone(),
            value,
            unit: unit.clone(),
            warn: None,
            crit,
        }))
    }
}

/// `exit status 1, output "..."` as the command steps word it.
fn status_text(seen: &Seen) -> String {
    crate::outcome::exit_text(seen.exit, &format!("{}{}", seen.stdout, seen.stderr))
}

/// A limit: a number, or a duration (`10 minutes`) in the measure's unit (`ms` or seconds).
pub(super) fn limit_value(text: &str, unit: &str) -> Result<f64, StepError> {
    if let Ok(n) = text.trim().parse::<f64>() {
        return Ok(n);
    }
    let d = crate::steps::expect::duration(text)
        .map_err(|e| StepError::Other(format!("limit \"{text}\" is neither a number nor a duration: {e}")))?;
    Ok(if unit == "ms" {
        d.as_secs_f64() * 1000.0
    } else {
        d.as_secs_f64()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packs::{PackSource, compile::compile_pack};

    fn step(toml: &str) -> PackStep {
        let source = PackSource {
            file: "steps/t.toml".into(),
            text: toml.into(),
            builtin: false,
        };
        compile_pack(&source).expect("compiles").remove(0)
    }

    fn cmd(exit: i32, stdout: &str) -> Seen {
        Seen {
            what: "`crontab -l -u deploy`".into(),
            exit: Some(exit),
            stdout: stdout.into(),
            ..Seen::default()
        }
    }

    #[test]
    fn contains_with_what_and_regex_escaped_captures() {
        let s = step(
            "[[step]]\nsentence = \"c {string} {string}\"\nparams = [\"user\", \"entry\"]\nexample = 'Then c \"a\" \"b\"'\ncommand = \"crontab -l -u {user}\"\nwhat = \"crontab of {user}\"\nexpect = { stdout_contains = \"{entry}\", stdout_matches = ' {entry}$' }\n",
        );
        let caps = ["deploy".to_string(), "/x.sh".to_string()];
        let ok = Judge::new(&s, &cmd(0, "0 3 * * * /x.sh\n"), &caps, None)
            .outcome()
            .unwrap();
        assert!(ok.passed, "{ok:?}");
        let bad = Judge::new(&s, &cmd(0, "0 3 * * * /y.sh\n"), &caps, None)
            .outcome()
            .unwrap();
        assert_eq!(bad.expected, "crontab of deploy containing \"/x.sh\"");
        assert_eq!(bad.found, "\"0 3 * * * /y.sh\"");
        // A capture with regex syntax is matched literally.
        let caps = ["deploy".to_string(), ".*".to_string()];
        let lit = Judge::new(&s, &cmd(0, "0 3 * * * .* xy\n"), &caps, None)
            .outcome()
            .unwrap();
        assert!(!lit.passed, "unescaped, ` .*$` would match");
        assert_eq!(lit.expected, r"crontab of deploy matching / \.\*$/");
        let exit = Judge::new(&s, &cmd(1, "no crontab for deploy"), &caps, None)
            .outcome()
            .unwrap();
        assert_eq!(exit.expected, "crontab of deploy (`crontab -l -u deploy`) to exit 0");
        assert_eq!(exit.found, "exit status 1, output \"no crontab for deploy\"");
    }

    #[test]
    fn measured_values_with_duration_limits() {
        let s = step(
            "[[step]]\nsentence = \"m within {duration}\"\nparams = [\"limit\"]\nexample = 'Then m within 10 minutes'\ncommand = \"ps\"\nmeasure = { label = \"process age\", regex = '(\\d+)', unit = \"s\", at_most = \"{limit}\" }\n",
        );
        let caps = ["10 minutes".to_string()];
        let young = Judge::new(&s, &cmd(0, "   42\n"), &caps, None).outcome().unwrap();
        assert!(young.passed);
        assert_eq!(young.measured[0].value, 42.0);
        assert_eq!(young.measured[0].crit, Some(Range::at_most(600.0)));
        let old = Judge::new(&s, &cmd(0, "4210\n"), &caps, None).outcome().unwrap();
        assert_eq!(
            (old.expected.as_str(), old.found.as_str()),
            ("process age at most 600 s", "4210 s")
        );
        let none = Judge::new(&s, &cmd(0, "nothing\n"), &caps, None).outcome().unwrap();
        assert_eq!(none.found, "no match in \"nothing\"");
    }

    #[test]
    fn measure_labels_take_placeholders_and_equals_trims_both_sides() {
        let s = step(
            "[[step]]\nsentence = \"count {string}\"\nparams = [\"what\"]\nexample = 'Then count \"x\"'\ncommand = \"ls\"\nexpect.stdout_equals = \"\"\"\n3\n\"\"\"\nmeasure = { label = \"count of {what} on {name}\", regex = '(\\d+)' }\n",
        );
        let caps = ["files".to_string()];
        let host = crate::inventory::Host::local("web1");
        let out = Judge::new(&s, &cmd(0, "3\n"), &caps, Some(&host)).outcome().unwrap();
        assert!(out.passed, "the expected value is trimmed as the output is: {out:?}");
        assert_eq!(out.measured[0].label, "count of files on web1");
        let bad = Judge::new(&s, &cmd(0, "4\n"), &caps, Some(&host)).outcome().unwrap();
        assert_eq!(bad.expected, "output of `crontab -l -u deploy` to be \"3\"");
    }

    #[test]
    fn http_status_json_and_between() {
        let s = step(
            "[[step]]\nsentence = \"h\"\nexample = 'Then h'\nhttp = { url = \"http://x/\" }\nexpect = { status = 200, json_path = \"status\", json_equals = \"ok\" }\nmeasure = { label = \"items\", json_path = \"n\", between = [\"1\", \"3\"] }\n",
        );
        let seen = |status: u16, body: &str| Seen {
            what: "GET http://x/".into(),
            status: Some(status),
            status_line: format!("{status}"),
            body: body.into(),
            raw_body: body.as_bytes().to_vec(),
            ..Seen::default()
        };
        let ok = Judge::new(&s, &seen(200, r#"{"status":"ok","n":2}"#), &[], None)
            .outcome()
            .unwrap();
        assert!(ok.passed, "{ok:?}");
        let st = Judge::new(&s, &seen(500, "{}"), &[], None).outcome().unwrap();
        assert_eq!(
            (st.expected.as_str(), st.found.as_str()),
            ("GET http://x/ to answer status 200", "status 500")
        );
        let js = Judge::new(&s, &seen(200, r#"{"status":"down","n":2}"#), &[], None)
            .outcome()
            .unwrap();
        assert_eq!(js.found, "\"down\"");
        let many = Judge::new(&s, &seen(200, r#"{"status":"ok","n":7}"#), &[], None)
            .outcome()
            .unwrap();
        assert_eq!(
            (many.expected.as_str(), many.found.as_str()),
            ("items between 1 and 3", "7")
        );
    }
}
