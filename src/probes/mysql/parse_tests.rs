use super::*;

fn fixture(name: &str) -> TextRows {
    let path = format!("{}/fixtures/captured/mysql/{name}", env!("CARGO_MANIFEST_DIR"));
    parse_vertical(&std::fs::read_to_string(&path).expect("fixture exists"))
}

fn status(name: &str) -> Option<ReplicaStatus> {
    parse_replica_status(&fixture(name)).expect("parses")
}

#[test]
fn mariadb_healthy_replica_under_both_statements() {
    for name in [
        "mariadb-10.11-slave-status-healthy.txt",
        "mariadb-10.11-replica-status-healthy.txt",
    ] {
        let s = status(name).expect("a replica");
        assert!(s.is_running(), "{name}: {s:?}");
        assert_eq!(s.seconds_behind, Some(0));
        assert_eq!((s.source_host.as_str(), s.source_port), ("127.0.0.1", 33401));
        assert_eq!(s.io_state, "Waiting for master to send event");
    }
}

#[test]
fn mariadb_sql_thread_stopped_has_unknown_lag() {
    let s = status("mariadb-10.11-slave-status-sql-stopped.txt").expect("a replica");
    assert!(!s.is_running());
    assert_eq!((s.io_running.as_str(), s.sql_running.as_str()), ("Yes", "No"));
    assert_eq!(s.seconds_behind, None);
    assert_eq!(
        s.describe(),
        "IO thread Yes (Waiting for master to send event), SQL thread No"
    );
}

#[test]
fn mariadb_io_error_is_quoted() {
    let s = status("mariadb-10.11-slave-status-io-error.txt").expect("a replica");
    assert!(!s.is_running());
    assert_eq!(s.io_running, "Connecting");
    let (code, message) = s.last_io_error.clone().expect("an IO error");
    assert_eq!(code, 1045);
    assert!(message.contains("Access denied for user 'repl'"), "{message}");
    assert!(
        s.describe()
            .contains("last IO error 1045: \"error connecting to master"),
        "{}",
        s.describe()
    );
    assert_eq!(s.last_sql_error, None);
}

#[test]
fn primary_is_not_a_replica() {
    assert_eq!(status("mariadb-10.11-slave-status-primary.txt"), None);
}

#[test]
fn mysql8_names_are_read() {
    let s = status("mysql-8.0-replica-status-healthy.txt").expect("a replica");
    assert!(s.is_running());
    assert_eq!(s.seconds_behind, Some(3));
    assert_eq!((s.source_host.as_str(), s.source_port), ("db1.example.net", 3306));
    assert_eq!(s.sql_state, "Replica has read all relay log; waiting for more updates");

    let s = status("mysql-8.0-replica-status-sql-error.txt").expect("a replica");
    assert!(!s.is_running());
    assert_eq!(s.seconds_behind, None);
    let (code, message) = s.last_sql_error.clone().expect("an SQL error");
    assert_eq!(code, 1062);
    assert!(message.contains("Duplicate entry '43'"));
    assert!(
        s.describe()
            .starts_with("IO thread Yes (Waiting for source to send event), SQL thread No; last SQL error 1062:")
    );
}

#[test]
fn missing_columns_are_named() {
    let rows = TextRows {
        columns: vec!["Slave_IO_Running".into()],
        rows: vec![vec![Some("Yes".into())]],
    };
    let err = parse_replica_status(&rows).unwrap_err();
    assert!(err.starts_with("the replica status has no column "), "{err}");
}

#[test]
fn versions_choose_the_statement() {
    let maria = parse_version("10.11.19-MariaDB-0+deb12u1-log");
    assert!(maria.mariadb);
    assert_eq!(maria.number, (10, 11, 19));
    assert_eq!(replica_status_statement(&maria), "SHOW SLAVE STATUS");
    assert_eq!(
        replica_status_statement(&parse_version("8.0.36")),
        "SHOW REPLICA STATUS"
    );
    assert_eq!(replica_status_statement(&parse_version("8.4.0")), "SHOW REPLICA STATUS");
    assert_eq!(replica_status_statement(&parse_version("8.0.21")), "SHOW SLAVE STATUS");
    assert_eq!(
        replica_status_statement(&parse_version("5.7.44-log")),
        "SHOW SLAVE STATUS"
    );
    assert_eq!(parse_version("5.5.5-10.6.12-MariaDB").number, (10, 6, 12));
}

#[test]
fn status_and_variables_by_exact_name() {
    assert_eq!(
        parse_named_value(&fixture("mariadb-10.11-status-threads.txt"), "Threads_connected"),
        Some(Some("2"))
    );
    assert_eq!(
        parse_named_value(&fixture("mariadb-10.11-variables-read-only.txt"), "read_only"),
        Some(Some("ON"))
    );
    // LIKE 'read_only' also matches read0only: only the exact name counts.
    assert_eq!(
        parse_named_value(&fixture("mariadb-10.11-variables-read-only.txt"), "read0only"),
        None
    );
}

#[test]
fn checksums_and_missing_tables() {
    let rows = fixture("mariadb-10.11-checksum.txt");
    assert_eq!(parse_checksum(&rows), Ok(Some("3833609889".into())));
    let missing = TextRows {
        columns: rows.columns.clone(),
        rows: vec![rows.rows[1].clone()],
    };
    assert_eq!(parse_checksum(&missing), Ok(None));
    assert!(parse_checksum(&TextRows::default()).is_err());
}

#[test]
fn first_value_and_null() {
    let rows = TextRows {
        columns: vec!["a".into()],
        rows: vec![vec![None]],
    };
    assert_eq!(rows.first_value(), Some(None));
    assert_eq!(TextRows::default().first_value(), None);
}

#[test]
fn table_names_are_quoted() {
    assert_eq!(quote_table("app.users").unwrap(), "`app`.`users`");
    assert_eq!(quote_table("users").unwrap(), "`users`");
    assert_eq!(quote_table("app.us`ers").unwrap(), "`app`.`us``ers`");
    assert!(quote_table("a.b.c").is_err());
    assert!(quote_table("app.").is_err());
    assert!(quote_table("").is_err());
}

#[test]
fn one_statement_only() {
    for ok in [
        "SELECT 1",
        "SELECT 1;",
        "SELECT 1 ;  \n",
        "SELECT ';' FROM t",
        "SELECT \"a;b\", `c;d` FROM t",
        "SELECT 'it\\'s; here'",
        "SELECT 'it''s; here'",
        "SELECT 1 -- trailing; comment\n",
        "SELECT 1 # hash; comment",
        "SELECT /* inline; */ 1",
    ] {
        assert_eq!(single_statement(ok), Ok(()), "{ok}");
    }
    for bad in [
        "SELECT 1; DELETE FROM t",
        "SELECT 1 /*!; DELETE FROM t */",
        "SELECT 1;--\nDROP TABLE t",
        "",
        "  ;",
        "-- nothing",
    ] {
        assert!(single_statement(bad).is_err(), "{bad}");
    }
}

#[test]
fn reading_statements() {
    for sql in [
        "SELECT 1",
        " select 1",
        "SHOW TABLES",
        "(SELECT 1)",
        "WITH a AS (SELECT 1) SELECT * FROM a",
        "CHECKSUM TABLE t",
    ] {
        assert!(reads_only(sql), "{sql}");
    }
    for sql in [
        "SET SESSION TRANSACTION READ WRITE",
        "INSERT INTO t VALUES (1)",
        "START TRANSACTION READ WRITE",
        "DO 1",
    ] {
        assert!(!reads_only(sql), "{sql}");
    }
}
