//! Secrets canary (issue 9, item 3): every `*_env` secret of the inventory holds a unique
//! canary (a wrong MySQL password for db2, a token in every host's vars), steps fail in
//! ways that print connection strings, URLs, commands, queries and their output, and every
//! output channel is searched for each canary (and for the real MySQL password): zero hits.
//!
//! A new channel (mail, NSCA, Icinga, serve) is one line of [`CHANNELS`]: the command, its
//! arguments, and the files it writes that must be searched.

use crate::util::{Lab, lab, suite};

/// One output channel: a command with the arguments that turn the channel on, and the
/// files (relative to the run's directory) it writes. stdout and stderr are always read.
struct Channel {
    name: &'static str,
    command: &'static str,
    args: &'static [&'static str],
    files: &'static [&'static str],
}

const CHANNELS: &[Channel] = &[
    Channel {
        name: "console pretty",
        command: "run",
        args: &["--format", "pretty"],
        files: &[],
    },
    Channel {
        name: "console progress",
        command: "run",
        args: &["--format", "progress"],
        files: &[],
    },
    Channel {
        name: "console quiet",
        command: "run",
        args: &["--format", "quiet"],
        files: &[],
    },
    Channel {
        name: "JUnit XML",
        command: "run",
        args: &["--junit", "out/junit.xml"],
        files: &["out/junit.xml"],
    },
    Channel {
        name: "Cucumber JSON",
        command: "run",
        args: &["--json", "out/report.json"],
        files: &["out/report.json"],
    },
    Channel {
        name: "trace log (run)",
        command: "run",
        args: &["--trace", "out/trace.log"],
        files: &["out/trace.log"],
    },
    Channel {
        name: "Nagios check",
        command: "check",
        args: &[],
        files: &[],
    },
    Channel {
        name: "trace log (check)",
        command: "check",
        args: &["--trace", "out/trace.log"],
        files: &["out/trace.log"],
    },
    // After the ops and serve branches merge, one line each, e.g.:
    // Channel { name: "mail", command: "run", args: &["--mail-to", "ops@lab", "--smtp", "smtp://..."], files: &[...] },
    // Channel { name: "NSCA", ... }, Channel { name: "Icinga API", ... }, Channel { name: "serve /healthz", ... },
];

/// Hosts and the canary each one's `token_env` variable holds.
const HOSTS: [&str; 6] = ["web1", "web2", "lb1", "db1", "db2", "app1"];

fn canary(host: &str) -> String {
    format!("cnryQ7x{host}Z9")
}

/// The db2 MySQL password canary (wrong: its steps fail with the server's "access denied").
const DB2_PASSWORD: &str = "cnryQ7xMysqlPwZ9";

/// Steps that put the secrets into commands, URLs, queries, expected texts and outputs,
/// and fail.
const SUITE: &str = r#"Feature: Secrets stay secret

  @hosts:web,lb,db,app
  Scenario: a command echoing the token fails
    When I run "echo token={vars.token} connecting to mysql://monitor:{vars.token}@{address}/app; exit 3"
    Then the command should succeed

  @hosts:web,lb,db,app
  Scenario: the token is expected in an output
    When I run "hostname"
    Then the output should contain "{vars.token}"

  @hosts:web,lb,db,app
  Scenario: the token is expected in a file
    Then the file "/etc/app.conf" should contain "{vars.token}"

  @hosts:web
  Scenario: the token travels in a URL
    When I request "http://{address}/health?token={vars.token}"
    Then the response status should be 201

  @hosts:db
  Scenario: the token travels in a query, and db2's password is wrong
    Then MySQL should be accepting connections
    And the query "SELECT '{vars.token}'" should return "nothing"
"#;

/// The lab inventory with a `token_env` in every host's vars and db2's password canary.
fn inventory(lab: &Lab) -> String {
    let mut inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    for host in HOSTS {
        let var = format!("SD_CANARY_TOKEN_{}", host.to_uppercase());
        let head = format!("[hosts.{host}]\n");
        let start = inv.find(&head).expect("host table") + head.len();
        let end = inv[start..].find("\n[").map(|e| e + start).unwrap_or(inv.len());
        let table = &inv[start..end];
        let table = if table.contains("vars = { ") {
            table.replacen("vars = { ", &format!("vars = {{ token_env = \"{var}\", "), 1)
        } else {
            format!("vars = {{ token_env = \"{var}\" }}\n{table}")
        };
        inv.replace_range(start..end, &table);
    }
    let db2 = inv.find("[hosts.db2.mysql]").expect("db2 mysql");
    let pw = inv[db2..]
        .find("password_env = \"SHAKEDOWN_MYSQL_PASSWORD\"")
        .expect("password_env")
        + db2;
    inv.replace_range(
        pw..pw + "password_env = \"SHAKEDOWN_MYSQL_PASSWORD\"".len(),
        "password_env = \"SD_CANARY_DB2\"",
    );
    inv
}

#[test]
fn no_secret_reaches_any_channel() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("s.feature", SUITE), ("inv.toml", &inventory(&lab))]);
    std::fs::create_dir_all(dir.path().join("out")).expect("out dir");
    let real_password = lab.mysql_password();
    let mut needles: Vec<String> = HOSTS.iter().map(|h| canary(h)).collect();
    needles.extend([DB2_PASSWORD.to_string(), real_password.clone(), "cnryQ7x".to_string()]);
    let mut leaks = Vec::new();
    let mut redactions = 0;
    for channel in CHANNELS {
        let mut args = vec![channel.command, "-i", "inv.toml", "s.feature"];
        args.extend_from_slice(channel.args);
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shakedown"));
        cmd.args(&args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "trace")
            .env("SHAKEDOWN_MYSQL_PASSWORD", &real_password)
            .env("SD_CANARY_DB2", DB2_PASSWORD);
        for host in HOSTS {
            cmd.env(format!("SD_CANARY_TOKEN_{}", host.to_uppercase()), canary(host));
        }
        let out = cmd.output().expect("shakedown runs");
        let code = out.status.code();
        let expected = if channel.command == "check" { Some(2) } else { Some(1) };
        assert_eq!(
            code,
            expected,
            "{}: {}",
            channel.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let mut texts = vec![
            ("stdout".to_string(), String::from_utf8_lossy(&out.stdout).into_owned()),
            ("stderr".to_string(), String::from_utf8_lossy(&out.stderr).into_owned()),
        ];
        for f in channel.files {
            let text =
                std::fs::read_to_string(dir.path().join(f)).unwrap_or_else(|e| panic!("{}: {f}: {e}", channel.name));
            texts.push((f.to_string(), text));
        }
        for (what, text) in &texts {
            redactions += text.matches("***").count();
            for needle in &needles {
                if text.contains(needle.as_str()) {
                    leaks.push(format!("{}: {what} contains {needle:?}", channel.name));
                }
            }
        }
        if channel.name == "console pretty" {
            let all = format!("{}{}", texts[0].1, texts[1].1);
            assert!(
                all.contains("Access denied for user 'monitor'"),
                "db2's wrong password was used:\n{all}"
            );
            assert!(
                all.contains("token=***"),
                "the token reached the command's output:\n{all}"
            );
        }
    }
    println!(
        "secrets canary: {} channels, {} redactions, {} leaks",
        CHANNELS.len(),
        redactions,
        leaks.len()
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}
