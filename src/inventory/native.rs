//! The native TOML inventory format (INVENTORY.md): `[defaults]`, `[hosts.NAME]`,
//! `[hosts.NAME.mysql]`, plus `[groups.NAME]` tables. The document is parsed with spans
//! (`toml::de::DeTable`) and walked here, so every error has `file:line:column`: unknown
//! keys (with the nearest valid key), bad values; unset `*_env` variables are located too.
//!
//! Keys of `[defaults]`, `[groups.NAME]` and `[hosts.NAME]`: `address`, `user`, `port`,
//! `identity_file` and `known_hosts_file` (a leading `~/` is `$HOME/`), `host_key_checking`
//! (`strict` | `accept-new` | `off`), `connect_timeout` ("5s", "900ms"), `keep_connections` ("10m"), `transport`
//! (`ssh` | `local`), `proxy_jump` (jump hosts, comma-separated as `ssh -J`: inventory host
//! names, or `user@host:port`; `none` for none), `ssh_config` (a file ssh reads as with `-F`
//! instead of the user's and the system's), `vars` (strings, numbers, booleans; `KEY_env = "VAR"` reads the secret
//! `vars.KEY` from the environment) and `mysql` (`host`, `port`, `user`, `password_env`,
//! `ssl_mode`, `ca_file`, `connect_timeout`, `database`); `become` (true: every command
//! runs as another user), `become_method` (`sudo` | `doas` | `su`), `become_user` (root)
//! and `become_password_env`; an unset `*_env` variable is an error only for a run that
//! uses the host. A host also takes `groups = [...]`;
//! a group takes `hosts = [...]`. Layers apply as defaults < groups (by name) < host, the
//! `mysql` and `vars` tables key by key. A host without `address` is reached at its name
//! (`127.0.0.1` for `transport = "local"`). This module never touches the network.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::build::{self, Draft, GroupDraft, HostDraft, JumpSpec, MysqlLayer, Settings};
use super::validate::{self, Env};
use super::{HostProblem, Inventory, InventoryError};

/// Parses a native TOML inventory.
pub(super) fn parse(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
    parse_with(path, text, &validate::process_env)
}

type Entry<'a, 'i> = (&'a Spanned<toml::de::DeString<'i>>, &'a Spanned<DeValue<'i>>);

const SETTINGS: [&str; 17] = [
    "address",
    "user",
    "port",
    "identity_file",
    "known_hosts_file",
    "host_key_checking",
    "connect_timeout",
    "keep_connections",
    "transport",
    "proxy_jump",
    "ssh_config",
    "vars",
    "mysql",
    "become",
    "become_method",
    "become_user",
    "become_password_env",
];
const MYSQL: [&str; 8] = [
    "host",
    "port",
    "user",
    "password_env",
    "ssl_mode",
    "ca_file",
    "connect_timeout",
    "database",
];

/// The file being read and how to read the environment.
struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    env: Env<'a>,
}

/// The table being read: `[hosts.web1]` for messages, `host web1` for `*_env` errors.
struct Table {
    header: String,
    owner: String,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, message: String) -> InventoryError {
        InventoryError::At {
            location: validate::location(self.path, self.text, span.start),
            message,
        }
    }

    /// A problem of one host (an unset secret) at `span`, reported if the run uses it.
    fn problem(&self, span: Range<usize>, message: String) -> HostProblem {
        HostProblem {
            location: validate::location(self.path, self.text, span.start),
            message,
        }
    }

    fn invalid(&self, value: &Spanned<DeValue>, key: &str, t: &Table, reason: String) -> InventoryError {
        self.err(value.span(), format!("invalid {key} in {}: {reason}", t.header))
    }

    fn unknown(&self, key: &Spanned<toml::de::DeString>, t: &Table, valid: &[&str]) -> InventoryError {
        let k: &str = key.get_ref();
        let hint = validate::hint(k, valid.iter().copied());
        self.err(key.span(), format!("unknown key {k:?} in {}{hint}", t.header))
    }

    fn str<'v>(&self, value: &'v Spanned<DeValue>, key: &str, t: &Table) -> Result<&'v str, InventoryError> {
        value.get_ref().as_str().ok_or_else(|| {
            self.invalid(
                value,
                key,
                t,
                format!("expected a string, found {}", value.get_ref().type_str()),
            )
        })
    }

    /// A string checked (and converted) by `check`.
    fn checked<T>(
        &self,
        value: &Spanned<DeValue>,
        key: &str,
        t: &Table,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, InventoryError> {
        let s = self.str(value, key, t)?;
        check(s).map_err(|reason| self.invalid(value, key, t, reason))
    }

    fn port(&self, value: &Spanned<DeValue>, key: &str, t: &Table) -> Result<u16, InventoryError> {
        let n = value
            .get_ref()
            .as_integer()
            .and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok());
        match n {
            Some(n) => validate::port(n).map_err(|reason| self.invalid(value, key, t, reason)),
            None => Err(self.invalid(
                value,
                key,
                t,
                format!("expected an integer, found {}", value.get_ref().type_str()),
            )),
        }
    }

    fn table<'v, 'i>(
        &self,
        value: &'v Spanned<DeValue<'i>>,
        key: &str,
        t: &Table,
    ) -> Result<&'v DeTable<'i>, InventoryError> {
        value.get_ref().as_table().ok_or_else(|| {
            self.invalid(
                value,
                key,
                t,
                format!("expected a table, found {}", value.get_ref().type_str()),
            )
        })
    }

    /// Each string of an array, with its span.
    fn strings<'v, 'i>(
        &self,
        value: &'v Spanned<DeValue<'i>>,
        key: &str,
        t: &Table,
    ) -> Result<Vec<&'v Spanned<DeValue<'i>>>, InventoryError> {
        let Some(items) = value.get_ref().as_array() else {
            return Err(self.invalid(
                value,
                key,
                t,
                format!("expected an array of strings, found {}", value.get_ref().type_str()),
            ));
        };
        let items: Vec<_> = items.iter().collect();
        for item in &items {
            self.str(item, key, t)?;
        }
        Ok(items)
    }
}

