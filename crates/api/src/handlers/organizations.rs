//! Organizations: created by a platform admin; read and tuned by their owner.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::organization::{
    Organization, OrganizationFields, OrganizationPatch, RawLowScoreThresholds,
    RawOrganizationFields, RawOrganizationPatch,
};
use circulo_domain::principal::Permission;
use circulo_domain::timestamp::rfc3339;

use super::respond::with_etag;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::idempotency::IdempotencyKey;
use crate::http::json::Json;
use crate::http::problem::Problem;
use crate::state::{AppState, read};
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_organization)
        .service(get_organization)
        .service(update_organization);
}

/// A new organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganization {
    /// Display name, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// ISO 4217 code of the currency money is kept in.
    #[schema(example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// IANA time zone that dates are read in.
    #[schema(example = "Europe/Madrid", min_length = 1)]
    pub timezone: String,
}

/// Which satisfaction scores count as low (`score.detractor`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LowScoreThresholdsBody {
    /// A CSAT (1–5) at or below this is low (1–4, default 2).
    #[schema(minimum = 1, maximum = 4)]
    pub csat_at_most: i64,
    /// An NPS answer (0–10) at or below this is low (0–9, default 6).
    #[schema(minimum = 0, maximum = 9)]
    pub nps_at_most: i64,
    /// A CES (1–7) at or above this is low (2–7, default 5).
    #[schema(minimum = 2, maximum = 7)]
    pub ces_at_least: i64,
}

/// Changes to the organization; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganization {
    /// Display name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// IANA time zone.
    #[schema(min_length = 1)]
    pub timezone: Option<String>,
    /// Anonymous feedback shows only from this many items on (at least 3).
    #[schema(minimum = 3, maximum = 1000)]
    pub anonymity_threshold: Option<i64>,
    /// Minutes within which an escalation should be answered (1–10080).
    #[schema(minimum = 1, maximum = 10080)]
    pub escalation_response_target_minutes: Option<i64>,
    /// Which scores count as low.
    pub low_score_thresholds: Option<LowScoreThresholdsBody>,
}

/// An organization and its settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    /// The organization's id (the `org` claim of its tokens).
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// ISO 4217 currency code.
    pub currency: String,
    /// IANA time zone.
    pub timezone: String,
    /// Minimum number of anonymous items before any is shown.
    pub anonymity_threshold: i32,
    /// Minutes within which an escalation should be answered.
    pub escalation_response_target_minutes: i32,
    /// Which scores count as low.
    pub low_score_thresholds: LowScoreThresholdsBody,
    /// Changes with every update; send it back in `If-Match`.
    pub version: i64,
    /// When the organization was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationView {
    fn from(o: Organization) -> Self {
        let t = o.settings.low_score_thresholds;
        Self {
            id: o.id.as_uuid(),
            name: o.name,
            currency: o.currency.as_str().to_owned(),
            timezone: o.timezone.name().to_owned(),
            anonymity_threshold: o.settings.anonymity_threshold,
            escalation_response_target_minutes: o.settings.escalation_response_target_minutes,
            low_score_thresholds: LowScoreThresholdsBody {
                csat_at_most: t.csat_at_most.into(),
                nps_at_most: t.nps_at_most.into(),
                ces_at_least: t.ces_at_least.into(),
            },
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

impl UpdateOrganization {
    fn into_domain(self) -> Result<OrganizationPatch, ApiError> {
        Ok(OrganizationPatch::parse(RawOrganizationPatch {
            name: self.name.as_deref(),
            timezone: self.timezone.as_deref(),
            anonymity_threshold: self.anonymity_threshold,
            escalation_response_target_minutes: self.escalation_response_target_minutes,
            low_score_thresholds: self.low_score_thresholds.map(|t| RawLowScoreThresholds {
                csat_at_most: t.csat_at_most,
                nps_at_most: t.nps_at_most,
                ces_at_least: t.ces_at_least,
            }),
        })?)
    }
}

/// Create an organization.
///
/// Only a `platform_admin` may create organizations. Settings start at their defaults; the
/// owner tunes them with `PATCH /v1/organization`.
#[utoipa::path(
    tag = "organizations",
    request_body = CreateOrganization,
    responses(
        (status = 201, description = "The organization", body = OrganizationView,
            headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/organizations")]
pub async fn create_organization(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<CreateOrganization>,
) -> Result<HttpResponse, ApiError> {
    caller.principal.require(Permission::CreateOrganization)?;
    let fields = OrganizationFields::parse(RawOrganizationFields {
        name: &body.name,
        currency: &body.currency,
        timezone: &body.timezone,
    })?;
    write(
        &state,
        &caller,
        key,
        move |tx| tx.organizations().create(fields),
        |org| {
            Answer::created(
                "/v1/organization".to_owned(),
                org.version,
                &OrganizationView::from(org),
            )
        },
    )
    .await
}

/// Get the caller's organization.
#[utoipa::path(
    tag = "organizations",
    responses(
        (status = 200, description = "The organization", body = OrganizationView,
            headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 404, description = "The token's organization does not exist", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/organization")]
pub async fn get_organization(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let org_id = caller.principal.authorize(Permission::ManageOrganization)?;
    let org = read(&state, &caller, move |db| db.organizations().get(org_id)).await?;
    Ok(with_etag(
        StatusCode::OK,
        org.version,
        &OrganizationView::from(org),
    ))
}

/// Change the caller's organization's name, time zone or settings.
#[utoipa::path(
    tag = "organizations",
    request_body = UpdateOrganization,
    responses(
        (status = 200, description = "The updated organization", body = OrganizationView,
            headers(("ETag" = String, description = "The new version"))),
        (status = 404, description = "The token's organization does not exist", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/organization")]
pub async fn update_organization(
    state: web::Data<AppState>,
    caller: Caller,
    if_match: IfMatch,
    body: Json<UpdateOrganization>,
) -> Result<HttpResponse, ApiError> {
    let org_id = caller.principal.authorize(Permission::ManageOrganization)?;
    let patch = body.into_inner().into_domain()?;
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| tx.organizations().update(org_id, &if_match.0, patch),
        |org| Answer::with_etag(StatusCode::OK, org.version, &OrganizationView::from(org)),
    )
    .await
}
