//! Probes: how shakedown talks to services directly from the controller (HTTP, TLS, TCP,
//! MySQL) or reads service state on a host (HAProxy, Apache status). Each probe returns
//! plain data; steps decide what it means.

pub(crate) mod apache_status;
pub(crate) mod haproxy;
pub(crate) mod http;
pub(crate) mod mysql;
pub(crate) mod tls;
pub(crate) mod tls_errors;
