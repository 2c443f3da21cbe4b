//! Which body `/healthz` answers with, from the request's `Accept` header (RFC 9110
//! §12.5.1): the acceptable media range with the highest `q` wins, ties in header order;
//! JSON when the header is absent, `*/*`, or names nothing we write.

/// A body `/healthz` can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `application/json` (the default).
    Json,
    /// JUnit XML, `application/xml` (or `text/xml`).
    Junit,
    /// Nagios plugin output, `text/plain`.
    Nagios,
}

impl Body {
    /// The `Content-Type` of this body.
    pub fn content_type(self) -> &'static str {
        match self {
            Body::Json => "application/json",
            Body::Junit => "application/xml; charset=utf-8",
            Body::Nagios => "text/plain; charset=utf-8",
        }
    }
}

/// The media types we write, in our order of preference.
const OFFERED: [(&str, &str, Body); 4] = [
    ("application", "json", Body::Json),
    ("application", "xml", Body::Junit),
    ("text", "plain", Body::Nagios),
    ("text", "xml", Body::Junit),
];

/// The body for an `Accept` header value (`None`: no header).
pub fn choose(accept: Option<&str>) -> Body {
    let Some(accept) = accept else {
        return Body::Json;
    };
    let mut ranges: Vec<(f32, usize, &str, &str)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let (kind, sub) = parts.next()?.trim().split_once('/')?;
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((q, i, kind.trim(), sub.trim()))
        })
        .filter(|(q, ..)| *q > 0.0)
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, kind, sub) in ranges {
        let found = OFFERED.iter().find(|(k, s, _)| {
            (kind == "*" || kind.eq_ignore_ascii_case(k)) && (sub == "*" || sub.eq_ignore_ascii_case(s))
        });
        if let Some((_, _, body)) = found {
            return *body;
        }
    }
    Body::Json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_by_default_and_for_anything() {
        assert_eq!(choose(None), Body::Json);
        assert_eq!(choose(Some("*/*")), Body::Json);
        assert_eq!(choose(Some("image/png")), Body::Json);
        assert_eq!(choose(Some("")), Body::Json);
    }

    #[test]
    fn each_media_type_picks_its_body() {
        assert_eq!(choose(Some("application/xml")), Body::Junit);
        assert_eq!(choose(Some("text/xml")), Body::Junit);
        assert_eq!(choose(Some("text/plain")), Body::Nagios);
        assert_eq!(choose(Some("text/*")), Body::Nagios);
        assert_eq!(choose(Some("Application/JSON")), Body::Json);
    }

    #[test]
    fn quality_values_order_the_choice() {
        assert_eq!(choose(Some("application/json;q=0.5, text/plain")), Body::Nagios);
        assert_eq!(choose(Some("text/plain;q=0.2, application/xml;q=0.9")), Body::Junit);
        assert_eq!(choose(Some("text/plain;q=0, */*;q=0.1")), Body::Json);
        // curl's default and browsers' headers.
        assert_eq!(
            choose(Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")),
            Body::Junit
        );
    }
}
