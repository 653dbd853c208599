//! Webhook subscriptions and their delivery log, read and changed by their owners. The secret
//! that signs deliveries is written here and read only by the delivery worker
//! ([`delivery`]); no read of a subscription returns it.

pub mod delivery;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use circulo_domain::page::{Page, PageRequest};
use circulo_domain::version::Precondition;
use circulo_domain::webhook::{
    Delivery, DeliveryStatus, EventType, OLD_SECRET_SIGNS_FOR, Webhook, WebhookFields, WebhookPatch,
};
use circulo_domain::{OrgId, WebhookDeliveryId, WebhookId};

use crate::conn::DbConn;
use crate::error::{StoreError, StoreResult, corrupt};
use crate::locks::{Keyed, lock_row};
use crate::rows::{
    Versioned, after_id, id_page, load_versioned, parse_id, revision, store_handles,
    update_versioned,
};
use crate::schema::{webhook_deliveries as d, webhooks as w};
use crate::time::{from_db, to_db};
use crate::tx::WriteTx;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = w, treat_none_as_default_value = false)]
struct WebhookRow {
    org_id: String,
    id: String,
    url: String,
    events: String,
    description: Option<String>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<NaiveDateTime>,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// What a change to a subscription writes: everything but its keys and secrets.
#[derive(AsChangeset)]
#[diesel(table_name = w, treat_none_as_null = true)]
struct WebhookChanges {
    url: String,
    events: String,
    description: Option<String>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<NaiveDateTime>,
    version: i64,
    updated_at: NaiveDateTime,
}

impl WebhookRow {
    fn from_domain(org: OrgId, hook: &Webhook) -> StoreResult<Self> {
        Ok(Self {
            org_id: org.to_string(),
            id: hook.id.to_string(),
            url: hook.url.clone(),
            events: event_names(&hook.events)?,
            description: hook.description.clone(),
            enabled: hook.enabled,
            disabled_reason: hook.disabled_reason.clone(),
            failing_since: hook.failing_since.map(to_db),
            version: hook.revision.version,
            created_at: to_db(hook.revision.created_at),
            updated_at: to_db(hook.revision.updated_at),
        })
    }

    fn into_domain(self) -> StoreResult<Webhook> {
        let names: Vec<String> =
            serde_json::from_str(&self.events).map_err(|_| corrupt("events", &self.events))?;
        let events = names
            .iter()
            .map(|name| EventType::parse(name).map_err(|_| corrupt("event", name)))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Webhook {
            id: parse_id("webhook id", &self.id)?,
            url: self.url,
            events,
            description: self.description,
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since.map(from_db),
            revision: revision(self.version, self.created_at, self.updated_at),
        })
    }
}

impl WebhookChanges {
    fn of(hook: &Webhook) -> StoreResult<Self> {
        Ok(Self {
            url: hook.url.clone(),
            events: event_names(&hook.events)?,
            description: hook.description.clone(),
            enabled: hook.enabled,
            disabled_reason: hook.disabled_reason.clone(),
            failing_since: hook.failing_since.map(to_db),
            version: hook.revision.version,
            updated_at: to_db(hook.revision.updated_at),
        })
    }
}

fn event_names(events: &[EventType]) -> StoreResult<String> {
    let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    crate::rows::snapshot(&names)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = d)]
struct DeliveryRow {
    id: String,
    webhook_id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    last_attempt_at: Option<NaiveDateTime>,
    last_response_code: Option<i32>,
    last_response_excerpt: Option<String>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
}

impl DeliveryRow {
    fn into_domain(self) -> StoreResult<Delivery> {
        Ok(Delivery {
            id: parse_id("delivery id", &self.id)?,
            webhook_id: parse_id("webhook id", &self.webhook_id)?,
            status: DeliveryStatus::parse(&self.status)
                .map_err(|_| corrupt("delivery status", &self.status))?,
            event_id: self.event_id,
            event_type: self.event_type,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at.map(from_db),
            last_attempt_at: self.last_attempt_at.map(from_db),
            last_response_code: self.last_response_code,
            last_response_excerpt: self.last_response_excerpt,
            last_error: self.last_error,
            created_at: from_db(self.created_at),
        })
    }
}

