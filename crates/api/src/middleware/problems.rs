//! Makes every error response problem+json with the request id, whatever produced it: our
//! handlers, actix's own extractors and routing, or a middleware, and gives every 503 a
//! `Retry-After`. Only error responses pass through the rewrite, so successful requests pay
//! nothing.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use crate::http::problem::{PROBLEM_JSON, Problem};
use crate::http::request_id::request_id_of;

/// The middleware function (`middleware::from_fn(problem_bodies)`).
pub async fn problem_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Handlers' and extractors' errors arrive as responses; an `Err` here can only come from a
    // middleware further in, and actix renders it with its own `error_response` (ours is problem+json).
    let response = next.call(req).await?.map_into_boxed_body();
    if response.status().as_u16() < 400 {
        return Ok(response);
    }
    let ids = request_id_of(response.request());
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let (request, response) = response.into_parts();
    let status = response.status();
    if status.is_server_error() {
        log::error!(
            "request_id={} {} {} failed with {status}: {:?}",
            ids.as_ref().map_or("-", |i| i.server.as_str()),
            request.method(),
            request.path(),
            response.error()
        );
    }
    let error_text = response.error().map(ToString::to_string);
    let (mut head, body) = response.into_parts();
    let existing = if is_problem {
        to_bytes(body)
            .await
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Problem>(&bytes).ok())
    } else {
        None
    };
    let mut problem = existing.unwrap_or_else(|| Problem::new(status, detail(status, error_text)));
    problem.request_id = ids.map(|i| i.shown().to_owned());
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let headers = head.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.remove(header::CONTENT_LENGTH);
    if status == StatusCode::SERVICE_UNAVAILABLE && !headers.contains_key(header::RETRY_AFTER) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(body)),
    ))
}

fn detail(status: StatusCode, error_text: Option<String>) -> Option<String> {
    if status.is_server_error() {
        return Some(
            "an internal error occurred; quote the request id when reporting it".to_owned(),
        );
    }
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Some("the request body is too large".to_owned()),
        _ => error_text.filter(|t| !t.is_empty()),
    }
}
