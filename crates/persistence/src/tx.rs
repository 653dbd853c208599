//! Write transactions. Every change goes through [`WriteTx`], which carries who is acting and in
//! which request, so the audit entry is written in the same transaction as the change it
//! describes (and, later, the outbox event that announces it).

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use circulo_domain::OrgId;
use circulo_domain::audit::Actor;

use crate::conn::DbConn;
use crate::error::StoreResult;
use crate::schema::audit_events;
use crate::time::{now, to_db};

/// Who makes a change and in which request.
#[derive(Debug, Clone)]
pub struct ChangeContext {
    /// The caller, as the audit log names them.
    pub actor: Actor,
    /// The request's id, to find it in the logs.
    pub request_id: Option<String>,
}

/// An open write transaction.
pub struct WriteTx<'a> {
    conn: &'a mut DbConn,
    ctx: &'a ChangeContext,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditRow<'a> {
    org_id: String,
    id: String,
    occurred_at: chrono::NaiveDateTime,
    actor_role: &'a str,
    actor_subject: Option<&'a str>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: &'a str,
    request_id: Option<&'a str>,
    changes: Option<&'a str>,
}

/// What an audit entry says happened.
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    /// The state after the change, as JSON text.
    pub changes: Option<&'a str>,
}

impl<'a> WriteTx<'a> {
    pub(crate) fn new(conn: &'a mut DbConn, ctx: &'a ChangeContext) -> Self {
        Self { conn, ctx }
    }

    pub(crate) fn conn(&mut self) -> &mut DbConn {
        self.conn
    }

    /// Records a change in the audit log, inside this transaction.
    pub(crate) fn audit(&mut self, org: OrgId, change: Change<'_>) -> StoreResult<()> {
        self.audit_as(org, &self.ctx.actor.clone(), change)
    }

    /// Records a change made by someone other than the caller's identity (anonymous authors).
    pub(crate) fn audit_as(
        &mut self,
        org: OrgId,
        actor: &Actor,
        change: Change<'_>,
    ) -> StoreResult<()> {
        let row = NewAuditRow {
            org_id: org.to_string(),
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: to_db(now()),
            actor_role: &actor.role,
            actor_subject: actor.subject.as_deref(),
            action: change.action,
            entity_type: change.entity_type,
            entity_id: change.entity_id,
            request_id: self.ctx.request_id.as_deref(),
            changes: change.changes,
        };
        diesel::insert_into(audit_events::table)
            .values(&row)
            .execute(self.conn)?;
        Ok(())
    }
}

type Manager = <DbConn as Connection>::TransactionManager;

/// Runs `f` inside a transaction that, on SQLite, holds the write lock from its first statement.
pub(crate) fn in_write_transaction<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> StoreResult<T>,
) -> StoreResult<T> {
    match conn {
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        DbConn::Pg(_) => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit_error) => {
                rollback(conn);
                Err(commit_error.into())
            }
        },
        Err(e) => {
            rollback(conn);
            Err(e)
        }
    }
}

fn rollback(conn: &mut DbConn) {
    if let Err(e) = Manager::rollback_transaction(conn) {
        // The pool's `has_broken` check discards a connection left in this state.
        log::error!("rollback failed: {e}");
    }
}
