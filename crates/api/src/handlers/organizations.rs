//! Organizations: created by a platform admin; read and tuned by their owner.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::organization::{
    self, Organization, OrganizationFields, OrganizationPatch, RawLowScoreThresholds,
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
use crate::openapi::limits::{Bound, Limit, bounds};
use crate::openapi::problems::{ChangeProblems, CreateProblems, ReadProblems};
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
#[schema(examples(json!({"name": "Café Sol", "currency": "EUR", "timezone": "Europe/Madrid"})))]
pub struct CreateOrganization {
    /// What the organization is called. One line, without control characters.
    pub name: String,
    /// The ISO 4217 code of the currency the organization's amounts are kept in, in upper case.
    /// It cannot change later: amounts recorded in it would change meaning.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// The IANA time zone the organization's dates are read in: a date in a query means
    /// midnight there.
    pub timezone: String,
}

/// Which satisfaction scores count as low enough to act on at once (`score.detractor`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LowScoreThresholdsBody {
    /// A CSAT score (1–5) at or below this is low; 2 unless changed.
    pub csat_at_most: i64,
    /// An NPS answer (0–10) at or below this is low; 6 unless changed (the detractors).
    pub nps_at_most: i64,
    /// A CES score (1–7) at or above this is low; 5 unless changed.
    pub ces_at_least: i64,
}

/// Changes to the organization: fields left out stay as they are. The currency never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"anonymity_threshold": 7, "low_score_thresholds": {"csat_at_most": 2, "nps_at_most": 6, "ces_at_least": 5}})))]
pub struct UpdateOrganization {
    /// What the organization is called.
    pub name: Option<String>,
    /// The IANA time zone the organization's dates are read in.
    pub timezone: Option<String>,
    /// Anonymous feedback about someone is shown only once there are at least this many items,
    /// so no single answer can be traced to its author.
    pub anonymity_threshold: Option<i64>,
    /// Minutes within which an escalation should be answered.
    pub escalation_response_target_minutes: Option<i64>,
    /// Which scores count as low, all three together.
    pub low_score_thresholds: Option<LowScoreThresholdsBody>,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    bounds! {
        CreateOrganization { name: Limit::Chars(organization::MAX_NAME_CHARS) },
        UpdateOrganization {
            name: Limit::Chars(organization::MAX_NAME_CHARS),
            anonymity_threshold: Limit::Integer(organization::ANONYMITY_THRESHOLD),
            escalation_response_target_minutes:
                Limit::Integer(organization::ESCALATION_RESPONSE_TARGET_MINUTES),
        },
        LowScoreThresholdsBody {
            csat_at_most: Limit::Integer(organization::CSAT_AT_MOST),
            nps_at_most: Limit::Integer(organization::NPS_AT_MOST),
            ces_at_least: Limit::Integer(organization::CES_AT_LEAST),
        },
    }
}

/// An organization and its settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    /// The organization's id, assigned by the server: the `org` claim of its tokens.
    pub id: Uuid,
    /// What the organization is called.
    pub name: String,
    /// The ISO 4217 code of the currency its amounts are kept in.
    pub currency: String,
    /// The IANA time zone its dates are read in.
    pub timezone: String,
    /// How many anonymous feedback items about someone must exist before any is shown.
    pub anonymity_threshold: i32,
    /// Minutes within which an escalation should be answered.
    pub escalation_response_target_minutes: i32,
    /// Which scores count as low.
    pub low_score_thresholds: LowScoreThresholdsBody,
    /// The organization's version, raised by every change; the `ETag` carries it for
    /// `If-Match`.
    pub version: i64,
    /// When the organization was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the organization or its settings last changed.
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
            version: o.revision.version,
            created_at: o.revision.created_at,
            updated_at: o.revision.updated_at,
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
    params(IdempotencyKey),
    request_body = CreateOrganization,
    responses(
        CreateProblems,
        (status = 201, description = "The new organization", body = OrganizationView,
            headers(("Location" = String, description = "Where its owner reads it"), ("ETag" = String, description = "The organization's version"))),
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
                org.revision.version,
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
        ReadProblems,
        (status = 200, description = "The organization", body = OrganizationView,
            headers(("ETag" = String, description = "The organization's version"))),
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
        org.revision.version,
        &OrganizationView::from(org),
    ))
}

/// Change the caller's organization's name, time zone or settings.
#[utoipa::path(
    tag = "organizations",
    params(IfMatch),
    request_body = UpdateOrganization,
    responses(
        ChangeProblems,
        (status = 200, description = "The changed organization", body = OrganizationView,
            headers(("ETag" = String, description = "The organization's new version"))),
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
        |org| {
            Answer::with_etag(
                StatusCode::OK,
                org.revision.version,
                &OrganizationView::from(org),
            )
        },
    )
    .await
}
