//! Requests that must leave no trace of their caller (anonymous feedback, employee scores): a
//! handler marks its request once it knows, and every place that would record the caller asks
//! here first: the access log keeps no client address, user agent or client request id, and the
//! change is written with an untraced context (no subject, no request id, dated to the day).

use actix_web::{HttpMessage, HttpRequest};

/// The mark, kept in the request's extensions.
#[derive(Debug, Clone, Copy)]
struct NoTrace;

/// Marks `req` as leaving no trace of its caller.
pub fn leave_no_trace(req: &HttpRequest) {
    req.extensions_mut().insert(NoTrace);
}

/// Whether `req` was marked as leaving no trace.
pub fn leaves_no_trace(req: &impl HttpMessage) -> bool {
    req.extensions().get::<NoTrace>().is_some()
}
