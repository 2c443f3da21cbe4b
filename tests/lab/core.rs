//! Core: the run pipeline over SSH against the lab.
