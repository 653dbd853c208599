//! Versions as ETags, and `If-Match` as the version a change expects.

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Ready, ready};

use crate::error::ApiError;

/// The ETag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `If-Match` precondition of a request: `None` when absent or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req
            .headers()
            .get(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or_default());
        ready(parse(value).map(IfMatch))
    }
}

fn parse(value: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(value) = value.map(str::trim) else {
        return Ok(None);
    };
    if value == "*" {
        return Ok(None);
    }
    // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::Status(
                StatusCode::PRECONDITION_FAILED,
                "If-Match must be one ETag from a previous response of this resource, or *"
                    .to_owned(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_etags_and_star_parse() {
        assert_eq!(parse(Some("\"3\"")).unwrap(), Some(3));
        assert_eq!(parse(Some("*")).unwrap(), None);
        assert_eq!(parse(None).unwrap(), None);
        assert_eq!(etag(7), "\"7\"");
    }

    #[test]
    fn weak_or_foreign_etags_fail_the_precondition() {
        for bad in ["W/\"3\"", "3", "\"abc\"", "\"1\", \"2\""] {
            assert!(parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
