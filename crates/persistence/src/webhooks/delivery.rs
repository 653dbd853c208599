//! The delivery worker's side of the store. Three steps, each its own short transaction, none
//! held open while a receiver is called:
//!
//! 1. [`Db::fan_out_events`] moves due outbox events into one delivery per enabled subscription
//!    of the event's organization that wants it, deleting the events in the same transaction;
//! 2. [`Db::claim_deliveries`] leases due deliveries for one attempt each (PostgreSQL: `FOR
//!    UPDATE SKIP LOCKED`, so replicas never claim the same attempt), counting the attempt;
//! 3. [`Db::finish_attempt`] records what the receiver answered: success, or the next retry, or
//!    giving up; and disables a subscription whose deliveries have all failed for too long.
//!
//! A server killed between 2 and 3 leaves the lease to run out, and the delivery is due again:
//! at least once.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use circulo_domain::audit::Actor;
use circulo_domain::webhook::{DeliveryStatus, RetryPolicy};
use circulo_domain::{OrgId, WebhookId};

use crate::conn::DbConn;
use crate::db::Db;
use crate::dialect::Dialects;
use crate::error::{StoreResult, corrupt};
use crate::rows::parse_id;
use crate::schema::{outbox_events as o, webhook_deliveries as d, webhooks as w};
use crate::time::{from_db, to_db};
use crate::tx::{ChangeContext, in_write_transaction};

/// One attempt the worker leased: where to send what, signed with which secrets.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The subscription's organization.
    pub org_id: OrgId,
    /// The delivery.
    pub id: String,
    /// The subscription.
    pub webhook_id: WebhookId,
    /// The `webhook-id` header.
    pub event_id: String,
    /// The body.
    pub payload: String,
    /// This attempt's number (1 for the first).
    pub attempt: i32,
    /// Until when failures are retried.
    pub retry_until: DateTime<Utc>,
    /// Where to send it.
    pub url: String,
    /// The secrets to sign with: the current one, and one rotated out less than a day ago.
    pub secrets: Vec<String>,
}

/// What came of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// Whether the receiver answered 2xx.
    pub succeeded: bool,
    /// The HTTP status it answered with, when it answered.
    pub response_code: Option<i32>,
    /// The start of its answer.
    pub response_excerpt: Option<String>,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// What to lease: up to `limit` due deliveries, at most `per_webhook` of one subscription and
/// `per_org` of one organization, none of `busy_webhooks` or `busy_orgs`, each for `lease`.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// In all.
    pub limit: i64,
    /// Of one subscription.
    pub per_webhook: i64,
    /// Of one organization.
    pub per_org: i64,
    /// Subscriptions left out.
    pub busy_webhooks: &'a [WebhookId],
    /// Organizations left out.
    pub busy_orgs: &'a [OrgId],
    /// How long each attempt is leased.
    pub lease: std::time::Duration,
}

#[derive(QueryableByName)]
struct ClaimRow {
    #[diesel(sql_type = Text)]
    org_id: String,
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    webhook_id: String,
    #[diesel(sql_type = Text)]
    event_id: String,
    #[diesel(sql_type = Text)]
    payload: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Timestamp)]
    retry_until: NaiveDateTime,
    #[diesel(sql_type = Text)]
    url: String,
    #[diesel(sql_type = Text)]
    secret: String,
    #[diesel(sql_type = Nullable<Text>)]
    previous_secret: Option<String>,
    #[diesel(sql_type = Nullable<Timestamp>)]
    previous_secret_until: Option<NaiveDateTime>,
}

