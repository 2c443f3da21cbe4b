//! Fuzz target: the toml inventory parser never panics, whatever the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = shakedown::inventory::Inventory::parse_text(std::path::Path::new("fuzz.toml"), text);
    }
});
