//! Circulo's API tests: each test starts the real server on a fresh database and talks to it over
//! HTTP, once on SQLite and, when `CIRCULO_TEST_POSTGRES_URL` is set, once on PostgreSQL.

mod support;

mod audit;
mod auth;
mod bad_input;
mod conventions;
mod idempotency;
mod jwks;
mod members;
mod openapi_document;
mod organizations;
mod teams;
