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

use circulo_domain::WebhookId;
use circulo_persistence::Db;
use circulo_persistence::webhooks::delivery::ClaimedDelivery;

use super::WebhookSettings;
use super::sender::Sender;

/// Deliveries in flight at most, in this process.
const IN_FLIGHT: usize = 64;
/// In flight at most for one subscription, in this process.
const PER_WEBHOOK: usize = 8;
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
    in_flight: Mutex<HashMap<WebhookId, usize>>,
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
        in_flight: Mutex::new(HashMap::new()),
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
        let busy: Vec<WebhookId> = self
            .in_flight
            .lock()
            .iter()
            .filter(|(_, n)| **n >= PER_WEBHOOK)
            .map(|(id, _)| *id)
            .collect();
        let limit = i64::try_from(free).unwrap_or(i64::MAX);
        let per_webhook = i64::try_from(PER_WEBHOOK).unwrap_or(i64::MAX);
        let claims = self
            .blocking(move |db| db.claim_deliveries(limit, per_webhook, &busy, LEASE))
            .await
            .unwrap_or_default();
        let claimed = claims.len();
        for claim in claims {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                break;
            };
            *self.in_flight.lock().entry(claim.webhook_id).or_default() += 1;
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
        let webhook = claim.webhook_id;
        let _ = self
            .blocking(move |db| db.finish_attempt(&claim, &outcome, &policy, jitter))
            .await;
        let mut in_flight = self.in_flight.lock();
        if let Some(n) = in_flight.get_mut(&webhook) {
            *n -= 1;
            if *n == 0 {
                in_flight.remove(&webhook);
            }
        }
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
