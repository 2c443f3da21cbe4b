//! Mount steps (mounted, from a device, with a type, with an option), fstab steps and the
//! filesystem use step (`df -P`, a measured value).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{host, path_ok};
use crate::facts::mount::{mounted_at, normalise};
use crate::facts::{self, FstabEntry, Mount};
use crate::host::HostHandle;
use crate::steps::expect::excerpt;
use crate::steps::{Args, Measurement, Outcome, StepCtx, StepError, StepOutput};
use crate::transport::Cmd;

/// Lint: a path and a percentage between 1 and 100.
pub(super) fn check_percent(args: &[String]) -> Result<(), String> {
    super::check_path(args)?;
    match args.get(1).and_then(|p| p.parse::<i64>().ok()) {
        Some(1..=100) => Ok(()),
        _ => Err(format!(
            "{}% is not a percentage between 1 and 100",
            args.get(1).map(String::as_str).unwrap_or("")
        )),
    }
}

/// One line of `df -P`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DfLine {
    /// The filesystem (device).
    pub filesystem: String,
    /// 1K-blocks in use.
    pub used: u64,
    /// 1K-blocks available.
    pub available: u64,
    /// The Capacity column, in percent.
    pub percent: u32,
    /// Where the filesystem is mounted.
    pub mounted_on: String,
}

/// Parses the last line of `df -P` output (the header and earlier lines are skipped).
pub(super) fn parse_df(text: &str) -> Option<DfLine> {
    let line = text.lines().rfind(|l| !l.trim().is_empty())?;
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() < 6 {
        return None;
    }
    Some(DfLine {
        filesystem: f[0].to_string(),
        used: f[2].parse().ok()?,
        available: f[3].parse().ok()?,
        percent: f[4].strip_suffix('%')?.parse().ok()?,
        mounted_on: f[5..].join(" "),
    })
}

fn describe(m: &Mount) -> String {
    format!(
        "{} on {} type {} ({})",
        m.source,
        m.mount_point,
        m.fs_type,
        m.options.join(",")
    )
}

/// The mount at `path`, or a failed outcome saying which mount holds the path instead.
async fn the_mount(ctx: &StepCtx, path: &str, expected: &str) -> Result<Result<Mount, Outcome>, StepError> {
    if let Err(e) = path_ok(path) {
        return Ok(Err(Outcome::fail(expected, e)));
    }
    let (host, t) = host(ctx)?;
    let mounts = facts::mounts(&host, t).await?;
    if let Some(m) = mounted_at(&mounts, path) {
        return Ok(Ok(m.clone()));
    }
    let path = normalise(path);
    let parent = mounts
        .iter()
        .filter(|m| m.mount_point == "/" || path.starts_with(&format!("{}/", m.mount_point)))
        .max_by_key(|m| m.mount_point.len());
    let found = match parent {
        Some(p) => format!(
            "not mounted: {path} is on {} ({} {})",
            p.mount_point, p.fs_type, p.source
        ),
        None => format!("not mounted: nothing at {path} in /proc/self/mountinfo"),
    };
    Ok(Err(Outcome::fail(expected, found)))
}

/// `UUID=x` → `/dev/disk/by-uuid/x` (and LABEL, PARTUUID, PARTLABEL); other text as is.
fn device_path(source: &str) -> String {
    for (tag, dir) in [
        ("UUID=", "by-uuid"),
        ("LABEL=", "by-label"),
        ("PARTUUID=", "by-partuuid"),
        ("PARTLABEL=", "by-partlabel"),
    ] {
        if let Some(v) = source.strip_prefix(tag) {
            return format!("/dev/disk/{dir}/{v}");
        }
    }
    source.to_string()
}

/// Whether two device names name the same device: equal, or equal after `readlink -f` on
/// the host. Returns the verdict and, when resolved, what `have` resolved to.
async fn same_device(
    host: &Arc<HostHandle>,
    t: Duration,
    have: &str,
    want: &str,
) -> Result<(bool, Option<String>), StepError> {
    if have == want {
        return Ok((true, None));
    }
    let (a, b) = (device_path(have), device_path(want));
    if !a.starts_with('/') || !b.starts_with('/') {
        return Ok((false, None));
    }
    let out = crate::facts::read(host, &Cmd::new("readlink").args(["-f", "--", &a, &b]), t).await?;
    let text = out.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    match lines.as_slice() {
        [ra, rb] => Ok((ra == rb, Some(ra.to_string()))),
        _ => Ok((false, None)),
    }
}

pub(super) fn mounted(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let expected = format!("{} mounted", a.get(0));
        Ok(match the_mount(ctx, a.get(0), &expected).await? {
            Ok(m) => Outcome::pass(expected, format!("mounted: {}", describe(&m))),
            Err(failed) => failed,
        })
    })
}

pub(super) fn mounted_from(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, want) = (a.get(0), a.get(1));
        let expected = format!("{path} mounted from {want}");
        let m = match the_mount(ctx, path, &expected).await? {
            Ok(m) => m,
            Err(failed) => return Ok(failed),
        };
        let (host, t) = host(ctx)?;
        let (same, resolved) = same_device(&host, t, &m.source, want).await?;
        let found = match resolved {
            Some(r) if r != m.source => format!("mounted from {} (= {r})", m.source),
            _ => format!("mounted from {}", m.source),
        };
        Ok(Outcome::check(same, expected, found))
    })
}

pub(super) fn mounted_type(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, want) = (a.get(0), a.get(1));
        let expected = format!("{path} mounted with type {want}");
        Ok(match the_mount(ctx, path, &expected).await? {
            Ok(m) => Outcome::check(m.fs_type == want, expected, format!("mounted with type {}", m.fs_type)),
            Err(failed) => failed,
        })
    })
}

