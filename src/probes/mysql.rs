//! MySQL/MariaDB probe: one read-only session per host per run, opened lazily from the
//! host's `mysql` inventory settings, speaking the protocol directly from the machine running
//! shakedown (no client on the target, no password on any command line). Every connect and
//! every query is bounded by a deadline (`mysql_async` has no timeouts of its own). What the
//! server answers is read by the pure functions of [`parse`].

pub(crate) mod parse;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, DriverError, IoError, Opts, OptsBuilder, SslOpts, Value};
use tokio::time::{Instant, timeout};

use crate::inventory::{Host, MysqlSettings, SslMode};
use parse::{ServerVersion, TextRows};

/// Why a MySQL probe could not get an answer. Texts never contain the password (the server
/// never echoes it, and every text also goes through `secret::redact`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum MysqlError {
    /// The host has no `mysql` table in the inventory.
    #[error("{0} has no MySQL settings: add a [hosts.{0}.mysql] table (user, password_env) to the inventory")]
    NoSettings(String),
    /// The connection (or the read-only session setup) failed; remembered for the run.
    #[error("cannot connect to MySQL on {host} ({endpoint}): {why}")]
    Connect {
        /// Inventory name.
        host: String,
        /// `address:port`.
        endpoint: String,
        /// What went wrong, in words.
        why: String,
    },
    /// The server refused a statement.
    #[error("MySQL error {code} ({state}): {message}")]
    Server {
        /// Server error code (1146).
        code: u16,
        /// SQLSTATE (42S02).
        state: String,
        /// The server's message.
        message: String,
    },
    /// The connection broke, or the deadline passed, during a statement.
    #[error("MySQL on {host} ({endpoint}): {why}")]
    Lost {
        /// Inventory name.
        host: String,
        /// `address:port`.
        endpoint: String,
        /// What happened.
        why: String,
    },
}

/// An open session and what we learnt when opening it.
struct Session {
    conn: Conn,
    version: ServerVersion,
}

#[derive(Default)]
enum State {
    /// Not connected yet (or the last session was discarded).
    #[default]
    Idle,
    Open(Session),
    /// The connect failed: every later step on this host fails at once with the same error.
    Failed(MysqlError),
    /// The run is over.
    Closed,
}

/// Per-host MySQL connection cache, one per host per run: the session is opened by the
/// first MySQL step on the host and reused by every later one.
#[derive(Default)]
pub(crate) struct MysqlCache {
    state: tokio::sync::Mutex<State>,
}

impl std::fmt::Debug for MysqlCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MysqlCache")
    }
}

/// The server a session is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerInfo {
    /// `VERSION()`.
    pub version: ServerVersion,
    /// `address:port` connected to.
    pub endpoint: String,
}

/// The MySQL settings of a host, or the error saying to add them.
pub(crate) fn settings(host: &Host) -> Result<&MysqlSettings, MysqlError> {
    host.mysql
        .as_ref()
        .ok_or_else(|| MysqlError::NoSettings(host.name.clone()))
}

/// `address:port` of a host's MySQL server.
pub(crate) fn endpoint(host: &Host) -> String {
    let (address, port) = match &host.mysql {
        Some(s) => (s.host.clone().unwrap_or_else(|| host.address.clone()), s.port),
        None => (host.address.clone(), 3306),
    };
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

/// The host's MySQL session, opened on first use and kept for the run (closed with the pool).
pub(crate) fn session(host: &crate::host::HostHandle) -> std::sync::Arc<MysqlCache> {
    host.run_scope.get::<MysqlCache>()
}

impl crate::host::Resource for MysqlCache {
    fn close(&self) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(MysqlCache::close(self))
    }
}

impl MysqlCache {
    /// Runs one statement and returns its first result set as text. A statement that is not
    /// a plain read ([`parse::reads_only`]) may have changed the session, so the session is
    /// discarded after it and the next step gets a fresh read-only one.
    pub(crate) async fn query(&self, host: &Host, sql: &str, deadline: Instant) -> Result<TextRows, MysqlError> {
        self.query_with(host, sql, &[], deadline).await
    }

