//! Ansible INI and YAML inventory tests over `fixtures/inventory/`, asserting exact messages.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::inventory::{HostKeyChecking, Inventory, InventoryError, SslMode, TransportKind};

fn env(name: &str) -> Option<OsString> {
    match name {
        "HOME" => Some("/home/lab".into()),
        "SHAKEDOWN_TEST_PW" => Some("canary-pw-51d2".into()),
        "SHAKEDOWN_API_TOKEN" => Some("canary-token-9b1c".into()),
        _ => None,
    }
}

fn parse(rel: &str, text: &str) -> Result<Inventory, InventoryError> {
    if rel.ends_with(".ini") {
        super::ini::parse(Path::new(rel), text, &env)
    } else {
        super::yaml::parse(Path::new(rel), text, &env)
    }
}

fn load(file: &str) -> Result<Inventory, InventoryError> {
    let rel = format!("fixtures/inventory/{file}");
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(&rel)).unwrap();
    parse(&rel, &text)
}

/// The error of a bad fixture, without the `fixtures/inventory/` prefix.
fn err(file: &str) -> String {
    let e = load(file).unwrap_err().to_string();
    e.replace("fixtures/inventory/", "")
}

fn members(inv: &Inventory) -> Vec<(&str, Vec<&str>)> {
    inv.groups
        .iter()
        .map(|(g, m)| (g.as_str(), m.iter().map(String::as_str).collect()))
        .collect()
}

#[test]
fn lab_ini() {
    let text = "[web]\nweb1 ansible_host=10.77.0.11 ansible_user=root ansible_ssh_private_key_file=/x/id\n\
        [db]\ndb1 ansible_host=10.77.0.31 mysql_user=monitor mysql_password_env=SHAKEDOWN_TEST_PW\n\
        [replicas]\ndb2 ansible_host=10.77.0.32 mysql_user=monitor mysql_password_env=SHAKEDOWN_TEST_PW\n\
        [all:vars]\nfoo=bar\n";
    let inv = parse("lab.ini", text).unwrap();
    let web1 = &inv.hosts["web1"];
    assert_eq!(
        (web1.address.as_str(), web1.port, web1.user.as_deref()),
        ("10.77.0.11", 22, Some("root"))
    );
    assert_eq!(web1.identity_file, Some(PathBuf::from("/x/id")));
    assert_eq!((web1.transport, web1.mysql.is_none()), (TransportKind::Ssh, true));
    assert_eq!(web1.vars["foo"], "bar");
    let db1 = &inv.hosts["db1"];
    let m = db1.mysql.as_ref().unwrap();
    assert_eq!((m.user.as_str(), m.port, m.host.as_deref()), ("monitor", 3306, None));
    assert_eq!(m.password.as_ref().unwrap().expose(), "canary-pw-51d2");
    assert_eq!(inv.hosts["db2"].address, "10.77.0.32");
    assert_eq!(inv.hosts["db2"].vars["foo"], "bar");
    let all = vec!["db1", "db2", "web1"];
    let want = [
        ("all", all),
        ("db", vec!["db1"]),
        ("replicas", vec!["db2"]),
        ("web", vec!["web1"]),
    ];
    assert_eq!(members(&inv), want);
    assert_eq!(inv.select("all").unwrap(), ["db1", "db2", "web1"]);
}

