//! "Did you mean" suggestions: the nearest candidate by edit distance, used by inventory
//! keys, host patterns and undefined steps alike.

/// The candidate closest to `wanted`, if any is reasonably close.
pub(crate) fn nearest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    ranked(wanted, candidates, 1).into_iter().next()
}

/// Up to `n` candidates closest to `wanted`, best first; only reasonably close ones.
pub(crate) fn ranked<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>, n: usize) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| {
            (
                strsim::normalized_damerau_levenshtein(&wanted.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score >= 0.4)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(n).map(|(_, c)| c.to_string()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_typos() {
        assert_eq!(
            super::nearest("adress", ["address", "port", "user"]).as_deref(),
            Some("address")
        );
        assert_eq!(super::nearest("zzzzzz", ["address", "port"]), None);
    }
}
