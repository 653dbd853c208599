//! Decisions and escalations: the accountability log. A POS or CRM records each decision at the
//! counter; one a grant covers is approved on the spot, the rest go to someone who may decide.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::decision::{
    self, Decision, DecisionFields, Escalation, Outcome, RawDecision, Resolution,
};
use circulo_domain::delegation::{self, Action};
use circulo_domain::feedback::Touchpoint;
use circulo_domain::principal::{Permission, Role};
use circulo_domain::text;
use circulo_domain::timestamp::{rfc3339, rfc3339_opt};
use circulo_domain::{DecisionId, EscalationId, MemberId, TeamId};
use circulo_persistence::{Decided, DecisionFilter, EscalationFilter, now};

use super::reach::Acting;
use super::window::Window;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::Json;
use crate::http::pagination::{list_view, page_request};
use crate::http::query::Query;
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{ActionProblems, CreateProblems, ListProblems, ReadProblems};
use crate::state::{AppState, read};
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(record_decision)
        .service(list_decisions)
        .service(get_decision)
        .service(void_decision)
        .service(list_escalations)
        .service(get_escalation)
        .service(resolve_escalation);
}

/// A decision made at the counter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "member_id": "0193a0b4-7c2e-7000-8000-00000000a001",
    "action": "refund",
    "amount_minor": 1500,
    "currency": "EUR",
    "client_ref": "POS-4411",
    "touchpoint": "pos",
    "note": "Kettle arrived broken"
})))]
pub struct RecordDecision {
    /// Who decides: staff as themselves, managers for themselves and the people under them,
    /// integrations with `decisions:write` for any active member.
    pub member_id: Uuid,
    /// What for.
    pub action: String,
    /// How much, in minor units (more than zero).
    pub amount_minor: i64,
    /// The organization's currency.
    pub currency: String,
    /// The client, as the CRM or POS knows them.
    pub client_ref: String,
    /// Where.
    pub touchpoint: Touchpoint,
    /// Anything else; may span lines.
    pub note: Option<String>,
}

/// Why a decision is voided.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "Rung up twice"})))]
pub struct VoidDecision {
    /// Why; may span lines.
    pub reason: String,
}

/// The answer to an escalation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"resolution": "approved", "note": "Fine, and thank you for asking"})))]
pub struct ResolveEscalation {
    /// `approved` (the decision is `approved_by_manager`) or `rejected`.
    pub resolution: Resolution,
    /// What to tell the member; may span lines.
    pub note: Option<String>,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    bounds! {
        RecordDecision {
            client_ref: Limit::Chars(decision::MAX_CLIENT_REF_CHARS),
            note: Limit::Chars(decision::MAX_NOTE_CHARS),
        },
        VoidDecision { reason: Limit::Chars(delegation::MAX_RATIONALE_CHARS) },
        ResolveEscalation { note: Limit::Chars(decision::MAX_NOTE_CHARS) },
    }
}

/// A decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// Its id.
    pub id: Uuid,
    /// Who decided (or asked).
    pub member_id: Uuid,
    /// Their team when they did.
    pub team_id: Option<Uuid>,
    /// What for.
    #[schema(value_type = String)]
    pub action: Action,
    /// How much.
    pub amount_minor: i64,
    /// In what.
    pub currency: String,
    /// The client.
    pub client_ref: String,
    /// Where.
    pub touchpoint: Touchpoint,
    /// Anything else.
    pub note: Option<String>,
    /// `approved` (on the spot), `escalated`, `approved_by_manager` or `rejected`.
    pub outcome: Outcome,
    /// The grant that covered it.
    pub delegation_id: Option<Uuid>,
    /// What remains of that grant in its period, right after this decision (only in the answer
    /// to recording it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_minor: Option<i64>,
    /// The escalation it raised.
    pub escalation_id: Option<Uuid>,
    /// Whether it was voided.
    pub voided: bool,
    /// Why.
    pub void_reason: Option<String>,
    /// When it was recorded.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl DecisionView {
    fn of(d: Decision, remaining_minor: Option<i64>) -> Self {
        Self {
            id: d.id.as_uuid(),
            member_id: d.member_id.as_uuid(),
            team_id: d.team_id.map(|t| t.as_uuid()),
            action: d.action,
            amount_minor: d.amount_minor,
            currency: d.currency.as_str().to_owned(),
            client_ref: d.client_ref,
            touchpoint: d.touchpoint,
            note: d.note,
            outcome: d.outcome,
            delegation_id: d.delegation_id.map(|g| g.as_uuid()),
            remaining_minor,
            escalation_id: d.escalation_id.map(|e| e.as_uuid()),
            voided: d.voided.is_some(),
            void_reason: d.voided.map(|(_, why)| why),
            created_at: d.created_at,
        }
    }
}

