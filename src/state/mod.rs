//! What changed since the last run (`--state FILE`): for each (scenario, host) pair, its
//! last result and since when it has been in that state, kept in a JSON file between runs,
//! so the reports can say which failures are new, which are still failing (since when) and
//! which pairs recovered ([`Since`]).
//!
//! - The first run of a state (no history yet) marks nothing: there is no last run. After
//!   it, a pair never seen before (a scenario or host added) is a new failure when it fails.
//! - The key of a pair is the feature file (canonical path), the scenario's title (with
//!   ` #N` for an outline row, see `Scenario::title`) and the host: not the scenario's line,
//!   so editing a feature file above a scenario keeps its history. Renaming a scenario or
//!   moving its file starts a new history.
//! - The default file is `$XDG_STATE_HOME/shakedown/` (or `~/.local/state/shakedown/`),
//!   named from the suite paths and the inventory ([`default_path`]): different suites never
//!   share a file, and each `--partition` shard has its own.
//! - Storage is JSON with a `version`; a file that is not valid JSON of this version is set
//!   aside (renamed `FILE.corrupt`) with a warning and the run starts a new history.
//! - Writing takes an exclusive lock on `FILE.lock`, reads the file again, applies this
//!   run's results, writes `FILE.tmp` (same directory) and renames it over the
//!   file: two overlapping runs (cron) each leave a whole, valid file, and a reader never
//!   sees half of one. Pairs not in this run's plan are kept as they were.
//! - A state that cannot be read or written (an unwritable directory) is a warning on
//!   stderr, never a failed run: the state only adds words to the reports.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::event::{Since, UnitResult, UnitStatus};
use crate::suite::Unit;

/// The version of the file's format; another is set aside, not read.
pub(crate) const VERSION: u32 = 1;

/// The file as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct Stored {
    version: u32,
    /// Pair key ([`key`]) -> its last known state.
    pairs: BTreeMap<String, Entry>,
}

/// One pair's last known state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub(crate) struct Entry {
    /// Whether it passed the last time it ran to a result.
    pub passed: bool,
    /// Since when it has been in that state (Unix seconds): the first run of the streak.
    pub since: u64,
    /// The last run that saw it (Unix seconds).
    pub seen: u64,
}

/// The pairs' history of a run: loaded before the run, saved after it.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// The file (`None`: kept in memory only, as `serve` does for the life of the server).
    file: Option<PathBuf>,
    pairs: BTreeMap<String, Entry>,
}

/// The key of a pair: `features/web.feature › Homepage #2 › web1`, with the feature's
/// canonical path (as given when it cannot be resolved).
pub(crate) fn key(unit: &Unit) -> String {
    let path = std::fs::canonicalize(&unit.feature.path).unwrap_or_else(|_| unit.feature.path.clone());
    format!(
        "{} › {} › {}",
        path.display(),
        unit.scenario.title(),
        unit.host.as_deref().unwrap_or("-")
    )
}

/// Seconds since the epoch (0 before it).
fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn time(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Whether a status counts as passing (`Some(true)`), failing (`Some(false)`), or says
/// nothing about the pair (a unit not run: its history is kept as it was).
fn verdict(status: UnitStatus) -> Option<bool> {
    match status {
        UnitStatus::Passed => Some(true),
        UnitStatus::Failed | UnitStatus::TimedOut => Some(false),
        UnitStatus::Skipped => None,
    }
}

/// Where a pair stands now (`passed`, at `now`) against its previous entry, and its next
/// entry.
pub(crate) fn compare(previous: Option<&Entry>, passed: bool, now: SystemTime) -> (Since, Entry) {
    let now_s = secs(now);
    let since = match previous {
        Some(p) if p.passed == passed => p.since,
        _ => now_s,
    };
    let mark = match (previous, passed) {
        (Some(p), true) if !p.passed => Since::Recovered {
            failing_since: time(p.since),
        },
        (_, true) => Since::Passing { since: time(since) },
        (Some(p), false) if !p.passed => Since::StillFailing { since: time(p.since) },
        (_, false) => Since::NewFailure,
    };
    (
        mark,
        Entry {
            passed,
            since,
            seen: now_s,
        },
    )
}

impl Ledger {
    /// A history kept in memory only (`serve`: for the life of the server).
    pub(crate) fn in_memory() -> Self {
        Ledger::default()
    }

    /// The history in `file` (none yet when it does not exist). A file that cannot be read
    /// as this version's JSON is set aside; the returned warnings say so.
    pub(crate) fn open(file: &Path) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let pairs = read(file, &mut warnings).pairs;
        (
            Ledger {
                file: Some(file.to_path_buf()),
                pairs,
            },
            warnings,
        )
    }

    /// Where `result`'s pair stands against the history: `None` for a unit not run, and for
    /// every unit of the first run of a state (an empty history): with no last run there is
    /// nothing to compare with, and "14 new failures" from a fresh install would be noise;
    /// the reports are then as without a state, and the history starts.
    pub(crate) fn since(&self, result: &UnitResult, now: SystemTime) -> Option<Since> {
        if self.pairs.is_empty() {
            return None;
        }
        let passed = verdict(result.status)?;
        Some(compare(self.pairs.get(&key(&result.unit)), passed, now).0)
    }

    /// Records a finished run's results: in memory, and in the file under its lock (read
    /// again there, so a run that finished meanwhile is not lost). Returns warnings.
    pub(crate) fn record(&mut self, results: &[std::sync::Arc<UnitResult>], now: SystemTime) -> Vec<String> {
        let Some(file) = self.file.clone() else {
            apply(&mut self.pairs, results, now);
            return Vec::new();
        };
        let mut warnings = Vec::new();
        match update(&file, &mut warnings, |pairs| apply(pairs, results, now)) {
            Ok(pairs) => self.pairs = pairs,
            Err(e) => {
                warnings.push(format!("state {}: not saved: {e}", file.display()));
                apply(&mut self.pairs, results, now);
            }
        }
        warnings
    }
}

