//! HTTP steps, run from the machine running shakedown: send requests (GET, POST with a
//! body, an extra header, N times, via a chosen backend), then check the last response's
//! status, body, headers, JSON, redirect and response time. The TLS certificate and Apache
//! request-rate steps of the same STEPS.md section live in [`tls`] and [`apache`].

mod apache;
mod timing;
mod tls;

use futures::future::BoxFuture;
use reqwest::Method;

use super::expect::{check_last_regex, contains, duration, excerpt, matches};
use super::{Args, Lane, Outcome, StepCtx, StepDef, StepError, StepOutput};
use crate::probes::http::{HttpError, Request, Response, json_at, json_text, send};

const MODULE: &str = "src/steps/http/mod.rs";

/// What the HTTP steps of one scenario have seen, for the Then steps.
#[derive(Debug, Default)]
pub struct HttpState {
    /// `GET http://10.77.0.11/` of the last request step.
    pub request: String,
    /// `10.77.0.11/health`: host and path of the last request, the start of the
    /// measured values' labels.
    pub target: String,
    /// The responses of the last request step (one, or N after "N times"), in order.
    pub responses: Vec<Response>,
    /// Every response time of the scenario, ms (for the percentile step).
    pub times_ms: Vec<f64>,
}

impl HttpState {
    /// The last response, or an error saying a request step must come first.
    pub fn last(&self) -> Result<&Response, StepError> {
        self.responses.last().ok_or_else(|| {
            StepError::Other(
                "no HTTP request has been made yet: add a step like When I request \"http://{address}/\" before this one"
                    .into(),
            )
        })
    }

    /// `GET http://x/` or `GET http://x/ (last of 20)`.
    fn what(&self) -> String {
        match self.responses.len() {
            0 | 1 => self.request.clone(),
            n => format!("{} (last of {n})", self.request),
        }
    }
}

