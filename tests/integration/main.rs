//! Circulo's API tests: each test starts the real server on a fresh database and talks to it over
//! HTTP, once on SQLite and, when `CIRCULO_TEST_POSTGRES_URL` is set, once on PostgreSQL.

// Helpers outside `#[test]` functions are not covered by clippy.toml's test allowance.
#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "tests and their helpers fail loudly on set-up errors"
)]

mod support;

mod anonymity;
mod audit;
mod audit_feed;
mod authentication;
mod authorization;
mod bad_fields;
mod bad_input;
mod cli;
mod contention;
mod conventions;
mod crash_recovery;
mod decision_processes;
mod decisions;
mod etags;
mod feedback;
mod goal_access;
mod goals;
mod hostile_input;
mod idempotency;
mod jwks;
mod jwks_confusion;
mod member_access;
mod member_audit;
mod member_hierarchy;
mod member_tokens;
mod member_upsert;
mod members;
mod migrations;
mod openapi_document;
mod organization_audit;
mod organizations;
mod pagination;
mod reports;
mod request_ids;
mod routing;
mod scores;
mod secrets;
mod teams;
mod untraced;
mod webhook_delivery;
mod webhook_events;
mod webhooks;
