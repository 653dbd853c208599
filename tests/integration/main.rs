//! Circulo's API tests: each test starts the real server on a fresh database and talks to it over
//! HTTP, once on SQLite and, when `CIRCULO_TEST_POSTGRES_URL` is set, once on PostgreSQL.

// Helpers outside `#[test]` functions are not covered by clippy.toml's test allowance.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "tests and their helpers fail loudly on set-up errors"
)]

mod support;

mod audit;
mod auth;
mod bad_input;
mod conventions;
mod idempotency;
mod jwks;
mod members;
mod migrations;
mod openapi_document;
mod organizations;
mod teams;
