//! Database: the MySQL steps against the lab's MariaDB primary (db1) and replica (db2),
//! both directions: the database suite passes on a healthy lab; a stopped SQL thread, a
//! real replication delay, a row changed on the replica, a table missing on one host, a
//! stopped server, a wrong port and a wrong password each fail on the right host, for the
//! right reason, quickly, and never show the password.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{Lab, Repair, Run, lab, suite, wait_until};

/// `Seconds_Behind_Master` of db2 as root sees it (`None` for NULL).
fn seconds_behind(lab: &Lab) -> Option<u64> {
    lab.exec(
        "db2",
        "mariadb -e 'SHOW SLAVE STATUS\\G' | sed -n 's/^ *Seconds_Behind_Master: //p'",
    )
    .trim()
    .parse()
    .ok()
}

/// Waits until db2 replicates again with both threads running and no lag (a test that
/// panicked may have left its repair running).
fn wait_replica_healthy(lab: &Lab) {
    wait_until("db2 replicating from db1, caught up", Duration::from_secs(60), || {
        let status = lab.exec("db2", "mariadb -e 'SHOW SLAVE STATUS\\G'");
        status.contains("Slave_IO_Running: Yes")
            && status.contains("Slave_SQL_Running: Yes")
            && seconds_behind(lab) == Some(0)
    });
}

/// Runs a temporary feature file against the lab inventory.
fn run_feature(lab: &Lab, feature: &str, extra: &[&str]) -> Run {
    let dir = suite(&[("db.feature", feature)]);
    let mut args = vec!["run", "db.feature", "--format", "pretty"];
    args.extend_from_slice(extra);
    lab.shakedown_in(dir.path(), &args)
}

#[test]
fn database_suite_passes_on_the_lab() {
    let Some(lab) = lab() else { return };
    wait_replica_healthy(&lab);
    lab.shakedown(&["run", "features/database.feature", "--format", "pretty"])
        .assert_exit(0)
        .assert_contains("6 scenarios (6 passed) on 2 hosts")
        .assert_contains("The replica is read-only and keeps up with the primary [db2]")
        .assert_contains("Every database server answers and holds the application's users [db1]");
}

const REPLICA: &str = "@hosts:replicas
Feature: Replica
  Scenario: Threads
    Then replication should be running
  Scenario: Lag
    Then replication should be less than 5 seconds behind
  Scenario: Source
    Then the replica should be replicating from \"db1\"
  Scenario: Not from db2
    Then the replica should be replicating from \"db2\"
";

#[test]
fn a_stopped_sql_thread_fails_running_and_lag_with_the_thread_states() {
    let Some(lab) = lab() else { return };
    wait_replica_healthy(&lab);
    {
        let _fault = Repair::inject(
            &lab,
            "db2",
            "mariadb -e 'STOP SLAVE SQL_THREAD'",
            "mariadb -e 'START SLAVE'",
        );
        let run = run_feature(&lab, REPLICA, &[]);
        run.assert_exit(1)
            .assert_contains("FAILED: Threads [db2]")
            .assert_contains("expected: replication running (IO and SQL threads Yes, no last error)")
            .assert_contains("found:    IO thread Yes (Waiting for master to send event), SQL thread No")
            .assert_contains("FAILED: Lag [db2]")
            .assert_contains("found:    lag unknown: SQL thread not running")
            .assert_contains("✓ Source [db2]")
            .assert_contains("found:    replicating from 10.77.0.31:3306")
            .assert_contains("4 scenarios (1 passed, 3 failed) on 1 host");
    }
    wait_replica_healthy(&lab);
    let run = run_feature(&lab, REPLICA, &[]);
    run.assert_exit(1)
        .assert_contains("4 scenarios (3 passed, 1 failed) on 1 host")
        .assert_contains("FAILED: Not from db2 [db2]");
}

