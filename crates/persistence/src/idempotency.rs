//! Idempotency keys. A key is claimed, and its answer kept, inside the transaction of the change
//! it guards ([`crate::Db::write_once`]): a change that committed is answered again for 24 hours,
//! one that rolled back (or never committed because the process died) leaves no key behind, so
//! a retry runs it. There is no reservation to abandon or take over.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::{Eq, Filter};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::conn::DbConn;
use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::schema::idempotency_keys as k;
use crate::time::{now, to_db, today};

/// How long a key and its response are kept.
pub const KEY_LIFETIME: TimeDelta = TimeDelta::hours(24);

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

/// What a write under an idempotency key answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The change ran now; this is its answer.
    Fresh(StoredResponse),
    /// The change had run before under this key; this is the answer it gave.
    Replayed(StoredResponse),
}

/// A request's claim on an idempotency key: whose key it is, and which request it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    org: String,
    caller: String,
    key: String,
    fingerprint: String,
    traced: bool,
}

impl KeyClaim {
    /// The key `key` of `caller` in `org` (`None` for callers outside any organization), for the
    /// request `fingerprint` identifies.
    pub fn new(org: Option<String>, caller: String, key: String, fingerprint: String) -> Self {
        Self {
            org: org.unwrap_or_default(),
            caller,
            key,
            fingerprint,
            traced: true,
        }
    }

    /// A claim that keeps no caller: `key` must already be derived from the caller and their
    /// key so that it cannot be traced back to them, and the row is dated to the day.
    pub fn untraced(org: Option<String>, key: String, fingerprint: String) -> Self {
        Self {
            traced: false,
            ..Self::new(org, String::new(), key, fingerprint)
        }
    }

    /// Names the key among every caller's keys.
    pub(crate) fn identity(&self) -> String {
        format!("{}\u{1f}{}\u{1f}{}", self.org, self.caller, self.key)
    }

    /// Until when the answer is replayed: 24 hours, or, for an untraced key, to the end of the
    /// day after the one it is dated to (at least 24 hours without naming the hour).
    fn expires_at(&self) -> NaiveDateTime {
        if self.traced {
            to_db(now() + KEY_LIFETIME)
        } else {
            to_db(today() + TimeDelta::days(2))
        }
    }
}

#[derive(Queryable)]
struct KeyRow {
    fingerprint: String,
    expires_at: NaiveDateTime,
    response_status: i32,
    response_headers: String,
    response_body: String,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Claims `claim`'s key inside the open transaction: `Some` answer when the key was already
/// answered for the same request, `None` when the change should run now.
pub(crate) fn claim(conn: &mut DbConn, claim: &KeyClaim) -> StoreResult<Option<StoredResponse>> {
    if let DbConn::Pg(_) = conn {
        // Another replica's request with this key holds the lock until it commits or rolls back;
        // a second request meanwhile is told so at once instead of queueing behind it.
        let locked = diesel::sql_query(
            "SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked",
        )
        .bind::<Text, _>(format!("{}\u{1f}{}", claim.org, claim.caller))
        .bind::<Text, _>(&claim.key)
        .get_result::<Locked>(conn)?;
        if !locked.locked {
            return Err(StoreError::KeyInFlight);
        }
    }
    let found = scoped(claim)
        .select((
            k::fingerprint,
            k::expires_at,
            k::response_status,
            k::response_headers,
            k::response_body,
        ))
        .first::<KeyRow>(conn)
        .optional()?;
    let Some(row) = found else {
        return Ok(None);
    };
    if row.expires_at <= to_db(now()) {
        diesel::delete(scoped(claim)).execute(conn)?;
        return Ok(None);
    }
    if row.fingerprint != claim.fingerprint {
        return Err(StoreError::KeyMismatch);
    }
    Ok(Some(StoredResponse {
        status: u16::try_from(row.response_status).unwrap_or(500),
        headers: serde_json::from_str(&row.response_headers)
            .map_err(|e| StoreError::Corrupt(format!("idempotency response headers: {e}")))?,
        body: row.response_body,
    }))
}

/// Keeps `response` as the answer to `claim`, inside the transaction of the change.
pub(crate) fn keep(
    conn: &mut DbConn,
    claim: &KeyClaim,
    response: &StoredResponse,
) -> StoreResult<()> {
    let headers = serde_json::to_string(&response.headers)
        .map_err(|e| StoreError::Corrupt(format!("idempotency response headers: {e}")))?;
    diesel::insert_into(k::table)
        .values((
            k::org_id.eq(&claim.org),
            k::caller.eq(&claim.caller),
            k::idempotency_key.eq(&claim.key),
            k::fingerprint.eq(&claim.fingerprint),
            k::expires_at.eq(claim.expires_at()),
            k::response_status.eq(i32::from(response.status)),
            k::response_headers.eq(headers),
            k::response_body.eq(&response.body),
        ))
        .execute(conn)?;
    Ok(())
}

type ByOrg<'a> = Filter<k::table, Eq<k::org_id, &'a str>>;
type ByCaller<'a> = Filter<ByOrg<'a>, Eq<k::caller, &'a str>>;
type ByKey<'a> = Filter<ByCaller<'a>, Eq<k::idempotency_key, &'a str>>;

/// The row of `claim`'s key, whoever's it is.
fn scoped(claim: &KeyClaim) -> ByKey<'_> {
    k::table
        .filter(k::org_id.eq(claim.org.as_str()))
        .filter(k::caller.eq(claim.caller.as_str()))
        .filter(k::idempotency_key.eq(claim.key.as_str()))
}

impl Db {
    /// Deletes keys past their lifetime; returns how many.
    pub fn purge_expired_idempotency_keys(&self) -> StoreResult<usize> {
        let cutoff = to_db(now());
        self.write_unaudited(|conn| {
            Ok(diesel::delete(k::table.filter(k::expires_at.le(cutoff))).execute(conn)?)
        })
    }
}
