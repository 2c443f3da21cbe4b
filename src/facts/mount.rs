//! Mounts and fstab: the mount table from `/proc/self/mountinfo` (the mount namespace the
//! host's commands run in) and the entries of `/etc/fstab` (comments, `UUID=`/`LABEL=`
//! sources, tabs or spaces), both with the kernel's octal escapes (`\040` for a space)
//! undone, each read once per host per run.

use std::time::Duration;

use futures::future::BoxFuture;

use super::{FactError, run_ok};
use crate::host::HostHandle;
use crate::transport::Cmd;

/// One mounted filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Where it is mounted.
    pub mount_point: String,
    /// What is mounted (`/dev/sda1`, `tmpfs`, `server:/export`).
    pub source: String,
    /// Filesystem type.
    pub fs_type: String,
    /// Per-mount options (`rw`, `noatime`) then superblock options (`size=16384k`).
    pub options: Vec<String>,
}

/// One line of `/etc/fstab`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FstabEntry {
    /// First field: a device, `UUID=...`, `LABEL=...`, `tmpfs`...
    pub source: String,
    /// Second field.
    pub mount_point: String,
    /// Third field (empty when missing).
    pub fs_type: String,
    /// Fourth field, split on commas.
    pub options: Vec<String>,
    /// Line number in the file.
    pub line: usize,
}

/// Undoes the octal escapes of mountinfo and fstab (`\040` space, `\011` tab, `\012`
/// newline, `\134` backslash).
pub(crate) fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `/proc/self/mountinfo`: `id parent major:minor root mountpoint options
/// [optional fields...] - fstype source superoptions`.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if dash < 6 || fields.len() < dash + 3 {
            continue;
        }
        let mut options: Vec<String> = fields[5].split(',').map(str::to_string).collect();
        if let Some(sup) = fields.get(dash + 3) {
            options.extend(
                sup.split(',')
                    .filter(|o| !options.iter().any(|x| x == o))
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            );
        }
        mounts.push(Mount {
            mount_point: unescape(fields[4]),
            source: unescape(fields[dash + 2]),
            fs_type: fields[dash + 1].to_string(),
            options,
        });
    }
    mounts
}

/// Parses `/etc/fstab`: blank lines and `#` comments skipped, fields split on any run of
/// spaces or tabs.
pub(crate) fn parse_fstab(text: &str) -> Vec<FstabEntry> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 2 {
            continue;
        }
        entries.push(FstabEntry {
            source: unescape(f[0]),
            mount_point: unescape(f[1]),
            fs_type: f.get(2).map(|s| s.to_string()).unwrap_or_default(),
            options: f
                .get(3)
                .map(|o| o.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            line: n + 1,
        });
    }
    entries
}

/// The mount at `path` (the topmost when several are stacked there). A trailing `/` is
/// ignored.
pub(crate) fn mounted_at<'a>(mounts: &'a [Mount], path: &str) -> Option<&'a Mount> {
    let path = normalise(path);
    mounts.iter().rev().find(|m| m.mount_point == path)
}

/// `path` without trailing slashes (`/` stays `/`).
pub(crate) fn normalise(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() && path.starts_with('/') { "/" } else { t }
}

/// The mount table, as the host's kernel shows it to the command.
pub(crate) fn mounts_command() -> Cmd {
    Cmd::new("cat").arg("/proc/self/mountinfo")
}

/// The fstab file.
pub(crate) fn fstab_command() -> Cmd {
    Cmd::new("cat").arg("/etc/fstab")
}

/// Reads `/proc/self/mountinfo`.
pub(crate) async fn read_mounts(host: &HostHandle, timeout: Duration) -> Result<Vec<Mount>, FactError> {
    let out = run_ok(host, &mounts_command(), timeout).await?;
    Ok(parse_mountinfo(&out.stdout_text()))
}

/// Reads `/etc/fstab`.
pub(crate) async fn read_fstab(host: &HostHandle, timeout: Duration) -> Result<Vec<FstabEntry>, FactError> {
    let out = run_ok(host, &fstab_command(), timeout).await?;
    Ok(parse_fstab(&out.stdout_text()))
}

/// The mount table as a whole-host fact ([`super::HostFact`]).
pub(crate) struct MountsFact;

/// `/etc/fstab` as a whole-host fact ([`super::HostFact`]).
pub(crate) struct FstabFact;

#[allow(non_upper_case_globals)]
impl super::Fact {
    /// The mount table ([`super::mounts`]).
    pub const Mounts: super::Fact = super::Fact::whole_host(3, "Mounts", &MountsFact);
    /// `/etc/fstab` ([`super::fstab`]).
    pub const Fstab: super::Fact = super::Fact::whole_host(4, "Fstab", &FstabFact);
}

