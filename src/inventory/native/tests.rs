//! Native TOML inventory tests over `fixtures/inventory/*.toml`, asserting exact messages.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::parse_with;
use crate::inventory::{BecomeMethod, HostKeyChecking, Inventory, InventoryError, SslMode, TransportKind};

fn env(name: &str) -> Option<OsString> {
    match name {
        "HOME" => Some("/home/lab".into()),
        "SHAKEDOWN_MYSQL_PASSWORD" => Some("canary-mysql-7f3a".into()),
        "SHAKEDOWN_API_TOKEN" => Some("canary-token-9b1c".into()),
        _ => None,
    }
}

fn no_secrets(name: &str) -> Option<OsString> {
    (name == "HOME").then(|| "/home/lab".into())
}

fn load_with(file: &str, env: super::Env) -> Result<Inventory, InventoryError> {
    let rel = format!("fixtures/inventory/{file}");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&rel)).unwrap();
    parse_with(Path::new(&rel), &text, env)
}

fn load(file: &str) -> Result<Inventory, InventoryError> {
    load_with(file, &env)
}

fn err(file: &str) -> String {
    load_with(file, &no_secrets).unwrap_err().to_string()
}

#[test]
fn good_inventory_resolves_every_key() {
    let inv = load("good.toml").unwrap();
    assert_eq!(
        inv.hosts.keys().collect::<Vec<_>>(),
        ["db1", "db2", "localhost", "web1", "web2"]
    );
    let web1 = &inv.hosts["web1"];
    assert_eq!(
        (web1.address.as_str(), web1.port, web1.user.as_deref()),
        ("10.0.0.21", 22, Some("root"))
    );
    assert_eq!(web1.identity_file, Some(PathBuf::from("/home/lab/.ssh/deploy_ed25519")));
    assert_eq!(web1.connect_timeout, Duration::from_secs(5));
    assert_eq!(web1.groups, ["web"]);
    // host vars win over group vars, which win over defaults
    assert_eq!(web1.vars["tier"], "edge");
    assert_eq!(web1.vars["env"], "web-lab");
    assert_eq!(web1.vars["retries"], "3");
    assert_eq!(
        (web1.vars["debug"].as_str(), web1.vars["ratio"].as_str()),
        ("true", "0.5")
    );
    assert_eq!(web1.vars["api_token"], "canary-token-9b1c");
    assert!(!web1.vars.contains_key("api_token_env"));
    assert_eq!(crate::inventory::secret::redact("t=canary-token-9b1c"), "t=***");
    let web2 = &inv.hosts["web2"];
    assert_eq!(web2.address, "web2", "no address: the name is the address");
    assert_eq!(
        web2.known_hosts_file,
        Some(PathBuf::from("/home/lab/.ssh/lab_known_hosts"))
    );
    assert_eq!(web2.host_key_checking, HostKeyChecking::AcceptNew);
    assert_eq!(web2.connect_timeout, Duration::from_millis(900));
    assert_eq!(web2.vars["tier"], "front");
    let mysql = web2.mysql.as_ref().unwrap();
    assert_eq!((mysql.user.as_str(), mysql.port), ("monitor", 3306));
    assert_eq!(
        mysql.connect_timeout,
        Duration::from_millis(900),
        "defaults to the host's"
    );
    assert_eq!(mysql.password.as_ref().unwrap().expose(), "canary-mysql-7f3a");
}