/// The http family (with the TLS and Apache steps of the same section).
pub const STEPS: &[StepDef] = &[
    StepDef {
        line: line!(),
        sentence: "I request {string}",
        example: r#"When I request "http://{address}/health""#,
        doc: "GET from this machine, on a fresh connection, without following redirects or using any proxy. The step timeout bounds the request. Keeps the response (status, headers, body, time from connect to last body byte) for the Then steps; the response time is a measured value. Fails when no response comes back, saying whether the connection failed, the TLS handshake failed (in words: `the certificate is not signed by a CA this machine trusts`) or it timed out.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_url),
        run: get,
    },
    StepDef {
        line: line!(),
        sentence: "I request {string} via {string}",
        example: r#"When I request "https://www.example.com/" via "{address}""#,
        doc: "As `I request`, but connects to the given address (an IP address, an inventory name, or a resolvable name; the URL's port is kept) while sending the URL's Host header and TLS SNI: tests each backend behind a load balancer by its public name. The certificate must still be valid for that name. Every expected/found text names the backend (`GET https://www.example.com/ via web2 (10.77.0.12)`; a failed connection gives the address and port it tried).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_url),
        run: get_via,
    },
    StepDef {
        line: line!(),
        sentence: "I request {string} with header {string}",
        example: r#"When I request "http://{address}/" with header "Accept: application/json""#,
        doc: "As `I request`, with one extra request header written `Name: value`.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_header),
        run: get_with_header,
    },
    StepDef {
        line: line!(),
        sentence: "I send a POST request to {string} with body:",
        example: r#"When I send a POST request to "http://{address}/api" with body:"#,
        doc: "POSTs the doc string below the step as the body (Content-Type application/json when the body is valid JSON, else text/plain). Otherwise as `I request`.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_url),
        run: post,
    },
    StepDef {
        line: line!(),
        sentence: "I request {string} {int} times",
        example: r#"When I request "http://{address}/" 20 times"#,
        doc: "GETs the URL N times one after another, each on a fresh connection; all N must fit in the step timeout (raise --step-timeout for many slow requests). Every response time is kept: `the response time should be under` then checks each of the N, the percentile step uses them, and the status/body/header/JSON steps check the last response (their failure also counts the statuses of all N). Measured: median and slowest response time.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_times),
        run: get_times,
    },
    StepDef {
        line: line!(),
        sentence: "the response status should be {int}",
        example: "Then the response status should be 200",
        doc: "The last response has this status code. The failure shows the status and the start of the body.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_status),
        run: status_is,
    },
    StepDef {
        line: line!(),
        sentence: "the response status should not be {int}",
        example: "Then the response status should not be 500",
        doc: "The last response has any other status code.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_status),
        run: status_is_not,
    },
    StepDef {
        line: line!(),
        sentence: "the response should contain {string}",
        example: r#"Then the response should contain "Welcome""#,
        doc: "The last response's body contains the text (case-sensitive).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: None,
        run: body_contains,
    },
    StepDef {
        line: line!(),
        sentence: "the response should match {regex}",
        example: r"Then the response should match /build: [0-9a-f]{7}/",
        doc: "The last response's body matches the regular expression (multi-line: ^ and $ match at each line).",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_last_regex),
        run: body_matches,
    },
    StepDef {
        line: line!(),
        sentence: "the response should not contain {string}",
        example: r#"Then the response should not contain "Traceback""#,
        doc: "The last response's body does not contain the text.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: None,
        run: body_not_contains,
    },
    StepDef {
        line: line!(),
        sentence: "the response header {string} should contain {string}",
        example: r#"Then the response header "Content-Type" should contain "text/html""#,
        doc: "The header (name case-insensitive; repeated headers joined with \", \") contains the text. The failure lists the headers received when it is absent.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: None,
        run: header_contains,
    },
    StepDef {
        line: line!(),
        sentence: "the JSON at {string} should be {string}",
        example: r#"Then the JSON at "status" should be "ok""#,
        doc: "Parses the last response's body as JSON and walks the dotted path (object keys and array indexes: `data.items.0.name`). A string compares as its text, anything else as JSON (`true`, `42`, `null`). The failure says where the path stopped, or that the body is not JSON, with its first bytes.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: None,
        run: json_is,
    },
    StepDef {
        line: line!(),
        sentence: "the response should redirect to {string}",
        example: r#"Then the response should redirect to "https://www.example.com/""#,
        doc: "The last response is a redirect (3xx) whose Location, resolved against the requested URL, is this URL. Redirects are never followed, so this sees the first answer.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: None,
        run: redirects_to,
    },
    StepDef {
        line: line!(),
        sentence: "the response time should be under {duration}",
        example: "Then the response time should be under 500 ms",
        doc: "The last request took less than the limit, from connect to last body byte (a fresh connection each time, so connect and TLS count). After `I request ... N times` EACH of the N requests must be under the limit; the failure lists the slow ones. Measured: the response time (the slowest of N) with the limit as critical threshold.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_duration),
        run: timing::time_under,
    },
    StepDef {
        line: line!(),
        sentence: "the 95th percentile response time should be under {duration}",
        example: "Then the 95th percentile response time should be under 300 ms",
        doc: "The 95th percentile (nearest rank) of every request made so far in the scenario is under the limit; with fewer than 20 requests that is the slowest. Measured: the percentile, with the limit as critical threshold.",
        module: MODULE,
        file: MODULE,
        lane: Lane::Chain,
        facts: &[],
        needs_host: false,
        check: Some(check_duration),
        run: timing::p95_under,
    },
    tls::CERT_DAYS,
    tls::CERT_DAYS_VIA,
    apache::RATE,
];

fn check_url(args: &[String]) -> Result<(), String> {
    let url = args.first().map(String::as_str).unwrap_or("");
    match url.starts_with("http://") || url.starts_with("https://") {
        true => Ok(()),
        false => Err(format!("\"{url}\" is not an http:// or https:// URL")),
    }
}

fn check_header(args: &[String]) -> Result<(), String> {
    check_url(args)?;
    parse_header(args.get(1).map(String::as_str).unwrap_or("")).map(|_| ())
}

fn check_times(args: &[String]) -> Result<(), String> {
    check_url(args)?;
    match args.get(1).map(|n| n.parse::<u32>()) {
        Some(Ok(n)) if (1..=10_000).contains(&n) => Ok(()),
        _ => Err(format!(
            "repeat count \"{}\" is not between 1 and 10000",
            args.get(1).map(String::as_str).unwrap_or("")
        )),
    }
}

fn check_status(args: &[String]) -> Result<(), String> {
    match args.first().map(|s| s.parse::<u16>()) {
        Some(Ok(s)) if (100..=599).contains(&s) => Ok(()),
        _ => Err(format!(
            "HTTP status \"{}\" is not between 100 and 599",
            args.first().map(String::as_str).unwrap_or("")
        )),
    }
}

fn check_duration(args: &[String]) -> Result<(), String> {
    duration(args.last().map(String::as_str).unwrap_or("")).map(|_| ())
}

