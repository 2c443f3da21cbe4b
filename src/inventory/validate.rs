//! Checks and conversions shared by every inventory format: names, addresses, users, ports,
//! enums, durations, paths and `*_env` secrets. Each check returns a short reason (`Err(String)`)
//! that the format's parser wraps with the `file:line:column` and the table it came from.
//! Nothing here knows about TOML, INI or YAML.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{BecomeMethod, HostKeyChecking, Location, Secret, SslMode, TransportKind};

/// How parsers read the environment (`*_env` keys, `$HOME`); tests pass a fake one.
pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The process environment.
pub(super) fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
pub(super) fn location(path: &Path, text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        path: path.to_path_buf(),
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Host and group names: `[A-Za-z0-9_.-]+`, not starting with `-`.
pub(super) fn name(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && !value.starts_with('-')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a valid name (letters, digits, \"_\", \".\" and \"-\", not starting with \"-\")"
        ))
    }
}

/// Checks a value that reaches `ssh` or a socket as one argument: it can never be read as an
/// option (leading `-`) nor carry whitespace, control characters or shell syntax.
fn argument(value: &str, extra: &[char]) -> Result<(), String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    if value.starts_with('-') {
        return Err(format!("{value:?} starts with \"-\""));
    }
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{value:?} contains {c:?}"));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || extra.contains(&c);
    match value.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!("{value:?} contains {c:?}")),
        None => Ok(()),
    }
}

/// An address or DNS name (IPv6 literals and zone ids allowed).
pub(super) fn address(value: &str) -> Result<(), String> {
    argument(value, &[':', '%', '[', ']'])
}

/// A login user name.
pub(super) fn user(value: &str) -> Result<(), String> {
    argument(value, &['@'])
}

/// One hop of `proxy_jump` (or of an Ansible `ProxyJump` option) as written:
/// `[ssh://][user@]host[:port]`, host an address, a DNS name or an inventory host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hop {
    /// The hop as written, for messages.
    pub text: String,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// The hops of `proxy_jump`: comma-separated as ssh's `-J` takes them; `none` is no jump
/// host (it overrides a group's). Each part is checked like an address, user and port, so
/// none can reach ssh as an option or carry shell syntax.
pub(super) fn jump_hops(value: &str) -> Result<Vec<Hop>, String> {
    if value.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    value.split(',').map(|h| jump_hop(h.trim())).collect()
}

fn jump_hop(text: &str) -> Result<Hop, String> {
    if text.is_empty() {
        return Err("an empty jump host (write host, user@host or user@host:port)".into());
    }
    let bad = |reason: String| format!("jump host {text:?}: {reason}");
    let bare = text.strip_prefix("ssh://").unwrap_or(text);
    let (user, rest) = match bare.rsplit_once('@') {
        Some((u, r)) => (Some(u.to_string()), r),
        None => (None, bare),
    };
    if let Some(u) = &user {
        self::user(u).map_err(bad)?;
    }
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or_else(|| bad("no closing \"]\"".into()))?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(p.strip_prefix(':').ok_or_else(|| bad(format!("{p:?} after \"]\"")))?),
            ),
        }
    } else if rest.matches(':').count() == 1 {
        let (h, p) = rest.split_once(':').unwrap_or((rest, ""));
        (h, Some(p))
    } else {
        (rest, None)
    };
    address(host).map_err(bad)?;
    let port = port.map(port_text).transpose().map_err(bad)?;
    Ok(Hop {
        text: text.to_string(),
        user,
        host: host.to_string(),
        port,
    })
}

/// A TCP port, 1..=65535.
pub(super) fn port(value: i64) -> Result<u16, String> {
    u16::try_from(value)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{value} is not a port (1 to 65535)"))
}

/// A TCP port written as text (INI and YAML values).
pub(super) fn port_text(value: &str) -> Result<u16, String> {
    match value.trim().parse::<i64>() {
        Ok(n) => port(n),
        Err(_) => Err(format!("{value:?} is not a port (1 to 65535)")),
    }
}

/// Picks `value` among `choices`, with a "did you mean" hint when it is close to one.
fn choice<T: Copy>(value: &str, choices: &[(&str, T)]) -> Result<T, String> {
    if let Some((_, v)) = choices.iter().find(|(n, _)| n.eq_ignore_ascii_case(value)) {
        return Ok(*v);
    }
    let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
    let hint = crate::nearest::nearest(value, choices.iter().map(|(n, _)| *n))
        .map(|n| format!(" (did you mean {n:?}?)"))
        .unwrap_or_default();
    Err(format!("{value:?} is not one of {}{hint}", names.join(", ")))
}

/// `strict` | `accept-new` | `off`.
pub(super) fn host_key_checking(value: &str) -> Result<HostKeyChecking, String> {
    use HostKeyChecking::*;
    choice(value, &[("strict", Strict), ("accept-new", AcceptNew), ("off", Off)])
}

/// `ssh` | `local`.
pub(super) fn transport(value: &str) -> Result<TransportKind, String> {
    choice(value, &[("ssh", TransportKind::Ssh), ("local", TransportKind::Local)])
}

/// `sudo` | `doas` | `su`.
pub(super) fn become_method(value: &str) -> Result<BecomeMethod, String> {
    use BecomeMethod::*;
    choice(value, &[("sudo", Sudo), ("doas", Doas), ("su", Su)])
}

