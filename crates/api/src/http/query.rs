//! Query parameters read the way bodies are (`json::parse`), naming the parameter at fault: a
//! value that does not parse as its parameter (`limit=abc`, `instrument=stars`) or a parameter
//! the operation does not take is a 400 problem whose `errors` name it. actix's own `web::Query`
//! reported only serde's message, without the parameter. A value that parses but is out of
//! range (`limit=0`) is the handler's 422, as before.

use std::future::{Ready, ready};
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use circulo_domain::DomainError;

use super::json::field_name;
use crate::error::ApiError;

/// The request's query parameters as `T`.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

/// Reads `query` (already checked for control characters by `middleware::query_guard`).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(pairs).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        ApiError::Unreadable(DomainError::invalid(field_name(&path, &message), message))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct List {
        limit: Option<u32>,
        instrument: Option<Kind>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Csat,
    }

    fn refused(query: &str) -> Vec<String> {
        match parse::<List>(query) {
            Ok(list) => panic!("{query} read as {list:?}"),
            Err(ApiError::Unreadable(e)) => {
                e.field_errors().iter().map(|f| f.field.clone()).collect()
            }
            Err(other) => panic!("{query}: {other:?}"),
        }
    }

    #[test]
    fn each_bad_parameter_is_named() {
        assert_eq!(refused("limit=abc"), ["limit"]);
        assert_eq!(refused("limit=-1"), ["limit"]);
        assert_eq!(refused("limit=99999999999999999999"), ["limit"]);
        assert_eq!(refused("instrument=stars"), ["instrument"]);
        assert_eq!(refused("colour=red"), ["colour"]);
        assert_eq!(refused("limit=1&limit=2"), ["limit"]);
        assert_eq!(refused("instrument=csat&instrument=csat"), ["instrument"]);
    }

    #[test]
    fn good_parameters_are_read_decoded() {
        assert_eq!(
            parse::<List>("limit=5&instrument=%63sat").ok(),
            Some(List {
                limit: Some(5),
                instrument: Some(Kind::Csat)
            })
        );
        assert_eq!(
            parse::<List>("").ok(),
            Some(List {
                limit: None,
                instrument: None
            })
        );
    }
}