/// The due deliveries of enabled subscriptions, earliest first: at most `$3` of each
/// subscription and `$6` of each organization (so one subscription's backlog, or one
/// organization's many slow endpoints, cannot take every slot), none of the subscriptions in
/// `$2` nor of the organizations in `$5` (JSON arrays of ids this worker has enough in flight
/// for), `$4` in all. PostgreSQL looks subscription by subscription (the partial index on `(org_id,
/// webhook_id, next_attempt_at)`), so a backlog of one, or of a disabled one, never hides
/// another's; SQLite, for one small business, ranks every due delivery.
const DUE: Dialects = Dialects {
    postgres: "SELECT d.org_id, d.id, d.webhook_id, d.event_id, d.payload, d.attempts, \
            d.retry_until, w.url, w.secret, w.previous_secret, w.previous_secret_until \
        FROM webhook_deliveries d \
        JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id \
        WHERE (d.org_id, d.id) IN ( \
            SELECT org_id, id FROM ( \
                SELECT due.org_id, due.id, due.next_attempt_at, row_number() OVER ( \
                    PARTITION BY due.org_id ORDER BY due.next_attempt_at, due.id) AS in_org \
                FROM webhooks hw \
                CROSS JOIN LATERAL ( \
                    SELECT c.org_id, c.id, c.next_attempt_at FROM webhook_deliveries c \
                    WHERE c.org_id = hw.org_id AND c.webhook_id = hw.id \
                      AND c.status = 'pending' AND c.next_attempt_at <= $1 \
                    ORDER BY c.next_attempt_at LIMIT $3) due \
                WHERE hw.enabled \
                  AND hw.id NOT IN (SELECT jsonb_array_elements_text($2::jsonb)) \
                  AND hw.org_id NOT IN (SELECT jsonb_array_elements_text($5::jsonb)) \
            ) ranked WHERE in_org <= $6 ORDER BY next_attempt_at LIMIT $4) \
        AND d.status = 'pending' AND d.next_attempt_at <= $1 \
        FOR UPDATE OF d SKIP LOCKED",
    sqlite: "SELECT d.org_id, d.id, d.webhook_id, d.event_id, d.payload, d.attempts, \
            d.retry_until, w.url, w.secret, w.previous_secret, w.previous_secret_until \
        FROM webhook_deliveries d \
        JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id \
        WHERE (d.org_id, d.id) IN ( \
            SELECT org_id, id FROM ( \
                SELECT org_id, id, next_attempt_at, row_number() OVER ( \
                    PARTITION BY org_id ORDER BY next_attempt_at, id) AS in_org FROM ( \
                    SELECT c.org_id, c.id, c.next_attempt_at, row_number() OVER ( \
                        PARTITION BY c.org_id, c.webhook_id ORDER BY c.next_attempt_at, c.id) AS place \
                    FROM webhook_deliveries c \
                    JOIN webhooks cw ON cw.org_id = c.org_id AND cw.id = c.webhook_id AND cw.enabled \
                    WHERE c.status = 'pending' AND c.next_attempt_at <= ?1 \
                      AND c.webhook_id NOT IN (SELECT value FROM json_each(?2)) \
                      AND c.org_id NOT IN (SELECT value FROM json_each(?5)) \
                ) per_webhook WHERE place <= ?3 \
            ) ranked WHERE in_org <= ?6 ORDER BY next_attempt_at LIMIT ?4)",
};

#[derive(Queryable)]
struct DueEvent {
    org_id: String,
    id: String,
    event_type: String,
    payload: String,
}

