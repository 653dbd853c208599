//! Write transactions. Every change goes through [`WriteTx`], which carries who is acting and in
//! which request, so the audit entry is written in the same transaction as the change it
//! describes (and, later, the outbox event that announces it).

use chrono::{DateTime, Utc};
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use serde::Serialize;

use circulo_domain::OrgId;
use circulo_domain::audit::Actor;

use diesel::sql_types::{Nullable, Text, Timestamp};

use crate::conn::{Backend, DbConn};
use crate::error::{StoreError, StoreResult};
use crate::rows::snapshot;
use crate::schema::{audit_events, outbox_events};
use crate::time::{date_id, now, to_db, today};
use crate::unnest::unnest_insert;

/// Who makes a change and in which request.
#[derive(Debug, Clone)]
pub struct ChangeContext {
    actor: Actor,
    request_id: Option<String>,
    traced: bool,
}

impl ChangeContext {
    /// A change by `actor` in the request the server identified as `request_id`.
    pub fn new(actor: Actor, request_id: Option<String>) -> Self {
        Self {
            actor,
            request_id,
            traced: true,
        }
    }

    /// A change that must leave no trace of who made it or exactly when (anonymous feedback,
    /// employee scores): its audit entries name the actor `anonymous`, carry no request id, are dated to
    /// the day and join the audit feed only after that day, in random order.
    pub fn untraced() -> Self {
        Self {
            actor: Actor {
                role: "anonymous".to_owned(),
                subject: None,
            },
            request_id: None,
            traced: false,
        }
    }

    /// Who makes the change, as the audit log names them.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Whether this change may record who made it and when.
    pub fn is_traced(&self) -> bool {
        self.traced
    }

    /// The instant a change is recorded at: now, or the start of the day when untraced.
    pub fn recorded_at(&self) -> DateTime<Utc> {
        if self.traced { now() } else { today() }
    }
}

/// A write transaction. On PostgreSQL it begins at its first statement that needs it
/// ([`WriteTx::conn`]), so a change that is one statement (an approved decision) commits with
/// that statement alone; SQLite's begins at once, taking the write lock.
pub struct WriteTx<'a> {
    conn: &'a mut DbConn,
    ctx: &'a ChangeContext,
    state: TxState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxState {
    /// Nothing sent yet, or only reads that need no transaction.
    NotBegun,
    /// `BEGIN` sent: committed or rolled back when the change ends.
    Open,
    /// The change was made by one statement that committed on its own; nothing may follow it.
    Done,
}

/// One audit entry as it is inserted. `treat_none_as_default_value = false`: a `None` binds NULL
/// instead of writing DEFAULT, so the INSERT's SQL is the same every time and diesel keeps it
/// prepared.
#[derive(Clone, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub(crate) struct NewAuditRow {
    pub(crate) org_id: String,
    pub(crate) id: String,
    pub(crate) occurred_at: chrono::NaiveDateTime,
    pub(crate) actor_role: String,
    pub(crate) actor_subject: Option<String>,
    pub(crate) action: String,
    pub(crate) entity_type: String,
    pub(crate) entity_id: String,
    pub(crate) request_id: Option<String>,
    pub(crate) changes: Option<String>,
    pub(crate) feed_after: chrono::NaiveDateTime,
}

impl<'a> WriteTx<'a> {
    /// Runs `f` as one change on `conn`, committing what it wrote when it succeeds and rolling
    /// it back when it fails.
    pub(crate) fn run<T>(
        conn: &'a mut DbConn,
        ctx: &'a ChangeContext,
        f: impl FnOnce(&mut WriteTx<'a>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut tx = Self {
            conn,
            ctx,
            state: TxState::NotBegun,
        };
        if tx.conn.backend() == Backend::Sqlite {
            tx.begin()?;
        }
        let result = f(&mut tx);
        if tx.state != TxState::Open {
            return result;
        }
        match result {
            Ok(value) => match Manager::commit_transaction(tx.conn) {
                Ok(()) => Ok(value),
                Err(commit_error) => {
                    rollback(tx.conn);
                    Err(commit_error.into())
                }
            },
            Err(e) => {
                rollback(tx.conn);
                Err(e)
            }
        }
    }

    fn begin(&mut self) -> StoreResult<()> {
        match &mut *self.conn {
            DbConn::Sqlite(inner) => {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
            }
            DbConn::Pg(_) => Manager::begin_transaction(self.conn)?,
        }
        self.state = TxState::Open;
        Ok(())
    }