    /// As [`query`](Self::query), with the statement's `?` markers bound to `params` (a
    /// prepared statement, used by step packs): a value never becomes SQL text.
    pub(crate) async fn query_with(
        &self,
        host: &Host,
        sql: &str,
        params: &[String],
        deadline: Instant,
    ) -> Result<TextRows, MysqlError> {
        let mut state = self.state.lock().await;
        let mut session = take_session(&mut state, host, deadline).await?;
        let statement = async {
            if params.is_empty() {
                text_query(&mut session.conn, sql).await
            } else {
                let values: Vec<Value> = params.iter().map(|p| Value::from(p.as_str())).collect();
                let result = session.conn.exec_iter(sql, values).await?;
                read_rows(result).await
            }
        };
        let result = timeout(deadline.saturating_duration_since(Instant::now()), statement).await;
        match result {
            Ok(Ok(rows)) => {
                if parse::reads_only(sql) {
                    *state = State::Open(session);
                } else {
                    drop_session(session);
                }
                Ok(rows)
            }
            Ok(Err(mysql_async::Error::Server(e))) => {
                *state = State::Open(session);
                Err(MysqlError::Server {
                    code: e.code,
                    state: e.state,
                    message: redact(&e.message),
                })
            }
            Ok(Err(e)) => Err(lost(host, format!("connection lost: {}", describe(&e)))),
            Err(_) => Err(lost(
                host,
                "no answer before the step deadline (the session was closed)".into(),
            )),
        }
    }

    /// The server's version (opening the session if needed).
    pub(crate) async fn version(&self, host: &Host, deadline: Instant) -> Result<ServerVersion, MysqlError> {
        let mut state = self.state.lock().await;
        let session = take_session(&mut state, host, deadline).await?;
        let version = session.version.clone();
        *state = State::Open(session);
        Ok(version)
    }

    /// Checks that the server answers: pings the open session, or opens a new one when there
    /// is none or the old one no longer answers.
    pub(crate) async fn ping(&self, host: &Host, deadline: Instant) -> Result<ServerInfo, MysqlError> {
        let mut state = self.state.lock().await;
        let mut session = take_session(&mut state, host, deadline).await?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        if !matches!(timeout(remaining, session.conn.ping()).await, Ok(Ok(()))) {
            drop_session(session);
            session = take_session(&mut state, host, deadline).await?;
        }
        let info = ServerInfo {
            version: session.version.clone(),
            endpoint: endpoint(host),
        };
        *state = State::Open(session);
        Ok(info)
    }

    /// Forgets a failed connect so that the next step connects again: a retry's steps do,
    /// since the server may have come up meanwhile. A session in use is left alone.
    pub(crate) async fn forget_failure(&self) {
        if let Ok(mut state) = self.state.try_lock()
            && matches!(*state, State::Failed(_))
        {
            *state = State::Idle;
        }
    }

    /// Closes the session at the end of the run (bounded to one second).
    pub(crate) async fn close(&self) {
        let old = std::mem::replace(&mut *self.state.lock().await, State::Closed);
        if let State::Open(session) = old {
            let _ = timeout(Duration::from_secs(1), session.conn.disconnect()).await;
        }
    }
}

fn lost(host: &Host, why: String) -> MysqlError {
    MysqlError::Lost {
        host: host.name.clone(),
        endpoint: endpoint(host),
        why: redact(&why),
    }
}

fn redact(text: &str) -> String {
    crate::inventory::secret::redact(text)
}

/// Takes the open session out of `state` (so a step cancelled mid-query leaves `Idle`
/// behind, never a half-read connection), connecting first when there is none.
async fn take_session(state: &mut State, host: &Host, deadline: Instant) -> Result<Session, MysqlError> {
    match std::mem::take(state) {
        State::Open(session) => Ok(session),
        State::Failed(e) => {
            *state = State::Failed(e.clone());
            Err(e)
        }
        State::Closed => {
            *state = State::Closed;
            Err(lost(host, "the run is over".into()))
        }
        State::Idle => match connect(host, deadline).await {
            Ok(session) => Ok(session),
            Err(e) => {
                *state = State::Failed(e.clone());
                Err(e)
            }
        },
    }
}

/// Closes a session we no longer trust, without waiting for it.
fn drop_session(session: Session) {
    tokio::spawn(async move {
        let _ = timeout(Duration::from_secs(1), session.conn.disconnect()).await;
    });
}

/// Opens a session: TCP (never the unix socket), TLS as `ssl_mode` says, then
/// `SET SESSION TRANSACTION READ ONLY` and `SELECT VERSION()`, all within the connect
/// timeout (and the step deadline).
async fn connect(host: &Host, deadline: Instant) -> Result<Session, MysqlError> {
    let s = settings(host)?;
    let fail = |why: String| MysqlError::Connect {
        host: host.name.clone(),
        endpoint: endpoint(host),
        why: redact(&why),
    };
    let limit = s
        .connect_timeout
        .min(deadline.saturating_duration_since(Instant::now()));
    let until = Instant::now() + limit;
    let opened = timeout(limit, async {
        let mut conn = open(host, s).await?;
        conn.query_drop("SET SESSION TRANSACTION READ ONLY").await?;
        let version: Option<String> = conn.query_first("SELECT VERSION()").await?;
        Ok::<_, mysql_async::Error>((conn, version.unwrap_or_default()))
    })
    .await;
    match opened {
        Ok(Ok((conn, version))) => Ok(Session {
            conn,
            version: parse::parse_version(&version),
        }),
        Ok(Err(e)) => Err(fail(describe(&e))),
        Err(_) if until < deadline => Err(fail(format!(
            "no answer within {} (connect timeout)",
            humantime::format_duration(limit)
        ))),
        Err(_) => Err(fail(format!(
            "no answer within {} (step timeout)",
            humantime::format_duration(limit)
        ))),
    }
}