#[test]
fn good_inventory_groups_and_mysql_overrides() {
    let inv = load("good.toml").unwrap();
    let db2 = &inv.hosts["db2"];
    assert_eq!(
        (db2.address.as_str(), db2.port, db2.user.as_deref()),
        ("10.0.0.32", 2222, Some("dba"))
    );
    assert_eq!(db2.groups, ["db", "replicas"]);
    let m = db2.mysql.as_ref().unwrap();
    assert_eq!(
        (m.host.as_deref(), m.port, m.user.as_str()),
        (Some("127.0.0.1"), 3307, "monitor")
    );
    assert_eq!(
        (m.ssl_mode, m.database.as_deref()),
        (SslMode::VerifyIdentity, Some("app"))
    );
    assert_eq!(m.ca_file, Some(PathBuf::from("/etc/ssl/lab-ca.pem")));
    assert_eq!(m.connect_timeout, Duration::from_secs(2));
    assert!(!format!("{m:?}").contains("canary"));
    assert_eq!(
        inv.hosts["db1"].user.as_deref(),
        Some("dba"),
        "[groups.db] hosts = [db1]"
    );
    assert_eq!(inv.hosts["db1"].groups, ["db"]);
    let local = &inv.hosts["localhost"];
    assert_eq!(
        (local.transport, local.address.as_str()),
        (TransportKind::Local, "127.0.0.1")
    );
    let groups: Vec<(&str, Vec<&str>)> = inv
        .groups
        .iter()
        .map(|(g, m)| (g.as_str(), m.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        groups,
        [
            ("db", vec!["db1", "db2"]),
            ("replicas", vec!["db2"]),
            ("web", vec!["web1", "web2"])
        ]
    );
    assert_eq!(inv.select("db").unwrap(), ["db1", "db2"]);
}

#[test]
fn syntax_errors_have_the_toml_message() {
    let f = "fixtures/inventory/bad-syntax.toml";
    assert_eq!(
        err("bad-syntax.toml"),
        format!("{f}:3:16: unclosed array, expected `]`")
    );
    let f = "fixtures/inventory/bad-duplicate-host.toml";
    assert_eq!(
        err("bad-duplicate-host.toml"),
        format!("{f}:4:8: duplicate key \"web1\"")
    );
}

#[test]
fn unknown_keys_name_the_nearest() {
    let f = "fixtures/inventory/bad-unknown-key.toml";
    assert_eq!(
        err("bad-unknown-key.toml"),
        format!("{f}:8:1: unknown key \"adress\" in [hosts.web2] (did you mean \"address\"?)")
    );
    let f = "fixtures/inventory/bad-unknown-default.toml";
    assert_eq!(
        err("bad-unknown-default.toml"),
        format!("{f}:3:1: unknown key \"identity\" in [defaults] (did you mean \"identity_file\"?)")
    );
    let f = "fixtures/inventory/bad-unknown-mysql.toml";
    assert_eq!(
        err("bad-unknown-mysql.toml"),
        format!("{f}:6:1: unknown key \"pasword_env\" in [hosts.db1.mysql] (did you mean \"password_env\"?)")
    );
    let e = parse_with(Path::new("i.toml"), "[host.web1]\n", &no_secrets).unwrap_err();
    assert_eq!(
        e.to_string(),
        "i.toml:1:2: unknown key \"host\" in the top level (did you mean \"hosts\"?)"
    );
}

/// The problems of every host, as `lint` and `run` report them for the hosts they use.
fn unusable(inv: &Inventory) -> Vec<String> {
    inv.hosts
        .values()
        .flat_map(|h| h.unusable())
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn unset_env_names_the_variable_and_where() {
    // An unset secret is not an error of the file: only of a run that uses the host.
    let f = "fixtures/inventory/bad-unset-env.toml";
    let inv = load_with("bad-unset-env.toml", &no_secrets).unwrap();
    assert_eq!(
        unusable(&inv),
        [format!(
            "{f}:6:16: SHAKEDOWN_MYSQL_PASSWORD is not set (mysql.password_env of host db1)"
        )]
    );
    assert!(inv.hosts["db1"].mysql.as_ref().unwrap().password.is_none());
    let inv = parse_with(
        Path::new("i.toml"),
        "[defaults]\nvars = { token_env = \"NOPE\" }\n[hosts.a]\n",
        &no_secrets,
    )
    .unwrap();
    assert_eq!(
        unusable(&inv),
        ["i.toml:2:22: NOPE is not set (vars.token_env of [defaults])"]
    );
    assert!(!inv.hosts["a"].vars.contains_key("token"));
    // A layer above that sets the value (or a variable that is set) replaces the problem.
    let inv = parse_with(
        Path::new("i.toml"),
        "[defaults]\nvars = { token_env = \"NOPE\" }\n[defaults.mysql]\nuser = \"m\"\npassword_env = \"NOPE\"\n[hosts.a]\nvars = { token = \"t\" }\n[hosts.a.mysql]\npassword_env = \"HOME\"\n[hosts.b]\n",
        &no_secrets,
    )
    .unwrap();
    assert!(inv.hosts["a"].unusable().is_empty(), "{:?}", inv.hosts["a"].unusable());
    assert_eq!(inv.hosts["a"].vars["token"], "t");
    assert_eq!(inv.hosts["b"].unusable().len(), 2);
    // A bad variable name is still an error at once.
    let e = parse_with(
        Path::new("i.toml"),
        "[defaults]\nvars = { token_env = \"A=B\" }\n",
        &no_secrets,
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "i.toml:2:22: \"A=B\" is not an environment variable name (vars.token_env of [defaults])"
    );
}

#[test]
fn a_missing_identity_file_is_named_at_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id");
    let text = format!(
        "[defaults]\nidentity_file = \"{}\"\n[hosts.a]\n[hosts.b]\nidentity_file = \"~/nope\"\n[hosts.c]\ntransport = \"local\"\n",
        key.display()
    );
    let inv = parse_with(Path::new("i.toml"), &text, &no_secrets).unwrap();
    assert_eq!(
        inv.hosts["a"].unusable()[0].to_string(),
        format!("i.toml:2:17: identity_file {} of host a: no such file", key.display())
    );
    assert_eq!(
        inv.hosts["b"].unusable()[0].to_string(),
        "i.toml:5:17: identity_file /home/lab/nope of host b: no such file"
    );
    std::fs::write(&key, "key").unwrap();
    assert!(inv.hosts["a"].unusable().is_empty());
    assert!(inv.hosts["c"].unusable().is_empty(), "a local host uses no key");
}

#[test]
fn bad_values() {
    let f = "fixtures/inventory/bad-host-key-checking.toml";
    assert_eq!(
        err("bad-host-key-checking.toml"),
        format!(
            "{f}:2:21: invalid host_key_checking in [defaults]: \"yes\" is not one of \"strict\", \"accept-new\", \"off\""
        )
    );
    let f = "fixtures/inventory/bad-address-option.toml";
    assert_eq!(
        err("bad-address-option.toml"),
        format!("{f}:2:11: invalid address in [hosts.evil]: \"-oProxyCommand=touch /tmp/x\" starts with \"-\"")
    );
    let f = "fixtures/inventory/bad-address-space.toml";
    assert_eq!(
        err("bad-address-space.toml"),
        format!("{f}:2:11: invalid address in [hosts.web1]: \"10.0.0.21 -p 2222\" contains ' '")
    );
    let f = "fixtures/inventory/bad-port.toml";
    assert_eq!(
        err("bad-port.toml"),
        format!("{f}:2:8: invalid port in [hosts.web1]: 70000 is not a port (1 to 65535)")
    );
}

#[test]
fn more_bad_values() {
    let cases = [
        (
            "[hosts.w]\nport = \"22\"\n",
            "i.toml:2:8: invalid port in [hosts.w]: expected an integer, found string",
        ),
        (
            "[hosts.w]\nuser = \"-lroot\"\n",
            "i.toml:2:8: invalid user in [hosts.w]: \"-lroot\" starts with \"-\"",
        ),
        (
            "[hosts.w]\ntransport = \"ssl\"\n",
            "i.toml:2:13: invalid transport in [hosts.w]: \"ssl\" is not one of \"ssh\", \"local\" (did you mean \"ssh\"?)",
        ),
        (
            "[hosts.w]\nconnect_timeout = \"5\"\n",
            "i.toml:2:19: invalid connect_timeout in [hosts.w]: \"5\" is not a duration like \"5s\" or \"900ms\" (time unit needed, for example 5sec or 5ms)",
        ),
        (
            "[hosts.\"w b\"]\n",
            "i.toml:1:8: invalid host name: \"w b\" is not a valid name (letters, digits, \"_\", \".\" and \"-\", not starting with \"-\")",
        ),
        (
            "[hosts.w]\ngroups = [\"a;b\"]\n",
            "i.toml:2:11: invalid group name: \"a;b\" is not a valid name (letters, digits, \"_\", \".\" and \"-\", not starting with \"-\")",
        ),
        (
            "[hosts.w]\nvars = { a = [1] }\n",
            "i.toml:2:14: invalid vars.a in [hosts.w]: expected a string, number or boolean, found array",
        ),
        (
            "[hosts.w.mysql]\nport = 3306\n",
            "i.toml:1:10: the mysql settings of host w have no user",
        ),
        (
            "[hosts.w.mysql]\nuser = \"m\"\nssl_mode = \"require\"\n",
            "i.toml:3:12: invalid ssl_mode in [hosts.w.mysql]: \"require\" is not one of \"disabled\", \"preferred\", \"required\", \"verify_identity\" (did you mean \"required\"?)",
        ),
        (
            "hosts = 1\n",
            "i.toml:1:9: invalid hosts in the top level: expected a table, found integer",
        ),
    ];
    for (text, want) in cases {
        let e = parse_with(Path::new("i.toml"), text, &no_secrets).unwrap_err();
        assert_eq!(e.to_string(), want, "{text}");
    }
}

#[test]
fn host_and_group_names_share_one_namespace() {
    let f = "fixtures/inventory/bad-name-clash.toml";
    assert_eq!(
        err("bad-name-clash.toml"),
        format!(
            "{f}:3:11: group \"web\" has the same name as host \"web\" at {f}:5:8; hosts and groups share one namespace"
        )
    );
    let f = "fixtures/inventory/bad-group-member.toml";
    assert_eq!(
        err("bad-group-member.toml"),
        format!("{f}:5:18: unknown host \"wbe2\" in [groups.web] (did you mean \"web1\"?)")
    );
}

fn become_env(name: &str) -> Option<OsString> {
    (name == "SD_BECOME_PW").then(|| "canary-become-4e1f".into())
}

#[test]
fn become_keys_layer_like_every_setting() {
    let text = "[defaults]\nuser = \"deploy\"\nbecome = true\n\n[groups.db]\nhosts = [\"db2\"]\nbecome_password_env = \"SD_BECOME_PW\"\n\n[hosts.web1]\n[hosts.web2]\nbecome_method = \"doas\"\n[hosts.db2]\nbecome_user = \"mysql\"\n[hosts.app1]\nbecome = false\n";
    let inv = parse_with(Path::new("b.toml"), text, &become_env).unwrap();
    let web1 = inv.hosts["web1"].become_as.clone().expect("become");
    assert_eq!(
        (web1.method, web1.user.as_str(), web1.password),
        (BecomeMethod::Sudo, "root", None)
    );
    assert_eq!(inv.hosts["web2"].become_as.as_ref().unwrap().method, BecomeMethod::Doas);
    let db2 = inv.hosts["db2"].become_as.clone().unwrap();
    assert_eq!(db2.user, "mysql");
    assert_eq!(db2.password.unwrap().expose(), "canary-become-4e1f");
    assert!(inv.hosts["app1"].become_as.is_none());
    // an unset password variable matters only to a run using the host
    let inv = parse_with(Path::new("b.toml"), text, &no_secrets).unwrap();
    let db2: Vec<String> = inv.hosts["db2"].unusable().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        db2,
        ["b.toml:7:23: SD_BECOME_PW is not set (become_password_env of group db)"]
    );
    assert!(inv.hosts["web1"].unusable().is_empty());
}

