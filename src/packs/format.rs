//! The TOML schema of a step pack, as written in `steps/*.toml`: plain serde structs with
//! `deny_unknown_fields` and `Spanned` values, so every later error (bad regex, unknown
//! placeholder) can name `file:line:column`. No validation beyond what serde does lives
//! here: `compile.rs` checks meaning.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::PackError;

/// A whole pack file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile {
    /// The `[[step]]` tables, in file order.
    #[serde(default)]
    pub step: Vec<Spanned<StepSpec>>,
}

/// One `[[step]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Cucumber Expression with `{string}`, `{int}`, `{float}`, `{word}`.
    pub sentence: Spanned<String>,
    /// Names of the captures, in sentence order, used as `{NAME}` placeholders.
    #[serde(default)]
    pub params: Option<Spanned<Vec<String>>>,
    /// Allowed keywords (`Given`, `When`, `Then`); any when absent.
    #[serde(default)]
    pub keywords: Option<Spanned<Vec<String>>>,
    /// What it checks (shown by `shakedown steps`).
    #[serde(default)]
    pub doc: Option<String>,
    /// An example with its keyword; must match the step's own sentence.
    pub example: Spanned<String>,
    /// Action: a shell command line run on the current host.
    #[serde(default)]
    pub command: Option<Spanned<String>>,
    /// Action: an HTTP request from the controller.
    #[serde(default)]
    pub http: Option<Spanned<HttpSpec>>,
    /// Action: a query on the current host's MySQL.
    #[serde(default)]
    pub mysql: Option<Spanned<MysqlSpec>>,
    /// Action: a sequence of other sentences (a macro step).
    #[serde(default)]
    pub steps: Option<Spanned<Vec<Spanned<String>>>>,
    /// How failures name the thing checked (default: "output of `COMMAND`", "response").
    #[serde(default)]
    pub what: Option<Spanned<String>>,
    /// What a failure says was expected, instead of the generated text.
    #[serde(default)]
    pub expected: Option<Spanned<String>>,
    /// The expectations on the result.
    #[serde(default)]
    pub expect: Option<Spanned<ExpectSpec>>,
    /// A measured value and its limit.
    #[serde(default)]
    pub measure: Option<Spanned<MeasureSpec>>,
}

/// `http = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// GET (default), POST, PUT, DELETE, HEAD, PATCH.
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    /// The URL; captures are percent-encoded.
    pub url: Spanned<String>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Spanned<String>>,
    /// A raw body; captures inserted as they are.
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    /// A JSON body; captures JSON-escaped (write them inside a JSON string).
    #[serde(default)]
    pub json: Option<Spanned<String>>,
}

/// `mysql = { ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlSpec {
    /// The statement, with `?` where values go (never placeholders).
    pub query: Spanned<String>,
    /// Values bound to the `?` markers, in order (placeholders allowed).
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
}

/// `expect = { ... }`: every expectation given must hold, checked in this order.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Exit status of the command (default 0 for a command without other expectations).
    #[serde(default)]
    pub exit: Option<Spanned<i64>>,
    /// HTTP status: `200`, or text with a placeholder (`"{code}"`).
    #[serde(default)]
    pub status: Option<Spanned<Status>>,
    /// Standard output, trimmed, equals.
    #[serde(default)]
    pub stdout_equals: Option<Spanned<String>>,
    /// Standard output contains.
    #[serde(default)]
    pub stdout_contains: Option<Spanned<String>>,
    /// Standard output does not contain.
    #[serde(default)]
    pub stdout_not_contains: Option<Spanned<String>>,
    /// Standard output matches (captures regex-escaped).
    #[serde(default)]
    pub stdout_matches: Option<Spanned<String>>,
    /// Standard error contains.
    #[serde(default)]
    pub stderr_contains: Option<Spanned<String>>,
    /// Standard error matches.
    #[serde(default)]
    pub stderr_matches: Option<Spanned<String>>,
    /// Response body contains.
    #[serde(default)]
    pub body_contains: Option<Spanned<String>>,
    /// Response body does not contain.
    #[serde(default)]
    pub body_not_contains: Option<Spanned<String>>,
    /// Response body matches.
    #[serde(default)]
    pub body_matches: Option<Spanned<String>>,
    /// MySQL: the first value of the first row equals (NULL reads "NULL").
    #[serde(default)]
    pub value_equals: Option<Spanned<String>>,
    /// MySQL: at least this many rows.
    #[serde(default)]
    pub rows_at_least: Option<Spanned<u64>>,
    /// A dotted JSON path in the body (`data.items.0.name`) ...
    #[serde(default)]
    pub json_path: Option<Spanned<String>>,
    /// ... whose value (strings bare) equals this.
    #[serde(default)]
    pub json_equals: Option<Spanned<String>>,
}

