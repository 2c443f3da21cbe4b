//! Passive results through the Icinga 2 API (`--icinga-api https://USER@HOST:5665`):
//! one `POST /v1/actions/process-check-result` per result, for the service
//! `HOST!FEATURE`, with the state, plugin output and perfdata of `check`; basic auth with
//! the password from `SHAKEDOWN_ICINGA_PASSWORD`; the API's certificate verified against
//! `--icinga-ca FILE` (else the system roots). Each request is bounded by
//! [`super::TIMEOUT`].

use reqwest::{Client, Url};
use serde_json::json;

use super::results::ServiceResult;
use super::{ICINGA_PASSWORD_ENV, TIMEOUT, chain, this_host};
use crate::inventory::secret::Secret;

/// An Icinga 2 API endpoint and its user.
#[derive(Debug)]
pub(crate) struct Icinga {
    /// `https://HOST:PORT/v1/actions/process-check-result` (no user in it).
    endpoint: Url,
    /// `https://USER@HOST:PORT`, for messages.
    display: String,
    user: String,
    password: Secret,
    client: Client,
}

/// Parses the API URL: `https://USER@HOST[:5665]`, no password in it. Returns the endpoint
/// URL (without the user), the display form and the user.
pub(crate) fn parse_api_url(text: &str) -> Result<(Url, String, String), String> {
    let mut url =
        Url::parse(text).map_err(|e| format!("--icinga-api: not a URL ({e}); expected https://USER@HOST:5665"))?;
    if url.scheme() != "https" {
        return Err("--icinga-api: the Icinga 2 API speaks https:// only".into());
    }
    if url.password().is_some() {
        return Err(format!(
            "--icinga-api: do not write the password into the URL; set {ICINGA_PASSWORD_ENV}"
        ));
    }
    let user = url.username().to_string();
    if user.is_empty() {
        return Err("--icinga-api: the URL names the API user: https://USER@HOST:5665".into());
    }
    let host = url.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err("--icinga-api: the URL names no host".into());
    }
    if !url.path().trim_start_matches('/').is_empty() {
        return Err("--icinga-api: give the API's root, https://USER@HOST:5665 (no path)".into());
    }
    if url.port().is_none() {
        url.set_port(Some(5665))
            .map_err(|()| "--icinga-api: cannot use port 5665".to_string())?;
    }
    let port = url.port().unwrap_or(5665);
    url.set_username("")
        .map_err(|()| "--icinga-api: bad user".to_string())?;
    let endpoint = url
        .join("/v1/actions/process-check-result")
        .map_err(|e| format!("--icinga-api: {e}"))?;
    Ok((endpoint, format!("https://{user}@{host}:{port}"), user))
}

impl Icinga {
    /// The API at `url`; `ca` verifies its certificate; `password` is required.
    pub(crate) fn new(url: &str, ca: Option<&std::path::Path>, password: Option<Secret>) -> Result<Self, String> {
        let (endpoint, display, user) = parse_api_url(url)?;
        let password = password
            .ok_or_else(|| format!("--icinga-api: set {ICINGA_PASSWORD_ENV} to the password of API user {user:?}"))?;
        let mut builder = Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = ca {
            let pem = std::fs::read(path).map_err(|e| format!("--icinga-ca: cannot read {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("--icinga-ca: {} holds no PEM certificate ({e})", path.display()))?;
            if certs.is_empty() {
                return Err(format!("--icinga-ca: {} holds no PEM certificate", path.display()));
            }
            builder = builder.tls_certs_only(certs);
        }
        let client = builder
            .build()
            .map_err(|e| format!("--icinga-api: cannot set up the HTTPS client: {}", chain(&e)))?;
        Ok(Icinga {
            endpoint,
            display,
            user,
            password,
            client,
        })
    }

    /// Posts every result; returns the problems (none when the API took them all).
    pub(crate) async fn send(&self, results: &[ServiceResult]) -> Vec<String> {
        let mut problems = Vec::new();
        for r in results {
            if let Err(e) = self.post(r).await {
                problems.push(format!(
                    "Icinga API {}: {}!{} not accepted: {e}",
                    self.display, r.host, r.service
                ));
                // A dead or hanging API would cost every remaining result the same wait.
                if e.starts_with("cannot connect") || e.starts_with("no answer") {
                    break;
                }
            }
        }
        problems
    }

    async fn post(&self, r: &ServiceResult) -> Result<(), String> {
        let body = request_body(r, &this_host());
        let response = self
            .client
            .post(self.endpoint.clone())
            .basic_auth(&self.user, Some(self.password.expose()))
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| {
                if e.is_connect() {
                    format!("cannot connect: {}", chain(&e))
                } else if e.is_timeout() {
                    format!("no answer within {}s", TIMEOUT.as_secs())
                } else {
                    chain(&e)
                }
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(());
        }
        Err(format!("HTTP {status}: {}", api_error(&text)))
    }
}

/// The JSON body for one result (Icinga 2 `process-check-result`).
pub(crate) fn request_body(r: &ServiceResult, source: &str) -> serde_json::Value {
    let mut output = r.status.clone();
    for line in &r.long {
        output.push('\n');
        output.push_str(line);
    }
    json!({
        "type": "Service",
        "service": format!("{}!{}", r.host, r.service),
        "exit_status": i32::from(r.state.code()),
        "plugin_output": output,
        "performance_data": r.perfdata,
        "check_source": source,
    })
}

/// The API's own words from an error body (`{"error":404,"status":"No objects found."}`).
fn api_error(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let status = parsed
        .as_ref()
        .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_string));
    let text = status.unwrap_or_else(|| body.trim().chars().take(200).collect());
    if text.is_empty() { "no message".into() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::nagios::State;

    #[test]
    fn the_url_gives_endpoint_user_and_a_display_without_secrets() {
        let (endpoint, display, user) = parse_api_url("https://shakedown@icinga.example.com").expect("valid");
        assert_eq!(
            endpoint.as_str(),
            "https://icinga.example.com:5665/v1/actions/process-check-result"
        );
        assert_eq!(display, "https://shakedown@icinga.example.com:5665");
        assert_eq!(user, "shakedown");
        assert!(parse_api_url("http://u@h:5665").is_err());
        assert!(parse_api_url("https://h:5665").is_err());
        let e = parse_api_url("https://u:canary-pw@h:5665").unwrap_err();
        assert!(!e.contains("canary-pw"), "{e}");
    }

    #[test]
    fn body_names_host_and_service_and_splits_perfdata() {
        let r = ServiceResult {
            host: "web2".into(),
            service: "Web servers".into(),
            state: State::Critical,
            status: "SHAKEDOWN CRITICAL - 1 of 1 scenario failed: Home [web2]".into(),
            long: vec!["CRITICAL web2: Home: slow".into()],
            perfdata: vec!["scenarios=1".into(), "'web2 home time'=812ms;;500".into()],
        };
        let b = request_body(&r, "runner1");
        assert_eq!(b["service"], "web2!Web servers");
        assert_eq!(b["exit_status"], 2);
        assert_eq!(
            b["plugin_output"],
            "SHAKEDOWN CRITICAL - 1 of 1 scenario failed: Home [web2]\nCRITICAL web2: Home: slow"
        );
        assert_eq!(b["performance_data"][1], "'web2 home time'=812ms;;500");
    }

    #[test]
    fn api_errors_keep_the_apis_words() {
        assert_eq!(
            api_error(r#"{"error":404.0,"status":"No objects found."}"#),
            "No objects found."
        );
        assert_eq!(api_error("plain"), "plain");
    }
}