/// An escalation.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationView {
    /// Its id.
    pub id: Uuid,
    /// The decision waiting on it.
    pub decision_id: Uuid,
    /// Who asked.
    pub member_id: Uuid,
    /// Who is to answer: the member's manager, else their team's lead, else an owner.
    pub assignee_member_id: Option<Uuid>,
    /// `open` or `resolved`.
    pub status: String,
    /// The answer, once given.
    pub resolution: Option<Resolution>,
    /// What the answer said.
    pub note: Option<String>,
    /// When an answer is due (the organization's response target after it was raised).
    #[serde(serialize_with = "rfc3339")]
    pub response_due_at: DateTime<Utc>,
    /// When it was answered.
    #[serde(serialize_with = "rfc3339_opt")]
    pub responded_at: Option<DateTime<Utc>>,
    /// How long the answer took.
    pub response_seconds: Option<i64>,
    /// Whether the answer came (or is still to come) after it was due.
    pub overdue: bool,
    /// When it was raised.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<Escalation> for EscalationView {
    fn from(x: Escalation) -> Self {
        Self {
            id: x.id.as_uuid(),
            decision_id: x.decision_id.as_uuid(),
            member_id: x.member_id.as_uuid(),
            assignee_member_id: x.assignee_member_id.map(|a| a.as_uuid()),
            status: x.status().to_owned(),
            resolution: x.resolution,
            response_seconds: x.response_seconds(),
            overdue: x.overdue_at(now()),
            note: x.note,
            response_due_at: x.response_due_at,
            responded_at: x.responded_at,
            created_at: x.created_at,
        }
    }
}

/// An escalation just answered, with its decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedEscalation {
    /// The escalation.
    pub escalation: EscalationView,
    /// Its decision, now `approved_by_manager` or `rejected`.
    pub decision: DecisionView,
}

list_view!(
    /// A page of decisions.
    DecisionList of DecisionView
);

list_view!(
    /// A page of escalations.
    EscalationList of EscalationView
);

/// Filtering and paging through decisions.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDecisions {
    /// Only this member's.
    pub member_id: Option<Uuid>,
    /// Only those made in this team.
    pub team_id: Option<Uuid>,
    /// Only of this action.
    pub action: Option<String>,
    /// Only with this outcome.
    pub outcome: Option<Outcome>,
    /// Made at or after this instant or date.
    #[param(min_length = 10, example = "2026-11-01")]
    pub from: Option<String>,
    /// Made before this instant or date.
    #[param(min_length = 10, example = "2026-12-01")]
    pub to: Option<String>,
    /// How many to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Filtering and paging through escalations.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEscalations {
    /// Only those assigned to this member.
    pub assignee_member_id: Option<Uuid>,
    /// `open` or `resolved`.
    #[param(pattern = "^(open|resolved)$")]
    pub status: Option<String>,
    /// Only overdue (`true`) or only timely (`false`) ones, as of now.
    pub overdue: Option<bool>,
    /// How many to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Record a decision: approved on the spot when a grant covers it (its budget consumed
/// atomically), else escalated.
#[utoipa::path(
    tag = "decisions",
    params(IdempotencyKey),
    request_body = RecordDecision,
    responses(
        CreateProblems,
        (status = 201, description = "The decision", body = DecisionView,
            headers(("Location" = String, description = "The decision's URL"))),
    ),
)]
#[post("/decisions")]
pub async fn record_decision(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<RecordDecision>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::RecordDecisions)?;
    let fields = DecisionFields::parse(RawDecision {
        member_id: MemberId::from_uuid(body.member_id),
        action: &body.action,
        amount_minor: body.amount_minor,
        currency: &body.currency,
        client_ref: &body.client_ref,
        touchpoint: body.touchpoint,
        note: body.note.as_deref(),
    })?;
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.decisions().decide(org, fields, reach.as_ref())
        },
        |Decided {
             decision,
             remaining_minor,
             ..
         }| {
            Answer::recorded(
                format!("/v1/decisions/{}", decision.id),
                &DecisionView::of(decision, remaining_minor),
            )
        },
    )
    .await
}

