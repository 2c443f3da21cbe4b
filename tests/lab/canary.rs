//! Secrets canary (issue 9, item 3): every `*_env` secret of the inventory holds a unique
//! canary (a wrong MySQL password for db2, a token in every host's vars), steps fail in
//! ways that print connection strings, URLs, commands, queries and their output, and every
//! output channel is searched for each canary (and for the real MySQL password): zero hits.
//!
//! db2 and app1 log in as deploy with `become` (ci/lab/become.sh): db2's real sudo password
//! (its commands run as root) and a wrong canary for app1 (sudo refuses it) are searched too.
//!
//! The notification channels carry their own canaries: SHAKEDOWN_SMTP_PASSWORD logs in to
//! a real SMTPS server (aiosmtpd, tests/ops/smtp_sink.py) whose saved mails are searched;
//! SHAKEDOWN_NSCA_PASSWORD XOR-encrypts the passive results that the real nsca daemon,
//! configured with the same password, writes to its command file (searched);
//! SHAKEDOWN_ICINGA_PASSWORD goes to an Icinga API that refuses the connection (the error
//! is searched). `shakedown serve` is searched in every format it answers.
//!
//! A new channel is one line of [`CHANNELS`]: the command, its arguments (`{smtp}`, `{nsca}`
//! and `{icinga}` stand for the receivers the test starts), the files it writes and the
//! receiver whose saved data must be searched.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::servers::{self, Nsca, SmtpSink, closed_port, test_certificates};
use crate::util::{Lab, lab, suite};

/// One output channel: a command with the arguments that turn the channel on, the files
/// (relative to the run's directory) it writes, and the receiver it sends to. stdout and
/// stderr are always read.
struct Channel {
    name: &'static str,
    command: &'static str,
    args: &'static [&'static str],
    files: &'static [&'static str],
    receiver: Receiver,
}

/// A server outside shakedown whose received data is searched too.
#[derive(Clone, Copy, PartialEq)]
enum Receiver {
    None,
    Mail,
    Nsca,
}

const CHANNELS: &[Channel] = &[
    Channel {
        name: "console pretty",
        command: "run",
        args: &["--format", "pretty"],
        files: &[],
        receiver: Receiver::None,
    },
    Channel {
        name: "console progress",
        command: "run",
        args: &["--format", "progress"],
        files: &[],
        receiver: Receiver::None,
    },
    Channel {
        name: "console quiet",
        command: "run",
        args: &["--format", "quiet"],
        files: &[],
        receiver: Receiver::None,
    },
    Channel {
        name: "JUnit XML",
        command: "run",
        args: &["--junit", "out/junit.xml"],
        files: &["out/junit.xml"],
        receiver: Receiver::None,
    },
    Channel {
        name: "Cucumber JSON",
        command: "run",
        args: &["--json", "out/report.json"],
        files: &["out/report.json"],
        receiver: Receiver::None,
    },
    Channel {
        name: "trace log (run)",
        command: "run",
        args: &["--trace", "out/trace.log"],
        files: &["out/trace.log"],
        receiver: Receiver::None,
    },
    Channel {
        name: "Nagios check",
        command: "check",
        args: &[],
        files: &[],
        receiver: Receiver::None,
    },
    Channel {
        name: "trace log (check)",
        command: "check",
        args: &["--trace", "out/trace.log"],
        files: &["out/trace.log"],
        receiver: Receiver::None,
    },
    Channel {
        name: "mail (SMTPS with login)",
        command: "run",
        args: &["--mail-to", "ops@example.com", "--smtp", "{smtp}"],
        files: &[],
        receiver: Receiver::Mail,
    },
    Channel {
        name: "mail (check)",
        command: "check",
        args: &["--mail-to", "ops@example.com", "--smtp", "{smtp}"],
        files: &[],
        receiver: Receiver::Mail,
    },
    Channel {
        name: "NSCA (XOR-encrypted)",
        command: "run",
        args: &["--nsca", "{nsca}"],
        files: &[],
        receiver: Receiver::Nsca,
    },
    Channel {
        name: "Icinga API (connection refused)",
        command: "run",
        args: &["--icinga-api", "{icinga}", "--trace", "out/trace.log"],
        files: &["out/trace.log"],
        receiver: Receiver::None,
    },
];

/// The notification passwords (canaries): the receivers are configured with them.
const SMTP_PASSWORD: &str = "cnryQ7xSmtpPwZ9";
const NSCA_PASSWORD: &str = "cnryQ7xNscaPwZ9";
const ICINGA_PASSWORD: &str = "cnryQ7xIcingaPwZ9";

