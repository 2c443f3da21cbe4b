//! Probe tests: fast failures without a server, and a throwaway MariaDB of our own on
//! 127.0.0.1 (skipped when `mariadbd` is not installed; the lab tests cover the real hosts).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant as StdInstant};

use super::*;
use crate::inventory::{Host, MysqlSettings, Secret, SslMode};

fn host(port: u16, password: &str, connect_timeout: Duration) -> Host {
    let mut h = Host::local("db9");
    h.mysql = Some(MysqlSettings {
        host: None,
        port,
        user: "monitor".into(),
        password: Some(Secret::new(password.into())),
        ssl_mode: SslMode::Preferred,
        ca_file: None,
        connect_timeout,
        database: None,
    });
    h
}

fn soon(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

#[tokio::test]
async fn refused_fails_fast_and_is_remembered() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let h = host(port, "pw-refused-1", Duration::from_secs(5));
    let cache = MysqlCache::default();
    let start = StdInstant::now();
    let err = cache.query(&h, "SELECT 1", soon(10)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot connect to MySQL on db9 (127.0.0.1:{port}): connection refused")
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    // Remembered: the next step fails at once with the same words.
    assert_eq!(cache.ping(&h, soon(10)).await.unwrap_err(), err);
}

#[tokio::test]
async fn silent_server_times_out_at_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let h = host(port, "pw-silent-1", Duration::from_millis(300));
    let start = StdInstant::now();
    let err = MysqlCache::default().query(&h, "SELECT 1", soon(10)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot connect to MySQL on db9 (127.0.0.1:{port}): no answer within 300ms (connect timeout)")
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    // A step deadline shorter than the connect timeout wins, and says so.
    let h = host(port, "pw-silent-1", Duration::from_secs(30));
    let err = MysqlCache::default()
        .query(&h, "SELECT 1", Instant::now() + Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(err.to_string().ends_with("(step timeout)"), "{err}");
}

#[test]
fn no_settings_says_what_to_add() {
    let err = settings(&Host::local("db7")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "db7 has no MySQL settings: add a [hosts.db7.mysql] table (user, password_env) to the inventory"
    );
}

/// A MariaDB server of our own in a temporary datadir, killed on drop.
struct LocalServer {
    child: Child,
    port: u16,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl LocalServer {
    fn start() -> Option<Self> {
        if Command::new("mariadbd")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            eprintln!("skipped: no mariadbd");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let ok = Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", data.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("mariadb-install-db runs");
        assert!(ok.success(), "mariadb-install-db");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let socket = dir.path().join("s.sock");
        let child = Command::new("mariadbd")
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                "--skip-log-bin",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd starts");
        let server = LocalServer {
            child,
            port,
            socket,
            _dir: dir,
        };
        let start = StdInstant::now();
        while !server.root("SELECT 1") {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "local mariadbd did not come up"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(server)
    }

    fn root(&self, sql: &str) -> bool {
        Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-S"])
            .arg(&self.socket)
            .args(["-e", sql])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SETUP: &str = "CREATE USER 'monitor'@'%' IDENTIFIED BY 'pw-canary-4c1d';
GRANT ALL ON app.* TO 'monitor'@'%';
GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'monitor'@'%';
DELETE FROM mysql.global_priv WHERE User='';
FLUSH PRIVILEGES;
CREATE DATABASE app;
CREATE TABLE app.users (id INT PRIMARY KEY, note VARCHAR(20) NULL);
INSERT INTO app.users VALUES (1, NULL), (2, 'b'), (3, 'c');";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_local_mariadb() {
    let Some(server) = tokio::task::spawn_blocking(LocalServer::start).await.expect("start") else {
        return;
    };
    assert!(server.root(SETUP), "setup");
    let h = host(server.port, "pw-canary-4c1d", Duration::from_secs(5));
    let cache = MysqlCache::default();

    let info = cache.ping(&h, soon(10)).await.expect("accepting");
    assert!(info.version.mariadb, "{info:?}");
    assert_eq!(info.endpoint, format!("127.0.0.1:{}", server.port));

    let rows = cache
        .query(&h, "SELECT COUNT(*) FROM app.users", soon(10))
        .await
        .expect("count");
    assert_eq!(rows.first_value(), Some(Some("3")));
    let rows = cache
        .query(&h, "SELECT note, id FROM app.users ORDER BY id", soon(10))
        .await
        .expect("rows");
    assert_eq!(rows.columns, ["note", "id"]);
    assert_eq!(rows.first_value(), Some(None));
    assert_eq!(rows.rows.len(), 3);

    // Writes are refused by the read-only session, even with the privilege to write.
    let err = cache
        .query(&h, "INSERT INTO app.users VALUES (4, 'd')", soon(10))
        .await
        .unwrap_err();
    assert!(matches!(&err, MysqlError::Server { code: 1792, .. }), "{err}");
    // A statement that makes the session writable costs the session: the next is fresh.
    cache
        .query(&h, "SET SESSION TRANSACTION READ WRITE", soon(10))
        .await
        .expect("set");
    let err = cache.query(&h, "DELETE FROM app.users", soon(10)).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("MySQL error 1792 (25006): Cannot execute statement in a READ ONLY transaction"),
        "{err}"
    );

    // A missing table: NULL checksum; a failing query: the server's code and message.
    let rows = cache
        .query(&h, "CHECKSUM TABLE `app`.`nope`", soon(10))
        .await
        .expect("checksum");
    assert_eq!(parse::parse_checksum(&rows), Ok(None));
    let err = cache.query(&h, "SELECT * FROM app.nope", soon(10)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "MySQL error 1146 (42S02): Table 'app.nope' doesn't exist"
    );

    // Not a replica: the status is empty.
    let statement = parse::replica_status_statement(&cache.version(&h, soon(10)).await.expect("version"));
    let rows = cache.query(&h, statement, soon(10)).await.expect("status");
    assert_eq!(parse::parse_replica_status(&rows), Ok(None));

    // TLS: the server offers none; preferred fell back to plain TCP, required says so.
    let mut tls = host(server.port, "pw-canary-4c1d", Duration::from_secs(5));
    if let Some(m) = tls.mysql.as_mut() {
        m.ssl_mode = SslMode::Required;
    }
    let err = MysqlCache::default().ping(&tls, soon(10)).await.unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the server does not offer TLS (ssl_mode requires it)"),
        "{err}"
    );

    // A wrong password: the server's words, never the password.
    let wrong = host(server.port, "pw-wrong-canary-77e1", Duration::from_secs(5));
    let err = MysqlCache::default()
        .ping(&wrong, soon(10))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("error 1045 (28000): Access denied for user 'monitor'@'localhost' (using password: YES)"),
        "{err}"
    );
    assert!(!err.contains("pw-wrong-canary-77e1"));

    cache.close().await;
    assert!(cache.query(&h, "SELECT 1", soon(10)).await.is_err());
}