/// Connects with TLS per `ssl_mode`; `preferred` falls back to plain TCP when the server
/// offers no TLS.
async fn open(host: &Host, s: &MysqlSettings) -> Result<Conn, mysql_async::Error> {
    let tls = tls_options(s);
    match (s.ssl_mode, Conn::new(options(host, s, tls)).await) {
        (SslMode::Preferred, Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer))) => {
            Conn::new(options(host, s, None)).await
        }
        (_, result) => result,
    }
}

fn tls_options(s: &MysqlSettings) -> Option<SslOpts> {
    let with_ca = |o: SslOpts| match &s.ca_file {
        Some(ca) => o.with_root_certs(vec![ca.clone().into()]),
        None => o,
    };
    match s.ssl_mode {
        SslMode::Disabled => None,
        // As the mysql client: preferred and required encrypt without checking the
        // certificate, unless a CA file is given (then the chain is checked, not the name).
        SslMode::Preferred | SslMode::Required => Some(match &s.ca_file {
            Some(_) => with_ca(SslOpts::default()).with_danger_skip_domain_validation(true),
            None => SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        }),
        SslMode::VerifyIdentity => Some(with_ca(SslOpts::default())),
    }
}

fn options(host: &Host, s: &MysqlSettings, tls: Option<SslOpts>) -> Opts {
    OptsBuilder::default()
        .ip_or_hostname(s.host.clone().unwrap_or_else(|| host.address.clone()))
        .tcp_port(s.port)
        .user(Some(s.user.clone()))
        .pass(s.password.as_ref().map(|p| p.expose().to_string()))
        .db_name(s.database.clone())
        .prefer_socket(false)
        .ssl_opts(tls)
        .into()
}

/// Runs one text-protocol statement and reads its first result set.
async fn text_query(conn: &mut Conn, sql: &str) -> Result<TextRows, mysql_async::Error> {
    let result = conn.query_iter(sql).await?;
    read_rows(result).await
}

/// Reads the first result set of a statement (text or binary protocol) as text.
async fn read_rows<P: mysql_async::prelude::Protocol>(
    result: mysql_async::QueryResult<'_, 'static, P>,
) -> Result<TextRows, mysql_async::Error> {
    let columns = result
        .columns()
        .map(|cols| cols.iter().map(|c| c.name_str().into_owned()).collect())
        .unwrap_or_default();
    let rows: Vec<mysql_async::Row> = result.collect_and_drop().await?;
    let rows = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| text(row.get_opt::<Value, usize>(i))).collect())
        .collect();
    Ok(TextRows { columns, rows })
}

/// A value as the mysql client prints it; `None` for NULL.
fn text(value: Option<Result<Value, mysql_async::FromValueError>>) -> Option<String> {
    match value? {
        Ok(Value::NULL) => None,
        Ok(Value::Bytes(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
        Ok(Value::Int(i)) => Some(i.to_string()),
        Ok(Value::UInt(u)) => Some(u.to_string()),
        Ok(Value::Float(f)) => Some(f.to_string()),
        Ok(Value::Double(f)) => Some(f.to_string()),
        Ok(other) => Some(other.as_sql(true).trim_matches('\'').to_string()),
        Err(e) => Some(format!("{:?}", e.0)),
    }
}

/// An error in words an operator reads: `connection refused`, `error 1045 (28000): Access
/// denied for user ...`.
fn describe(e: &mysql_async::Error) -> String {
    use std::io::ErrorKind;
    match e {
        mysql_async::Error::Io(IoError::Io(io)) => match io.kind() {
            ErrorKind::ConnectionRefused => "connection refused".into(),
            ErrorKind::ConnectionReset => "connection reset by the server".into(),
            ErrorKind::HostUnreachable => "host unreachable".into(),
            ErrorKind::NetworkUnreachable => "network unreachable".into(),
            ErrorKind::TimedOut => "timed out".into(),
            ErrorKind::UnexpectedEof => "the server closed the connection".into(),
            _ => io.to_string(),
        },
        mysql_async::Error::Io(IoError::Tls(tls)) => format!("TLS: {tls}"),
        mysql_async::Error::Server(s) => format!("error {} ({}): {}", s.code, s.state, s.message),
        mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer) => {
            "the server does not offer TLS (ssl_mode requires it)".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