/// The receivers the notification channels send to, started once for the test.
struct Receivers {
    smtp: SmtpSink,
    nsca: Nsca,
    icinga: String,
    certs: tempfile::TempDir,
}

impl Receivers {
    fn start() -> Self {
        let certs = tempfile::tempdir().expect("temp dir");
        test_certificates(certs.path());
        let (cert, key) = (certs.path().join("localhost.crt"), certs.path().join("localhost.key"));
        Receivers {
            smtp: SmtpSink::start_tls(&cert, &key, SMTP_PASSWORD),
            nsca: Nsca::start(Some(NSCA_PASSWORD)),
            icinga: format!("https://shakedown@127.0.0.1:{}", closed_port()),
            certs,
        }
    }

    fn arg(&self, arg: &str) -> String {
        arg.replace("{smtp}", &format!("smtps://alert@localhost:{}", self.smtp.port))
            .replace("{nsca}", &self.nsca.target())
            .replace("{icinga}", &self.icinga)
    }

    /// The data a receiver holds so far, and how many items (mails, result lines).
    fn received(&self, receiver: Receiver) -> (usize, String) {
        match receiver {
            Receiver::None => (0, String::new()),
            Receiver::Mail => {
                let mails = self.smtp.messages();
                (mails.len(), serde_json::to_string(&mails).expect("JSON"))
            }
            Receiver::Nsca => {
                let lines = self.nsca.lines();
                (lines.len(), lines.join("\n"))
            }
        }
    }
}

/// Hosts and the canary each one's `token_env` variable holds.
const HOSTS: [&str; 6] = ["web1", "web2", "lb1", "db1", "db2", "app1"];

fn canary(host: &str) -> String {
    format!("cnryQ7x{host}Z9")
}

/// The db2 MySQL password canary (wrong: its steps fail with the server's "access denied").
const DB2_PASSWORD: &str = "cnryQ7xMysqlPwZ9";

/// app1's `become` password canary (wrong: deploy may not use sudo there, every command
/// fails with sudo's refusal). db2 logs in as deploy too, with its real sudo password
/// (ci/lab/become.sh), which is searched for like the real MySQL password.
const APP1_BECOME_PASSWORD: &str = "cnryQ7xBecomePwZ9";

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
    // db2 and app1 log in as deploy with become, the password on sudo's standard input.
    for (host, var) in [("db2", "SD_CANARY_BECOME_DB2"), ("app1", "SD_CANARY_BECOME_APP1")] {
        let head = format!("[hosts.{host}]\n");
        let at = inv.find(&head).expect("host table") + head.len();
        inv.insert_str(
            at,
            &format!("user = \"deploy\"\nbecome = true\nbecome_password_env = \"{var}\"\n"),
        );
    }
    inv
}

/// Every canary, and the real MySQL password.
fn needles(lab: &Lab) -> Vec<String> {
    let mut needles: Vec<String> = HOSTS.iter().map(|h| canary(h)).collect();
    needles.extend([
        DB2_PASSWORD.to_string(),
        SMTP_PASSWORD.to_string(),
        NSCA_PASSWORD.to_string(),
        ICINGA_PASSWORD.to_string(),
        lab.mysql_password(),
        APP1_BECOME_PASSWORD.to_string(),
        lab.become_password(),
        "cnryQ7x".to_string(),
    ]);
    needles
}

/// A shakedown command in `dir` with every secret's variable set to its canary.
fn shakedown(lab: &Lab, dir: &std::path::Path, args: &[String]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shakedown"));
    cmd.env("XDG_STATE_HOME", crate::util::state_home())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "trace")
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .env("SD_CANARY_DB2", DB2_PASSWORD)
        .env("SD_CANARY_BECOME_DB2", lab.become_password())
        .env("SD_CANARY_BECOME_APP1", APP1_BECOME_PASSWORD)
        .env("SHAKEDOWN_SMTP_PASSWORD", SMTP_PASSWORD)
        .env("SHAKEDOWN_NSCA_PASSWORD", NSCA_PASSWORD)
        .env("SHAKEDOWN_ICINGA_PASSWORD", ICINGA_PASSWORD);
    for host in HOSTS {
        cmd.env(format!("SD_CANARY_TOKEN_{}", host.to_uppercase()), canary(host));
    }
    cmd
}

