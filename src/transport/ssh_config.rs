//! The inventory's extra ssh options ([`Host::ssh_options`], from an Ansible inventory's
//! `ansible_ssh_common_args`) handed to ssh. The openssh crate takes no free `-o` options,
//! so they go in a per-host configuration file given with `ssh -F`: the options first
//! (ssh keeps the first value it reads for each option, so they win over the user's
//! configuration as `-o` would, and lose to the options shakedown itself passes), then the
//! user's and the system's configuration, which `-F` would otherwise skip. The options were
//! checked by the inventory (one line each, none that can run a command).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::inventory::Host;

/// Writes `DIR/HOST.ssh_config` (mode 0600, as ssh requires) when the host has extra
/// options; `None` when it has none (ssh reads its usual files).
pub(super) fn write(dir: &Path, host: &Host) -> std::io::Result<Option<PathBuf>> {
    if host.ssh_options.is_empty() {
        return Ok(None);
    }
    let mut text = format!("# shakedown: the inventory's ssh options for host {}\n", host.name);
    for option in &host.ssh_options {
        text.push_str(option);
        text.push('\n');
    }
    text.push_str("Include ~/.ssh/config\nInclude /etc/ssh/ssh_config\n");
    let path = dir.join(format!("{}.ssh_config", host.name));
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true).truncate(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(&path)?.write_all(text.as_bytes())?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use crate::inventory::Host;

    #[test]
    fn options_come_first_then_the_usual_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut host = Host::local("web1");
        assert_eq!(super::write(dir.path(), &host).unwrap(), None);
        host.ssh_options = vec!["HostKeyAlias=w1".into(), "Compression=yes".into()];
        let path = super::write(dir.path(), &host).unwrap().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "# shakedown: the inventory's ssh options for host web1\nHostKeyAlias=w1\nCompression=yes\nInclude ~/.ssh/config\nInclude /etc/ssh/ssh_config\n"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
    }
}
