//! The inventory: which hosts exist, how to reach them, their groups and variables.
//! Parsing lives in `native.rs` (shakedown TOML) and `ansible.rs` (INI and YAML); this file
//! holds the shared model and host-pattern resolution. Nothing here touches the network.

mod ansible;
mod build;
mod native;
mod pattern;
pub mod secret;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use pattern::PatternError;
pub use secret::Secret;

/// Every host shakedown knows about, and the groups that name sets of them.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The file it was read from; `None` for the implicit localhost-only inventory.
    pub source: Option<PathBuf>,
    /// Hosts by inventory name.
    pub hosts: BTreeMap<String, Host>,
    /// Group name → member host names.
    pub groups: BTreeMap<String, BTreeSet<String>>,
    /// `file:line:column: ...` notes on what the file says that shakedown does not use
    /// (an Ansible variable it ignores): shown by `lint` and `run`, never an error.
    pub warnings: Vec<String>,
}

/// How shakedown reaches a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportKind {
    /// OpenSSH, one master connection per host per run.
    #[default]
    Ssh,
    /// Plain processes on the machine running shakedown.
    Local,
}

/// What to do with an SSH host key that is unknown or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyChecking {
    /// Refuse unknown and changed keys (the default).
    #[default]
    Strict,
    /// Record unknown keys, refuse changed ones.
    AcceptNew,
    /// Accept anything (lab use only).
    Off,
}

/// One host of the inventory, fully resolved (defaults applied, secrets read).
#[derive(Debug, Clone)]
pub struct Host {
    /// Inventory name, as `@hosts:` patterns and reports use it.
    pub name: String,
    /// Address or DNS name to connect to; validated so it can never become an `ssh` option.
    pub address: String,
    /// SSH port.
    pub port: u16,
    /// SSH user; `None` leaves it to ssh_config.
    pub user: Option<String>,
    /// SSH private key file.
    pub identity_file: Option<PathBuf>,
    /// Where `identity_file` is written, so a missing key is named at its place.
    pub identity_file_at: Option<Location>,
    /// Known-hosts file to check host keys against (shakedown extension; default: ssh's own).
    pub known_hosts_file: Option<PathBuf>,
    /// Host key policy.
    pub host_key_checking: HostKeyChecking,
    /// Time allowed for the SSH connection (and the default for MySQL connects).
    pub connect_timeout: Duration,
    /// Keep this host's SSH master this long after its last use, for the next run to
    /// reuse (`keep_connections`, `--keep-connections`); `None`: closed at the end of the run.
    pub keep_connections: Option<Duration>,
    /// SSH or local.
    pub transport: TransportKind,
    /// More ssh options (`Keyword=value`, as `ssh -o` takes them) from an Ansible
    /// inventory's `ansible_ssh_common_args`/`ansible_ssh_extra_args`: already checked,
    /// none can run a command (`ansible/ssh_args.rs`).
    pub ssh_options: Vec<String>,
    /// The jump hosts (bastions) to go through, first hop first (`proxy_jump`, or an
    /// Ansible `ProxyJump` option); empty for a direct connection.
    pub proxy_jump: Vec<JumpHost>,
    /// An ssh configuration file read instead of the user's and the system's, as `ssh -F`
    /// reads it (`ssh_config`); its `Host` blocks may give the address, user, key and a
    /// `ProxyJump`.
    pub ssh_config: Option<PathBuf>,
    /// Where `ssh_config` is written, so a missing file is named at its place.
    pub ssh_config_at: Option<Location>,
    /// Groups the host belongs to.
    pub groups: Vec<String>,
    /// `{vars.KEY}` values; values read through `*_env` keys are redacted everywhere.
    pub vars: BTreeMap<String, String>,
    /// MySQL connection settings for the MySQL steps.
    pub mysql: Option<MysqlSettings>,
    /// Run every command as another user (`become = true`); `None` runs them as the login user.
    pub become_as: Option<Become>,
    /// Secrets this host's settings name whose variable is unset: an error only when the
    /// run uses the host ([`Host::unusable`]), so one host's missing secret never blocks
    /// a run that does not go near it.
    pub unset_secrets: Vec<HostProblem>,
}