#[test]
fn ini_and_yaml_read_the_same_inventory() {
    let mut ini = load("ansible.ini").unwrap();
    let mut yaml = load("ansible.yml").unwrap();
    for inv in [&mut ini, &mut yaml] {
        let key = &mut inv.hosts.get_mut("db2").unwrap().identity_file_at;
        assert!(key.take().is_some(), "where the key is written, in each file");
    }
    let control = yaml.hosts.get_mut("control").unwrap();
    assert_eq!(control.vars.remove("packages").unwrap(), r#"["nginx","haproxy"]"#);
    assert!(
        !yaml.hosts["control"].vars.contains_key("secret"),
        "!vault values are skipped"
    );
    assert_eq!(format!("{ini:?}"), format!("{yaml:?}"));
    let want = [
        (
            "all",
            vec![
                "bastion", "control", "db-a", "db-b", "db1", "db2", "web1", "web2", "web3", "web9",
            ],
        ),
        ("databases", vec!["db-a", "db-b", "db1", "db2"]),
        ("db", vec!["db-a", "db-b", "db1", "db2"]),
        ("local", vec!["control"]),
        ("replicas", vec!["db2"]),
        ("ungrouped", vec!["bastion"]),
        ("web", vec!["web1", "web2", "web3", "web9"]),
    ];
    assert_eq!(members(&ini), want);
}

#[test]
fn connection_variables_map_onto_hosts() {
    let inv = load("ansible.ini").unwrap();
    let bastion = &inv.hosts["bastion"];
    assert_eq!(
        (bastion.address.as_str(), bastion.user.as_deref()),
        ("10.0.0.2", Some("admin"))
    );
    assert_eq!(bastion.groups, ["ungrouped"]);
    assert_eq!(bastion.host_key_checking, HostKeyChecking::AcceptNew, "from [all:vars]");
    let web9 = &inv.hosts["web9"];
    assert_eq!(
        (web9.address.as_str(), web9.port, web9.user.as_deref()),
        ("10.0.0.29", 2222, Some("root"))
    );
    assert_eq!(
        (web9.vars["motd"].as_str(), web9.vars["quoted"].as_str()),
        ("hello world", "it's")
    );
    assert_eq!(
        (inv.hosts["web2"].address.as_str(), inv.hosts["web2"].user.as_deref()),
        ("web2", Some("deploy"))
    );
    let db2 = &inv.hosts["db2"];
    assert_eq!(
        (db2.port, db2.identity_file.clone()),
        (2200, Some(PathBuf::from("/home/lab/.ssh/replica")))
    );
    assert_eq!(db2.groups, ["databases", "db", "replicas"]);
    let control = &inv.hosts["control"];
    assert_eq!(
        (control.transport, control.address.as_str()),
        (TransportKind::Local, "127.0.0.1")
    );
}

#[test]
fn variables_follow_ansible_precedence() {
    let inv = load("ansible.ini").unwrap();
    let tier = |h: &str| inv.hosts[h].vars["tier"].clone();
    assert_eq!([tier("web1"), tier("db-a"), tier("db2")], ["all", "db", "replicas"]);
    assert_eq!(inv.hosts["db2"].vars["region"], "eu-west", "quotes removed in :vars");
    assert_eq!(
        inv.hosts["db2"].vars["backup"], "yes",
        "inherited from the parent group"
    );
    assert_eq!(inv.hosts["db2"].vars["api_token"], "canary-token-9b1c");
    assert_eq!(
        inv.hosts["db2"].vars["rails_env"], "production",
        "a lower-case value is not a variable name"
    );
    assert!(
        !inv.hosts["db2"]
            .vars
            .keys()
            .any(|k| k.starts_with("ansible_") || k.starts_with("mysql_"))
    );
    let m = inv.hosts["db1"].mysql.as_ref().unwrap();
    assert_eq!(
        (m.user.as_str(), m.port, m.ssl_mode),
        ("monitor", 3307, SslMode::Required)
    );
    assert!(
        inv.hosts["db2"].mysql.is_none(),
        "inherited mysql_ssl_mode alone makes no mysql table"
    );
}

#[test]
fn host_ranges() {
    let inv = parse("r.ini", "[n]\nnode[01:10:3].lab\nx-[a:c]-[1:2]\n").unwrap();
    let names: Vec<&str> = inv.hosts.keys().map(String::as_str).collect();
    let want = [
        "node01.lab",
        "node04.lab",
        "node07.lab",
        "node10.lab",
        "x-a-1",
        "x-a-2",
        "x-b-1",
        "x-b-2",
        "x-c-1",
        "x-c-2",
    ];
    assert_eq!(names, want);
}

#[test]
fn ini_errors() {
    let cases = [
        (
            "bad-ini-header.ini",
            "3:1: invalid section header \"[web\" (expected [group], [group:vars] or [group:children])",
        ),
        (
            "bad-ini-host-var.ini",
            "2:29: expected key=value after host web1, found \"ansible_user\"",
        ),
        ("bad-ini-quote.ini", "2:11: unclosed quote"),
        (
            "bad-ini-vars-line.ini",
            "2:1: expected key=value in [web:vars], found \"http_port\"",
        ),
        (
            "bad-ini-children.ini",
            "4:1: expected one group name per line in [web:children], found \"db extra\"",
        ),
        (
            "bad-ini-section-type.ini",
            "1:6: unknown section type \"child\" in [web:child] (expected \"vars\" or \"children\") (did you mean \"children\"?)",
        ),
        (
            "bad-ini-undefined-group.ini",
            "4:11: vars for group \"wbe\", which is never defined (did you mean \"web\"?)",
        ),
        (
            "bad-ini-range.ini",
            "2:1: invalid host range \"web[3:1]\": 3 comes after 1",
        ),
        (
            "bad-ini-cycle.ini",
            "1:2: group \"a\" is its own descendant (a → b → a)",
        ),
    ];
    for (file, want) in cases {
        assert_eq!(err(file), format!("{file}:{want}"));
    }
}

#[test]
fn ini_value_errors() {
    let cases = [
        (
            "bad-ini-address.ini",
            "2:19: invalid ansible_host of host web1: \"-oProxyCommand=touch /tmp/x\" starts with \"-\"",
        ),
        (
            "bad-ini-port.ini",
            "2:19: invalid ansible_port of host web1: \"http\" is not a port (1 to 65535)",
        ),
        (
            "bad-ini-host-key-checking.ini",
            "2:34: invalid shakedown_host_key_checking of host web1: \"no\" is not one of \"strict\", \"accept-new\", \"off\"",
        ),
        (
            "bad-ini-connection.ini",
            "2:25: invalid ansible_connection of host web1: \"winrm\" is not a connection shakedown supports (ssh, smart, paramiko or local)",
        ),
        (
            "bad-ini-mysql-password.ini",
            "2:20: mysql_password of host db1 is not read from the inventory: put the password in an environment variable and name it with mysql_password_env",
        ),
        (
            "bad-ini-name-clash.ini",
            "1:2: group \"web\" has the same name as host \"web\" at bad-ini-name-clash.ini:3:1; hosts and groups share one namespace",
        ),
    ];
    for (file, want) in cases {
        assert_eq!(err(file), format!("{file}:{want}"));
    }
    assert!(!err("bad-ini-mysql-password.ini").contains("hunter2"));
}

#[test]
fn unset_secrets_are_problems_of_their_host_only() {
    for (file, want) in [
        (
            "bad-ini-unset-env.ini",
            "4:43: SHAKEDOWN_MYSQL_PASSWORD is not set (mysql_password_env of host db1)",
        ),
        (
            "bad-yaml-unset-env.yml",
            "7:11: SHAKEDOWN_MYSQL_PASSWORD is not set (mysql_password_env of host db1)",
        ),
    ] {
        let inv = load(file).unwrap();
        let problems: Vec<String> = inv.hosts["db1"].unusable().iter().map(|e| e.to_string()).collect();
        assert_eq!(problems, [format!("fixtures/inventory/{file}:{want}")]);
        assert!(
            inv.hosts
                .values()
                .filter(|h| h.name != "db1")
                .all(|h| h.unusable().is_empty())
        );
    }
    // A host's own setting replaces a group's unset one, whatever the order of the lines.
    let text = "[db]\ndb1 mysql_password_env=SHAKEDOWN_TEST_PW token_env=SHAKEDOWN_API_TOKEN\ndb2\n[db:vars]\nmysql_user=m\nmysql_password_env=NOPE\ntoken_env=NOPE_TOO\n";
    let inv = parse("u.ini", text).unwrap();
    assert!(inv.hosts["db1"].unusable().is_empty());
    assert_eq!(inv.hosts["db1"].vars["token"], "canary-token-9b1c");
    let db2: Vec<String> = inv.hosts["db2"].unusable().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        db2,
        [
            "u.ini:7:11: NOPE_TOO is not set (token_env of group db)",
            "u.ini:6:20: NOPE is not set (mysql_password_env of group db)",
        ]
    );
}

