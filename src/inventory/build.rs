//! From parsed layers to resolved hosts, the same for every format. A parser fills a
//! [`Draft`] with already-validated [`Settings`] layers (defaults, groups, hosts); [`finish`]
//! resolves group membership through children, applies the layers in Ansible's order
//! (defaults < groups by depth then name < host) and checks the one namespace of `@hosts:`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::validate::Hop;
use super::{
    Become, BecomeMethod, DEFAULT_CONNECT_TIMEOUT, Host, HostKeyChecking, HostProblem, Inventory, InventoryError,
    JumpHost, Location, MysqlSettings, Secret, SslMode, TransportKind,
};

/// One layer of settings; `None` leaves the field to lower layers. The fields mirror
/// [`Host`]'s and are already validated (addresses, ports, paths expanded, secrets read).
#[derive(Debug, Clone, Default)]
pub(super) struct Settings {
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_file: Option<PathBuf>,
    /// Where `identity_file` is written (set with it).
    pub identity_file_at: Option<Location>,
    pub known_hosts_file: Option<PathBuf>,
    pub host_key_checking: Option<HostKeyChecking>,
    pub connect_timeout: Option<Duration>,
    /// `keep_connections`: how long a kept master outlives its last use.
    pub keep_connections: Option<Duration>,
    pub transport: Option<TransportKind>,
    pub vars: BTreeMap<String, String>,
    /// `vars` entries whose `*_env` variable is unset: the problem replaces the value.
    pub vars_unset: BTreeMap<String, HostProblem>,
    pub mysql: Option<MysqlLayer>,
    /// `become`, `become_method`, `become_user`, `become_password_env`, key by key.
    pub become_: BecomeLayer,
    /// Ansible's `ansible_ssh_common_args`, then `ansible_ssh_extra_args`: each variable
    /// overrides as a whole, and their options rank below every other setting (as on
    /// Ansible's ssh command line, where the first value of an option wins).
    pub ssh_args: [Option<SshArgs>; 2],
    /// `proxy_jump` (or Ansible's `ProxyJump` option), resolved into hops by [`finish`].
    pub proxy_jump: Option<JumpSpec>,
    /// `ssh_config`: a file ssh reads as with `-F`.
    pub ssh_config: Option<PathBuf>,
    /// Where `ssh_config` is written (set with it).
    pub ssh_config_at: Option<Location>,
}

/// `proxy_jump` as written: its hops, where, and whether a bare word must name an
/// inventory host (native inventories; in Ansible's `ProxyJump` it may be a DNS name).
#[derive(Debug, Clone)]
pub(super) struct JumpSpec {
    pub hops: Vec<Hop>,
    pub at: Location,
    /// What set it, for messages: `proxy_jump in [groups.internal]`.
    pub what: String,
    pub names_only: bool,
}

/// The ssh options of one Ansible `*_ssh_*_args` variable, checked: those shakedown has a
/// setting for (port, user, identity_file, known_hosts_file, host_key_checking,
/// connect_timeout), and the rest, passed to ssh as they are.
#[derive(Debug, Clone, Default)]
pub(super) struct SshArgs {
    /// Settings the options give, used where nothing else sets them.
    pub settings: Box<Settings>,
    /// `Keyword=value` options for ssh.
    pub options: Vec<String>,
}

impl Settings {
    /// Sets `vars.KEY` (a plain value or a secret read), replacing an unset secret.
    pub(super) fn set_var(&mut self, key: &str, value: String) {
        self.vars_unset.remove(key);
        self.vars.insert(key.to_string(), value);
    }

    /// Records that `vars.KEY` names an unset variable, replacing any value.
    pub(super) fn unset_var(&mut self, key: &str, problem: HostProblem) {
        self.vars.remove(key);
        self.vars_unset.insert(key.to_string(), problem);
    }
}

/// One layer of the `become*` keys; each overrides on its own, as Ansible's variables do.
#[derive(Debug, Clone, Default)]
pub(super) struct BecomeLayer {
    pub on: Option<bool>,
    pub method: Option<BecomeMethod>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// `become_password_env` names an unset variable (the problem replaces the password).
    pub password_unset: Option<HostProblem>,
    /// Where the password (set or unset) is named, for a method that cannot take one.
    pub password_at: Option<Location>,
}

