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
    self, Member, MemberFields, MemberPatch, MemberRole, RawMemberFields, RawMemberPatch,
};
use circulo_domain::principal::{Permission, Role};
use circulo_domain::text::MAX_EMAIL_CHARS;
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
use crate::http::query::Query;
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{
    ChangeProblems, CreateProblems, ListProblems, ReadProblems, UpsertProblems,
};
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
#[schema(examples(json!({
    "external_id": "hr-1042",
    "display_name": "Ana García",
    "email": "ana.garcia@example.com",
    "role": "staff",
    "strengths": ["refunds", "Spanish"]
})))]
pub struct CreateMember {
    /// The HR system's id for the member, unique in the organization. A PUT may leave it out;
    /// when it gives one, it must equal the path's.
    pub external_id: Option<String>,
    /// How colleagues and clients know the member. One line, without control characters.
    pub display_name: String,
    /// The member's work email: one `@` with text on both sides, no spaces.
    pub email: Option<String>,
    /// What the member does in the organization.
    pub role: MemberRole,
    /// The id of the team the member works in.
    pub team_id: Option<Uuid>,
    /// The id of the member this one reports to. Nobody may report to themselves, directly or
    /// through others.
    pub manager_id: Option<Uuid>,
    /// What the member is good at, each named once; none when left out.
    #[serde(default)]
    pub strengths: Vec<String>,
    /// Whether the member may act; `true` when left out.
    pub active: Option<bool>,
}

/// Changes to a member: fields left out stay as they are, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"team_id": null, "strengths": ["refunds", "Spanish", "wine"]})))]
pub struct UpdateMember {
    /// The HR system's id for the member, unique in the organization, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// How colleagues and clients know the member.
    pub display_name: Option<String>,
    /// The member's work email, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// What the member does in the organization.
    pub role: Option<MemberRole>,
    /// The id of the member's team, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub team_id: Option<Option<Uuid>>,
    /// The id of the member this one reports to, or `null` for no one; a change that would make
    /// the member report to themselves, directly or through others, is refused.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub manager_id: Option<Option<Uuid>>,
    /// The member's strengths, replacing the whole list.
    pub strengths: Option<Vec<String>>,
    /// `false` deactivates the member (their tokens are refused from then on), `true`
    /// reactivates them.
    pub active: Option<bool>,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    let strengths = Limit::Strings {
        items: member::MAX_STRENGTHS,
        chars: member::MAX_STRENGTH_CHARS,
    };
    bounds! {
        CreateMember {
            external_id: Limit::Chars(member::MAX_EXTERNAL_ID_CHARS),
            display_name: Limit::Chars(member::MAX_DISPLAY_NAME_CHARS),
            email: Limit::Chars(MAX_EMAIL_CHARS),
            strengths: strengths.clone(),
        },
        UpdateMember {
            external_id: Limit::Chars(member::MAX_EXTERNAL_ID_CHARS),
            display_name: Limit::Chars(member::MAX_DISPLAY_NAME_CHARS),
            email: Limit::Chars(MAX_EMAIL_CHARS),
            strengths: strengths,
        },
    }
}

/// A member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// The member's id, assigned by the server; the `sub` of the member's tokens.
    pub id: Uuid,
    /// The HR system's id for the member. Left out for staff callers, except on their own record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// How colleagues and clients know the member.
    pub display_name: String,
    /// The member's work email. Left out for staff callers, except on their own record.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// What the member does in the organization.
    pub role: MemberRole,
    /// The id of the member's team, or `null`.
    pub team_id: Option<Uuid>,
    /// The id of the member this one reports to, or `null`.
    pub manager_id: Option<Uuid>,
    /// What the member is good at.
    pub strengths: Vec<String>,
    /// Whether the member may act; a deactivated member's tokens are refused.
    pub active: bool,
    /// The member's version, raised by every change; the `ETag` carries it for `If-Match`.
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
            version: m.revision.version,
            created_at: m.revision.created_at,
            updated_at: m.revision.updated_at,
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
    /// Only members of the team with this id.
    pub team_id: Option<Uuid>,
    /// Only members who report directly to the member with this id.
    pub manager_id: Option<Uuid>,
    /// Only active (`true`) or only deactivated (`false`) members.
    pub active: Option<bool>,
    /// How many members to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
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
    params(IdempotencyKey),
    request_body = CreateMember,
    responses(
        CreateProblems,
        (status = 201, description = "The new member", body = MemberView,
            headers(("Location" = String, description = "The member's URL"), ("ETag" = String, description = "The member's version"))),
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
                member.revision.version,
                &MemberView::shown(member, shown),
            )
        },
    )
    .await
}

/// List members, oldest first.
#[utoipa::path(
    tag = "members",
    params(ListMembers),
    responses(ListProblems, (status = 200, description = "A page of members", body = MemberList)),
)]
#[get("/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListMembers>,
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
    responses(
        ReadProblems,
        (status = 200, description = "The member", body = MemberView,
            headers(("ETag" = String, description = "The member's version"))),
    ),
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
        member.revision.version,
        &MemberView::shown(member, Visibility::of(&caller)),
    ))
}

/// Change a member; `{"active": false}` deactivates them.
///
/// A manager change that would make the member report to themselves, directly or through
/// others, is refused with 422.
#[utoipa::path(
    tag = "members",
    params(("id" = Uuid, Path, description = "The member's id"), IfMatch),
    request_body = UpdateMember,
    responses(
        ChangeProblems,
        (status = 200, description = "The changed member", body = MemberView,
            headers(("ETag" = String, description = "The member's new version"))),
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
                member.revision.version,
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
    params(("external_id" = String, Path, description = "The HR system's id for the member"), IfMatch),
    request_body = CreateMember,
    responses(
        UpsertProblems,
        (status = 200, description = "The replaced member", body = MemberView,
            headers(("ETag" = String, description = "The member's new version"))),
        (status = 201, description = "The new member", body = MemberView,
            headers(("Location" = String, description = "The member's URL"), ("ETag" = String, description = "The member's version"))),
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
            let (version, location) = (
                member.revision.version,
                format!("/v1/members/{}", member.id),
            );
            let view = MemberView::shown(member, shown);
            match outcome {
                Upserted::Created => Answer::created(location, version, &view),
                Upserted::Replaced => Answer::with_etag(StatusCode::OK, version, &view),
            }
        },
    )
    .await
}
