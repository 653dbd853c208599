//! An approved decision as one statement on PostgreSQL: the conditional budget upsert
//! ([`ConsumeBudget`]), the decision row and its audit entry, the two inserts reading the
//! upsert's result, so they happen exactly when the budget covers the decision. Outside a
//! transaction it commits on its own: a decision at the counter is then two round trips (the
//! counter's read and this), where the same work as separate statements in a transaction is six.
//! SQLite, in process, runs the same three writes as three statements in its transaction.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::DecisionRow;
use crate::announced::push_audit_from;
use crate::budget::ConsumeBudget;
use crate::conn::DbConn;
use crate::error::StoreResult;
use crate::schema::decisions as dc;
use crate::tx::{NewAuditRow, insert_audit_entries};

/// Counts `decision` against `budget` and, when it fits, writes it with `audit`. Returns the
/// period's new total, or `None` (nothing written) when the grant does not cover it.
pub(super) fn approve(
    conn: &mut DbConn,
    budget: &ConsumeBudget,
    decision: &DecisionRow,
    audit: &NewAuditRow,
) -> StoreResult<Option<i64>> {
    if let DbConn::Pg(pg) = conn {
        let statement = Approve {
            budget,
            decision,
            audit,
        };
        return Ok(statement.get_result::<i64>(pg).optional()?);
    }
    let Some(used) = budget.clone().get_result::<i64>(conn).optional()? else {
        return Ok(None);
    };
    diesel::insert_into(dc::table)
        .values(decision)
        .execute(conn)?;
    insert_audit_entries(conn, std::slice::from_ref(audit))?;
    Ok(Some(used))
}

struct Approve<'a> {
    budget: &'a ConsumeBudget,
    decision: &'a DecisionRow,
    audit: &'a NewAuditRow,
}

/// The statement's identity for diesel's prepared-statement cache: its text never changes.
struct ApproveStatement;

impl QueryId for Approve<'_> {
    type QueryId = ApproveStatement;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for Approve<'_> {
    type SqlType = BigInt;
}

impl<Conn> RunQueryDsl<Conn> for Approve<'_> {}

impl QueryFragment<Pg> for Approve<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let d = self.decision;
        out.push_sql("WITH used AS (");
        self.budget.walk_ast(out.reborrow())?;
        out.push_sql(
            "), decision AS (INSERT INTO decisions (org_id, id, member_id, team_id, action, \
             amount_minor, currency, client_ref, touchpoint, note, outcome, delegation_id, \
             period_start, escalation_id, voided_at, void_reason, recorded_by_role, \
             recorded_by_subject, created_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(&d.org_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.member_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&d.team_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.action)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&d.amount_minor)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.currency)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.client_ref)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.touchpoint)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&d.note)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.outcome)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&d.delegation_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Timestamp>, _>(&d.period_start)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&d.escalation_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Timestamp>, _>(&d.voided_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&d.void_reason)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&d.recorded_by_role)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&d.recorded_by_subject)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&d.created_at)?;
        out.push_sql(" FROM used), audit AS (");
        push_audit_from(out.reborrow(), self.audit, None, "used")?;
        out.push_sql(") SELECT used_minor FROM used");
        Ok(())
    }
}