/// Splits `Name: value`.
fn parse_header(text: &str) -> Result<(String, String), String> {
    let bad = || format!("header \"{text}\" is not written \"Name: value\"");
    let (name, value) = text.split_once(':').ok_or_else(bad)?;
    let name = name.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(bad());
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Sends `times` requests one after another within the step timeout and stores them.
/// `via` names the backend a "via" request goes to, for every text about it.
async fn request(ctx: &mut StepCtx, mut req: Request, times: u32, via: Option<String>) -> StepOutput {
    let what = match via {
        Some(via) => format!("{} {} via {via}", req.method, req.url),
        None => format!("{} {}", req.method, req.url),
    };
    let deadline = std::time::Instant::now() + ctx.step_timeout;
    let mut responses = Vec::with_capacity(times as usize);
    ctx.http.request = what.clone();
    ctx.http.target = target_label(&req.url);
    ctx.http.responses.clear();
    for i in 0..times {
        req.timeout = deadline.saturating_duration_since(std::time::Instant::now());
        let nth = if times > 1 {
            format!("request {} of {times}: ", i + 1)
        } else {
            String::new()
        };
        let response = match send(&req).await {
            Ok(r) => r,
            Err(e) => {
                // Each request gets what is left of the step timeout: report the step's.
                let e = match e {
                    HttpError::Timeout { method, url, .. } => HttpError::Timeout {
                        method,
                        url,
                        timeout: ctx.step_timeout,
                    },
                    other => other,
                };
                let timed_out = matches!(e, HttpError::Timeout { .. });
                let budget = if times > 1 && timed_out {
                    format!(" (the step timeout, for all {times} requests)")
                } else {
                    String::new()
                };
                return Ok(Outcome::fail(
                    format!("a response to {what}"),
                    format!("no response: {nth}{e}{budget}"),
                ));
            }
        };
        ctx.http.times_ms.push(response.millis());
        responses.push(response);
    }
    let outcome = timing::summary(&what, &ctx.http.target, &responses);
    ctx.http.responses = responses;
    Ok(outcome)
}

/// `10.77.0.11/health` for `http://10.77.0.11/health?x=1` (no scheme, query or `=`, which
/// perfdata labels cannot hold).
fn target_label(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}{}{}",
            u.host_str().unwrap_or(""),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => url.replace(['=', '\''], "_"),
    }
}

/// `200 ×17, 500 ×3`.
pub(super) fn status_counts(responses: &[Response]) -> String {
    let mut counts: std::collections::BTreeMap<u16, usize> = Default::default();
    for r in responses {
        *counts.entry(r.status).or_default() += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{s} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn new_request(method: Method, url: &str, ctx: &StepCtx) -> Request {
    Request {
        method,
        url: url.to_string(),
        headers: Vec::new(),
        body: None,
        via: None,
        timeout: ctx.step_timeout,
    }
}

fn get(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let req = new_request(Method::GET, a.get(0), ctx);
        request(ctx, req, 1, None).await
    })
}

fn get_via(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let mut req = new_request(Method::GET, a.get(0), ctx);
        let address = ctx.pool.address_of(a.get(1));
        let shown = backend_name(ctx, a.get(1), &address);
        req.via = Some(address);
        request(ctx, req, 1, Some(shown)).await
    })
}

/// The backend a "via" request goes to, as failures name it: `web2 (10.77.0.12)` for an
/// inventory host given by name or by address, else the address or name as written.
pub(super) fn backend_name(ctx: &StepCtx, written: &str, address: &str) -> String {
    if written != address {
        return format!("{written} ({address})");
    }
    let hosts = ctx.pool.select("*").unwrap_or_default();
    match hosts.iter().find(|h| h.host.address == address) {
        Some(h) => format!("{} ({address})", h.host.name),
        None => written.to_string(),
    }
}

fn get_with_header(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let mut req = new_request(Method::GET, a.get(0), ctx);
        req.headers.push(parse_header(a.get(1)).map_err(StepError::Other)?);
        request(ctx, req, 1, None).await
    })
}

fn post(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let mut req = new_request(Method::POST, a.get(0), ctx);
        let body = a.doc_string.clone().ok_or_else(|| {
            StepError::Other("this step needs the body as a doc string (\"\"\" lines) below it".into())
        })?;
        req.body = Some(body);
        request(ctx, req, 1, None).await
    })
}

fn get_times(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let times = check_times(&a.values)
            .map_err(StepError::Other)
            .and_then(|_| a.int(1))?;
        let req = new_request(Method::GET, a.get(0), ctx);
        request(ctx, req, times as u32, None).await
    })
}

