//! Ansible inventories, INI (`ansible/ini.rs`) and YAML (`ansible/yaml.rs`), as Ansible reads
//! them: groups and children groups become shakedown groups (members of a child are members
//! of its parents), `all` holds every host, `ungrouped` the hosts in no other group.
//!
//! Variables map onto hosts here, the same for both formats: `ansible_host`, `ansible_port`,
//! `ansible_user`, `ansible_ssh_private_key_file`, `ansible_connection` (`local`, or
//! `ssh`/`smart`/`paramiko`) and the `ansible_ssh_*` aliases give the connection;
//! `ansible_ssh_common_args` and `ansible_ssh_extra_args` add ssh options (`ssh_args.rs`:
//! those that could run a command are refused);
//! `ansible_become`, `ansible_become_method`, `ansible_become_user` the `become` keys, with
//! `become_password_env` for its password (a literal `ansible_become_password` or
//! `ansible_become_pass` is refused: secrets come from the environment);
//! `shakedown_known_hosts_file`, `shakedown_host_key_checking`, `shakedown_connect_timeout`, `shakedown_keep_connections`,
//! `shakedown_ssh_config` (the native `ssh_config`) the shakedown extensions; `mysql_host`, `mysql_port`, `mysql_user`, `mysql_password_env`,
//! `mysql_ssl_mode`, `mysql_ca_file`, `mysql_connect_timeout`, `mysql_database` the mysql table
//! (which exists only when one of them is set). Other `ansible_*` variables are ignored with a
//! warning (`Inventory::warnings`);
//! everything else becomes a `vars` entry, where `KEY_env = VAR` whose value is an upper-case
//! variable name reads the secret `KEY` from the environment (so `rails_env=production` stays
//! a plain variable). A plain `mysql_password` is refused: secrets come from the environment.
//! Precedence: `all` vars < parent group vars < child group vars (same depth: by name) < host.
//! A JSON inventory is YAML: `looks_like_yaml` knows it by its `{`.
//! Nothing here touches the network.

mod hostpattern;
mod ini;
mod ssh_args;
#[cfg(test)]
mod tests;
mod yaml;

use std::collections::BTreeSet;
use std::path::Path;

use super::build::{self, Draft, GroupDraft, HostDraft, MysqlLayer, Settings};
use super::validate::{self, Env};
use super::{HostProblem, Inventory, InventoryError, Location, TransportKind};

/// Parses an Ansible INI inventory.
pub(super) fn parse_ini(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
    ini::parse(path, text, &validate::process_env)
}

/// Parses an Ansible YAML inventory.
pub(super) fn parse_yaml(path: &Path, text: &str) -> Result<Inventory, InventoryError> {
    yaml::parse(path, text, &validate::process_env)
}

/// Whether text without a telling extension looks like a YAML inventory, or a JSON one
/// (JSON is YAML: an object starts with `{`).
pub(super) fn looks_like_yaml(text: &str) -> bool {
    meaningful(text).next().is_some_and(|l| {
        l == "---" || l.starts_with('{') || (l.ends_with(':') && !l.starts_with('[') && !l.contains([' ', '=']))
    })
}

/// Whether text without a telling extension looks like an INI inventory: a first line that
/// is an INI section (not a native `[defaults]`, `[hosts.x]`, `[groups.x]` table) or a host
/// line (`name` or `name key=value`, never TOML's `key = value`).
pub(super) fn looks_like_ini(text: &str) -> bool {
    let Some(first) = meaningful(text).next() else {
        return false;
    };
    if first.starts_with('[') {
        let native = ["[defaults]", "[hosts.", "[groups.", "[["];
        return !native.iter().any(|p| first.starts_with(p));
    }
    match first.split_once('=') {
        None => true,
        Some((before, _)) => before.trim().contains(char::is_whitespace),
    }
}

fn meaningful(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['#', ';']))
}