impl BecomeLayer {
    /// Sets the password read from `become_password_env` written at `at` (a value, or the
    /// problem of an unset variable).
    pub(super) fn set_password(&mut self, read: Result<Secret, HostProblem>, at: Location) {
        match read {
            Ok(secret) => {
                self.password = Some(secret);
                self.password_unset = None;
            }
            Err(problem) => {
                self.password = None;
                self.password_unset = Some(problem);
            }
        }
        self.password_at = Some(at);
    }
}

/// One layer of the `mysql` table; the fields mirror [`MysqlSettings`]'s.
#[derive(Debug, Clone, Default)]
pub(super) struct MysqlLayer {
    /// Where the table (or its first `mysql_*` variable) was written.
    pub at: Option<Location>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// `password_env` names an unset variable (the problem replaces the password).
    pub password_unset: Option<HostProblem>,
    pub ssl_mode: Option<SslMode>,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Option<Duration>,
    pub database: Option<String>,
}

fn over<T: Clone>(low: &mut Option<T>, top: &Option<T>) {
    if top.is_some() {
        low.clone_from(top);
    }
}

impl Settings {
    /// Applies `top` over `self`: every field `top` sets wins, vars key by key.
    pub(super) fn overlay(&mut self, top: &Settings) {
        over(&mut self.address, &top.address);
        over(&mut self.port, &top.port);
        over(&mut self.user, &top.user);
        if top.identity_file.is_some() {
            self.identity_file.clone_from(&top.identity_file);
            self.identity_file_at.clone_from(&top.identity_file_at);
        }
        over(&mut self.known_hosts_file, &top.known_hosts_file);
        over(&mut self.host_key_checking, &top.host_key_checking);
        over(&mut self.connect_timeout, &top.connect_timeout);
        over(&mut self.keep_connections, &top.keep_connections);
        over(&mut self.transport, &top.transport);
        for (k, v) in &top.vars {
            self.set_var(k, v.clone());
        }
        for (k, p) in &top.vars_unset {
            self.unset_var(k, p.clone());
        }
        for (low, top) in self.ssh_args.iter_mut().zip(&top.ssh_args) {
            over(low, top);
        }
        let (b, t) = (&mut self.become_, &top.become_);
        over(&mut b.on, &t.on);
        over(&mut b.method, &t.method);
        over(&mut b.user, &t.user);
        if t.password_at.is_some() {
            b.password.clone_from(&t.password);
            b.password_unset.clone_from(&t.password_unset);
            b.password_at.clone_from(&t.password_at);
        }
        over(&mut self.proxy_jump, &top.proxy_jump);
        if top.ssh_config.is_some() {
            self.ssh_config.clone_from(&top.ssh_config);
            self.ssh_config_at.clone_from(&top.ssh_config_at);
        }
        if let Some(t) = &top.mysql {
            let m = self.mysql.get_or_insert_with(MysqlLayer::default);
            over(&mut m.at, &t.at);
            over(&mut m.host, &t.host);
            over(&mut m.port, &t.port);
            over(&mut m.user, &t.user);
            if t.password.is_some() {
                m.password.clone_from(&t.password);
                m.password_unset = None;
            }
            if t.password_unset.is_some() {
                m.password_unset.clone_from(&t.password_unset);
                m.password = None;
            }
            over(&mut m.ssl_mode, &t.ssl_mode);
            over(&mut m.ca_file, &t.ca_file);
            over(&mut m.connect_timeout, &t.connect_timeout);
            over(&mut m.database, &t.database);
        }
    }
}

/// A host as written: where, its own settings, the groups it names itself.
#[derive(Debug, Clone)]
pub(super) struct HostDraft {
    /// Where the host is first defined.
    pub at: Location,
    /// The host's own layer.
    pub settings: Settings,
    /// Groups the host names itself (native `groups = [...]`).
    pub groups: BTreeSet<String>,
}

/// A group as written: where it is first named, its settings, members and child groups.
#[derive(Debug, Clone)]
pub(super) struct GroupDraft {
    /// Where the group is first named.
    pub at: Location,
    /// The group's layer (its vars).
    pub settings: Settings,
    /// Direct member hosts.
    pub hosts: BTreeSet<String>,
    /// Child groups, whose members are members of this group too.
    pub children: BTreeSet<String>,
}

