//! HTTP handlers, one file per resource, and the route table that serves them.

pub mod audit;
pub mod decisions;
pub mod delegations;
pub mod feedback;
pub mod goals;
pub mod health;
pub mod members;
pub mod organizations;
pub mod reports;
pub mod scores;
pub mod teams;
pub mod webhooks;

mod fallback;
mod reach;
mod respond;
mod window;

pub use fallback::{RouteTable, not_found_or_method_not_allowed};

use utoipa_actix_web::service_config::ServiceConfig;

use crate::openapi::limits::Bound;

/// Every API route. The server and the OpenAPI document are built from this one table.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/v1")
            .configure(organizations::routes)
            .configure(teams::routes)
            .configure(members::routes)
            .configure(goals::routes)
            .configure(feedback::routes)
            .configure(delegations::routes)
            .configure(decisions::routes)
            .configure(scores::routes)
            .configure(reports::routes)
            .configure(webhooks::routes)
            .configure(audit::routes),
    )
    .configure(health::routes);
}

/// The limits of every request body, for the document.
pub fn bounds() -> Vec<Bound> {
    [
        organizations::limits(),
        teams::limits(),
        members::limits(),
        goals::limits(),
        feedback::limits(),
        delegations::limits(),
        decisions::limits(),
        scores::limits(),
        webhooks::limits(),
    ]
    .concat()
}
