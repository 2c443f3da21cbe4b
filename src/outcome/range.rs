//! Thresholds in the Monitoring Plugins range syntax: each step states the exact set of
//! values that pass it, so perfdata alerts exactly when the step failed.

use std::fmt;

/// A threshold in the Monitoring Plugins range syntax (development guidelines, "Threshold
/// and ranges"): `[@]start:end`, where `start` defaults to 0 and `~` is negative infinity,
/// an empty `end` is infinity, and the plugin alerts when the value lies outside
/// `start..=end` (inside with `@`). `10` is 0..=10, `10:` is 10 and up, `~:10` is up to 10,
/// `10:20` is 10..=20, `@10:20` alerts on 10..=20. Steps build the range that holds exactly
/// the values that pass them, so a value in perfdata alerts exactly when its step failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Lower end, inclusive; `None` is negative infinity (`~`).
    pub start: Option<f64>,
    /// Upper end, inclusive; `None` is infinity.
    pub end: Option<f64>,
    /// `@`: alert inside the range instead of outside.
    pub inside: bool,
}

impl Range {
    /// `max` (0..=max): at most `max`, for values that are never negative (counts, times,
    /// percentages).
    pub fn up_to(max: f64) -> Self {
        Range {
            start: Some(0.0),
            end: Some(max),
            inside: false,
        }
    }

    /// `~:max`: at most `max`, for values that may be negative (an age with clock skew,
    /// a number read by a pack).
    pub fn at_most(max: f64) -> Self {
        Range {
            start: None,
            end: Some(max),
            inside: false,
        }
    }

    /// `min:`: at least `min`.
    pub fn at_least(min: f64) -> Self {
        Range {
            start: Some(min),
            end: None,
            inside: false,
        }
    }

    /// `low:high`: between both, inclusive.
    pub fn between(low: f64, high: f64) -> Self {
        Range {
            start: Some(low),
            end: Some(high),
            inside: false,
        }
    }

    /// `v:v`: exactly `v`.
    pub fn exactly(v: f64) -> Self {
        Self::between(v, v)
    }

    /// Strictly under `limit`. Whole-number values that are never negative (connections,
    /// seconds of lag, df's percentages) take the plain `limit-1`; any other value the
    /// inverted `@limit:` (alert from `limit` up), since the syntax has no open end.
    pub fn under(limit: f64, whole: bool) -> Self {
        if whole && limit >= 1.0 && limit.fract() == 0.0 {
            Self::up_to(limit - 1.0)
        } else {
            Range {
                start: Some(limit),
                end: None,
                inside: true,
            }
        }
    }

    /// Strictly over `limit`: `@~:limit` (alert up to `limit`).
    pub fn over(limit: f64) -> Self {
        Range {
            start: None,
            end: Some(limit),
            inside: true,
        }
    }

    /// Whether a plugin alerts for `value` (the guidelines' rule).
    pub fn alerts(&self, value: f64) -> bool {
        let within = self.start.is_none_or(|s| value >= s) && self.end.is_none_or(|e| value <= e);
        within == self.inside
    }

    /// Both ends multiplied by `factor` (a unit conversion).
    pub fn scaled(self, factor: f64) -> Self {
        Range {
            start: self.start.map(|s| s * factor),
            end: self.end.map(|e| e * factor),
            inside: self.inside,
        }
    }

    /// Both ends finite or open (a range built from a NaN limit is no threshold).
    pub(crate) fn is_finite(&self) -> bool {
        self.start.is_none_or(f64::is_finite) && self.end.is_none_or(f64::is_finite)
    }

    /// Reads the syntax back: `10`, `10:`, `~:10`, `10:20`, `@10:20`. Refuses a start
    /// above the end, as the guidelines do.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("bad range {text:?}");
        let (inside, rest) = match text.strip_prefix('@') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let num = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
        let (start, end) = match rest.split_once(':') {
            None => (Some(0.0), Some(num(rest).ok_or_else(bad)?)),
            Some((s, e)) => {
                let start = match s {
                    "~" => None,
                    "" => Some(0.0),
                    s => Some(num(s).ok_or_else(bad)?),
                };
                let end = match e {
                    "" => None,
                    e => Some(num(e).ok_or_else(bad)?),
                };
                (start, end)
            }
        };
        if matches!((start, end), (Some(s), Some(e)) if s > e) {
            return Err(format!("range {text:?} starts above its end"));
        }
        Ok(Range { start, end, inside })
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inside {
            f.write_str("@")?;
        }
        match (self.start, self.end) {
            (Some(0.0), Some(e)) => write!(f, "{}", number(e)),
            (Some(s), e) => write!(f, "{}:{}", number(s), e.map(number).unwrap_or_default()),
            (None, e) => write!(f, "~:{}", e.map(number).unwrap_or_default()),
        }
    }
}

/// A number without exponent or trailing zeros (`812`, `0.25`, `1.5`), at most 6 decimals.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.to_string() }
}