#[test]
fn ssh_args_become_settings_and_options() {
    let text = "[web]\n\
        web1 ansible_host=10.0.0.11 ansible_ssh_extra_args='-o ServerAliveCountMax=3 -p 2200'\n\
        web2 ansible_port=2222 ansible_ssh_common_args='-o Port=1 -o StrictHostKeyChecking=no'\n\
        [all:vars]\n\
        ansible_ssh_common_args='-o UserKnownHostsFile=~/lab/kh -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s -oHostKeyAlias=w -C -i /k -o \"ConnectTimeout 7\"'\n";
    let inv = parse("s.ini", text).unwrap();
    let web1 = &inv.hosts["web1"];
    assert_eq!(web1.known_hosts_file, Some(PathBuf::from("/home/lab/lab/kh")));
    assert_eq!(web1.host_key_checking, HostKeyChecking::Strict);
    assert_eq!(web1.identity_file, Some(PathBuf::from("/k")));
    assert_eq!(web1.identity_file_at.as_ref().unwrap().to_string(), "s.ini:5:25");
    assert_eq!(web1.connect_timeout, std::time::Duration::from_secs(7));
    assert_eq!(web1.port, 2200, "the extra args' -p");
    assert_eq!(
        web1.ssh_options,
        ["HostKeyAlias=w", "Compression=yes", "ServerAliveCountMax=3"],
        "common args first, then extra args"
    );
    // The host's own variable replaces the group's as a whole; ansible_port wins over -o Port.
    let web2 = &inv.hosts["web2"];
    assert_eq!((web2.port, web2.host_key_checking), (2222, HostKeyChecking::Off));
    assert_eq!((web2.known_hosts_file.as_ref(), web2.ssh_options.len()), (None, 0));
    assert_eq!(
        inv.warnings,
        [
            "s.ini:5:25: ansible_ssh_common_args of group all: ControlMaster is ignored: shakedown keeps one connection per host its own way",
            "s.ini:5:25: ansible_ssh_common_args of group all: ControlPersist is ignored: shakedown keeps one connection per host its own way",
        ]
    );
    // The jump-host form of ProxyCommand only runs ssh: it is passed on.
    let jump = "[web]\nweb1 ansible_ssh_common_args='-o ProxyCommand=\"ssh -q -p 2222 -l admin -W %h:%p bastion.example.org\"'\n";
    let inv = parse("j.ini", jump).unwrap();
    assert_eq!(
        inv.hosts["web1"].ssh_options,
        ["ProxyCommand=ssh -q -p 2222 -l admin -W %h:%p bastion.example.org"]
    );
}

