//! Keys from a JWKS URL, fetched with reqwest and cached. A token naming an unknown `kid` triggers
//! one refetch (key rotation), at most once per `min_refetch_interval` so a flood of forged kids
//! cannot turn into a flood of requests to the identity provider. While the provider cannot be
//! reached the keys last fetched keep working, but only for a bounded time
//! ([`JwksTiming::max_stale_age`]): a key the provider
//! withdrew (a compromised one) must not stay trusted because its refetches fail.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

use super::verifier::unauthorized;
use crate::error::ApiError;

/// How often keys are fetched and how long they are trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksTiming {
    /// Shortest time between two fetches caused by unknown key ids.
    pub min_refetch_interval: Duration,
    /// Cached keys are refreshed after this long even when every kid is known, so revoked keys
    /// go.
    pub max_key_age: Duration,
    /// Keys are trusted at most this long after the last successful fetch, however refetches
    /// fail.
    pub max_stale_age: Duration,
}

impl Default for JwksTiming {
    fn default() -> Self {
        Self {
            min_refetch_interval: Duration::from_secs(10),
            max_key_age: Duration::from_secs(15 * 60),
            max_stale_age: Duration::from_secs(60 * 60),
        }
    }
}

/// Fetches and caches the keys of one JWKS URL.
#[derive(Clone)]
pub struct JwksClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// Counts successful fetches: what a key verified stays verified only within a generation.
    generation: std::sync::atomic::AtomicU64,
    http: reqwest::Client,
    url: String,
    timing: JwksTiming,
    keys: RwLock<Cache>,
    fetching: Mutex<()>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Jwk>,
    /// The last successful fetch.
    fetched_at: Option<Instant>,
    /// The last attempt, successful or not, for rate limiting.
    attempted_at: Option<Instant>,
}

impl JwksClient {
    /// A client for `url` with `timing`.
    pub fn new(url: String, timing: JwksTiming) -> Result<Self, reqwest::Error> {
        // A redirect may not leave https (nor go on for ever): keys fetched over plain http could
        // have been swapped on the way.
        let https_only = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.previous().len() >= 3 || attempt.url().scheme() != "https" {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(https_only)
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                generation: std::sync::atomic::AtomicU64::new(0),
                http,
                url,
                timing,
                keys: RwLock::new(Cache::default()),
                fetching: Mutex::new(()),
            }),
        })
    }

    /// The current generation of keys (see [`crate::auth::verified`]).
    pub(super) fn generation(&self) -> u64 {
        self.inner
            .generation
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How long a token checked with these keys may be trusted without checking it again.
    pub(super) fn trust_for(&self) -> Duration {
        self.inner.timing.max_key_age
    }

    /// The key `kid`, which must suit `alg`.
    pub(super) async fn key(&self, kid: &str, alg: Algorithm) -> Result<DecodingKey, ApiError> {
        let timing = self.inner.timing;
        if let Some(jwk) = self.cached(kid, timing.max_key_age).await {
            return decoding_key(&jwk, alg);
        }
        self.refresh().await;
        match self.cached(kid, timing.max_stale_age).await {
            Some(jwk) => decoding_key(&jwk, alg),
            // Unknown to the provider, or known only to keys too old to trust any longer.
            None => Err(unauthorized(
                "the token is signed with a key that cannot be checked",
            )),
        }
    }

    /// The key `kid`, when the keys were fetched less than `max_age` ago.
    async fn cached(&self, kid: &str, max_age: Duration) -> Option<Jwk> {
        let cache = self.inner.keys.read().await;
        if cache.fetched_at.is_some_and(|t| t.elapsed() < max_age) {
            cache.keys.get(kid).cloned()
        } else {
            None
        }
    }

    async fn refresh(&self) {
        // One fetch at a time; callers that waited find the keys the first one fetched.
        let _guard = self.inner.fetching.lock().await;
        let last = self.inner.keys.read().await.attempted_at;
        if last.is_some_and(|t| t.elapsed() < self.inner.timing.min_refetch_interval) {
            return;
        }
        match self.fetch().await {
            Ok(set) => {
                let keys = set
                    .keys
                    .into_iter()
                    .filter_map(|k| k.common.key_id.clone().map(|kid| (kid, k)))
                    .collect();
                let now = Some(Instant::now());
                self.inner
                    .generation
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                *self.inner.keys.write().await = Cache {
                    keys,
                    fetched_at: now,
                    attempted_at: now,
                };
            }
            Err(e) => {
                // Keep the keys we have (an identity provider outage must not log everyone out at
                // once), without counting this attempt as a fetch.
                log::warn!("cannot fetch JWKS from {}: {e}", self.inner.url);
                self.inner.keys.write().await.attempted_at = Some(Instant::now());
            }
        }
    }

    async fn fetch(&self) -> Result<JwkSet, reqwest::Error> {
        self.inner
            .http
            .get(&self.inner.url)
            .send()
            .await?
            .error_for_status()?
            .json::<JwkSet>()
            .await
    }
}

fn decoding_key(jwk: &Jwk, alg: Algorithm) -> Result<DecodingKey, ApiError> {
    let declared_ok = matches!(
        (jwk.common.key_algorithm, alg),
        (None, _)
            | (Some(KeyAlgorithm::RS256), Algorithm::RS256)
            | (Some(KeyAlgorithm::ES256), Algorithm::ES256)
    );
    let family_ok = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        _ => false,
    };
    if !(declared_ok && family_ok) {
        return Err(unauthorized("the token's algorithm does not match its key"));
    }
    DecodingKey::from_jwk(jwk).map_err(|_| unauthorized("the token's key cannot be used"))
}
