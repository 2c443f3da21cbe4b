//! One way to write a duration, for step arguments (`under 1m`) and options
//! (`--timeout 2m`) alike: humantime's grammar, a number and a unit, terms added up
//! (`500ms`, `500 ms`, `1.5s`, `2m`, `2 minutes`, `1h 30m`). [`PATTERN`] is the same
//! grammar as the `{duration}` parameter of step sentences, so a sentence never refuses
//! what [`parse`] would read.

use std::time::Duration;

/// The `{duration}` parameter: humantime's terms (every unit it knows), with a leading `-`
/// captured so that lint can say "negative" instead of "undefined step". One capture group.
pub(crate) const PATTERN: &str = r"(-?\d+(?:\.\d+)? ?(?:nanos|nsec|ns|usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|months|month|M|years|year|yrs|yr|y)(?: ?\d+(?:\.\d+)? ?(?:nanos|nsec|ns|usec|us|µs|millis|msec|ms|seconds|second|secs|sec|s|minutes|minute|mins|min|m|hours|hour|hrs|hr|h|days|day|d|weeks|week|wks|wk|w|months|month|M|years|year|yrs|yr|y))*)";

/// Reads a duration; the error says what is wrong and how to write one.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err(format!("negative duration \"{t}\""));
    }
    humantime::parse_duration(t).map_err(|e| {
        format!("\"{t}\" is not a duration ({e}): write a number and a unit, e.g. 500ms, 1.5s, 2m, 2 minutes, 1h 30m")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_grammar() {
        for (text, secs) in [
            ("500 ms", 0.5),
            ("500ms", 0.5),
            ("1.5s", 1.5),
            ("2m", 120.0),
            ("2 minutes", 120.0),
            ("1h 30m", 5400.0),
            ("1m30s", 90.0),
            ("25 hours", 90000.0),
        ] {
            assert_eq!(parse(text).unwrap().as_secs_f64(), secs, "{text}");
            let re = regex::Regex::new(&format!("^{PATTERN}$")).unwrap();
            assert!(re.is_match(text), "{text} matches the step parameter");
        }
        assert!(parse("-5 s").unwrap_err().contains("negative"));
        assert!(parse("5 fortnights").unwrap_err().contains("unknown time unit"));
        assert!(parse("banana").is_err());
    }
}
