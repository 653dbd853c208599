//! Middleware that applies one convention to every endpoint.

pub mod access_log;
pub mod idempotency;
pub mod metrics;
pub mod problems;
pub mod query_guard;
