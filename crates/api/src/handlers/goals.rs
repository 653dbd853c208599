//! Goals: clear, measurable objectives for members and teams, their check-ins, and who may do
//! what with them (owners and `goals:*` integrations: every goal; managers: the goals of the
//! people under them and of those people's teams, and their own to read; staff: their own and
//! their team's to read, their own to check in on).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::goal::{
    self, CheckIn, CheckInFields, Direction, GoalFields, GoalKind, GoalPatch, GoalReading,
    GoalStatus, RawCheckIn, RawGoalFields, RawGoalPatch, RawMetric,
};
use circulo_domain::principal::Permission;
use circulo_domain::text;
use circulo_domain::timestamp::rfc3339;
use circulo_domain::{GoalId, MemberId, TeamId, member};
use circulo_persistence::GoalFilter;

use super::reach::Acting;
use super::respond::{double_option, with_etag};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::Json;
use crate::http::pagination::{list_view, page_request};
use crate::http::query::Query;
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{
    ActionProblems, ChangeProblems, CreateProblems, CreateUnderProblems, ListProblems,
    ListUnderProblems, ReadProblems,
};
use crate::state::{AppState, read};
use crate::write::{Answer, write};

/// The longest reason for cancelling a goal.
pub const MAX_REASON_CHARS: usize = 500;

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_goal)
        .service(list_goals)
        .service(get_goal)
        .service(update_goal)
        .service(cancel_goal)
        .service(create_check_in)
        .service(list_check_ins);
}

/// What a goal measures: a finite baseline and a different finite target, in the direction
/// the metric moves.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricBody {
    /// What is counted (`new clients`). One line.
    pub name: String,
    /// What it is counted in (`clients`, `%`, `EUR`). One line.
    pub unit: String,
    /// Where the metric starts.
    pub baseline: f64,
    /// Where it must get to; not the baseline, and on the side of it that `direction` names.
    pub target: f64,
    /// `increase` when higher is better (target above baseline), `decrease` when lower is.
    pub direction: Direction,
}

impl MetricBody {
    fn raw(&self) -> RawMetric<'_> {
        RawMetric {
            name: &self.name,
            unit: &self.unit,
            baseline: self.baseline,
            target: self.target,
            direction: self.direction,
        }
    }
}

/// A new goal, for one member or one team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "title": "Win ten new clients this quarter",
    "kind": "client_acquisition",
    "owner_member_id": "0193a0b4-7c2e-7000-8000-00000000a001",
    "metric": {"name": "new clients", "unit": "clients", "baseline": 0, "target": 10, "direction": "increase"},
    "start_date": "2026-12-01",
    "due_date": "2027-02-28",
    "strengths": ["networking"]
})))]
pub struct CreateGoal {
    /// What the goal is, in one line.
    pub title: String,
    /// More about it; may span lines.
    pub description: Option<String>,
    /// What the goal is about.
    pub kind: GoalKind,
    /// The member whose goal it is. Exactly one of `owner_member_id` and `owner_team_id`.
    pub owner_member_id: Option<Uuid>,
    /// The team whose goal it is. Exactly one of `owner_member_id` and `owner_team_id`.
    pub owner_team_id: Option<Uuid>,
    /// The higher goal this one serves (the vision cascades), of the same organization.
    pub parent_goal_id: Option<Uuid>,
    /// What is measured and where it must get to.
    pub metric: MetricBody,
    /// When work on the goal starts.
    pub start_date: NaiveDate,
    /// When the target must be reached; not before `start_date`.
    pub due_date: NaiveDate,
    /// `active` (the default) or `draft`.
    pub status: Option<GoalStatus>,
    /// The strengths the work draws on; matched against the owner's to compute
    /// `uses_owner_strengths`.
    #[serde(default)]
    pub strengths: Vec<String>,
}

/// Changes to a goal: fields left out stay as they are. Naming an owner moves the goal to it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"title": "Win twelve new clients this quarter"})))]
pub struct UpdateGoal {
    /// A new title.
    pub title: Option<String>,
    /// A new description, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// A new kind.
    pub kind: Option<GoalKind>,
    /// Move the goal to this member.
    pub owner_member_id: Option<Uuid>,
    /// Move the goal to this team.
    pub owner_team_id: Option<Uuid>,
    /// A new parent goal, or `null` for none; never the goal itself or one aligned below it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_goal_id: Option<Option<Uuid>>,
    /// The whole metric, replaced.
    pub metric: Option<MetricBody>,
    /// A new start date.
    pub start_date: Option<NaiveDate>,
    /// A new due date, not before the start date.
    pub due_date: Option<NaiveDate>,
    /// `draft` or `active`.
    pub status: Option<GoalStatus>,
    /// The strengths the work draws on, replacing the list.
    pub strengths: Option<Vec<String>>,
}

