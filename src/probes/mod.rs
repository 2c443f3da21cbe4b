//! Probes: how shakedown talks to services directly from the controller (HTTP, TLS, TCP,
//! MySQL) or reads service state on a host (HAProxy, Apache status). Each probe returns
//! plain data; steps decide what it means.

pub mod apache_status;
pub mod haproxy;
pub mod http;
pub mod mysql;
pub mod tls;
pub mod tls_errors;