#[derive(Insertable)]
#[diesel(table_name = d, treat_none_as_default_value = false)]
struct NewDelivery {
    org_id: String,
    id: String,
    webhook_id: String,
    event_id: String,
    event_type: String,
    payload: String,
    status: &'static str,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    retry_until: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// How many rows one insert of deliveries carries (SQLite binds at most 32,766 parameters).
const INSERT_CHUNK: usize = 500;

impl Db {
    /// Moves up to `limit` due outbox events into deliveries, one per enabled subscription of
    /// the event's organization that wants the event; an event nobody wants is dropped.
    /// Returns how many events were moved.
    pub fn fan_out_events(&self, limit: i64, policy: &RetryPolicy) -> StoreResult<usize> {
        let now = Utc::now();
        let retry_until = to_db(now + delta(policy.give_up_after));
        let now = to_db(now);
        // Idle most of the time: a read first, so no write transaction (on SQLite, the write
        // lock) is taken when nothing is due.
        let due: Option<String> = self.read(|conn| {
            Ok(o::table
                .filter(o::deliver_after.le(now))
                .select(o::id)
                .first(conn)
                .optional()?)
        })?;
        if due.is_none() {
            return Ok(0);
        }
        self.write_unaudited(|conn| {
            in_write_transaction(conn, |conn| {
                let events = due_events(conn, now, limit)?;
                if events.is_empty() {
                    return Ok(0);
                }
                let mut orgs: Vec<String> = events.iter().map(|e| e.org_id.clone()).collect();
                orgs.sort_unstable();
                orgs.dedup();
                let hooks = w::table
                    .filter(w::org_id.eq_any(&orgs))
                    .filter(w::enabled.eq(true))
                    .select((w::org_id, w::id, w::events))
                    .load::<(String, String, String)>(conn)?
                    .into_iter()
                    .map(|(org, hook, wanted)| {
                        let names: Vec<String> = serde_json::from_str(&wanted)
                            .map_err(|_| corrupt("webhook events", &wanted))?;
                        Ok((org, hook, names))
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                let mut deliveries = Vec::new();
                for event in &events {
                    for (org, hook, names) in &hooks {
                        if *org == event.org_id && names.contains(&event.event_type) {
                            deliveries.push(NewDelivery {
                                org_id: org.clone(),
                                id: uuid::Uuid::now_v7().to_string(),
                                webhook_id: hook.clone(),
                                event_id: event.id.clone(),
                                event_type: event.event_type.clone(),
                                payload: event.payload.clone(),
                                status: DeliveryStatus::Pending.as_str(),
                                attempts: 0,
                                next_attempt_at: Some(now),
                                retry_until,
                                created_at: now,
                                updated_at: now,
                            });
                        }
                    }
                }
                for chunk in deliveries.chunks(INSERT_CHUNK) {
                    crate::conn::underneath!(&mut *conn, |c| diesel::insert_into(d::table)
                        .values(chunk)
                        .on_conflict_do_nothing()
                        .execute(c))?;
                }
                let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
                diesel::delete(
                    o::table
                        .filter(o::org_id.eq_any(&orgs))
                        .filter(o::id.eq_any(ids)),
                )
                .execute(conn)?;
                Ok(events.len())
            })
        })
    }

    /// Leases due deliveries for one attempt each, as `claim` says.
    pub fn claim_deliveries(&self, claim: &Claim<'_>) -> StoreResult<Vec<ClaimedDelivery>> {
        let now = Utc::now();
        let lease_until = to_db(now + delta(claim.lease));
        let busy: Vec<String> = claim
            .busy_webhooks
            .iter()
            .map(ToString::to_string)
            .collect();
        let busy = crate::rows::snapshot(&busy)?;
        let busy_orgs: Vec<String> = claim.busy_orgs.iter().map(ToString::to_string).collect();
        let busy_orgs = crate::rows::snapshot(&busy_orgs)?;
        let due: Option<String> = self.read(|conn| {
            let enabled = w::table
                .filter(w::org_id.eq(d::org_id))
                .filter(w::id.eq(d::webhook_id))
                .filter(w::enabled.eq(true));
            Ok(d::table
                .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(d::next_attempt_at.le(to_db(now)))
                .filter(diesel::dsl::exists(enabled))
                .select(d::id)
                .first(conn)
                .optional()?)
        })?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        self.write_unaudited(|conn| {
            in_write_transaction(conn, |conn| {
                let rows: Vec<ClaimRow> = diesel::sql_query(DUE.for_conn(conn))
                    .bind::<Timestamp, _>(to_db(now))
                    .bind::<Text, _>(&busy)
                    .bind::<BigInt, _>(claim.per_webhook)
                    .bind::<BigInt, _>(claim.limit)
                    .bind::<Text, _>(&busy_orgs)
                    .bind::<BigInt, _>(claim.per_org)
                    .load(conn)?;
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut orgs: Vec<&str> = rows.iter().map(|r| r.org_id.as_str()).collect();
                orgs.sort_unstable();
                orgs.dedup();
                let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
                diesel::update(
                    d::table
                        .filter(d::org_id.eq_any(orgs))
                        .filter(d::id.eq_any(ids)),
                )
                .set((
                    d::attempts.eq(d::attempts + 1),
                    d::next_attempt_at.eq(Some(lease_until)),
                    d::last_attempt_at.eq(Some(to_db(now))),
                    d::updated_at.eq(to_db(now)),
                ))
                .execute(conn)?;
                rows.into_iter().map(|row| claimed(row, now)).collect()
            })
        })
    }

    /// Records what came of `claim`'s attempt. A failure is retried after `policy`'s wait, with
    /// `jitter` in `[0, 1)`, until the delivery's retry window closes; a subscription whose
    /// every attempt has failed for `policy.give_up_after` is disabled, with the reason, by
    /// `system`. An attempt whose lease ran out and was claimed again records nothing.
    pub fn finish_attempt(
        &self,
        claim: &ClaimedDelivery,
        outcome: &AttemptOutcome,
        policy: &RetryPolicy,
        jitter: f64,
    ) -> StoreResult<()> {
        let ctx = ChangeContext::new(
            Actor {
                role: "system".to_owned(),
                subject: Some("webhook-delivery".to_owned()),
            },
            None,
        );
        self.write(&ctx, |tx| {
            let now = tx.now();
            let (status, next) = if outcome.succeeded {
                (DeliveryStatus::Succeeded, None)
            } else if now >= claim.retry_until {
                (DeliveryStatus::Failed, None)
            } else {
                let wait = policy.wait_after(claim.attempt, jitter);
                (DeliveryStatus::Pending, Some(to_db(now + delta(wait))))
            };
            let org = claim.org_id.to_string();
            let written = diesel::update(
                d::table
                    .filter(d::org_id.eq(&org))
                    .filter(d::id.eq(&claim.id))
                    .filter(d::status.eq(DeliveryStatus::Pending.as_str()))
                    .filter(d::attempts.eq(claim.attempt)),
            )
            .set((
                d::status.eq(status.as_str()),
                d::next_attempt_at.eq(next),
                d::last_response_code.eq(outcome.response_code),
                d::last_response_excerpt.eq(&outcome.response_excerpt),
                d::last_error.eq(&outcome.error),
                d::updated_at.eq(to_db(now)),
            ))
            .execute(tx.conn()?)?;
            if written == 0 {
                return Ok(());
            }
            let hook_id = claim.webhook_id.to_string();
            let hook = || {
                w::table
                    .filter(w::org_id.eq(&org))
                    .filter(w::id.eq(&hook_id))
            };
            if outcome.succeeded {
                diesel::update(hook().filter(w::failing_since.is_not_null()))
                    .set(w::failing_since.eq(None::<NaiveDateTime>))
                    .execute(tx.conn()?)?;
                return Ok(());
            }
            diesel::update(hook().filter(w::failing_since.is_null()))
                .set(w::failing_since.eq(Some(to_db(now))))
                .execute(tx.conn()?)?;
            let cutoff = to_db(now - delta(policy.give_up_after));
            let reason = format!(
                "disabled at {}: every delivery failed for {}; the last attempt: {}",
                now.format("%Y-%m-%dT%H:%M:%SZ"),
                span(policy.give_up_after),
                describe(outcome),
            );
            let disabled = diesel::update(
                hook()
                    .filter(w::enabled.eq(true))
                    .filter(w::failing_since.le(cutoff)),
            )
            .set((
                w::enabled.eq(false),
                w::disabled_reason.eq(Some(&reason)),
                w::version.eq(w::version + 1),
                w::updated_at.eq(to_db(now)),
            ))
            .execute(tx.conn()?)?;
            if disabled > 0 {
                tx.record(
                    claim.org_id,
                    "webhook.disabled",
                    "webhook",
                    &claim.webhook_id.to_string(),
                    &serde_json::json!({"enabled": false, "disabled_reason": reason}),
                )?;
            }
            Ok(())
        })
    }

    /// Deletes the records of deliveries that ended (succeeded or failed) before `before`.
    pub fn prune_deliveries(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        self.write_unaudited(|conn| {
            Ok(diesel::delete(
                d::table
                    .filter(d::status.ne(DeliveryStatus::Pending.as_str()))
                    .filter(d::updated_at.lt(to_db(before))),
            )
            .execute(conn)?)
        })
    }
}

fn due_events(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> StoreResult<Vec<DueEvent>> {
    let due = o::table
        .filter(o::deliver_after.le(now))
        .order((o::deliver_after, o::org_id, o::id))
        .limit(limit)
        .select((o::org_id, o::id, o::event_type, o::payload));
    Ok(match conn {
        // Another replica's fan-out skips the events this one holds.
        DbConn::Pg(pg) => due.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(sqlite) => due.load(sqlite)?,
    })
}

fn claimed(row: ClaimRow, now: DateTime<Utc>) -> StoreResult<ClaimedDelivery> {
    let mut secrets = vec![row.secret];
    if let (Some(previous), Some(until)) = (row.previous_secret, row.previous_secret_until)
        && from_db(until) > now
    {
        secrets.push(previous);
    }
    Ok(ClaimedDelivery {
        org_id: parse_id("org id", &row.org_id)?,
        webhook_id: parse_id("webhook id", &row.webhook_id)?,
        id: row.id,
        event_id: row.event_id,
        payload: row.payload,
        attempt: row.attempts + 1,
        retry_until: from_db(row.retry_until),
        url: row.url,
        secrets,
    })
}

fn describe(outcome: &AttemptOutcome) -> String {
    match (&outcome.error, outcome.response_code) {
        (Some(error), _) => error.clone(),
        (None, Some(code)) => format!("HTTP {code}"),
        (None, None) => "no answer".to_owned(),
    }
}

/// A span in the largest whole unit that fits: "24 hours", "90 seconds".
fn span(d: std::time::Duration) -> String {
    let seconds = d.as_secs();
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

fn delta(d: std::time::Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}