/// Table entries in file order, so the first error reported is the first in the file.
fn entries<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut v: Vec<Entry<'a, 'i>> = table.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

fn parse_with(path: &Path, text: &str, env: Env<'_>) -> Result<Inventory, InventoryError> {
    let cx = Ctx { path, text, env };
    let root = DeTable::parse(text).map_err(|e| syntax_error(&cx, &e))?;
    let top = Table {
        header: "the top level".into(),
        owner: "the top level".into(),
    };
    let mut draft = Draft::default();
    for (key, value) in entries(root.get_ref()) {
        match key.get_ref().as_ref() {
            "defaults" => {
                let t = Table {
                    header: "[defaults]".into(),
                    owner: "[defaults]".into(),
                };
                draft.defaults = settings(&cx, cx.table(value, "defaults", &top)?, &t, &[], |_, _| Ok(false))?;
            }
            "hosts" => hosts(&cx, cx.table(value, "hosts", &top)?, &mut draft)?,
            "groups" => groups(&cx, cx.table(value, "groups", &top)?, &mut draft)?,
            _ => return Err(cx.unknown(key, &top, &["defaults", "hosts", "groups"])),
        }
    }
    check_group_hosts(&cx, root.get_ref(), &draft)?;
    build::finish(draft)
}

/// A TOML syntax error at its span; a duplicate key also names the key.
fn syntax_error(cx: &Ctx, e: &toml::de::Error) -> InventoryError {
    let span = e.span().unwrap_or(0..0);
    let mut message = e.message().trim_end().to_string();
    let key = cx.text.get(span.clone()).unwrap_or_default().trim_matches(['"', '\'']);
    if message == "duplicate key" && !key.is_empty() && !key.contains(['\n', '[', ']']) {
        message = format!("duplicate key {key:?}");
    }
    cx.err(span, message)
}

/// Checks a host or group name (the key of `[hosts.NAME]`, an item of `groups = [...]`).
fn name(cx: &Ctx, span: Range<usize>, what: &str, value: &str) -> Result<(), InventoryError> {
    validate::name(value).map_err(|reason| cx.err(span, format!("invalid {what} name: {reason}")))
}

fn hosts(cx: &Ctx, table: &DeTable, draft: &mut Draft) -> Result<(), InventoryError> {
    for (key, value) in entries(table) {
        let host: &str = key.get_ref();
        name(cx, key.span(), "host", host)?;
        let t = Table {
            header: format!("[hosts.{host}]"),
            owner: format!("host {host}"),
        };
        let parent = Table {
            header: "[hosts]".into(),
            owner: String::new(),
        };
        let mut named = Vec::new();
        let settings = settings(cx, cx.table(value, host, &parent)?, &t, &["groups"], |k, v| {
            for item in cx.strings(v, k, &t)? {
                let g = item.get_ref().as_str().unwrap_or_default();
                name(cx, item.span(), "group", g)?;
                named.push((g.to_string(), item.span()));
            }
            Ok(true)
        })?;
        for (g, span) in &named {
            let at = validate::location(cx.path, cx.text, span.start);
            draft.groups.entry(g.clone()).or_insert_with(|| GroupDraft::new(at));
        }
        let at = validate::location(cx.path, cx.text, key.span().start);
        let groups = named.into_iter().map(|(g, _)| g).collect();
        draft.hosts.insert(host.to_string(), HostDraft { at, settings, groups });
    }
    Ok(())
}

