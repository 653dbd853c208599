//! The OpenAPI 3.1 document, built from the same route table the server serves. Every route
//! declares its own responses and headers (see [`problems`] and [`headers`]); this module adds
//! only what belongs to the document as a whole: the bearer scheme every operation requires
//! unless it says otherwise, and the limits the validators' constants set.

mod headers;
pub(crate) mod limits;
pub mod problems;
mod webhooks;

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::handlers::{bounds, routes};
use crate::http::problem::{FieldProblem, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Circulo API",
        description = "Goals, delegated authority, decisions, escalations, feedback and satisfaction \
            for businesses whose staff serve clients well without the owner in every conversation.\n\n\
            Conventions: JSON in and out; errors are RFC 9457 problem+json; lists page with \
            `limit` and `cursor`; creating POSTs accept `Idempotency-Key`; mutable resources \
            carry `version`, sent as `ETag` and checked through `If-Match`; every response \
            carries `X-Request-Id`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerScheme),
    security(("bearer" = [])),
    components(schemas(Problem, FieldProblem)),
    tags(
        (name = "organizations", description = "Tenants and their settings"),
        (name = "teams", description = "Groups of members"),
        (name = "members", description = "The people who serve clients"),
        (name = "goals", description = "Clear, measurable goals and their check-ins"),
        (name = "feedback", description = "Feedback in every direction, anonymous where asked"),
        (name = "delegations", description = "Authority with limits, and what remains of it"),
        (name = "decisions", description = "Decisions at the counter: the accountability log"),
        (name = "escalations", description = "Decisions waiting for someone who may make them"),
        (name = "satisfaction-scores", description = "How clients and employees rate the service and the workplace"),
        (name = "reports", description = "Satisfaction, the mirror, empowerment and goals, each in one aggregate"),
        (name = "webhooks", description = "Circulo calls the other systems: subscriptions, signed deliveries and their log"),
        (name = "audit", description = "Who changed what, and when"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
)]
struct ApiDoc;

/// `Authorization: Bearer <JWT>`, required by every operation that does not opt out.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        api.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "A JWT whose `org` claim names the organization, `sub` the caller \
                         (a member's id, or an integration's name), `role` what it may do.",
                        ))
                        .build(),
                ),
            );
    }
}

/// The complete document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    limits::write(&mut api, &bounds());
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.extend(webhooks::schemas());
    api.webhooks = Some(webhooks::section());
    api
}
