//! Pure reading of what a MySQL or MariaDB server answered: result sets as text, the
//! replica status row under either generation of column names, server versions, status
//! and variable rows, `CHECKSUM TABLE` rows; and the lexical checks applied to SQL before it
//! is sent (one statement only, quoted table names). Nothing here touches the network.

/// A result set as text: column names and rows of values (`None` is SQL NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextRows {
    /// Column names, as the server sent them.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Option<String>>>,
}

/// One row of a [`TextRows`], readable by column name.
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    columns: &'a [String],
    values: &'a [Option<String>],
}

impl TextRows {
    /// The i-th row.
    pub fn row(&self, i: usize) -> Option<RowRef<'_>> {
        self.rows.get(i).map(|values| RowRef {
            columns: &self.columns,
            values,
        })
    }

    /// The first column of the first row: `None` when there are no rows, `Some(None)` for NULL.
    pub fn first_value(&self) -> Option<Option<&str>> {
        self.rows.first().map(|r| r.first().and_then(|v| v.as_deref()))
    }
}

impl<'a> RowRef<'a> {
    /// The value of the first of `names` that is a column of this row (names compared
    /// without regard to case): `None` when no such column exists, `Some(None)` for NULL.
    pub fn field(&self, names: &[&str]) -> Option<Option<&'a str>> {
        names.iter().find_map(|name| {
            let i = self.columns.iter().position(|c| c.eq_ignore_ascii_case(name))?;
            Some(self.values.get(i).and_then(|v| v.as_deref()))
        })
    }
}

/// A server's version, from `SELECT VERSION()` (`10.11.6-MariaDB-0+deb12u1`, `8.0.36`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerVersion {
    /// The full version string.
    pub text: String,
    /// Whether the server is MariaDB.
    pub mariadb: bool,
    /// Major, minor, patch.
    pub number: (u32, u32, u32),
}

/// Parses a `VERSION()` string; unknown parts read as 0.
pub(crate) fn parse_version(text: &str) -> ServerVersion {
    // MariaDB before 11 may report "5.5.5-10.11.6-MariaDB" over the wire; VERSION() has no prefix,
    // but strip it anyway.
    let core = text.trim().strip_prefix("5.5.5-").unwrap_or(text.trim());
    let mut parts = core
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let number = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    ServerVersion {
        text: text.trim().to_string(),
        mariadb: text.to_ascii_lowercase().contains("mariadb"),
        number,
    }
}

/// The statement that shows replica status on this server: MySQL ≥ 8.0.22 has
/// `SHOW REPLICA STATUS` (and 8.4 dropped `SHOW SLAVE STATUS`); MariaDB (every 10.x) and
/// older MySQL answer `SHOW SLAVE STATUS`.
pub(crate) fn replica_status_statement(version: &ServerVersion) -> &'static str {
    if !version.mariadb && version.number >= (8, 0, 22) {
        "SHOW REPLICA STATUS"
    } else {
        "SHOW SLAVE STATUS"
    }
}

/// The replication state of a replica, whichever names its server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// `Slave_IO_Running` / `Replica_IO_Running`: `Yes`, `No` or `Connecting`.
    pub io_running: String,
    /// `Slave_SQL_Running` / `Replica_SQL_Running`.
    pub sql_running: String,
    /// `Seconds_Behind_Master` / `Seconds_Behind_Source`; `None` when NULL (SQL thread stopped).
    pub seconds_behind: Option<u64>,
    /// `Master_Host` / `Source_Host`.
    pub source_host: String,
    /// `Master_Port` / `Source_Port`.
    pub source_port: u16,
    /// `Last_IO_Errno` and `Last_IO_Error`.
    pub last_io_error: Option<(u32, String)>,
    /// `Last_SQL_Errno` and `Last_SQL_Error`.
    pub last_sql_error: Option<(u32, String)>,
    /// `Slave_IO_State` / `Replica_IO_State`.
    pub io_state: String,
    /// `Slave_SQL_Running_State` / `Replica_SQL_Running_State`.
    pub sql_state: String,
}

