//! Background work that runs with the server, on every replica (each job is idempotent): the
//! outbox's delivery to webhooks, and hourly purges of expired idempotency keys and of old
//! delivery records. Jobs start with [`crate::start`] and stop when the server stops.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use circulo_domain::webhook::DELIVERY_RETENTION;
use circulo_persistence::{Db, StoreResult};

use crate::webhooks::{WebhookSettings, worker};

/// How often each job runs.
const EVERY: Duration = Duration::from_secs(3600);

/// The running jobs.
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Jobs {
    /// Starts the webhook delivery worker and the purges; each purge runs once at once, then
    /// every hour.
    pub fn start(db: &Db, webhooks: WebhookSettings) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = vec![
            spawn(
                "purge expired idempotency keys",
                db.clone(),
                stopped.clone(),
                |db| db.purge_expired_idempotency_keys(),
            ),
            spawn(
                "prune old webhook deliveries",
                db.clone(),
                stopped.clone(),
                |db| {
                    let retention = chrono::TimeDelta::from_std(DELIVERY_RETENTION)
                        .unwrap_or(chrono::TimeDelta::MAX);
                    db.prune_deliveries(chrono::Utc::now() - retention)
                },
            ),
        ];
        if webhooks.deliver {
            tasks.push(tokio::spawn(worker::run(db.clone(), webhooks, stopped)));
        }
        Self { stop, tasks }
    }

    /// Stops every job, waiting for one that is running to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(e) = task.await {
                log::warn!("a background job ended badly: {e}");
            }
        }
    }
}

fn spawn(
    name: &'static str,
    db: Db,
    mut stopped: watch::Receiver<bool>,
    work: fn(&Db) -> StoreResult<usize>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = stopped.changed() => return,
            }
            let db = db.clone();
            match tokio::task::spawn_blocking(move || work(&db)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(done)) => log::info!("{name}: {done}"),
                Ok(Err(e)) => log::warn!("{name} failed: {e}"),
                Err(e) => log::warn!("{name} failed: {e}"),
            }
        }
    })
}
