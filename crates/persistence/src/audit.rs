//! Reading the audit log. Entries are written by [`crate::WriteTx`] inside each change.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use circulo_domain::OrgId;
use circulo_domain::audit::{Actor, AuditEvent};
use circulo_domain::page::{FeedPosition, Page, PageRequest};

use crate::db::Db;
use crate::error::{StoreResult, corrupt};
use crate::feed;
use crate::rows::{keyed_page, parse_id};
use crate::schema::audit_events as a;
use crate::time::{from_db, to_db};
use crate::tx::in_write_transaction;

#[derive(Queryable, Selectable)]
#[diesel(table_name = a)]
struct AuditRow {
    org_id: String,
    id: String,
    position: Option<i64>,
    occurred_at: NaiveDateTime,
    actor_role: String,
    actor_subject: Option<String>,
    action: String,
    entity_type: String,
    entity_id: String,
    request_id: Option<String>,
    changes: Option<String>,
}

impl AuditRow {
    fn into_domain(self) -> StoreResult<(FeedPosition, AuditEvent)> {
        let id = parse_id("audit event id", &self.id)?;
        let position = self
            .position
            .ok_or_else(|| corrupt("audit event position", "null"))?;
        let event = AuditEvent {
            id,
            org_id: parse_id("organization id", &self.org_id)?,
            occurred_at: from_db(self.occurred_at),
            actor: Actor {
                role: self.actor_role,
                subject: self.actor_subject,
            },
            action: self.action,
            entity_type: self.entity_type,
            entity_id: self.entity_id,
            request_id: self.request_id,
            changes: self.changes,
        };
        Ok((FeedPosition { position, id }, event))
    }
}

/// Which audit events a list returns.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only changes to this kind of entity (`member`).
    pub entity_type: Option<String>,
    /// Only changes to this entity.
    pub entity_id: Option<String>,
    /// Only this action (`member.created`).
    pub action: Option<String>,
    /// Only changes by this token subject.
    pub actor_subject: Option<String>,
    /// Only changes made from this instant on.
    pub from: Option<DateTime<Utc>>,
    /// Only changes made before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// Audit log reader.
pub struct AuditLog<'a>(&'a Db);

impl Db {
    /// The audit log.
    pub fn audit_log(&self) -> AuditLog<'_> {
        AuditLog(self)
    }
}

impl AuditLog<'_> {
    /// Lists the audit events of `org` matching `filter` in feed order, oldest first, after giving
    /// the entries committed since the last read their places (`feed`). Untraced entries join
    /// the feed only after their day.
    pub fn list(
        &self,
        org: OrgId,
        filter: &AuditFilter,
        page: PageRequest<FeedPosition>,
    ) -> StoreResult<Page<AuditEvent, FeedPosition>> {
        if self.0.read(|conn| feed::waiting(conn, org))? {
            self.0.write_unaudited(|conn| {
                in_write_transaction(conn, |conn| feed::place(conn, org))
            })?;
        }
        self.0.read(|conn| {
            let mut query = a::table
                .filter(a::org_id.eq(org.to_string()))
                .filter(a::position.is_not_null())
                .into_boxed();
            if let Some(v) = &filter.entity_type {
                query = query.filter(a::entity_type.eq(v.clone()));
            }
            if let Some(v) = &filter.entity_id {
                query = query.filter(a::entity_id.eq(v.clone()));
            }
            if let Some(v) = &filter.action {
                query = query.filter(a::action.eq(v.clone()));
            }
            if let Some(v) = &filter.actor_subject {
                query = query.filter(a::actor_subject.eq(v.clone()));
            }
            if let Some(from) = filter.from {
                query = query.filter(a::occurred_at.ge(to_db(from)));
            }
            if let Some(to) = filter.to {
                query = query.filter(a::occurred_at.lt(to_db(to)));
            }
            if let Some(after) = page.after() {
                query = query.filter(
                    a::position.gt(after.position).or(a::position
                        .eq(after.position)
                        .and(a::id.gt(after.id.to_string()))),
                );
            }
            let rows = query
                .order((a::position.asc(), a::id.asc()))
                .limit(page.fetch_limit())
                .select(AuditRow::as_select())
                .load(conn)?;
            let page = keyed_page(rows, page, AuditRow::into_domain, |(key, _)| *key)?;
            Ok(Page {
                items: page.items.into_iter().map(|(_, event)| event).collect(),
                next_after: page.next_after,
            })
        })
    }
}
