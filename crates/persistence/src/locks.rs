//! Locks for read-modify-write transactions on PostgreSQL. SQLite needs none: `BEGIN IMMEDIATE`
//! already gives each write transaction the whole database. On PostgreSQL, without them two
//! concurrent updates would both read version N and one would fail its version check although
//! neither client sent `If-Match`.

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
}

/// Locks one row until the transaction ends (a missing row locks nothing).
pub(crate) fn lock_row(conn: &mut DbConn, table: Keyed, org: OrgId, id: &str) -> StoreResult<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    let sql = match table {
        Keyed::Teams => "SELECT id FROM teams WHERE org_id = $1 AND id = $2 FOR UPDATE",
        Keyed::Members => "SELECT id FROM members WHERE org_id = $1 AND id = $2 FOR UPDATE",
    };
    diesel::sql_query(sql)
        .bind::<Text, _>(org.to_string())
        .bind::<Text, _>(id)
        .execute(conn)?;
    Ok(())
}

/// Locks an organization's row until the transaction ends.
pub(crate) fn lock_organization(conn: &mut DbConn, org: OrgId) -> StoreResult<()> {
    if conn.backend() != Backend::Postgres {
        return Ok(());
    }
    diesel::sql_query("SELECT org_id FROM organizations WHERE org_id = $1 FOR UPDATE")
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
