//! The `--mail-to` mail after a failed run: plain text, subject
//! `shakedown: 2 of 14 scenarios failed on web2, db2` (numbered hosts in ranges:
//! `web1-web9`), its own `Message-ID`, body = the console failure report without colours
//! (a finding shared by several hosts said once, first: see `report::groups`), the JUnit
//! XML attached; sent with `lettre` through `--smtp` (`smtp://HOST[:PORT]` in clear,
//! `smtps://[USER@]HOST[:PORT]` over TLS with the password from `SHAKEDOWN_SMTP_PASSWORD`). The connection must open within [`super::TIMEOUT`] and
//! the whole exchange end within [`EXCHANGE_TIMEOUT`]: lettre's async transport applies its
//! own timeout to the TCP connect only (a server that accepts and stays silent would
//! otherwise hold the run for ever).

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::NotifyOptions;
use super::{SMTP_PASSWORD_ENV, TIMEOUT, chain, this_host};
use crate::event::{RunSummary, Since, UnitResult, UnitStatus};
use crate::inventory::secret::Secret;
use crate::report::{console, groups, junit, since};

/// Time allowed to the whole SMTP exchange (greeting, EHLO, TLS, AUTH, MAIL, RCPT, DATA).
pub(crate) const EXCHANGE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Failed hosts (or ranges of numbered hosts) named in the subject before `and N more`.
const HOSTS_IN_SUBJECT: usize = 5;

/// Where and how to reach the SMTP server.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SmtpServer {
    /// TLS from the first byte (`smtps://`), else clear text.
    pub tls: bool,
    /// Host name or address.
    pub host: String,
    /// Port (25 for smtp, 465 for smtps by default).
    pub port: u16,
    /// User to authenticate as (smtps only), with the password.
    pub login: Option<(String, Secret)>,
}

impl SmtpServer {
    /// The URL without any secret, for messages.
    pub(crate) fn display(&self) -> String {
        let scheme = if self.tls { "smtps" } else { "smtp" };
        let user = self.login.as_ref().map(|(u, _)| format!("{u}@")).unwrap_or_default();
        format!("{scheme}://{user}{}:{}", self.host, self.port)
    }
}

/// Parses `--smtp URL`; `password` is `SHAKEDOWN_SMTP_PASSWORD`. A message never repeats a
/// password, even one written into the URL by mistake.
pub(crate) fn parse_smtp_url(text: &str, password: Option<Secret>) -> Result<SmtpServer, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| format!("--smtp: not a URL ({e}); expected smtp://HOST:25 or smtps://USER@HOST:465"))?;
    let tls = match url.scheme() {
        "smtp" => false,
        "smtps" => true,
        other => return Err(format!("--smtp: scheme {other:?} is not smtp:// or smtps://")),
    };
    if url.password().is_some() {
        return Err(format!(
            "--smtp: do not write the password into the URL; set {SMTP_PASSWORD_ENV}"
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("--smtp: the URL names no host (smtp://HOST:25)")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    if !url.path().trim_start_matches('/').is_empty() || url.query().is_some() {
        return Err("--smtp: the URL takes no path or query (smtp://HOST:25)".into());
    }
    let port = url.port().unwrap_or(if tls { 465 } else { 25 });
    let login = match (url.username(), password) {
        ("", _) => None,
        (_, _) if !tls => {
            return Err("--smtp: a login needs smtps:// (the password would cross the network in clear)".into());
        }
        (user, Some(pw)) => Some((user.to_string(), pw)),
        (_, None) => {
            return Err(format!(
                "--smtp: the URL names a user: set {SMTP_PASSWORD_ENV} to its password"
            ));
        }
    };
    Ok(SmtpServer { tls, host, port, login })
}

/// The mail to send after a failed run.
#[derive(Debug)]
pub(crate) struct Mailer {
    server: SmtpServer,
    from: Mailbox,
    to: Vec<Mailbox>,
}

impl Mailer {
    /// The mailer the options ask for (`None` without `--mail-to`); `password` is
    /// `SHAKEDOWN_SMTP_PASSWORD`.
    pub(crate) fn from_options(args: &NotifyOptions, password: Option<Secret>) -> Result<Option<Self>, String> {
        let Some(url) = &args.smtp else {
            if !args.mail_to.is_empty() || args.mail_from.is_some() {
                return Err(
                    "--mail-to and --mail-from need --smtp URL (smtp://HOST:25 or smtps://USER@HOST:465)".into(),
                );
            }
            return Ok(None);
        };
        if args.mail_to.is_empty() {
            return Err("--smtp needs at least one --mail-to ADDR".into());
        }
        let server = parse_smtp_url(url, password)?;
        let parse = |opt: &str, a: &str| {
            a.parse::<Mailbox>()
                .map_err(|e| format!("{opt}: {a:?} is not a mail address ({e})"))
        };
        let to = args
            .mail_to
            .iter()
            .map(|a| parse("--mail-to", a))
            .collect::<Result<Vec<_>, _>>()?;
        let from = match &args.mail_from {
            Some(a) => parse("--mail-from", a)?,
            None => parse("--mail-from", &format!("shakedown@{}", this_host()))?,
        };
        Ok(Some(Mailer { server, from, to }))
    }

    /// Sends the mail about this (failed) run.
    pub(crate) async fn send(&self, summary: &RunSummary) -> Result<(), String> {
        let where_ = self.server.display();
        let xml = junit::render(summary, &junit::Meta::now());
        let message = self
            .message(summary, xml)
            .map_err(|e| format!("mail: cannot build the message: {e}"))?;
        let transport = self
            .transport()
            .map_err(|e| format!("mail through {where_}: {}", chain(&e)))?;
        // The transport's timeout bounds the connect; this bounds the whole exchange.
        match tokio::time::timeout(EXCHANGE_TIMEOUT, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("mail through {where_} not sent: {}", chain(&e))),
            Err(_) => Err(format!(
                "mail through {where_} not sent: no answer within {}s",
                EXCHANGE_TIMEOUT.as_secs()
            )),
        }
    }

    /// The whole message: plain-text failure report, JUnit XML attached, a `Date` and a
    /// fresh `Message-ID` (`<UUID@this host>`, made by lettre: mail clients thread and
    /// deduplicate by it, and some relays refuse or mark as spam mail without one).
    pub(crate) fn message(&self, summary: &RunSummary, junit_xml: String) -> Result<Message, lettre::error::Error> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject(summary))
            .message_id(None);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let xml_type = ContentType::parse("application/xml").unwrap_or(ContentType::TEXT_PLAIN);
        builder.multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(console::failure_report(summary)))
                .singlepart(Attachment::new("shakedown-junit.xml".into()).body(junit_xml, xml_type)),
        )
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
        let s = &self.server;
        let mut builder = if s.tls {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
        };
        builder = builder.port(s.port).timeout(Some(TIMEOUT));
        if let Some((user, pw)) = &s.login {
            builder = builder.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
        }
        Ok(builder.build())
    }
}