/// One hop on the way to a host behind a bastion. ssh's `-o` options and `-i` apply to the
/// destination only, never to a jump host, so each hop carries its own way in: an inventory
/// host's address, port, user, key and known-hosts; a hop written `user@host:port` takes
/// the destination's key, known-hosts file, host key policy and connect timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    /// The inventory host it is, or the hop as written (`deploy@10.0.0.1:22`): named in
    /// every error of the hosts behind it.
    pub name: String,
    /// Address or DNS name (checked: never an option).
    pub address: String,
    /// SSH port; `None` leaves it to ssh_config (22).
    pub port: Option<u16>,
    /// Login user; `None` leaves it to ssh_config.
    pub user: Option<String>,
    /// SSH private key file.
    pub identity_file: Option<PathBuf>,
    /// Known-hosts file for the hop's host key.
    pub known_hosts_file: Option<PathBuf>,
    /// Host key policy for the hop.
    pub host_key_checking: HostKeyChecking,
    /// Time allowed for the connection to the hop.
    pub connect_timeout: Duration,
}

impl JumpHost {
    /// `address:port` as shown in connection errors.
    pub fn endpoint(&self) -> String {
        let port = self.port.unwrap_or(22);
        if self.address.contains(':') {
            format!("[{}]:{port}", self.address)
        } else {
            format!("{}:{port}", self.address)
        }
    }
}

/// Something wrong with one host that matters only when a run uses that host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostProblem {
    /// Where the setting at fault is written.
    pub location: Location,
    /// What is wrong (never a secret's value).
    pub message: String,
}

/// How commands on a host run as another user (`become = true` and its keys): real fleets
/// log in as a deploy user and read root-only state through sudo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Become {
    /// sudo, doas or su.
    pub method: BecomeMethod,
    /// The user commands run as (`become_user`, default `root`).
    pub user: String,
    /// The password the method asks for, read from `become_password_env` (sudo and su: it
    /// goes on the remote command's standard input, never on a command line).
    pub password: Option<Secret>,
}

/// The program that runs commands as another user (`become_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BecomeMethod {
    /// `sudo` (the default): `-n` without a password, `-S` with one.
    #[default]
    Sudo,
    /// OpenBSD's `doas` (`doas -n`: it reads a password from a terminal only).
    Doas,
    /// `su` (util-linux su reads the password from standard input without a terminal).
    Su,
}

impl BecomeMethod {
    /// The program's name, as messages and the inventory write it.
    pub fn name(self) -> &'static str {
        match self {
            BecomeMethod::Sudo => "sudo",
            BecomeMethod::Doas => "doas",
            BecomeMethod::Su => "su",
        }
    }
}

/// TLS mode of a MySQL connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP.
    Disabled,
    /// TLS when the server offers it (the default).
    #[default]
    Preferred,
    /// TLS, certificate not verified.
    Required,
    /// TLS with certificate and host name verified.
    VerifyIdentity,
}

/// The `mysql` table of a host.
#[derive(Debug, Clone)]
pub struct MysqlSettings {
    /// Server address; defaults to the host's address.
    pub host: Option<String>,
    /// Server port (3306).
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Password read from `password_env`.
    pub password: Option<Secret>,
    /// TLS mode.
    pub ssl_mode: SslMode,
    /// CA file for `verify_identity` / `required`.
    pub ca_file: Option<PathBuf>,
    /// Connect timeout (defaults to the host's connect_timeout).
    pub connect_timeout: Duration,
    /// Default database, if any.
    pub database: Option<String>,
}

/// Where in an inventory file something is, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// A bad inventory: always says where and what, never echoes a secret.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("{path}: cannot read inventory: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Syntax or content error at a place in the file.
    #[error("{location}: {message}")]
    At {
        /// Where.
        location: Location,
        /// What was wrong, and the nearest valid alternative when there is one.
        message: String,
    },
}

