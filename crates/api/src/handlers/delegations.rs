//! Delegated authority: grants with limits (owners to anyone, managers to the people under them
//! and their teams, staff never), what a member may decide right now, and the question a POS asks
//! before deciding ("may I?"), which changes nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::delegation::{
    self, Action, BudgetPeriod, DelegationFields, DelegationStatus, RawDelegationFields,
};
use circulo_domain::principal::Permission;
use circulo_domain::text;
use circulo_domain::timestamp::{rfc3339, rfc3339_opt};
use circulo_domain::{DelegationId, MemberId, TeamId};
use circulo_persistence::{DelegationFilter, DelegationState};

use super::reach::Acting;
use super::respond::with_etag;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::Json;
use crate::http::pagination::{list_view, page_request};
use crate::http::query::Query;
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{
    ActionProblems, AskProblems, CreateProblems, ListProblems, ListUnderProblems, ReadProblems,
};
use crate::state::{AppState, read};
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_delegation)
        .service(list_delegations)
        .service(get_delegation)
        .service(revoke_delegation)
        .service(member_authority)
        .service(check_authority);
}

/// A grant of authority.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "delegate_member_id": "0193a0b4-7c2e-7000-8000-00000000a001",
    "action": "refund",
    "currency": "EUR",
    "per_decision_limit_minor": 2000,
    "budget_minor": 5000,
    "budget_period": "day",
    "rationale": "Refund defective items at the till without waiting for me"
})))]
pub struct CreateDelegation {
    /// Who grants the authority, and answers for it: the caller when left out. An owner may
    /// name a member (who may only grant to the people under them, unless an owner); a manager
    /// only themselves.
    pub delegator_member_id: Option<Uuid>,
    /// The member who may decide. Exactly one of `delegate_member_id` and `delegate_team_id`.
    pub delegate_member_id: Option<Uuid>,
    /// The team whose members may decide.
    pub delegate_team_id: Option<Uuid>,
    /// `refund`, `discount`, `replacement`, `compensation`, `goodwill_credit` or
    /// `custom:<name>` (lowercase letters, digits, `_`, `-`).
    pub action: String,
    /// The organization's currency (ISO 4217).
    pub currency: String,
    /// The most one decision may be, in minor units; at most the budget.
    pub per_decision_limit_minor: i64,
    /// The most a period's decisions may add up to, in minor units.
    pub budget_minor: i64,
    /// `day`, `week` (from Monday) or `month`, in the organization's time zone, or `total`.
    pub budget_period: BudgetPeriod,
    /// The most decisions a period allows.
    pub max_decisions_per_period: Option<i64>,
    /// From when the grant is in force (default: now).
    pub valid_from: Option<DateTime<Utc>>,
    /// Until when (exclusive); open-ended when left out.
    pub valid_until: Option<DateTime<Utc>>,
    /// Why the authority is given; may span lines.
    pub rationale: String,
}

/// Why a grant is withdrawn.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "Moved to the kitchen"})))]
pub struct RevokeDelegation {
    /// Why; may span lines.
    pub reason: String,
}

/// "May this member decide this now?"
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "member_id": "0193a0b4-7c2e-7000-8000-00000000a001",
    "action": "refund",
    "amount_minor": 1500,
    "currency": "EUR"
})))]
pub struct CheckAuthority {
    /// The member who would decide.
    pub member_id: Uuid,
    /// The action.
    pub action: String,
    /// The amount, in minor units.
    pub amount_minor: i64,
    /// Its currency.
    pub currency: String,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    bounds! {
        CreateDelegation { rationale: Limit::Chars(delegation::MAX_RATIONALE_CHARS) },
        RevokeDelegation { reason: Limit::Chars(delegation::MAX_RATIONALE_CHARS) },
    }
}

