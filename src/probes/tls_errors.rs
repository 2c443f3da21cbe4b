//! TLS errors in an operator's words. rustls and webpki print many of their errors with
//! Rust's debug formatting (`invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))`,
//! `received corrupt message of type InvalidContentType`); a failure message should say what
//! is wrong with the server instead. Used by the HTTP probe (verified requests) and the TLS
//! certificate probe (handshakes that read any certificate).

use rustls::{AlertDescription, CertificateError, Error, InvalidMessage};

/// The rustls error in an error's chain, if any: reqwest, hyper and tokio-rustls wrap it,
/// the last in an `io::Error` whose `source()` skips it (its `get_ref()` does not).
pub(crate) fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Error> {
    let mut here = Some(e);
    while let Some(err) = here {
        if let Some(tls) = err.downcast_ref::<Error>() {
            return Some(tls);
        }
        here = match err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// One sentence for a rustls error, without Rust names.
pub(crate) fn describe(e: &Error) -> String {
    match e {
        Error::InvalidCertificate(c) => certificate(c),
        Error::InvalidMessage(InvalidMessage::InvalidContentType) => {
            "the server did not answer in TLS (a plain-text service on this port?)".into()
        }
        Error::InvalidMessage(m) => format!("the server sent a malformed TLS message ({})", words(m)),
        Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            "the server sent a TLS message out of order".into()
        }
        Error::AlertReceived(a) => alert(a),
        Error::PeerIncompatible(why) => format!(
            "the server and shakedown share no TLS version or cipher suite ({})",
            words(why)
        ),
        Error::PeerMisbehaved(why) => format!("the server broke the TLS protocol ({})", words(why)),
        Error::NoCertificatesPresented => "the server sent no certificate".into(),
        Error::DecryptError => "the server's messages could not be decrypted".into(),
        other => other.to_string(),
    }
}

/// A refused certificate: what is wrong with it.
fn certificate(c: &CertificateError) -> String {
    use CertificateError as C;
    match c {
        C::UnknownIssuer => {
            "the certificate is not signed by a CA this machine trusts (self-signed, or a private CA)".into()
        }
        C::Expired => "the certificate has expired".into(),
        C::ExpiredContext { not_after, .. } => format!(
            "the certificate expired on {}",
            super::tls::utc(not_after.as_secs() as i64)
        ),
        C::NotValidYet => "the certificate is not valid yet".into(),
        C::NotValidYetContext { not_before, .. } => format!(
            "the certificate is not valid before {}",
            super::tls::utc(not_before.as_secs() as i64)
        ),
        C::NotValidForName => "the certificate is not valid for the host name of the URL".into(),
        C::NotValidForNameContext { expected, presented } => {
            let names = if presented.is_empty() {
                "no names".to_string()
            } else {
                presented.join(", ")
            };
            format!(
                "the certificate is not valid for {} (it names {names})",
                expected.to_str()
            )
        }
        C::Revoked => "the certificate has been revoked".into(),
        C::BadSignature => "the certificate's signature does not verify".into(),
        C::BadEncoding => "the certificate cannot be parsed".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "the certificate is not meant for TLS servers (its extended key usage)".into()
        }
        C::UnhandledCriticalExtension => {
            "the certificate has a critical extension this machine does not understand".into()
        }
        C::ApplicationVerificationFailure => "the certificate was refused".into(),
        C::Other(other) => webpki(&format!("{:?}", other.0)),
        other => format!("the certificate was refused ({})", words(other)),
    }
}

/// webpki's errors reach rustls as `Other(...)` and print as their Rust name: the common
/// ones in words, the rest as their name split into words.
fn webpki(name: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        (
            "CaUsedAsEndEntity",
            "the certificate is a CA certificate used as the server's own (end-entity) certificate (CA:TRUE, as self-signed ones often are)",
        ),
        (
            "EndEntityUsedAsCa",
            "a server (end-entity) certificate signs another one in the chain, as only a CA may",
        ),
        ("CertDistrusted", "the certificate is distrusted"),
        (
            "InvalidCertValidity",
            "the certificate's validity period is invalid (it ends before it starts)",
        ),
        (
            "UnsupportedCertVersion",
            "the certificate is not an X.509 version 3 certificate",
        ),
        (
            "PathLenConstraintViolated",
            "the chain is longer than one of its CAs allows (path length constraint)",
        ),
        (
            "NameConstraintViolation",
            "the certificate violates its CA's name constraints",
        ),
        (
            "RequiredEkuNotFound",
            "the certificate is not meant for TLS servers (its extended key usage)",
        ),
        ("MaximumPathDepthExceeded", "the certificate chain is too long"),
        (
            "UnknownRevocationStatus",
            "the certificate's revocation status is unknown",
        ),
    ];
    let head = name.split(['(', ' ', '{']).next().unwrap_or(name);
    match KNOWN.iter().find(|(k, _)| *k == head) {
        Some((_, text)) => (*text).to_string(),
        None => format!("the certificate was refused ({})", split_words(head)),
    }
}

fn alert(a: &AlertDescription) -> String {
    let why = match a {
        AlertDescription::HandshakeFailure => "handshake failure: no TLS version or cipher suite in common".into(),
        AlertDescription::UnrecognisedName => "unrecognised name: it has no certificate for this host name".into(),
        AlertDescription::ProtocolVersion => "protocol version: it does not accept this TLS version".into(),
        other => words(other),
    };
    format!("the server refused the handshake ({why})")
}

/// A Rust value's debug name as lower-case words (`BadRecordMac` = `bad record mac`).
fn words(value: &impl std::fmt::Debug) -> String {
    let name = format!("{value:?}");
    let head = name.split(['(', ' ', '{']).next().unwrap_or(&name).to_string();
    split_words(&head)
}

fn split_words(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webpki_names_become_sentences() {
        #[derive(Debug)]
        struct CaUsedAsEndEntity;
        impl std::fmt::Display for CaUsedAsEndEntity {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{self:?}")
            }
        }
        impl std::error::Error for CaUsedAsEndEntity {}
        let e = Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(std::sync::Arc::new(
            CaUsedAsEndEntity,
        ))));
        assert_eq!(
            e.to_string(),
            "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))"
        );
        let text = describe(&e);
        assert!(
            text.starts_with("the certificate is a CA certificate used as the server's own"),
            "{text}"
        );
        assert_eq!(webpki("SomethingNew"), "the certificate was refused (something new)");
    }

    #[test]
    fn certificate_errors_say_what_is_wrong() {
        let e = Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(e.to_string(), "invalid peer certificate: UnknownIssuer");
        assert!(describe(&e).contains("not signed by a CA this machine trusts"));
        let not_tls = Error::InvalidMessage(InvalidMessage::InvalidContentType);
        assert!(describe(&not_tls).starts_with("the server did not answer in TLS"));
        let alert = Error::AlertReceived(AlertDescription::InternalError);
        assert_eq!(describe(&alert), "the server refused the handshake (internal error)");
    }

    #[test]
    fn found_inside_io_errors() {
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, Error::DecryptError);
        let outer: Box<dyn std::error::Error> = Box::new(io);
        assert_eq!(find(outer.as_ref()), Some(&Error::DecryptError));
    }
}
