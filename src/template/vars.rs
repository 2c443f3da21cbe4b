//! `{name}`, `{address}` and `{vars.KEY}` in quoted arguments and doc strings, replaced
//! by the current host's values before a step runs. `{{`/`}}` write literal braces; braces
//! around anything that is not an identifier are left alone; any other `{identifier}` is
//! an error naming it (and `lint` reports it at the step's line). In a shell command line
//! (the command steps) each value is one quoted shell word: [`substitute_command`].

use crate::inventory::Host;

/// A placeholder that cannot be filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum VarError {
    /// `{x}` where x is not name, address or vars.KEY.
    #[error(
        "unknown placeholder {{{0}}}: use {{name}}, {{address}} or {{vars.KEY}} (write {{{{ and }}}} for literal braces)"
    )]
    Unknown(String),
    /// `{vars.KEY}` with KEY not defined for the host.
    #[error("host {host} has no variable \"{key}\"{}", hint.as_ref().map(|h| format!(" (did you mean \"{h}\"?)")).unwrap_or_default())]
    MissingVar {
        /// The host.
        host: String,
        /// The key.
        key: String,
        /// Nearest defined key.
        hint: Option<String>,
    },
    /// A placeholder used in a scenario without a current host.
    #[error("{{{0}}} needs a current host: tag the scenario with @hosts:")]
    NoHost(String),
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// Replaces placeholders in `text` with `host`'s values.
pub(crate) fn substitute(text: &str, host: Option<&Host>) -> Result<String, VarError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        let Some(end) = tail.find('}') else {
            out.push_str(tail);
            rest = "";
            break;
        };
        let inner = &tail[1..end];
        if !is_identifier(inner) {
            out.push('{');
            rest = &tail[1..];
            continue;
        }
        out.push_str(&lookup(inner, host)?);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Replaces placeholders in a shell command line (the command of `I run`, `the command
/// ...`, `the output of ...`): each value is inserted as ONE quoted shell word, the way
/// step packs insert theirs ([`crate::template`]), so an inventory value is data to
/// the shell, never syntax: `echo {vars.x}` with x = `$(touch /tmp/p)` prints that text.
/// Refused, because the quoting would be undone there: a placeholder inside quotes or
/// backticks (`grep "{name}"`: write `grep {name}`), and a line with placeholders that
/// re-reads text as code (`eval`, `sh -c`, a heredoc). `${VAR}` is the shell's, left as is.
pub(crate) fn substitute_command(line: &str, host: Option<&Host>) -> Result<String, String> {
    use crate::template::{self, Context};
    let t = template::parse(line, &[]).map_err(|(_, e)| e)?;
    template::check_shell(&t)?;
    t.render(Context::Shell, &[], host)
}

fn lookup(key: &str, host: Option<&Host>) -> Result<String, VarError> {
    let known = key == "name" || key == "address" || key.starts_with("vars.");
    if !known {
        return Err(VarError::Unknown(key.to_string()));
    }
    let host = host.ok_or_else(|| VarError::NoHost(key.to_string()))?;
    match key {
        "name" => Ok(host.name.clone()),
        "address" => Ok(host.address.clone()),
        _ => {
            let var = &key["vars.".len()..];
            host.vars.get(var).cloned().ok_or_else(|| VarError::MissingVar {
                host: host.name.clone(),
                key: var.to_string(),
                hint: crate::nearest::nearest(var, host.vars.keys().map(String::as_str)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        let mut h = Host::local("web1");
        h.address = "10.0.0.21".into();
        h.vars.insert("app_url".into(), "http://10.0.0.21/".into());
        h
    }

    #[test]
    fn fills_name_address_and_vars() {
        let h = host();
        assert_eq!(
            substitute("{name} at {address}", Some(&h)).unwrap(),
            "web1 at 10.0.0.21"
        );
        assert_eq!(
            substitute("{vars.app_url}health", Some(&h)).unwrap(),
            "http://10.0.0.21/health"
        );
    }

    #[test]
    fn literal_braces_and_non_identifiers_stay() {
        let h = host();
        assert_eq!(
            substitute("curl -w '%{{http_code}}'", Some(&h)).unwrap(),
            "curl -w '%{http_code}'"
        );
        assert_eq!(substitute(r#"{"ping": true}"#, Some(&h)).unwrap(), r#"{"ping": true}"#);
        assert_eq!(substitute("[0-9]{7}", Some(&h)).unwrap(), "[0-9]{7}");
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        let h = host();
        assert_eq!(
            substitute("{nmae}", Some(&h)).unwrap_err(),
            VarError::Unknown("nmae".into())
        );
        let err = substitute("{vars.app_ulr}", Some(&h)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "host web1 has no variable \"app_ulr\" (did you mean \"app_url\"?)"
        );
        assert!(matches!(substitute("{name}", None), Err(VarError::NoHost(_))));
    }

    #[test]
    fn a_placeholder_in_a_command_line_is_one_quoted_word() {
        let mut h = host();
        h.vars.insert("evil".into(), "$(touch /tmp/pwned2)".into());
        assert_eq!(
            substitute_command("echo {vars.evil} {name}", Some(&h)).unwrap(),
            "echo '$(touch /tmp/pwned2)' web1"
        );
        // Shell braces stay; literal braces as everywhere.
        assert_eq!(
            substitute_command("echo ${HOME} {{x}} [0-9]{7} awk '{print $1}'", Some(&h)).unwrap(),
            "echo ${HOME} {x} [0-9]{7} awk '{print $1}'"
        );
        // Inside quotes or backticks the quoting would be undone: refused, with the fix.
        for bad in [
            "echo \"{vars.evil}\"",
            "echo '{name}'",
            "echo `{name}`",
            "eval {vars.evil}",
        ] {
            let err = substitute_command(bad, Some(&h)).unwrap_err();
            assert!(
                err.contains("{vars.evil}") || err.contains("{name}") || err.contains("eval"),
                "{bad}: {err}"
            );
        }
        assert!(
            substitute_command("echo {nmae}", Some(&h))
                .unwrap_err()
                .starts_with("unknown placeholder {nmae} (did you mean {name}?): use {name}, {address} or {vars.KEY}")
        );
        assert_eq!(
            substitute_command("echo {vars.app_ulr}", Some(&h)).unwrap_err(),
            "host web1 has no variable \"app_ulr\" (did you mean \"app_url\"?)"
        );
        assert!(substitute_command("echo {name}", None).is_err());
        assert_eq!(substitute_command("echo plain", None).unwrap(), "echo plain");
    }

    #[test]
    fn hostile_values_in_a_command_line_reach_a_real_shell_as_data() {
        let dir = tempfile::tempdir().unwrap();
        let canary = dir.path().join("pwned");
        let c = canary.to_str().unwrap();
        for value in [
            format!("$(touch {c})"),
            format!("`touch {c}`"),
            format!("'; touch {c}; echo '"),
            format!("\"; touch {c}; \""),
            format!("a\ntouch {c}\n"),
            format!("$HOME; touch {c}"),
        ] {
            let mut h = host();
            h.vars.insert("v".into(), value.clone());
            let line = substitute_command("printf %s {vars.v}", Some(&h)).unwrap();
            let out = std::process::Command::new("sh").arg("-c").arg(&line).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), value, "{line}");
            assert!(!canary.exists(), "{line} ran a command");
        }
    }
}
