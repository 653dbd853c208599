//! Feed positions: the order of the rows integrations follow (the audit log now; decisions and
//! scores later). Ids cannot give that order: on PostgreSQL a transaction that took an earlier id
//! can commit after one that took a later id, and a client that had already read past the later
//! one would never see it.
//!
//! So rows are written without a position, and a read of the feed first places the rows that
//! have committed and are waiting: under the organization's counter lock, they take the next
//! positions, in id order. A row committed later can only be placed later, after every position
//! handed out before, so no client's cursor is ever passed by a row it has not seen. Writers never
//! take the counter, so they do not queue behind each other's commits; the cost falls on feed
//! reads that find rows waiting, which write once.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use circulo_domain::OrgId;

use crate::conn::DbConn;
use crate::dialect::PLACE_WAITING_AUDIT_EVENTS;
use crate::error::StoreResult;
use crate::schema::{audit_events as a, feed_positions as f};
use crate::time::{now, to_db};

/// The most rows one read places; any left are placed by the next read.
const PLACED_AT_ONCE: i64 = 10_000;

/// Starts the feed of a new organization.
pub(crate) fn start(conn: &mut DbConn, org: OrgId) -> StoreResult<()> {
    diesel::insert_into(f::table)
        .values((f::org_id.eq(org.to_string()), f::position.eq(0_i64)))
        .execute(conn)?;
    Ok(())
}

/// Whether rows of `org` are waiting for a place in the audit feed (a cheap check outside any
/// transaction: most reads find none and need not write).
pub(crate) fn waiting(conn: &mut DbConn, org: OrgId) -> StoreResult<bool> {
    let found = a::table
        .filter(a::org_id.eq(org.to_string()))
        .filter(a::position.is_null())
        .filter(a::feed_after.le(to_db(now())))
        .select(a::id)
        .first::<String>(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Places the waiting audit rows of `org`, inside the caller's write transaction; returns how
/// many.
pub(crate) fn place(conn: &mut DbConn, org: OrgId) -> StoreResult<usize> {
    // Locks the counter until commit: placers queue here, and each one sees the rows the one
    // before it placed (and every row committed meanwhile).
    let base: i64 = diesel::update(f::table.filter(f::org_id.eq(org.to_string())))
        .set(f::position.eq(f::position))
        .returning(f::position)
        .get_result(conn)?;
    let placed = diesel::sql_query(PLACE_WAITING_AUDIT_EVENTS.for_conn(conn))
        .bind::<Text, _>(org.to_string())
        .bind::<Timestamp, _>(to_db(now()))
        .bind::<BigInt, _>(base)
        .bind::<BigInt, _>(PLACED_AT_ONCE)
        .execute(conn)?;
    if placed > 0 {
        let count = i64::try_from(placed).unwrap_or(i64::MAX);
        diesel::update(f::table.filter(f::org_id.eq(org.to_string())))
            .set(f::position.eq(base + count))
            .execute(conn)?;
    }
    Ok(placed)
}
