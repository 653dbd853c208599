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
use crate::error::StoreResult;

/// The dialects differ only in how parameters are written.
const MANAGES: Dialects = Dialects {
    postgres: "WITH RECURSIVE above(id) AS ( \
            SELECT manager_id FROM members WHERE org_id = $1 AND id = $2 \
            UNION \
            SELECT m.manager_id FROM members m JOIN above ON m.org_id = $1 AND m.id = above.id \
        ) SELECT COUNT(*) AS n FROM above WHERE id = $3",
    sqlite: "WITH RECURSIVE above(id) AS ( \
            SELECT manager_id FROM members WHERE org_id = ?1 AND id = ?2 \
            UNION \
            SELECT m.manager_id FROM members m JOIN above ON m.org_id = ?1 AND m.id = above.id \
        ) SELECT COUNT(*) AS n FROM above WHERE id = ?3",
};

struct Dialects {
    postgres: &'static str,
    sqlite: &'static str,
}

impl Dialects {
    fn for_conn(&self, conn: &DbConn) -> &'static str {
        match conn {
            DbConn::Pg(_) => self.postgres,
            DbConn::Sqlite(_) => self.sqlite,
        }
    }
}

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