#[test]
fn become_values_are_checked_where_written() {
    let cases = [
        (
            "[defaults]\nbecome = \"yes\"\n",
            "b.toml:2:10: invalid become in [defaults]: expected true or false, found string",
        ),
        (
            "[hosts.web1]\nbecome = true\nbecome_method = \"sduo\"\n",
            "b.toml:3:17: invalid become_method in [hosts.web1]: \"sduo\" is not one of \"sudo\", \"doas\", \"su\" (did you mean \"sudo\"?)",
        ),
        (
            "[hosts.web1]\nbecom = true\n",
            "b.toml:2:1: unknown key \"becom\" in [hosts.web1] (did you mean \"become\"?)",
        ),
        (
            "[hosts.web1]\nbecome = true\nbecome_method = \"doas\"\nbecome_password_env = \"SD_BECOME_PW\"\n",
            "b.toml:4:23: become_password_env of host web1: doas reads a password from a terminal only",
        ),
        (
            "[hosts.web1]\nbecome_user = \"-oX\"\n",
            "b.toml:2:15: invalid become_user in [hosts.web1]: \"-oX\" starts with \"-\"",
        ),
    ];
    for (text, want) in cases {
        let e = parse_with(Path::new("b.toml"), text, &become_env)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(want), "{e}\nwanted {want}");
        assert!(!e.contains("canary-become"), "{e}");
    }
}

