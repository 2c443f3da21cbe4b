//! Facts about a host that many steps need (services, packages, mounts, listening ports,
//! processes), each read at most once per host per run behind a `OnceCell`, so concurrent
//! steps share one read in flight. Each fact file is a pure `parse_*` function tested on
//! captured output plus one async read through the host's transport.

/// The per-host fact cache.
#[derive(Debug, Default)]
pub struct HostFacts {}
