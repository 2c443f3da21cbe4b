//! MySQL / MariaDB steps: is the server up, what do queries return, is replication
//! running and caught up and from where, and do the servers of a group hold the same table.
//! Connections come from each host's [`MysqlCache`](crate::probes::mysql::MysqlCache) (one
//! read-only session per host per run); answers are read by `probes::mysql::parse`; the
//! judging of each answer is a pure function below, tested on its own.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::time::Instant;

use super::consistency::{self, Said};
use super::{Args, Lane, Measurement, Outcome, StepCtx, StepDef, StepError, StepOutput};
use crate::host::HostHandle;
use crate::probes::mysql::parse::{self, ReplicaStatus, TextRows};
use crate::probes::mysql::{MysqlError, endpoint};

const MODULE: &str = "src/steps/mysql.rs";

/// The mysql family.
pub const STEPS: &[StepDef] = &[
    StepDef {
        line: line!(),
        sentence: "MySQL should be accepting connections",
        example: "Then MySQL should be accepting connections",
        doc: "Opens (or pings) the current host's MySQL session with the host's [mysql] inventory settings, from this machine, within the connect timeout. The failure says why: `cannot connect to MySQL on db2 (10.77.0.32:3306): connection refused`, access denied, no answer within 5s.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: accepting,
    },
    StepDef {
        line: line!(),
        sentence: "MySQL on {host} should be accepting connections",
        example: r#"Then MySQL on "db1" should be accepting connections"#,
        doc: "As above, for the named inventory host (no @hosts: needed).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: false,
        check: None,
        run: accepting_on,
    },
    StepDef {
        line: line!(),
        sentence: "the query {string} should return {string}",
        example: r#"Then the query "SELECT COUNT(*) FROM app.users" should return "42""#,
        doc: "Runs one statement in the host's read-only session and compares the first column of the first row, as text, with the value (SQL NULL reads as NULL). A query the server refuses (a syntax error, a missing table, a write refused by the read-only session) fails with the server's error code and message. Only one statement per step.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(check_query),
        run: query_returns,
    },
    StepDef {
        line: line!(),
        sentence: "the query {string} should return at least {int} row(s)",
        example: r#"Then the query "SELECT 1 FROM app.users LIMIT 1" should return at least 1 row"#,
        doc: "Runs one statement in the host's read-only session and counts the rows of its result.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(check_query),
        run: query_rows,
    },
    StepDef {
        line: line!(),
        sentence: "the MySQL variable {string} should be {string}",
        example: r#"Then the MySQL variable "read_only" should be "ON""#,
        doc: "Reads the global variable with SHOW GLOBAL VARIABLES and compares it as text; boolean spellings are equal to each other (ON = 1 = TRUE = YES, OFF = 0 = FALSE = NO, any case).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(check_variable),
        run: variable_is,
    },
    StepDef {
        line: line!(),
        sentence: "MySQL should have fewer than {int} connections",
        example: "Then MySQL should have fewer than 500 connections",
        doc: "Reads Threads_connected (SHOW GLOBAL STATUS; shakedown's own session counts) and measures it as `MySQL connections`.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: fewer_connections,
    },
    StepDef {
        line: line!(),
        sentence: "replication should be running",
        example: "Then replication should be running",
        doc: "SHOW REPLICA STATUS on MySQL ≥ 8.0.22, SHOW SLAVE STATUS on MariaDB and older MySQL, read under both column names: the IO and SQL threads both `Yes` and no last IO/SQL error. The failure gives both thread states and quotes Last_IO_Error / Last_SQL_Error; a server that is not a replica fails saying so.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: replication_running,
    },
    StepDef {
        line: line!(),
        sentence: "replication should be less than {int} second(s) behind",
        example: "Then replication should be less than 5 seconds behind",
        doc: "Seconds_Behind_Source (Seconds_Behind_Master) below the limit, measured as `replication lag` in s. A NULL lag fails: `lag unknown: SQL thread not running`.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: replication_lag,
    },
    StepDef {
        line: line!(),
        sentence: "the replica should be replicating from {string}",
        example: r#"Then the replica should be replicating from "db1""#,
        doc: "The replica's source host and port (Source_Host/Master_Host, Source_Port/Master_Port) are those of the inventory host named (its name, its address, or its mysql.host, and its mysql port), or of the address (`10.0.0.31` or `10.0.0.31:3306`) given.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: replicating_from,
    },
    StepDef {
        line: line!(),
        sentence: "the table {string} should be the same on all hosts in group {group}",
        example: r#"Then the table "app.users" should be the same on all hosts in group "db""#,
        doc: "Runs CHECKSUM TABLE on every host of the group (or host pattern) at once. The failure lists each host's checksum, grouped, and names the odd hosts out when most hosts agree (one against one blames neither: `no majority`); a missing table is an answer (`table missing`) that fails. A host where MySQL does not answer is not a difference: with no host answering, or the others agreeing, the step could not check, naming each host and why.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: false,
        check: Some(check_table),
        run: table_same,
    },
];