fn parse_str(text: &str) -> Result<Inventory, InventoryError> {
    parse_with(Path::new("jump.toml"), text, &env)
}

const JUMP: &str = r#"[defaults]
user = "deploy"
identity_file = "~/.ssh/lab"
known_hosts_file = "/lab/kh"
proxy_jump = "bastion"

[hosts.bastion]
address = "10.77.0.60"
port = 2222
connect_timeout = "2s"

[hosts.int1]
address = "10.77.200.11"
groups = ["internal"]

[hosts.int2]
address = "10.77.200.12"
proxy_jump = "none"

[hosts.deep]
address = "10.77.201.1"
proxy_jump = "int1"

[hosts.ext]
address = "10.77.202.1"
identity_file = "/other/key"
proxy_jump = "admin@jump.example.org:2200, root@bastion"
"#;

#[test]
fn proxy_jump_names_inventory_hosts_whose_settings_apply_to_the_hop() {
    let inv = parse_str(JUMP).unwrap();
    type Hop = (String, String, Option<u16>, Option<String>, Option<PathBuf>);
    let hops = |h: &str| -> Vec<Hop> {
        inv.hosts[h]
            .proxy_jump
            .iter()
            .map(|j| {
                (
                    j.name.clone(),
                    j.address.clone(),
                    j.port,
                    j.user.clone(),
                    j.identity_file.clone(),
                )
            })
            .collect()
    };
    let lab_key = Some(PathBuf::from("/home/lab/.ssh/lab"));
    let bastion = (
        "bastion".to_string(),
        "10.77.0.60".to_string(),
        Some(2222),
        Some("deploy".to_string()),
        lab_key.clone(),
    );
    // From [defaults]: the bastion itself is reached directly, never through itself.
    assert_eq!(hops("bastion"), []);
    assert_eq!(hops("int1"), std::slice::from_ref(&bastion));
    let int1 = &inv.hosts["int1"].proxy_jump[0];
    assert_eq!(int1.known_hosts_file, Some(PathBuf::from("/lab/kh")));
    assert_eq!(int1.connect_timeout, Duration::from_secs(2));
    assert_eq!(int1.endpoint(), "10.77.0.60:2222");
    // `none` overrides an inherited jump host.
    assert_eq!(hops("int2"), []);
    // A hop that has jump hosts of its own is reached through them first.
    let int1_hop = (
        "int1".to_string(),
        "10.77.200.11".to_string(),
        Some(22),
        Some("deploy".to_string()),
        lab_key,
    );
    assert_eq!(hops("deep"), [bastion, int1_hop]);
    // An address takes the destination's key; user@ and :port written in a hop win.
    assert_eq!(
        hops("ext"),
        [
            (
                "admin@jump.example.org:2200".to_string(),
                "jump.example.org".to_string(),
                Some(2200),
                Some("admin".to_string()),
                Some(PathBuf::from("/other/key"))
            ),
            (
                "root@bastion".to_string(),
                "10.77.0.60".to_string(),
                Some(2222),
                Some("root".to_string()),
                Some(PathBuf::from("/home/lab/.ssh/lab"))
            ),
        ]
    );
}