/// Why a goal is given up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "The client programme was closed"})))]
pub struct CancelGoal {
    /// Why, for the audit log. May span lines.
    pub reason: String,
}

/// A progress report on a goal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"value": 4, "note": "Two clients signed after the open day"})))]
pub struct CreateCheckIn {
    /// The metric's value now (or at `recorded_at`).
    pub value: f64,
    /// What happened; may span lines.
    pub note: Option<String>,
    /// When the value was true; defaults to now and may not be in the future. A report dated
    /// before the latest one is kept as history and leaves the current value as it is.
    pub recorded_at: Option<DateTime<Utc>>,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    let strengths = Limit::Strings {
        items: member::MAX_STRENGTHS,
        chars: member::MAX_STRENGTH_CHARS,
    };
    bounds! {
        MetricBody {
            name: Limit::Chars(goal::MAX_METRIC_NAME_CHARS),
            unit: Limit::Chars(goal::MAX_UNIT_CHARS),
            baseline: Limit::Magnitude(goal::MAX_ABS_VALUE),
            target: Limit::Magnitude(goal::MAX_ABS_VALUE),
        },
        CreateGoal {
            title: Limit::Chars(goal::MAX_TITLE_CHARS),
            description: Limit::Chars(goal::MAX_DESCRIPTION_CHARS),
            strengths: strengths.clone(),
        },
        UpdateGoal {
            title: Limit::Chars(goal::MAX_TITLE_CHARS),
            description: Limit::Chars(goal::MAX_DESCRIPTION_CHARS),
            strengths: strengths,
        },
        CancelGoal { reason: Limit::Chars(MAX_REASON_CHARS) },
        CreateCheckIn {
            value: Limit::Magnitude(goal::MAX_ABS_VALUE),
            note: Limit::Chars(goal::MAX_NOTE_CHARS),
        },
    }
}

/// A goal's metric.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricView {
    /// What is counted.
    pub name: String,
    /// What it is counted in.
    pub unit: String,
    /// Where it started.
    pub baseline: f64,
    /// Where it must get to.
    pub target: f64,
    /// Which way is better.
    pub direction: Direction,
}

/// A goal, as of today in the organization's time zone.
#[derive(Debug, Serialize, ToSchema)]
pub struct GoalView {
    /// The goal's id.
    pub id: Uuid,
    /// What the goal is.
    pub title: String,
    /// More about it.
    pub description: Option<String>,
    /// What it is about.
    pub kind: GoalKind,
    /// The member whose goal it is (or `null` for a team's goal).
    pub owner_member_id: Option<Uuid>,
    /// The team whose goal it is (or `null` for a member's goal).
    pub owner_team_id: Option<Uuid>,
    /// The higher goal it serves.
    pub parent_goal_id: Option<Uuid>,
    /// What is measured.
    pub metric: MetricView,
    /// When work starts.
    pub start_date: NaiveDate,
    /// When the target must be reached.
    pub due_date: NaiveDate,
    /// Where it stands today: an active goal past its due date that has not reached its
    /// target is `missed`.
    pub status: GoalStatus,
    /// The strengths the work draws on.
    pub strengths: Vec<String>,
    /// The latest check-in's value (by `recorded_at`), or `null` before the first.
    pub current_value: Option<f64>,
    /// How far the current value has come from the baseline to the target, from 0 to 1.
    pub progress: f64,
    /// For a member's goal, whether its strengths meet the member's (without regard to case or
    /// surrounding spaces); `null` for a team's goal.
    pub uses_owner_strengths: Option<bool>,
    /// The goal's version, raised by every change and check-in; the `ETag` carries it.
    pub version: i64,
    /// When the goal was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<GoalReading> for GoalView {
    fn from(reading: GoalReading) -> Self {
        let g = reading.goal;
        Self {
            id: g.id.as_uuid(),
            title: g.title,
            description: g.description,
            kind: g.kind,
            owner_member_id: g.owner.member().map(|id| id.as_uuid()),
            owner_team_id: g.owner.team().map(|id| id.as_uuid()),
            parent_goal_id: g.parent_goal_id.map(|id| id.as_uuid()),
            metric: MetricView {
                name: g.metric.name,
                unit: g.metric.unit,
                baseline: g.metric.baseline,
                target: g.metric.target,
                direction: g.metric.direction,
            },
            start_date: g.start_date,
            due_date: g.due_date,
            status: reading.status,
            strengths: g.strengths,
            current_value: g.current_value,
            progress: reading.progress,
            uses_owner_strengths: reading.uses_owner_strengths,
            version: g.revision.version,
            created_at: g.revision.created_at,
            updated_at: g.revision.updated_at,
        }
    }
}