/// List decisions, oldest first.
#[utoipa::path(
    tag = "decisions",
    params(ListDecisions),
    responses(ListProblems, (status = 200, description = "A page of decisions", body = DecisionList)),
)]
#[get("/decisions")]
pub async fn list_decisions(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListDecisions>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDecisions)?;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let window = Window::parse(query.from.as_deref(), query.to.as_deref())?;
    let mut filter = DecisionFilter {
        member_id: query.member_id.map(MemberId::from_uuid),
        team_id: query.team_id.map(TeamId::from_uuid),
        action: query
            .action
            .as_deref()
            .map(|a| Action::parse("action", a))
            .transpose()?,
        outcome: query.outcome,
        from: None,
        to: None,
    };
    let acting = Acting::of(&caller);
    let decisions = read(&state, &caller, move |db| {
        (filter.from, filter.to) = window.resolve(db, org)?;
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.decisions().list(org, filter, reach.as_ref(), page)
    })
    .await?;
    let page = circulo_domain::page::Page {
        items: decisions
            .items
            .into_iter()
            .map(|d| DecisionView::of(d, None))
            .collect(),
        next_after: decisions.next_after,
    };
    Ok(HttpResponse::Ok().json(DecisionList::from_page(page)))
}

/// Get a decision.
#[utoipa::path(
    tag = "decisions",
    params(("id" = Uuid, Path, description = "The decision's id")),
    responses(ReadProblems, (status = 200, description = "The decision", body = DecisionView)),
)]
#[get("/decisions/{id}")]
pub async fn get_decision(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDecisions)?;
    let id = DecisionId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    let decision = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.decisions().get(org, id, reach.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(DecisionView::of(decision, None)))
}

/// Void a decision: its amount goes back to the grant while the budget period it was counted in
/// is open. A decision is voided once.
#[utoipa::path(
    tag = "decisions",
    params(("id" = Uuid, Path, description = "The decision's id"), IdempotencyKey),
    request_body = VoidDecision,
    responses(ActionProblems, (status = 200, description = "The voided decision", body = DecisionView)),
)]
#[post("/decisions/{id}/void")]
pub async fn void_decision(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Json<VoidDecision>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::RecordDecisions)?;
    let reason = text::multi_line("reason", &body.reason, delegation::MAX_RATIONALE_CHARS)?;
    let id = DecisionId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.decisions().void(org, id, reason, reach.as_ref())
        },
        |decision| {
            Answer::with_status(
                actix_web::http::StatusCode::OK,
                &DecisionView::of(decision, None),
            )
        },
    )
    .await
}

/// List escalations, oldest first.
#[utoipa::path(
    tag = "escalations",
    params(ListEscalations),
    responses(ListProblems, (status = 200, description = "A page of escalations", body = EscalationList)),
)]
#[get("/escalations")]
pub async fn list_escalations(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListEscalations>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDecisions)?;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let open = match query.status.as_deref() {
        None => None,
        Some("open") => Some(true),
        Some("resolved") => Some(false),
        Some(_) => {
            return Err(
                circulo_domain::DomainError::invalid("status", "must be open or resolved").into(),
            );
        }
    };
    let filter = EscalationFilter {
        assignee_member_id: query.assignee_member_id.map(MemberId::from_uuid),
        open,
        overdue: query.overdue,
    };
    let acting = Acting::of(&caller);
    let escalations = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.decisions()
            .escalations(org, filter, reach.as_ref(), page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(EscalationList::from_page(escalations)))
}

/// Get an escalation.
#[utoipa::path(
    tag = "escalations",
    params(("id" = Uuid, Path, description = "The escalation's id")),
    responses(ReadProblems, (status = 200, description = "The escalation", body = EscalationView)),
)]
#[get("/escalations/{id}")]
pub async fn get_escalation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDecisions)?;
    let id = EscalationId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    let escalation = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.decisions().escalation(org, id, reach.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(EscalationView::from(escalation)))
}

/// Answer an escalation (its assignee or an owner); announces `escalation.resolved`.
#[utoipa::path(
    tag = "escalations",
    params(("id" = Uuid, Path, description = "The escalation's id"), IdempotencyKey),
    request_body = ResolveEscalation,
    responses(ActionProblems, (status = 200, description = "The answered escalation and its decision", body = ResolvedEscalation)),
)]
#[post("/escalations/{id}/resolve")]
pub async fn resolve_escalation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Json<ResolveEscalation>,
) -> Result<HttpResponse, ApiError> {
    // Integrations do not answer escalations: a person does.
    let org = caller.principal.authorize(Permission::RecordDecisions)?;
    if caller.principal.role() == Role::Integration {
        return Err(ApiError::Domain(circulo_domain::DomainError::Forbidden(
            "an escalation is answered by its assignee or an owner",
        )));
    }
    let note = body
        .note
        .as_deref()
        .map(|n| text::multi_line("note", n, decision::MAX_NOTE_CHARS))
        .transpose()?;
    let resolution = body.resolution;
    let id = EscalationId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.decisions()
                .resolve(org, id, resolution, note, reach.as_ref())
        },
        |(escalation, decision)| {
            Answer::with_status(
                actix_web::http::StatusCode::OK,
                &ResolvedEscalation {
                    escalation: EscalationView::from(escalation),
                    decision: DecisionView::of(decision, None),
                },
            )
        },
    )
    .await
}
