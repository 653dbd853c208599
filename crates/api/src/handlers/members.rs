//! Members: the people who serve clients. Deactivated with `PATCH {"active": false}`, never
//! deleted; HR systems upsert them by their own id.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::member::{
    Member, MemberFields, MemberPatch, MemberRole, RawMemberFields, RawMemberPatch,
};
use circulo_domain::principal::{Permission, Role};
use circulo_domain::timestamp::rfc3339;
use circulo_domain::{DomainError, MemberId, TeamId};
use circulo_persistence::{MemberFilter, Upserted};

use super::respond::{double_option, with_etag};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::Json;
use crate::http::pagination::{encode_cursor, page_request};
use crate::http::problem::Problem;
use crate::state::{AppState, read};
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_member)
        .service(list_members)
        .service(get_member)
        .service(update_member)
        .service(upsert_member_by_external_id);
}

/// A member's fields: the body that creates one (`POST`) or replaces one by external id (`PUT`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMember {
    /// The HR system's id, unique in the organization. In a PUT it may be left out; when given
    /// it must equal the path's.
    #[schema(min_length = 1, max_length = 255)]
    pub external_id: Option<String>,
    /// How colleagues and clients know them, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    /// Work email.
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// Their role.
    pub role: MemberRole,
    /// Their team.
    pub team_id: Option<Uuid>,
    /// Whom they report to.
    pub manager_id: Option<Uuid>,
    /// What they are good at: up to 20, each 1–60 characters, no repeats.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub strengths: Vec<String>,
    /// Defaults to true.
    pub active: Option<bool>,
}

/// Changes to a member; absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    /// The HR system's id, or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255)]
    pub external_id: Option<Option<String>>,
    /// Display name, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: Option<String>,
    /// Work email, or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 254)]
    pub email: Option<Option<String>>,
    /// Role.
    pub role: Option<MemberRole>,
    /// Team, or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    /// Manager, or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
    /// Strengths (replaces the list): up to 20, each 1–60 characters, no repeats.
    #[schema(max_items = 20)]
    pub strengths: Option<Vec<String>>,
    /// `false` deactivates the member, `true` reactivates them.
    pub active: Option<bool>,
}

/// A member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// The member's id; the `sub` of their tokens.
    pub id: Uuid,
    /// The HR system's id. Left out for staff callers, except on their own record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// Display name.
    pub display_name: String,
    /// Work email. Left out for staff callers, except on their own record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Role.
    pub role: MemberRole,
    /// Team.
    pub team_id: Option<Uuid>,
    /// Manager.
    pub manager_id: Option<Uuid>,
    /// Strengths.
    pub strengths: Vec<String>,
    /// Whether the member is active.
    pub active: bool,
    /// Changes with every update; send it back in `If-Match`.
    pub version: i64,
    /// When the member was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the member last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// How much of a member a caller may see: staff see their colleagues' names, roles, teams and
/// managers, but not how to reach them outside work or the HR system's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everything.
    Full,
    /// Contact details and HR ids only on the caller's own record.
    Colleague(Option<MemberId>),
}

impl Visibility {
    /// What `caller` may see.
    pub fn of(caller: &Caller) -> Self {
        match caller.principal.role() {
            Role::Staff => Self::Colleague(caller.member()),
            _ => Self::Full,
        }
    }

    fn shows_contact_of(self, member: MemberId) -> bool {
        match self {
            Self::Full => true,
            Self::Colleague(me) => me == Some(member),
        }
    }
}