#[test]
fn a_real_replication_delay_fails_the_lag_step_with_the_measured_lag() {
    let Some(lab) = lab() else { return };
    wait_replica_healthy(&lab);
    lab.exec(
        "db1",
        "mariadb -e 'CREATE TABLE IF NOT EXISTS app.shakedown_lag (id INT PRIMARY KEY, at DATETIME)'",
    );
    {
        let _delay = Repair::inject(
            &lab,
            "db2",
            "mariadb -e 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=60; START SLAVE'",
            "mariadb -e 'STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE'",
        );
        let _write = Repair::inject(
            &lab,
            "db1",
            "mariadb -e 'REPLACE INTO app.shakedown_lag VALUES (1, NOW())'",
            "mariadb -e 'DROP TABLE IF EXISTS app.shakedown_lag'",
        );
        wait_until("db2 at least 3 s behind", Duration::from_secs(30), || {
            seconds_behind(&lab).is_some_and(|s| s >= 3)
        });
        let feature = "@hosts:db2\nFeature: Lag\n  Scenario: Tight\n    Then replication should be less than 2 seconds behind\n  Scenario: Loose\n    Then replication should be less than 600 seconds behind\n    And replication should be running\n";
        let dir = suite(&[("db.feature", feature)]);
        let junit = dir.path().join("junit.xml");
        let run = lab.shakedown_in(
            dir.path(),
            &[
                "run",
                "db.feature",
                "--format",
                "pretty",
                "--junit",
                junit.to_str().expect("utf-8"),
            ],
        );
        run.assert_exit(1)
            .assert_contains("FAILED: Tight [db2]")
            .assert_contains("expected: replication less than 2 s behind")
            .assert_contains("✓ Loose [db2]")
            .assert_contains("2 scenarios (1 passed, 1 failed) on 1 host");
        let found = run
            .stdout
            .lines()
            .find(|l| l.contains("found:") && l.contains("s behind"))
            .expect("a found line")
            .to_string();
        let lag: u64 = found
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("lag in seconds");
        assert!((3..=60).contains(&lag), "{found}");
        let xml = std::fs::read_to_string(&junit).expect("junit written");
        assert!(xml.contains("replication lag"), "the lag is a measured value: {xml}");
    }
    wait_replica_healthy(&lab);
}

#[test]
fn a_row_changed_on_the_replica_fails_the_checksum_blaming_neither_host() {
    let Some(lab) = lab() else { return };
    wait_replica_healthy(&lab);
    let feature = "Feature: Same data\n  Scenario: Users\n    Then the table \"app.users\" should be the same on all hosts in group \"db\"\n";
    run_feature(&lab, feature, &[])
        .assert_exit(0)
        .assert_contains("1 scenario (1 passed)");
    {
        let _tamper = Repair::inject(
            &lab,
            "db2",
            "mariadb -e \"SET GLOBAL read_only=0; SET SESSION sql_log_bin=0; UPDATE app.users SET name='tampered' WHERE id=7; SET GLOBAL read_only=1\"",
            "mariadb -e \"SET GLOBAL read_only=0; SET SESSION sql_log_bin=0; UPDATE app.users SET name='user7' WHERE id=7; SET GLOBAL read_only=1\"",
        );
        let run = run_feature(&lab, feature, &[]);
        run.assert_exit(1)
            .assert_contains("expected: checksum of table app.users the same on all hosts in group db");
        // One against one: both values, and no host is named the odd one out.
        let found = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("found:"))
            .expect("found line");
        assert!(
            found.contains("found:    db1: \"") && found.contains("; db2: \"") && found.ends_with("; no majority"),
            "{found}"
        );
        assert!(!found.contains("different on") && !found.contains("odd one"), "{found}");
    }
    run_feature(&lab, feature, &[]).assert_exit(0);
}

