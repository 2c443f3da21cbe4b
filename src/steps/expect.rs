//! Shared comparisons so every step words its expectations the same way: contains,
//! matches, numeric bands, durations. Each returns an [`Outcome`].

use std::time::Duration;

use regex::Regex;

use super::{Outcome, StepError};

pub(crate) use crate::outcome::{FOUND_MAX, excerpt};

/// Compiles a regex argument, as a step error when it does not compile.
pub fn regex(pattern: &str) -> Result<Regex, StepError> {
    regex::RegexBuilder::new(pattern).multi_line(true).build().map_err(|e| {
        StepError::Other(format!(
            "bad regular expression /{pattern}/: {}",
            regex_problem(pattern, &e)
        ))
    })
}

/// Why `pattern` does not compile, in one line (`unclosed character class (at character
/// 15)`): the regex crate's own message spans several lines (the pattern, a caret line,
/// `error: ...`), which would print as `error: error: ...` under the command's prefix.
pub fn regex_problem(pattern: &str, e: &regex::Error) -> String {
    let at = |kind: &dyn std::fmt::Display, span: &regex_syntax::ast::Span| {
        let multi_line = pattern.contains('\n');
        let position = if multi_line {
            format!("line {}, character {}", span.start.line, span.start.column)
        } else {
            format!("character {}", span.start.column)
        };
        format!("{kind} (at {position})")
    };
    match regex_syntax::Parser::new().parse(pattern) {
        Err(regex_syntax::Error::Parse(p)) => at(p.kind(), p.span()),
        Err(regex_syntax::Error::Translate(t)) => at(t.kind(), t.span()),
        // Compiles in syntax but not in size (or a newer kind): the crate's text, one line.
        _ => e
            .to_string()
            .lines()
            .map(|l| l.trim().trim_start_matches("error: "))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(": "),
    }
}

/// Lint-time check for sentences whose last argument is a regex.
pub fn check_last_regex(args: &[String]) -> Result<(), String> {
    match args.last() {
        Some(p) => regex(p).map(|_| ()).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// `haystack` contains `needle` (or not, when `negate`).
pub fn contains(what: &str, haystack: &str, needle: &str, negate: bool) -> Outcome {
    let has = haystack.contains(needle);
    let expected = if negate {
        format!("{what} not containing {needle:?}")
    } else {
        format!("{what} containing {needle:?}")
    };
    Outcome::check(has != negate, expected, excerpt(haystack))
}

/// `haystack` matches `pattern` (multi-line: `^`/`$` match at line ends).
pub fn matches(what: &str, haystack: &str, pattern: &str) -> Result<Outcome, StepError> {
    let re = regex(pattern)?;
    Ok(Outcome::check(
        re.is_match(haystack),
        format!("{what} matching /{pattern}/"),
        excerpt(haystack),
    ))
}

/// Parses a `{duration}` argument: `500 ms`, `5s`, `2m`, `25 hours` (the grammar of
/// [`crate::duration`], shared with the options; lint rejects negative ones).
pub fn duration(text: &str) -> Result<Duration, String> {
    crate::duration::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("500 ms").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("25 hours").unwrap(), Duration::from_secs(90000));
        assert_eq!(duration("5s").unwrap(), Duration::from_secs(5));
        assert!(duration("-5 s").unwrap_err().contains("negative"));
        assert!(duration("5 fortnights").is_err());
    }

    #[test]
    fn excerpt_truncates() {
        let long = "x".repeat(1000);
        assert!(excerpt(&long).ends_with("(600 more bytes)"));
        assert_eq!(excerpt("ok\n"), "\"ok\"");
    }
}
