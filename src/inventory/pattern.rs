//! `@hosts:` / `--hosts` patterns: a group name, a host name or a glob over host names,
//! several separated by commas. Resolution is pure and happens before any host is contacted.

use super::Inventory;

/// A pattern that selects nothing the inventory knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown host or group \"{pattern}\"{}", hint.as_ref().map(|h| format!(" (did you mean \"{h}\"?)")).unwrap_or_default())]
pub struct PatternError {
    /// The part of the pattern that matched nothing.
    pub pattern: String,
    /// The nearest known host or group name.
    pub hint: Option<String>,
}

impl Inventory {
    /// Host names selected by `pattern` (comma list of groups, names, globs), in
    /// inventory order without duplicates. Each part must select at least one host.
    pub fn select(&self, pattern: &str) -> Result<Vec<String>, PatternError> {
        let mut out: Vec<String> = Vec::new();
        for part in pattern.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let found = self.select_one(part);
            if found.is_empty() {
                return Err(PatternError {
                    pattern: part.to_string(),
                    hint: self.nearest_name(part),
                });
            }
            for name in found {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        // An empty pattern (`@hosts:` with nothing after it, `--hosts ""`) is a typo, not
        // "no hosts": selecting nothing would pass silently.
        if out.is_empty() {
            return Err(PatternError {
                pattern: pattern.to_string(),
                hint: None,
            });
        }
        // Keep inventory (sorted name) order so reports are stable.
        out.sort_by_key(|n| self.hosts.keys().position(|k| k == n));
        Ok(out)
    }

    /// Host names selected by a step's host or group argument: the whole value as a group,
    /// host or glob (`{web*,app1}`), else a comma list as [`Inventory::select`] reads it.
    /// Lint and the run both read arguments through here.
    pub fn select_argument(&self, value: &str) -> Result<Vec<String>, PatternError> {
        let whole = self.select_whole(value);
        if whole.is_empty() {
            self.select(value)
        } else {
            Ok(whole)
        }
    }

    /// The whole value as a group, host name or glob (any glob syntax, braces included).
    fn select_whole(&self, value: &str) -> Vec<String> {
        if let Some(members) = self.groups.get(value) {
            return members.iter().cloned().collect();
        }
        if self.hosts.contains_key(value) {
            return vec![value.to_string()];
        }
        globset::Glob::new(value)
            .map(|g| g.compile_matcher())
            .map(|m| self.hosts.keys().filter(|h| m.is_match(h.as_str())).cloned().collect())
            .unwrap_or_default()
    }

    fn select_one(&self, part: &str) -> Vec<String> {
        if let Some(members) = self.groups.get(part) {
            return members.iter().cloned().collect();
        }
        if self.hosts.contains_key(part) {
            return vec![part.to_string()];
        }
        if part.contains(['*', '?', '['])
            && let Ok(glob) = globset::Glob::new(part)
        {
            let m = glob.compile_matcher();
            return self.hosts.keys().filter(|h| m.is_match(h.as_str())).cloned().collect();
        }
        Vec::new()
    }

    /// The known host or group name closest to `wanted`, for "did you mean" hints.
    pub fn nearest_name(&self, wanted: &str) -> Option<String> {
        crate::nearest::nearest(wanted, self.hosts.keys().chain(self.groups.keys()).map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use crate::inventory::{Host, Inventory};

    fn inv() -> Inventory {
        let mut inv = Inventory::default();
        for (name, groups) in [("web1", "web"), ("web2", "web"), ("db1", "db"), ("db2", "db")] {
            let mut h = Host::local(name);
            h.groups = vec![groups.into()];
            inv.groups.entry(groups.into()).or_default().insert(name.into());
            inv.hosts.insert(name.into(), h);
        }
        inv
    }

    #[test]
    fn an_empty_pattern_is_an_error() {
        assert!(inv().select("").is_err());
        assert!(inv().select(" , ").is_err());
    }

    #[test]
    fn groups_names_globs_and_lists() {
        let inv = inv();
        assert_eq!(inv.select("web").unwrap(), ["web1", "web2"]);
        assert_eq!(inv.select("db1").unwrap(), ["db1"]);
        assert_eq!(inv.select("web*").unwrap(), ["web1", "web2"]);
        assert_eq!(inv.select("db2,web1").unwrap(), ["db2", "web1"]);
        assert_eq!(inv.select("web,web1").unwrap(), ["web1", "web2"]);
    }

    #[test]
    fn unknown_pattern_names_the_nearest() {
        let err = inv().select("wbe").unwrap_err();
        assert_eq!(err.to_string(), "unknown host or group \"wbe\" (did you mean \"web\"?)");
    }
}