impl GroupDraft {
    /// An empty group first named at `at`.
    pub(super) fn new(at: Location) -> Self {
        GroupDraft {
            at,
            settings: Settings::default(),
            hosts: BTreeSet::new(),
            children: BTreeSet::new(),
        }
    }
}

/// Everything a parser read, before resolution.
#[derive(Debug, Clone, Default)]
pub(super) struct Draft {
    /// Settings under every host (`[defaults]`, Ansible's `all` vars).
    pub defaults: Settings,
    /// Hosts by name.
    pub hosts: BTreeMap<String, HostDraft>,
    /// Groups by name (not `all`).
    pub groups: BTreeMap<String, GroupDraft>,
    /// Add the implicit `all` group holding every host (Ansible).
    pub all_group: bool,
}

fn at_err(at: &Location, message: String) -> InventoryError {
    InventoryError::At {
        location: at.clone(),
        message,
    }
}

/// Resolves a draft into an inventory.
pub(super) fn finish(draft: Draft) -> Result<Inventory, InventoryError> {
    check_namespace(&draft)?;
    let depth = depths(&draft)?;
    let members = memberships(&draft, &depth);
    let mut inv = Inventory::default();
    let mut jumps = BTreeMap::new();
    for (name, host) in &draft.hosts {
        let mut groups: Vec<&String> = members
            .iter()
            .filter(|(_, m)| m.contains(name))
            .map(|(g, _)| g)
            .collect();
        groups.sort_by_key(|g| (depth.get(*g).copied().unwrap_or(1), g.as_str()));
        let mut settings = draft.defaults.clone();
        for g in &groups {
            if let Some(group) = draft.groups.get(*g) {
                settings.overlay(&group.settings);
            }
        }
        settings.overlay(&host.settings);
        let own_mysql = host.settings.mysql.is_some();
        let (mut resolved, jump) = resolve(name, &host.at, settings, own_mysql)?;
        resolved.groups = groups.iter().map(|g| g.to_string()).collect();
        resolved.groups.sort();
        inv.hosts.insert(name.clone(), resolved);
        if let Some(jump) = jump {
            jumps.insert(name.clone(), jump);
        }
    }
    let mut chains = BTreeMap::new();
    for name in jumps.keys() {
        chains.insert(name.clone(), jump_chain(name, &inv.hosts, &jumps, &mut Vec::new())?);
    }
    for (name, chain) in chains {
        if let Some(host) = inv.hosts.get_mut(&name) {
            host.proxy_jump = chain;
        }
    }
    inv.groups = members;
    if draft.all_group {
        inv.groups.insert("all".into(), draft.hosts.keys().cloned().collect());
    }
    Ok(inv)
}

/// Host and group names share one namespace: a clash names both places.
fn check_namespace(draft: &Draft) -> Result<(), InventoryError> {
    for (name, group) in &draft.groups {
        if let Some(host) = draft.hosts.get(name) {
            return Err(at_err(
                &group.at,
                format!(
                    "group {name:?} has the same name as host {name:?} at {}; hosts and groups share one namespace",
                    host.at
                ),
            ));
        }
    }
    match draft.hosts.get("all") {
        Some(host) if draft.all_group => Err(at_err(
            &host.at,
            "host \"all\" has the same name as the implicit group \"all\"; hosts and groups share one namespace".into(),
        )),
        _ => Ok(()),
    }
}

/// Depth of each group below `all` (top-level groups are 1); errors on a children cycle.
fn depths(draft: &Draft) -> Result<BTreeMap<String, usize>, InventoryError> {
    let mut state = BTreeMap::new();
    for (name, group) in &draft.groups {
        if let Some(cycle) = find_cycle(draft, name, &mut state, &mut Vec::new()) {
            let first = cycle.first().map_or(name, |f| f);
            let at = draft.groups.get(first).map_or(&group.at, |g| &g.at);
            let message = format!("group {first:?} is its own descendant ({})", cycle.join(" → "));
            return Err(at_err(at, message));
        }
    }
    let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, g) in &draft.groups {
        for child in &g.children {
            parents.entry(child.as_str()).or_default().push(name.as_str());
        }
    }
    let mut depth = BTreeMap::new();
    for name in draft.groups.keys() {
        depth_of(name, &parents, &mut depth);
    }
    Ok(depth)
}

