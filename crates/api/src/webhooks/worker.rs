//! The delivery worker, one per server process, on every replica: it moves due outbox events
//! into deliveries, leases due deliveries and sends each in its own task, so a slow or dead
//! endpoint holds only its own deliveries. Database work runs on the blocking pool, a few
//! statements at a time, so delivery never takes the connections requests need.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use circulo_domain::{OrgId, WebhookId};
use circulo_persistence::Db;
use circulo_persistence::webhooks::delivery::{Claim, ClaimedDelivery};

use super::WebhookSettings;
use super::sender::Sender;

/// Deliveries in flight at most, in this process.
const IN_FLIGHT: usize = 64;
/// Claimed at once for one subscription; none more while it has this many in flight, so it
/// has at most twice this less one in flight in this process.
const PER_WEBHOOK: usize = 4;
/// The same for one organization: whatever its number of subscriptions, one organization's
/// slow endpoints hold at most 15 of the 64 slots, and the others' deliveries go on.
const PER_ORG: usize = 8;
/// Outbox events moved per transaction.
const FAN_OUT_BATCH: i64 = 500;
/// How long a claimed attempt is leased: past the 5 s limit with room for recording the result.
/// A process killed mid-attempt leaves the delivery due again when the lease ends.
const LEASE: Duration = Duration::from_secs(15);
/// Statements the worker runs at once: results are recorded a few at a time.
const DB_SLOTS: usize = 2;
/// How long stopping waits for attempts in flight.
const STOP_WAIT: Duration = Duration::from_secs(6);

/// The worker's shared state.
struct Worker {
    db: Db,
    sender: Sender,
    settings: WebhookSettings,
    in_flight: Mutex<InFlight>,
    slots: Arc<Semaphore>,
    db_slots: Semaphore,
    finished: Notify,
}

/// Runs the worker until `stopped` changes.
pub async fn run(db: Db, settings: WebhookSettings, mut stopped: watch::Receiver<bool>) {
    let sender = match Sender::new(settings.allow_private) {
        Ok(sender) => sender,
        Err(e) => {
            log::error!("webhook delivery cannot start: {e}");
            return;
        }
    };
    let worker = Arc::new(Worker {
        db,
        sender,
        settings,
        in_flight: Mutex::new(InFlight::default()),
        slots: Arc::new(Semaphore::new(IN_FLIGHT)),
        db_slots: Semaphore::new(DB_SLOTS),
        finished: Notify::new(),
    });
    let mut attempts = JoinSet::new();
    loop {
        if *stopped.borrow() {
            break;
        }
        while attempts.try_join_next().is_some() {}
        let more = worker.round(&mut attempts).await;
        if more {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(worker.settings.poll_interval) => {}
            () = worker.finished.notified() => {}
            _ = stopped.changed() => break,
        }
    }
    // Attempts in flight get a moment to finish; any cut short is retried when its lease ends.
    let _ = tokio::time::timeout(STOP_WAIT, async {
        while attempts.join_next().await.is_some() {}
    })
    .await;
}

impl Worker {
    /// Moves due events and starts the due attempts there are slots for; whether more work may
    /// be waiting right away.
    async fn round(self: &Arc<Self>, attempts: &mut JoinSet<()>) -> bool {
        let policy = self.settings.retry;
        let moved = self
            .blocking(move |db| db.fan_out_events(FAN_OUT_BATCH, &policy))
            .await
            .unwrap_or(0);
        let free = self.slots.available_permits();
        if free == 0 {
            return false;
        }
        let (busy_webhooks, busy_orgs) = self.in_flight.lock().busy();
        let limit = i64::try_from(free).unwrap_or(i64::MAX);
        let claims = self
            .blocking(move |db| {
                db.claim_deliveries(&Claim {
                    limit,
                    per_webhook: count(PER_WEBHOOK),
                    per_org: count(PER_ORG),
                    busy_webhooks: &busy_webhooks,
                    busy_orgs: &busy_orgs,
                    lease: LEASE,
                })
            })
            .await
            .unwrap_or_default();
        let claimed = claims.len();
        for claim in claims {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                break;
            };
            self.in_flight.lock().started(&claim);
            let worker = Arc::clone(self);
            attempts.spawn(async move {
                worker.attempt(claim).await;
                drop(slot);
                worker.finished.notify_one();
            });
        }
        moved == usize::try_from(FAN_OUT_BATCH).unwrap_or(usize::MAX)
            || (claimed > 0 && claimed == free)
    }

    async fn attempt(&self, claim: ClaimedDelivery) {
        let outcome = self.sender.send(&claim).await;
        if !outcome.succeeded {
            log::info!(
                "webhook delivery {} (attempt {}) failed: {}",
                claim.id,
                claim.attempt,
                outcome.error.as_deref().unwrap_or("no reason")
            );
        }
        let policy = self.settings.retry;
        let jitter: f64 = rand::random();
        let (webhook, org) = (claim.webhook_id, claim.org_id);
        let _ = self
            .blocking(move |db| db.finish_attempt(&claim, &outcome, &policy, jitter))
            .await;
        self.in_flight.lock().ended(webhook, org);
    }

    /// Runs store work on the blocking pool, a few at a time; failures are logged and the work
    /// is retried by the next round (or when a lease ends).
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Db) -> circulo_persistence::StoreResult<T> + Send + 'static,
    ) -> Option<T> {
        let _slot = self.db_slots.acquire().await.ok()?;
        let db = self.db.clone();
        match tokio::task::spawn_blocking(move || work(&db)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                log::warn!("webhook delivery: {e}");
                None
            }
            Err(e) => {
                log::warn!("webhook delivery: {e}");
                None
            }
        }
    }
}

/// The attempts in flight in this process, by subscription and by organization.
#[derive(Default)]
struct InFlight {
    webhooks: HashMap<WebhookId, usize>,
    orgs: HashMap<OrgId, usize>,
}

impl InFlight {
    fn started(&mut self, claim: &ClaimedDelivery) {
        *self.webhooks.entry(claim.webhook_id).or_default() += 1;
        *self.orgs.entry(claim.org_id).or_default() += 1;
    }

    fn ended(&mut self, webhook: WebhookId, org: OrgId) {
        lower(&mut self.webhooks, webhook);
        lower(&mut self.orgs, org);
    }

    /// The subscriptions and organizations with as many in flight as a claim may add.
    fn busy(&self) -> (Vec<WebhookId>, Vec<OrgId>) {
        (
            at_limit(&self.webhooks, PER_WEBHOOK),
            at_limit(&self.orgs, PER_ORG),
        )
    }
}

fn at_limit<K: Copy>(counts: &HashMap<K, usize>, limit: usize) -> Vec<K> {
    counts
        .iter()
        .filter(|(_, n)| **n >= limit)
        .map(|(key, _)| *key)
        .collect()
}

fn lower<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(n) = counts.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&key);
        }
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
