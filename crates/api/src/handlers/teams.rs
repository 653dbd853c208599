//! Teams: CRUD for the groups members work in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::principal::Permission;
use circulo_domain::team::{self, RawTeamFields, RawTeamPatch, Team, TeamFields, TeamPatch};
use circulo_domain::timestamp::rfc3339;
use circulo_domain::{MemberId, TeamId};

use super::respond::{double_option, with_etag};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::Json;
use crate::http::pagination::{list_view, page_request};
use crate::http::problem::Problem;
use crate::http::query::Query;
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{
    ChangeProblems, CreateProblems, DeleteProblems, ListProblems, ReadProblems,
};
use crate::state::{AppState, read};
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_team)
        .service(list_teams)
        .service(get_team)
        .service(update_team)
        .service(delete_team);
}

/// A new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Front desk"})))]
pub struct CreateTeam {
    /// What the organization calls the team; no two of its teams share a name. One line,
    /// without control characters.
    pub name: String,
    /// The id of the member who leads the team, a member of the same organization.
    pub lead_member_id: Option<Uuid>,
}

/// Changes to a team: fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Front desk, mornings"})))]
pub struct UpdateTeam {
    /// The team's new name, unique in the organization.
    pub name: Option<String>,
    /// The id of the member who now leads the team, or `null` for no lead.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub lead_member_id: Option<Option<Uuid>>,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    bounds! {
        CreateTeam { name: Limit::Chars(team::MAX_NAME_CHARS) },
        UpdateTeam { name: Limit::Chars(team::MAX_NAME_CHARS) },
    }
}

/// A team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    /// The team's id, assigned by the server.
    pub id: Uuid,
    /// What the organization calls the team, unique in it.
    pub name: String,
    /// The id of the member who leads the team, or `null` when no one does.
    pub lead_member_id: Option<Uuid>,
    /// The team's version, raised by every change; the `ETag` carries it for `If-Match`.
    pub version: i64,
    /// When the team was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the team last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name,
            lead_member_id: t.lead_member_id.map(|id| id.as_uuid()),
            version: t.revision.version,
            created_at: t.revision.created_at,
            updated_at: t.revision.updated_at,
        }
    }
}

list_view!(
    /// A page of teams.
    TeamList of TeamView
);

/// Paging through teams.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTeams {
    /// How many teams to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Create a team.
#[utoipa::path(
    tag = "teams",
    params(IdempotencyKey),
    request_body = CreateTeam,
    responses(
        CreateProblems,
        (status = 201, description = "The new team", body = TeamView,
            headers(("Location" = String, description = "The team's URL"), ("ETag" = String, description = "The team's version"))),
    ),
)]
#[post("/teams")]
pub async fn create_team(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<CreateTeam>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDirectory)?;
    let fields = TeamFields::parse(RawTeamFields {
        name: &body.name,
        lead_member_id: body.lead_member_id.map(MemberId::from_uuid),
    })?;
    write(
        &state,
        &caller,
        key,
        move |tx| tx.teams().create(org, fields),
        |team| {
            Answer::created(
                format!("/v1/teams/{}", team.id),
                team.revision.version,
                &TeamView::from(team),
            )
        },
    )
    .await
}

/// List teams, oldest first.
#[utoipa::path(
    tag = "teams",
    params(ListTeams),
    responses(ListProblems, (status = 200, description = "A page of teams", body = TeamList)),
)]
#[get("/teams")]
pub async fn list_teams(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListTeams>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDirectory)?;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let teams = read(&state, &caller, move |db| db.teams().list(org, page)).await?;
    Ok(HttpResponse::Ok().json(TeamList::from_page(teams)))
}

/// Get a team.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path, description = "The team's id")),
    responses(
        ReadProblems,
        (status = 200, description = "The team", body = TeamView,
            headers(("ETag" = String, description = "The team's version"))),
    ),
)]
#[get("/teams/{id}")]
pub async fn get_team(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDirectory)?;
    let id = TeamId::from_uuid(id.into_inner());
    let team = read(&state, &caller, move |db| db.teams().get(org, id)).await?;
    Ok(with_etag(
        StatusCode::OK,
        team.revision.version,
        &TeamView::from(team),
    ))
}

/// Rename a team or change its lead.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path, description = "The team's id"), IfMatch),
    request_body = UpdateTeam,
    responses(
        ChangeProblems,
        (status = 200, description = "The changed team", body = TeamView,
            headers(("ETag" = String, description = "The team's new version"))),
    ),
)]
#[patch("/teams/{id}")]
pub async fn update_team(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateTeam>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDirectory)?;
    let patch = TeamPatch::parse(RawTeamPatch {
        name: body.name.as_deref(),
        lead_member_id: body
            .lead_member_id
            .map(|lead| lead.map(MemberId::from_uuid)),
    })?;
    let id = TeamId::from_uuid(id.into_inner());
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| tx.teams().update(org, id, &if_match.0, patch),
        |team| Answer::with_etag(StatusCode::OK, team.revision.version, &TeamView::from(team)),
    )
    .await
}

/// Delete a team that no member belongs to.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path, description = "The team's id"), IfMatch),
    responses(
        DeleteProblems,
        (status = 204, description = "The team is gone"),
        (status = 409, description = "Members still belong to the team: move them first", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/teams/{id}")]
pub async fn delete_team(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDirectory)?;
    let id = TeamId::from_uuid(id.into_inner());
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| tx.teams().delete(org, id, &if_match.0),
        |()| Answer::no_content(),
    )
    .await
}
