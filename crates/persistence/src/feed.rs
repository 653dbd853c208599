//! Feed positions: a per-organization counter that orders the rows integrations follow (the audit
//! log now; decisions and scores later). Ids cannot order a feed: on PostgreSQL a transaction
//! that took an earlier id can commit after one that took a later id, and a client that already
//! read past the later one would never see it. A position is taken under the counter's row lock,
//! held until commit, so positions are handed out in commit order.

use diesel::prelude::*;

use circulo_domain::OrgId;

use crate::conn::DbConn;
use crate::db::Db;
use crate::error::StoreResult;
use crate::schema::{audit_events as a, feed_positions as f};
use crate::time::{to_db, today};

/// Starts the feed of a new organization.
pub(crate) fn start(conn: &mut DbConn, org: OrgId) -> StoreResult<()> {
    diesel::insert_into(f::table)
        .values((f::org_id.eq(org.to_string()), f::position.eq(0_i64)))
        .execute(conn)?;
    Ok(())
}

/// Takes the next `count` positions of `org`'s feed and returns the last of them.
pub(crate) fn advance(conn: &mut DbConn, org: OrgId, count: i64) -> StoreResult<i64> {
    Ok(
        diesel::update(f::table.filter(f::org_id.eq(org.to_string())))
            .set(f::position.eq(f::position + count))
            .returning(f::position)
            .get_result(conn)?,
    )
}

impl Db {
    /// Gives the untraced audit entries of past days their places in the feed, in an order that
    /// says nothing about when in the day each was made (their ids are random within the date).
    /// Returns how many entries were placed.
    pub fn place_untraced_entries(&self) -> StoreResult<usize> {
        let before = to_db(today());
        self.write_unaudited(|conn| {
            crate::tx::in_write_transaction(conn, |conn| {
                let pending: Vec<(String, String)> = a::table
                    .filter(a::position.is_null())
                    .filter(a::occurred_at.lt(before))
                    .select((a::org_id, a::id))
                    .order((a::org_id, a::id))
                    .load(conn)?;
                let mut placed = 0;
                for (org, ids) in group_by_org(pending) {
                    let org: OrgId = crate::rows::parse_id("organization id", &org)?;
                    let count = i64::try_from(ids.len()).unwrap_or(i64::MAX);
                    let last = advance(conn, org, count)?;
                    for (offset, id) in (0..count).rev().zip(ids.iter().rev()) {
                        diesel::update(
                            a::table
                                .filter(a::org_id.eq(org.to_string()))
                                .filter(a::id.eq(id)),
                        )
                        .set(a::position.eq(last - offset))
                        .execute(conn)?;
                        placed += 1;
                    }
                }
                Ok(placed)
            })
        })
    }
}

fn group_by_org(rows: Vec<(String, String)>) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (org, id) in rows {
        match groups.last_mut() {
            Some((current, ids)) if *current == org => ids.push(id),
            _ => groups.push((org, vec![id])),
        }
    }
    groups
}