impl MemberView {
    /// `m` as a caller with `visibility` sees it.
    pub fn shown(m: Member, visibility: Visibility) -> Self {
        let contact = visibility.shows_contact_of(m.id);
        Self {
            id: m.id.as_uuid(),
            external_id: contact.then_some(m.external_id),
            display_name: m.display_name,
            email: contact.then_some(m.email),
            role: m.role,
            team_id: m.team_id.map(|id| id.as_uuid()),
            manager_id: m.manager_id.map(|id| id.as_uuid()),
            strengths: m.strengths,
            active: m.active,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A page of members.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberList {
    /// This page's items.
    pub items: Vec<MemberView>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging for members.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMembers {
    /// Only members of this team.
    pub team_id: Option<Uuid>,
    /// Only members reporting directly to this manager.
    pub manager_id: Option<Uuid>,
    /// Only active (`true`) or deactivated (`false`) members.
    pub active: Option<bool>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

impl CreateMember {
    fn into_domain(self) -> Result<MemberFields, ApiError> {
        Ok(MemberFields::parse(RawMemberFields {
            external_id: self.external_id.as_deref(),
            display_name: &self.display_name,
            email: self.email.as_deref(),
            role: self.role,
            team_id: self.team_id.map(TeamId::from_uuid),
            manager_id: self.manager_id.map(MemberId::from_uuid),
            strengths: &self.strengths,
            active: self.active,
        })?)
    }
}

impl UpdateMember {
    fn into_domain(self) -> Result<MemberPatch, ApiError> {
        Ok(MemberPatch::parse(RawMemberPatch {
            external_id: self.external_id.as_ref().map(Option::as_deref),
            display_name: self.display_name.as_deref(),
            email: self.email.as_ref().map(Option::as_deref),
            role: self.role,
            team_id: self.team_id.map(|t| t.map(TeamId::from_uuid)),
            manager_id: self.manager_id.map(|m| m.map(MemberId::from_uuid)),
            strengths: self.strengths.as_deref(),
            active: self.active,
        })?)
    }
}

/// Create a member.
#[utoipa::path(
    tag = "members",
    request_body = CreateMember,
    responses(
        (status = 201, description = "The member", body = MemberView, headers(("Location" = String), ("ETag" = String))),
        (status = 409, description = "The external id is taken", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/members")]
pub async fn create_member(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<CreateMember>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDirectory)?;
    let fields = body.into_inner().into_domain()?;
    let shown = Visibility::of(&caller);
    write(
        &state,
        &caller,
        key,
        move |tx| tx.members().create(org, fields),
        move |member| {
            Answer::created(
                format!("/v1/members/{}", member.id),
                member.version,
                &MemberView::shown(member, shown),
            )
        },
    )
    .await
}

/// List members, oldest first.
#[utoipa::path(tag = "members", params(ListMembers), responses((status = 200, description = "A page of members", body = MemberList)))]
#[get("/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListMembers>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDirectory)?;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let filter = MemberFilter {
        team_id: query.team_id.map(TeamId::from_uuid),
        manager_id: query.manager_id.map(MemberId::from_uuid),
        active: query.active,
    };
    let members = read(&state, &caller, move |db| {
        db.members().list(org, filter, page)
    })
    .await?;
    let shown = Visibility::of(&caller);
    Ok(HttpResponse::Ok().json(MemberList {
        next_cursor: members.next_after.map(encode_cursor),
        items: members
            .items
            .into_iter()
            .map(|m| MemberView::shown(m, shown))
            .collect(),
    }))
}

/// Get a member.
#[utoipa::path(
    tag = "members",
    params(("id" = Uuid, Path, description = "The member's id")),
    responses((status = 200, description = "The member", body = MemberView, headers(("ETag" = String)))),
)]
#[get("/members/{id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ReadDirectory)?;
    let id = MemberId::from_uuid(id.into_inner());
    let member = read(&state, &caller, move |db| db.members().get(org, id)).await?;
    Ok(with_etag(
        StatusCode::OK,
        member.version,
        &MemberView::shown(member, Visibility::of(&caller)),
    ))
}

/// Change a member; `{"active": false}` deactivates them.
///
/// A manager change that would make the member report to themselves, directly or through
/// others, is refused with 422.
#[utoipa::path(
    tag = "members",
    params(("id" = Uuid, Path, description = "The member's id")),
    request_body = UpdateMember,
    responses(
        (status = 200, description = "The updated member", body = MemberView, headers(("ETag" = String))),
        (status = 409, description = "The external id is taken", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/members/{id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateMember>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDirectory)?;
    let patch = body.into_inner().into_domain()?;
    let id = MemberId::from_uuid(id.into_inner());
    let shown = Visibility::of(&caller);
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| tx.members().update(org, id, &if_match.0, patch),
        move |member| {
            Answer::with_etag(
                StatusCode::OK,
                member.version,
                &MemberView::shown(member, shown),
            )
        },
    )
    .await
}

/// Create or replace the member an HR system knows by `external_id`.
///
/// Answers 201 when the member is new and 200 when an existing one was replaced; fields left out
/// of the body take their defaults, as with any PUT.
#[utoipa::path(
    tag = "members",
    params(("external_id" = String, Path, description = "The HR system's id for the member")),
    request_body = CreateMember,
    responses(
        (status = 200, description = "The replaced member", body = MemberView, headers(("ETag" = String))),
        (status = 201, description = "The new member", body = MemberView, headers(("Location" = String), ("ETag" = String))),
    ),
)]
#[put("/members/external/{external_id}")]
pub async fn upsert_member_by_external_id(
    state: web::Data<AppState>,
    caller: Caller,
    external_id: web::Path<String>,
    if_match: IfMatch,
    body: Json<CreateMember>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::WriteDirectory)?;
    let (external_id, mut body) = (external_id.into_inner(), body.into_inner());
    if body
        .external_id
        .as_ref()
        .is_some_and(|given| *given != external_id)
    {
        return Err(
            DomainError::invalid("external_id", "must equal the external id in the path").into(),
        );
    }
    body.external_id = Some(external_id);
    let fields = body.into_domain()?;
    let shown = Visibility::of(&caller);
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| tx.members().upsert_by_external_id(org, fields, &if_match.0),
        move |(member, outcome)| {
            let (version, location) = (member.version, format!("/v1/members/{}", member.id));
            let view = MemberView::shown(member, shown);
            match outcome {
                Upserted::Created => Answer::created(location, version, &view),
                Upserted::Replaced => Answer::with_etag(StatusCode::OK, version, &view),
            }
        },
    )
    .await
}
