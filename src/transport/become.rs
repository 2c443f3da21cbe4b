//! `become`: every command sent to a host run as another user (root by default) through
//! sudo, doas or su, as a fleet whose checks log in as a deploy user needs. A wrapper around
//! any [`Transport`], so nothing above it knows: each command (the facts batch too, which
//! is one command) gets one exec prefix on the same remote command line, no extra round.
//!
//! sudo runs with `-n` when no password is configured, so a host that asks for one fails
//! at once rather than waiting on a prompt; with a password, `-k -S -p ''` reads it from
//! the remote command's standard input ([`Cmd::with_input`]: never on a command line,
//! never in `--trace`), and `-k` makes sudo read it every time, so a cached ticket never
//! leaves the line for the command to read. su (util-linux) reads it from standard input
//! too when there is no terminal (measured: its `Password: ` prompt goes to standard
//! error, dropped here). doas reads a password from a terminal only (the inventory refuses
//! one for it): `doas -n`, for `permit nopass` rules.
//! The method starts `sh -c 'echo MARK >&2; exec "$@"' sh CMD...`: the mark on standard
//! error splits what the method said (a refusal, or a warning like sudo's `unable to
//! resolve host`, which must not turn a command's exit 1 into an error) from what the
//! command said. It also fixes doas' lookup: doas looks the program up in the login user's
//! PATH, without sbin (measured: `doas: sysctl: command not found`); `sh` is found there
//! and looks the program up in the PATH doas sets. No mark: the method's own failure, one
//! clear [`TransportError`] naming the host.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{Cmd, Output, Transport, TransportError};
use crate::inventory::{BecomeMethod, Host};

/// A transport whose every command runs under `become`.
pub(crate) struct Become {
    inner: Arc<dyn Transport>,
    /// Inventory name, for messages.
    host: String,
    /// The login user, for messages (`None`: left to ssh_config).
    login: Option<String>,
    how: crate::inventory::Become,
}

impl Become {
    /// `inner` with `become` applied when `host` asks for it, else `inner` as it is.
    pub(crate) fn wrap(inner: Arc<dyn Transport>, host: &Host) -> Arc<dyn Transport> {
        match &host.become_as {
            None => inner,
            Some(how) => Arc::new(Become {
                inner,
                host: host.name.clone(),
                login: host.user.clone(),
                how: how.clone(),
            }),
        }
    }

    /// The command as sent: `cmd` behind the method's program, started by a `sh` that
    /// first writes [`BECAME`] to standard error, so what the method said before the command
    /// started (a refusal, or a warning such as sudo's `unable to resolve host`) is never
    /// taken for the command's own words, nor the command's for the method's.
    fn command(&self, cmd: &Cmd) -> Cmd {
        let user = self.how.user.as_str();
        // `sh` is looked up in the login user's PATH (doas) and finds the program in the one
        // the method sets (doas' has sbin, the login user's may not).
        let started = || {
            [
                "sh".to_string(),
                "-c".into(),
                format!("{ECHO}; exec \"$@\""),
                "sh".into(),
            ]
            .into_iter()
            .chain(std::iter::once(cmd.program().to_string()))
            .chain(cmd.arguments().iter().cloned())
        };
        let su_script = || format!("{ECHO}; exec {}", cmd.to_shell());
        match (self.how.method, &self.how.password) {
            (BecomeMethod::Sudo, None) => Cmd::new("sudo").args(["-n", "-u", user, "--"]).args(started()),
            (BecomeMethod::Sudo, Some(password)) => Cmd::new("sudo")
                .args(["-k", "-S", "-p", "", "-u", user, "--"])
                .args(started())
                .with_input(password.clone()),
            (BecomeMethod::Doas, _) => Cmd::new("doas").args(["-n", "-u", user, "--"]).args(started()),
            (BecomeMethod::Su, None) => Cmd::new("su").args(["-s", "/bin/sh", "-c", &su_script(), user]),
            (BecomeMethod::Su, Some(password)) => Cmd::new("su")
                .args(["-s", "/bin/sh", "-c", &su_script(), user])
                .with_input(password.clone()),
        }
    }

