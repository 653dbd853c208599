//! Versions as ETags, and `If-Match` as the versions a change applies to (RFC 9110 §13.1.1).
//!
//! `If-Match` is `*` or a list of entity tags. A well-formed tag that is not one of ours, or a
//! weak one (`If-Match` compares strongly), simply never matches: the change is refused with 412,
//! but only once the rest of the request is known to be valid, by the store that compares
//! versions. A value that is not an entity-tag list at all is a malformed header: 400.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Ready, ready};

use circulo_domain::version::Precondition;

use crate::error::ApiError;

/// The grammar [`IfMatch`] accepts, as the OpenAPI document states it: `*`, or entity tags
/// separated by commas, empty list elements allowed (RFC 9110 §5.6.1).
pub const IF_MATCH_PATTERN: &str = r#"^(\*|[ \t,]*(W/)?"[!#-~\u0080-\u00ff]*"([ \t]*,[ \t,]*(W/)?"[!#-~\u0080-\u00ff]*")*[ \t,]*)$"#;

/// The ETag of a resource at `version`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `If-Match` precondition of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IfMatch(pub Precondition);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Ok(Precondition::None),
            Some(value) => parse(value.as_bytes()).ok_or_else(|| {
                ApiError::bad_request(
                    "If-Match must be * or a list of entity tags, such as \"3\" from a previous \
                     response's ETag",
                )
            }),
        };
        ready(parsed.map(IfMatch))
    }
}

/// Reads `*` or an entity-tag list; `None` when `value` is neither.
fn parse(value: &[u8]) -> Option<Precondition> {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t');
    let trimmed = value.trim_ascii();
    if trimmed == b"*" {
        return Some(Precondition::Exists);
    }
    let mut versions = Vec::new();
    let mut tags = 0;
    let mut rest = trimmed;
    loop {
        // Empty list elements are allowed and ignored.
        let skip = rest
            .iter()
            .take_while(|b| is_space(b) || **b == b',')
            .count();
        let separated = rest[..skip].contains(&b',');
        rest = &rest[skip..];
        if rest.is_empty() {
            return (tags > 0).then_some(Precondition::OneOf(versions));
        }
        if tags > 0 && !separated {
            return None;
        }
        let (weak, after_weak) = match rest.strip_prefix(b"W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let opaque = after_weak.strip_prefix(b"\"")?;
        let end = opaque.iter().position(|&b| b == b'"')?;
        let tag = &opaque[..end];
        // etagc: %x21 / %x23-7E / obs-text
        if !tag
            .iter()
            .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        let ours = std::str::from_utf8(tag)
            .ok()
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<i64>().ok());
        if let (false, Some(version)) = (weak, ours) {
            versions.push(version);
        }
        tags += 1;
        rest = &opaque[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_etags_lists_and_star_parse() {
        assert_eq!(parse(b"\"3\""), Some(Precondition::OneOf(vec![3])));
        assert_eq!(
            parse(b"\"3\" , \"5\",\"8\""),
            Some(Precondition::OneOf(vec![3, 5, 8]))
        );
        assert_eq!(
            parse(b", \"3\",, \"5\","),
            Some(Precondition::OneOf(vec![3, 5])),
            "empty list elements are ignored"
        );
        assert_eq!(parse(b"*"), Some(Precondition::Exists));
        assert_eq!(etag(7), "\"7\"");
    }

    #[test]
    fn weak_and_foreign_tags_are_well_formed_but_never_match() {
        for never in ["W/\"3\"", "\"abc\"", "\"\"", "\"+3\"", "\"a,b\"", "\"é\""] {
            assert_eq!(
                parse(never.as_bytes()),
                Some(Precondition::OneOf(vec![])),
                "{never}"
            );
        }
        assert_eq!(parse(b"W/\"3\", \"4\""), Some(Precondition::OneOf(vec![4])));
    }

    #[test]
    fn values_that_are_not_entity_tag_lists_are_malformed() {
        for bad in [
            "3",
            "\"3",
            "\"3\" \"4\"",
            "\"a b\"",
            "w/\"3\"",
            "**",
            ",",
            "",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad}");
        }
    }
}
