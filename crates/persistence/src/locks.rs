//! Locks for read-modify-write transactions on PostgreSQL. SQLite needs none: `BEGIN IMMEDIATE`
//! already gives each write transaction the whole database. On PostgreSQL, without them two
//! concurrent updates would both read version N and one would fail its version check although
//! neither client sent `If-Match`.
//!
//! Rows are locked `FOR NO KEY UPDATE`, the lock an `UPDATE` of non-key columns takes: it does
//! not block the `KEY SHARE` locks that foreign-key checks take, so a transaction inserting a row
//! that references the locked one (an audit entry of the organization) never waits for it.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use circulo_domain::OrgId;

use crate::conn::{Backend, DbConn};
use crate::error::StoreResult;

/// Tables whose rows are locked by `(org_id, id)`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Keyed {
    Teams,
    Members,
    Goals,
    Delegations,
    Decisions,
    Escalations,
    Webhooks,
}

/// Locks one row until the transaction ends (a missing row locks nothing).
pub(crate) fn lock_row(conn: &mut DbConn, table: Keyed, org: OrgId, id: &str) -> StoreResult<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    let sql = match table {
        Keyed::Teams => "SELECT id FROM teams WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE",
        Keyed::Members => "SELECT id FROM members WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE",
        Keyed::Goals => "SELECT id FROM goals WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE",
        Keyed::Delegations => {
            "SELECT id FROM delegations WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE"
        }
        Keyed::Decisions => {
            "SELECT id FROM decisions WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE"
        }
        Keyed::Webhooks => {
            "SELECT id FROM webhooks WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE"
        }
        Keyed::Escalations => {
            "SELECT id FROM escalations WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE"
        }
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(org.to_string())
        .bind::<Text, _>(id)
        .execute(conn)?;
    Ok(())
}

/// Locks the member the HR system knows as `external_id`, when there is one.
pub(crate) fn lock_member_by_external_id(
    conn: &mut DbConn,
    org: OrgId,
    external_id: &str,
) -> StoreResult<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    diesel::sql_query(
        "SELECT id FROM members WHERE org_id = $1 AND external_id = $2 FOR NO KEY UPDATE",
    )
    .bind::<Text, _>(org.to_string())
    .bind::<Text, _>(external_id)
    .execute(conn)?;
    Ok(())
}

/// Locks an organization's row until the transaction ends.
pub(crate) fn lock_organization(conn: &mut DbConn, org: OrgId) -> StoreResult<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    diesel::sql_query("SELECT org_id FROM organizations WHERE org_id = $1 FOR NO KEY UPDATE")
        .bind::<Text, _>(org.to_string())
        .execute(conn)?;
    Ok(())
}

/// Serialises transactions that name the same `key` (which may not be a row yet) until they end.
pub(crate) fn lock_name(conn: &mut DbConn, key: &str) -> StoreResult<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<Text, _>(key)
        .execute(conn)?;
    Ok(())
}