/// The webhooks table, for the shared versioned update.
struct WebhooksTable;

impl Versioned for WebhooksTable {
    type Entity = Webhook;
    type Id = WebhookId;

    fn lock(conn: &mut DbConn, org: OrgId, id: WebhookId) -> StoreResult<()> {
        lock_row(conn, Keyed::Webhooks, org, &id.to_string())
    }

    fn find(conn: &mut DbConn, org: OrgId, id: WebhookId) -> StoreResult<Webhook> {
        find(conn, org, id)
    }

    fn version(hook: &Webhook) -> i64 {
        hook.revision.version
    }

    fn write(conn: &mut DbConn, org: OrgId, next: &Webhook, version: i64) -> StoreResult<usize> {
        Ok(diesel::update(
            w::table
                .filter(w::org_id.eq(org.to_string()))
                .filter(w::id.eq(next.id.to_string()))
                .filter(w::version.eq(version)),
        )
        .set(WebhookChanges::of(next)?)
        .execute(conn)?)
    }
}

store_handles!(webhooks: Webhooks, WebhookWrites);

impl Webhooks<'_> {
    /// Reads a subscription of `org`.
    pub fn get(&self, org: OrgId, id: WebhookId) -> StoreResult<Webhook> {
        self.0.read(|conn| find(conn, org, id))
    }

    /// Lists the subscriptions of `org` in creation order.
    pub fn list(&self, org: OrgId, page: PageRequest) -> StoreResult<Page<Webhook>> {
        self.0.read(|conn| {
            let query = w::table.filter(w::org_id.eq(org.to_string())).into_boxed();
            let rows = after_id!(query, w::id, page)
                .select(WebhookRow::as_select())
                .load(conn)?;
            id_page(rows, page, WebhookRow::into_domain, |hook| {
                hook.id.as_uuid()
            })
        })
    }

    /// Lists a subscription's deliveries (in `status`, when given), oldest first.
    pub fn deliveries(
        &self,
        org: OrgId,
        webhook: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<Delivery>> {
        self.0.read(|conn| {
            find(conn, org, webhook)?;
            let mut query = d::table
                .filter(d::org_id.eq(org.to_string()))
                .filter(d::webhook_id.eq(webhook.to_string()))
                .into_boxed();
            if let Some(status) = status {
                query = query.filter(d::status.eq(status.as_str()));
            }
            let rows = after_id!(query, d::id, page)
                .select(DeliveryRow::as_select())
                .load(conn)?;
            id_page(rows, page, DeliveryRow::into_domain, |delivery| {
                delivery.id.as_uuid()
            })
        })
    }
}

impl WebhookWrites<'_, '_> {
    /// Creates an enabled subscription signing with `secret`.
    pub fn create(self, org: OrgId, fields: WebhookFields, secret: &str) -> StoreResult<Webhook> {
        let tx = self.0;
        let hook = Webhook::created(WebhookId::from_uuid(tx.new_uuid()), fields, tx.now());
        diesel::insert_into(w::table)
            .values((
                WebhookRow::from_domain(org, &hook)?,
                w::secret.eq(secret),
                w::previous_secret.eq(None::<String>),
                w::previous_secret_until.eq(None::<NaiveDateTime>),
            ))
            .execute(tx.conn()?)?;
        record(tx, org, "webhook.created", &hook)?;
        Ok(hook)
    }

    /// Applies `patch` when the stored version satisfies `expected`.
    pub fn update(
        self,
        org: OrgId,
        id: WebhookId,
        expected: &Precondition,
        patch: WebhookPatch,
    ) -> StoreResult<Webhook> {
        let tx = self.0;
        let (_, next) = update_versioned::<WebhooksTable>(tx, org, id, expected, |tx, current| {
            Ok(current.patched(patch, tx.now()))
        })?;
        record(tx, org, "webhook.updated", &next)?;
        Ok(next)
    }

