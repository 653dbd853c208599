//! Teams: CRUD for the groups members work in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::principal::Permission;
use circulo_domain::team::{RawTeamFields, RawTeamPatch, Team, TeamFields, TeamPatch};
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
pub struct CreateTeam {
    /// Unique within the organization, 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The member who leads the team.
    pub lead_member_id: Option<Uuid>,
}

/// Changes to a team; absent fields stay as they are, `null` clears the lead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeam {
    /// New name.
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// New lead, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub lead_member_id: Option<Option<Uuid>>,
}

/// A team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamView {
    /// The team's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Who leads it.
    pub lead_member_id: Option<Uuid>,
    /// Changes with every update; send it back in `If-Match`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name,
            lead_member_id: t.lead_member_id.map(|id| id.as_uuid()),
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
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
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Create a team.
#[utoipa::path(
    tag = "teams",
    request_body = CreateTeam,
    responses(
        (status = 201, description = "The team", body = TeamView,
            headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "A team with this name exists", body = Problem, content_type = "application/problem+json"),
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
                team.version,
                &TeamView::from(team),
            )
        },
    )
    .await
}

/// List teams, oldest first.
#[utoipa::path(tag = "teams", params(ListTeams), responses((status = 200, description = "A page of teams", body = TeamList)))]
#[get("/teams")]
pub async fn list_teams(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListTeams>,
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
    responses((status = 200, description = "The team", body = TeamView, headers(("ETag" = String)))),
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
        team.version,
        &TeamView::from(team),
    ))
}

/// Rename a team or change its lead.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path, description = "The team's id")),
    request_body = UpdateTeam,
    responses(
        (status = 200, description = "The updated team", body = TeamView, headers(("ETag" = String))),
        (status = 409, description = "A team with this name exists", body = Problem, content_type = "application/problem+json"),
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
        |team| Answer::with_etag(StatusCode::OK, team.version, &TeamView::from(team)),
    )
    .await
}

/// Delete a team that no member belongs to.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path, description = "The team's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Members still belong to the team", body = Problem, content_type = "application/problem+json"),
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
