//! Reads `Idempotency-Key` on POST before the handler runs: a malformed key is refused (400), a
//! good one is kept with the fingerprint of its request for the handler's
//! [`IdempotencyKey`](crate::http::idempotency::IdempotencyKey) extractor. Nothing is stored
//! here: the key is claimed by the change's own write transaction, after the handler has
//! authorized the caller, so no caller can replay, probe or block another's keys.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::HeaderName;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};

use crate::error::ApiError;
use crate::http::idempotency::{IdempotencyRequest, acceptable, fingerprint};

/// The request header naming the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header marking a replay.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The middleware function (`middleware::from_fn(idempotency)`).
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match (
        req.method() == Method::POST,
        req.headers().get(IDEMPOTENCY_KEY),
    ) {
        (true, Some(value)) => value.to_str().unwrap_or_default().to_owned(),
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    if !acceptable(&key) {
        let e =
            ApiError::bad_request("Idempotency-Key must be 1 to 255 printable ASCII characters");
        return Ok(req.into_response(e.error_response()));
    }
    let body = match req.extract::<web::Bytes>().await {
        Ok(body) => body,
        Err(e) => return Ok(req.into_response(e.error_response())),
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("", |p| p.as_str())
        .to_owned();
    let fingerprint = fingerprint(req.method().as_str(), &path, &body);
    req.set_payload(payload_of(body));
    req.extensions_mut()
        .insert(IdempotencyRequest { key, fingerprint });
    let response = next.call(req).await?;
    if response.status().is_success()
        && response
            .request()
            .extensions()
            .get::<IdempotencyRequest>()
            .is_some()
    {
        log::error!(
            "POST {} answered {} without taking its Idempotency-Key: retries are not protected",
            path,
            response.status()
        );
    }
    Ok(response.map_into_boxed_body())
}

/// Puts an already read body back so the handler can read it again.
fn payload_of(body: web::Bytes) -> Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    Payload::from(payload)
}
