//! The native TOML inventory format (INVENTORY.md): `[defaults]`, `[hosts.NAME]`,
//! `[hosts.NAME.mysql]`; unknown keys are errors with line, column and the nearest key.

use std::path::Path;

use super::{Inventory, InventoryError};

/// Parses a native TOML inventory.
pub(super) fn parse(_path: &Path, _text: &str) -> Result<Inventory, InventoryError> {
    todo!("native inventory parser")
}
