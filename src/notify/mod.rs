//! After a run, tell the people and the monitoring that are not watching the console: a
//! mail after a failed run (`--mail-to`, [`mail`]) and one passive service result per host
//! and feature to NSCA ([`nsca`]) or the Icinga 2 API ([`icinga`]). The options are checked
//! when the command starts ([`Notifiers::from_options`]), before any host is contacted; at the
//! end, delivery problems come back as messages (secrets redacted), never as a panic, and
//! never change what the run found. Every message leaves through
//! [`crate::report::target::scrub`], the redaction of every report (see that module).

pub(crate) mod icinga;
pub(crate) mod mail;
pub(crate) mod nsca;
pub(crate) mod results;

use std::path::PathBuf;
use std::time::Duration;

use crate::event::RunSummary;
use crate::inventory::secret::Secret;
use crate::report::target::scrub;

/// The notification options of a command (`--mail-to`, `--smtp`, `--nsca`, ...), as
/// `commands` maps them from the command line.
#[derive(Debug, Clone, Default)]
pub(crate) struct NotifyOptions {
    /// `--mail-to ADDR` (repeatable).
    pub mail_to: Vec<String>,
    /// `--mail-from ADDR`.
    pub mail_from: Option<String>,
    /// `--smtp URL`.
    pub smtp: Option<String>,
    /// `--nsca HOST:PORT`.
    pub nsca: Option<String>,
    /// `--icinga-api URL`.
    pub icinga_api: Option<String>,
    /// `--icinga-ca FILE`.
    pub icinga_ca: Option<PathBuf>,
}

/// Time allowed to each network operation of a notifier: a connect, one SMTP command, the
/// NSCA exchange, one API request. A dead server costs at most this per target.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// Environment variable holding the SMTP password (for `smtps://USER@HOST`).
pub(crate) const SMTP_PASSWORD_ENV: &str = "SHAKEDOWN_SMTP_PASSWORD";
/// Environment variable holding the NSCA password (XOR encryption when set).
pub(crate) const NSCA_PASSWORD_ENV: &str = "SHAKEDOWN_NSCA_PASSWORD";
/// Environment variable holding the Icinga 2 API user's password.
pub(crate) const ICINGA_PASSWORD_ENV: &str = "SHAKEDOWN_ICINGA_PASSWORD";

/// The notifiers asked for on the command line, validated.
#[derive(Debug, Default)]
pub(crate) struct Notifiers {
    mail: Option<mail::Mailer>,
    nsca: Option<nsca::Nsca>,
    icinga: Option<icinga::Icinga>,
}

/// A secret from the environment: `None` when unset or empty; registered for redaction.
fn secret_env(name: &str) -> Option<Secret> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).map(Secret::new)
}

impl Notifiers {
    /// Checks every notification option (URLs, addresses, passwords present, CA file
    /// readable); every problem is returned, each naming its option.
    pub(crate) fn from_options(options: &NotifyOptions) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut out = Notifiers::default();
        match mail::Mailer::from_options(options, secret_env(SMTP_PASSWORD_ENV)) {
            Ok(m) => out.mail = m,
            Err(p) => problems.push(p),
        }
        if let Some(target) = &options.nsca {
            match nsca::Nsca::new(target, secret_env(NSCA_PASSWORD_ENV)) {
                Ok(n) => out.nsca = Some(n),
                Err(p) => problems.push(p),
            }
        }
        if let Some(url) = &options.icinga_api {
            match icinga::Icinga::new(url, options.icinga_ca.as_deref(), secret_env(ICINGA_PASSWORD_ENV)) {
                Ok(i) => out.icinga = Some(i),
                Err(p) => problems.push(p),
            }
        } else if options.icinga_ca.is_some() {
            problems.push("--icinga-ca needs --icinga-api URL".into());
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems.iter().map(|p| scrub(p)).collect())
        }
    }

    /// Sends what the options ask for about a finished run: the mail only when something
    /// failed or (with a state) recovered, passive results always. `timeout` is the run deadline (named in UNKNOWN
    /// results). Returns the delivery problems, one line each, secrets redacted.
    pub(crate) async fn send(&self, summary: &RunSummary, timeout: Option<Duration>) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(m) = &self.mail
            && (!summary.all_passed() || !crate::report::since::recovered(summary).is_empty())
            && let Err(e) = m.send(summary).await
        {
            problems.push(e);
        }
        if self.nsca.is_some() || self.icinga.is_some() {
            let services = results::service_results(summary, timeout);
            if let Some(n) = &self.nsca {
                problems.extend(n.send(&services).await);
            }
            if let Some(i) = &self.icinga {
                problems.extend(i.send(&services).await);
            }
        }
        problems.iter().map(|p| scrub(p)).collect()
    }
}

/// An error and its sources on one line (the top-level text of lettre and reqwest errors
/// alone says too little: "connection error", "error sending request").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let t = s.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        source = s.source();
    }
    text
}

/// This machine's name (mail sender, check source).
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
