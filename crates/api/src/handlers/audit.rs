//! The audit log: every change, with actor, action, entity, time and request id.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::audit::AuditEvent;
use circulo_domain::page::FeedPosition;
use circulo_domain::principal::Permission;
use circulo_persistence::AuditFilter;

use super::window::Window;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::pagination::{list_view, page_request};
use crate::http::query::Query;
use crate::openapi::problems::ListProblems;
use crate::state::{AppState, read};
use circulo_domain::timestamp::rfc3339;

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_events);
}

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorView {
    /// The role the author acted in: a token role (`owner`, `integration`, …), `cli` for the
    /// server's own command line, or `anonymous` for a change that keeps no trace of its author
    /// (anonymous feedback).
    pub role: String,
    /// The `sub` of the author's token; `null` where the author must stay unknown (anonymous
    /// feedback).
    pub subject: Option<String>,
}

/// One change.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    /// The entry's id, assigned by the server.
    pub id: Uuid,
    /// When the change was made: the start of its day (UTC) for a change whose author must
    /// stay unknown, so the time cannot point to them.
    #[serde(serialize_with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// Who made the change.
    pub actor: ActorView,
    /// What was done, as `<entity type>.<verb>` (`member.created`, `team.deleted`).
    pub action: String,
    /// The kind of thing changed (`member`, `team`, `organization`).
    pub entity_type: String,
    /// The id of the thing changed.
    pub entity_id: String,
    /// The `X-Request-Id` of the request that made the change, or `null` for changes made
    /// outside a request or whose author must stay unknown.
    pub request_id: Option<String>,
    /// The entity as it was after the change, as its own endpoint shows it; for a deletion, as
    /// it was when it was deleted.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            actor: ActorView {
                role: e.actor.role,
                subject: e.actor.subject,
            },
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            request_id: e.request_id,
            changes: e.changes.and_then(|c| serde_json::from_str(&c).ok()),
        }
    }
}

list_view!(
    /// A page of audit events.
    AuditEventList of AuditEventView
);

/// Filters and paging for the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAuditEvents {
    /// Only changes to this kind of entity (`member`, `team`, `organization`).
    pub entity_type: Option<String>,
    /// Only changes to this entity.
    pub entity_id: Option<String>,
    /// Only this action (`member.created`).
    pub action: Option<String>,
    /// Only changes by this token subject.
    pub actor: Option<String>,
    /// From this instant or date (inclusive; a date is midnight in the organization's zone).
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Before this instant or date (exclusive).
    #[param(min_length = 10, example = "2026-12-01T00:00:00Z")]
    pub to: Option<String>,
    /// How many events to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// List the audit log in the order its changes committed, oldest first.
///
/// A client that has paged to the end and later continues from the last cursor it was given
/// misses nothing that committed in between. Entries of changes that leave no trace of their
/// author join the log after the day they were made.
#[utoipa::path(
    tag = "audit",
    params(ListAuditEvents),
    responses(ListProblems, (status = 200, description = "A page of audit events", body = AuditEventList)),
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListAuditEvents>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadAudit)?;
    let query = query.into_inner();
    let page = page_request::<FeedPosition>(query.limit, query.cursor.as_deref())?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let mut filter = AuditFilter {
        entity_type: query.entity_type,
        entity_id: query.entity_id,
        action: query.action,
        actor_subject: query.actor,
        from: None,
        to: None,
    };
    let events = read(&state, &caller, move |db| {
        (filter.from, filter.to) = window.resolve(db, org)?;
        db.audit_log().list(org, &filter, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuditEventList::from_page(events)))
}
