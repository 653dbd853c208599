//! What every handler shares.

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