/// `web1-web9, db2 and 3 more`: hosts in ranges, the first [`HOSTS_IN_SUBJECT`] items.
fn named_hosts(hosts: &[String]) -> String {
    // Numbered hosts compressed into ranges (`web1-web9, web11-web15`).
    let items = groups::counted_host_ranges(hosts);
    let shown = &items[..items.len().min(HOSTS_IN_SUBJECT)];
    let mut named = shown.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(", ");
    let more = hosts.len() - shown.iter().map(|(_, n)| n).sum::<usize>();
    if more > 0 {
        named.push_str(&format!(" and {more} more"));
    }
    named
}

/// The distinct hosts of `results` that `pick` keeps, in order.
fn hosts_of(summary: &RunSummary, pick: impl Fn(&UnitResult) -> bool) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for r in summary.results.iter().filter(|r| pick(r)) {
        let h = r.unit.host.clone().unwrap_or_else(|| "-".into());
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    hosts
}

/// With a state (`--state`): `shakedown: 2 new failures on web7, db2; 3 still failing;
/// 1 recovered`, the hosts named for the first part there is (new failures, else those
/// still failing, else those recovered); `None` without a state.
fn since_subject(summary: &RunSummary) -> Option<String> {
    if !since::kept(summary) {
        return None;
    }
    let failed = |r: &UnitResult| matches!(r.status, UnitStatus::Failed | UnitStatus::TimedOut);
    let new = hosts_of(summary, |r| failed(r) && r.since == Some(Since::NewFailure));
    let (new_n, still_n, _, recovered_n) = since::counts(summary);
    let mut parts = Vec::new();
    if new_n > 0 {
        let s = if new_n == 1 { "" } else { "s" };
        parts.push(format!("{new_n} new failure{s} on {}", named_hosts(&new)));
    }
    if still_n > 0 {
        let mut part = format!("{still_n} still failing");
        if parts.is_empty() {
            let still = hosts_of(summary, |r| {
                matches!(r.since, Some(Since::StillFailing { .. })) && failed(r)
            });
            part.push_str(&format!(" on {}", named_hosts(&still)));
        }
        parts.push(part);
    }
    if recovered_n > 0 {
        let mut part = format!("{recovered_n} recovered");
        if parts.is_empty() {
            let back = hosts_of(summary, |r| matches!(r.since, Some(Since::Recovered { .. })));
            part.push_str(&format!(" on {}", named_hosts(&back)));
        }
        parts.push(part);
    }
    (!parts.is_empty()).then(|| format!("shakedown: {}", parts.join("; ")))
}