/// This run's results over `pairs`; pairs not in the run stay as they were.
fn apply(pairs: &mut BTreeMap<String, Entry>, results: &[std::sync::Arc<UnitResult>], now: SystemTime) {
    for r in results {
        let Some(passed) = verdict(r.status) else { continue };
        let k = key(&r.unit);
        let (_, entry) = compare(pairs.get(&k), passed, now);
        pairs.insert(k, entry);
    }
}

/// Reads `file`: empty when it does not exist; set aside (with a warning) when it is not
/// this version's JSON.
fn read(file: &Path, warnings: &mut Vec<String>) -> Stored {
    let empty = Stored {
        version: VERSION,
        pairs: BTreeMap::new(),
    };
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return empty,
        Err(e) => {
            warnings.push(format!(
                "state {}: cannot read it ({e}): starting afresh",
                file.display()
            ));
            return empty;
        }
    };
    let problem = match serde_json::from_slice::<serde_json::Value>(&text) {
        Err(e) => format!("not valid JSON ({e})"),
        Ok(v) => match v.get("version").and_then(serde_json::Value::as_u64) {
            Some(n) if n == u64::from(VERSION) => match serde_json::from_value::<Stored>(v) {
                Ok(s) => return s,
                Err(e) => format!("not a shakedown state ({e})"),
            },
            Some(n) => format!("version {n}, this shakedown reads version {VERSION}"),
            None => "no version field: not a shakedown state".into(),
        },
    };
    let aside = side_name(file, ".corrupt");
    match std::fs::rename(file, &aside) {
        Ok(()) => warnings.push(format!(
            "state {}: {problem}; set aside as {}, starting a new history",
            file.display(),
            aside.display()
        )),
        Err(e) => warnings.push(format!(
            "state {}: {problem}; could not set it aside ({e}), starting a new history",
            file.display()
        )),
    }
    empty
}

/// `FILE` with `suffix` appended: `FILE.corrupt` (set aside), `FILE.lock` (a separate
/// file, because the state file itself is replaced by rename), `FILE.tmp`.
fn side_name(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Under an exclusive lock: reads `file`, lets `change` update the pairs, writes them to a
/// temporary file in the same directory and renames it over `file`. Returns the pairs
/// written.
fn update(
    file: &Path,
    warnings: &mut Vec<String>,
    change: impl FnOnce(&mut BTreeMap<String, Entry>),
) -> std::io::Result<BTreeMap<String, Entry>> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(side_name(file, ".lock"))?;
    // flock(2), which std's File::lock wraps (stable in 1.89; the crate's MSRV is 1.88).
    // Released when `lock` is closed, also when the process dies.
    // SAFETY: flock on a file descriptor we own and keep open for the whole update.
    if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut stored = read(file, warnings);
    stored.version = VERSION;
    change(&mut stored.pairs);
    let mut text = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
    text.push(b'\n');
    // One writer at a time holds the lock: a fixed name is enough, and one left by a run
    // killed mid-write is overwritten by the next.
    let tmp = side_name(file, ".tmp");
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    drop(lock);
    Ok(stored.pairs)
}

/// The default state file of a run: `$XDG_STATE_HOME/shakedown/` (or
/// `~/.local/state/shakedown/`), named `<suite>-<inventory>[-partK-N]-<hash>.json` from the
/// canonical suite paths and inventory (the hash keeps two suites of the same name apart).
/// `None` when neither `XDG_STATE_HOME` nor `HOME` is set.
pub(crate) fn default_path(suites: &[PathBuf], inventory: Option<&Path>, partition: Option<&str>) -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".local/state"),
    };
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut hasher = crc32fast::Hasher::new();
    let mut names = Vec::new();
    for s in suites {
        let c = canonical(s);
        hasher.update(c.as_os_str().as_encoded_bytes());
        hasher.update(b"\0");
        names.push(slug(&c));
    }
    hasher.update(b"\0inventory\0");
    match inventory {
        Some(i) => {
            let c = canonical(i);
            hasher.update(c.as_os_str().as_encoded_bytes());
            names.push(slug(&c.with_extension("")));
        }
        None => names.push("local".into()),
    }
    if let Some(p) = partition {
        names.push(format!("part{}", p.replace('/', "-")));
    }
    let mut name = names.join("-");
    name.truncate(80);
    Some(
        base.join("shakedown")
            .join(format!("{name}-{:08x}.json", hasher.finalize())),
    )
}

/// The last component of a path in letters, digits, `.`, `_` and `-`.
fn slug(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "suite".into() } else { s }
}

#[cfg(test)]
mod tests;