#[test]
fn ssh_args_that_could_run_a_command_are_refused() {
    let refused = [
        (
            "-o ProxyCommand='nc %h %p'",
            "ProxyCommand runs a command on this machine; shakedown does not pass it (it runs \"nc\", not ssh; only the jump-host form",
        ),
        (
            "-o 'ProxyCommand ssh -W %h:%p -oProxyCommand=/tmp/x bastion'",
            "(the jump command: ProxyCommand runs a command on this machine; shakedown does not pass it",
        ),
        (
            "-o ProxyCommand='ssh -W %h:%p bastion;id'",
            "(\"bastion;id\" is not a plain word;",
        ),
        (
            "-oLocalCommand=id",
            "LocalCommand runs a command on this machine; shakedown does not pass it",
        ),
        (
            "-o PermitLocalCommand=yes",
            "PermitLocalCommand=yes lets LocalCommand run a command",
        ),
        (
            "-o KnownHostsCommand=/bin/id",
            "KnownHostsCommand runs a command on this machine",
        ),
        ("-X", "ForwardX11=yes runs xauth on this machine"),
        (
            "-o PKCS11Provider=/tmp/evil.so",
            "PKCS11Provider loads a library into ssh on this machine",
        ),
        (
            "-o 'Match exec id'",
            "Match runs a command (Match exec) or opens a block",
        ),
        ("-o Include=/tmp/x", "Include reads more ssh configuration"),
        (
            "-F /tmp/cfg",
            "-F reads another ssh configuration, which could run a command",
        ),
        ("-L 80:localhost:80", "LocalForward opens a tunnel"),
        ("-o HostName=x;id", "HostName: \"x;id\" contains ';'"),
        (
            "-o ProxyJump=-oProxyCommand=x",
            "ProxyJump: jump host \"-oProxyCommand=x\": \"-oProxyCommand=x\" starts with \"-\"",
        ),
        (
            "-o ProxyComand=x",
            "\"ProxyComand\" is not an ssh option (did you mean \"ProxyCommand\"?)",
        ),
        ("web1", "unexpected \"web1\"; ssh options are written -o Keyword=value"),
    ];
    for (args, want) in refused {
        let text = format!("[web]\nweb1\n[web:vars]\nansible_ssh_common_args={args}\n");
        let e = parse("r.ini", &text).unwrap_err().to_string();
        let prefix = "r.ini:4:25: ansible_ssh_common_args of group web: ";
        assert!(e.starts_with(prefix) && e.contains(want), "{args}: {e}");
    }
    // A YAML value may hold a line break: it could start a line of ssh configuration.
    let yaml = "all:\n  hosts:\n    web1:\n      ansible_ssh_extra_args: \"-o 'SetEnv A=1\\nProxyCommand x'\"\n";
    let e = parse("n.yml", yaml).unwrap_err().to_string();
    assert!(
        e.ends_with("ansible_ssh_extra_args of host web1: the value of SetEnv contains '\\n'"),
        "{e}"
    );
    // Turned off, they are harmless.
    let text = "[web]\nweb1 ansible_ssh_common_args='-o ProxyCommand=none -o PermitLocalCommand=no -x'\n";
    let web1 = &parse("o.ini", text).unwrap().hosts["web1"];
    assert_eq!(
        web1.ssh_options,
        ["ProxyCommand=none", "PermitLocalCommand=no", "ForwardX11=no"]
    );
}