/// `500 Internal Server Error, body "..."` (and the statuses of all N when there were N).
fn status_found(state: &HttpState, last: &Response) -> String {
    let body: String = last.text().chars().take(200).collect();
    let all = if state.responses.len() > 1 {
        format!(" (all {}: {})", state.responses.len(), status_counts(&state.responses))
    } else {
        String::new()
    };
    format!("{}{all}, body {}", last.status_line(), excerpt(&body))
}

fn status_is(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let want = a.int(0)?;
        let last = ctx.http.last()?;
        let expected = format!("status {want} from {}", ctx.http.what());
        Ok(Outcome::check(
            i64::from(last.status) == want,
            expected,
            status_found(&ctx.http, last),
        ))
    })
}

fn status_is_not(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let not = a.int(0)?;
        let last = ctx.http.last()?;
        let expected = format!("a status other than {not} from {}", ctx.http.what());
        Ok(Outcome::check(
            i64::from(last.status) != not,
            expected,
            status_found(&ctx.http, last),
        ))
    })
}

fn body_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let last = ctx.http.last()?;
        Ok(contains(
            &format!("body of {}", ctx.http.what()),
            &last.text(),
            a.get(0),
            false,
        ))
    })
}

fn body_not_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let last = ctx.http.last()?;
        Ok(contains(
            &format!("body of {}", ctx.http.what()),
            &last.text(),
            a.get(0),
            true,
        ))
    })
}

fn body_matches(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let last = ctx.http.last()?;
        matches(&format!("body of {}", ctx.http.what()), &last.text(), a.get(0))
    })
}

fn header_contains(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let last = ctx.http.last()?;
        let (name, want) = (a.get(0), a.get(1));
        let expected = format!("header {name} of {} containing {want:?}", ctx.http.what());
        Ok(match last.header(name) {
            Some(value) => Outcome::check(value.contains(want), expected, format!("{name}: {value}")),
            None => {
                let names: Vec<&str> = last.headers.iter().map(|(n, _)| n.as_str()).collect();
                Outcome::fail(expected, format!("no {name} header (received: {})", names.join(", ")))
            }
        })
    })
}

fn json_is(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let last = ctx.http.last()?;
        let (path, want) = (a.get(0), a.get(1));
        let expected = format!("JSON at \"{path}\" of {} = {want:?}", ctx.http.what());
        Ok(match json_at(&last.body, path) {
            Ok(value) => Outcome::check(json_text(&value) == want, expected, value.to_string()),
            Err(why) => Outcome::fail(expected, why),
        })
    })
}

fn redirects_to(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let last = ctx.http.last()?;
        let want = a.get(0);
        let expected = format!("a redirect (3xx) from {} to {want}", ctx.http.what());
        let location = last.header("location");
        let resolved = location.as_deref().map(|l| resolve_location(&last.url, l));
        let same = resolved.as_deref().is_some_and(|r| same_url(r, want));
        let found = match &location {
            Some(l) => format!("{} to {l}", last.status_line()),
            None => format!("{}, no Location header", last.status_line()),
        };
        Ok(Outcome::check(
            (300..400).contains(&last.status) && same,
            expected,
            found,
        ))
    })
}

/// A Location resolved against the request URL (it may be relative).
fn resolve_location(base: &str, location: &str) -> String {
    reqwest::Url::parse(base)
        .and_then(|b| b.join(location))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| location.to_string())
}

/// The same URL once normalised (`http://x` = `http://x/`, default ports dropped).
fn same_url(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value() {
        assert_eq!(
            parse_header("Accept: application/json").unwrap(),
            ("Accept".into(), "application/json".into())
        );
        assert!(parse_header("Accept application/json").is_err());
        assert!(parse_header("Bad Name: x").is_err());
    }

    #[test]
    fn locations_resolve_against_the_request() {
        assert_eq!(resolve_location("http://10.0.0.1/old", "/new"), "http://10.0.0.1/new");
        assert!(same_url("http://10.0.0.1", "http://10.0.0.1/"));
        assert!(same_url("https://x:443/a", "https://x/a"));
        assert!(!same_url("http://x/a", "http://x/b"));
    }

    #[test]
    fn lint_checks_arguments() {
        assert!(check_url(&["{address}/".into()]).is_err());
        assert!(check_times(&["http://x/".into(), "0".into()]).is_err());
        assert!(check_status(&["999".into()]).is_err());
        assert!(check_duration(&["-5 ms".into()]).is_err());
    }
}
