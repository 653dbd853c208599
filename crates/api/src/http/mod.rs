//! HTTP conventions every endpoint shares: problems, JSON input and query parameters, ETags,
//! pagination, request ids.

pub mod etag;
pub mod idempotency;
pub mod json;
pub mod pagination;
pub mod problem;
pub mod query;
pub mod request_id;
pub mod trace;