/// Who a variable belongs to.
#[derive(Debug, Clone)]
pub(super) enum Owner {
    /// A host's own variables.
    Host(String),
    /// A group's variables (`all` meaning the defaults).
    Group(String),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::Host(h) => write!(f, "host {h}"),
            Owner::Group(g) => write!(f, "group {g}"),
        }
    }
}

/// Groups, hosts and variables as read, shared by the INI and YAML readers.
pub(super) struct Tree<'a> {
    /// The file, for locations.
    pub path: &'a Path,
    /// Its text, for locations.
    pub text: &'a str,
    /// How `*_env` variables and `~/` are read.
    pub env: Env<'a>,
    draft: Draft,
    declared: BTreeSet<String>,
    warnings: Vec<String>,
}

impl<'a> Tree<'a> {
    /// An empty tree whose resolution adds the implicit `all` group.
    pub(super) fn new(path: &'a Path, text: &'a str, env: Env<'a>) -> Self {
        let draft = Draft {
            all_group: true,
            ..Draft::default()
        };
        Tree {
            path,
            text,
            env,
            draft,
            declared: BTreeSet::new(),
            warnings: Vec::new(),
        }
    }

    /// The location of byte `offset`.
    pub(super) fn loc(&self, offset: usize) -> Location {
        validate::location(self.path, self.text, offset)
    }

    /// A group that exists (has a hosts or children section, or is someone's child).
    pub(super) fn declare(&mut self, group: &str, at: &Location) {
        if group != "all" {
            self.declared.insert(group.to_string());
            self.draft
                .groups
                .entry(group.to_string())
                .or_insert_with(|| GroupDraft::new(at.clone()));
        }
    }

    /// `host` is a member of `group` (`all` meaning "no group": `ungrouped`).
    pub(super) fn add_host(&mut self, host: &str, group: &str, at: &Location) {
        let group = if group == "all" { "ungrouped" } else { group };
        self.declare(group, at);
        if let Some(g) = self.draft.groups.get_mut(group) {
            g.hosts.insert(host.to_string());
        }
        let draft = HostDraft {
            at: at.clone(),
            settings: Settings::default(),
            groups: BTreeSet::new(),
        };
        self.draft.hosts.entry(host.to_string()).or_insert(draft);
    }

    /// `child` is a child group of `parent`.
    pub(super) fn add_child(&mut self, parent: &str, child: &str, at: &Location) {
        self.declare(child, at);
        if parent != "all" {
            self.declare(parent, at);
            if let Some(g) = self.draft.groups.get_mut(parent) {
                g.children.insert(child.to_string());
            }
        }
    }

    /// Applies variable `key = value` to `owner` (a group's vars may come before the group);
    /// the error is the message without location.
    pub(super) fn apply(&mut self, owner: &Owner, key: &str, value: &str, at: &Location) -> Result<(), String> {
        let env = self.env;
        if key.starts_with("ansible_") && !USED_ANSIBLE_VARS.contains(&key) {
            self.warn(at, &format!("{key} is not used by shakedown (ignored)"));
            return Ok(());
        }
        let layer = match owner {
            Owner::Group(g) if g == "all" => &mut self.draft.defaults,
            Owner::Group(g) => {
                let group = self
                    .draft
                    .groups
                    .entry(g.clone())
                    .or_insert_with(|| GroupDraft::new(at.clone()));
                &mut group.settings
            }
            Owner::Host(h) => match self.draft.hosts.get_mut(h) {
                Some(host) => &mut host.settings,
                None => return Err(format!("variable {key} for unknown host {h}")),
            },
        };
        let warnings = apply_var(layer, key, value, owner, at, env)?;
        for w in warnings {
            self.warn(at, &w);
        }
        Ok(())
    }

    /// A note at `at`, once.
    fn warn(&mut self, at: &Location, message: &str) {
        let text = format!("{at}: {message}");
        if !self.warnings.contains(&text) {
            self.warnings.push(text);
        }
    }

