//! Response times: what the request steps measure, and the two checks on them (each
//! request under a limit; the 95th percentile of the scenario under a limit). Times run
//! from before the connect to the last body byte, on a fresh connection every time.

use futures::future::BoxFuture;

use super::{HttpState, status_counts};
use crate::probes::http::Response;
use crate::steps::expect::duration;
use crate::steps::{Args, Measurement, Outcome, Range, StepCtx, StepError, StepOutput};

/// A time in ms; labels start with the request's target (`10.77.0.11/health response
/// time`) so two requests of one scenario never share a label.
fn measure(target: &str, what: &str, value: f64, crit: Option<Range>) -> Measurement {
    Measurement {
        label: format!("{target} {what}"),
        value,
        unit: "ms".into(),
        warn: None,
        crit,
    }
}

/// The outcome of a request step: `200 OK in 12.3 ms`, or for N requests their statuses,
/// median and slowest; the times are measured values.
pub(super) fn summary(what: &str, target: &str, responses: &[Response]) -> Outcome {
    let expected = format!("a response to {what}");
    let Some(last) = responses.last() else {
        return Outcome::fail(expected, "no request sent");
    };
    if responses.len() == 1 {
        let found = format!("{} in {:.1} ms", last.status_line(), last.millis());
        return Outcome::pass(expected, found).with(measure(target, "response time", last.millis(), None));
    }
    let mut ms: Vec<f64> = responses.iter().map(Response::millis).collect();
    ms.sort_by(f64::total_cmp);
    let (median, max) = (percentile(&ms, 50.0), ms[ms.len() - 1]);
    let found = format!(
        "{} responses ({}), median {median:.1} ms, slowest {max:.1} ms",
        responses.len(),
        status_counts(responses)
    );
    Outcome::pass(expected, found)
        .with(measure(target, "response time median", median, None))
        .with(measure(target, "response time max", max, None))
}

/// `the response time should be under 500 ms`: the last request, or each of the N.
pub(super) fn time_under(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let limit = duration(a.get(0)).map_err(StepError::Other)?;
        let limit_ms = limit.as_secs_f64() * 1000.0;
        ctx.http.last()?;
        Ok(check_each(&ctx.http, limit, limit_ms))
    })
}

fn check_each(state: &HttpState, limit: std::time::Duration, limit_ms: f64) -> Outcome {
    let all = &state.responses;
    let many = all.len() > 1;
    let slow: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(_, r)| r.elapsed >= limit)
        .map(|(i, r)| {
            if many {
                format!("#{} {:.1} ms", i + 1, r.millis())
            } else {
                format!("{:.1} ms", r.millis())
            }
        })
        .collect();
    let max = all.iter().map(Response::millis).fold(0.0, f64::max);
    let (expected, found, label) = if !many {
        (
            format!("{} answered in under {limit_ms:.0} ms", state.request),
            format!("{max:.1} ms"),
            "response time",
        )
    } else {
        let expected = format!(
            "each of the {} requests {} answered in under {limit_ms:.0} ms",
            all.len(),
            state.request
        );
        let found = match slow.len() {
            0 => format!("slowest {max:.1} ms"),
            n => format!(
                "{n} of {} too slow: {} (slowest {max:.1} ms)",
                all.len(),
                slow.join(", ")
            ),
        };
        (expected, found, "response time max")
    };
    Outcome::check(slow.is_empty(), expected, found).with(measure(
        &state.target,
        label,
        max,
        Some(Range::under(limit_ms, false)),
    ))
}

/// Nearest-rank percentile of sorted values (at least one).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `the 95th percentile response time should be under 300 ms`: every request so far in
/// the scenario.
pub(super) fn p95_under(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let limit = duration(a.get(0)).map_err(StepError::Other)?;
        let limit_ms = limit.as_secs_f64() * 1000.0;
        ctx.http.last()?;
        let mut ms = ctx.http.times_ms.clone();
        ms.sort_by(f64::total_cmp);
        let p95 = percentile(&ms, 95.0);
        let expected = format!("95th percentile response time under {limit_ms:.0} ms");
        let found = format!(
            "{p95:.1} ms over {} requests of this scenario (median {:.1} ms, slowest {:.1} ms)",
            ms.len(),
            percentile(&ms, 50.0),
            ms[ms.len() - 1]
        );
        let m = measure(
            "scenario",
            "response time p95",
            p95,
            Some(Range::under(limit_ms, false)),
        );
        Ok(Outcome::check(p95 < limit_ms, expected, found).with(m))
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn response(ms: u64) -> Response {
        Response {
            url: "http://10.0.0.1/".into(),
            status: 200,
            reason: "OK".into(),
            headers: Vec::new(),
            body: Vec::new(),
            elapsed: Duration::from_millis(ms),
        }
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let ms: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&ms, 95.0), 19.0);
        assert_eq!(percentile(&ms[..10], 95.0), 10.0);
        assert_eq!(percentile(&[7.0], 95.0), 7.0);
    }

    #[test]
    fn each_of_n_requests_is_checked_and_the_slow_ones_listed() {
        let state = HttpState {
            request: "GET http://10.0.0.1/".into(),
            target: "10.0.0.1/".into(),
            responses: vec![response(10), response(900), response(20)],
            times_ms: vec![10.0, 900.0, 20.0],
        };
        let o = check_each(&state, Duration::from_millis(500), 500.0);
        assert!(!o.passed);
        assert_eq!(
            o.expected,
            "each of the 3 requests GET http://10.0.0.1/ answered in under 500 ms"
        );
        assert_eq!(o.found, "1 of 3 too slow: #2 900.0 ms (slowest 900.0 ms)");
        assert_eq!(o.measured[0].label, "10.0.0.1/ response time max");
        assert_eq!(
            (o.measured[0].value, o.measured[0].crit),
            (900.0, Some(Range::under(500.0, false)))
        );
    }
}
