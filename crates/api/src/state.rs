//! What every handler shares.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use circulo_domain::OrgId;
use circulo_persistence::{Db, StoreResult};

use crate::auth::TokenVerifier;
use crate::error::ApiError;
use crate::middleware::metrics::Metrics;

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
}

/// Organizations this process has seen in the database. Organizations are never deleted, so a
/// positive answer stays true and each replica asks the database once per organization.
#[derive(Clone, Default)]
pub struct KnownOrgs(Arc<RwLock<HashSet<OrgId>>>);

impl KnownOrgs {
    /// Whether `org` exists, asking the database only the first time.
    pub async fn exists(&self, state: &AppState, org: OrgId) -> Result<bool, ApiError> {
        if self.0.read().is_ok_and(|known| known.contains(&org)) {
            return Ok(true);
        }
        let exists = blocking(state, move |db| db.organizations().exists(org)).await?;
        if exists && let Ok(mut known) = self.0.write() {
            known.insert(org);
        }
        Ok(exists)
    }
}

/// Runs a store call on the blocking pool: diesel is synchronous and must not stall the async
/// workers. This is the crate's only `web::block`.
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Db) -> StoreResult<T> + Send + 'static,
{
    let db = state.db.clone();
    Ok(actix_web::web::block(move || f(&db)).await??)
}
