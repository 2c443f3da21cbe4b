//! Fuzz target: a feature file is parsed and compiled, and every step is matched against
//! the built-in catalogue with its lint-time argument check, without a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shakedown::steps::{Match, StepLibrary};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(Some(feature)) = shakedown::suite::load::load_str(std::path::Path::new("fuzz.feature"), text) else {
        return;
    };
    static LIBRARY: OnceLock<StepLibrary> = OnceLock::new();
    let library = LIBRARY.get_or_init(shakedown::packs::builtin_library);
    for scenario in &feature.scenarios {
        for step in &scenario.steps {
            if let Match::One(def, args) = library.find(&step.text) {
                if let Some(check) = def.check {
                    let _ = check(&args);
                }
            }
        }
    }
});
