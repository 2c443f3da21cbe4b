//! The per-host ssh configuration file, given to ssh with `-F`, for what the openssh crate's
//! command line cannot say: the inventory's extra ssh options ([`Host::ssh_options`], from
//! an Ansible inventory's `ansible_ssh_common_args`), the jump hosts ([`Host::proxy_jump`])
//! and the `ssh_config` file of the inventory. ssh keeps the first value it reads for each
//! option, so the options come first (they win over the user's configuration as `-o` would,
//! and lose to the options shakedown itself passes), then the user's and the system's
//! configuration, which `-F` would otherwise skip, or the inventory's `ssh_config` file
//! instead of both (as `ssh -F FILE` reads only FILE).
//!
//! Jump hosts: ssh's command-line options (`-i`, `-o UserKnownHostsFile=...`) apply to the
//! destination only, and ssh runs each hop as `ssh -W ... -F THIS_FILE HOP`. So every hop
//! is a `Host shakedown-jump-N` block of this file, first in it, with its own address, port,
//! user, key, known-hosts, host key policy and timeout; the destination's options sit in a
//! block the hops do not match (`Host * !shakedown-jump-*`), so none leaks to a hop. The
//! values were checked by the inventory (one line each, none that can run a command).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::inventory::{Host, HostKeyChecking, JumpHost};

/// The `Host` alias of hop `i` (1-based) in the file.
fn alias(i: usize) -> String {
    format!("shakedown-jump-{i}")
}

/// A path as an ssh_config argument: quoted, `%` escaped (ssh expands `%` tokens in it).
fn quoted(path: &Path) -> std::io::Result<String> {
    let text = path.display().to_string();
    if text.contains(['"', '\n', '\r']) {
        return Err(std::io::Error::other(format!(
            "{text:?} cannot be written in an ssh_config file"
        )));
    }
    Ok(format!("\"{}\"", text.replace('%', "%%")))
}

/// Hop `i`'s block. `via`: the hops before it, when this block is the destination of the
/// run's shared master to the hop (else a hop's own hops come from ssh's `-J`); `socket`:
/// that master's control socket, which the hop's `ssh -W` multiplexes over.
fn hop_block(i: usize, hop: &JumpHost, via: &[String], socket: Option<&Path>) -> std::io::Result<String> {
    let mut b = format!("Host {}\n  HostName {}\n", alias(i), hop.address);
    if let Some(port) = hop.port {
        b.push_str(&format!("  Port {port}\n"));
    }
    if let Some(user) = &hop.user {
        b.push_str(&format!("  User {user}\n"));
    }
    if let Some(key) = &hop.identity_file {
        b.push_str(&format!("  IdentityFile {}\n", quoted(key)?));
    }
    if let Some(kh) = &hop.known_hosts_file {
        b.push_str(&format!("  UserKnownHostsFile {}\n", quoted(kh)?));
    }
    let check = match hop.host_key_checking {
        HostKeyChecking::Strict => "yes",
        HostKeyChecking::AcceptNew => "accept-new",
        HostKeyChecking::Off => "no",
    };
    let secs = hop.connect_timeout.as_secs_f64().ceil().max(1.0) as u64;
    let jump = if via.is_empty() {
        "none".to_string()
    } else {
        via.join(",")
    };
    b.push_str(&format!(
        "  StrictHostKeyChecking {check}\n  ConnectTimeout {secs}\n  BatchMode yes\n  ProxyJump {jump}\n"
    ));
    if let Some(socket) = socket {
        b.push_str(&format!("  ControlMaster no\n  ControlPath {}\n", quoted(socket)?));
    }
    Ok(b)
}

/// The user's configuration, or the inventory's `ssh_config` file instead.
fn includes(host: &Host) -> std::io::Result<String> {
    Ok(match &host.ssh_config {
        Some(file) => format!("Include {}\n", quoted(file)?),
        None => "Include ~/.ssh/config\nInclude /etc/ssh/ssh_config\n".to_string(),
    })
}

fn create(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true).truncate(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(path)?.write_all(text.as_bytes())
}

/// Writes `DIR/NAME.ssh_config` for the run's shared master to the last of `host`'s jump
/// hosts (reached through the ones before it), and returns it with the `Host` alias to
/// connect to.
pub(super) fn write_jump(dir: &Path, name: &str, host: &Host) -> std::io::Result<(PathBuf, String)> {
    let hops = &host.proxy_jump;
    let mut text = format!(
        "# shakedown: the shared master to the jump host of host {}\n",
        host.name
    );
    let mut via = Vec::new();
    for (i, hop) in hops.iter().enumerate() {
        let last = i + 1 == hops.len();
        text.push_str(&hop_block(i + 1, hop, if last { &via } else { &[] }, None)?);
        via.push(alias(i + 1));
    }
    text.push_str("Host *\n");
    text.push_str(&includes(host)?);
    let path = dir.join(format!("{name}.ssh_config"));
    create(&path, &text)?;
    Ok((path, alias(hops.len())))
}