/// A boolean written as text (Ansible's `ansible_become`): true/false, yes/no, on/off, 1/0.
pub(super) fn boolean(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => {
            let hint = crate::nearest::nearest(value, ["true", "false", "yes", "no"])
                .map(|n| format!(" (did you mean {n:?}?)"))
                .unwrap_or_default();
            Err(format!("{value:?} is not a boolean (true or false){hint}"))
        }
    }
}

/// `disabled` | `preferred` | `required` | `verify_identity`.
pub(super) fn ssl_mode(value: &str) -> Result<SslMode, String> {
    use SslMode::*;
    choice(
        value,
        &[
            ("disabled", Disabled),
            ("preferred", Preferred),
            ("required", Required),
            ("verify_identity", VerifyIdentity),
        ],
    )
}

/// A humantime duration such as `5s` or `900ms`, more than zero.
pub(super) fn duration(value: &str) -> Result<Duration, String> {
    match humantime::parse_duration(value.trim()) {
        Ok(d) if d.is_zero() => Err(format!("{value:?} must be more than zero")),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{value:?} is not a duration like \"5s\" or \"900ms\" ({e})")),
    }
}

/// A file path; a leading `~/` is replaced by `$HOME/`.
pub(super) fn path(value: &str, env: Env<'_>) -> Result<PathBuf, String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    match (value.strip_prefix("~/"), env("HOME")) {
        (Some(rest), Some(home)) => Ok(PathBuf::from(home).join(rest)),
        _ => Ok(PathBuf::from(value)),
    }
}

/// Reads the variable an `*_env` key names. The outer error is a bad name (an error at
/// once); the inner one says the variable is unset, naming it and `used_at` (like
/// `mysql.password_env of host db1`) but never a value: the caller records it against
/// the host, an error only for a run that uses that host.
pub(super) fn secret(var: &str, used_at: &str, env: Env<'_>) -> Result<Result<Secret, String>, String> {
    if var.is_empty() || var.contains(['=', '\0']) {
        return Err(format!("{var:?} is not an environment variable name ({used_at})"));
    }
    match env(var) {
        None => Ok(Err(format!("{var} is not set ({used_at})"))),
        Some(value) => match value.into_string() {
            Ok(value) => Ok(Ok(Secret::new(value))),
            Err(_) => Err(format!("{var} is not valid UTF-8 ({used_at})")),
        },
    }
}

/// The "(did you mean ...)" suffix for an unknown key, or nothing.
pub(super) fn hint<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    crate::nearest::nearest(wanted, candidates)
        .map(|n| format!(" (did you mean {n:?}?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_cannot_become_options_or_shell() {
        assert!(address("10.0.0.1").is_ok());
        assert!(address("fe80::1%eth0").is_ok());
        assert!(address("db-1.example.org").is_ok());
        assert_eq!(
            address("-oProxyCommand=touch /tmp/x").unwrap_err(),
            "\"-oProxyCommand=touch /tmp/x\" starts with \"-\""
        );
        assert_eq!(address("10.0.0.1 x").unwrap_err(), "\"10.0.0.1 x\" contains ' '");
        assert_eq!(address("a;b").unwrap_err(), "\"a;b\" contains ';'");
        assert_eq!(address("a\nb").unwrap_err(), "\"a\\nb\" contains '\\n'");
        assert_eq!(user("$(id)").unwrap_err(), "\"$(id)\" contains '$'");
    }

    #[test]
    fn jump_hosts_are_split_like_ssh_minus_j_and_checked() {
        let hops = jump_hops("bastion, deploy@10.0.0.1:2222,ssh://[fe80::1]:22").unwrap();
        let parts: Vec<_> = hops
            .iter()
            .map(|h| (h.user.as_deref(), h.host.as_str(), h.port))
            .collect();
        assert_eq!(
            parts,
            [
                (None, "bastion", None),
                (Some("deploy"), "10.0.0.1", Some(2222)),
                (None, "fe80::1", Some(22))
            ]
        );
        assert_eq!(jump_hops("none").unwrap(), []);
        assert_eq!(
            jump_hops("-oProxyCommand=x").unwrap_err(),
            "jump host \"-oProxyCommand=x\": \"-oProxyCommand=x\" starts with \"-\""
        );
        assert_eq!(
            jump_hops("a,,b").unwrap_err(),
            "an empty jump host (write host, user@host or user@host:port)"
        );
        assert_eq!(
            jump_hops("$(id)@b").unwrap_err(),
            "jump host \"$(id)@b\": \"$(id)\" contains '$'"
        );
        assert_eq!(
            jump_hops("b:0").unwrap_err(),
            "jump host \"b:0\": 0 is not a port (1 to 65535)"
        );
        assert_eq!(jump_hops("b c").unwrap_err(), "jump host \"b c\": \"b c\" contains ' '");
    }

    #[test]
    fn locations_are_one_based_characters() {
        let loc = location(Path::new("f"), "ab\néé x", 8);
        assert_eq!(loc.to_string(), "f:2:4");
    }

    #[test]
    fn choices_hint_the_nearest() {
        assert_eq!(
            host_key_checking("acept-new").unwrap_err(),
            "\"acept-new\" is not one of \"strict\", \"accept-new\", \"off\" (did you mean \"accept-new\"?)"
        );
        assert_eq!(ssl_mode("REQUIRED"), Ok(SslMode::Required));
        assert_eq!(port(0).unwrap_err(), "0 is not a port (1 to 65535)");
        assert_eq!(duration("900ms"), Ok(Duration::from_millis(900)));
    }
}
