//! Request ids: taken from the client's `X-Request-Id` when it is sensible, else generated, kept
//! in the request's extensions for logs, audit entries and problem bodies, and echoed back.

use actix_web::HttpMessage;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use futures_util::future::{LocalBoxFuture, Ready, ready};

/// The header carrying the id.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The current request's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Accepts ids a client might use for correlation (printable ASCII, at most 200 characters) and
/// refuses anything that could forge log lines.
fn acceptable(value: &str) -> bool {
    !value.is_empty() && value.len() <= 200 && value.bytes().all(|b| b.is_ascii_graphic())
}

/// Reads the request id of `req`, when the middleware ran.
pub fn request_id_of(req: &impl HttpMessage) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.0.clone())
}

/// The middleware factory.
pub struct RequestIds;

impl<S, B> Transform<S, ServiceRequest> for RequestIds
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestIdMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestIdMiddleware { service }))
    }
}

/// Assigns and echoes request ids.
pub struct RequestIdMiddleware<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for RequestIdMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let id = req
            .headers()
            .get(X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| acceptable(v))
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
        req.extensions_mut().insert(RequestId(id.clone()));
        let response = self.service.call(req);
        Box::pin(async move {
            let mut response = response.await?;
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(X_REQUEST_ID, value);
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn printable_ids_are_kept_and_odd_ones_refused() {
        assert!(acceptable("req-123_abc"));
        assert!(!acceptable(""));
        assert!(!acceptable("with space"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"x".repeat(201)));
    }
}
