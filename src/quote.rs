//! POSIX shell quoting: the one function through which every argument reaches a shell.
//! It sits at the bottom of the layering (it depends on nothing) because two concerns need
//! it: `transport`, which builds every command line with it, and the secrets register
//! (`inventory::secret`), which must know how a secret looks once quoted to redact it.

/// Quotes `word` for a POSIX shell: left bare when made only of safe characters, otherwise
/// in single quotes with embedded single quotes written as `'\''`.
pub(crate) fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if safe && !word.starts_with('=') {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_what_a_shell_would_interpret() {
        assert_eq!(quote("nginx"), "nginx");
        assert_eq!(quote("/etc/app.conf"), "/etc/app.conf");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("x; touch /tmp/pwned"), "'x; touch /tmp/pwned'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(id)`id`"), "'$(id)`id`'");
        assert_eq!(quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn quoted_words_round_trip_through_a_real_shell() {
        for word in [
            "plain",
            "x; touch /tmp/pwned",
            "it's",
            "$(id) `id` $HOME",
            "a\nb",
            "*",
            "-n",
            "\\",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(word)))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), word);
        }
    }
}