    /// The connection for a statement of this change, inside its transaction (begun now if it
    /// has not been).
    pub(crate) fn conn(&mut self) -> StoreResult<&mut DbConn> {
        match self.state {
            TxState::Open => {}
            TxState::NotBegun => self.begin()?,
            TxState::Done => {
                return Err(StoreError::Corrupt(
                    "a statement after a change that committed on its own".to_owned(),
                ));
            }
        }
        Ok(self.conn)
    }

    /// The connection for a read that needs no transaction around it (no lock, no view shared
    /// with a later statement): inside the transaction if one is open, else on its own.
    pub(crate) fn read_conn(&mut self) -> StoreResult<&mut DbConn> {
        if self.state == TxState::Done {
            return self.conn();
        }
        Ok(self.conn)
    }

    /// Runs `statement`, which is a whole change by itself when it writes (`Some`): inside the
    /// transaction if one is open, else committing on its own, after which nothing else may be
    /// written. A `None` wrote nothing, so the change goes on.
    pub(crate) fn sole_statement<T>(
        &mut self,
        statement: impl FnOnce(&mut DbConn) -> StoreResult<Option<T>>,
    ) -> StoreResult<Option<T>> {
        let conn = self.read_conn()?;
        let written = statement(conn)?;
        if written.is_some() && self.state == TxState::NotBegun {
            self.state = TxState::Done;
        }
        Ok(written)
    }

    /// Who is making this change.
    pub fn context(&self) -> &ChangeContext {
        self.ctx
    }

    /// The time this change records: now, or the start of the day for an untraced change.
    pub fn now(&self) -> DateTime<Utc> {
        self.ctx.recorded_at()
    }

    /// A fresh id for a row this change creates: time-ordered, with its time cut to the date for
    /// an untraced change (a UUIDv7 otherwise carries the millisecond it was made).
    pub fn new_uuid(&self) -> uuid::Uuid {
        if self.ctx.traced {
            uuid::Uuid::now_v7()
        } else {
            date_id()
        }
    }

    /// Records that `action` happened to `entity_type` `entity_id` in `org`, leaving it in
    /// `state`, in the audit log of this transaction.
    pub(crate) fn record(
        &mut self,
        org: OrgId,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        state: &impl Serialize,
    ) -> StoreResult<()> {
        self.record_all(org, action, entity_type, &[(entity_id.to_owned(), state)])
    }

    /// Records `action` for each entity (id and resulting state) in one statement: what a
    /// batch writes, as [`Self::record`] writes one.
    pub(crate) fn record_all<S: Serialize>(
        &mut self,
        org: OrgId,
        action: &str,
        entity_type: &str,
        entities: &[(String, S)],
    ) -> StoreResult<()> {
        if entities.is_empty() {
            return Ok(());
        }
        let rows = entities
            .iter()
            .map(|(entity_id, state)| self.audit_entry(org, action, entity_type, entity_id, state))
            .collect::<StoreResult<Vec<_>>>()?;
        insert_audit_entries(self.conn()?, &rows)
    }

    /// The audit entry recording `action` on `entity_type` `entity_id`, leaving it in `state`,
    /// as [`Self::record`] writes it: for a statement that writes it alongside its change.
    pub(crate) fn audit_entry(
        &self,
        org: OrgId,
        action: &str,
        entity_type: &str,
        entity_id: &str,
        state: &impl Serialize,
    ) -> StoreResult<NewAuditRow> {
        // An entry joins the audit feed when the feed is next read (`feed::place`); an
        // untraced one only after its day, so its place says nothing about its hour.
        let (id, feed_after) = if self.ctx.traced {
            (uuid::Uuid::now_v7(), self.ctx.recorded_at())
        } else {
            (date_id(), today() + chrono::TimeDelta::days(1))
        };
        Ok(NewAuditRow {
            org_id: org.to_string(),
            id: id.to_string(),
            occurred_at: to_db(self.ctx.recorded_at()),
            actor_role: self.ctx.actor.role.clone(),
            actor_subject: self.ctx.actor.subject.clone(),
            action: action.to_owned(),
            entity_type: entity_type.to_owned(),
            entity_id: entity_id.to_owned(),
            request_id: self.ctx.request_id.clone(),
            changes: Some(snapshot(state)?),
            feed_after: to_db(feed_after),
        })
    }
}

/// One event as it is written to the outbox.
#[derive(Clone, Insertable)]
#[diesel(table_name = outbox_events)]
pub(crate) struct NewOutboxRow {
    pub(crate) org_id: String,
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) payload: String,
    pub(crate) created_at: chrono::NaiveDateTime,
    pub(crate) deliver_after: chrono::NaiveDateTime,
}

