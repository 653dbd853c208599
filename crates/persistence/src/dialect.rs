//! The statements written differently for each database, each written out in full for both, in
//! one place. (diesel's query builder writes everything else for either.) The two dialects differ
//! here only in how parameters are written: `$1` on PostgreSQL, `?1` on SQLite, each reusable.

use crate::conn::DbConn;

/// A statement written once in PostgreSQL's form, for `conn`'s database: `$n` parameters become
/// SQLite's `?n`, and `{real}` the floating type each database casts to. For statements whose
/// only differences are those; [`Dialects`] holds the ones that differ in more.
pub(crate) fn for_backend(conn: &DbConn, sql: &str) -> String {
    match conn {
        DbConn::Pg(_) => sql.replace("{real}", "DOUBLE PRECISION"),
        DbConn::Sqlite(_) => {
            let mut out = String::with_capacity(sql.len());
            let mut chars = sql.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                    out.push('?');
                } else {
                    out.push(c);
                }
            }
            out.replace("{real}", "REAL")
        }
    }
}

/// One statement, in both dialects.
pub(crate) struct Dialects {
    pub(crate) postgres: &'static str,
    pub(crate) sqlite: &'static str,
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

/// Member `$2` of organization `$1` and everyone who reports to them, directly or through others,
/// each with their team; `itself` marks `$2`'s own row (`hierarchy::reach`).
pub(crate) const REACH: Dialects = Dialects {
    postgres: "WITH RECURSIVE below(id) AS ( \
            SELECT id FROM members WHERE org_id = $1 AND manager_id = $2 \
            UNION \
            SELECT m.id FROM members m JOIN below ON m.org_id = $1 AND m.manager_id = below.id \
        ) SELECT id, team_id, id = $2 AS itself FROM members \
        WHERE org_id = $1 AND (id = $2 OR id IN (SELECT id FROM below))",
    sqlite: "WITH RECURSIVE below(id) AS ( \
            SELECT id FROM members WHERE org_id = ?1 AND manager_id = ?2 \
            UNION \
            SELECT m.id FROM members m JOIN below ON m.org_id = ?1 AND m.manager_id = below.id \
        ) SELECT id, team_id, id = ?2 AS itself FROM members \
        WHERE org_id = ?1 AND (id = ?2 OR id IN (SELECT id FROM below))",
};

/// How many times goal `$3` appears among goal `$2` and the goals above it in organization `$1`
/// (`goals::check_parent`): more than none, and making `$2` the parent of `$3` closes a cycle.
pub(crate) const GOAL_ABOVE: Dialects = Dialects {
    postgres: "WITH RECURSIVE above(id) AS ( \
            SELECT CAST($2 AS TEXT) \
            UNION \
            SELECT g.parent_goal_id FROM goals g JOIN above ON g.org_id = $1 AND g.id = above.id \
        ) SELECT COUNT(*) AS n FROM above WHERE id = $3",
    sqlite: "WITH RECURSIVE above(id) AS ( \
            SELECT CAST(?2 AS TEXT) \
            UNION \
            SELECT g.parent_goal_id FROM goals g JOIN above ON g.org_id = ?1 AND g.id = above.id \
        ) SELECT COUNT(*) AS n FROM above WHERE id = ?3",
};

/// The groups of anonymous feedback (subject and kind, as `subject:kind`) in organization `$1`
/// with at least `$5` items given before `$6` (today: an item counts, and shows, only once its
/// day is over) in the window from `$3` (inclusive) to `$4` (exclusive), either end open when
/// NULL, optionally of subject `$2` only: those whose items may be shown
/// (`feedback::shown_groups`).
pub(crate) const ANONYMOUS_GROUPS_SHOWN: Dialects = Dialects {
    postgres: "SELECT subject_member_id || ':' || kind AS id FROM feedback \
        WHERE org_id = $1 AND anonymous AND created_at < $6 \
          AND ($2::text IS NULL OR subject_member_id = $2) \
          AND ($3::timestamp IS NULL OR created_at >= $3) \
          AND ($4::timestamp IS NULL OR created_at < $4) \
        GROUP BY subject_member_id, kind HAVING COUNT(*) >= $5",
    sqlite: "SELECT subject_member_id || ':' || kind AS id FROM feedback \
        WHERE org_id = ?1 AND anonymous = 1 AND created_at < ?6 \
          AND (?2 IS NULL OR subject_member_id = ?2) \
          AND (?3 IS NULL OR created_at >= ?3) \
          AND (?4 IS NULL OR created_at < ?4) \
        GROUP BY subject_member_id, kind HAVING COUNT(*) >= ?5",
};

/// Feedback about member `$2` of organization `$1` by kind and anonymity, in the window from
/// `$3` to `$4` (open when NULL), optionally of kind `$5` only, anonymous items only once their
/// day is over (given before `$6`): how many and their average rating (`feedback::summary`).
pub(crate) const FEEDBACK_SUMMARY: Dialects = Dialects {
    postgres: "SELECT kind, anonymous, COUNT(*) AS n, AVG(rating::double precision) AS average \
        FROM feedback \
        WHERE org_id = $1 AND subject_member_id = $2 \
          AND ($3::timestamp IS NULL OR created_at >= $3) \
          AND ($4::timestamp IS NULL OR created_at < $4) \
          AND ($5::text IS NULL OR kind = $5) \
          AND (NOT anonymous OR created_at < $6) \
        GROUP BY kind, anonymous ORDER BY kind, anonymous",
    sqlite: "SELECT kind, anonymous, COUNT(*) AS n, AVG(CAST(rating AS REAL)) AS average \
        FROM feedback \
        WHERE org_id = ?1 AND subject_member_id = ?2 \
          AND (?3 IS NULL OR created_at >= ?3) \
          AND (?4 IS NULL OR created_at < ?4) \
          AND (?5 IS NULL OR kind = ?5) \
          AND (anonymous = 0 OR created_at < ?6) \
        GROUP BY kind, anonymous ORDER BY kind, anonymous",
};

/// The scores of organization `$1` whose `(source, external_id)` is one of the pairs in `$2`, a
/// JSON array of `[source, external_id]` (`scores::earlier_records`).
pub(crate) const EARLIER_RECORDS: Dialects = Dialects {
    postgres: "SELECT s.* FROM satisfaction_scores s \
        JOIN jsonb_array_elements(CAST($2 AS jsonb)) AS k \
          ON s.org_id = $1 AND s.source = k->>0 AND s.external_id = k->>1",
    sqlite: "SELECT s.* FROM satisfaction_scores s \
        JOIN json_each(?2) AS k \
          ON s.org_id = ?1 AND s.source = json_extract(k.value, '$[0]') \
          AND s.external_id = json_extract(k.value, '$[1]')",
};