    /// Deletes a subscription and its delivery log; nothing more is delivered to it.
    pub fn delete(self, org: OrgId, id: WebhookId, expected: &Precondition) -> StoreResult<()> {
        let tx = self.0;
        let current = load_versioned::<WebhooksTable>(tx, org, id, expected)?;
        diesel::delete(
            d::table
                .filter(d::org_id.eq(org.to_string()))
                .filter(d::webhook_id.eq(id.to_string())),
        )
        .execute(tx.conn()?)?;
        diesel::delete(
            w::table
                .filter(w::org_id.eq(org.to_string()))
                .filter(w::id.eq(id.to_string())),
        )
        .execute(tx.conn()?)?;
        record(tx, org, "webhook.deleted", &current)
    }

    /// Replaces the signing secret with `secret`; the one it replaces keeps signing beside it
    /// until the returned instant. Returns the subscription at its next version.
    pub fn rotate_secret(
        self,
        org: OrgId,
        id: WebhookId,
        secret: &str,
    ) -> StoreResult<(Webhook, DateTime<Utc>)> {
        let tx = self.0;
        let (_, next) = update_versioned::<WebhooksTable>(
            tx,
            org,
            id,
            &Precondition::default(),
            |tx, current| {
                let mut next = current.clone();
                next.revision = current.revision.next(tx.now());
                Ok(next)
            },
        )?;
        let until = tx.now()
            + chrono::TimeDelta::from_std(OLD_SECRET_SIGNS_FOR).unwrap_or(chrono::TimeDelta::MAX);
        diesel::update(
            w::table
                .filter(w::org_id.eq(org.to_string()))
                .filter(w::id.eq(id.to_string())),
        )
        .set((
            w::previous_secret.eq(w::secret.nullable()),
            w::previous_secret_until.eq(Some(to_db(until))),
            w::secret.eq(secret),
        ))
        .execute(tx.conn()?)?;
        record(tx, org, "webhook.secret_rotated", &next)?;
        Ok((next, until))
    }

    /// Makes a delivery due now and retried afresh until `retry_until`, whatever became of it.
    pub fn retry_delivery(
        self,
        org: OrgId,
        webhook: WebhookId,
        id: WebhookDeliveryId,
        retry_until: DateTime<Utc>,
    ) -> StoreResult<Delivery> {
        let tx = self.0;
        let hook = find(tx.conn()?, org, webhook)?;
        if !hook.enabled {
            return Err(StoreError::Conflict(
                "the webhook is disabled; enable it (PATCH enabled: true) before retrying".into(),
            ));
        }
        let now = to_db(tx.now());
        let changed = diesel::update(
            d::table
                .filter(d::org_id.eq(org.to_string()))
                .filter(d::webhook_id.eq(webhook.to_string()))
                .filter(d::id.eq(id.to_string())),
        )
        .set((
            d::status.eq(DeliveryStatus::Pending.as_str()),
            d::next_attempt_at.eq(Some(now)),
            d::retry_until.eq(to_db(retry_until)),
            // Afresh: the waits start again from the first (an attempt in flight now records
            // nothing, its number no longer being the delivery's).
            d::attempts.eq(0),
            d::updated_at.eq(now),
        ))
        .execute(tx.conn()?)?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        let delivery = d::table
            .filter(d::org_id.eq(org.to_string()))
            .filter(d::id.eq(id.to_string()))
            .select(DeliveryRow::as_select())
            .first(tx.conn()?)?
            .into_domain()?;
        tx.record(
            org,
            "webhook_delivery.retried",
            "webhook_delivery",
            &id.to_string(),
            &serde_json::json!({"webhook_id": webhook, "event_id": delivery.event_id}),
        )?;
        Ok(delivery)
    }
}

fn find(conn: &mut DbConn, org: OrgId, id: WebhookId) -> StoreResult<Webhook> {
    w::table
        .filter(w::org_id.eq(org.to_string()))
        .filter(w::id.eq(id.to_string()))
        .select(WebhookRow::as_select())
        .first(conn)?
        .into_domain()
}

fn record(tx: &mut WriteTx<'_>, org: OrgId, action: &str, hook: &Webhook) -> StoreResult<()> {
    tx.record(org, action, "webhook", &hook.id.to_string(), hook)
}
