//! Middleware that applies one convention to every endpoint.

pub mod idempotency;
pub mod metrics;
pub mod problems;