#[test]
fn a_table_missing_on_one_host_is_named() {
    let Some(lab) = lab() else { return };
    let _only_db1 = Repair::inject(
        &lab,
        "db1",
        "mariadb -e 'SET SESSION sql_log_bin=0; CREATE TABLE app.only_db1 (id INT PRIMARY KEY)'",
        "mariadb -e 'SET SESSION sql_log_bin=0; DROP TABLE IF EXISTS app.only_db1'",
    );
    let feature = "Feature: Same data\n  Scenario: Only on db1\n    Then the table \"app.only_db1\" should be the same on all hosts in group \"db\"\n";
    run_feature(&lab, feature, &[])
        .assert_exit(1)
        .assert_contains("found:    db1: \"0\"; db2: table missing (Table 'app.only_db1' doesn't exist); no majority");
}

#[test]
fn mysql_unreachable_on_every_host_could_not_check_the_table() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[(
        "db.feature",
        "Feature: Same data\n  Scenario: Users\n    Then the table \"app.users\" should be the same on all hosts in group \"db\"\n",
    )]);
    let inv = lab.inventory();
    let run: Run = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .env("XDG_STATE_HOME", crate::util::state_home())
        .args([
            "run",
            "-i",
            inv.to_str().expect("utf-8"),
            "db.feature",
            "--format",
            "pretty",
        ])
        .args(["--junit", "junit.xml"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("SHAKEDOWN_MYSQL_PASSWORD", "not-the-password")
        .output()
        .expect("shakedown runs")
        .into();
    run.assert_exit(1).assert_contains(
        "error: no host of group db could be asked: db1: cannot connect to MySQL on db1 (10.77.0.31:3306): error 1045 (28000): Access denied",
    );
    assert!(
        run.stdout
            .contains("; db2: cannot connect to MySQL on db2 (10.77.0.32:3306): error 1045"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("different"), "{}", run.all());
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).expect("junit written");
    assert!(xml.contains("<error type=\"could not check\""), "{xml}");
}

#[test]
fn failing_queries_show_the_server_error_and_writes_are_refused() {
    let Some(lab) = lab() else { return };
    let feature = "@hosts:db1\nFeature: Queries\n  Scenario: Missing table\n    Then the query \"SELECT COUNT(*) FROM app.nope\" should return \"0\"\n  Scenario: A write\n    Then the query \"DELETE FROM app.users WHERE id = 1\" should return \"0\"\n  Scenario: Wrong count\n    Then the query \"SELECT COUNT(*) FROM app.users\" should return \"41\"\n  Scenario: NULL\n    Then the query \"SELECT NULL\" should return \"NULL\"\n  Scenario: Too few rows\n    Then the query \"SELECT id FROM app.users WHERE id > 40\" should return at least 3 rows\n";
    let run = run_feature(&lab, feature, &[]);
    run.assert_exit(1)
        .assert_contains("found:    MySQL error 1146 (42S02): Table 'app.nope' doesn't exist")
        .assert_contains("found:    MySQL error 1142 (42000): DELETE command denied to user 'monitor'@'10.77.0.1' for table `app`.`users`")
        .assert_contains("found:    \"42\"")
        .assert_contains("✓ NULL [db1]")
        .assert_contains("found:    2 rows")
        .assert_contains("5 scenarios (1 passed, 4 failed) on 1 host");
    assert_eq!(
        lab.exec("db1", "mariadb -N -e 'SELECT COUNT(*) FROM app.users'").trim(),
        "42"
    );
    // A second statement after ";" is refused before anything runs.
    let dir = suite(&[(
        "db.feature",
        "@hosts:db1\nFeature: Two\n  Scenario: Two statements\n    Then the query \"SELECT 1; DELETE FROM app.users\" should return \"1\"\n",
    )]);
    let lint = lab.shakedown_in(dir.path(), &["lint", "db.feature"]);
    assert_ne!(lint.code, 0, "{}", lint.all());
    lint.assert_contains("db.feature:4")
        .assert_contains("one statement per step");
}

const BOTH: &str = "Feature: Both\n  Scenario: db1 up\n    Then MySQL on \"db1\" should be accepting connections\n  Scenario: db2 up\n    Then MySQL on \"db2\" should be accepting connections\n  @hosts:db2\n  Scenario: db2 queries\n    Then the query \"SELECT 1\" should return \"1\"\n    Then MySQL should have fewer than 500 connections\n";

#[test]
fn a_stopped_server_fails_fast_and_the_other_passes() {
    let Some(lab) = lab() else { return };
    {
        let _stop = Repair::inject(&lab, "db2", "/etc/lab/svc stop mariadb", "/etc/lab/svc start mariadb");
        let start = Instant::now();
        let run = run_feature(&lab, BOTH, &[]);
        let took = start.elapsed();
        run.assert_exit(1)
            .assert_contains("✓ db1 up")
            .assert_contains("found:    cannot connect to MySQL on db2 (10.77.0.32:3306): connection refused")
            .assert_contains("3 scenarios (1 passed, 2 failed)");
        assert!(took < Duration::from_secs(4), "took {took:?}");
    }
    wait_replica_healthy(&lab);
}

#[test]
fn a_wrong_port_fails_fast_with_a_clear_message() {
    let Some(lab) = lab() else { return };
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let inv = inv.replacen("[hosts.db2.mysql]\nport = 3306", "[hosts.db2.mysql]\nport = 3307", 1);
    assert!(inv.contains("port = 3307"), "the lab inventory changed shape");
    let dir = suite(&[("inv.toml", &inv), ("db.feature", BOTH)]);
    let start = Instant::now();
    let run: Run = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .env("XDG_STATE_HOME", crate::util::state_home())
        .args(["run", "-i", "inv.toml", "--format", "pretty", "db.feature"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .output()
        .expect("shakedown runs")
        .into();
    run.assert_exit(1)
        .assert_contains("✓ db1 up")
        .assert_contains("cannot connect to MySQL on db2 (10.77.0.32:3307): connection refused")
        .assert_contains("3 scenarios (1 passed, 2 failed)");
    assert!(start.elapsed() < Duration::from_secs(4), "took {:?}", start.elapsed());
}

#[test]
fn a_wrong_password_fails_fast_and_never_appears_in_any_output() {
    let Some(lab) = lab() else { return };
    const CANARY: &str = "canary-Pw-5f8e31b7";
    let dir = suite(&[("db.feature", BOTH)]);
    let files = ["trace.txt", "junit.xml", "report.json"].map(|f| dir.path().join(f));
    let inv = lab.inventory();
    let start = Instant::now();
    let mut outputs = Vec::new();
    for command in ["run", "check"] {
        let mut args: Vec<&str> = vec![command, "-i", inv.to_str().expect("utf-8"), "db.feature"];
        args.extend(["--trace", files[0].to_str().expect("utf-8")]);
        args.extend([
            "--junit",
            files[1].to_str().expect("utf-8"),
            "--json",
            files[2].to_str().expect("utf-8"),
        ]);
        if command == "run" {
            args.extend(["--format", "pretty"]);
        }
        let run: Run = Command::new(env!("CARGO_BIN_EXE_shakedown"))
            .env("XDG_STATE_HOME", crate::util::state_home())
            .args(&args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("SHAKEDOWN_MYSQL_PASSWORD", CANARY)
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("shakedown runs")
            .into();
        assert_ne!(run.code, 0, "{}", run.all());
        let all = run.all();
        assert!(all.contains("cannot connect to MySQL on db1 (10.77.0.31:3306): error 1045 (28000): Access denied for user 'monitor'@'10.77.0.1' (using password: YES)"), "{all}");
        outputs.push(all);
        outputs.extend(files.iter().filter_map(|f| std::fs::read_to_string(f).ok()));
    }
    assert!(start.elapsed() < Duration::from_secs(6), "took {:?}", start.elapsed());
    for text in &outputs {
        assert!(!text.contains(CANARY), "the password leaked:\n{text}");
    }
}