fn check_query(args: &[String]) -> Result<(), String> {
    parse::single_statement(args.first().map(String::as_str).unwrap_or(""))
}

fn check_variable(args: &[String]) -> Result<(), String> {
    let name = args.first().map(String::as_str).unwrap_or("");
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err(format!(
            "\"{name}\" is not a MySQL variable name (letters, digits and _ only)"
        ))
    }
}

fn check_table(args: &[String]) -> Result<(), String> {
    parse::quote_table(args.first().map(String::as_str).unwrap_or("")).map(|_| ())
}

fn deadline(ctx: &StepCtx) -> Instant {
    Instant::now() + ctx.step_timeout
}

fn named(ctx: &StepCtx, name: &str) -> Result<Arc<HostHandle>, StepError> {
    ctx.pool
        .get(name)
        .ok_or_else(|| StepError::Other(format!("no host \"{name}\" in the inventory")))
}

fn step_error(e: MysqlError) -> StepError {
    StepError::Other(e.to_string())
}

/// Runs a statement of ours (not the feature's): any failure means the step could not check.
async fn internal(h: &HostHandle, sql: &str, until: Instant) -> Result<TextRows, StepError> {
    crate::probes::mysql::session(h)
        .query(&h.host, sql, until)
        .await
        .map_err(|e| match e {
            MysqlError::Server { .. } => StepError::Other(format!("{sql} on {}: {e}", h.host.name)),
            other => step_error(other),
        })
}

async fn check_accepting(h: &HostHandle, until: Instant) -> Outcome {
    let expected = format!("MySQL on {} ({}) accepting connections", h.host.name, endpoint(&h.host));
    match crate::probes::mysql::session(h).ping(&h.host, until).await {
        Ok(info) => Outcome::pass(expected, format!("connected: server {}", info.version.text)),
        Err(e) => Outcome::fail(expected, e.to_string()),
    }
}

fn accepting(ctx: &mut StepCtx, _a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let h = ctx.host()?;
        Ok(check_accepting(&h, deadline(ctx)).await)
    })
}

fn accepting_on(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let h = named(ctx, a.get(0))?;
        Ok(check_accepting(&h, deadline(ctx)).await)
    })
}

/// Runs the feature's statement: a server error is a failed check (its code and message
/// are what was found); a connection failure is an error.
async fn user_query(ctx: &StepCtx, sql: &str) -> Result<Result<TextRows, String>, StepError> {
    parse::single_statement(sql).map_err(StepError::Other)?;
    let h = ctx.host()?;
    match crate::probes::mysql::session(&h)
        .query(&h.host, sql, deadline(ctx))
        .await
    {
        Ok(rows) => Ok(Ok(rows)),
        Err(e @ MysqlError::Server { .. }) => Ok(Err(e.to_string())),
        Err(e) => Err(step_error(e)),
    }
}

/// The first value of a result against the expected text.
pub fn judge_value(sql: &str, rows: &TextRows, want: &str) -> Outcome {
    let expected = format!("query {sql:?} returning {want:?}");
    match rows.first_value() {
        None => Outcome::fail(expected, "no rows"),
        Some(value) => {
            let got = value.unwrap_or("NULL");
            Outcome::check(got == want, expected, format!("{got:?}"))
        }
    }
}

fn query_returns(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        Ok(match user_query(ctx, a.get(0)).await? {
            Ok(rows) => judge_value(a.get(0), &rows, a.get(1)),
            Err(e) => Outcome::fail(format!("query {:?} returning {:?}", a.get(0), a.get(1)), e),
        })
    })
}

fn query_rows(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let min = a.int(1)?;
        let expected = format!(
            "query {:?} returning at least {min} row{}",
            a.get(0),
            if min == 1 { "" } else { "s" }
        );
        Ok(match user_query(ctx, a.get(0)).await? {
            Ok(rows) => {
                let n = rows.rows.len();
                Outcome::check(
                    n as i64 >= min,
                    expected,
                    format!("{n} row{}", if n == 1 { "" } else { "s" }),
                )
            }
            Err(e) => Outcome::fail(expected, e),
        })
    })
}

fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_uppercase().as_str() {
        "ON" | "1" | "TRUE" | "YES" => Some(true),
        "OFF" | "0" | "FALSE" | "NO" => Some(false),
        _ => None,
    }
}

/// A variable's value against the expected text (booleans by meaning).
pub fn judge_variable(name: &str, found: Option<Option<&str>>, want: &str) -> Outcome {
    let expected = format!("MySQL variable {name} = {want:?}");
    match found {
        None => Outcome::fail(expected, format!("no global variable named {name}")),
        Some(value) => {
            let got = value.unwrap_or("NULL");
            let same = match (boolean(got), boolean(want)) {
                (Some(g), Some(w)) => g == w,
                _ => got == want,
            };
            Outcome::check(same, expected, format!("{got:?}"))
        }
    }
}

fn variable_is(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        check_variable(&a.values).map_err(StepError::Other)?;
        let h = ctx.host()?;
        let rows = internal(&h, &format!("SHOW GLOBAL VARIABLES LIKE '{}'", a.get(0)), deadline(ctx)).await?;
        Ok(judge_variable(
            a.get(0),
            parse::parse_named_value(&rows, a.get(0)),
            a.get(1),
        ))
    })
}

fn fewer_connections(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let limit = a.int(0)?;
        let h = ctx.host()?;
        let rows = internal(&h, "SHOW GLOBAL STATUS LIKE 'Threads_connected'", deadline(ctx)).await?;
        let value = parse::parse_named_value(&rows, "Threads_connected")
            .flatten()
            .and_then(|v| v.trim().parse::<i64>().ok());
        let n =
            value.ok_or_else(|| StepError::Other(format!("{} reports no Threads_connected status", h.host.name)))?;
        Ok(Outcome::check(
            n < limit,
            format!("fewer than {limit} connections"),
            format!("{n} connections (Threads_connected)"),
        )
        .with(Measurement {
            label: "MySQL connections".into(),
            value: n as f64,
            unit: String::new(),
            warn: None,
            crit: Some(super::Range::under(limit as f64, true)),
        }))
    })
}

/// The replica status of the current host: `Ok(None)` when it is not a replica.
async fn replica(ctx: &StepCtx) -> Result<(Arc<HostHandle>, Option<ReplicaStatus>), StepError> {
    let h = ctx.host()?;
    let until = deadline(ctx);
    let version = crate::probes::mysql::session(&h)
        .version(&h.host, until)
        .await
        .map_err(step_error)?;
    let rows = internal(&h, parse::replica_status_statement(&version), until).await?;
    let status = parse::parse_replica_status(&rows).map_err(|e| StepError::Other(format!("{}: {e}", h.host.name)))?;
    Ok((h, status))
}

fn not_a_replica(h: &HostHandle) -> String {
    format!("{} is not a replica (replica status is empty)", h.host.name)
}

/// Both threads running and no last error.
pub fn judge_running(status: &ReplicaStatus) -> Outcome {
    let found = if status.is_running() {
        "IO and SQL threads running, no errors".to_string()
    } else {
        status.describe()
    };
    Outcome::check(
        status.is_running(),
        "replication running (IO and SQL threads Yes, no last error)",
        found,
    )
}

fn replication_running(ctx: &mut StepCtx, _a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (h, status) = replica(ctx).await?;
        Ok(match status {
            Some(s) => judge_running(&s),
            None => Outcome::fail("replication running", not_a_replica(&h)),
        })
    })
}

/// The lag against the limit; NULL lag fails.
pub fn judge_lag(status: &ReplicaStatus, limit: i64) -> Outcome {
    let expected = format!("replication less than {limit} s behind");
    match status.seconds_behind {
        None => Outcome::fail(
            expected,
            format!("lag unknown: SQL thread not running ({})", status.describe()),
        ),
        Some(lag) => Outcome::check((lag as i64) < limit, expected, format!("{lag} s behind")).with(Measurement {
            label: "replication lag".into(),
            value: lag as f64,
            unit: "s".into(),
            warn: None,
            crit: Some(super::Range::under(limit as f64, true)),
        }),
    }
}

fn replication_lag(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let limit = a.int(0)?;
        let (h, status) = replica(ctx).await?;
        Ok(match status {
            Some(s) => judge_lag(&s, limit),
            None => Outcome::fail(format!("replication less than {limit} s behind"), not_a_replica(&h)),
        })
    })
}

