//! One score as one statement on PostgreSQL: the score row (yielding to a record of the same
//! `(source, external_id)`), its audit entry, its `score.recorded` event and, for a low score,
//! its `score.detractor` event, the last three reading the insert's `RETURNING`, so they are
//! written exactly when the score is. Outside a transaction it commits on its own: a score
//! POST is then two round trips (the context read and this). SQLite, in process, runs the same
//! writes as separate statements in its transaction.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};

use super::ScoreRow;
use crate::announced::{push_audit_from, push_event_from};
use crate::conn::DbConn;
use crate::error::StoreResult;
use crate::schema::satisfaction_scores as s;
use crate::tx::{NewAuditRow, NewOutboxRow, insert_audit_entries, insert_outbox_entries};

/// What recording one score writes beside its row.
pub(super) struct Announcements {
    pub(super) audit: NewAuditRow,
    pub(super) recorded: NewOutboxRow,
    pub(super) detractor: Option<NewOutboxRow>,
}

/// Writes `row` with its announcements; `false` (nothing written) when a score of the same
/// `(source, external_id)` is already recorded.
pub(super) fn record(
    conn: &mut DbConn,
    row: &ScoreRow,
    announced: &Announcements,
) -> StoreResult<bool> {
    let insert = diesel::insert_into(s::table)
        .values(row)
        .on_conflict((s::org_id, s::source, s::external_id))
        .do_nothing()
        .returning(s::id);
    if let DbConn::Pg(pg) = conn {
        let statement = Record {
            insert,
            announced,
            // The statement's shape is fixed: without a detractor event its row is bound and
            // not written.
            detractor: announced.detractor.as_ref().unwrap_or(&announced.recorded),
            is_detractor: announced.detractor.is_some(),
        };
        return Ok(statement.get_result::<String>(pg).optional()?.is_some());
    }
    let inserted = crate::conn::underneath!(conn, |c| insert.get_results::<String>(c))?;
    if inserted.is_empty() {
        return Ok(false);
    }
    insert_audit_entries(conn, std::slice::from_ref(&announced.audit))?;
    let mut events = vec![announced.recorded.clone()];
    events.extend(announced.detractor.clone());
    insert_outbox_entries(conn, &events)?;
    Ok(true)
}

struct Record<'a, I> {
    insert: I,
    announced: &'a Announcements,
    detractor: &'a NewOutboxRow,
    is_detractor: bool,
}

/// The statement's identity for diesel's prepared-statement cache: its text never changes.
struct RecordStatement;

impl<I> QueryId for Record<'_, I> {
    type QueryId = RecordStatement;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<I> Query for Record<'_, I> {
    type SqlType = Text;
}

impl<I, Conn> RunQueryDsl<Conn> for Record<'_, I> {}

impl<I: QueryFragment<Pg>> QueryFragment<Pg> for Record<'_, I> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH inserted AS (");
        self.insert.walk_ast(out.reborrow())?;
        out.push_sql("), audit AS (");
        push_audit_from(out.reborrow(), &self.announced.audit, "inserted")?;
        out.push_sql("), recorded AS (");
        push_event_from(out.reborrow(), &self.announced.recorded, "inserted")?;
        out.push_sql("), detractor AS (");
        push_event_from(out.reborrow(), self.detractor, "inserted")?;
        out.push_sql(" WHERE ");
        out.push_bind_param::<Bool, _>(&self.is_detractor)?;
        out.push_sql(") SELECT id FROM inserted");
        Ok(())
    }
}
