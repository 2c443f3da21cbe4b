//! HTTP requests from the controller, one fresh connection each, timed from before the
//! connect to the last body byte. Redirects are never followed (the redirect step needs
//! to see them), no proxy is ever used (a cron job's `HTTP_PROXY` must not reroute a
//! probe), and "via" sends to a chosen backend while keeping the URL's Host and SNI.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::{Client, Method, Url, redirect::Policy};

/// One request to send.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// GET or POST.
    pub method: Method,
    /// The URL as the feature wrote it (after substitution).
    pub url: String,
    /// Extra headers, `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// The body of a POST.
    pub body: Option<String>,
    /// Connect to this address (an IP address or a resolvable name) instead of the URL's
    /// host, keeping Host and SNI.
    pub via: Option<String>,
    /// Gives up after this long (connect to last body byte).
    pub timeout: Duration,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL requested.
    pub url: String,
    /// Status code.
    pub status: u16,
    /// Reason phrase for the status (`Not Found`), empty when unknown.
    pub reason: String,
    /// Headers in received order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Connect to last body byte.
    pub elapsed: Duration,
}

impl Response {
    /// The values of a header (case-insensitive), joined with `, ` as HTTP allows.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `200 OK`.
    pub fn status_line(&self) -> String {
        if self.reason.is_empty() {
            self.status.to_string()
        } else {
            format!("{} {}", self.status, self.reason)
        }
    }

    /// Elapsed time in milliseconds, to 0.1 ms.
    pub fn millis(&self) -> f64 {
        (self.elapsed.as_secs_f64() * 10_000.0).round() / 10.0
    }
}

/// Why no response came back, in an operator's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HttpError {
    /// The URL does not parse or is not http(s).
    #[error("bad URL \"{url}\": {reason}")]
    BadUrl {
        /// As written.
        url: String,
        /// Why.
        reason: String,
    },
    /// The "via" address does not resolve.
    #[error("cannot resolve \"{via}\": {reason}")]
    Via {
        /// As written.
        via: String,
        /// Why.
        reason: String,
    },
    /// No answer within the timeout.
    #[error("timed out after {} ({method} {url})", humantime::format_duration(*.timeout))]
    Timeout {
        /// Method.
        method: String,
        /// URL, with `via ADDRESS:PORT` when the request went to a chosen address.
        url: String,
        /// The limit.
        timeout: Duration,
    },
    /// Connect, TLS, or protocol failure.
    #[error("{kind} ({method} {url}): {reason}")]
    Failed {
        /// `connection failed`, `TLS handshake failed`, `request failed`, `reading the body
        /// failed`.
        kind: &'static str,
        /// Method.
        method: String,
        /// URL, with `via ADDRESS:PORT` when the request went to a chosen address.
        url: String,
        /// The error chain.
        reason: String,
    },
    /// The client could not be built (TLS setup).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

/// Sends `req` on a fresh connection and reads the whole body.
pub(crate) async fn send(req: &Request) -> Result<Response, HttpError> {
    let url = parse_url(&req.url)?;
    let via = match &req.via {
        Some(via) => Some(resolve_via(via, url.port_or_known_default().unwrap_or(80)).await?),
        None => None,
    };
    let client = client_for(&url, via).await?;
    let mut builder = client.request(req.method.clone(), url.clone()).timeout(req.timeout);
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = &req.body {
        let json = serde_json::from_str::<serde_json::Value>(body).is_ok();
        let content_type = if json {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        if !req.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            builder = builder.header("content-type", content_type);
        }
        builder = builder.body(body.clone());
    }
    let fail = |kind: &'static str, e: reqwest::Error| classify(kind, req, via, &e);
    let start = Instant::now();
    let response = builder.send().await.map_err(|e| fail("connection failed", e))?;
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.map_err(|e| fail("reading the body failed", e))?;
    let elapsed = start.elapsed();
    Ok(Response {
        url: req.url.clone(),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        headers,
        body: body.to_vec(),
        elapsed,
    })
}

/// Parses an http(s) URL.
pub(crate) fn parse_url(url: &str) -> Result<Url, HttpError> {
    let bad = |reason: String| HttpError::BadUrl {
        url: url.to_string(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| bad(e.to_string()))?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some() => Ok(parsed),
        "http" | "https" => Err(bad("no host".into())),
        other => Err(bad(format!("scheme \"{other}\" is not http or https"))),
    }
}

fn classify(kind: &'static str, req: &Request, via: Option<SocketAddr>, e: &reqwest::Error) -> HttpError {
    // Errors name the address a "via" request went to: which backend failed.
    let url = match via {
        Some(addr) => format!("{} via {addr}", req.url),
        None => req.url.clone(),
    };
    if e.is_timeout() {
        return HttpError::Timeout {
            method: req.method.to_string(),
            url,
            timeout: req.timeout,
        };
    }
    if let Some(tls) = super::tls_errors::find(e) {
        return HttpError::Failed {
            kind: "TLS handshake failed",
            method: req.method.to_string(),
            url,
            reason: super::tls_errors::describe(tls),
        };
    }
    let kind = if e.is_connect() { "connection failed" } else { kind };
    // reqwest's own top level repeats the URL and "client error (Connect)" says nothing.
    let chain = error_chain(e);
    let reason = chain
        .split(": ")
        .filter(|p| !p.starts_with("error sending request") && !p.starts_with("client error ("))
        .collect::<Vec<_>>()
        .join(": ");
    let reason = if reason.is_empty() { chain } else { reason };
    HttpError::Failed {
        kind,
        method: req.method.to_string(),
        url,
        reason,
    }
}

