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

/// The grammar [`IfMatch`] accepts, as the OpenAPI document states it.
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)$"#;

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
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|v| parse(v.trim_matches([' ', '\t'])))
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "If-Match must be * or a list of entity tags, such as \"3\" from a \
                         previous response's ETag",
                    )
                }),
        };
        ready(parsed.map(IfMatch))
    }
}

/// Reads `*` or an entity-tag list; `None` when `value` is neither.
fn parse(value: &str) -> Option<Precondition> {
    if value == "*" {
        return Some(Precondition::Exists);
    }
    let mut versions = Vec::new();
    let mut rest = value;
    loop {
        let (weak, after_weak) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let opaque = after_weak.strip_prefix('"')?;
        let end = opaque.find('"')?;
        let tag = &opaque[..end];
        if !tag.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)) {
            return None;
        }
        let is_ours = !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_digit());
        if let (false, true, Ok(version)) = (weak, is_ours, tag.parse::<i64>()) {
            versions.push(version);
        }
        rest = opaque[end + 1..].trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Some(Precondition::OneOf(versions));
        }
        rest = rest.strip_prefix(',')?.trim_start_matches([' ', '\t']);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_etags_lists_and_star_parse() {
        assert_eq!(parse("\"3\""), Some(Precondition::OneOf(vec![3])));
        assert_eq!(
            parse("\"3\" , \"5\",\"8\""),
            Some(Precondition::OneOf(vec![3, 5, 8]))
        );
        assert_eq!(parse("*"), Some(Precondition::Exists));
        assert_eq!(etag(7), "\"7\"");
    }

    #[test]
    fn weak_and_foreign_tags_are_well_formed_but_never_match() {
        for never in ["W/\"3\"", "\"abc\"", "\"\"", "\"+3\"", "\"a,b\""] {
            assert_eq!(parse(never), Some(Precondition::OneOf(vec![])), "{never}");
        }
        assert_eq!(parse("W/\"3\", \"4\""), Some(Precondition::OneOf(vec![4])));
    }

    #[test]
    fn values_that_are_not_entity_tag_lists_are_malformed() {
        for bad in [
            "3",
            "\"3",
            "\"3\" \"4\"",
            "\"3\",",
            ",\"3\"",
            "\"a b\"",
            "w/\"3\"",
            "**",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
