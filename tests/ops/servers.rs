//! Real servers on the other end of shakedown's notifications, started by the tests and
//! stopped (by their own pid) on drop: an SMTP server (aiosmtpd, `smtp_sink.py`) that
//! writes each message it accepts as JSON, and the NSCA 2.x daemon (Debian `nsca`)
//! writing passive results to a command file.
#![allow(dead_code, reason = "shared test helpers: each test binary uses a subset")]

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A canary password: no output, report or message may ever contain it.
pub const CANARY: &str = "canary-Zq81-secret";

/// A child process killed and reaped on drop (by its pid, never by name).
pub struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `f` until it holds or `deadline` passes (then panics naming `what`).
pub fn wait_until(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !f() {
        assert!(Instant::now() < end, "timed out after {deadline:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A port nothing listens on (bound then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// An SMTP server on 127.0.0.1 keeping every message as JSON.
pub struct SmtpSink {
    _daemon: Daemon,
    dir: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

impl SmtpSink {
    /// Starts the server (Debian's python3-aiosmtpd under /usr/bin/python3) and waits
    /// until it listens.
    pub fn start() -> Self {
        Self::spawn(&[])
    }

    /// The same server speaking SMTPS (TLS from the first byte) with `cert`/`key`, AUTH
    /// required with `password` (any user).
    pub fn start_tls(cert: &Path, key: &Path, password: &str) -> Self {
        Self::spawn(&[cert.as_os_str(), key.as_os_str(), std::ffi::OsStr::new(password)])
    }

    fn spawn(extra: &[&std::ffi::OsStr]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ops/smtp_sink.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(dir.path())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("/usr/bin/python3 runs (ci/install-deps.sh installs python3-aiosmtpd)");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout).read_line(&mut line).expect("read the port");
        let daemon = Daemon(child);
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("the SMTP sink did not start (printed {line:?}; is python3-aiosmtpd installed?)")
        });
        SmtpSink {
            _daemon: daemon,
            dir,
            port,
        }
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read the sink dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(0)
        });
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("JSON"))
            .collect()
    }

    /// Waits (up to 10 s) for `n` messages and returns them.
    pub fn wait_for(&self, n: usize) -> Vec<serde_json::Value> {
        wait_until(&format!("{n} mail(s)"), Duration::from_secs(10), || {
            self.messages().len() >= n
        });
        self.messages()
    }
}

/// The NSCA 2.x daemon on 127.0.0.1 writing to a command file in a temp dir.
pub struct Nsca {
    _daemon: Daemon,
    dir: tempfile::TempDir,
    /// Its port.
    pub port: u16,
}

