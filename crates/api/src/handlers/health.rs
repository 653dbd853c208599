//! Operational endpoints: liveness, readiness and metrics. No authentication: load balancers and
//! Prometheus call them.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::http::problem::Problem;
use crate::state::{AppState, blocking};

pub(super) fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_health)
        .service(get_readiness)
        .service(get_metrics);
}

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// Liveness: the process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = HealthView)), security(()))]
#[get("/healthz")]
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok().json(HealthView { status: "ok" })
}

/// How long readiness may take to decide: load balancers probe with short timeouts.
const READINESS_DEADLINE: Duration = Duration::from_secs(1);

/// Readiness: a request could be served now. A connection is free within a second and the
/// database answers; on SQLite, the write lock could be taken.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = HealthView),
        (status = 503, description = "The database is unreachable, locked or out of connections", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait before asking again"))),
    ),
    security(()),
)]
#[get("/readyz")]
pub async fn get_readiness(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    blocking(&state, |db| db.check_ready(READINESS_DEADLINE)).await?;
    Ok(HttpResponse::Ok().json(HealthView { status: "ready" }))
}

/// Request counts and latency histograms in the Prometheus text format.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain; version=0.0.4")),
    security(()),
)]
#[get("/metrics")]
pub async fn get_metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