fn groups(cx: &Ctx, table: &DeTable, draft: &mut Draft) -> Result<(), InventoryError> {
    for (key, value) in entries(table) {
        let group: &str = key.get_ref();
        name(cx, key.span(), "group", group)?;
        let t = Table {
            header: format!("[groups.{group}]"),
            owner: format!("group {group}"),
        };
        let parent = Table {
            header: "[groups]".into(),
            owner: String::new(),
        };
        let mut members = Vec::new();
        let settings = settings(cx, cx.table(value, group, &parent)?, &t, &["hosts"], |k, v| {
            members = cx
                .strings(v, k, &t)?
                .iter()
                .map(|i| i.get_ref().as_str().unwrap_or_default().to_string())
                .collect();
            Ok(true)
        })?;
        let at = validate::location(cx.path, cx.text, key.span().start);
        let entry = draft
            .groups
            .entry(group.to_string())
            .or_insert_with(|| GroupDraft::new(at.clone()));
        entry.at = at;
        entry.settings = settings;
        entry.hosts.extend(members);
    }
    Ok(())
}

/// Every name in a group's `hosts = [...]` must be a host.
fn check_group_hosts(cx: &Ctx, root: &DeTable, draft: &Draft) -> Result<(), InventoryError> {
    let Some(groups) = root.get("groups").and_then(|g| g.get_ref().as_table()) else {
        return Ok(());
    };
    for (key, value) in entries(groups) {
        let Some(members) = value.get_ref().get("hosts").and_then(|h| h.get_ref().as_array()) else {
            continue;
        };
        for item in members.iter() {
            let host = item.get_ref().as_str().unwrap_or_default();
            if !draft.hosts.contains_key(host) {
                let hint = validate::hint(host, draft.hosts.keys().map(String::as_str));
                let group: &str = key.get_ref();
                return Err(cx.err(item.span(), format!("unknown host {host:?} in [groups.{group}]{hint}")));
            }
        }
    }
    Ok(())
}

/// Reads the settings keys of a table; `extra` keys go to `other`, which returns whether
/// it took the key.
fn settings<'i>(
    cx: &Ctx,
    table: &DeTable<'i>,
    t: &Table,
    extra: &[&str],
    mut other: impl FnMut(&str, &Spanned<DeValue<'i>>) -> Result<bool, InventoryError>,
) -> Result<Settings, InventoryError> {
    let mut s = Settings::default();
    for (key, value) in entries(table) {
        let k: &str = key.get_ref();
        match k {
            "address" => s.address = Some(cx.checked(value, k, t, |v| validate::address(v).map(|()| v.to_string()))?),
            "user" => s.user = Some(cx.checked(value, k, t, |v| validate::user(v).map(|()| v.to_string()))?),
            "port" => s.port = Some(cx.port(value, k, t)?),
            "identity_file" => {
                s.identity_file = Some(cx.checked(value, k, t, |v| validate::path(v, cx.env))?);
                s.identity_file_at = Some(validate::location(cx.path, cx.text, value.span().start));
            }
            "known_hosts_file" => s.known_hosts_file = Some(cx.checked(value, k, t, |v| validate::path(v, cx.env))?),
            "host_key_checking" => s.host_key_checking = Some(cx.checked(value, k, t, validate::host_key_checking)?),
            "connect_timeout" => s.connect_timeout = Some(cx.checked(value, k, t, validate::duration)?),
            "keep_connections" => s.keep_connections = Some(cx.checked(value, k, t, validate::duration)?),
            "transport" => s.transport = Some(cx.checked(value, k, t, validate::transport)?),
            "proxy_jump" => {
                s.proxy_jump = Some(JumpSpec {
                    hops: cx.checked(value, k, t, validate::jump_hops)?,
                    at: validate::location(cx.path, cx.text, value.span().start),
                    what: format!("invalid proxy_jump in {}", t.header),
                    names_only: true,
                });
            }
            "ssh_config" => {
                s.ssh_config = Some(cx.checked(value, k, t, |v| config_path(v, cx.env))?);
                s.ssh_config_at = Some(validate::location(cx.path, cx.text, value.span().start));
            }
            "vars" => vars(cx, cx.table(value, k, t)?, t, &mut s)?,
            "mysql" => s.mysql = Some(mysql(cx, key.span(), cx.table(value, k, t)?, t)?),
            "become" => match value.get_ref() {
                DeValue::Boolean(b) => s.become_.on = Some(*b),
                other => {
                    let found = other.type_str();
                    return Err(cx.invalid(value, k, t, format!("expected true or false, found {found}")));
                }
            },
            "become_method" => s.become_.method = Some(cx.checked(value, k, t, validate::become_method)?),
            "become_user" => {
                s.become_.user = Some(cx.checked(value, k, t, |v| validate::user(v).map(|()| v.to_string()))?)
            }
            "become_password_env" => {
                let var = cx.str(value, k, t)?;
                let used_at = format!("become_password_env of {}", t.owner);
                let read = validate::secret(var, &used_at, cx.env).map_err(|e| cx.err(value.span(), e))?;
                let at = validate::location(cx.path, cx.text, value.span().start);
                s.become_
                    .set_password(read.map_err(|m| cx.problem(value.span(), m)), at);
            }
            _ if extra.contains(&k) && other(k, value)? => {}
            _ => return Err(cx.unknown(key, t, &[&SETTINGS[..], extra].concat())),
        }
    }
    Ok(s)
}

