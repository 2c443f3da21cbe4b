//! The TLS certificate step: how many days the certificate a server presents is still
//! valid, read from a real handshake from the machine running shakedown (an expired or
//! self-signed certificate is read and reported, not refused).

use futures::future::BoxFuture;

use crate::probes::tls::{parse_certificate, peer_certificate, split_target};
use crate::steps::{Args, Lane, Measurement, Outcome, StepCtx, StepDef, StepError, StepOutput};

const MODULE: &str = "src/steps/http/tls.rs";

/// `the TLS certificate for "host:port" should be valid for at least N days`.
pub(super) const CERT_DAYS: StepDef = StepDef {
    line: line!(),
    sentence: "the TLS certificate for {string} should be valid for at least {int} days",
    example: r#"Then the TLS certificate for "www.example.com:443" should be valid for at least 30 days"#,
    doc: "Connects from this machine to host:port (port 443 when omitted; an inventory name connects to its address), shakes hands sending the name as SNI (none for an IP address), and reads the leaf certificate without trusting it, so an expired or self-signed one is still read. Passes when it expires N days or more from now. The found text gives the expiry date (UTC), days left, subject and issuer. Measured: days left.",
    module: MODULE,
    file: MODULE,
    lane: Lane::Ahead,
    facts: &[],
    needs_host: false,
    check: Some(check_target),
    run: cert_days,
};

/// The same through a chosen address (a backend behind a load balancer, or a name that
/// does not resolve from here).
pub(super) const CERT_DAYS_VIA: StepDef = StepDef {
    line: line!(),
    sentence: "the TLS certificate for {string} via {string} should be valid for at least {int} days",
    example: r#"Then the TLS certificate for "www.example.com:443" via "{address}" should be valid for at least 30 days"#,
    doc: "As above, but connects to the given address (IP, inventory name or resolvable name; the port of host:port is kept) while sending host as SNI: the certificate each backend serves for a public name.",
    module: MODULE,
    file: MODULE,
    lane: Lane::Ahead,
    facts: &[],
    needs_host: false,
    check: Some(check_target),
    run: cert_days_via,
};

fn check_target(args: &[String]) -> Result<(), String> {
    let target = args.first().map(String::as_str).unwrap_or("");
    if target.contains('{') {
        return Ok(());
    }
    split_target(target).map(|_| ())
}

fn cert_days(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { check(ctx, a.get(0), None, a.int(1)?).await })
}

fn cert_days_via(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { check(ctx, a.get(0), Some(a.get(1)), a.int(2)?).await })
}

async fn check(ctx: &StepCtx, target: &str, via: Option<&str>, days: i64) -> StepOutput {
    let (host, port) = split_target(target).map_err(StepError::Other)?;
    let connect = ctx.pool.address_of(via.unwrap_or(&host));
    let shown = match via {
        Some(v) => format!("{target} (via {})", super::backend_name(ctx, v, &connect)),
        None => target.to_string(),
    };
    let expected = format!("TLS certificate of {shown} valid for at least {days} days");
    let der = match peer_certificate((&connect, port), &host, ctx.step_timeout).await {
        Ok(der) => der,
        Err(e) => return Ok(Outcome::fail(expected, e)),
    };
    let cert = parse_certificate(&der).map_err(StepError::Other)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let left = cert.days_left(now);
    Ok(
        Outcome::check(left >= days as f64, expected, cert.describe(now)).with(Measurement {
            label: format!("{target} certificate days left"),
            value: left,
            unit: String::new(),
            warn: None,
            crit: Some(crate::steps::Range::at_least(days as f64)),
        }),
    )
}
