//! The Apache request-rate step: mod_status `server-status?auto`, read over HTTP from the
//! machine running shakedown, and the rate checked against a band.

use futures::future::BoxFuture;

use crate::probes::apache_status::read_rate;
use crate::steps::{Args, Lane, Measurement, Outcome, StepCtx, StepDef, StepError, StepOutput};

const MODULE: &str = "src/steps/http/apache.rs";

/// `Apache on "{address}" should be serving between 5 and 500 requests per second`.
pub(super) const RATE: StepDef = StepDef {
    line: line!(),
    sentence: "Apache on {string} should be serving between {float} and {float} requests per second",
    example: r#"Then Apache on "{address}" should be serving between 5 and 500 requests per second"#,
    doc: "GETs http://ADDRESS/server-status?auto (an inventory name becomes its address; a full http(s):// URL is used as given) and takes ReqPerSec, Apache's average since it started; when the page has no ReqPerSec, reads it twice a second apart and uses the growth of Total Accesses (less our own read). Passes when the rate is within the band, ends included. Needs mod_status reachable from this machine. Measured: requests per second.",
    module: MODULE,
    file: MODULE,
    lane: Lane::Ahead,
    facts: &[],
    needs_host: false,
    check: Some(check_band),
    run: rate,
};

fn check_band(args: &[String]) -> Result<(), String> {
    let num = |i: usize| args.get(i).and_then(|v| v.parse::<f64>().ok());
    match (num(1), num(2)) {
        (Some(lo), Some(hi)) if lo <= hi && lo >= 0.0 => Ok(()),
        _ => Err(format!(
            "the band {} to {} is not low-to-high and non-negative",
            args.get(1).map(String::as_str).unwrap_or(""),
            args.get(2).map(String::as_str).unwrap_or("")
        )),
    }
}

/// The status page URL for an address, inventory name or URL.
fn status_url(ctx: &StepCtx, target: &str) -> String {
    if target.starts_with("http://") || target.starts_with("https://") {
        return target.to_string();
    }
    let addr = ctx.pool.address_of(target);
    let host = if addr.contains(':') && !addr.starts_with('[') {
        format!("[{addr}]")
    } else {
        addr
    };
    format!("http://{host}/server-status?auto")
}

fn rate(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        check_band(&a.values).map_err(StepError::Other)?;
        let num = |i: usize| {
            a.get(i)
                .parse::<f64>()
                .map_err(|_| StepError::Other(format!("\"{}\" is not a number", a.get(i))))
        };
        let (lo, hi) = (num(1)?, num(2)?);
        let url = status_url(ctx, a.get(0));
        let expected = format!("Apache at {url} serving between {lo} and {hi} requests per second");
        let rate = match read_rate(&url, ctx.step_timeout).await {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::fail(expected, e)),
        };
        let value = (rate.per_sec * 1000.0).round() / 1000.0;
        let found = format!("{value} requests per second ({})", rate.how);
        Ok(
            Outcome::check((lo..=hi).contains(&rate.per_sec), expected, found).with(Measurement {
                label: "requests per second".into(),
                value,
                unit: String::new(),
                warn: None,
                crit: Some(crate::steps::Range::between(lo, hi)),
            }),
        )
    })
}