#[test]
fn a_bad_proxy_jump_is_named_at_its_place_with_the_nearest_host() {
    let unknown = JUMP.replace("proxy_jump = \"int1\"", "proxy_jump = \"bastin\"");
    assert_eq!(
        parse_str(&unknown).unwrap_err().to_string(),
        "jump.toml:22:14: invalid proxy_jump in [hosts.deep]: no host \"bastin\" in the inventory (did you mean \"bastion\"?); a jump host is an inventory host name, or an address written user@host:port"
    );
    let option = JUMP.replace("proxy_jump = \"int1\"", "proxy_jump = \"-oProxyCommand=id\"");
    assert_eq!(
        parse_str(&option).unwrap_err().to_string(),
        "jump.toml:22:14: invalid proxy_jump in [hosts.deep]: jump host \"-oProxyCommand=id\": \"-oProxyCommand=id\" starts with \"-\""
    );
    let shell = JUMP.replace("proxy_jump = \"int1\"", "proxy_jump = \"bastion;id\"");
    assert!(
        parse_str(&shell)
            .unwrap_err()
            .to_string()
            .contains("\"bastion;id\" contains ';'"),
        "{:?}",
        parse_str(&shell)
    );
    let circle = JUMP.replace("proxy_jump = \"none\"", "proxy_jump = \"deep\"");
    let circle = circle.replace("proxy_jump = \"int1\"", "proxy_jump = \"int2\"");
    assert_eq!(
        parse_str(&circle).unwrap_err().to_string(),
        "jump.toml:22:14: invalid proxy_jump in [hosts.deep]: the jump hosts go round in a circle (deep → int2 → deep)"
    );
    let local = JUMP.replace("port = 2222", "transport = \"local\"");
    assert_eq!(
        parse_str(&local).unwrap_err().to_string(),
        "jump.toml:5:14: invalid proxy_jump in [defaults]: jump host bastion uses the local transport, not ssh"
    );
    let typo = JUMP.replace("proxy_jump = \"none\"", "proxy_jmp = \"none\"");
    assert_eq!(
        parse_str(&typo).unwrap_err().to_string(),
        "jump.toml:18:1: unknown key \"proxy_jmp\" in [hosts.int2] (did you mean \"proxy_jump\"?)"
    );
}

#[test]
fn ssh_config_is_a_path_checked_before_any_host_is_contacted() {
    let inv = parse_str("[groups.internal]\nssh_config = \"~/.ssh/fleet\"\n\n[hosts.int1]\ngroups = [\"internal\"]\n")
        .unwrap();
    let int1 = &inv.hosts["int1"];
    assert_eq!(int1.ssh_config, Some(PathBuf::from("/home/lab/.ssh/fleet")));
    let problems: Vec<String> = int1.unusable().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        ["jump.toml:2:14: ssh_config /home/lab/.ssh/fleet of host int1: no such file"]
    );
    assert_eq!(
        parse_str("[hosts.int1]\nssh_config = \"/a\\\"b\"\n")
            .unwrap_err()
            .to_string(),
        "jump.toml:2:14: invalid ssh_config in [hosts.int1]: \"/a\\\"b\" contains '\"'"
    );
}
