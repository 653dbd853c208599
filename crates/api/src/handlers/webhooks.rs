//! Webhook subscriptions (owners, `webhooks:manage`): create (the secret shown once), list,
//! get, change, delete, rotate the secret; and each subscription's delivery log with manual
//! retry. Delivery itself is `crate::webhooks`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use circulo_domain::principal::Permission;
use circulo_domain::timestamp::{rfc3339, rfc3339_opt};
use circulo_domain::webhook::{
    self, Delivery, DeliveryStatus, EventType, RawWebhookFields, RawWebhookPatch, Webhook,
    WebhookFields, WebhookPatch,
};
use circulo_domain::{WebhookDeliveryId, WebhookId};

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
    ActionProblems, ChangeProblems, CreateProblems, DeleteProblems, ListProblems,
    ListUnderProblems, ReadProblems,
};
use crate::state::{AppState, read};
use crate::webhooks::signing::new_secret;
use crate::webhooks::target::check_url;
use crate::write::{Answer, write};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(list_webhook_deliveries)
        .service(retry_webhook_delivery);
}

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "url": "https://crm.example.com/hooks/circulo",
    "events": ["score.detractor", "decision.escalated"],
    "description": "Call back unhappy clients today"
})))]
pub struct CreateWebhook {
    /// Where deliveries are POSTed: an `https` URL whose host resolves to public addresses only.
    pub url: String,
    /// The events to receive: at least one of the catalogue's names.
    pub events: Vec<String>,
    /// What the subscription is for. One line, without control characters.
    pub description: Option<String>,
}

/// Changes to a subscription: fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"enabled": true})))]
pub struct UpdateWebhook {
    /// A new URL, checked as on create.
    pub url: Option<String>,
    /// The events to receive from now on.
    pub events: Option<Vec<String>>,
    /// A new description, or `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// `false` stops deliveries; `true` resumes them (and clears `disabled_reason`).
    pub enabled: Option<bool>,
}

/// What the server accepts in the bodies above.
pub(super) fn limits() -> Vec<Bound> {
    bounds! {
        CreateWebhook {
            url: Limit::Chars(webhook::MAX_URL_CHARS),
            description: Limit::Chars(webhook::MAX_DESCRIPTION_CHARS),
        },
        UpdateWebhook {
            url: Limit::Chars(webhook::MAX_URL_CHARS),
            description: Limit::Chars(webhook::MAX_DESCRIPTION_CHARS),
        },
    }
}

/// A subscription. Its secret is never shown again after create and rotate.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// The subscription's id.
    pub id: Uuid,
    /// Where deliveries go.
    pub url: String,
    /// The events it receives.
    pub events: Vec<EventType>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether events are delivered to it.
    pub enabled: bool,
    /// Why Circulo disabled it (every delivery failed for 24 hours), or `null`.
    pub disabled_reason: Option<String>,
    /// Its version; the `ETag` carries it for `If-Match`.
    pub version: i64,
    /// When it was created.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(h: Webhook) -> Self {
        Self {
            id: h.id.as_uuid(),
            url: h.url,
            events: h.events,
            description: h.description,
            enabled: h.enabled,
            disabled_reason: h.disabled_reason,
            version: h.revision.version,
            created_at: h.revision.created_at,
            updated_at: h.revision.updated_at,
        }
    }
}

/// A subscription with the secret that signs its deliveries: shown on create and on rotate
/// only.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    /// The subscription.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `whsec_` and the base64 of 32 random bytes: verify each delivery's `webhook-signature`
    /// with it (Standard Webhooks). Keep it: it is not shown again.
    pub secret: String,
    /// After a rotation, until when the previous secret also signs deliveries; else `null`.
    #[serde(serialize_with = "rfc3339_opt")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// One event's delivery to the subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// The delivery's id.
    pub id: Uuid,
    /// The subscription.
    pub webhook_id: Uuid,
    /// The event's id, sent as `webhook-id` on every attempt.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// `pending` (waiting or being attempted), `succeeded`, or `failed` (retried for 24 hours
    /// without success).
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the last attempt was made.
    #[serde(serialize_with = "rfc3339_opt")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status the receiver last answered with.
    pub last_response_code: Option<i32>,
    /// The first 200 characters of the receiver's last answer.
    pub last_response_excerpt: Option<String>,
    /// What went wrong with the last attempt.
    pub last_error: Option<String>,
    /// While pending, when the next attempt is due.
    #[serde(serialize_with = "rfc3339_opt")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the event was handed to this subscription.
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.as_uuid(),
            webhook_id: d.webhook_id.as_uuid(),
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_attempt_at: d.last_attempt_at,
            last_response_code: d.last_response_code,
            last_response_excerpt: d.last_response_excerpt,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
        }
    }
}

list_view!(
    /// A page of subscriptions.
    WebhookList of WebhookView
);

list_view!(
    /// A page of deliveries.
    DeliveryList of DeliveryView
);

/// Paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooks {
    /// How many to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Paging through a subscription's deliveries.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// Only the deliveries in this status.
    pub status: Option<DeliveryStatus>,
    /// How many to return at most.
    pub limit: Option<u32>,
    /// The previous page's `next_cursor`, to read the page after it.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