impl ReplicaStatus {
    /// Reads a `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS` row, trying the new name of each
    /// field and then the old one. A missing column is an error naming it.
    pub fn from_row(row: RowRef<'_>) -> Result<Self, String> {
        let text = |new: &str, old: &str| -> Result<String, String> {
            row.field(&[new, old])
                .map(|v| v.unwrap_or("").to_string())
                .ok_or_else(|| format!("the replica status has no column {new} or {old}"))
        };
        let optional = |new: &str, old: &str| row.field(&[new, old]).flatten().unwrap_or("").to_string();
        let error = |errno: &str, error: &str| -> Option<(u32, String)> {
            let code = row
                .field(&[errno])
                .flatten()
                .and_then(|c| c.trim().parse::<u32>().ok())
                .unwrap_or(0);
            let message = row.field(&[error]).flatten().unwrap_or("").trim().to_string();
            (code != 0 || !message.is_empty()).then_some((code, message))
        };
        let behind = text("Seconds_Behind_Source", "Seconds_Behind_Master")?;
        let port = text("Source_Port", "Master_Port")?;
        Ok(ReplicaStatus {
            io_running: text("Replica_IO_Running", "Slave_IO_Running")?,
            sql_running: text("Replica_SQL_Running", "Slave_SQL_Running")?,
            seconds_behind: match row.field(&["Seconds_Behind_Source", "Seconds_Behind_Master"]).flatten() {
                None => None,
                Some(_) => Some(
                    behind
                        .trim()
                        .parse()
                        .map_err(|_| format!("lag \"{behind}\" is not a number"))?,
                ),
            },
            source_host: text("Source_Host", "Master_Host")?,
            source_port: port
                .trim()
                .parse()
                .map_err(|_| format!("source port \"{port}\" is not a port"))?,
            last_io_error: error("Last_IO_Errno", "Last_IO_Error"),
            last_sql_error: error("Last_SQL_Errno", "Last_SQL_Error"),
            io_state: optional("Replica_IO_State", "Slave_IO_State"),
            sql_state: optional("Replica_SQL_Running_State", "Slave_SQL_Running_State"),
        })
    }

    /// Both threads running and no last error.
    pub fn is_running(&self) -> bool {
        self.io_running == "Yes"
            && self.sql_running == "Yes"
            && self.last_io_error.is_none()
            && self.last_sql_error.is_none()
    }

    /// The thread states in words, with the last errors quoted:
    /// `IO thread Yes, SQL thread No (...); last SQL error 1062: "Duplicate entry..."`.
    pub fn describe(&self) -> String {
        let mut out = format!("IO thread {}", self.io_running);
        if !self.io_state.is_empty() {
            out.push_str(&format!(" ({})", self.io_state));
        }
        out.push_str(&format!(", SQL thread {}", self.sql_running));
        if !self.sql_state.is_empty() {
            out.push_str(&format!(" ({})", self.sql_state));
        }
        for (what, err) in [("IO", &self.last_io_error), ("SQL", &self.last_sql_error)] {
            if let Some((code, message)) = err {
                out.push_str(&format!("; last {what} error {code}: {message:?}"));
            }
        }
        out
    }
}

/// Reads a replica status result: `None` when it has no row (the server is not a replica).
pub(crate) fn parse_replica_status(rows: &TextRows) -> Result<Option<ReplicaStatus>, String> {
    rows.row(0).map(ReplicaStatus::from_row).transpose()
}

/// The value of `name` in a `SHOW STATUS` / `SHOW VARIABLES` result (columns
/// `Variable_name`, `Value`), matched exactly (LIKE patterns match more than one name).
pub(crate) fn parse_named_value<'a>(rows: &'a TextRows, name: &str) -> Option<Option<&'a str>> {
    (0..rows.rows.len()).filter_map(|i| rows.row(i)).find_map(|row| {
        let found = row.field(&["Variable_name"]).flatten()?;
        found
            .eq_ignore_ascii_case(name)
            .then(|| row.field(&["Value"]).flatten())
    })
}

