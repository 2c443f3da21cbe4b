//! From parsed layers to resolved hosts, the same for every format. A parser fills a
//! [`Draft`] with already-validated [`Settings`] layers (defaults, groups, hosts); [`finish`]
//! resolves group membership through children, applies the layers in Ansible's order
//! (defaults < groups by depth then name < host) and checks the one namespace of `@hosts:`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::{
    DEFAULT_CONNECT_TIMEOUT, Host, HostKeyChecking, Inventory, InventoryError, Location,
    MysqlSettings, Secret, SslMode, TransportKind,
};

/// One layer of settings; `None` leaves the field to lower layers.
#[derive(Debug, Clone, Default)]
pub(super) struct Settings {
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_file: Option<PathBuf>,
    pub known_hosts_file: Option<PathBuf>,
    pub host_key_checking: Option<HostKeyChecking>,
    pub connect_timeout: Option<Duration>,
    pub transport: Option<TransportKind>,
    pub vars: BTreeMap<String, String>,
    pub mysql: Option<MysqlLayer>,
}

/// One layer of the `mysql` table.
#[derive(Debug, Clone, Default)]
pub(super) struct MysqlLayer {
    /// Where the table (or its first `mysql_*` variable) was written.
    pub at: Option<Location>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<Secret>,
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
        over(&mut self.identity_file, &top.identity_file);
        over(&mut self.known_hosts_file, &top.known_hosts_file);
        over(&mut self.host_key_checking, &top.host_key_checking);
        over(&mut self.connect_timeout, &top.connect_timeout);
        over(&mut self.transport, &top.transport);
        for (k, v) in &top.vars {
            self.vars.insert(k.clone(), v.clone());
        }
        if let Some(t) = &top.mysql {
            let m = self.mysql.get_or_insert_with(MysqlLayer::default);
            over(&mut m.at, &t.at);
            over(&mut m.host, &t.host);
            over(&mut m.port, &t.port);
            over(&mut m.user, &t.user);
            over(&mut m.password, &t.password);
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
    pub at: Location,
    pub settings: Settings,
    pub groups: BTreeSet<String>,
}

/// A group as written: where it is first named, its settings, members and child groups.
#[derive(Debug, Clone)]
pub(super) struct GroupDraft {
    pub at: Location,
    pub settings: Settings,
    pub hosts: BTreeSet<String>,
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
    pub hosts: BTreeMap<String, HostDraft>,
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
        let mut resolved = resolve(name, &host.at, settings)?;
        resolved.groups = groups.iter().map(|g| g.to_string()).collect();
        resolved.groups.sort();
        inv.hosts.insert(name.clone(), resolved);
    }
    inv.groups = members;
    if draft.all_group {
        inv.groups
            .insert("all".into(), draft.hosts.keys().cloned().collect());
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
    let mut depth = BTreeMap::new();
    let mut todo: Vec<(String, usize, Vec<String>)> = Vec::new();
    let is_child: BTreeSet<&String> = draft.groups.values().flat_map(|g| &g.children).collect();
    for name in draft.groups.keys().filter(|n| !is_child.contains(n)) {
        todo.push((name.clone(), 1, vec![name.clone()]));
    }
    while let Some((name, d, trail)) = todo.pop() {
        let entry = depth.entry(name.clone()).or_insert(d);
        *entry = (*entry).max(d);
        let Some(group) = draft.groups.get(&name) else {
            continue;
        };
        for child in &group.children {
            if trail.contains(child) {
                let cycle = [trail.as_slice(), std::slice::from_ref(child)]
                    .concat()
                    .join(" → ");
                return Err(at_err(
                    &group.at,
                    format!("group {child:?} is its own descendant ({cycle})"),
                ));
            }
            let mut t = trail.clone();
            t.push(child.clone());
            todo.push((child.clone(), d + 1, t));
        }
    }
    if let Some((name, g)) = draft.groups.iter().find(|(n, _)| !depth.contains_key(*n)) {
        return Err(at_err(
            &g.at,
            format!("group {name:?} is its own descendant"),
        ));
    }
    Ok(depth)
}

/// Group → every member host, through children (deepest groups first).
fn memberships(
    draft: &Draft,
    depth: &BTreeMap<String, usize>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut members: BTreeMap<String, BTreeSet<String>> = draft
        .groups
        .iter()
        .map(|(n, g)| (n.clone(), g.hosts.clone()))
        .collect();
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

/// Applies defaults to a host's merged settings.
fn resolve(name: &str, at: &Location, s: Settings) -> Result<Host, InventoryError> {
    let transport = s.transport.unwrap_or_default();
    let address = match (s.address, transport) {
        (Some(a), _) => a,
        (None, TransportKind::Local) => "127.0.0.1".to_string(),
        (None, TransportKind::Ssh) => name.to_string(),
    };
    let connect_timeout = s.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let mysql = match s.mysql {
        None => None,
        Some(m) => {
            let Some(user) = m.user else {
                let where_ = m.at.as_ref().unwrap_or(at);
                return Err(at_err(
                    where_,
                    format!("the mysql settings of host {name} have no user"),
                ));
            };
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
    Ok(Host {
        name: name.to_string(),
        address,
        port: s.port.unwrap_or(22),
        user: s.user,
        identity_file: s.identity_file,
        known_hosts_file: s.known_hosts_file,
        host_key_checking: s.host_key_checking.unwrap_or_default(),
        connect_timeout,
        transport,
        groups: Vec::new(),
        vars: s.vars,
        mysql,
    })
}