/// The `ssh_config` file: a path ssh can be told to `Include` (one line, no quote).
fn config_path(value: &str, env: validate::Env) -> Result<std::path::PathBuf, String> {
    match value.chars().find(|c| c.is_control() || *c == '"') {
        Some(c) => Err(format!("{value:?} contains {c:?}")),
        None => validate::path(value, env),
    }
}

fn vars(cx: &Ctx, table: &DeTable, t: &Table, s: &mut Settings) -> Result<(), InventoryError> {
    for (key, value) in entries(table) {
        let k: &str = key.get_ref();
        let full = format!("vars.{k}");
        if let Some(plain) = k.strip_suffix("_env") {
            let var = cx.str(value, &full, t)?;
            let secret = validate::secret(var, &format!("{full} of {}", t.owner), cx.env)
                .map_err(|m| cx.err(value.span(), m))?;
            if table.contains_key(plain) {
                return Err(cx.err(
                    key.span(),
                    format!("vars.{plain} and {full} are both set in {}", t.header),
                ));
            }
            match secret {
                Ok(secret) => s.set_var(plain, secret.expose().to_string()),
                Err(message) => s.unset_var(plain, cx.problem(value.span(), message)),
            }
            continue;
        }
        let text = match value.get_ref() {
            DeValue::String(v) => v.to_string(),
            DeValue::Integer(i) => {
                i64::from_str_radix(i.as_str(), i.radix()).map_or_else(|_| i.to_string(), |n| n.to_string())
            }
            DeValue::Float(f) => f.to_string(),
            DeValue::Boolean(b) => b.to_string(),
            other => {
                return Err(cx.invalid(
                    value,
                    &full,
                    t,
                    format!("expected a string, number or boolean, found {}", other.type_str()),
                ));
            }
        };
        s.vars.insert(k.to_string(), text);
    }
    Ok(())
}

fn mysql(cx: &Ctx, at: Range<usize>, table: &DeTable, parent: &Table) -> Result<MysqlLayer, InventoryError> {
    let t = Table {
        header: format!("{}.mysql]", parent.header.trim_end_matches(']')),
        owner: parent.owner.clone(),
    };
    let mut m = MysqlLayer {
        at: Some(validate::location(cx.path, cx.text, at.start)),
        ..MysqlLayer::default()
    };
    for (key, value) in entries(table) {
        let k: &str = key.get_ref();
        match k {
            "host" => m.host = Some(cx.checked(value, k, &t, |v| validate::address(v).map(|()| v.to_string()))?),
            "port" => m.port = Some(cx.port(value, k, &t)?),
            "user" => m.user = Some(cx.str(value, k, &t)?.to_string()),
            "password_env" => {
                let var = cx.str(value, k, &t)?;
                let used_at = format!("mysql.password_env of {}", t.owner);
                match validate::secret(var, &used_at, cx.env).map_err(|e| cx.err(value.span(), e))? {
                    Ok(secret) => m.password = Some(secret),
                    Err(message) => m.password_unset = Some(cx.problem(value.span(), message)),
                }
            }
            "ssl_mode" => m.ssl_mode = Some(cx.checked(value, k, &t, validate::ssl_mode)?),
            "ca_file" => m.ca_file = Some(cx.checked(value, k, &t, |v| validate::path(v, cx.env))?),
            "connect_timeout" => m.connect_timeout = Some(cx.checked(value, k, &t, validate::duration)?),
            "database" => m.database = Some(cx.str(value, k, &t)?.to_string()),
            _ => return Err(cx.unknown(key, &t, &MYSQL)),
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests;