/// Default SSH connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Inventory {
    /// The inventory used when none is given: only `localhost`, through the local transport.
    pub fn localhost_only() -> Self {
        let mut inv = Inventory::default();
        inv.hosts.insert("localhost".into(), Host::local("localhost"));
        inv
    }

    /// Reads a native TOML, Ansible INI or Ansible YAML inventory (chosen by extension,
    /// then by content).
    pub fn load(path: &Path) -> Result<Self, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse_text(path, &text)
    }

    /// Parses inventory text as if read from `path` (its extension chooses the format, as
    /// in [`Inventory::load`]); the entry point of the fuzz targets.
    pub fn parse_text(path: &Path, text: &str) -> Result<Self, InventoryError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let mut inv = match ext {
            "toml" => native::parse(path, text)?,
            "yml" | "yaml" => ansible::parse_yaml(path, text)?,
            "ini" | "cfg" => ansible::parse_ini(path, text)?,
            _ if ansible::looks_like_yaml(text) => ansible::parse_yaml(path, text)?,
            _ if ansible::looks_like_ini(text) => ansible::parse_ini(path, text)?,
            _ => native::parse(path, text)?,
        };
        inv.source = Some(path.to_path_buf());
        Ok(inv)
    }

    /// Whether the inventory holds only the implicit local host.
    pub fn is_implicit(&self) -> bool {
        self.source.is_none()
    }
}

impl Host {
    /// A host reached through the local transport.
    pub fn local(name: &str) -> Self {
        Host {
            name: name.to_string(),
            address: "127.0.0.1".into(),
            port: 22,
            user: None,
            identity_file: None,
            identity_file_at: None,
            known_hosts_file: None,
            host_key_checking: HostKeyChecking::Strict,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            keep_connections: None,
            transport: TransportKind::Local,
            ssh_options: Vec::new(),
            proxy_jump: Vec::new(),
            ssh_config: None,
            ssh_config_at: None,
            groups: Vec::new(),
            vars: BTreeMap::new(),
            mysql: None,
            become_as: None,
            unset_secrets: Vec::new(),
        }
    }

    /// Why this host cannot be used by a run, checked before anything is contacted: a
    /// secret whose variable is unset, an SSH key file that does not exist or cannot be
    /// read (which ssh would only report as `Permission denied (publickey)`).
    pub fn unusable(&self) -> Vec<InventoryError> {
        let mut out: Vec<InventoryError> = self
            .unset_secrets
            .iter()
            .map(|p| InventoryError::At {
                location: p.location.clone(),
                message: p.message.clone(),
            })
            .collect();
        let files = [
            (
                "identity_file",
                "a key file",
                &self.identity_file,
                &self.identity_file_at,
            ),
            (
                "ssh_config",
                "an ssh configuration file",
                &self.ssh_config,
                &self.ssh_config_at,
            ),
        ];
        for (key, what, file, at) in files {
            let (TransportKind::Ssh, Some(file)) = (self.transport, file) else {
                continue;
            };
            if let Some(why) = unreadable(file, what) {
                let message = format!("{key} {} of host {}: {why}", file.display(), self.name);
                let location = at.clone().unwrap_or_else(|| Location {
                    path: PathBuf::from("(inventory)"),
                    line: 1,
                    column: 1,
                });
                out.push(InventoryError::At { location, message });
            }
        }
        out
    }

    /// `address:port` as shown in connection errors.
    pub fn endpoint(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }
}

/// Why `file` cannot be read as `what` (a key, an ssh configuration), or `None`.
fn unreadable(file: &Path, what: &str) -> Option<String> {
    match std::fs::File::open(file) {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_dir()) => Some(format!("a directory, not {what}")),
        Ok(_) => None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some("no such file".to_string()),
        Err(e) => Some(format!("cannot be read ({e})")),
    }
}
