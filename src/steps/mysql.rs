//! mysql steps (to be filled by its issue).

use super::StepDef;

/// The mysql family.
pub const STEPS: &[StepDef] = &[];