fn id(flag: &str) -> String {
    let out = Command::new("id").arg(flag).output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Nsca {
    /// Starts `nsca -f --single` with `decryption_method` 1 and this password, or 0
    /// without one; waits until it accepts connections.
    pub fn start(password: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = closed_port();
        let cmd = dir.path().join("icinga2.cmd");
        std::fs::write(&cmd, "").expect("command file");
        let d = dir.path().display();
        let mut cfg = format!(
            "pid_file={d}/nsca.pid\nserver_address=127.0.0.1\nserver_port={port}\nnsca_user={}\nnsca_group={}\n\
             debug=1\ncommand_file={}\nalternate_dump_file={d}/dump\naggregate_writes=0\nappend_to_file=1\n\
             max_packet_age=30\n",
            id("-un"),
            id("-gn"),
            cmd.display()
        );
        match password {
            Some(pw) => cfg.push_str(&format!("decryption_method=1\npassword={pw}\n")),
            None => cfg.push_str("decryption_method=0\n"),
        }
        let cfg_path = dir.path().join("nsca.cfg");
        std::fs::write(&cfg_path, cfg).expect("nsca.cfg");
        let child = Command::new("nsca")
            .arg("-f")
            .arg("-c")
            .arg(&cfg_path)
            .arg("--single")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nsca runs (ci/install-deps.sh installs the Debian nsca package)");
        let nsca = Nsca {
            _daemon: Daemon(child),
            dir,
            port,
        };
        wait_until("nsca listening", Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        nsca
    }

    /// `127.0.0.1:PORT`.
    pub fn target(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The lines written to the command file so far.
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("icinga2.cmd"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Waits (up to 10 s) for `n` lines and returns them.
    pub fn wait_lines(&self, n: usize) -> Vec<String> {
        wait_until(
            &format!("{n} line(s) in the command file"),
            Duration::from_secs(10),
            || self.lines().len() >= n,
        );
        self.lines()
    }
}

/// One `PROCESS_SERVICE_CHECK_RESULT` line: (host, service, state, output).
pub fn parse_result(line: &str) -> (String, String, i32, String) {
    let (ts, rest) = line.split_once("] ").expect("[ts] prefix");
    assert!(
        ts.starts_with('[') && ts[1..].parse::<u64>().is_ok(),
        "timestamp in {line:?}"
    );
    let rest = rest
        .strip_prefix("PROCESS_SERVICE_CHECK_RESULT;")
        .unwrap_or_else(|| panic!("not a service result: {line:?}"));
    let mut f = rest.splitn(4, ';');
    let mut next = || f.next().expect("4 fields").to_string();
    let (host, service, state, output) = (next(), next(), next(), next());
    (host, service, state.parse().expect("state"), output)
}

/// A private Icinga 2 (Debian icinga2-bin) on 127.0.0.1: its own config, data, state and
/// run directories in a temp dir, an API listener with a certificate for `localhost` signed
/// by a test CA, the API user `shakedown` (password given), and for each host given a Host
/// and the passive Service `service`. Runs in its own process group, stopped on drop.
pub struct Icinga2 {
    child: Child,
    dir: tempfile::TempDir,
    /// API port.
    pub port: u16,
    password: String,
}

/// A test CA (`ca.crt`) and a certificate for `localhost` signed by it (`localhost.crt`,
/// `localhost.key`), written into `dir`.
pub fn test_certificates(dir: &Path) {
    let (ca, key) = ("/CN=shakedown test CA", "rsa:2048");
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", key, "-nodes", "-days", "2", "-subj", ca, "-keyout", "ca.key", "-out", "ca.crt",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            key,
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "localhost.key",
            "-out",
            "localhost.csr",
        ],
    );
    let ext = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n";
    std::fs::write(dir.join("ext.cnf"), ext).expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "localhost.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "localhost.crt",
        ],
    );
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Icinga2 {
    /// Starts it and waits (up to 60 s) until the API answers.
    pub fn start(password: &str, hosts: &[&str], service: &str) -> Self {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        for sub in ["data/certs", "log", "cache", "spool", "run", "state"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        test_certificates(&d.join("data/certs"));
        let port = closed_port();
        let mut conf = format!(
            "const NodeName = \"localhost\"\nconst ZoneName = \"master\"\ninclude <itl>\n\
             object Endpoint NodeName {{ }}\nobject Zone ZoneName {{ endpoints = [ NodeName ] }}\n\
             object ApiListener \"api\" {{ bind_host = \"127.0.0.1\"; bind_port = {port}; accept_commands = true }}\n\
             object ApiUser \"shakedown\" {{ password = \"{password}\"; permissions = [ \"actions/process-check-result\", \"objects/query/Service\" ] }}\n"
        );
        for host in hosts {
            conf.push_str(&format!(
                "object Host \"{host}\" {{ check_command = \"dummy\"; enable_active_checks = false }}\n\
                 object Service \"{service}\" {{ host_name = \"{host}\"; check_command = \"dummy\"; enable_active_checks = false }}\n"
            ));
        }
        std::fs::write(d.join("icinga2.conf"), conf).expect("icinga2.conf");
        let define = |k: &str, sub: &str| format!("-D{k}={}", d.join(sub).display());
        let child = Command::new("icinga2")
            .arg("daemon")
            .arg("-c")
            .arg(d.join("icinga2.conf"))
            .args([
                define("DataDir", "data"),
                define("LogDir", "log"),
                define("CacheDir", "cache"),
            ])
            .args([
                define("SpoolDir", "spool"),
                define("InitRunDir", "run"),
                define("StateDir", "state"),
            ])
            .arg(format!("-DRunAsUser={}", id("-un")))
            .arg(format!("-DRunAsGroup={}", id("-gn")))
            .stdout(std::fs::File::create(d.join("icinga2.out")).expect("log file"))
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("icinga2 runs (ci/install-deps.sh installs icinga2-bin)");
        let icinga = Icinga2 {
            child,
            dir,
            port,
            password: password.into(),
        };
        let ready = Instant::now() + Duration::from_secs(60);
        while icinga.query("/v1/objects/services?attrs=name").is_none() {
            if Instant::now() > ready {
                let log = std::fs::read_to_string(icinga.dir.path().join("icinga2.out")).unwrap_or_default();
                panic!("Icinga 2 did not answer within 60 s; its output:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        icinga
    }

    /// `https://shakedown@localhost:PORT`.
    pub fn url(&self) -> String {
        format!("https://shakedown@localhost:{}", self.port)
    }

    /// The test CA's certificate (PEM file).
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("data/certs/ca.crt")
    }

    /// GET `path` on the API with curl; the JSON, or `None` when it did not answer 200.
    pub fn query(&self, path: &str) -> Option<serde_json::Value> {
        let out = Command::new("curl")
            .args(["-sS", "--fail", "--max-time", "5", "--cacert"])
            .arg(self.ca())
            .arg("-u")
            .arg(format!("shakedown:{}", self.password))
            .arg(format!("https://localhost:{}{path}", self.port))
            .output()
            .expect("curl runs");
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// The last check result of `host!service`, once there is one.
    pub fn last_result(&self, host: &str, service: &str) -> Option<serde_json::Value> {
        let v = self.query("/v1/objects/services?attrs=last_check_result")?;
        let name = format!("{host}!{service}");
        v["results"]
            .as_array()?
            .iter()
            .find(|r| r["name"] == name.as_str())
            .map(|r| r["attrs"]["last_check_result"].clone())
            .filter(|r| !r.is_null())
    }
}

impl Drop for Icinga2 {
    fn drop(&mut self) {
        // The daemon forks (umbrella and main process): stop its whole process group.
        let group = -(self.child.id() as i32);
        // SAFETY: kill(2) on our own child's process group; no memory involved.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}