/// `shakedown: 2 of 14 scenarios failed on web2, db2`; with a state, what changed since the
/// last run ([`since_subject`]).
pub(crate) fn subject(summary: &RunSummary) -> String {
    if let Some(s) = since_subject(summary) {
        return s;
    }
    let total = summary.results.len();
    let named = named_hosts(&summary.failed_hosts());
    let noun = if total == 1 { "scenario" } else { "scenarios" };
    format!("shakedown: {} of {total} {noun} failed on {named}", summary.failed())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run where each of `hosts` failed one scenario, and `passed` more units passed.
    fn run(hosts: &[String], passed: usize) -> RunSummary {
        use crate::event::{UnitResult, UnitStatus};
        use crate::outcome::{Outcome, StepResult};
        use std::sync::Arc;
        use std::time::Duration;
        let result = |host: &str, status| {
            Arc::new(UnitResult {
                unit: crate::suite::sample::nginx_unit("nginx runs", host),
                status,
                steps: vec![(StepResult::Failed(Outcome::fail("active", "inactive")), Duration::ZERO)],
                attempts: 1,
                duration: Duration::ZERO,
                earlier: Vec::new(),
                converging: None,
                since: None,
            })
        };
        let mut results: Vec<_> = hosts.iter().map(|h| result(h, UnitStatus::Failed)).collect();
        results.extend((0..passed).map(|i| result(&format!("ok{i}"), UnitStatus::Passed)));
        RunSummary {
            results,
            ..RunSummary::default()
        }
    }

    /// `summary` with each unit's `since` as `mark` gives for its host.
    fn marked(mut summary: RunSummary, mark: impl Fn(&str) -> Since) -> RunSummary {
        summary.results = summary
            .results
            .iter()
            .map(|r| {
                let mut r = (**r).clone();
                r.since = Some(mark(r.unit.host.as_deref().unwrap_or("-")));
                std::sync::Arc::new(r)
            })
            .collect();
        summary
    }

    #[test]
    fn with_a_state_the_subject_says_new_still_failing_and_recovered() {
        let hosts: Vec<String> = ["web7", "db2", "db5", "web1"].iter().map(|h| h.to_string()).collect();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let summary = marked(run(&hosts, 2), |h| match h {
            "web7" | "db2" => Since::NewFailure,
            "db5" | "web1" => Since::StillFailing { since: t },
            "ok0" => Since::Recovered { failing_since: t },
            _ => Since::Passing { since: t },
        });
        assert_eq!(
            subject(&summary),
            "shakedown: 2 new failures on web7, db2; 2 still failing; 1 recovered"
        );
        let summary = marked(run(&hosts[2..], 1), |h| match h {
            "ok0" => Since::Passing { since: t },
            _ => Since::StillFailing { since: t },
        });
        assert_eq!(subject(&summary), "shakedown: 2 still failing on db5, web1");
        let summary = marked(run(&[], 2), |h| match h {
            "ok1" => Since::Recovered { failing_since: t },
            _ => Since::Passing { since: t },
        });
        assert_eq!(subject(&summary), "shakedown: 1 recovered on ok1");
    }

    #[test]
    fn the_subject_names_numbered_hosts_in_ranges() {
        let hosts = |list: &[&str]| list.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        assert_eq!(
            subject(&run(&hosts(&["web2", "db2"]), 12)),
            "shakedown: 2 of 14 scenarios failed on web2, db2"
        );
        let mut many: Vec<String> = (1..=15).filter(|n| *n != 10).map(|n| format!("web{n}")).collect();
        many.push("db2".into());
        assert_eq!(
            subject(&run(&many, 4)),
            "shakedown: 15 of 19 scenarios failed on web1-web9, web11-web15, db2"
        );
        // Beyond five items, the hosts left out are counted.
        let scattered = hosts(&["a1", "b1", "c1", "d1", "e1", "f1", "g1", "h1"]);
        assert_eq!(
            subject(&run(&scattered, 0)),
            "shakedown: 8 of 8 scenarios failed on a1, b1, c1, d1, e1 and 3 more"
        );
    }

    #[test]
    fn smtp_urls_plain_and_tls() {
        let s = parse_smtp_url("smtp://mail.example.com", None).expect("plain");
        assert_eq!(
            (s.tls, s.host.as_str(), s.port, s.login.is_none()),
            (false, "mail.example.com", 25, true)
        );
        let pw = Secret::new("canary-m41l".into());
        let s = parse_smtp_url("smtps://alert@mail.example.com", Some(pw)).expect("tls");
        assert_eq!((s.tls, s.port), (true, 465));
        assert_eq!(s.display(), "smtps://alert@mail.example.com:465");
        assert!(!format!("{s:?}").contains("canary-m41l"), "Debug hides the password");
        assert_eq!(
            parse_smtp_url("smtp://[::1]:2525", None).map(|s| (s.host, s.port)),
            Ok(("::1".into(), 2525))
        );
    }

    #[test]
    fn smtp_url_mistakes_are_named_without_the_password() {
        let cases = [
            ("smtp://", "names no host"),
            ("http://mail.example.com", "is not smtp:// or smtps://"),
            ("smtp://mail.example.com/x", "no path"),
            ("smtps://alert@mail.example.com", "set SHAKEDOWN_SMTP_PASSWORD"),
            ("smtp://alert@mail.example.com", "a login needs smtps://"),
            ("smtps://alert:canary-url@mail.example.com", "do not write the password"),
        ];
        for (url, message) in cases {
            let e = parse_smtp_url(url, None).expect_err(url);
            assert!(e.contains(message), "{url}: {e}");
            assert!(!e.contains("canary-url"), "{e}");
        }
    }
}