/// An event's body as webhooks deliver it.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(rename = "type")]
    event_type: &'a str,
    #[serde(serialize_with = "circulo_domain::timestamp::rfc3339")]
    timestamp: DateTime<Utc>,
    data: &'a T,
}

impl WriteTx<'_> {
    /// Writes the event `event_type` about `data` to the outbox in this transaction, so it is
    /// announced exactly when the change commits. An untraced change's event is dated to its day
    /// and held back until the day is over: when it is delivered says nothing of its hour.
    pub(crate) fn emit(
        &mut self,
        org: OrgId,
        event_type: &str,
        data: &impl Serialize,
    ) -> StoreResult<()> {
        self.emit_all(org, &[(event_type, data)])
    }

    /// Writes each event (type and data) to the outbox in one statement, as [`Self::emit`]
    /// writes one.
    pub(crate) fn emit_all<S: Serialize>(
        &mut self,
        org: OrgId,
        events: &[(&str, S)],
    ) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let rows = events
            .iter()
            .map(|(event_type, data)| self.outbox_entry(org, event_type, data))
            .collect::<StoreResult<Vec<_>>>()?;
        insert_outbox_entries(self.conn()?, &rows)
    }

    /// The outbox row announcing `event_type` about `data`, as [`Self::emit`] writes it: for a
    /// statement that writes it alongside its change.
    pub(crate) fn outbox_entry(
        &self,
        org: OrgId,
        event_type: &str,
        data: &impl Serialize,
    ) -> StoreResult<NewOutboxRow> {
        let created_at = self.ctx.recorded_at();
        let (id, deliver_after) = if self.ctx.traced {
            (uuid::Uuid::now_v7(), created_at)
        } else {
            (date_id(), today() + chrono::TimeDelta::days(1))
        };
        Ok(NewOutboxRow {
            org_id: org.to_string(),
            id: id.to_string(),
            event_type: event_type.to_owned(),
            payload: snapshot(&Envelope {
                event_type,
                timestamp: created_at,
                data,
            })?,
            created_at: to_db(created_at),
            deliver_after: to_db(deliver_after),
        })
    }
}

/// Inserts audit entries: one row with the single-row INSERT diesel prepares, more in one
/// statement (arrays on PostgreSQL).
pub(crate) fn insert_audit_entries(conn: &mut DbConn, rows: &[NewAuditRow]) -> StoreResult<()> {
    match (rows, &mut *conn) {
        ([row], _) => {
            diesel::insert_into(audit_events::table)
                .values(row)
                .execute(conn)?;
        }
        (rows, DbConn::Pg(pg)) => {
            AuditColumns::of(rows).execute(pg)?;
        }
        (rows, DbConn::Sqlite(lite)) => {
            diesel::insert_into(audit_events::table)
                .values(rows)
                .execute(lite)?;
        }
    }
    Ok(())
}

unnest_insert! {
    /// Audit entries as columns.
    AuditColumns: NewAuditRow => "audit_events", "", {
        org_id: Text => String,
        id: Text => String,
        occurred_at: Timestamp => chrono::NaiveDateTime,
        actor_role: Text => String,
        actor_subject: Nullable<Text> => Option<String>,
        action: Text => String,
        entity_type: Text => String,
        entity_id: Text => String,
        request_id: Nullable<Text> => Option<String>,
        changes: Nullable<Text> => Option<String>,
        feed_after: Timestamp => chrono::NaiveDateTime,
    }
}

unnest_insert! {
    /// Outbox events as columns.
    OutboxColumns: NewOutboxRow => "outbox_events", "", {
        org_id: Text => String,
        id: Text => String,
        event_type: Text => String,
        payload: Text => String,
        created_at: Timestamp => chrono::NaiveDateTime,
        deliver_after: Timestamp => chrono::NaiveDateTime,
    }
}

/// Writes events to the outbox: one row with the single-row INSERT diesel prepares, more in one
/// statement.
pub(crate) fn insert_outbox_entries(conn: &mut DbConn, rows: &[NewOutboxRow]) -> StoreResult<()> {
    match (rows, &mut *conn) {
        ([row], _) => {
            diesel::insert_into(outbox_events::table)
                .values(row)
                .execute(conn)?;
        }
        (rows, DbConn::Pg(pg)) => {
            OutboxColumns::of(rows).execute(pg)?;
        }
        (rows, DbConn::Sqlite(lite)) => {
            diesel::insert_into(outbox_events::table)
                .values(rows)
                .execute(lite)?;
        }
    }
    Ok(())
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
