//! The JSON body extractor every endpoint uses. Unlike `web::Json` it names the offending field
//! (`errors[].field`) when a value has the wrong type or a field is unknown or missing, and it
//! tells a malformed document (400) from a well-formed one with bad values (422).

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use circulo_domain::DomainError;

use crate::error::ApiError;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON request body deserialized into `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The deserialized value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json_content_type(req);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::Status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "the request body must be JSON, sent with Content-Type: application/json"
                        .to_owned(),
                ));
            }
            let bytes = body.await.map_err(|e| body_error(&e))?;
            parse(&bytes).map(Json)
        })
    }
}

fn is_json_content_type(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn body_error(e: &actix_web::Error) -> ApiError {
    let status = e.as_response_error().status_code();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::Status(
            status,
            format!("the request body is larger than the {MAX_BODY_BYTES} bytes accepted"),
        )
    } else {
        ApiError::bad_request(format!("the request body could not be read: {e}"))
    }
}

/// Deserializes a JSON document, naming the field at fault. The syntax is checked over the whole
/// document first, so a truncated body is reported as malformed (400) even when a value before
/// the cut is also wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty; send a JSON object",
        ));
    }
    let Unambiguous(document) = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    if !document.is_object() {
        // serde would otherwise bind an array to a struct's fields by position.
        return Err(ApiError::Domain(DomainError::invalid(
            "",
            "the body must be a JSON object",
        )));
    }
    serde_path_to_error::deserialize(document).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ApiError::Domain(DomainError::invalid(field_name(&path, &message), message))
    })
}

/// Deserializes one value of a document already read (an item of a batch), naming the field at
/// fault within it.
pub fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, DomainError> {
    if !value.is_object() {
        return Err(DomainError::invalid("", "each item must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        DomainError::invalid(field_name(&path, &message), message)
    })
}

/// A JSON document in which no object names a key twice: serde_json would keep the last value
/// silently, and two readers of one body must not disagree on what it says.
struct Unambiguous(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Unambiguous {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UnambiguousVisitor)
            .map(Unambiguous)
    }
}

struct UnambiguousVisitor;

impl<'de> serde::de::Visitor<'de> for UnambiguousVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unambiguous(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items.into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unambiguous(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "the key {key:?} appears more than once in one object"
                )));
            }
            object.insert(key, value);
        }
        Ok(object.into())
    }
}

/// The dotted name of the field at fault, from serde_path_to_error's path and serde's message.
/// serde reports a missing field at its parent's path, so its name is taken from the message.
/// A JSON body's unknown field is reported at its own path; a query's unknown or repeated
/// parameter (serde_urlencoded) at no path at all, so there too the message names it.
pub(super) fn field_name(path: &str, message: &str) -> String {
    let parent = if path == "." { "" } else { path };
    let named = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
    };
    if let Some(missing) = named("missing field `") {
        return if parent.is_empty() {
            missing.to_owned()
        } else {
            format!("{parent}.{missing}")
        };
    }
    if !parent.is_empty() {
        return parent.to_owned();
    }
    named("unknown field `")
        .or_else(|| named("duplicate field `"))
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialized")]
    struct Outer {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialized")]
    struct Inner {
        count: u32,
    }

    fn field_of(e: ApiError) -> (StatusCode, String) {
        use actix_web::ResponseError;
        let status = e.status_code();
        let field = match e {
            ApiError::Domain(d) => d.field_errors()[0].field.clone(),
            _ => String::new(),
        };
        (status, field)
    }

    #[test]
    fn wrong_types_name_the_nested_field() {
        let e = parse::<Outer>(br#"{"name":"a","inner":{"count":"x"}}"#).unwrap_err();
        assert_eq!(
            field_of(e),
            (StatusCode::UNPROCESSABLE_ENTITY, "inner.count".to_owned())
        );
    }

    #[test]
    fn unknown_fields_name_themselves() {
        let e = parse::<Outer>(br#"{"name":"a","extra":1}"#).unwrap_err();
        assert_eq!(
            field_of(e),
            (StatusCode::UNPROCESSABLE_ENTITY, "extra".to_owned())
        );
        let e = parse::<Outer>(br#"{"name":"a","inner":{"count":1,"x":2}}"#).unwrap_err();
        assert_eq!(field_of(e).1, "inner.x");
    }

    #[test]
    fn malformed_documents_are_bad_requests() {
        for body in [&br#"{"name":"#[..], b"[1,", b"{} trailing", b"   "] {
            let e = parse::<Outer>(body).unwrap_err();
            assert_eq!(field_of(e).0, StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn missing_fields_name_themselves() {
        let e = parse::<Outer>(br"{}").unwrap_err();
        assert_eq!(
            field_of(e),
            (StatusCode::UNPROCESSABLE_ENTITY, "name".to_owned())
        );
        let e = parse::<Outer>(br#"{"name":"a","inner":{}}"#).unwrap_err();
        assert_eq!(field_of(e).1, "inner.count");
    }

    #[test]
    fn a_key_given_twice_is_malformed_and_an_array_is_no_object() {
        let e = parse::<Outer>(br#"{"name":"first","name":"second"}"#).unwrap_err();
        assert_eq!(field_of(e).0, StatusCode::BAD_REQUEST);
        let e = parse::<Outer>(br#"{"name":"a","inner":{"count":1,"count":2}}"#).unwrap_err();
        assert_eq!(field_of(e).0, StatusCode::BAD_REQUEST);
        let e = parse::<Outer>(br#"["a", null]"#).unwrap_err();
        assert_eq!(
            field_of(e),
            (StatusCode::UNPROCESSABLE_ENTITY, String::new())
        );
        assert!(parse::<Outer>(br#"{"name":"a","inner":{"count":1}}"#).is_ok());
    }

    #[test]
    fn a_truncated_body_is_malformed_even_after_a_bad_value() {
        let e = parse::<Outer>(br#"{"name": 42"#).unwrap_err();
        assert_eq!(field_of(e).0, StatusCode::BAD_REQUEST);
    }
}