/// The checksum of the first row of a `CHECKSUM TABLE` result: `None` when NULL (the
/// table does not exist).
pub(crate) fn parse_checksum(rows: &TextRows) -> Result<Option<String>, String> {
    let row = rows.row(0).ok_or("CHECKSUM TABLE returned no row")?;
    row.field(&["Checksum"])
        .map(|v| v.map(str::to_string))
        .ok_or_else(|| "CHECKSUM TABLE returned no Checksum column".into())
}

/// Quotes a `db.table` or `table` name as identifiers (`` `db`.`table` ``), so a table
/// argument can never carry SQL.
pub(crate) fn quote_table(name: &str) -> Result<String, String> {
    let parts: Vec<&str> = name.split('.').collect();
    if name.trim().is_empty() || parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "\"{name}\" is not a table name (write table or database.table)"
        ));
    }
    Ok(parts
        .iter()
        .map(|p| format!("`{}`", p.replace('`', "``")))
        .collect::<Vec<_>>()
        .join("."))
}

/// Checks that `sql` is one statement (a trailing `;` is allowed): the MySQL steps send
/// what the feature wrote and must never run a second statement hidden after a `;`.
/// Quotes, backslash escapes and comments are skipped; executable comments (`/*! ... */`)
/// count as code, as the server runs them.
pub(crate) fn single_statement(sql: &str) -> Result<(), String> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let mut seen_code = false;
    while i < bytes.len() {
        let rest = &bytes[i..];
        match bytes[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' && q != b'`' { 2 } else { 1 };
                }
                i += 1;
                seen_code = true;
                continue;
            }
            b'#' => i = skip_line(bytes, i),
            b'-' if rest.starts_with(b"--") && rest.get(2).is_none_or(|c| c.is_ascii_whitespace()) => {
                i = skip_line(bytes, i)
            }
            b'/' if rest.starts_with(b"/*") && !rest.starts_with(b"/*!") && !rest.starts_with(b"/*M!") => {
                i = sql[i + 2..].find("*/").map(|e| i + 2 + e + 2).unwrap_or(bytes.len());
            }
            b';' => {
                if sql[i + 1..].trim().is_empty() {
                    break;
                }
                return Err(format!(
                    "one statement per step: the query has more after \";\" ({:?})",
                    sql[i + 1..].trim().chars().take(40).collect::<String>()
                ));
            }
            c => {
                seen_code |= !c.is_ascii_whitespace();
                i += 1;
            }
        }
    }
    if seen_code {
        Ok(())
    } else {
        Err("the query is empty".into())
    }
}

fn skip_line(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| from + p + 1)
        .unwrap_or(bytes.len())
}

/// Whether a statement only reads (starts with SELECT, SHOW, WITH, DESCRIBE, EXPLAIN,
/// CHECKSUM, VALUES, TABLE or a parenthesis). Anything else may change the session, so the
/// session it ran in is closed after it and the next step gets a fresh read-only one.
pub(crate) fn reads_only(sql: &str) -> bool {
    let first = sql.trim_start().trim_start_matches('(');
    let word: String = first
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_uppercase();
    sql.trim_start().starts_with('(')
        || matches!(
            word.as_str(),
            "SELECT" | "SHOW" | "WITH" | "DESC" | "DESCRIBE" | "EXPLAIN" | "CHECKSUM" | "VALUES" | "TABLE"
        )
}

/// Reads the `mysql -e '...\G'` vertical layout (how the fixtures were captured) into
/// [`TextRows`]; `NULL` reads as SQL NULL.
#[cfg(test)]
pub(crate) fn parse_vertical(text: &str) -> TextRows {
    let mut out = TextRows::default();
    for line in text.lines() {
        if line.starts_with("***") {
            out.rows.push(Vec::new());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_string(), value.strip_prefix(' ').unwrap_or(value));
        if out.rows.len() == 1 {
            out.columns.push(name);
        }
        if let Some(row) = out.rows.last_mut() {
            row.push(if value == "NULL" { None } else { Some(value.to_string()) });
        }
    }
    out
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