    /// The command's output once the method started it; the method's own failure (it never
    /// did) as a clear error.
    fn read(&self, cmd: &Cmd, mut out: Output) -> Result<Output, TransportError> {
        if let Some(at) = find(&out.stderr, BECAME.as_bytes()) {
            out.stderr.drain(..at + BECAME.len());
            // `exec` of a program that is not there: as a host without become says it.
            let err = out.stderr_text();
            if out.status == Some(127) && err.contains(&format!("{}: not found", cmd.program())) {
                out.stderr = format!("{}: command not found", cmd.program()).into_bytes();
            }
            return Ok(out);
        }
        let method = self.how.method.name();
        if self.how.method == BecomeMethod::Su {
            // su's prompt, on standard error even without a terminal.
            if let Some(rest) = out.stderr.strip_prefix(b"Password: ") {
                out.stderr = rest.to_vec();
            }
        }
        let err = out.stderr_text();
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let host = &self.host;
        let login = self.login.as_deref().unwrap_or("the login user");
        let user = &self.how.user;
        let missing = [
            format!("'{method}'"),
            format!("{method}: not found"),
            format!("{method}: command not found"),
        ];
        if out.status == Some(127) && missing.iter().any(|m| err.contains(m.as_str())) {
            return Err(TransportError::Failed(format!(
                "{method} is not installed on {host} (become_method = \"{method}\")"
            )));
        }
        let refused = first.contains("not in the sudoers file") || first.contains("is not allowed to");
        let sorry = err.contains("Sorry, try again") || err.contains("incorrect password");
        let what = first.strip_prefix(&format!("{method}: ")).unwrap_or(first);
        let message = match self.how.method {
            _ if out.status == Some(124) => {
                format!("{method} on {host} did not start the command within the step timeout")
            }
            BecomeMethod::Sudo | BecomeMethod::Su
                if sorry || (self.how.password.is_some() && what.contains("Authentication failure")) =>
            {
                format!("{method} on {host} refused the password of become_password_env (as {login})")
            }
            // sudo asks for the password before it looks at the rules: a user with no
            // rights at all gets the same answer.
            BecomeMethod::Sudo if what.contains("password is required") => {
                format!("sudo on {host} needs a password (set become_password_env), or {login} may not use sudo there")
            }
            BecomeMethod::Su if what.contains("Authentication failure") => {
                format!("su on {host} needs a password (set become_password_env)")
            }
            _ if refused => {
                format!("{login} may not run commands as {user} through {method} on {host}: {what}")
            }
            BecomeMethod::Doas if what.starts_with("Authentication") || what.contains("Operation not permitted") => {
                format!(
                    "doas on {host} refused {login} without a password (doas.conf needs `permit nopass {login} as {user}`): {what}"
                )
            }
            _ if what.is_empty() => format!(
                "{method} on {host} did not start the command (exit status {})",
                out.status.map_or("none".to_string(), |s| s.to_string())
            ),
            _ => format!("{method} on {host}: {what}"),
        };
        Err(TransportError::Failed(crate::inventory::secret::redact(&message)))
    }
}

/// What the `sh` started by the method writes to standard error before it runs the
/// command: everything before it is the method's, everything after it the command's.
const BECAME: &str = "shakedown: become started the command\n";

