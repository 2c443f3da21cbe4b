//! Nagios performance data as the Monitoring Plugins development guidelines define it:
//! `'label'=value[UOM];[warn];[crit];[min];[max]`, labels quoted when they hold a space or a
//! quote (a quote doubled), `=` never in a label, UOMs only `s ms us % B KB MB TB c` or none.
//! Values in other units are converted or given without a UOM, never with an invalid one.
//! Thresholds are [`Range`]s in the guidelines' range syntax, each the exact set of values
//! the step lets pass.

use std::fmt;

use super::number;
pub use crate::outcome::Range;

/// One performance data item.
#[derive(Debug, Clone, PartialEq)]
pub struct Perf {
    /// The label, unquoted (quoted when written).
    pub label: String,
    /// The value.
    pub value: f64,
    /// One of the guidelines' UOMs, or empty.
    pub uom: &'static str,
    /// Warning threshold.
    pub warn: Option<Range>,
    /// Critical threshold: the values the step lets pass.
    pub crit: Option<Range>,
    /// Minimum possible value.
    pub min: Option<f64>,
    /// Maximum possible value.
    pub max: Option<f64>,
}

impl Perf {
    /// A count (no UOM).
    pub fn count(label: &str, value: usize) -> Self {
        Perf {
            label: label.into(),
            value: value as f64,
            uom: "",
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }

    /// A duration in seconds.
    pub fn seconds(label: &str, value: f64) -> Self {
        Perf {
            label: label.into(),
            value,
            uom: "s",
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }

    /// A value in `unit` (as steps spell it), converted to a guidelines UOM; thresholds are
    /// converted with it. `None` for a value that is not a number.
    pub fn measured(label: &str, value: f64, unit: &str, warn: Option<Range>, crit: Option<Range>) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        let (factor, uom) = uom(unit);
        let scale = |r: Option<Range>| r.filter(Range::is_finite).map(|r| r.scaled(factor));
        let (min, max) = if uom == "%" {
            (Some(0.0), Some(100.0))
        } else {
            (None, None)
        };
        Some(Perf {
            label: label.into(),
            value: value * factor,
            uom,
            warn: scale(warn),
            crit: scale(crit),
            min,
            max,
        })
    }
}

/// The guidelines' UOM for a unit as steps spell it, and the factor to convert values.
pub fn uom(unit: &str) -> (f64, &'static str) {
    match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => (1.0, "s"),
        "ms" | "millisecond" | "milliseconds" => (1.0, "ms"),
        "us" | "µs" | "microsecond" | "microseconds" => (1.0, "us"),
        "ns" | "nanoseconds" => (0.001, "us"),
        "%" | "percent" => (1.0, "%"),
        "B" | "b" | "byte" | "bytes" => (1.0, "B"),
        "KB" | "kB" | "KiB" => (1.0, "KB"),
        "MB" | "MiB" => (1.0, "MB"),
        "GB" | "GiB" => (1024.0, "MB"),
        "TB" | "TiB" => (1.0, "TB"),
        "c" => (1.0, "c"),
        _ => (1.0, ""),
    }
}

/// A label as written in perfdata: `=` and `|` replaced, control characters dropped,
/// quoted when it holds a space or a quote (quotes doubled).
pub fn label(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| match c {
            '=' => ':',
            '|' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let clean = clean.trim();
    if clean.contains([' ', '\'']) {
        format!("'{}'", clean.replace('\'', "''"))
    } else {
        clean.to_string()
    }
}

impl fmt::Display for Perf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<f64>| v.map(number).unwrap_or_default();
        let range = |r: Option<Range>| r.map(|r| r.to_string()).unwrap_or_default();
        let mut text = format!(
            "{}={}{};{};{};{};{}",
            label(&self.label),
            number(self.value),
            self.uom,
            range(self.warn),
            range(self.crit),
            opt(self.min),
            opt(self.max)
        );
        while text.ends_with(';') {
            text.pop();
        }
        f.write_str(&text)
    }
}

