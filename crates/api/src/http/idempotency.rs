//! The `Idempotency-Key` a creating POST carries, as handlers receive it: the key and the
//! fingerprint of the request it was sent with (method, path and query, body bytes). The
//! middleware reads both before routing; the handler turns them into the caller's claim after
//! authorizing, and the write path answers the claim inside the change's own transaction.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{Ready, ready};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// A key and the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRequest {
    /// The key, as sent.
    pub key: String,
    /// Identifies the request: a retry must send the same one.
    pub fingerprint: String,
}

/// The extractor: the request's key, when it sent one.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<IdempotencyRequest>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Taken, not cloned: the middleware logs a key that no handler took, since a route that
        // forgets to pass it on would silently ignore clients' retries.
        ready(Ok(Self(
            req.extensions_mut().remove::<IdempotencyRequest>(),
        )))
    }
}

/// Whether `key` is acceptable: 1 to 255 printable ASCII characters.
pub fn acceptable(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

/// Identifies the request a key was first used for: method, path and query, and body bytes.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method);
    hash.update(b" ");
    hash.update(path_and_query);
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
