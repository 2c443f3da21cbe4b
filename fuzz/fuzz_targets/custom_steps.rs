//! Fuzz target: a custom step pack (the TOML format of `steps/*.toml`) is compiled
//! (`packs::compile::compile_pack`: schema, sentences, templates, expectations), each
//! compiled step's example is matched against the built-in library, and every error is
//! located as `file:line:col` (a byte span turned into line and column). No panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shakedown::packs::{self, PackSource};
use shakedown::steps::StepLibrary;

fuzz_target!(|data: &[u8]| {
    static LIBRARY: OnceLock<StepLibrary> = OnceLock::new();
    let library = LIBRARY.get_or_init(packs::builtin_library);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = PackSource {
        file: "fuzz.toml".to_string(),
        text: text.to_string(),
        builtin: false,
    };
    match packs::compile::compile_pack(&source) {
        Ok(steps) => {
            for step in &steps {
                let _ = step.location();
                let _ = step.def();
                let _ = library.find(step.example_text());
            }
        }
        Err(errors) => {
            for error in &errors {
                let _ = error.located(&source.file, &source.text);
            }
        }
    }
});