/// Parses a perfdata string (what Nagios stores after ` | `) back into items; used by the
/// tests to read what Nagios recorded.
pub fn parse_perfdata(text: &str) -> Result<Vec<Perf>, String> {
    let mut items = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (label, after) = if let Some(quoted) = rest.strip_prefix('\'') {
            let mut end = None;
            let bytes = quoted.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    end = Some(i);
                    break;
                }
                i += 1;
            }
            let end = end.ok_or_else(|| format!("unterminated quote in {rest:?}"))?;
            (quoted[..end].replace("''", "'"), &quoted[end + 1..])
        } else {
            let eq = rest.find('=').ok_or_else(|| format!("no '=' in {rest:?}"))?;
            (rest[..eq].to_string(), &rest[eq..])
        };
        let after = after
            .strip_prefix('=')
            .ok_or_else(|| format!("no '=' after label {label:?}"))?;
        let end = after.find(' ').unwrap_or(after.len());
        items.push(parse_item(label, &after[..end])?);
        rest = after[end..].trim_start();
    }
    Ok(items)
}

fn parse_item(label: String, text: &str) -> Result<Perf, String> {
    let mut fields = text.split(';');
    let first = fields.next().unwrap_or_default();
    let split = first
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(first.len());
    let value: f64 = first[..split]
        .parse()
        .map_err(|_| format!("bad value {first:?} for {label:?}"))?;
    let uom = match &first[split..] {
        "" => "",
        u => ["s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"]
            .into_iter()
            .find(|k| *k == u)
            .ok_or_else(|| format!("bad UOM {u:?} for {label:?}"))?,
    };
    let mut range = || -> Result<Option<Range>, String> {
        match fields.next() {
            None | Some("") => Ok(None),
            Some(v) => Range::parse(v)
                .map(Some)
                .map_err(|e| format!("bad threshold {v:?} for {label:?}: {e}")),
        }
    };
    let (warn, crit) = (range()?, range()?);
    let mut num = || -> Result<Option<f64>, String> {
        match fields.next() {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("bad min or max {v:?} for {label:?}")),
        }
    };
    let (min, max) = (num()?, num()?);
    Ok(Perf {
        label,
        value,
        uom,
        warn,
        crit,
        min,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_follow_the_guidelines() {
        let p = Perf::measured("web1 home time", 123.0, "ms", None, Some(Range::up_to(500.0))).expect("finite");
        assert_eq!(p.to_string(), "'web1 home time'=123ms;;500");
        assert_eq!(Perf::count("scenarios", 14).to_string(), "scenarios=14");
        let pct = Perf::measured(
            "db1 / use",
            42.5,
            "%",
            Some(Range::up_to(80.0)),
            Some(Range::under(90.0, true)),
        )
        .expect("finite");
        assert_eq!(pct.to_string(), "'db1 / use'=42.5%;80;89;0;100");
        let odd = Perf::measured("lag", 3.0, "fortnights", None, None).expect("finite");
        assert_eq!(odd.to_string(), "lag=3");
        assert!(Perf::measured("x", f64::NAN, "ms", None, None).is_none());
    }

    #[test]
    fn labels_are_quoted_and_cleaned() {
        assert_eq!(label("plain"), "plain");
        assert_eq!(label("it's a=b|c"), "'it''s a:b/c'");
        assert_eq!(label("two\nlines"), "'two lines'");
    }

    #[test]
    fn gigabytes_become_megabytes() {
        let p = Perf::measured("disk", 2.0, "GB", None, Some(Range::between(1.0, 4.0))).expect("finite");
        assert_eq!(p.to_string(), "disk=2048MB;;1024:4096");
    }

    #[test]
    fn parse_reads_back_what_we_write() {
        let items = vec![
            Perf::count("scenarios", 3),
            Perf::measured(
                "web1 it's time",
                12.5,
                "ms",
                Some(Range::up_to(100.0)),
                Some(Range::under(500.0, false)),
            )
            .expect("finite"),
            Perf::measured("load", 0.25, "", None, None).expect("finite"),
            Perf::measured("up", 2.0, "", None, Some(Range::at_least(1.0))).expect("finite"),
            Perf::measured("age", -3.0, "s", None, Some(Range::at_most(600.0))).expect("finite"),
            Perf::measured("rows", 0.0, "", None, Some(Range::over(0.0))).expect("finite"),
        ];
        let text: Vec<String> = items.iter().map(ToString::to_string).collect();
        assert_eq!(parse_perfdata(&text.join(" ")), Ok(items));
        assert!(parse_perfdata("x=1parsecs").is_err());
        assert!(parse_perfdata("'open=1").is_err());
        assert!(parse_perfdata("x=1;;8:1").is_err());
    }

    /// The table of the Monitoring Plugins development guidelines ("Threshold and
    /// ranges"): what each range alerts on.
    #[test]
    fn ranges_alert_as_the_guidelines_say() {
        let alerts = |text: &str, value: f64| Range::parse(text).expect(text).alerts(value);
        // `10`: outside 0..10.
        assert!(alerts("10", -1.0) && alerts("10", 11.0) && !alerts("10", 0.0) && !alerts("10", 10.0));
        // `10:`: below 10.
        assert!(alerts("10:", 9.9) && !alerts("10:", 10.0) && !alerts("10:", 1e9));
        // `~:10`: above 10.
        assert!(alerts("~:10", 10.5) && !alerts("~:10", -1e9) && !alerts("~:10", 10.0));
        // `10:20`: outside 10..20.
        assert!(alerts("10:20", 9.0) && alerts("10:20", 21.0) && !alerts("10:20", 10.0) && !alerts("10:20", 20.0));
        // `@10:20`: inside 10..20.
        assert!(alerts("@10:20", 10.0) && alerts("@10:20", 20.0) && !alerts("@10:20", 9.0) && !alerts("@10:20", 21.0));
        for bad in ["", "x", "1:x", "20:10", "@", "1:2:3", "~"] {
            assert!(Range::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ranges_are_written_in_the_shortest_form_and_read_back() {
        let cases = [
            (Range::up_to(8.0), "8"),
            (Range::at_least(1.0), "1:"),
            (Range::at_least(0.0), "0:"),
            (Range::between(1.0, 8.0), "1:8"),
            (Range::exactly(4.0), "4:4"),
            (Range::at_most(600.0), "~:600"),
            (Range::at_most(-1.0), "~:-1"),
            (Range::under(500.0, false), "@500:"),
            (Range::under(90.0, true), "89"),
            (Range::under(0.0, true), "@0:"),
            (Range::under(2.5, true), "@2.5:"),
            (Range::over(0.0), "@~:0"),
        ];
        for (range, text) in cases {
            assert_eq!(range.to_string(), text);
            assert_eq!(Range::parse(text), Ok(range), "{text}");
        }
    }

    /// Each constructor's range lets pass exactly the values its comparison does.
    #[test]
    fn ranges_match_the_comparisons_of_the_steps() {
        let values = [-2.0, -1.0, 0.0, 0.5, 1.0, 7.0, 7.5, 8.0, 8.5, 9.0, 100.0];
        for v in values {
            assert_eq!(!Range::at_least(1.0).alerts(v), v >= 1.0, "{v}");
            assert_eq!(!Range::at_most(8.0).alerts(v), v <= 8.0, "{v}");
            assert_eq!(!Range::between(1.0, 8.0).alerts(v), (1.0..=8.0).contains(&v), "{v}");
            assert_eq!(!Range::exactly(8.0).alerts(v), v == 8.0, "{v}");
            assert_eq!(!Range::under(8.0, false).alerts(v), v < 8.0, "{v}");
            assert_eq!(!Range::over(1.0).alerts(v), v > 1.0, "{v}");
            if v >= 0.0 {
                assert_eq!(!Range::up_to(8.0).alerts(v), v <= 8.0, "{v}");
                if v.fract() == 0.0 {
                    assert_eq!(!Range::under(8.0, true).alerts(v), v < 8.0, "{v}");
                }
            }
        }
    }
}
