//! Nagios performance data as the Monitoring Plugins development guidelines define it:
//! `'label'=value[UOM];[warn];[crit];[min];[max]`, labels quoted when they hold a space or a
//! quote (a quote doubled), `=` never in a label, UOMs only `s ms us % B KB MB TB c` or none.
//! Values in other units are converted or given without a UOM, never with an invalid one.

use std::fmt;

use super::number;

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
    pub warn: Option<f64>,
    /// Critical threshold.
    pub crit: Option<f64>,
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
    pub fn measured(label: &str, value: f64, unit: &str, warn: Option<f64>, crit: Option<f64>) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        let (factor, uom) = uom(unit);
        let scale = |v: Option<f64>| v.filter(|v| v.is_finite()).map(|v| v * factor);
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
        let mut text = format!(
            "{}={}{};{};{};{};{}",
            label(&self.label),
            number(self.value),
            self.uom,
            opt(self.warn),
            opt(self.crit),
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
    let mut num = || -> Result<Option<f64>, String> {
        match fields.next() {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("bad threshold {v:?} for {label:?}")),
        }
    };
    let (warn, crit, min, max) = (num()?, num()?, num()?, num()?);
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
        let p = Perf::measured("web1 home time", 123.0, "ms", None, Some(500.0)).expect("finite");
        assert_eq!(p.to_string(), "'web1 home time'=123ms;;500");
        assert_eq!(Perf::count("scenarios", 14).to_string(), "scenarios=14");
        let pct = Perf::measured("db1 / use", 42.5, "%", Some(80.0), Some(90.0)).expect("finite");
        assert_eq!(pct.to_string(), "'db1 / use'=42.5%;80;90;0;100");
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
        let p = Perf::measured("disk", 2.0, "GB", None, Some(4.0)).expect("finite");
        assert_eq!(p.to_string(), "disk=2048MB;;4096");
    }

    #[test]
    fn parse_reads_back_what_we_write() {
        let items = vec![
            Perf::count("scenarios", 3),
            Perf::measured("web1 it's time", 12.5, "ms", Some(100.0), Some(500.0)).expect("finite"),
            Perf::measured("load", 0.25, "", None, None).expect("finite"),
        ];
        let text: Vec<String> = items.iter().map(ToString::to_string).collect();
        assert_eq!(parse_perfdata(&text.join(" ")), Ok(items));
        assert!(parse_perfdata("x=1parsecs").is_err());
        assert!(parse_perfdata("'open=1").is_err());
    }
}