    /// Checks that every group given vars exists, fills `ungrouped`, resolves.
    pub(super) fn finish(mut self) -> Result<Inventory, InventoryError> {
        let defined: Vec<&str> = self.declared.iter().map(String::as_str).collect();
        if let Some((name, g)) = self.draft.groups.iter().find(|(n, _)| !self.declared.contains(*n)) {
            let hint = validate::hint(name, defined.iter().copied());
            let message = format!("vars for group {name:?}, which is never defined{hint}");
            return Err(InventoryError::At {
                location: g.at.clone(),
                message,
            });
        }
        let grouped: BTreeSet<String> = self
            .draft
            .groups
            .iter()
            .filter(|(n, _)| *n != "ungrouped")
            .flat_map(|(_, g)| g.hosts.iter().cloned())
            .collect();
        let lonely: Vec<(String, Location)> = self
            .draft
            .hosts
            .iter()
            .filter(|(h, _)| !grouped.contains(*h))
            .map(|(h, d)| (h.clone(), d.at.clone()))
            .collect();
        if let Some((_, at)) = lonely.first() {
            self.declare("ungrouped", at);
        }
        if let Some(ungrouped) = self.draft.groups.get_mut("ungrouped") {
            ungrouped.hosts = lonely.into_iter().map(|(h, _)| h).collect();
            if ungrouped.hosts.is_empty() && ungrouped.children.is_empty() {
                self.draft.groups.remove("ungrouped");
            }
        }
        let mut inv = build::finish(self.draft)?;
        inv.warnings = self.warnings;
        Ok(inv)
    }
}

/// The `ansible_*` variables that mean something to shakedown; any other is a warning.
const USED_ANSIBLE_VARS: [&str; 16] = [
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ansible_connection",
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_become",
    "ansible_become_method",
    "ansible_become_user",
    "ansible_become_password",
    "ansible_become_pass",
];

/// Applies one Ansible variable to a settings layer. `at` is where it is written. Returns
/// what was ignored (warnings, without location).
fn apply_var(
    s: &mut Settings,
    key: &str,
    value: &str,
    who: &Owner,
    at: &Location,
    env: Env,
) -> Result<Vec<String>, String> {
    let owner = &who.to_string();
    let bad = |reason: String| format!("invalid {key} of {owner}: {reason}");
    let text = |check: fn(&str) -> Result<(), String>| check(value).map(|()| value.to_string()).map_err(bad);
    let problem = |message: String| HostProblem {
        location: at.clone(),
        message,
    };
    match key {
        "ansible_host" | "ansible_ssh_host" => s.address = Some(text(validate::address)?),
        "ansible_port" | "ansible_ssh_port" => s.port = Some(validate::port_text(value).map_err(bad)?),
        "ansible_user" | "ansible_ssh_user" => s.user = Some(text(validate::user)?),
        "ansible_ssh_private_key_file" | "ansible_private_key_file" => {
            s.identity_file = Some(validate::path(value, env).map_err(bad)?);
            s.identity_file_at = Some(at.clone());
        }
        "ansible_connection" => s.transport = Some(connection(value).map_err(bad)?),
        "ansible_ssh_common_args" | "ansible_ssh_extra_args" => {
            let parsed = ssh_args::parse(key, value, who, at, env)?;
            s.ssh_args[usize::from(key == "ansible_ssh_extra_args")] = Some(parsed.args);
            return Ok(parsed.warnings);
        }
        "ansible_become" => s.become_.on = Some(validate::boolean(value).map_err(bad)?),
        "ansible_become_method" => s.become_.method = Some(validate::become_method(value).map_err(bad)?),
        "ansible_become_user" => s.become_.user = Some(text(validate::user)?),
        "ansible_become_password" | "ansible_become_pass" => {
            return Err(format!(
                "{key} of {owner} is not read from the inventory: put the password in an environment variable and name it with become_password_env"
            ));
        }
        "become_password_env" => {
            let read = validate::secret(value, &format!("{key} of {owner}"), env)?;
            s.become_.set_password(read.map_err(problem), at.clone());
        }
        "shakedown_known_hosts_file" => s.known_hosts_file = Some(validate::path(value, env).map_err(bad)?),
        "shakedown_host_key_checking" => s.host_key_checking = Some(validate::host_key_checking(value).map_err(bad)?),
        "shakedown_connect_timeout" => s.connect_timeout = Some(validate::duration(value).map_err(bad)?),
        "shakedown_keep_connections" => s.keep_connections = Some(validate::duration(value).map_err(bad)?),
        "shakedown_ssh_config" => {
            if let Some(c) = value.chars().find(|c| c.is_control() || *c == '"') {
                return Err(bad(format!("{value:?} contains {c:?}")));
            }
            s.ssh_config = Some(validate::path(value, env).map_err(bad)?);
            s.ssh_config_at = Some(at.clone());
        }
        "mysql_password" => {
            return Err(format!(
                "{key} of {owner} is not read from the inventory: put the password in an environment variable and name it with mysql_password_env"
            ));
        }
        _ if key.starts_with("mysql_") && mysql_var(s, key, value, owner, at, env)? => {}
        _ => match key.strip_suffix("_env").filter(|_| is_env_name(value)) {
            Some(plain) => match validate::secret(value, &format!("{key} of {owner}"), env)? {
                Ok(secret) => s.set_var(plain, secret.expose().to_string()),
                Err(message) => s.unset_var(plain, problem(message)),
            },
            None => s.set_var(key, value.to_string()),
        },
    }
    Ok(Vec::new())
}

