//! Fuzz target: one step's text is matched against the built-in catalogue (Cucumber
//! Expressions with our parameter types) and its arguments checked as lint does; the
//! nearest-sentence suggestion for an undefined step is computed too. No panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shakedown::steps::{Match, StepLibrary};

fuzz_target!(|data: &[u8]| {
    static LIBRARY: OnceLock<StepLibrary> = OnceLock::new();
    let library = LIBRARY.get_or_init(shakedown::packs::builtin_library);
    let Ok(text) = std::str::from_utf8(data) else { return };
    match library.find(text) {
        Match::One(def, args) => {
            if let Some(check) = def.check {
                let _ = check(&args);
            }
        }
        Match::None(_) | Match::Ambiguous(_) => {}
    }
});
