//! The packs shipped in the project's top-level `steps/`, compiled into the binary so
//! `shakedown steps` lists them wherever it runs. Add a pack: one line here.

use super::PackSource;

const SHIPPED: &[(&str, &str)] = &[
    ("steps/deploy.toml", include_str!("../../steps/deploy.toml")),
    ("steps/cron.toml", include_str!("../../steps/cron.toml")),
    ("steps/nginx.toml", include_str!("../../steps/nginx.toml")),
];

/// The shipped packs, in catalogue order.
pub(super) fn sources() -> Vec<PackSource> {
    SHIPPED
        .iter()
        .map(|(file, text)| PackSource {
            file: (*file).to_string(),
            text: (*text).to_string(),
            builtin: true,
        })
        .collect()
}