impl super::HostFact for MountsFact {
    type Value = Vec<Mount>;

    fn part(&self) -> String {
        mounts_command().to_shell()
    }

    fn parse(&self, text: &str, _: &super::HostFacts) -> Option<Vec<Mount>> {
        Some(parse_mountinfo(text))
    }

    fn read<'a>(&'a self, host: &'a HostHandle, timeout: Duration) -> BoxFuture<'a, Result<Vec<Mount>, FactError>> {
        Box::pin(read_mounts(host, timeout))
    }
}

impl super::HostFact for FstabFact {
    type Value = Vec<FstabEntry>;

    fn part(&self) -> String {
        fstab_command().to_shell()
    }

    fn parse(&self, text: &str, _: &super::HostFacts) -> Option<Vec<FstabEntry>> {
        Some(parse_fstab(text))
    }

    fn read<'a>(
        &'a self,
        host: &'a HostHandle,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<Vec<FstabEntry>, FactError>> {
        Box::pin(read_fstab(host, timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/captured/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
    }

    #[test]
    fn unescapes_octal() {
        assert_eq!(unescape(r"/mnt/my\040disk"), "/mnt/my disk");
        assert_eq!(unescape(r"a\011b\134c"), "a\tb\\c");
        assert_eq!(unescape(r"a\9b\04"), r"a\9b\04");
    }

    #[test]
    fn mountinfo_of_this_machine() {
        let m = parse_mountinfo(&fixture("debian12/mountinfo.txt"));
        let root = mounted_at(&m, "/").expect("/ is mounted");
        assert!(!root.fs_type.is_empty());
        assert!(m.iter().any(|x| x.mount_point == "/proc" && x.fs_type == "proc"));
    }

    #[test]
    fn mountinfo_lines_with_optional_fields_and_spaces() {
        let text = "36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n\
                    40 1 0:50 / /mnt/data rw,nosuid,nodev,noatime - tmpfs tmpfs rw,size=16384k\n\
                    41 1 0:51 / /mnt/data rw,relatime - tmpfs other rw\n";
        let m = parse_mountinfo(text);
        assert_eq!(m[0].mount_point, "/mnt/my disk");
        assert_eq!(m[0].source, "/dev/root");
        assert_eq!(m[0].fs_type, "ext3");
        assert!(m[0].options.contains(&"errors=continue".to_string()));
        assert!(m[1].options.contains(&"size=16384k".to_string()));
        assert_eq!(
            mounted_at(&m, "/mnt/data/").map(|x| x.source.as_str()),
            Some("other"),
            "topmost wins"
        );
    }

    #[test]
    fn fstab_comments_uuids_tabs_and_spaces() {
        let e = parse_fstab(&fixture("lab/fstab.txt"));
        assert_eq!(e.len(), 3, "{e:?}");
        assert_eq!(e[0].mount_point, "/");
        assert!(e[1].source.starts_with("UUID="));
        assert_eq!(e[1].mount_point, "/boot");
        assert_eq!(e[2].mount_point, "/mnt/data");
        assert_eq!(e[2].options, ["defaults", "noatime"]);
        let e = parse_fstab(
            "LABEL=data\t/ebs1   ext4 noatime 0 2\n  # indented comment\n/dev/sds /my\\040dir xfs\n/lonely\n",
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].source, "LABEL=data");
        assert_eq!(e[1].mount_point, "/my dir");
        assert_eq!(e[1].line, 3);
        assert!(parse_fstab(&fixture("debian12/fstab.txt")).is_empty());
    }

    #[test]
    fn lab_host_mounts_and_fstabs() {
        let m = parse_mountinfo(&fixture("lab/mountinfo-web1.txt"));
        let data = mounted_at(&m, "/mnt/data").expect("web1 mounts /mnt/data");
        assert_eq!((data.source.as_str(), data.fs_type.as_str()), ("tmpfs", "tmpfs"));
        assert!(data.options.iter().any(|o| o == "noatime") && data.options.iter().any(|o| o == "size=16384k"));
        let web1: Vec<String> = parse_fstab(&fixture("lab/fstab.txt"))
            .into_iter()
            .map(|e| e.mount_point)
            .collect();
        let db2: Vec<String> = parse_fstab(&fixture("lab/fstab-db2.txt"))
            .into_iter()
            .map(|e| e.mount_point)
            .collect();
        assert_eq!(web1, ["/", "/boot", "/mnt/data"]);
        assert_eq!(db2, ["/", "/boot"]);
    }

    #[test]
    fn normalises_trailing_slashes() {
        assert_eq!(normalise("/"), "/");
        assert_eq!(normalise("/ebs1/"), "/ebs1");
    }
}