/// Where a source may be: the names that identify it, and its port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// Inventory name, address and mysql.host (compared without case).
    pub names: Vec<String>,
    /// MySQL port.
    pub port: u16,
}

/// The replica's source host and port against the inventory host (or address) named.
pub fn judge_source(status: &ReplicaStatus, wanted: &str, spec: &SourceSpec) -> Outcome {
    let host_ok = spec
        .names
        .iter()
        .any(|n| n.eq_ignore_ascii_case(status.source_host.trim()));
    let expected = format!(
        "replicating from {wanted} ({}, port {})",
        spec.names.join(" / "),
        spec.port
    );
    Outcome::check(
        host_ok && status.source_port == spec.port,
        expected,
        format!("replicating from {}:{}", status.source_host, status.source_port),
    )
}

fn source_spec(ctx: &StepCtx, wanted: &str) -> SourceSpec {
    if let Some(h) = ctx.pool.get(wanted) {
        let mut names = vec![h.host.name.clone(), h.host.address.clone()];
        names.extend(h.host.mysql.as_ref().and_then(|m| m.host.clone()));
        names.dedup();
        return SourceSpec {
            names,
            port: h.host.mysql.as_ref().map(|m| m.port).unwrap_or(3306),
        };
    }
    match wanted
        .rsplit_once(':')
        .and_then(|(a, p)| Some((a, p.parse::<u16>().ok()?)))
    {
        Some((address, port)) => SourceSpec {
            names: vec![address.trim_matches(['[', ']']).to_string()],
            port,
        },
        None => SourceSpec {
            names: vec![wanted.to_string()],
            port: 3306,
        },
    }
}

fn replicating_from(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let spec = source_spec(ctx, a.get(0));
        let (h, status) = replica(ctx).await?;
        Ok(match status {
            Some(s) => judge_source(&s, a.get(0), &spec),
            None => Outcome::fail(format!("replicating from {}", a.get(0)), not_a_replica(&h)),
        })
    })
}

/// What CHECKSUM TABLE gave on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// The checksum.
    Value(String),
    /// The table does not exist there (with the server's warning, when it gave one).
    Missing(String),
    /// MySQL did not answer or refused.
    Error(String),
}

/// The checksums of all hosts, judged as every "same on all hosts" step is
/// ([`consistency::judge`]): passes when every host has the same one; a missing table is an
/// answer that fails; a host where MySQL does not answer could not be checked.
pub fn judge_checksums(table: &str, group: &str, results: &[(String, Checksum)]) -> StepOutput {
    let answers: Vec<consistency::Answer> = results
        .iter()
        .map(|(host, c)| {
            let said = match c {
                Checksum::Value(v) => Said::Value(v.clone()),
                Checksum::Missing(why) => Said::Failing(format!("table missing ({why})")),
                Checksum::Error(why) => Said::NoAnswer(why.clone()),
            };
            (host.clone(), said)
        })
        .collect();
    consistency::judge(&format!("checksum of table {table}"), group, &answers)
}

async fn checksum_of(h: Arc<HostHandle>, quoted: String, until: Instant) -> (String, Checksum) {
    let name = h.host.name.clone();
    let result = match crate::probes::mysql::session(&h)
        .query(&h.host, &format!("CHECKSUM TABLE {quoted}"), until)
        .await
    {
        Err(e) => Checksum::Error(e.to_string()),
        Ok(rows) => match parse::parse_checksum(&rows) {
            Err(e) => Checksum::Error(e),
            Ok(Some(sum)) => Checksum::Value(sum),
            Ok(None) => {
                let warning = crate::probes::mysql::session(&h)
                    .query(&h.host, "SHOW WARNINGS", until)
                    .await
                    .ok();
                let message = warning
                    .as_ref()
                    .and_then(|w| w.row(0))
                    .and_then(|r| r.field(&["Message"]).flatten().map(str::to_string));
                Checksum::Missing(message.unwrap_or_else(|| "CHECKSUM TABLE returned NULL".into()))
            }
        },
    };
    (name, result)
}

fn table_same(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let quoted = parse::quote_table(a.get(0)).map_err(StepError::Other)?;
        let hosts = ctx.pool.select(a.get(1)).map_err(StepError::Other)?;
        let until = deadline(ctx);
        let results = futures::future::join_all(hosts.into_iter().map(|h| checksum_of(h, quoted.clone(), until))).await;
        judge_checksums(a.get(0), a.get(1), &results)
    })
}

#[cfg(test)]
#[path = "mysql_tests.rs"]
mod tests;