/// A grant, as it stands now.
#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationView {
    /// Its id.
    pub id: Uuid,
    /// Who granted it (`null` for an owner or integration that is no member).
    pub delegator_member_id: Option<Uuid>,
    /// The member who may decide, or `null` for a team's grant.
    pub delegate_member_id: Option<Uuid>,
    /// The team whose members may decide, or `null` for a member's grant.
    pub delegate_team_id: Option<Uuid>,
    /// What may be decided.
    #[schema(value_type = String)]
    pub action: Action,
    /// The currency of every amount.
    pub currency: String,
    /// The most one decision may be.
    pub per_decision_limit_minor: i64,
    /// The most a period's decisions may add up to.
    pub budget_minor: i64,
    /// How often the budget starts again.
    pub budget_period: BudgetPeriod,
    /// The most decisions a period allows, if limited.
    pub max_decisions_per_period: Option<i64>,
    /// From when it is in force.
    #[serde(serialize_with = "rfc3339")]
    pub valid_from: DateTime<Utc>,
    /// Until when, if it ends.
    #[serde(serialize_with = "rfc3339_opt")]
    pub valid_until: Option<DateTime<Utc>>,
    /// Why it was granted.
    pub rationale: String,
    /// `scheduled`, `active`, `expired` or `revoked`, now.
    pub status: DelegationStatus,
    /// Why it was revoked.
    pub revoke_reason: Option<String>,
    /// When the current budget period started.
    #[serde(serialize_with = "rfc3339")]
    pub period_start: DateTime<Utc>,
    /// Spent in the current period, in minor units: the sum of the decisions approved against
    /// the grant in it.
    pub used_minor: i64,
    /// Left in the current period.
    pub remaining_minor: i64,
    /// Decisions approved in the current period.
    pub decisions_in_period: i64,
    /// Its version.
    pub version: i64,
    /// When it was granted.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<DelegationState> for DelegationView {
    fn from(s: DelegationState) -> Self {
        let g = s.delegation;
        Self {
            id: g.id.as_uuid(),
            delegator_member_id: g.delegator_member_id.map(|id| id.as_uuid()),
            delegate_member_id: g.delegate.member().map(|id| id.as_uuid()),
            delegate_team_id: g.delegate.team().map(|id| id.as_uuid()),
            action: g.action,
            currency: g.currency.as_str().to_owned(),
            per_decision_limit_minor: g.per_decision_limit_minor,
            budget_minor: g.budget_minor,
            budget_period: g.budget_period,
            max_decisions_per_period: g.max_decisions_per_period,
            valid_from: g.valid_from,
            valid_until: g.valid_until,
            rationale: g.rationale,
            status: s.status,
            revoke_reason: g.revoked.map(|(_, why)| why),
            period_start: s.period.start,
            used_minor: s.used_minor,
            remaining_minor: s.remaining_minor,
            decisions_in_period: s.decisions_in_period,
            version: g.revision.version,
            created_at: g.revision.created_at,
        }
    }
}

list_view!(
    /// A page of grants.
    DelegationList of DelegationView
);

/// What a member may decide right now.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityView {
    /// The member.
    pub member_id: Uuid,
    /// The grants in force for them (their own first, then their team's), each with what remains.
    pub items: Vec<DelegationView>,
}

/// The answer to "may I?".
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityAnswer {
    /// Whether a grant covers the decision now.
    pub allowed: bool,
    /// The grant that would cover it.
    pub delegation_id: Option<Uuid>,
    /// What would remain of it afterwards.
    pub remaining_minor_after: Option<i64>,
    /// Why, in words for the person at the counter.
    pub reason: String,
}

/// Filtering and paging through grants.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDelegations {
    /// Only grants to this member.
    pub delegate_member_id: Option<Uuid>,
    /// Only grants to this team.
    pub delegate_team_id: Option<Uuid>,
    /// Only grants of this action.
    pub action: Option<String>,
    /// Only grants standing so now.
    pub status: Option<DelegationStatus>,
    /// How many to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Narrowing a member's authority to one action.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuthorityQuery {
    /// Only grants of this action.
    pub action: Option<String>,
}

fn answer(
    state: DelegationState,
    status: StatusCode,
) -> Result<Answer, circulo_persistence::StoreError> {
    let version = state.delegation.revision.version;
    Answer::with_etag(status, version, &DelegationView::from(state))
}

/// Grant authority with limits.
#[utoipa::path(
    tag = "delegations",
    params(IdempotencyKey),
    request_body = CreateDelegation,
    responses(
        CreateProblems,
        (status = 201, description = "The grant", body = DelegationView,
            headers(("Location" = String, description = "The grant's URL"), ("ETag" = String, description = "Its version"))),
    ),
)]
#[post("/delegations")]
pub async fn create_delegation(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<CreateDelegation>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDelegations)?;
    let fields = DelegationFields::parse(RawDelegationFields {
        delegate_member_id: body.delegate_member_id.map(MemberId::from_uuid),
        delegate_team_id: body.delegate_team_id.map(TeamId::from_uuid),
        action: &body.action,
        currency: &body.currency,
        per_decision_limit_minor: body.per_decision_limit_minor,
        budget_minor: body.budget_minor,
        budget_period: body.budget_period,
        max_decisions_per_period: body.max_decisions_per_period,
        valid_from: body.valid_from,
        valid_until: body.valid_until,
        rationale: &body.rationale,
    })?;
    let acting = Acting::of(&caller);
    let delegator = match (
        body.delegator_member_id.map(MemberId::from_uuid),
        caller.member(),
    ) {
        (Some(named), Some(me)) if named != me => {
            return Err(ApiError::Domain(circulo_domain::DomainError::Forbidden(
                "a manager grants authority in their own name",
            )));
        }
        (named, me) => named.or(me),
    };
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.delegations()
                .create(org, fields, delegator, reach.as_ref())
        },
        |state| {
            let location = format!("/v1/delegations/{}", state.delegation.id);
            let version = state.delegation.revision.version;
            Answer::created(location, version, &DelegationView::from(state))
        },
    )
    .await
}