/// Depth-first search for a cycle through `children`; `state`: 1 = on the trail, 2 = done.
fn find_cycle(
    draft: &Draft,
    name: &str,
    state: &mut BTreeMap<String, u8>,
    trail: &mut Vec<String>,
) -> Option<Vec<String>> {
    match state.get(name) {
        Some(2) => return None,
        Some(_) => {
            let start = trail.iter().position(|t| t == name)?;
            return Some([&trail[start..], &[name.to_string()]].concat());
        }
        None => {}
    }
    state.insert(name.to_string(), 1);
    trail.push(name.to_string());
    for child in draft.groups.get(name).map(|g| &g.children).into_iter().flatten() {
        if let Some(cycle) = find_cycle(draft, child, state, trail) {
            return Some(cycle);
        }
    }
    trail.pop();
    state.insert(name.to_string(), 2);
    None
}

/// 1 + the deepest parent's depth (the children graph has no cycle here).
fn depth_of(name: &str, parents: &BTreeMap<&str, Vec<&str>>, memo: &mut BTreeMap<String, usize>) -> usize {
    if let Some(d) = memo.get(name) {
        return *d;
    }
    let d = 1 + parents
        .get(name)
        .into_iter()
        .flatten()
        .map(|p| depth_of(p, parents, memo))
        .max()
        .unwrap_or(0);
    memo.insert(name.to_string(), d);
    d
}

/// Group → every member host, through children (deepest groups first).
fn memberships(draft: &Draft, depth: &BTreeMap<String, usize>) -> BTreeMap<String, BTreeSet<String>> {
    let mut members: BTreeMap<String, BTreeSet<String>> =
        draft.groups.iter().map(|(n, g)| (n.clone(), g.hosts.clone())).collect();
    for (host, h) in &draft.hosts {
        for g in &h.groups {
            members.entry(g.clone()).or_default().insert(host.clone());
        }
    }
    let mut order: Vec<&String> = draft.groups.keys().collect();
    order.sort_by_key(|n| std::cmp::Reverse(depth.get(*n).copied().unwrap_or(1)));
    for name in order {
        let Some(group) = draft.groups.get(name) else {
            continue;
        };
        let inherited: BTreeSet<String> = group
            .children
            .iter()
            .filter_map(|c| members.get(c))
            .flatten()
            .cloned()
            .collect();
        members.entry(name.clone()).or_default().extend(inherited);
    }
    members
}

/// The hops to `name`, first hop first: a hop naming an inventory host is that host (its
/// address, port, user, key, known-hosts, timeout; `user@` and `:port` written in the hop
/// win), reached through its own jump hosts first; any other hop is an address, with the
/// destination's key, known-hosts file, host key policy and timeout. A host is never its
/// own jump host (a `proxy_jump` in `[defaults]` leaves the bastion itself direct).
fn jump_chain(
    name: &str,
    hosts: &BTreeMap<String, Host>,
    specs: &BTreeMap<String, JumpSpec>,
    trail: &mut Vec<String>,
) -> Result<Vec<JumpHost>, InventoryError> {
    let (Some(spec), Some(dest)) = (specs.get(name), hosts.get(name)) else {
        return Ok(Vec::new());
    };
    if trail.iter().any(|t| t == name) {
        let cycle = [&trail[..], &[name.to_string()]].concat().join(" → ");
        return Err(at_err(
            &spec.at,
            format!("{}: the jump hosts go round in a circle ({cycle})", spec.what),
        ));
    }
    trail.push(name.to_string());
    let mut out = Vec::new();
    for hop in &spec.hops {
        if hop.host == name {
            continue;
        }
        if let Some(via) = hosts.get(&hop.host) {
            if via.transport == TransportKind::Local {
                return Err(at_err(
                    &spec.at,
                    format!(
                        "{}: jump host {} uses the local transport, not ssh",
                        spec.what, hop.host
                    ),
                ));
            }
            out.extend(jump_chain(&hop.host, hosts, specs, trail)?);
            out.push(JumpHost {
                name: hop.text.clone(),
                address: via.address.clone(),
                port: hop.port.or(Some(via.port)),
                user: hop.user.clone().or_else(|| via.user.clone()),
                identity_file: via.identity_file.clone(),
                known_hosts_file: via.known_hosts_file.clone(),
                host_key_checking: via.host_key_checking,
                connect_timeout: via.connect_timeout,
            });
            continue;
        }
        let bare_name = hop.user.is_none() && hop.port.is_none() && !hop.host.contains(['.', ':']);
        if spec.names_only && bare_name {
            let hint = super::validate::hint(&hop.host, hosts.keys().map(String::as_str));
            return Err(at_err(
                &spec.at,
                format!(
                    "{}: no host {:?} in the inventory{hint}; a jump host is an inventory host name, or an address written user@host:port",
                    spec.what, hop.host
                ),
            ));
        }
        out.push(JumpHost {
            name: hop.text.clone(),
            address: hop.host.clone(),
            port: hop.port,
            user: hop.user.clone(),
            identity_file: dest.identity_file.clone(),
            known_hosts_file: dest.known_hosts_file.clone(),
            host_key_checking: dest.host_key_checking,
            connect_timeout: dest.connect_timeout,
        });
    }
    trail.pop();
    Ok(out)
}