/// Who reported a check-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterView {
    /// The role they acted in.
    pub role: String,
    /// Their token's subject (a member's id, an integration's name).
    pub subject: Option<String>,
}

/// A check-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInView {
    /// The check-in's id.
    pub id: Uuid,
    /// The goal it reports on.
    pub goal_id: Uuid,
    /// The metric's value.
    pub value: f64,
    /// What happened.
    pub note: Option<String>,
    /// When the value was true.
    #[serde(serialize_with = "rfc3339")]
    pub recorded_at: DateTime<Utc>,
    /// Who reported it.
    pub recorded_by: ReporterView,
    /// When it was reported.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<CheckIn> for CheckInView {
    fn from(c: CheckIn) -> Self {
        Self {
            id: c.id.as_uuid(),
            goal_id: c.goal_id.as_uuid(),
            value: c.value,
            note: c.note,
            recorded_at: c.recorded_at,
            recorded_by: ReporterView {
                role: c.recorded_by.role,
                subject: c.recorded_by.subject,
            },
            created_at: c.created_at,
        }
    }
}

/// A check-in just recorded, with the goal as it now stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedCheckIn {
    /// The check-in.
    pub check_in: CheckInView,
    /// The goal after it: its current value, progress and status.
    pub goal: GoalView,
}

list_view!(
    /// A page of goals.
    GoalList of GoalView
);

list_view!(
    /// A page of check-ins.
    CheckInList of CheckInView
);

/// Filtering and paging through goals.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListGoals {
    /// Only goals of the member with this id.
    pub owner_member_id: Option<Uuid>,
    /// Only goals of the team with this id.
    pub owner_team_id: Option<Uuid>,
    /// Only goals with this status as of today (`missed`: active and past due).
    pub status: Option<GoalStatus>,
    /// Only goals aligned directly to the goal with this id.
    pub parent_goal_id: Option<Uuid>,
    /// Only goals due on or after this date.
    pub due_from: Option<NaiveDate>,
    /// Only goals due before this date.
    pub due_to: Option<NaiveDate>,
    /// How many goals to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Paging through a goal's check-ins.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListCheckIns {
    /// How many check-ins to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

fn answer(
    reading: GoalReading,
    status: StatusCode,
) -> Result<Answer, circulo_persistence::StoreError> {
    Answer::with_etag(
        status,
        reading.goal.revision.version,
        &GoalView::from(reading),
    )
}

/// Set a goal for a member or a team.
///
/// Owners set goals for anyone, managers for the people under them and those people's teams.
#[utoipa::path(
    tag = "goals",
    params(IdempotencyKey),
    request_body = CreateGoal,
    responses(
        CreateProblems,
        (status = 201, description = "The new goal", body = GoalView,
            headers(("Location" = String, description = "The goal's URL"), ("ETag" = String, description = "The goal's version"))),
    ),
)]
#[post("/goals")]
pub async fn create_goal(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<CreateGoal>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteGoals)?;
    let body = body.into_inner();
    let fields = GoalFields::parse(RawGoalFields {
        title: &body.title,
        description: body.description.as_deref(),
        kind: body.kind,
        owner_member_id: body.owner_member_id.map(MemberId::from_uuid),
        owner_team_id: body.owner_team_id.map(TeamId::from_uuid),
        parent_goal_id: body.parent_goal_id.map(GoalId::from_uuid),
        metric: body.metric.raw(),
        start_date: body.start_date,
        due_date: body.due_date,
        status: body.status,
        strengths: &body.strengths,
    })?;
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.goals().create(org, fields, reach.as_ref())
        },
        |reading| {
            let location = format!("/v1/goals/{}", reading.goal.id);
            let version = reading.goal.revision.version;
            Answer::created(location, version, &GoalView::from(reading))
        },
    )
    .await
}

/// List goals, oldest first: those the caller may read, narrowed by the filters.
#[utoipa::path(
    tag = "goals",
    params(ListGoals),
    responses(ListProblems, (status = 200, description = "A page of goals", body = GoalList)),
)]
#[get("/goals")]
pub async fn list_goals(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListGoals>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadGoals)?;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = GoalFilter {
        owner_member_id: query.owner_member_id.map(MemberId::from_uuid),
        owner_team_id: query.owner_team_id.map(TeamId::from_uuid),
        status: query.status,
        parent_goal_id: query.parent_goal_id.map(GoalId::from_uuid),
        due_from: query.due_from,
        due_to: query.due_to,
    };
    let acting = Acting::of(&caller);
    let goals = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.goals().list(org, filter, reach.as_ref(), page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(GoalList::from_page(goals)))
}