#[test]
fn unused_ansible_variables_are_warnings() {
    let text = "[web]\nweb[1:2] ansible_python_interpreter=/usr/bin/python3 ansible_password=hunter2\n[all:vars]\nansible_become_exe=sudo\n";
    let inv = parse("w.ini", text).unwrap();
    assert_eq!(
        inv.warnings,
        [
            "w.ini:2:37: ansible_python_interpreter is not used by shakedown (ignored)",
            "w.ini:2:71: ansible_password is not used by shakedown (ignored)",
            "w.ini:4:20: ansible_become_exe is not used by shakedown (ignored)",
        ]
    );
    assert!(inv.hosts["web1"].vars.is_empty());
}

#[test]
fn a_json_inventory_is_yaml() {
    let json = r#"{"all": {"children": {"web": {"hosts": {"web1": {"ansible_host": "10.0.0.11", "port": 8080}}}}}}"#;
    assert!(super::looks_like_yaml(json) && super::looks_like_yaml(&format!("\n  {json}")));
    for name in ["hosts.json", "hosts"] {
        let inv = Inventory::parse_text(Path::new(name), json).unwrap();
        assert_eq!(inv.hosts["web1"].address, "10.0.0.11");
        assert_eq!(inv.hosts["web1"].vars["port"], "8080");
        assert_eq!(inv.groups["web"].len(), 1);
    }
    let e = Inventory::parse_text(
        Path::new("h.json"),
        "{\"all\": {\"hosts\": {\"web1\": {\"ansible_port\": \"x\"}}}}",
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "h.json:1:45: invalid ansible_port of host web1: \"x\" is not a port (1 to 65535)"
    );
}

#[test]
fn yaml_errors() {
    let cases = [
        (
            "bad-yaml-syntax.yml",
            "6:1: could not find expected ':', while scanning a simple key",
        ),
        (
            "bad-yaml-unknown-key.yml",
            "4:7: unknown key \"host\" in group web (did you mean \"hosts\"?)",
        ),
        (
            "bad-yaml-address.yml",
            "4:21: invalid ansible_host of host web1: \"10.0.0.11; reboot\" contains ' '",
        ),
        (
            "bad-yaml-hosts-list.yml",
            "5:9: all.children.web.hosts: invalid type: sequence, expected the hosts of group web as a mapping",
        ),
        (
            "bad-yaml-name-clash.yml",
            "5:5: group \"web1\" has the same name as host \"web1\" at bad-yaml-name-clash.yml:3:5; hosts and groups share one namespace",
        ),
    ];
    for (file, want) in cases {
        assert_eq!(err(file), format!("{file}:{want}"));
    }
}

#[test]
fn empty_inventories() {
    assert!(parse("e.yml", "").unwrap().hosts.is_empty());
    assert!(parse("e.ini", "# nothing\n").unwrap().hosts.is_empty());
    assert!(parse("e.yml", "all:\n").unwrap().hosts.is_empty());
}

#[test]
fn format_sniffing() {
    use super::{looks_like_ini, looks_like_yaml};
    let ini = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inventory/ansible.ini"));
    let ini = ini.unwrap();
    let yaml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inventory/ansible.yml"));
    let yaml = yaml.unwrap();
    let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inventory/good.toml"));
    let toml = toml.unwrap();
    assert!(looks_like_ini(&ini) && !looks_like_yaml(&ini));
    assert!(looks_like_yaml(&yaml));
    assert!(!looks_like_ini(&toml) && !looks_like_yaml(&toml));
    assert!(!looks_like_ini("[groups.web]\nhosts = [\"a\"]\n"));
    assert!(!looks_like_ini("title = \"x\"\n"));
    assert!(looks_like_ini("web1\n") && looks_like_ini("[web]\nweb1\n"));
}

