//! `/pingdom`: the body of a Pingdom "HTTP custom" check,
//! `<pingdom_http_custom_check><status>OK</status><response_time>812.000</response_time>
//! </pingdom_http_custom_check>`: status `OK` when every scenario passed, else the failure
//! summary; response time = the run's wall time in milliseconds.

use super::Snapshot;
use crate::report::target::scrub;

/// The XML document for a run.
pub fn render(snap: &Snapshot) -> String {
    let status = if snap.healthy() {
        "OK".to_string()
    } else {
        scrub(&snap.summary_line())
    };
    let ms = snap.summary.duration.as_secs_f64() * 1000.0;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<pingdom_http_custom_check>\n  <status>{}</status>\n  <response_time>{ms:.3}</response_time>\n</pingdom_http_custom_check>\n",
        escape(&status)
    )
}

/// Text safe in XML element content; characters XML 1.0 cannot carry are dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{1b}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
