//! MySQL/MariaDB probe (to be filled by its issue).

/// Per-host MySQL connection cache, one per host per run.
#[derive(Debug, Default)]
pub struct MysqlCache {}