/// An error and its sources, deepest last, without repeats (`error sending request:
/// client error (Connect): tcp connect error: Connection refused (os error 111)`).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// One client per "via" mapping (connections are not kept: every request connects anew).
async fn client_for(url: &Url, via: Option<SocketAddr>) -> Result<Client, HttpError> {
    let mapping = via.map(|addr| (url.host_str().unwrap_or_default().to_string(), addr));
    let key = mapping.as_ref().map(|(h, a)| format!("{h}={a}")).unwrap_or_default();
    // One build per key even when many scenarios start at once (a build costs tens of ms
    // of CPU, which would show up in the response times of requests already in flight),
    // and off the runtime's threads.
    static CLIENTS: OnceLock<tokio::sync::Mutex<HashMap<String, Client>>> = OnceLock::new();
    let mut cache = CLIENTS.get_or_init(Default::default).lock().await;
    if let Some(c) = cache.get(&key) {
        return Ok(c.clone());
    }
    let build = move || {
        let mut builder = Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(0);
        if let Some((host, addr)) = &mapping {
            // The URL's port wins over the address's: any port here is fine.
            builder = builder.resolve(host.trim_start_matches('[').trim_end_matches(']'), *addr);
        }
        builder.build().map_err(|e| HttpError::Client(error_chain(&e)))
    };
    let client = tokio::task::spawn_blocking(build)
        .await
        .map_err(|e| HttpError::Client(e.to_string()))??;
    cache.insert(key, client.clone());
    Ok(client)
}

/// The socket address of a "via" target: an IP address (v6 with or without brackets), or a
/// name resolved now.
async fn resolve_via(via: &str, port: u16) -> Result<SocketAddr, HttpError> {
    let bare = via.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let err = |reason: String| HttpError::Via {
        via: via.to_string(),
        reason,
    };
    let mut addrs = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|e| err(e.to_string()))?;
    addrs.next().ok_or_else(|| err("no address".into()))
}

/// The value at a dotted path (`data.items.0.name`: object keys, array indexes) in a JSON
/// body. The error says where the walk stopped, or that the body is not JSON, showing its
/// first bytes.
pub(crate) fn json_at(body: &[u8], path: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        let head: String = String::from_utf8_lossy(body).chars().take(80).collect();
        let more = if body.len() > head.len() { "..." } else { "" };
        format!("a body that is not JSON ({e}), first bytes: {head:?}{more}")
    })?;
    let mut here = &root;
    let mut walked = String::from("the top level");
    for key in path.split('.').filter(|k| !k.is_empty()) {
        here = match here {
            Value::Object(map) => map.get(key).ok_or_else(|| {
                let keys: Vec<&str> = map.keys().map(String::as_str).collect();
                format!("no \"{key}\" in {walked} (keys: {})", keys.join(", "))
            })?,
            Value::Array(items) => match key.parse::<usize>() {
                Ok(i) if i < items.len() => &items[i],
                Ok(i) => return Err(format!("{walked} has {} items, no index {i}", items.len())),
                Err(_) => return Err(format!("{walked} is an array: \"{key}\" is not an index")),
            },
            scalar => {
                return Err(format!(
                    "{walked} is {scalar}, not an object or array: no \"{key}\" in it"
                ));
            }
        };
        walked = if walked == "the top level" {
            key.to_string()
        } else {
            format!("{walked}.{key}")
        };
    }
    Ok(here.clone())
}

/// A JSON value as the feature writes it: strings bare, everything else as JSON text.
pub(crate) fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http() {
        assert!(parse_url("http://10.0.0.1/health").is_ok());
        assert!(
            parse_url("ftp://x/")
                .unwrap_err()
                .to_string()
                .contains("not http or https")
        );
        assert!(
            parse_url("10.0.0.1/")
                .unwrap_err()
                .to_string()
                .starts_with("bad URL \"10.0.0.1/\"")
        );
    }

    #[test]
    fn headers_are_case_insensitive_and_joined() {
        let r = Response {
            url: "http://x/".into(),
            status: 200,
            reason: "OK".into(),
            headers: vec![("set-cookie".into(), "a=1".into()), ("Set-Cookie".into(), "b=2".into())],
            body: Vec::new(),
            elapsed: Duration::from_micros(12_345),
        };
        assert_eq!(r.header("SET-COOKIE").as_deref(), Some("a=1, b=2"));
        assert_eq!(r.header("content-type"), None);
        assert_eq!(r.status_line(), "200 OK");
        assert_eq!(r.millis(), 12.3);
    }

    #[test]
    fn json_paths_walk_objects_and_arrays() {
        let body = br#"{"status":"ok","host":"web1","data":{"items":[{"name":"a"},{"name":"b"}]},"n":3}"#;
        assert_eq!(json_text(&json_at(body, "status").unwrap()), "ok");
        assert_eq!(json_text(&json_at(body, "data.items.1.name").unwrap()), "b");
        assert_eq!(json_text(&json_at(body, "n").unwrap()), "3");
        assert_eq!(
            json_at(body, "data.items.5.name").unwrap_err(),
            "data.items has 2 items, no index 5"
        );
        assert_eq!(
            json_at(body, "data.nope").unwrap_err(),
            "no \"nope\" in data (keys: items)"
        );
        assert_eq!(
            json_at(body, "status.x").unwrap_err(),
            "status is \"ok\", not an object or array: no \"x\" in it"
        );
        assert_eq!(
            json_at(body, "data.items.x").unwrap_err(),
            "data.items is an array: \"x\" is not an index"
        );
        let err = json_at(b"<html><body>Welcome</body></html>", "status").unwrap_err();
        assert!(
            err.starts_with("a body that is not JSON (expected value at line 1 column 1), first bytes: \"<html>"),
            "{err}"
        );
    }
}
