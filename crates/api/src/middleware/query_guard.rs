//! Refuses query strings whose parameters hold control characters, for every route at once:
//! PostgreSQL cannot store or even compare a NUL, and the rest break log lines and exports. A
//! parameter is checked as the handler would read it, after percent-decoding.

use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use circulo_domain::DomainError;

use crate::error::ApiError;

/// The middleware function (`middleware::from_fn(refuse_control_characters)`).
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(name) = first_controlled_parameter(req.query_string()) {
        let e = ApiError::Unreadable(DomainError::invalid(
            name,
            "holds a control character (after percent-decoding)",
        ));
        return Ok(req.into_response(e.error_response()));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The name of the first parameter whose name or value holds a control character.
fn first_controlled_parameter(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| name.chars().chain(value.chars()).any(char::is_control))
        .map(|(name, _)| name.chars().filter(|c| !c.is_control()).collect())
}

#[cfg(test)]
mod tests {
    use super::first_controlled_parameter;

    #[test]
    fn decoded_control_characters_are_found_in_names_and_values() {
        assert_eq!(
            first_controlled_parameter("action=%00"),
            Some("action".into())
        );
        assert_eq!(first_controlled_parameter("a=1&b=x%0Ay"), Some("b".into()));
        assert_eq!(first_controlled_parameter("a%7F=1"), Some("a".into()));
        assert_eq!(first_controlled_parameter("x=%C2%85"), Some("x".into()));
        assert_eq!(
            first_controlled_parameter("team_id=1&limit=5&q=caf%C3%A9+au+lait"),
            None
        );
        assert_eq!(first_controlled_parameter(""), None);
    }
}
