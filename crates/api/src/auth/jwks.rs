//! Keys from a JWKS URL, fetched with reqwest and cached. A token naming an unknown `kid` triggers
//! one refetch (key rotation), at most once per `min_refetch_interval` so a flood of forged kids
//! cannot turn into a flood of requests to the identity provider.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

use super::verifier::unauthorized;
use crate::error::ApiError;

/// Cached keys are refreshed after this long even when every kid is known, so revoked keys go.
const MAX_KEY_AGE: Duration = Duration::from_secs(15 * 60);

/// Fetches and caches the keys of one JWKS URL.
#[derive(Clone)]
pub struct JwksClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    url: String,
    min_refetch_interval: Duration,
    keys: RwLock<Cache>,
    fetching: Mutex<()>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Jwk>,
    fetched_at: Option<Instant>,
}

impl JwksClient {
    /// A client for `url`, refetching on unknown kids at most every `min_refetch_interval`.
    pub fn new(url: String, min_refetch_interval: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                url,
                min_refetch_interval,
                keys: RwLock::new(Cache::default()),
                fetching: Mutex::new(()),
            }),
        })
    }

    /// The key `kid`, which must suit `alg`.
    pub(super) async fn key(&self, kid: &str, alg: Algorithm) -> Result<DecodingKey, ApiError> {
        if let Some(jwk) = self.cached(kid, false).await {
            return decoding_key(&jwk, alg);
        }
        self.refresh().await;
        match self.cached(kid, true).await {
            Some(jwk) => decoding_key(&jwk, alg),
            None => Err(unauthorized("the token is signed with an unknown key")),
        }
    }

    async fn cached(&self, kid: &str, allow_stale: bool) -> Option<Jwk> {
        let cache = self.inner.keys.read().await;
        let fresh = cache.fetched_at.is_some_and(|t| t.elapsed() < MAX_KEY_AGE);
        if fresh || allow_stale {
            cache.keys.get(kid).cloned()
        } else {
            None
        }
    }

    async fn refresh(&self) {
        // One fetch at a time; callers that waited find the keys the first one fetched.
        let _guard = self.inner.fetching.lock().await;
        let last = self.inner.keys.read().await.fetched_at;
        if last.is_some_and(|t| t.elapsed() < self.inner.min_refetch_interval) {
            return;
        }
        match self.fetch().await {
            Ok(set) => {
                let keys = set
                    .keys
                    .into_iter()
                    .filter_map(|k| k.common.key_id.clone().map(|kid| (kid, k)))
                    .collect();
                *self.inner.keys.write().await = Cache {
                    keys,
                    fetched_at: Some(Instant::now()),
                };
            }
            Err(e) => {
                // Keep the keys we have: an identity provider outage must not log everyone out.
                log::warn!("cannot fetch JWKS from {}: {e}", self.inner.url);
                self.inner.keys.write().await.fetched_at = Some(Instant::now());
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