/// Whether `want` is among `options` (`size` also matches `size=16384k`).
fn has_option(options: &[String], want: &str) -> bool {
    options
        .iter()
        .any(|o| o == want || (!want.contains('=') && o.split_once('=').is_some_and(|(k, _)| k == want)))
}

pub(super) fn mounted_option(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, want) = (a.get(0), a.get(1));
        let expected = format!("{path} mounted with option {want}");
        Ok(match the_mount(ctx, path, &expected).await? {
            Ok(m) => Outcome::check(
                has_option(&m.options, want),
                expected,
                format!("mounted with options {}", m.options.join(",")),
            ),
            Err(failed) => failed,
        })
    })
}

/// The fstab line for `path`, or a failed outcome listing the mount points there.
async fn fstab_entry(ctx: &StepCtx, path: &str, expected: &str) -> Result<Result<FstabEntry, Outcome>, StepError> {
    if let Err(e) = path_ok(path) {
        return Ok(Err(Outcome::fail(expected, e)));
    }
    let (host, t) = host(ctx)?;
    let entries = facts::fstab(&host, t).await?;
    let path = normalise(path);
    if let Some(e) = entries.iter().rev().find(|e| normalise(&e.mount_point) == path) {
        return Ok(Ok(e.clone()));
    }
    let points: Vec<&str> = entries.iter().map(|e| e.mount_point.as_str()).collect();
    let found = if points.is_empty() {
        format!("no line for {path}: /etc/fstab has no entries")
    } else {
        format!(
            "no line for {path} in /etc/fstab (mount points there: {})",
            points.join(", ")
        )
    };
    Ok(Err(Outcome::fail(expected, found)))
}

fn fstab_line(e: &FstabEntry) -> String {
    format!(
        "line {}: {} {} {} {}",
        e.line,
        e.source,
        e.mount_point,
        e.fs_type,
        e.options.join(",")
    )
}

pub(super) fn in_fstab(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let expected = format!("{} in /etc/fstab", a.get(0));
        Ok(match fstab_entry(ctx, a.get(0), &expected).await? {
            Ok(e) => Outcome::pass(expected, fstab_line(&e)),
            Err(failed) => failed,
        })
    })
}

pub(super) fn in_fstab_from(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (path, want) = (a.get(0), a.get(1));
        let expected = format!("{path} in /etc/fstab from {want}");
        let e = match fstab_entry(ctx, path, &expected).await? {
            Ok(e) => e,
            Err(failed) => return Ok(failed),
        };
        let (host, t) = host(ctx)?;
        let (same, resolved) = same_device(&host, t, &e.source, want).await?;
        let found = match resolved {
            Some(r) if r != e.source => format!("{} (= {r})", fstab_line(&e)),
            _ => fstab_line(&e),
        };
        Ok(Outcome::check(same, expected, found))
    })
}

pub(super) fn filesystem_use(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let path = a.get(0);
        let limit = a.int(1)?;
        let expected = format!("filesystem {path} less than {limit}% full");
        if let Err(e) = path_ok(path) {
            return Ok(Outcome::fail(expected, e));
        }
        let (host, t) = host(ctx)?;
        let out = crate::facts::read(&host, &Cmd::new("df").args(["-P", "--", path]), t).await?;
        let Some(df) = parse_df(&out.stdout_text()).filter(|_| out.success()) else {
            return Ok(Outcome::fail(
                expected,
                format!("df -P {path} failed: {}", excerpt(&out.stderr_text())),
            ));
        };
        let found = format!(
            "{}% full ({} on {}: {} of {} 1K-blocks used)",
            df.percent,
            df.filesystem,
            df.mounted_on,
            df.used,
            df.used + df.available
        );
        let m = Measurement {
            label: format!("{} use", df.mounted_on),
            value: f64::from(df.percent),
            unit: "%".into(),
            warn: None,
            crit: Some(crate::steps::Range::under(limit as f64, true)),
        };
        Ok(Outcome::check(i64::from(df.percent) < limit, expected, found).with(m))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_of_this_machine() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/captured/debian12/df-P.txt"
        ))
        .unwrap();
        let df = parse_df(&text).unwrap();
        assert_eq!(df.mounted_on, "/");
        assert!(df.percent > 0 && df.percent <= 100);
        assert!(parse_df("Filesystem 1024-blocks Used Available Capacity Mounted on\n").is_none());
        let df = parse_df("tmpfs 16384 0 16384 0% /mnt/my disk\n").unwrap();
        assert_eq!((df.percent, df.mounted_on.as_str()), (0, "/mnt/my disk"));
    }

    #[test]
    fn options_and_devices() {
        let o: Vec<String> = ["rw", "noatime", "size=16384k"].map(String::from).to_vec();
        assert!(has_option(&o, "noatime"));
        assert!(has_option(&o, "size"));
        assert!(has_option(&o, "size=16384k"));
        assert!(!has_option(&o, "size=1k"));
        assert!(!has_option(&o, "ro"));
        assert_eq!(device_path("UUID=5b0e"), "/dev/disk/by-uuid/5b0e");
        assert_eq!(device_path("tmpfs"), "tmpfs");
    }

    #[test]
    fn percent_lint() {
        let args = |p: &str| vec!["/".to_string(), p.to_string()];
        assert!(check_percent(&args("90")).is_ok());
        assert!(check_percent(&args("0")).is_err());
        assert!(check_percent(&args("101")).is_err());
        assert!(check_percent(&["data".to_string(), "90".to_string()]).is_err());
    }
}
