//! The statements written differently for each database, each written out in full for both, in
//! one place. (diesel's query builder writes everything else for either.) The two dialects differ
//! here only in how parameters are written: `$1` on PostgreSQL, `?1` on SQLite, each reusable.

use crate::conn::DbConn;

/// One statement, in both dialects.
pub(crate) struct Dialects {
    postgres: &'static str,
    sqlite: &'static str,
}

impl Dialects {
    /// The statement for `conn`'s database.
    pub(crate) fn for_conn(&self, conn: &DbConn) -> &'static str {
        match conn {
            DbConn::Pg(_) => self.postgres,
            DbConn::Sqlite(_) => self.sqlite,
        }
    }
}

/// How many times member `$3` appears above member `$2` in organization `$1`'s reporting lines
/// (`hierarchy::manages`). `UNION` visits each member once, so the walk ends on any chain and on
/// a cycle.
pub(crate) const MANAGES: Dialects = Dialects {
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

/// Gives organization `$1`'s audit rows that wait for a place and may join the feed by `$2` the
/// positions after `$3`, in id order, at most `$4` of them (`feed::place`).
pub(crate) const PLACE_WAITING_AUDIT_EVENTS: Dialects = Dialects {
    postgres: "UPDATE audit_events SET position = $3 + waiting.n \
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_events \
              WHERE org_id = $1 AND position IS NULL AND feed_after <= $2 \
              ORDER BY id LIMIT $4) AS waiting \
        WHERE audit_events.org_id = $1 AND audit_events.id = waiting.id",
    sqlite: "UPDATE audit_events SET position = ?3 + waiting.n \
        FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_events \
              WHERE org_id = ?1 AND position IS NULL AND feed_after <= ?2 \
              ORDER BY id LIMIT ?4) AS waiting \
        WHERE audit_events.org_id = ?1 AND audit_events.id = waiting.id",
};