#[test]
fn load_picks_the_format() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inventory");
    for (file, name) in [
        ("ansible.ini", "hosts"),
        ("ansible.yml", "inventory"),
        ("good.toml", "shakedown"),
    ] {
        let path = dir.path().join(name);
        std::fs::copy(fixtures.join(file), &path).unwrap();
        // SHAKEDOWN_* are unset in the test process: only the problem says which format was read.
        let inv = Inventory::load(&path).unwrap();
        let e = inv
            .hosts
            .values()
            .flat_map(|h| h.unusable())
            .next()
            .unwrap()
            .to_string();
        let want = match file {
            "ansible.ini" => "SHAKEDOWN_TEST_PW is not set (mysql_password_env of host db1)",
            "ansible.yml" => "SHAKEDOWN_TEST_PW is not set (mysql_password_env of host db1)",
            _ => "SHAKEDOWN_MYSQL_PASSWORD is not set (mysql.password_env of [defaults])",
        };
        assert!(e.ends_with(want), "{file}: {e}");
    }
}

#[test]
fn real_world_ini_patterns() {
    let inv = load("ansible-real-world.ini").unwrap();
    let names: Vec<&str> = inv.hosts.keys().map(String::as_str).collect();
    let want = [
        "192.168.100.1",
        "bastion.example.org",
        "db-100-node.example.org",
        "db-101-node.example.org",
        "db-99-node.example.org",
        "mail0.example.org",
        "mail1.example.org",
        "mail2.example.org",
        "myserver.example.org",
        "node1",
        "www001.example.org",
        "www002.example.org",
        "www003.example.org",
    ];
    assert_eq!(names, want);
    let groups = members(&inv);
    let group = |g: &str| groups.iter().find(|(n, _)| *n == g).map(|(_, m)| m.clone()).unwrap();
    let ungrouped = [
        "192.168.100.1",
        "bastion.example.org",
        "mail0.example.org",
        "mail1.example.org",
        "mail2.example.org",
    ];
    assert_eq!(group("ungrouped"), ungrouped);
    assert_eq!(group("k8s-cluster"), ["node1"]);
    assert_eq!(group("calico-rr"), Vec::<&str>::new());
    assert_eq!(inv.hosts["myserver.example.org"].groups, ["dbservers", "webservers"]);
    let node1 = &inv.hosts["node1"];
    assert_eq!(
        (node1.address.as_str(), node1.user.as_deref()),
        ("192.168.0.11", Some("ubuntu"))
    );
    assert_eq!(node1.groups, ["k8s-cluster", "kube-node"]);
    // ansible_* variables that shakedown does not use never reach vars: they are warnings.
    assert!(inv.hosts.values().all(|h| h.vars.is_empty()), "{:?}", node1.vars);
    let warned: Vec<&str> = inv.warnings.iter().filter_map(|w| w.split(": ").nth(1)).collect();
    assert_eq!(
        warned,
        [
            "ansible_password is not used by shakedown (ignored)",
            "ansible_python_interpreter is not used by shakedown (ignored)"
        ]
    );
    // The ssh options of ansible_ssh_common_args reach ssh: a jump host through ProxyCommand.
    assert_eq!(node1.host_key_checking, HostKeyChecking::Off);
    assert_eq!(node1.ssh_options, ["ProxyCommand=ssh -W %h:%p bastion"]);
}