/// List grants, oldest first.
#[utoipa::path(
    tag = "delegations",
    params(ListDelegations),
    responses(ListProblems, (status = 200, description = "A page of grants", body = DelegationList)),
)]
#[get("/delegations")]
pub async fn list_delegations(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListDelegations>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDelegations)?;
    let query = query.into_inner();
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = DelegationFilter {
        delegate_member_id: query.delegate_member_id.map(MemberId::from_uuid),
        delegate_team_id: query.delegate_team_id.map(TeamId::from_uuid),
        action: query
            .action
            .as_deref()
            .map(|a| Action::parse("action", a))
            .transpose()?,
        status: query.status,
    };
    let acting = Acting::of(&caller);
    let grants = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.delegations().list(org, filter, reach.as_ref(), page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(DelegationList::from_page(grants)))
}

/// Get a grant, with what remains of it now.
#[utoipa::path(
    tag = "delegations",
    params(("id" = Uuid, Path, description = "The grant's id")),
    responses(
        ReadProblems,
        (status = 200, description = "The grant", body = DelegationView,
            headers(("ETag" = String, description = "Its version"))),
    ),
)]
#[get("/delegations/{id}")]
pub async fn get_delegation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDelegations)?;
    let id = DelegationId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    let grant = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.delegations().get(org, id, reach.as_ref())
    })
    .await?;
    let version = grant.delegation.revision.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &DelegationView::from(grant),
    ))
}

/// Revoke a grant; announces `delegation.revoked`.
#[utoipa::path(
    tag = "delegations",
    params(("id" = Uuid, Path, description = "The grant's id"), IdempotencyKey, IfMatch),
    request_body = RevokeDelegation,
    responses(
        ActionProblems,
        (status = 200, description = "The revoked grant", body = DelegationView,
            headers(("ETag" = String, description = "Its new version"))),
    ),
)]
#[post("/delegations/{id}/revoke")]
pub async fn revoke_delegation(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    if_match: IfMatch,
    body: Json<RevokeDelegation>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDelegations)?;
    let reason = text::multi_line("reason", &body.reason, delegation::MAX_RATIONALE_CHARS)?;
    let id = DelegationId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.delegations()
                .revoke(org, id, &if_match.0, reason, reach.as_ref())
        },
        |state| answer(state, StatusCode::OK),
    )
    .await
}

/// What a member may decide right now: their own grants and their team's, with what remains.
#[utoipa::path(
    tag = "delegations",
    params(("id" = Uuid, Path, description = "The member's id"), AuthorityQuery),
    responses(ListUnderProblems, (status = 200, description = "The grants in force", body = AuthorityView)),
)]
#[get("/members/{id}/authority")]
pub async fn member_authority(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<AuthorityQuery>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDelegations)?;
    let member = MemberId::from_uuid(id.into_inner());
    let action = query
        .action
        .as_deref()
        .map(|a| Action::parse("action", a))
        .transpose()?;
    let acting = Acting::of(&caller);
    let grants = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.delegations()
            .authority(org, member, action.as_ref(), reach.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(AuthorityView {
        member_id: member.as_uuid(),
        items: grants.into_iter().map(DelegationView::from).collect(),
    }))
}

/// Ask whether a member may decide this now. Changes nothing.
#[utoipa::path(
    tag = "delegations",
    request_body = CheckAuthority,
    responses(AskProblems, (status = 200, description = "The answer", body = AuthorityAnswer)),
)]
#[post("/authority/check")]
pub async fn check_authority(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CheckAuthority>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDelegations)?;
    let member = MemberId::from_uuid(body.member_id);
    let action = Action::parse("action", &body.action)?;
    let amount = delegation::amount("amount_minor", body.amount_minor)?;
    let currency = body.currency.clone();
    let acting = Acting::of(&caller);
    let answer = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        let grants = db
            .delegations()
            .authority(org, member, Some(&action), reach.as_ref())?;
        let covering = grants.into_iter().find(|g| {
            g.delegation.currency.as_str() == currency
                && g.delegation.per_decision_limit_minor >= amount
                && g.remaining_minor >= amount
                && g.delegation
                    .max_decisions_per_period
                    .is_none_or(|max| g.decisions_in_period < max)
        });
        Ok(match covering {
            Some(g) => AuthorityAnswer {
                allowed: true,
                delegation_id: Some(g.delegation.id.as_uuid()),
                remaining_minor_after: Some(g.remaining_minor - amount),
                reason: "covered by a grant in force".to_owned(),
            },
            None => AuthorityAnswer {
                allowed: false,
                delegation_id: None,
                remaining_minor_after: None,
                reason: "no grant in force covers this action, amount and currency with \
                         budget left now: it would be escalated"
                    .to_owned(),
            },
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}
