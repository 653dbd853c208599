//! What every handler shares.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use circulo_domain::OrgId;
use circulo_persistence::{Db, StoreResult};

use crate::auth::{Caller, TokenVerifier};
use crate::error::ApiError;
use crate::middleware::metrics::Metrics;
use crate::webhooks::WebhookSettings;

/// Application state, one per server, cloned into each worker.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Checks bearer tokens.
    pub verifier: TokenVerifier,
    /// Request counters and latency histograms.
    pub metrics: Metrics,
    /// Organizations already seen to exist.
    pub known_orgs: KnownOrgs,
    /// Keys the hash of the caller in an untraced change's idempotency record
    /// ([`crate::secret::untraced_key`]).
    pub untraced_key: Arc<[u8]>,
    /// How webhooks are delivered, and what their URLs may reach.
    pub webhooks: WebhookSettings,
}

/// Organizations this process has seen in the database. Organizations are never deleted, so a
/// positive answer stays true and each replica asks the database once per organization.
#[derive(Debug, Clone, Default)]
pub struct KnownOrgs(Arc<RwLock<HashSet<OrgId>>>);

impl KnownOrgs {
    /// Whether `org` was seen to exist.
    pub fn contains(&self, org: OrgId) -> bool {
        self.0.read().is_ok_and(|known| known.contains(&org))
    }

    /// Remembers that `org` exists.
    pub fn insert(&self, org: OrgId) {
        if let Ok(mut known) = self.0.write() {
            known.insert(org);
        }
    }
}

/// Runs database work on the blocking pool: diesel is synchronous and must not stall the async
/// workers. This is the crate's only `web::block`.
pub async fn blocking<T, E, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
    F: FnOnce(&Db) -> Result<T, E> + Send + 'static,
{
    let db = state.db.clone();
    actix_web::web::block(move || f(&db).map_err(Into::into)).await?
}

/// Runs a read for `caller`: their standing is checked first, in the same trip to the blocking
/// pool.
pub async fn read<T, F>(state: &AppState, caller: &Caller, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Db) -> StoreResult<T> + Send + 'static,
{
    let standing = caller.standing.clone();
    blocking(state, move |db| {
        standing.check(db)?;
        f(db).map_err(ApiError::from)
    })
    .await
}