/// Runs one channel and returns every text it produced, named.
fn run_channel(lab: &Lab, dir: &std::path::Path, channel: &Channel, rx: &Receivers) -> Vec<(String, String)> {
    let mut args: Vec<String> = [channel.command, "-i", "inv.toml", "s.feature"]
        .map(String::from)
        .to_vec();
    args.extend(channel.args.iter().map(|a| rx.arg(a)));
    let mut cmd = shakedown(lab, dir, &args);
    if channel.receiver == Receiver::Mail {
        // The test CA, as an operator adds a private CA.
        cmd.env("SSL_CERT_FILE", rx.certs.path().join("ca.crt"));
    }
    let (before, _) = rx.received(channel.receiver);
    let out = cmd.output().expect("shakedown runs");
    let expected = if channel.command == "check" { Some(2) } else { Some(1) };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), expected, "{}: {stderr}", channel.name);
    let mut texts = vec![
        ("stdout".to_string(), String::from_utf8_lossy(&out.stdout).into_owned()),
        ("stderr".to_string(), stderr),
    ];
    for f in channel.files {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{}: {f}: {e}", channel.name));
        texts.push((f.to_string(), text));
    }
    if channel.receiver != Receiver::None {
        servers::wait_until(channel.name, Duration::from_secs(15), || {
            rx.received(channel.receiver).0 > before
        });
        texts.push(("received".to_string(), rx.received(channel.receiver).1));
    }
    if channel.name.starts_with("Icinga") {
        assert!(
            texts[1].1.contains("127.0.0.1"),
            "the refused Icinga API is reported: {}",
            texts[1].1
        );
    }
    texts
}

#[test]
fn no_secret_reaches_any_channel() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("s.feature", SUITE), ("inv.toml", &inventory(&lab))]);
    std::fs::create_dir_all(dir.path().join("out")).expect("out dir");
    let rx = Receivers::start();
    let needles = needles(&lab);
    let mut leaks = Vec::new();
    let mut redactions = 0;
    let mut searched = 0;
    let mut search = |channel: &str, texts: &[(String, String)]| {
        searched += 1;
        for (what, text) in texts {
            redactions += text.matches("***").count();
            for needle in &needles {
                if text.contains(needle.as_str()) {
                    leaks.push(format!("{channel}: {what} contains {needle:?}"));
                }
            }
        }
    };
    for channel in CHANNELS {
        let texts = run_channel(&lab, dir.path(), channel, &rx);
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
            assert!(
                all.contains("sudo on app1 refused the password of become_password_env (as deploy)"),
                "app1's wrong become password was used:\n{all}"
            );
        }
        search(channel.name, &texts);
    }
    for (name, texts) in serve_channels(&lab, dir.path()) {
        search(&name, &texts);
    }
    println!(
        "secrets canary: {searched} channels, {redactions} redactions, {} leaks",
        leaks.len()
    );
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// `shakedown serve` over the same suite: `/healthz` in JSON, XML and text, `/metrics`
/// and `/pingdom`, each response (headers and body) with its name.
fn serve_channels(lab: &Lab, dir: &std::path::Path) -> Vec<(String, Vec<(String, String)>)> {
    let args: Vec<String> = [
        "serve",
        "-i",
        "inv.toml",
        "s.feature",
        "--listen",
        "127.0.0.1:0",
        "--cache",
        "10m",
    ]
    .map(String::from)
    .to_vec();
    let mut child = shakedown(lab, dir, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut first = String::new();
    stderr.read_line(&mut first).expect("serve prints its address");
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_string();
    let requests = [
        ("/healthz", "application/json", "503"),
        ("/healthz", "application/xml", "503"),
        ("/healthz", "text/plain", "503"),
        ("/metrics", "*/*", "200"),
        ("/pingdom", "*/*", "503"),
    ];
    let mut out = Vec::new();
    for (path, accept, status) in requests {
        let reply = get(&addr, path, accept);
        assert!(
            reply.starts_with(&format!("HTTP/1.1 {status}")) && reply.contains("db2"),
            "serve {path} ({accept}): {reply}"
        );
        out.push((
            format!("serve {path} ({accept})"),
            vec![("response".to_string(), reply)],
        ));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    out.push((
        "serve stderr".to_string(),
        vec![("stderr".to_string(), format!("{first}{rest}"))],
    ));
    out
}

/// One HTTP/1.1 GET (connection closed after it): the whole response, headers and body.
fn get(addr: &str, path: &str, accept: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to serve");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read the response");
    String::from_utf8_lossy(&reply).into_owned()
}
