//! Webhooks: signing, where deliveries may go, sending one, and the worker that delivers the
//! outbox. Subscriptions are managed in `handlers::webhooks`.

pub mod sender;
pub mod signing;
pub mod target;
pub mod worker;

use std::time::Duration;

use circulo_domain::webhook::{Reachability, RetryPolicy};

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    /// Private, loopback and plain-`http` targets are allowed (development and tests only).
    pub allow_private: bool,
    /// How failures are retried and when an endpoint is given up on.
    pub retry: RetryPolicy,
    /// How often the worker looks for due work when it has none.
    pub poll_interval: Duration,
    /// Whether this process runs the delivery worker. Replicas that only serve requests leave
    /// delivery to the others.
    pub deliver: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry: RetryPolicy::default(),
            poll_interval: Duration::from_millis(500),
            deliver: true,
        }
    }
}

impl WebhookSettings {
    /// What a subscription's URL may reach under these settings.
    pub fn reachability(&self) -> Reachability {
        Reachability {
            allow_private: self.allow_private,
        }
    }
}
