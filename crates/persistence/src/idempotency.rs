//! Idempotency keys: the first request with a key reserves it, its response is kept for 24 hours,
//! and a retry with the same key and body gets that response again instead of a second effect.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::error::{StoreError, StoreResult};
use crate::pool::Db;
use crate::schema::idempotency_keys as k;
use crate::time::{now, to_db};

/// How long a key and its response are kept.
pub const KEY_LIFETIME: TimeDelta = TimeDelta::hours(24);

/// A reservation older than this whose request never finished (the process died) may be taken
/// over by a retry; live requests finish in far less.
pub const ABANDONED_AFTER: TimeDelta = TimeDelta::minutes(2);

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// The headers worth replaying (content type, location, ETag).
    pub headers: Vec<(String, String)>,
    /// The body, as sent.
    pub body: String,
}

/// What a request holding an idempotency key should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new (or expired, or abandoned): run the request and then complete the key.
    Acquired,
    /// The first request finished: answer with its response.
    Replay(StoredResponse),
    /// The first request is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

#[derive(Queryable)]
struct KeyRow {
    #[expect(
        dead_code,
        reason = "selected with the row; the scope is already known"
    )]
    org_id: String,
    #[expect(dead_code, reason = "selected with the row; the key is already known")]
    idempotency_key: String,
    fingerprint: String,
    created_at: NaiveDateTime,
    locked_at: NaiveDateTime,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = k)]
struct NewKeyRow<'a> {
    org_id: &'a str,
    idempotency_key: &'a str,
    fingerprint: &'a str,
    created_at: NaiveDateTime,
    locked_at: NaiveDateTime,
}

/// Idempotency key persistence.
pub struct IdempotencyKeys<'a>(&'a Db);

impl Db {
    /// The idempotency key store.
    pub fn idempotency_keys(&self) -> IdempotencyKeys<'_> {
        IdempotencyKeys(self)
    }
}

impl IdempotencyKeys<'_> {
    /// Reserves `key` in `scope` for the request identified by `fingerprint`.
    pub fn reserve(&self, scope: &str, key: &str, fingerprint: &str) -> StoreResult<Reservation> {
        self.0.write_unaudited(|conn| {
            // Two passes at most: an expired or abandoned row is cleared and the insert retried.
            for _ in 0..2 {
                let at = to_db(now());
                let inserted = diesel::insert_into(k::table)
                    .values(&NewKeyRow {
                        org_id: scope,
                        idempotency_key: key,
                        fingerprint,
                        created_at: at,
                        locked_at: at,
                    })
                    .execute(conn);
                match inserted {
                    Ok(_) => return Ok(Reservation::Acquired),
                    Err(e) => match StoreError::from(e) {
                        StoreError::Conflict(_) => {}
                        other => return Err(other),
                    },
                }
                let Some(row) = k::table
                    .filter(k::org_id.eq(scope))
                    .filter(k::idempotency_key.eq(key))
                    .first::<KeyRow>(conn)
                    .optional()?
                else {
                    continue;
                };
                let expired = row.created_at < at - KEY_LIFETIME;
                let abandoned =
                    row.response_status.is_none() && row.locked_at < at - ABANDONED_AFTER;
                if expired || (abandoned && row.fingerprint == fingerprint) {
                    // Delete exactly the row we judged, so two retries cannot both take it over.
                    diesel::delete(
                        k::table
                            .filter(k::org_id.eq(scope))
                            .filter(k::idempotency_key.eq(key))
                            .filter(k::locked_at.eq(row.locked_at)),
                    )
                    .execute(conn)?;
                    continue;
                }
                if row.fingerprint != fingerprint {
                    return Ok(Reservation::Mismatch);
                }
                return Ok(match (row.response_status, row.response_body) {
                    (Some(status), Some(body)) => Reservation::Replay(StoredResponse {
                        status: u16::try_from(status).unwrap_or(500),
                        headers: row
                            .response_headers
                            .and_then(|h| serde_json::from_str(&h).ok())
                            .unwrap_or_default(),
                        body,
                    }),
                    _ => Reservation::InFlight,
                });
            }
            Ok(Reservation::InFlight)
        })
    }

    /// Keeps the response of the request that reserved `key`.
    pub fn complete(&self, scope: &str, key: &str, response: &StoredResponse) -> StoreResult<()> {
        let headers = serde_json::to_string(&response.headers)
            .map_err(|e| StoreError::Corrupt(format!("headers: {e}")))?;
        self.0.write_unaudited(|conn| {
            diesel::update(
                k::table
                    .filter(k::org_id.eq(scope))
                    .filter(k::idempotency_key.eq(key)),
            )
            .set((
                k::response_status.eq(i32::from(response.status)),
                k::response_headers.eq(headers),
                k::response_body.eq(&response.body),
            ))
            .execute(conn)?;
            Ok(())
        })
    }

    /// Frees `key` after a request that had no lasting effect (a server error), so a retry runs.
    pub fn release(&self, scope: &str, key: &str) -> StoreResult<()> {
        self.0.write_unaudited(|conn| {
            diesel::delete(
                k::table
                    .filter(k::org_id.eq(scope))
                    .filter(k::idempotency_key.eq(key))
                    .filter(k::response_status.is_null()),
            )
            .execute(conn)?;
            Ok(())
        })
    }

    /// Deletes keys past their lifetime; returns how many.
    pub fn purge_expired(&self) -> StoreResult<usize> {
        let cutoff = to_db(now() - KEY_LIFETIME);
        self.0.write_unaudited(|conn| {
            Ok(diesel::delete(k::table.filter(k::created_at.lt(cutoff))).execute(conn)?)
        })
    }
}
