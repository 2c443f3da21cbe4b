//! Ansible inventories, INI and YAML, as Ansible reads them: groups and `:children`,
//! `ansible_*` connection variables, everything else as `vars`, `mysql_*` as the mysql table.

use std::path::Path;

use super::{Inventory, InventoryError};

/// Parses an Ansible INI inventory.
pub(super) fn parse_ini(_path: &Path, _text: &str) -> Result<Inventory, InventoryError> {
    todo!("ansible ini")
}

/// Parses an Ansible YAML inventory.
pub(super) fn parse_yaml(_path: &Path, _text: &str) -> Result<Inventory, InventoryError> {
    todo!("ansible yaml")
}

/// Whether text without a telling extension looks like a YAML inventory.
pub(super) fn looks_like_yaml(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with("all:") || l.trim() == "---")
}

/// Whether text without a telling extension looks like an INI inventory.
pub(super) fn looks_like_ini(text: &str) -> bool {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'));
    first.is_some_and(|l| (l.starts_with('[') && !l.starts_with("[hosts.") && !l.starts_with("[defaults")) || !l.contains('='))
}
