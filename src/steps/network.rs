//! Network steps run from the machine running shakedown: is a TCP port open or closed on
//! a host (an inventory name or an address), optionally within a time limit.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::expect::duration;
use super::{Args, Lane, Measurement, Outcome, StepCtx, StepDef, StepOutput};

const MODULE: &str = "src/steps/network.rs";

/// The network family.
pub const STEPS: &[StepDef] = &[
    StepDef {
        line: line!(),
        sentence: "TCP port {int} on {string} should be open",
        example: r#"Then TCP port 3306 on "db1" should be open"#,
        doc: "Connects from this machine to the port of the host (an inventory name or an address) within the step timeout. The failure says refused, unreachable or timed out.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: false,
        check: Some(check_port),
        run: port_open,
    },
    StepDef {
        line: line!(),
        sentence: "TCP port {int} on {string} should be open within {duration}",
        example: r#"Then TCP port 3306 on "db1" should be open within 500 ms"#,
        doc: "As above, and the connection must be established within the time given; the connect time is a measured value.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: false,
        check: Some(check_port_within),
        run: port_open_within,
    },
    StepDef {
        line: line!(),
        sentence: "TCP port {int} on {string} should be closed",
        example: r#"Then TCP port 23 on "{name}" should be closed"#,
        doc: "A connection from this machine is refused or not answered within the step timeout (a filtered port counts as closed).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: false,
        check: Some(check_port),
        run: port_closed,
    },
];

fn check_port(args: &[String]) -> Result<(), String> {
    match args.first().map(|p| p.parse::<u16>()) {
        Some(Ok(p)) if p > 0 => Ok(()),
        _ => Err(format!(
            "port \"{}\" is not between 1 and 65535",
            args.first().map(String::as_str).unwrap_or("")
        )),
    }
}

fn check_port_within(args: &[String]) -> Result<(), String> {
    check_port(args)?;
    duration(args.get(2).map(String::as_str).unwrap_or("")).map(|_| ())
}

/// What a TCP connect attempt gave.
enum Probe {
    Open(Duration),
    Closed(String),
}

async fn probe(ctx: &StepCtx, port: &str, host: &str, limit: Duration) -> Probe {
    let address = ctx.pool.address_of(host);
    let target = if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    };
    let start = Instant::now();
    match tokio::time::timeout(limit, tokio::net::TcpStream::connect(&target)).await {
        Ok(Ok(_)) => Probe::Open(start.elapsed()),
        Ok(Err(e)) => Probe::Closed(format!("{target}: {e}")),
        Err(_) => Probe::Closed(format!(
            "{target}: no answer within {}",
            humantime::format_duration(limit)
        )),
    }
}

fn port_open(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let expected = format!("TCP port {} on {} open", a.get(0), a.get(1));
        Ok(match probe(ctx, a.get(0), a.get(1), ctx.step_timeout).await {
            Probe::Open(t) => Outcome::pass(expected, format!("open, connected in {} ms", t.as_millis())),
            Probe::Closed(why) => Outcome::fail(expected, why),
        })
    })
}

fn port_open_within(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let limit = duration(a.get(2)).map_err(super::StepError::Other)?;
        let expected = format!(
            "TCP port {} on {} open within {} ms",
            a.get(0),
            a.get(1),
            limit.as_millis()
        );
        Ok(match probe(ctx, a.get(0), a.get(1), ctx.step_timeout).await {
            Probe::Open(t) => {
                let ms = t.as_secs_f64() * 1000.0;
                Outcome::check(t <= limit, expected, format!("connected in {ms:.0} ms")).with(Measurement {
                    label: format!("{} port {} connect", a.get(1), a.get(0)),
                    value: (ms * 10.0).round() / 10.0,
                    unit: "ms".into(),
                    warn: None,
                    crit: Some(super::Range::up_to(limit.as_secs_f64() * 1000.0)),
                })
            }
            Probe::Closed(why) => Outcome::fail(expected, why),
        })
    })
}

fn port_closed(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let expected = format!("TCP port {} on {} closed", a.get(0), a.get(1));
        Ok(match probe(ctx, a.get(0), a.get(1), ctx.step_timeout).await {
            Probe::Open(t) => Outcome::fail(expected, format!("open (connected in {} ms)", t.as_millis())),
            Probe::Closed(why) => Outcome::pass(expected, why),
        })
    })
}