/// The shell text that writes [`BECAME`].
const ECHO: &str = "echo 'shakedown: become started the command' >&2";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Transport for Become {
    fn run<'a>(&'a self, cmd: &'a Cmd, timeout: Duration) -> BoxFuture<'a, Result<Output, TransportError>> {
        Box::pin(async move {
            let out = self.inner.run(&self.command(cmd), timeout).await?;
            self.read(cmd, out)
        })
    }

    fn sent(&self, cmd: &Cmd) -> Cmd {
        self.inner.sent(&self.command(cmd))
    }

    fn connect(&self) -> BoxFuture<'_, Result<(), TransportError>> {
        self.inner.connect()
    }

    fn forget_failed_connect(&self) {
        self.inner.forget_failed_connect()
    }

    fn refresh(&self) -> BoxFuture<'_, ()> {
        self.inner.refresh()
    }

    fn take_note(&self) -> Option<String> {
        self.inner.take_note()
    }

    fn settle(&self) -> BoxFuture<'_, ()> {
        self.inner.settle()
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Secret;
    use crate::transport::Fake;

    fn host(method: BecomeMethod, password: Option<&str>) -> Host {
        let mut h = Host::local("web1");
        h.user = Some("deploy".into());
        h.become_as = Some(crate::inventory::Become {
            method,
            user: "root".into(),
            password: password.map(|p| Secret::new(p.into())),
        });
        h
    }

    fn become_over(fake: Arc<Fake>, host: &Host) -> Arc<dyn Transport> {
        Become::wrap(fake, host)
    }

    /// What a host answers once the method started the command: the mark, then the
    /// command's own standard error.
    fn started(status: i32, stdout: &str, stderr: &str) -> Output {
        Fake::output(status, stdout, format!("{BECAME}{stderr}"))
    }

    const SH: &str = "sh -c 'echo '\\''shakedown: become started the command'\\'' >&2; exec \"$@\"' sh";

    const T: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn every_command_runs_behind_one_sudo_n() {
        let sent = format!("sudo -n -u root -- {SH} cat /etc/shadow");
        let fake = Arc::new(Fake::new().on(sent.clone(), started(0, "root:*:\n", "")));
        let t = become_over(fake.clone(), &host(BecomeMethod::Sudo, None));
        let out = t.run(&Cmd::new("cat").arg("/etc/shadow"), T).await.expect("runs");
        assert_eq!(
            (out.stdout_text().as_str(), out.stderr_text().as_str()),
            ("root:*:\n", "")
        );
        assert_eq!(fake.ran(), [sent]);
    }

    #[tokio::test]
    async fn a_password_goes_on_stdin_never_on_the_command_line() {
        let h = host(BecomeMethod::Sudo, Some("canary-sudo-8d2e"));
        let b = Become {
            inner: Arc::new(Fake::new()),
            host: "db2".into(),
            login: Some("deploy".into()),
            how: h.become_as.clone().unwrap(),
        };
        let sent = b.command(&Cmd::new("id").arg("-u"));
        assert_eq!(sent.to_shell(), format!("sudo -k -S -p '' -u root -- {SH} id -u"));
        assert_eq!(sent.input().map(Secret::expose), Some("canary-sudo-8d2e"));
        assert!(!format!("{sent:?} {sent}").contains("canary-sudo"));
    }

    #[tokio::test]
    async fn sudo_asking_for_a_password_fails_at_once_naming_the_host() {
        let cases = [
            (
                None,
                "sudo: a password is required\n",
                "sudo on web1 needs a password (set become_password_env), or deploy may not use sudo there",
            ),
            (
                Some("wrong-pw-1c9a"),
                "Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n",
                "sudo on web1 refused the password of become_password_env (as deploy)",
            ),
            (
                Some("pw-2b7f"),
                "deploy is not in the sudoers file.\n",
                "deploy may not run commands as root through sudo on web1: deploy is not in the sudoers file.",
            ),
            (
                None,
                "sudo: unknown user nobody2\nsudo: error initializing audit plugin sudoers_audit\n",
                "sudo on web1: unknown user nobody2",
            ),
        ];
        for (password, stderr, want) in cases {
            let h = host(BecomeMethod::Sudo, password);
            let fake = Arc::new(Fake::new().responding(move |_| Some(Fake::output(1, "", stderr))));
            let err = become_over(fake, &h)
                .run(&Cmd::new("true"), T)
                .await
                .expect_err("refused");
            assert_eq!(err.to_string(), want);
        }
    }

    #[tokio::test]
    async fn the_command_failing_is_the_command_failing() {
        let fake = Arc::new(
            Fake::new()
                .on(format!("sudo -n -u root -- {SH} test -e /x"), started(1, "", ""))
                .on(
                    format!("sudo -n -u root -- {SH} nope"),
                    started(127, "", "sh: 1: exec: nope: not found\n"),
                )
                // A warning of sudo's before the command started is not the command's.
                .on(
                    format!("sudo -n -u root -- {SH} test -e /y"),
                    Fake::output(
                        1,
                        "",
                        format!("sudo: unable to resolve host web1: Name or service not known\n{BECAME}"),
                    ),
                )
                // The command's own words that look like sudo's are the command's.
                .on(
                    format!("sudo -n -u root -- {SH} sudo -l"),
                    started(1, "", "sudo: a password is required\n"),
                ),
        );
        let t = become_over(fake, &host(BecomeMethod::Sudo, None));
        let out = t.run(&Cmd::new("test").args(["-e", "/x"]), T).await.expect("runs");
        assert_eq!((out.status, out.stderr_text().as_str()), (Some(1), ""));
        let out = t.run(&Cmd::new("nope"), T).await.expect("runs");
        assert_eq!(
            (out.status, out.stderr_text().as_str()),
            (Some(127), "nope: command not found")
        );
        let out = t.run(&Cmd::new("test").args(["-e", "/y"]), T).await.expect("runs");
        assert_eq!((out.status, out.stderr_text().as_str()), (Some(1), ""));
        let out = t.run(&Cmd::new("sudo").arg("-l"), T).await.expect("runs");
        assert_eq!(
            (out.status, out.stderr_text().as_str()),
            (Some(1), "sudo: a password is required\n")
        );
    }

    #[tokio::test]
    async fn su_takes_its_password_on_stdin_and_its_prompt_is_dropped() {
        let h = host(BecomeMethod::Su, Some("canary-su-5a0b"));
        let script = "'echo '\\''shakedown: become started the command'\\'' >&2; exec id -u'";
        let fake = Arc::new(Fake::new().on(
            format!("su -s /bin/sh -c {script} root"),
            Fake::output(0, "0\n", format!("Password: {BECAME}")),
        ));
        let t = Become::wrap(fake.clone(), &h);
        let out = t.run(&Cmd::new("id").arg("-u"), T).await.expect("runs");
        assert_eq!((out.stdout_text().as_str(), out.stderr_text().as_str()), ("0\n", ""));
        let fake =
            Arc::new(Fake::new().responding(|_| Some(Fake::output(1, "", "Password: su: Authentication failure\n"))));
        let err = Become::wrap(fake, &h)
            .run(&Cmd::new("true"), T)
            .await
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "su on web1 refused the password of become_password_env (as deploy)"
        );
        let fake = Arc::new(Fake::new().responding(|_| {
            Some(Fake::output(
                127,
                "",
                "timeout: failed to run command 'su': No such file or directory\n",
            ))
        }));
        let err = Become::wrap(fake, &h)
            .run(&Cmd::new("true"), T)
            .await
            .expect_err("missing");
        assert_eq!(err.to_string(), "su is not installed on web1 (become_method = \"su\")");
    }

    #[tokio::test]
    async fn doas_and_su_wrap_the_same_way() {
        let fake = Arc::new(
            Fake::new()
                .on(format!("doas -n -u root -- {SH} id -u"), started(0, "0\n", ""))
                .responding(|cmd| (cmd.program() == "su").then(|| started(0, "0\n", ""))),
        );
        for method in [BecomeMethod::Doas, BecomeMethod::Su] {
            let t = become_over(fake.clone(), &host(method, None));
            let out = t.run(&Cmd::new("id").arg("-u"), T).await.expect("runs");
            assert_eq!(out.stdout_text(), "0\n");
        }
        let fake = Arc::new(Fake::new().responding(|_| Some(Fake::output(1, "", "doas: Authentication required\n"))));
        let err = become_over(fake, &host(BecomeMethod::Doas, None))
            .run(&Cmd::new("true"), T)
            .await
            .expect_err("refused");
        assert!(
            err.to_string()
                .starts_with("doas on web1 refused deploy without a password"),
            "{err}"
        );
    }
}