/// `expect.status`: a number, or a template that gives one.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Status {
    /// `status = 200`.
    Code(u16),
    /// `status = "{code}"`.
    Text(String),
}

/// `measure = { ... }`: a number read from the result, reported like built-in measured
/// values and compared with one limit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureSpec {
    /// Perfdata label (`nginx workers`, `count of {what}`).
    pub label: Spanned<String>,
    /// A regex over stdout (command) or the body (http); its first group is the number.
    #[serde(default)]
    pub regex: Option<Spanned<String>>,
    /// A dotted JSON path in the body (http).
    #[serde(default)]
    pub json_path: Option<Spanned<String>>,
    /// Nagios unit: `s`, `ms`, `%`, `B`, `c` or empty.
    #[serde(default)]
    pub unit: Option<Spanned<String>>,
    /// value < limit.
    #[serde(default)]
    pub less_than: Option<Spanned<String>>,
    /// value <= limit.
    #[serde(default)]
    pub at_most: Option<Spanned<String>>,
    /// value > limit.
    #[serde(default)]
    pub more_than: Option<Spanned<String>>,
    /// value >= limit.
    #[serde(default)]
    pub at_least: Option<Spanned<String>>,
    /// value == limit.
    #[serde(default)]
    pub equals: Option<Spanned<String>>,
    /// low <= value <= high.
    #[serde(default)]
    pub between: Option<Spanned<[String; 2]>>,
}

/// Parses a pack's text. Errors carry the byte span of the offending key or value and,
/// for an unknown key, the nearest valid one.
pub fn parse_pack(text: &str) -> Result<PackFile, PackError> {
    toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        PackError::at(span, explain(e.message()))
    })
}

/// Rewrites serde's "unknown field `x`, expected one of `a`, `b`" into a hint.
fn explain(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.trim().to_string();
    };
    let Some((key, expected)) = rest.split_once('`') else {
        return message.trim().to_string();
    };
    let valid: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match crate::nearest::nearest(key, valid.iter().copied()) {
        Some(n) => format!("unknown key `{key}` (did you mean `{n}`?)"),
        None => format!("unknown key `{key}`; valid keys: {}", valid.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_the_nearest() {
        let err = parse_pack("[[step]]\nsentence = \"x\"\nexample = \"Then x\"\ncomand = \"true\"\n").unwrap_err();
        assert_eq!(err.message, "unknown key `comand` (did you mean `command`?)");
        assert_eq!(err.span.start, 43);
        let err = parse_pack("[[step]]\nsentence = \"x\"\nexample = \"Then x\"\nexpect.stdout_contain = \"a\"\n")
            .unwrap_err();
        assert!(
            err.message.contains("did you mean `stdout_contains`"),
            "{}",
            err.message
        );
    }

    #[test]
    fn parses_a_small_pack() {
        let pack = parse_pack(
            "[[step]]\nsentence = \"the app is at {string}\"\nparams = [\"rev\"]\nexample = 'Then the app is at \"abc\"'\ncommand = \"cat /srv/REVISION\"\nexpect.stdout_equals = \"{rev}\"\n",
        )
        .unwrap();
        let step = pack.step[0].get_ref();
        assert_eq!(step.command.as_ref().unwrap().get_ref(), "cat /srv/REVISION");
        assert_eq!(
            step.expect
                .as_ref()
                .unwrap()
                .get_ref()
                .stdout_equals
                .as_ref()
                .unwrap()
                .get_ref(),
            "{rev}"
        );
    }
}