#[test]
fn yaml_host_keys_take_ranges_and_ports() {
    let inv = load("ansible-ranges.yml").unwrap();
    let names: Vec<&str> = inv.hosts.keys().map(String::as_str).collect();
    assert_eq!(names, ["db1", "node1", "www01.example.org", "www02.example.org"]);
    assert_eq!(inv.hosts["www02.example.org"].vars["http_port"], "8080");
    assert_eq!(
        (inv.hosts["db1"].address.as_str(), inv.hosts["db1"].port),
        ("db1", 2222)
    );
    assert_eq!(inv.hosts["node1"].vars["labels"], r#"{"zone":"a"}"#);
    assert_eq!(inv.groups["empty"].len(), 0);
    assert_eq!(inv.groups["ungrouped"].len(), 3);
}

#[test]
fn ansible_become_variables_map_onto_become() {
    let text = "[web]\nweb1 ansible_become_method=doas\nweb2 ansible_become=no\n[db]\ndb2 ansible_become_user=mysql become_password_env=SHAKEDOWN_TEST_PW\n[all:vars]\nansible_user=deploy\nansible_become=true\n";
    let inv = parse("b.ini", text).unwrap();
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    assert_eq!(
        inv.hosts["web1"].become_as.as_ref().unwrap().method,
        crate::inventory::BecomeMethod::Doas
    );
    assert!(inv.hosts["web2"].become_as.is_none());
    let db2 = inv.hosts["db2"].become_as.clone().unwrap();
    assert_eq!(
        (db2.user.as_str(), db2.password.unwrap().expose()),
        ("mysql", "canary-pw-51d2")
    );
}

#[test]
fn a_literal_become_password_is_refused_where_written() {
    for key in ["ansible_become_password", "ansible_become_pass"] {
        let text = format!("[db]\ndb2 ansible_become=true {key}=hunter2\n");
        let e = parse("b.ini", &text).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "b.ini:2:{}: {key} of host db2 is not read from the inventory: put the password in an environment variable and name it with become_password_env",
                26 + key.len()
            )
        );
        assert!(!e.contains("hunter2"));
    }
    let e = parse("b.ini", "[web]\nweb1 ansible_become=maybe\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "b.ini:2:21: invalid ansible_become of host web1: \"maybe\" is not a boolean (true or false) (did you mean \"false\"?)"
    );
    let e = parse("b.ini", "[web]\nweb1 ansible_become_method=pbrun\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "b.ini:2:28: invalid ansible_become_method of host web1: \"pbrun\" is not one of \"sudo\", \"doas\", \"su\""
        ),
        "{e}"
    );
}

#[test]
fn proxy_jump_in_ssh_common_args_becomes_jump_hosts_with_their_own_way_in() {
    let ini = "[jump]\nbastion ansible_host=10.77.0.60 ansible_user=ops ansible_ssh_private_key_file=/k/ops\n\n[internal]\nint1 ansible_host=10.77.200.11\nint2 ansible_host=10.77.200.12 ansible_ssh_common_args='-J deploy@10.77.0.60:2222'\n\n[internal:vars]\nansible_ssh_common_args='-o ProxyJump=bastion -o UserKnownHostsFile=/k/kh'\n\n[all:vars]\nansible_user=deploy\nansible_ssh_private_key_file=/k/deploy\n";
    let inv = parse("b.ini", ini).unwrap();
    // An inventory host as the hop: its address, user and key (ssh's -o would not reach it).
    let int1 = &inv.hosts["int1"];
    assert!(int1.ssh_options.is_empty(), "{:?}", int1.ssh_options);
    let hop = &int1.proxy_jump[0];
    assert_eq!(
        (
            hop.name.as_str(),
            hop.address.as_str(),
            hop.user.as_deref(),
            hop.identity_file.clone()
        ),
        ("bastion", "10.77.0.60", Some("ops"), Some(PathBuf::from("/k/ops")))
    );
    assert_eq!(int1.known_hosts_file, Some(PathBuf::from("/k/kh")));
    // An address as the hop (the host's own args win as a whole): the destination's key
    // and known-hosts file, user and port as written.
    let hop = &inv.hosts["int2"].proxy_jump[0];
    assert_eq!(
        (
            hop.address.as_str(),
            hop.port,
            hop.user.as_deref(),
            hop.identity_file.clone()
        ),
        (
            "10.77.0.60",
            Some(2222),
            Some("deploy"),
            Some(PathBuf::from("/k/deploy"))
        )
    );
    assert!(inv.hosts["bastion"].proxy_jump.is_empty());
    // A bare name that is no inventory host stays a name ssh resolves (DNS, ~/.ssh/config).
    let dns = parse(
        "d.ini",
        "[internal]\nint1 ansible_ssh_common_args='-o ProxyJump=jumpbox'\n",
    )
    .unwrap();
    assert_eq!(dns.hosts["int1"].proxy_jump[0].address, "jumpbox");
    let ssh_config = parse(
        "s.ini",
        "[all:vars]\nshakedown_ssh_config=/k/ssh_config\n[internal]\nint1\n",
    )
    .unwrap();
    assert_eq!(
        ssh_config.hosts["int1"].ssh_config,
        Some(PathBuf::from("/k/ssh_config"))
    );
}
