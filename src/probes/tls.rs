//! The peer certificate of a real TLS handshake, read from the controller: connect, shake
//! hands (sending SNI for a name), take the leaf certificate and parse its validity. The
//! certificate is deliberately NOT verified here: an expired or self-signed certificate is
//! exactly what this probe must be able to read and report. Nothing is sent after the
//! handshake, so any TLS port (HTTPS, IMAPS, SMTPS) can be checked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// What the leaf certificate says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CertInfo {
    /// Subject, as `CN=www.example.com, O=...`.
    pub subject: String,
    /// Issuer, same form.
    pub issuer: String,
    /// Subject and issuer are the same (no CA signed it).
    pub self_signed: bool,
    /// Not valid before, seconds since the epoch.
    pub not_before: i64,
    /// Not valid after, seconds since the epoch.
    pub not_after: i64,
}

impl CertInfo {
    /// Days until expiry from `now` (negative once expired), to 0.1 day.
    pub(crate) fn days_left(&self, now: i64) -> f64 {
        ((self.not_after - now) as f64 / 8640.0).round() / 10.0
    }

    /// One line: `expires 2027-02-21 08:30 UTC, 89.9 days left (CN=..., self-signed)`.
    pub(crate) fn describe(&self, now: i64) -> String {
        let days = self.days_left(now);
        let when = if days < 0.0 {
            format!("expired {}, {:.1} days ago", utc(self.not_after), -days)
        } else {
            format!("expires {}, {days:.1} days left", utc(self.not_after))
        };
        let not_yet = if self.not_before > now {
            format!("; not valid before {}", utc(self.not_before))
        } else {
            String::new()
        };
        let signed = if self.self_signed {
            "self-signed".to_string()
        } else {
            format!("issued by {}", self.issuer)
        };
        format!("{when}{not_yet} ({}, {signed})", self.subject)
    }
}

/// Formats seconds since the epoch as `2027-02-21 08:30 UTC`.
pub(crate) fn utc(secs: i64) -> String {
    match x509_parser::time::ASN1Time::from_timestamp(secs) {
        Ok(t) => {
            let d = t.to_datetime();
            format!(
                "{}-{:02}-{:02} {:02}:{:02} UTC",
                d.year(),
                u8::from(d.month()),
                d.day(),
                d.hour(),
                d.minute()
            )
        }
        Err(_) => format!("{secs} (seconds since 1970)"),
    }
}

/// Parses a DER certificate.
pub(crate) fn parse_certificate(der: &[u8]) -> Result<CertInfo, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| format!("unreadable certificate: {e}"))?;
    let validity = cert.validity();
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
    })
}

/// Splits `host:port` (`www.example.com:443`, `[::1]:8443`, `www.example.com` = port 443).
pub(crate) fn split_target(target: &str) -> Result<(String, u16), String> {
    let bad = || format!("\"{target}\" is not host:port (e.g. \"www.example.com:443\")");
    if let Some(rest) = target.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or_else(bad)?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if tail.is_empty() => 443,
            None => return Err(bad()),
        };
        return Ok((host.to_string(), port));
    }
    match target.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && !host.is_empty() => {
            Ok((host.to_string(), port.parse().map_err(|_| bad())?))
        }
        Some(_) if target.parse::<std::net::Ipv6Addr>().is_ok() => Ok((target.to_string(), 443)),
        Some(_) => Err(bad()),
        None if !target.is_empty() => Ok((target.to_string(), 443)),
        None => Err(bad()),
    }
}

/// Connects to `connect` (host or address, port), shakes hands with `sni` as the server
/// name (no SNI when it is an IP address) and returns the leaf certificate's DER.
pub(crate) async fn peer_certificate(connect: (&str, u16), sni: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let work = async {
        let addr = resolve(connect).await?;
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ReadAnyCertificate(provider)))
            .with_no_client_auth();
        let name = ServerName::try_from(sni.to_string()).map_err(|e| format!("bad server name \"{sni}\": {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| {
                let why = super::tls_errors::find(&e).map_or_else(|| e.to_string(), super::tls_errors::describe);
                format!("TLS handshake with {addr} failed: {why}")
            })?;
        let (_, conn) = tls.get_ref();
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or("the server sent no certificate")?;
        Ok(leaf.as_ref().to_vec())
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no TLS handshake within {}",
            humantime::format_duration(timeout)
        )),
    }
}

async fn resolve((host, port): (&str, u16)) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let mut addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("cannot resolve \"{host}\": {e}"))?;
    addrs
        .next()
        .ok_or_else(|| format!("cannot resolve \"{host}\": no address"))
}

/// Accepts any certificate (this probe reads certificates, it does not trust them) but
/// still checks the handshake signatures, so the certificate read is the server's own.
#[derive(Debug)]
struct ReadAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for ReadAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab_cert() -> CertInfo {
        let pem = std::fs::read("fixtures/captured/tls/www.shakedown.test.crt").unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        parse_certificate(&pem.contents).unwrap()
    }

    #[test]
    fn reads_a_self_signed_certificate() {
        let c = lab_cert();
        assert_eq!(c.subject, "CN=www.shakedown.test");
        assert!(c.self_signed);
        assert_eq!(c.not_after - c.not_before, 90 * 86400);
        let now = c.not_after - 45 * 86400;
        assert_eq!(c.days_left(now), 45.0);
        let text = c.describe(now);
        assert!(text.starts_with("expires "), "{text}");
        assert!(
            text.ends_with("45.0 days left (CN=www.shakedown.test, self-signed)"),
            "{text}"
        );
        assert!(c.describe(c.not_after + 86400).contains("1.0 days ago"));
    }

    #[test]
    fn formats_dates_in_utc() {
        assert_eq!(utc(1_800_000_000), "2027-01-15 08:00 UTC");
    }

    #[test]
    fn splits_targets() {
        assert_eq!(
            split_target("www.example.com:443").unwrap(),
            ("www.example.com".into(), 443)
        );
        assert_eq!(
            split_target("www.example.com").unwrap(),
            ("www.example.com".into(), 443)
        );
        assert_eq!(split_target("[::1]:8443").unwrap(), ("::1".into(), 8443));
        assert_eq!(split_target("::1").unwrap(), ("::1".into(), 443));
        assert!(split_target("host:https").is_err());
        assert!(split_target("").is_err());
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(
            parse_certificate(b"not der")
                .unwrap_err()
                .starts_with("unreadable certificate")
        );
    }
}
