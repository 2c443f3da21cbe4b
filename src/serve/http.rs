//! The HTTP side of `serve` (hyper 1, HTTP/1.1): routes `/healthz`, `/metrics`,
//! `/pingdom` and `/`, one task per connection so a request waiting for a slow run never
//! holds the listener, and a graceful stop: on shutdown the listener closes, connections
//! finish their request in flight (bounded by [`DRAIN`]) and the server returns.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ACCEPT, ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use super::flight::Flight;
use super::metrics::{self, ServerState};
use super::negotiate::{self, Body};
use super::{Snapshot, json, pingdom};
use crate::report::junit;

/// Time a client has to send its request headers (a stalled client frees its slot).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Time given to open connections after shutdown before they are dropped.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Serves until `stop` resolves.
pub async fn serve(listener: TcpListener, flight: Arc<Flight>, stop: impl std::future::Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: keep the listener alive.
                Err(_) => continue,
            },
            () = &mut stop => break,
        };
        let flight = flight.clone();
        let service = service_fn(move |req| {
            let flight = flight.clone();
            async move { Ok::<_, Infallible>(route(&flight, &req).await) }
        });
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}

/// One request: the endpoint's body, or 404/405.
async fn route(flight: &Arc<Flight>, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        // RFC 9110 15.5.6: a 405 lists the methods the resource supports.
        let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
        resp.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    match req.uri().path() {
        "/healthz" => {
            let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
            let body = negotiate::choose(accept);
            match flight.fresh().await {
                Ok(snap) => reply(status_of(&snap), body.content_type(), health_body(&snap, body)),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
            }
        }
        "/pingdom" => match flight.fresh().await {
            Ok(snap) => reply(
                status_of(&snap),
                "application/xml; charset=utf-8",
                pingdom::render(&snap),
            ),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
        },
        "/metrics" => {
            let last = flight.latest();
            let server = ServerState {
                runs: flight.runs(),
                running: flight.running(),
            };
            reply(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                metrics::render(last.as_deref(), server),
            )
        }
        "/" => text(
            StatusCode::OK,
            "shakedown serve\n/healthz  run the suites (cached): 200 all passed, 503 otherwise; JSON, or Accept: application/xml (JUnit), text/plain (Nagios)\n/metrics  Prometheus metrics of the last run\n/pingdom  Pingdom custom HTTP check XML\n",
        ),
        _ => text(StatusCode::NOT_FOUND, "not found: try /healthz, /metrics or /pingdom\n"),
    }
}

fn status_of(snap: &Snapshot) -> StatusCode {
    if snap.healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

/// The `/healthz` body in the negotiated format.
fn health_body(snap: &Snapshot, body: Body) -> String {
    match body {
        Body::Json => json::render(snap),
        Body::Junit => {
            let meta = junit::Meta {
                started: snap.started,
                hostname: junit::Meta::now().hostname,
            };
            junit::render(&snap.summary, &meta)
        }
        Body::Nagios => snap.plugin().render(),
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    reply(status, "text/plain; charset=utf-8", body.to_string())
}

/// Every response is made here, its body passed through the redaction of every report
/// ([`crate::report::target::scrub`]).
fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(crate::report::target::scrub(&body))));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
