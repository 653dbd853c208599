//! The test harness: `for_each_backend` runs a test body against a fresh app on every database;
//! `fixtures` sets data up through the API, `tokens` and `key_server` serve the authentication tests.

mod app;
pub mod binary;
mod database;
pub mod documented;
mod fixtures;
pub mod key_server;
pub mod locks;
pub mod people;
pub mod receiver;
pub mod slow_link;
pub mod tokens;

#[allow(unused_imports)]
pub use app::{Response, TEST_SECRET, TestApp, is_utc_timestamp};
pub use database::{Backend, TestDatabase};
pub use fixtures::EVERY_SCOPE;

use std::future::Future;

/// Runs the webhook delivery worker in the app (tests that read the outbox leave it off).
pub fn delivering(config: &mut circulo_api::Config) {
    config.webhooks.deliver = true;
}

/// Runs `test` once per available backend, each time with a new app on a new database.
pub async fn for_each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for_each_backend_with(|_| {}, test).await;
}

/// Like [`for_each_backend`], with the server configuration adjusted by `configure`.
pub async fn for_each_backend_with<C, F, Fut>(configure: C, test: F)
where
    C: Fn(&mut circulo_api::Config),
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    for backend in Backend::available() {
        let app = TestApp::spawn(backend, &configure).await;
        test(app).await;
    }
}