/// An upper-case environment variable name, as `*_env` values are in Ansible inventories.
fn is_env_name(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

const MYSQL_VARS: [&str; 8] = [
    "mysql_host",
    "mysql_port",
    "mysql_user",
    "mysql_password_env",
    "mysql_ssl_mode",
    "mysql_ca_file",
    "mysql_connect_timeout",
    "mysql_database",
];

/// The mysql table's variables; `false` for a `mysql_*` name that is not one of them.
fn mysql_var(s: &mut Settings, key: &str, value: &str, owner: &str, at: &Location, env: Env) -> Result<bool, String> {
    if !MYSQL_VARS.contains(&key) {
        return Ok(false);
    }
    let bad = |reason: String| format!("invalid {key} of {owner}: {reason}");
    let m = s.mysql.get_or_insert_with(|| MysqlLayer {
        at: Some(at.clone()),
        ..MysqlLayer::default()
    });
    match key {
        "mysql_host" => m.host = Some(validate::address(value).map(|()| value.to_string()).map_err(bad)?),
        "mysql_port" => m.port = Some(validate::port_text(value).map_err(bad)?),
        "mysql_user" => m.user = Some(value.to_string()),
        "mysql_password_env" => match validate::secret(value, &format!("{key} of {owner}"), env)? {
            Ok(secret) => {
                m.password = Some(secret);
                m.password_unset = None;
            }
            Err(message) => {
                m.password = None;
                m.password_unset = Some(HostProblem {
                    location: at.clone(),
                    message,
                });
            }
        },
        "mysql_ssl_mode" => m.ssl_mode = Some(validate::ssl_mode(value).map_err(bad)?),
        "mysql_ca_file" => m.ca_file = Some(validate::path(value, env).map_err(bad)?),
        "mysql_connect_timeout" => m.connect_timeout = Some(validate::duration(value).map_err(bad)?),
        _ => m.database = Some(value.to_string()),
    }
    Ok(true)
}

/// `ansible_connection`: `local`, or one of the SSH connection plugins.
fn connection(value: &str) -> Result<TransportKind, String> {
    let plugin = value
        .trim_start_matches("ansible.builtin.")
        .trim_start_matches("ansible.legacy.");
    match plugin {
        "local" => Ok(TransportKind::Local),
        "ssh" | "smart" | "paramiko" | "paramiko_ssh" => Ok(TransportKind::Ssh),
        _ => Err(format!(
            "{value:?} is not a connection shakedown supports (ssh, smart, paramiko or local)"
        )),
    }
}
