use super::*;
use crate::probes::mysql::parse::parse_vertical;

fn status(name: &str) -> ReplicaStatus {
    let path = format!("{}/fixtures/captured/mysql/{name}", env!("CARGO_MANIFEST_DIR"));
    let rows = parse_vertical(&std::fs::read_to_string(path).expect("fixture"));
    parse::parse_replica_status(&rows).expect("parses").expect("a replica")
}

#[test]
fn running_passes_and_fails_with_the_states() {
    assert!(judge_running(&status("mariadb-10.11-slave-status-healthy.txt")).passed);
    assert!(judge_running(&status("mysql-8.0-replica-status-healthy.txt")).passed);
    let o = judge_running(&status("mariadb-10.11-slave-status-sql-stopped.txt"));
    assert!(!o.passed);
    assert_eq!(
        o.found,
        "IO thread Yes (Waiting for master to send event), SQL thread No"
    );
    let o = judge_running(&status("mysql-8.0-replica-status-sql-error.txt"));
    assert!(!o.passed);
    assert!(
        o.found
            .contains("last SQL error 1062: \"Could not execute Write_rows event"),
        "{}",
        o.found
    );
    let o = judge_running(&status("mariadb-10.11-slave-status-io-error.txt"));
    assert!(
        o.found
            .starts_with("IO thread Connecting (Connecting to master), SQL thread Yes"),
        "{}",
        o.found
    );
    assert!(o.found.contains("last IO error 1045"), "{}", o.found);
}

#[test]
fn lag_is_measured_and_null_lag_fails() {
    let o = judge_lag(&status("mysql-8.0-replica-status-healthy.txt"), 5);
    assert!(o.passed);
    assert_eq!(o.found, "3 s behind");
    assert_eq!(o.measured[0].label, "replication lag");
    assert_eq!(
        (o.measured[0].value, o.measured[0].unit.as_str(), o.measured[0].crit),
        (3.0, "s", Some(crate::steps::Range::under(5.0, true)))
    );
    assert!(!judge_lag(&status("mysql-8.0-replica-status-healthy.txt"), 3).passed);
    let o = judge_lag(&status("mariadb-10.11-slave-status-sql-stopped.txt"), 5);
    assert!(!o.passed);
    assert!(
        o.found.starts_with("lag unknown: SQL thread not running"),
        "{}",
        o.found
    );
    assert!(o.measured.is_empty());
}

#[test]
fn source_matches_name_address_and_port() {
    let s = status("mariadb-10.11-slave-status-healthy.txt");
    let spec = SourceSpec {
        names: vec!["db1".into(), "127.0.0.1".into()],
        port: 33401,
    };
    assert!(judge_source(&s, "db1", &spec).passed);
    let wrong_port = SourceSpec {
        port: 3306,
        ..spec.clone()
    };
    let o = judge_source(&s, "db1", &wrong_port);
    assert!(!o.passed);
    assert_eq!(o.found, "replicating from 127.0.0.1:33401");
    let other = SourceSpec {
        names: vec!["db3".into(), "10.77.0.33".into()],
        port: 33401,
    };
    assert!(!judge_source(&s, "db3", &other).passed);
    let by_name = status("mysql-8.0-replica-status-healthy.txt");
    let spec = SourceSpec {
        names: vec!["DB1.example.net".into()],
        port: 3306,
    };
    assert!(judge_source(&by_name, "db1.example.net", &spec).passed);
}

#[test]
fn values_and_null() {
    let rows = TextRows {
        columns: vec!["n".into()],
        rows: vec![vec![Some("42".into())]],
    };
    assert!(judge_value("q", &rows, "42").passed);
    let o = judge_value("q", &rows, "41");
    assert_eq!((o.passed, o.found.as_str()), (false, "\"42\""));
    let null = TextRows {
        columns: vec!["n".into()],
        rows: vec![vec![None]],
    };
    assert!(judge_value("q", &null, "NULL").passed);
    let o = judge_value("q", &TextRows::default(), "42");
    assert_eq!((o.passed, o.found.as_str()), (false, "no rows"));
}

#[test]
fn variables_compare_booleans_by_meaning() {
    assert!(judge_variable("read_only", Some(Some("ON")), "ON").passed);
    assert!(judge_variable("read_only", Some(Some("ON")), "1").passed);
    assert!(judge_variable("read_only", Some(Some("OFF")), "off").passed);
    assert!(!judge_variable("read_only", Some(Some("OFF")), "ON").passed);
    assert!(!judge_variable("max_connections", Some(Some("151")), "150").passed);
    let o = judge_variable("nope", None, "1");
    assert_eq!(o.found, "no global variable named nope");
}

#[test]
fn checksums_name_the_odd_ones_out() {
    let v = |s: &str| Checksum::Value(s.into());
    let found = |o: StepOutput| o.expect("checked").found;
    let same = [("db1".to_string(), v("11")), ("db2".to_string(), v("11"))];
    assert!(judge_checksums("app.users", "db", &same).unwrap().passed);

    let odd = [
        ("db1".to_string(), v("11")),
        ("db2".to_string(), v("22")),
        ("db3".to_string(), v("11")),
    ];
    let o = judge_checksums("app.users", "db", &odd).unwrap();
    assert!(!o.passed);
    assert_eq!(o.found, "db1, db3: \"11\"; db2: \"22\"; odd one out: db2");

    // Two hosts that differ: both values, neither blamed.
    let two = [("db1".to_string(), v("11")), ("db2".to_string(), v("22"))];
    assert_eq!(
        found(judge_checksums("app.users", "db", &two)),
        "db1: \"11\"; db2: \"22\"; no majority"
    );

    let missing = [
        ("db1".to_string(), v("11")),
        (
            "db2".to_string(),
            Checksum::Missing("Table 'app.users' doesn't exist".into()),
        ),
    ];
    assert_eq!(
        found(judge_checksums("app.users", "db", &missing)),
        "db1: \"11\"; db2: table missing (Table 'app.users' doesn't exist); no majority"
    );

    // MySQL unreachable: could not check, not "different".
    let error = [
        ("db1".to_string(), Checksum::Error("cannot connect".into())),
        ("db2".to_string(), v("11")),
    ];
    assert_eq!(
        judge_checksums("t", "db", &error).unwrap_err().to_string(),
        "db1 could not be asked (cannot connect); db2 answered: \"11\""
    );
    let both = [
        ("db1".to_string(), Checksum::Error("cannot connect".into())),
        ("db2".to_string(), Checksum::Error("access denied".into())),
    ];
    assert_eq!(
        judge_checksums("t", "db", &both).unwrap_err().to_string(),
        "no host of group db could be asked: db1: cannot connect; db2: access denied"
    );
}

#[test]
fn lint_checks() {
    assert!(check_query(&["SELECT 1; DROP TABLE t".into()]).is_err());
    assert!(check_query(&["SELECT 1".into(), "1".into()]).is_ok());
    assert!(check_variable(&["read_only".into()]).is_ok());
    assert!(check_variable(&["read_only'; --".into()]).is_err());
    assert!(check_table(&["app.users".into()]).is_ok());
    assert!(check_table(&["a.b.c".into()]).is_err());
}