/// Applies defaults to a host's merged settings. Mysql settings without a user are an error
/// when the host sets mysql settings itself; inherited ones only leave the host without any.
fn resolve(
    name: &str,
    at: &Location,
    mut s: Settings,
    own_mysql: bool,
) -> Result<(Host, Option<JumpSpec>), InventoryError> {
    let mut ssh_options = Vec::new();
    for args in std::mem::take(&mut s.ssh_args).into_iter().flatten() {
        // Below every other setting, and the first variable's option before the second's.
        let mut under = *args.settings;
        under.overlay(&s);
        s = under;
        ssh_options.extend(args.options);
    }
    let mut unset_secrets: Vec<HostProblem> = s.vars_unset.into_values().collect();
    let transport = s.transport.unwrap_or_default();
    let address = match (s.address, transport) {
        (Some(a), _) => a,
        (None, TransportKind::Local) => "127.0.0.1".to_string(),
        (None, TransportKind::Ssh) => name.to_string(),
    };
    let connect_timeout = s.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let mysql = match s.mysql {
        None => None,
        Some(m) if m.user.is_none() && !own_mysql => None,
        Some(m) => {
            let Some(user) = m.user else {
                let where_ = m.at.as_ref().unwrap_or(at);
                return Err(at_err(
                    where_,
                    format!("the mysql settings of host {name} have no user"),
                ));
            };
            unset_secrets.extend(m.password_unset);
            Some(MysqlSettings {
                host: m.host,
                port: m.port.unwrap_or(3306),
                user,
                password: m.password,
                ssl_mode: m.ssl_mode.unwrap_or_default(),
                ca_file: m.ca_file,
                connect_timeout: m.connect_timeout.unwrap_or(connect_timeout),
                database: m.database,
            })
        }
    };
    let become_as = become_as(name, s.become_, &mut unset_secrets)?;
    let host = Host {
        name: name.to_string(),
        address,
        port: s.port.unwrap_or(22),
        user: s.user,
        identity_file: s.identity_file,
        identity_file_at: s.identity_file_at,
        known_hosts_file: s.known_hosts_file,
        host_key_checking: s.host_key_checking.unwrap_or_default(),
        connect_timeout,
        keep_connections: s.keep_connections,
        transport,
        ssh_options,
        proxy_jump: Vec::new(),
        ssh_config: s.ssh_config,
        ssh_config_at: s.ssh_config_at,
        groups: Vec::new(),
        vars: s.vars,
        mysql,
        become_as,
        unset_secrets,
    };
    Ok((host, s.proxy_jump.filter(|j| !j.hops.is_empty())))
}

/// The host's `become`, when `become = true`: the other keys alone change nothing (as in
/// Ansible). doas reads a password from a terminal only, never from standard input: a
/// password for it is refused here, where it is written, rather than fail on every host.
fn become_as(name: &str, b: BecomeLayer, unset: &mut Vec<HostProblem>) -> Result<Option<Become>, InventoryError> {
    if b.on != Some(true) {
        return Ok(None);
    }
    let method = b.method.unwrap_or_default();
    if let (BecomeMethod::Doas, Some(at)) = (method, &b.password_at) {
        return Err(at_err(
            at,
            format!(
                "become_password_env of host {name}: doas reads a password from a terminal only, never from shakedown; use become_method = \"sudo\" (or \"su\"), or a `permit nopass` rule for doas"
            ),
        ));
    }
    unset.extend(b.password_unset);
    Ok(Some(Become {
        method,
        user: b.user.unwrap_or_else(|| "root".to_string()),
        password: b.password,
    }))
}
