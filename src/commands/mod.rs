//! One function per command; glue between the CLI, the suite, the runner and the reports.

pub mod check;
pub mod connections;
pub mod init;
pub mod lint;
pub mod manual;
mod pipeline;
pub mod prepare;
pub mod run;
pub mod serve;
pub mod steps;
