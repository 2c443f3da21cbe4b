//! `{name}`, `{address}` and `{vars.KEY}` in quoted arguments and doc strings, replaced
//! by the current host's values before a step runs. `{{`/`}}` write literal braces; braces
//! around anything that is not an identifier are left alone; any other `{identifier}` is
//! an error naming it (and `lint` reports it at the step's line).

use crate::inventory::Host;

/// A placeholder that cannot be filled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    /// `{x}` where x is not name, address or vars.KEY.
    #[error("unknown placeholder {{{0}}}: use {{name}}, {{address}} or {{vars.KEY}} (write {{{{ and }}}} for literal braces)")]
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
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// Replaces placeholders in `text` with `host`'s values.
pub fn substitute(text: &str, host: Option<&Host>) -> Result<String, VarError> {
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
        assert_eq!(substitute("{name} at {address}", Some(&h)).unwrap(), "web1 at 10.0.0.21");
        assert_eq!(substitute("{vars.app_url}health", Some(&h)).unwrap(), "http://10.0.0.21/health");
    }

    #[test]
    fn literal_braces_and_non_identifiers_stay() {
        let h = host();
        assert_eq!(substitute("curl -w '%{{http_code}}'", Some(&h)).unwrap(), "curl -w '%{http_code}'");
        assert_eq!(substitute(r#"{"ping": true}"#, Some(&h)).unwrap(), r#"{"ping": true}"#);
        assert_eq!(substitute("[0-9]{7}", Some(&h)).unwrap(), "[0-9]{7}");
    }

    #[test]
    fn unknown_placeholders_are_errors() {
        let h = host();
        assert_eq!(substitute("{nmae}", Some(&h)).unwrap_err(), VarError::Unknown("nmae".into()));
        let err = substitute("{vars.app_ulr}", Some(&h)).unwrap_err();
        assert_eq!(err.to_string(), "host web1 has no variable \"app_ulr\" (did you mean \"app_url\"?)");
        assert!(matches!(substitute("{name}", None), Err(VarError::NoHost(_))));
    }
}
