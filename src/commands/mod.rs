//! One function per command; glue between the CLI, the suite, the runner and the reports.

pub mod check;
pub mod lint;
pub mod prepare;
pub mod run;
pub mod steps;
