//! Secrets read from the environment (`*_env` inventory keys): a value that must never be
//! printed. `Secret` redacts itself in `Debug`/`Display`, and every value is also recorded in
//! a process-wide list so that any text leaving shakedown can be scrubbed with [`redact`].

use std::fmt;
use std::sync::{Mutex, OnceLock};

/// A secret value: prints as `***`; only [`Secret::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

fn registry() -> &'static Mutex<Vec<String>> {
    static KNOWN: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    KNOWN.get_or_init(|| Mutex::new(Vec::new()))
}

impl Secret {
    /// Wraps a value and registers it for [`redact`].
    pub fn new(value: String) -> Self {
        if !value.is_empty() {
            let mut known = registry().lock().unwrap_or_else(|e| e.into_inner());
            for form in written_forms(&value) {
                if !known.contains(&form) {
                    known.push(form);
                }
            }
            // Longest first, so a secret containing another is replaced whole.
            known.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        Secret(value)
    }

    /// The value itself, for the one place that must send it (a MySQL handshake, SMTP auth).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `value` and the other forms in which shakedown may write it: shell-quoted as one word
/// (a `{vars.KEY}` in a command line), that line quoted again for `sh -c` (`--trace`), and
/// Rust-escaped (a command's output in a failure's `found`, quotes and newlines escaped,
/// trimmed as output excerpts are).
fn written_forms(value: &str) -> Vec<String> {
    let quoted = crate::quote::quote(value);
    let requoted = quoted.replace('\'', r"'\''");
    let escaped = |v: &str| {
        let debug = format!("{v:?}");
        debug[1..debug.len() - 1].to_string()
    };
    let trimmed = value.trim();
    let mut forms = vec![value.to_string()];
    for form in [quoted, requoted, escaped(value), trimmed.to_string(), escaped(trimmed)] {
        if !form.is_empty() && !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// Replaces every known secret value in `text` by `***`: the last line of defence applied
/// to everything a report writes.
pub fn redact(text: &str) -> String {
    let known = registry().lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_and_is_redacted() {
        let s = Secret::new("canary-7f3a".into());
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(redact("password=canary-7f3a;"), "password=***;");
        assert_eq!(s.expose(), "canary-7f3a");
    }

    #[test]
    fn a_secret_is_redacted_quoted_and_escaped_too() {
        let value = "it's \"x\"\nSECRET-9c1d\n";
        let _s = Secret::new(value.into());
        let quoted = crate::quote::quote(value);
        let line = format!("printf %s {quoted}");
        for text in [
            line.clone(),
            format!("sh -c {}", crate::quote::quote(&line)),
            format!("found {value:?}"),
            format!("found {:?}", value.trim_end()),
        ] {
            assert!(!redact(&text).contains("SECRET-9c1d"), "{text} -> {}", redact(&text));
        }
    }
}
