//! Who manages whom, transitively, through `members.manager_id`: the rule goals, delegations,
//! feedback and reports all ask about, answered by one recursive query in the database.
//!
//! The walk uses `UNION`, not `UNION ALL`: each member is visited once, so it ends on any chain,
//! however deep, and even on a cycle a concurrent write might have slipped in. (A depth bound
//! would instead let a long enough chain hide a cycle.)

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use circulo_domain::reach::Reach;
use circulo_domain::{MemberId, OrgId};

use crate::conn::DbConn;
use crate::db::Db;
use crate::dialect::{MANAGES, REACH};
use crate::error::{StoreError, StoreResult};
use crate::rows::{parse_id, parse_opt_id};
use crate::tx::WriteTx;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether `manager` stands above `member` in `org`'s reporting lines, directly or through
/// others.
pub(crate) fn manages(
    conn: &mut DbConn,
    org: OrgId,
    manager: MemberId,
    member: MemberId,
) -> StoreResult<bool> {
    let found = diesel::sql_query(MANAGES.for_conn(conn))
        .bind::<Text, _>(org.to_string())
        .bind::<Text, _>(member.to_string())
        .bind::<Text, _>(manager.to_string())
        .get_result::<Count>(conn)?;
    Ok(found.n > 0)
}

#[derive(QueryableByName)]
struct Below {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    team_id: Option<String>,
    #[diesel(sql_type = Bool)]
    itself: bool,
}

/// `member`'s reach in `org`: their team and everyone below them with their teams, in one
/// query. `NotFound` when `member` is not a member of `org`.
pub(crate) fn reach(conn: &mut DbConn, org: OrgId, member: MemberId) -> StoreResult<Reach> {
    let rows = diesel::sql_query(REACH.for_conn(conn))
        .bind::<Text, _>(org.to_string())
        .bind::<Text, _>(member.to_string())
        .load::<Below>(conn)?;
    let mut team = None;
    let mut found = false;
    let mut below = Vec::with_capacity(rows.len());
    for row in rows {
        let row_team = parse_opt_id("team id", row.team_id.as_deref())?;
        if row.itself {
            found = true;
            team = row_team;
        } else {
            below.push((parse_id("member id", &row.id)?, row_team));
        }
    }
    if !found {
        return Err(StoreError::NotFound);
    }
    Ok(Reach::new(member, team, below))
}

impl Db {
    /// `member`'s reach in `org` (see [`Reach`]).
    pub fn reach(&self, org: OrgId, member: MemberId) -> StoreResult<Reach> {
        self.read(|conn| reach(conn, org, member))
    }
}

impl WriteTx<'_> {
    /// `member`'s reach in `org`, read in this transaction.
    pub fn reach(&mut self, org: OrgId, member: MemberId) -> StoreResult<Reach> {
        reach(self.conn()?, org, member)
    }
}
