//! `Idempotency-Key` on POST: the first request with a key runs and its successful response is
//! kept for 24 hours; a retry with the same key and body gets it again (`Idempotent-Replayed:
//! true`), another body with the same key is 422, and a retry while the first still runs is 409.
//! A request that fails changes nothing (a rule of this API), so its key is released and the
//! client may fix the request and retry under the same key.

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use sha2::{Digest, Sha256};

use circulo_persistence::{Reservation, StoredResponse};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, blocking};

/// The request header naming the key.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The response header marking a replay.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const REPLAYED_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

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
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        let e =
            ApiError::bad_request("Idempotency-Key must be 1 to 255 printable ASCII characters");
        return Ok(req.into_response(e.error_response()));
    }
    // Unauthenticated requests go on to be refused by the handler; there is no scope to key them in.
    let (Ok(caller), Some(state)) = (
        req.extract::<Caller>().await,
        req.app_data::<web::Data<AppState>>().cloned(),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // The handler's `Caller` extractor finds it here instead of verifying the token again.
    req.extensions_mut().insert(caller.clone());
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

    let scope = match caller.principal.org {
        Some(org) => org.to_string(),
        None => format!("platform:{}", caller.principal.subject),
    };
    let reservation = {
        let (scope, key) = (scope.clone(), key.clone());
        blocking(&state, move |db| {
            db.idempotency_keys().reserve(&scope, &key, &fingerprint)
        })
        .await
    };
    match reservation {
        Ok(Reservation::Acquired) => run_and_keep(req, next, &state, scope, key).await,
        Ok(Reservation::Replay(stored)) => Ok(req.into_response(replay(&stored))),
        Ok(Reservation::InFlight) => Ok(req.into_response(
            ApiError::Status(
                StatusCode::CONFLICT,
                "a request with this Idempotency-Key is still being processed; retry shortly"
                    .into(),
            )
            .error_response(),
        )),
        Ok(Reservation::Mismatch) => Ok(req.into_response(
            ApiError::Status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this Idempotency-Key was already used with a different request; use a new key"
                    .into(),
            )
            .error_response(),
        )),
        Err(e) => Ok(req.into_response(e.error_response())),
    }
}

async fn run_and_keep(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    state: &AppState,
    scope: String,
    key: String,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?;
    if !response.status().is_success() {
        let released = blocking(state, move |db| db.idempotency_keys().release(&scope, &key)).await;
        if let Err(e) = released {
            log::error!("cannot release idempotency key: {e}");
        }
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = to_bytes(body).await.map_err(|e| {
        actix_web::error::ErrorInternalServerError(format!(
            "cannot read response body: {}",
            e.into()
        ))
    })?;
    let stored = StoredResponse {
        status: head.status().as_u16(),
        headers: REPLAYED_HEADERS
            .iter()
            .filter_map(|name| {
                let value = head.headers().get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let kept = blocking(state, move |db| {
        db.idempotency_keys().complete(&scope, &key, &stored)
    })
    .await;
    if let Err(e) = kept {
        // The change is committed; the client gets its answer, only a replay is lost.
        log::error!("cannot keep the response for an idempotency key: {e}");
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(BoxBody::new(bytes)),
    ))
}

fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    response
        .insert_header((IDEMPOTENT_REPLAYED, HeaderValue::from_static("true")))
        .body(stored.body.clone())
}

/// Identifies the request a key was first used for: method, path and query, and body bytes.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(method);
    hash.update(b" ");
    hash.update(path_and_query);
    hash.update(b"\n");
    hash.update(body);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Puts an already read body back so the handler can read it again.
fn payload_of(body: web::Bytes) -> Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    Payload::from(payload)
}