/// Get a goal.
#[utoipa::path(
    tag = "goals",
    params(("id" = Uuid, Path, description = "The goal's id")),
    responses(
        ReadProblems,
        (status = 200, description = "The goal", body = GoalView,
            headers(("ETag" = String, description = "The goal's version"))),
    ),
)]
#[get("/goals/{id}")]
pub async fn get_goal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadGoals)?;
    let id = GoalId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    let reading = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.goals().get(org, id, reach.as_ref())
    })
    .await?;
    let version = reading.goal.revision.version;
    Ok(with_etag(StatusCode::OK, version, &GoalView::from(reading)))
}

/// Change a goal.
#[utoipa::path(
    tag = "goals",
    params(("id" = Uuid, Path, description = "The goal's id"), IfMatch),
    request_body = UpdateGoal,
    responses(
        ChangeProblems,
        (status = 200, description = "The changed goal", body = GoalView,
            headers(("ETag" = String, description = "The goal's new version"))),
    ),
)]
#[patch("/goals/{id}")]
pub async fn update_goal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateGoal>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteGoals)?;
    let body = body.into_inner();
    let patch = GoalPatch::parse(RawGoalPatch {
        title: body.title.as_deref(),
        description: body.description.as_ref().map(|d| d.as_deref()),
        kind: body.kind,
        owner_member_id: body.owner_member_id.map(MemberId::from_uuid),
        owner_team_id: body.owner_team_id.map(TeamId::from_uuid),
        parent_goal_id: body.parent_goal_id.map(|p| p.map(GoalId::from_uuid)),
        metric: body.metric.as_ref().map(MetricBody::raw),
        start_date: body.start_date,
        due_date: body.due_date,
        status: body.status,
        strengths: body.strengths.as_deref(),
    })?;
    let id = GoalId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.goals()
                .update(org, id, &if_match.0, patch, reach.as_ref())
        },
        |reading| answer(reading, StatusCode::OK),
    )
    .await
}

/// Cancel a goal; it stays on record, with the reason in the audit log.
#[utoipa::path(
    tag = "goals",
    params(("id" = Uuid, Path, description = "The goal's id"), IdempotencyKey, IfMatch),
    request_body = CancelGoal,
    responses(
        ActionProblems,
        (status = 200, description = "The cancelled goal", body = GoalView,
            headers(("ETag" = String, description = "The goal's new version"))),
    ),
)]
#[post("/goals/{id}/cancel")]
pub async fn cancel_goal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    if_match: IfMatch,
    body: Json<CancelGoal>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteGoals)?;
    let reason = text::multi_line("reason", &body.reason, MAX_REASON_CHARS)?;
    let id = GoalId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.goals()
                .cancel(org, id, &if_match.0, &reason, reach.as_ref())
        },
        |reading| answer(reading, StatusCode::OK),
    )
    .await
}

/// Check in on a goal: report the metric's value.
///
/// A member checks in on their own goals; managers on those of the people under them and their
/// teams. Reaching the target achieves the goal and announces `goal.achieved`.
#[utoipa::path(
    tag = "goals",
    params(("id" = Uuid, Path, description = "The goal's id"), IdempotencyKey),
    request_body = CreateCheckIn,
    responses(
        CreateUnderProblems,
        (status = 201, description = "The check-in and the goal after it", body = RecordedCheckIn,
            headers(("Location" = String, description = "The goal's check-ins"))),
    ),
)]
#[post("/goals/{id}/check-ins")]
pub async fn create_check_in(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Json<CreateCheckIn>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::CheckInGoals)?;
    let fields = CheckInFields::parse(
        RawCheckIn {
            value: body.value,
            note: body.note.as_deref(),
            recorded_at: body.recorded_at,
        },
        circulo_persistence::now(),
    )?;
    let id = GoalId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let reach = acting.map(|a| a.load(tx, org)).transpose()?;
            tx.goals().check_in(org, id, fields, reach.as_ref())
        },
        move |(check_in, reading)| {
            Answer::recorded(
                format!("/v1/goals/{id}/check-ins"),
                &RecordedCheckIn {
                    check_in: CheckInView::from(check_in),
                    goal: GoalView::from(reading),
                },
            )
        },
    )
    .await
}

/// List a goal's check-ins in the order they were reported.
#[utoipa::path(
    tag = "goals",
    params(("id" = Uuid, Path, description = "The goal's id"), ListCheckIns),
    responses(
        ListUnderProblems,
        (status = 200, description = "A page of check-ins", body = CheckInList),
    ),
)]
#[get("/goals/{id}/check-ins")]
pub async fn list_check_ins(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<ListCheckIns>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadGoals)?;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let id = GoalId::from_uuid(id.into_inner());
    let acting = Acting::of(&caller);
    let check_ins = read(&state, &caller, move |db| {
        let reach = acting.map(|a| a.read(db, org)).transpose()?;
        db.goals().check_ins(org, id, reach.as_ref(), page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CheckInList::from_page(check_ins)))
}
