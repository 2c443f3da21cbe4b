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
            if !known.contains(&value) {
                known.push(value.clone());
                // Longest first, so a secret containing another is replaced whole.
                known.sort_by_key(|s| std::cmp::Reverse(s.len()));
            }
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
}
