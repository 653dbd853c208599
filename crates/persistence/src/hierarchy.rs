//! Who manages whom, transitively, through `members.manager_id`: the rule goals, delegations,
//! feedback and reports all ask about, answered by one recursive query in the database.
//!
//! The walk uses `UNION`, not `UNION ALL`: each member is visited once, so it ends on any chain,
//! however deep, and even on a cycle a concurrent write might have slipped in. (A depth bound
//! would instead let a long enough chain hide a cycle.)

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use circulo_domain::{MemberId, OrgId};

use crate::conn::DbConn;
use crate::dialect::MANAGES;
use crate::error::StoreResult;

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