/// Subscribe an endpoint to events.
#[utoipa::path(
    tag = "webhooks",
    params(IdempotencyKey),
    request_body = CreateWebhook,
    responses(
        CreateProblems,
        (status = 201, description = "The subscription, with its secret (shown only now)", body = WebhookWithSecret,
            headers(("Location" = String, description = "The subscription's URL"), ("ETag" = String, description = "Its version"))),
    ),
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    body: Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let reach = state.webhooks.reachability();
    let fields = WebhookFields::parse(
        RawWebhookFields {
            url: &body.url,
            events: &body.events,
            description: body.description.as_deref(),
        },
        reach,
    )?;
    check_url(fields.url(), reach.allow_private).await?;
    let secret = new_secret();
    write(
        &state,
        &caller,
        key,
        move |tx| {
            tx.webhooks()
                .create(org, fields, &secret)
                .map(|h| (h, secret))
        },
        |(hook, secret)| {
            Answer::created(
                format!("/v1/webhooks/{}", hook.id),
                hook.revision.version,
                &WebhookWithSecret {
                    webhook: WebhookView::from(hook),
                    secret,
                    previous_secret_expires_at: None,
                },
            )
        },
    )
    .await
}

/// List subscriptions, oldest first.
#[utoipa::path(
    tag = "webhooks",
    params(ListWebhooks),
    responses(ListProblems, (status = 200, description = "A page of subscriptions", body = WebhookList)),
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    query: Query<ListWebhooks>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let hooks = read(&state, &caller, move |db| db.webhooks().list(org, page)).await?;
    Ok(HttpResponse::Ok().json(WebhookList::from_page(hooks)))
}

/// Get a subscription.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id")),
    responses(
        ReadProblems,
        (status = 200, description = "The subscription", body = WebhookView,
            headers(("ETag" = String, description = "Its version"))),
    ),
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let id = WebhookId::from_uuid(id.into_inner());
    let hook = read(&state, &caller, move |db| db.webhooks().get(org, id)).await?;
    Ok(with_etag(
        StatusCode::OK,
        hook.revision.version,
        &WebhookView::from(hook),
    ))
}

/// Change a subscription's URL, events or description, or turn it off and on.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id"), IfMatch),
    request_body = UpdateWebhook,
    responses(
        ChangeProblems,
        (status = 200, description = "The changed subscription", body = WebhookView,
            headers(("ETag" = String, description = "Its new version"))),
    ),
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let reach = state.webhooks.reachability();
    let patch = WebhookPatch::parse(
        RawWebhookPatch {
            url: body.url.as_deref(),
            events: body.events.as_deref(),
            description: body.description.as_ref().map(Option::as_deref),
            enabled: body.enabled,
        },
        reach,
    )?;
    if let Some(url) = patch.url() {
        check_url(url, reach.allow_private).await?;
    }
    let id = WebhookId::from_uuid(id.into_inner());
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| tx.webhooks().update(org, id, &if_match.0, patch),
        |hook| {
            Answer::with_etag(
                StatusCode::OK,
                hook.revision.version,
                &WebhookView::from(hook),
            )
        },
    )
    .await
}

/// Delete a subscription and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id"), IfMatch),
    responses(DeleteProblems, (status = 204, description = "The subscription is gone")),
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let id = WebhookId::from_uuid(id.into_inner());
    write(
        &state,
        &caller,
        IdempotencyKey::default(),
        move |tx| tx.webhooks().delete(org, id, &if_match.0),
        |()| Answer::no_content(),
    )
    .await
}

/// Replace the signing secret. The new one is shown now, once; the old one keeps signing beside
/// it for 24 hours (each delivery then carries both signatures), so receivers can switch over.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id"), IdempotencyKey),
    responses(
        ActionProblems,
        (status = 200, description = "The subscription with its new secret", body = WebhookWithSecret,
            headers(("ETag" = String, description = "Its new version"))),
    ),
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    key: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let id = WebhookId::from_uuid(id.into_inner());
    let secret = new_secret();
    write(
        &state,
        &caller,
        key,
        move |tx| {
            tx.webhooks()
                .rotate_secret(org, id, &secret)
                .map(|(hook, until)| (hook, secret, until))
        },
        |(hook, secret, until)| {
            Answer::with_etag(
                StatusCode::OK,
                hook.revision.version,
                &WebhookWithSecret {
                    webhook: WebhookView::from(hook),
                    secret,
                    previous_secret_expires_at: Some(until),
                },
            )
        },
    )
    .await
}

/// The subscription's deliveries, oldest first: where each stands, how many attempts it took,
/// and what the receiver last answered.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "The subscription's id"), ListDeliveries),
    responses(ListUnderProblems, (status = 200, description = "A page of deliveries", body = DeliveryList)),
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<ListDeliveries>,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let page = page_request(query.limit, query.cursor.as_deref())?;
    let id = WebhookId::from_uuid(id.into_inner());
    let status = query.status;
    let deliveries = read(&state, &caller, move |db| {
        db.webhooks().deliveries(org, id, status, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(DeliveryList::from_page(deliveries)))
}

/// Deliver again now, and retry afresh for 24 hours if that fails: a delivery that failed, one
/// waiting for its next attempt, or one that succeeded (sent again). The same event id and body
/// are sent; receivers drop repeats by `webhook-id`. The subscription must be enabled.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "The subscription's id"),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
        IdempotencyKey,
    ),
    responses(
        ActionProblems,
        (status = 202, description = "The delivery, due now", body = DeliveryView),
    ),
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_webhook_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
) -> Result<HttpResponse, ApiError> {
    let org = caller.principal.authorize(Permission::ManageWebhooks)?;
    let (hook, delivery) = path.into_inner();
    let hook = WebhookId::from_uuid(hook);
    let delivery = WebhookDeliveryId::from_uuid(delivery);
    let window = chrono::TimeDelta::from_std(state.webhooks.retry.give_up_after)
        .unwrap_or(chrono::TimeDelta::MAX);
    write(
        &state,
        &caller,
        key,
        move |tx| {
            let until = tx.now() + window;
            tx.webhooks().retry_delivery(org, hook, delivery, until)
        },
        |delivery| Answer::with_status(StatusCode::ACCEPTED, &DeliveryView::from(delivery)),
    )
    .await
}
