//! The audit entry and the events of a change written in the change's own statement on
//! PostgreSQL: each an `INSERT … SELECT` from the CTE that wrote the change's row, so they exist
//! exactly when the row does (an approved decision, a recorded score). The rows are built by
//! `WriteTx::audit_entry` and `WriteTx::outbox_entry`, as `tx.record` and `tx.emit` write them.

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Nullable, Text, Timestamp};

use crate::tx::{NewAuditRow, NewOutboxRow};

/// A JSON text the statement completes: `before`, the SQL expression `value`, then `after`
/// (a value only the statement knows, such as the team its insert chose).
pub(crate) struct Spliced<'b> {
    pub(crate) before: &'b str,
    pub(crate) value: &'static str,
    pub(crate) after: &'b str,
}

/// Writes `spliced` as one text expression.
fn push_spliced<'b>(mut out: AstPass<'_, 'b, Pg>, spliced: Spliced<'b>) -> QueryResult<()> {
    out.push_sql("(");
    out.push_bind_param::<Text, _>(spliced.before)?;
    out.push_sql(" || ");
    out.push_sql(spliced.value);
    out.push_sql(" || ");
    out.push_bind_param::<Text, _>(spliced.after)?;
    out.push_sql(")");
    Ok(())
}

/// Writes `INSERT INTO audit_events (…) SELECT … FROM <source>`, with the changes `spliced`
/// where given.
pub(crate) fn push_audit_from<'b>(
    mut out: AstPass<'_, 'b, Pg>,
    audit: &'b NewAuditRow,
    spliced: Option<Spliced<'b>>,
    source: &'static str,
) -> QueryResult<()> {
    out.push_sql(
        "INSERT INTO audit_events (org_id, id, occurred_at, actor_role, actor_subject, action, \
         entity_type, entity_id, request_id, changes, feed_after) SELECT ",
    );
    out.push_bind_param::<Text, _>(&audit.org_id)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&audit.id)?;
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(&audit.occurred_at)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&audit.actor_role)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Text>, _>(&audit.actor_subject)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&audit.action)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&audit.entity_type)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&audit.entity_id)?;
    out.push_sql(", ");
    out.push_bind_param::<Nullable<Text>, _>(&audit.request_id)?;
    out.push_sql(", ");
    match spliced {
        Some(spliced) => push_spliced(out.reborrow(), spliced)?,
        None => out.push_bind_param::<Nullable<Text>, _>(&audit.changes)?,
    }
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(&audit.feed_after)?;
    out.push_sql(" FROM ");
    out.push_sql(source);
    Ok(())
}

/// Writes `INSERT INTO outbox_events (…) SELECT … FROM <source>`, with the payload `spliced`
/// where given; the caller may add a `WHERE`.
pub(crate) fn push_event_from<'b>(
    mut out: AstPass<'_, 'b, Pg>,
    event: &'b NewOutboxRow,
    spliced: Option<Spliced<'b>>,
    source: &'static str,
) -> QueryResult<()> {
    out.push_sql(
        "INSERT INTO outbox_events (org_id, id, event_type, payload, created_at, deliver_after) \
         SELECT ",
    );
    out.push_bind_param::<Text, _>(&event.org_id)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&event.id)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(&event.event_type)?;
    out.push_sql(", ");
    match spliced {
        Some(spliced) => push_spliced(out.reborrow(), spliced)?,
        None => out.push_bind_param::<Text, _>(&event.payload)?,
    }
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(&event.created_at)?;
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(&event.deliver_after)?;
    out.push_sql(" FROM ");
    out.push_sql(source);
    Ok(())
}