/// Writes `DIR/HOST.ssh_config` (mode 0600, as ssh requires) when the host has extra
/// options, jump hosts or an `ssh_config` file; `None` when it has none (ssh reads its
/// usual files).
///
/// `jump_socket`: the control socket of the run's shared master to the last jump host
/// ([`write_jump`]): the hop's `ssh -W` goes over it instead of a handshake of its own, so
/// a bastion sees one login per run, not one per host behind it.
pub(super) fn write(dir: &Path, host: &Host, jump_socket: Option<&Path>) -> std::io::Result<Option<PathBuf>> {
    if host.ssh_options.is_empty() && host.proxy_jump.is_empty() && host.ssh_config.is_none() {
        return Ok(None);
    }
    let mut text = format!("# shakedown: the inventory's ssh options for host {}\n", host.name);
    let jumps = !host.proxy_jump.is_empty();
    if jumps {
        let last = host.proxy_jump.len();
        for (i, hop) in host.proxy_jump.iter().enumerate() {
            let socket = jump_socket.filter(|_| i + 1 == last);
            text.push_str(&hop_block(i + 1, hop, &[], socket)?);
        }
        let chain: Vec<String> = (1..=host.proxy_jump.len()).map(alias).collect();
        text.push_str(&format!("Host * !shakedown-jump-*\n  ProxyJump {}\n", chain.join(",")));
    }
    for option in &host.ssh_options {
        text.push_str(if jumps { "  " } else { "" });
        text.push_str(option);
        text.push('\n');
    }
    if jumps {
        text.push_str("Host *\n");
    }
    text.push_str(&includes(host)?);
    let path = dir.join(format!("{}.ssh_config", host.name));
    create(&path, &text)?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use crate::inventory::{Host, HostKeyChecking, JumpHost};

    #[test]
    fn options_come_first_then_the_usual_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::local("web1");
        assert_eq!(super::write(dir.path(), &host, None).unwrap(), None);
        host.ssh_options = vec!["HostKeyAlias=w1".into(), "Compression=yes".into()];
        let path = super::write(dir.path(), &host, None).unwrap().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# shakedown: the inventory's ssh options for host web1\nHostKeyAlias=w1\nCompression=yes\nInclude ~/.ssh/config\nInclude /etc/ssh/ssh_config\n"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn each_jump_host_has_its_own_block_and_the_destination_options_stay_off_the_hops() {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::local("int1");
        host.ssh_options = vec!["HostKeyAlias=i1".into()];
        let hop = |name: &str, address: &str| JumpHost {
            name: name.into(),
            address: address.into(),
            port: Some(22),
            user: Some("deploy".into()),
            identity_file: Some(PathBuf::from("/lab/id 50%")),
            known_hosts_file: Some(PathBuf::from("/lab/kh")),
            host_key_checking: HostKeyChecking::Strict,
            connect_timeout: Duration::from_millis(1500),
        };
        host.proxy_jump = vec![hop("outer", "10.0.0.1"), hop("bastion", "10.77.0.60")];
        host.ssh_config = Some(PathBuf::from("/lab/ssh_config"));
        let path = super::write(dir.path(), &host, Some(Path::new("/run/j/master")))
            .unwrap()
            .unwrap();
        let block = |n: usize, addr: &str, jump: &str| {
            format!(
                "Host shakedown-jump-{n}\n  HostName {addr}\n  Port 22\n  User deploy\n  IdentityFile \"/lab/id 50%%\"\n  UserKnownHostsFile \"/lab/kh\"\n  StrictHostKeyChecking yes\n  ConnectTimeout 2\n  BatchMode yes\n  ProxyJump {jump}\n"
            )
        };
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!(
                "# shakedown: the inventory's ssh options for host int1\n{}{}  ControlMaster no\n  ControlPath \"/run/j/master\"\nHost * !shakedown-jump-*\n  ProxyJump shakedown-jump-1,shakedown-jump-2\n  HostKeyAlias=i1\nHost *\nInclude \"/lab/ssh_config\"\n",
                block(1, "10.0.0.1", "none"),
                block(2, "10.77.0.60", "none")
            )
        );
        // The shared master to the last hop goes through the hops before it.
        let (jump, alias) = super::write_jump(dir.path(), "jump-1", &host).unwrap();
        assert_eq!(alias, "shakedown-jump-2");
        assert_eq!(
            std::fs::read_to_string(jump).unwrap(),
            format!(
                "# shakedown: the shared master to the jump host of host int1\n{}{}Host *\nInclude \"/lab/ssh_config\"\n",
                block(1, "10.0.0.1", "none"),
                block(2, "10.77.0.60", "shakedown-jump-1")
            )
        );
        host.identity_file = None;
        host.proxy_jump[0].known_hosts_file = Some(PathBuf::from("/a\"b"));
        assert!(super::write(dir.path(), &host, None).is_err());
    }
}
